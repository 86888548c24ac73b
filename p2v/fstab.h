/* /etc/fstab entries: parsing and which of them p2v mounts. */
#ifndef P2V_FSTAB_H
#define P2V_FSTAB_H

#include <stdbool.h>
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

/* Why p2v does not mount this entry ("swap", "a network filesystem" …), or
 * NULL when it does. */
const char *fstab_skip_reason(const struct fstab_entry *e);
/* Whether the comma-separated options contain opt as a whole word. */
bool fstab_has_option(const char *options, const char *opt);

#endif
