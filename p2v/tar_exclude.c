/* What p2v/tarball.c leaves out: --exclude patterns, swap files (named in
 * etc/fstab or carrying a swap signature), sockets, lost+found at a mount's
 * root, the contents of volatile directories and of pseudo filesystems. */
#include "tar_exclude.h"

#include <errno.h>
#include <fnmatch.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define SWAP_CHECK_MIN (1024 * 1024)  /* smaller files are never swap */
#define SWAP_PROBE 65536  /* covers 4/16/64 KiB pages */

/* Directories whose contents a container must not inherit. */
static const char *const volatile_dirs[] = { "proc", "sys", "dev", "run", "tmp" };

static const char *strip_leading(const char *p)
{
	for (;;) {
		if (p[0] == '/')
			p++;
		else if (p[0] == '.' && p[1] == '/')
			p += 2;
		else
			return p;
	}
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int tar_load_patterns(struct tar_exclude *x, const char *const *excludes, size_t n)
{
	if (!n)
		return 0;
	x->pats = calloc(n, sizeof(*x->pats));
	if (!x->pats)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char *p = strdup(strip_leading(excludes[i]));
		if (!p)
			return -ENOMEM;
		size_t l = strlen(p);
		while (l > 1 && p[l - 1] == '/')
			p[--l] = '\0';
		x->pats[x->n_pats++] = p;
	}
	return 0;
}

/* Swap files the server's fstab names (devices are not in the tree anyway). */
void tar_load_fstab_swaps(struct tar_exclude *x, const char *root)
{
	_cleanup_free_ char *path = NULL, *buf = NULL;
	size_t len, cap = 0;
	if (asprintf(&path, "%s/etc/fstab", root) < 0)
		return;
	struct stat sb;
	if (lstat(path, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    read_file(path, 1 << 20, &buf, &len) < 0)
		return;
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char spec[4096], mnt[4096], type[64];
		if (line[strspn(line, " \t")] == '#' ||
		    sscanf(line, "%4095s %4095s %63s", spec, mnt, type) != 3)
			continue;
		if (strcmp(type, "swap") || spec[0] != '/' || !strncmp(spec, "/dev/", 5))
			continue;
		if (x->n_swaps == cap) {
			cap = cap ? cap * 2 : 4;
			char **v = realloc(x->swaps, cap * sizeof(*v));
			if (!v)
				return;
			x->swaps = v;
		}
		char *rel = strdup(strip_leading(spec));
		if (!rel)
			return;
		x->swaps[x->n_swaps++] = rel;
	}
}

/* Linux swap areas carry "SWAPSPACE2" (or the old "SWAP-SPACE") in the last
 * 10 bytes of their first page, whatever the page size was. */
static bool has_swap_signature(int fd)
{
	static const size_t pages[] = { 4096, 8192, 16384, 65536 };
	char buf[SWAP_PROBE];
	ssize_t n = pread(fd, buf, sizeof(buf), 0);
	for (size_t i = 0; i < ARRAY_SIZE(pages); i++) {
		size_t off = pages[i] - 10;
		if (n >= (ssize_t)pages[i] &&
		    (!memcmp(buf + off, "SWAPSPACE2", 10) || !memcmp(buf + off, "SWAP-SPACE", 10)))
			return true;
	}
	return false;
}

bool tar_is_swap_file(int fd, const struct stat *sb)
{
	return S_ISREG(sb->st_mode) && (sb->st_mode & 07777) == 0600 &&
	       sb->st_size >= SWAP_CHECK_MIN && has_swap_signature(fd);
}

/* Left out before anything but lstat is spent on it. */
bool tar_excluded(const struct tar_exclude *x, const char *rel, const char *base,
		  const struct stat *sb, bool parent_is_mount_root)
{
	if (S_ISSOCK(sb->st_mode))
		return true;  /* tar cannot hold sockets; they are recreated at run time */
	if (S_ISDIR(sb->st_mode) && !strcmp(base, "lost+found") && parent_is_mount_root) {
		log_debug("leaving out %s", rel);
		return true;
	}
	for (size_t i = 0; i < x->n_pats; i++)
		if (fnmatch(x->pats[i], rel, 0) == 0) {
			log_debug("excluded by '%s': %s", x->pats[i], rel);
			return true;
		}
	if (S_ISREG(sb->st_mode))
		for (size_t i = 0; i < x->n_swaps; i++)
			if (!strcmp(x->swaps[i], rel)) {
				log_info("leaving out swap file %s (in etc/fstab)", rel);
				return true;
			}
	return false;
}

bool tar_fs_is_pseudo(struct tar_exclude *x, dev_t dev, int fd)
{
	for (size_t i = 0; i < x->n_fs; i++)
		if (x->fs[i].dev == dev)
			return x->fs[i].pseudo;
	struct statfs sf;
	bool pseudo = false;
	if (fstatfs(fd, &sf) == 0) {
		switch ((unsigned long)sf.f_type) {
		case PROC_SUPER_MAGIC: case SYSFS_MAGIC: case TMPFS_MAGIC: case RAMFS_MAGIC:
		case DEVPTS_SUPER_MAGIC: case CGROUP_SUPER_MAGIC: case CGROUP2_SUPER_MAGIC:
		case SECURITYFS_MAGIC: case DEBUGFS_MAGIC: case TRACEFS_MAGIC:
		case PSTOREFS_MAGIC: case BPF_FS_MAGIC: case 0x19800202 /* mqueue */:
		case HUGETLBFS_MAGIC: case 0x62656570 /* configfs */: case 0x65735543 /* fusectl */:
		case BINFMTFS_MAGIC: case EFIVARFS_MAGIC: case AUTOFS_SUPER_MAGIC:
		case SELINUX_MAGIC: case NSFS_MAGIC:
			pseudo = true;
		}
	}
	if (x->n_fs < ARRAY_SIZE(x->fs))
		x->fs[x->n_fs++] = (struct fsinfo){ dev, pseudo };
	return pseudo;
}

bool tar_is_volatile_dir(const char *rel)
{
	for (size_t i = 0; i < ARRAY_SIZE(volatile_dirs); i++)
		if (!strcmp(rel, volatile_dirs[i]))
			return true;
	return false;
}

void tar_exclude_free(struct tar_exclude *x)
{
	strv_free(x->pats, x->n_pats);
	strv_free(x->swaps, x->n_swaps);
}
