/* Files that appear under their final name only when complete: written as
 * an unnamed O_TMPFILE (or a hidden temporary where the filesystem lacks
 * it), synced, then linked into place. A crash or kill leaves nothing under
 * the final name. */
#ifndef ATOMIC_FILE_H
#define ATOMIC_FILE_H

#include <stdbool.h>

struct atomic_file {
	int fd;
	int dirfd;
	char *name;       /* final name, relative to dirfd */
	char *tmpname;    /* hidden temporary's name, or NULL with O_TMPFILE */
};

/* Create the unnamed file for dir/name. Refuses (-EEXIST, logged) when the
 * final name exists unless overwrite. */
int atomic_file_open(struct atomic_file *f, const char *dir, const char *name, bool overwrite);
/* The same for a path: its directory and last component. */
int atomic_file_open_path(struct atomic_file *f, const char *path, bool overwrite);
/* fsync the data, then publish under the final name (atomically refusing an
 * existing one unless overwrite), then fsync the directory. */
int atomic_file_commit(struct atomic_file *f, bool overwrite);
/* Discard whatever was written; safe after commit or on a zeroed struct
 * with fd = -1. */
void atomic_file_discard(struct atomic_file *f);

#endif
