/* Preparing the source of a ct migration from a block device: mount its root
 * filesystem read-only without journal replay, then the other local
 * filesystems its own /etc/fstab lists, and undo all of it afterwards. */
#ifndef P2V_SOURCE_H
#define P2V_SOURCE_H

#include <stddef.h>

struct fstab_entry {
	char *spec;     /* UUID=…, LABEL=…, PARTUUID=…, /dev/… */
	char *file;     /* mount point */
	char *vfstype;
	char *options;
};

/* Parse fstab text. Returns the number of entries (>= 0) in *out, or -errno.
 * Comments and blank lines are skipped; malformed lines are warned about. */
int fstab_parse(const char *text, struct fstab_entry **out);
void fstab_free(struct fstab_entry *e, size_t n);

/* Whether p2v mounts this entry under the source root: a local, non-swap,
 * non-network, non-pseudo filesystem other than "/". */
int fstab_entry_is_local_fs(const struct fstab_entry *e);

/* Read-only mount options that never replay a journal for this fs type
 * ("ro,noload" for ext3/4, "ro,norecovery" for xfs, "ro" otherwise). */
const char *source_ro_options(const char *fstype);

/* Open path below the directory rootfd as if rootfd were "/": no symlink or
 * ".." leads out of it (openat2 RESOLVE_IN_ROOT, or a walk doing the same).
 * The descriptor, or -errno. */
int source_open_in_root(int rootfd, const char *path, int flags);

struct source_mounts;

/* Mount `device` read-only under a fresh directory and the fstab-listed
 * filesystems below it. *root is the directory to archive. Returns 0 or a
 * negative error; on error nothing stays mounted. */
int source_mount(const char *device, struct source_mounts **out, const char **root);
/* Unmount everything source_mount mounted, innermost first, and remove the
 * directory. */
void source_unmount(struct source_mounts *m);

#endif
