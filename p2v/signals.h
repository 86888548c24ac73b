/* SIGINT, SIGTERM and SIGHUP only set a flag, which the long loops check:
 * they stop, undo what they mounted and publish nothing. SIGPIPE is
 * ignored, so a dropped pipe is an error return instead of death. */
#ifndef P2V_SIGNALS_H
#define P2V_SIGNALS_H

#include <signal.h>

/* The signal that asked us to stop, or 0. */
extern volatile sig_atomic_t p2v_interrupted;

void p2v_install_signals(void);

#endif
