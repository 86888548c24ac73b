/* What the root filesystem archive leaves out; internal to p2v/tarball.c. */
#ifndef P2V_TAR_EXCLUDE_H
#define P2V_TAR_EXCLUDE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

struct fsinfo {
	dev_t dev;
	bool pseudo;
};

struct tar_exclude {
	char **pats;            /* exclude patterns without a leading ./ or / */
	size_t n_pats;
	char **swaps;           /* swap files named in etc/fstab, relative */
	size_t n_swaps;
	struct fsinfo fs[64];   /* filesystems seen, pseudo or not */
	size_t n_fs;
};

/* The caller's fnmatch patterns, relative to the root; 0 or -ENOMEM. */
int tar_load_patterns(struct tar_exclude *x, const char *const *excludes, size_t n);
/* The swap files root/etc/fstab names; none if it is missing or odd. */
void tar_load_fstab_swaps(struct tar_exclude *x, const char *root);
void tar_exclude_free(struct tar_exclude *x);

/* Whether the entry rel (base its last component) is left out, judged from
 * its lstat alone. */
bool tar_excluded(const struct tar_exclude *x, const char *rel, const char *base,
		  const struct stat *sb, bool parent_is_mount_root);
/* Whether the open file fd (sb its stat) is a swap area that fstab does not
 * name: mode 0600, 1 MiB or more, with a swap signature. */
bool tar_is_swap_file(int fd, const struct stat *sb);
/* Whether the directory rel (relative to the root) is kept but not its contents. */
bool tar_is_volatile_dir(const char *rel);
/* Whether dev, with the directory fd open on it, is a pseudo filesystem. */
bool tar_fs_is_pseudo(struct tar_exclude *x, dev_t dev, int fd);

#endif
