#ifndef VERSION_H
#define VERSION_H
#define P2V_VERSION "0.1.0"
#endif
