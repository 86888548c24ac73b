/* A directory's names in byte order, read up front; internal to
 * p2v/tarball.c, whose archives must come out the same for the same tree. */
#ifndef P2V_SORTED_DIR_H
#define P2V_SORTED_DIR_H

#include <stddef.h>

struct sorted_dir {
	char **v;       /* names without "." and "..", strcmp order */
	size_t n, cap;
};

/* Read dirfd's names into l (zeroed by the caller); dirfd stays open (it
 * shares the read position with the duplicate read here). 0 or -errno;
 * free l either way. */
int sorted_dir_read(int dirfd, struct sorted_dir *l);
void sorted_dir_free(struct sorted_dir *l);

#endif
