/* Files inside an untrusted root file system (a container's rootfs made from
 * a template): directories resolve as if the rootfs were "/" so no symlink
 * leads out of it, and the files read or rewritten are never symlinks. */
#ifndef CTI_ROOTFS_AT_H
#define CTI_ROOTFS_AT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* Open the directory rel (e.g. "etc/network") below the rootfs opened as
 * rootfd. Returns a directory fd, -ENOENT when it does not exist, or another
 * negative error. Not logged: callers decide whether absence matters. */
int rootfs_open_dir(int rootfd, const char *rel);

/* Read the regular file name in dirfd (at most max bytes) into a malloc'd
 * NUL-terminated *text, with its stat in *st. -ENOENT when absent, -ELOOP
 * for a symlink, -EINVAL for anything but a regular file, -EFBIG when larger
 * than max. Not logged. */
int rootfs_read_file(int dirfd, const char *name, size_t max, char **text, struct stat *st);

/* Replace (or create) name in dirfd atomically: written to a temporary in
 * the same directory, given mode/uid/gid, synced, then renamed over name.
 * 0 or a negative error (logged, with what as the path shown). */
int rootfs_write_file(int dirfd, const char *name, const char *what, const char *text,
		      mode_t mode, uid_t uid, gid_t gid);

/* Whether name exists in dirfd (a symlink counts; it is not followed). */
bool rootfs_exists(int dirfd, const char *name);

#endif
