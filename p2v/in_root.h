/* Opening paths inside an untrusted root as if it were "/". */
#ifndef P2V_IN_ROOT_H
#define P2V_IN_ROOT_H

/* Open path below the directory rootfd as if rootfd were "/": no symlink or
 * ".." leads out of it (openat2 RESOLVE_IN_ROOT, or a walk doing the same).
 * The descriptor, or -errno. */
int source_open_in_root(int rootfd, const char *path, int flags);

#endif
