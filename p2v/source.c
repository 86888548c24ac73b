/* Preparing the source of a ct migration from a block device: the root
 * filesystem and the local filesystems its own /etc/fstab lists, all mounted
 * read-only without journal replay under a fresh directory in /run/p2v.
 *
 * Nothing here writes to the source. We deliberately do NOT set the block
 * device read-only with BLKROSET: that flag is global device state which
 * other users of the disk (an md array, a running system in the initramfs
 * case) would see, and it would stay set if p2v died before restoring it.
 * The guarantees come instead from: probing through an O_RDONLY descriptor
 * (libblkid), MS_RDONLY on every mount, and the per-type options that skip
 * journal/log replay (the one write a plain "ro" mount of ext3/4, xfs or
 * btrfs would still do). */
#include <blkid/blkid.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "source.h"
#include "util.h"

#define P2V_RUN_DIR "/run/p2v"
#define FSTAB_MAX (1024 * 1024)

struct source_mounts {
	char *dir;        /* the mkdtemp directory; the root is mounted on it */
	char **paths;     /* mounted paths in mount order (paths[0] = dir) */
	size_t n;
	char **missing;   /* fstab entries we meant to mount but could not */
	size_t n_missing;
};

/* ---- mounting ----------------------------------------------------------- */

/* The filesystem type on dev, per libblkid; refuses what is not a mountable
 * filesystem. 0 and *type (malloc'd), or -errno after logging why. */
static int probe_fs(const char *dev, char **type)
{
	struct stat st;
	if (stat(dev, &st) < 0) {
		int e = errno;
		log_error("device %s: %s", dev, strerror(e));
		return -e;
	}
	if (!S_ISBLK(st.st_mode)) {
		log_error("%s is not a block device", dev);
		return -ENOTBLK;
	}
	blkid_probe pr = blkid_new_probe_from_filename(dev);  /* opens O_RDONLY */
	if (!pr) {
		int e = errno ? errno : EIO;
		log_error("cannot probe %s: %s", dev, strerror(e));
		return -e;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE);
	blkid_probe_enable_partitions(pr, 1);
	int rc = blkid_do_safeprobe(pr);
	const char *t = NULL, *usage = NULL, *pt = NULL;
	int ret = 0;
	if (rc == -2) {
		log_error("%s carries several conflicting signatures (see 'wipefs %s'); refusing to guess its type",
			  dev, dev);
		ret = -EINVAL;
		goto out;
	}
	if (rc < 0) {
		log_error("probing %s failed (an I/O error?)", dev);
		ret = -EIO;
		goto out;
	}
	if (rc == 0) {
		blkid_probe_lookup_value(pr, "TYPE", &t, NULL);
		blkid_probe_lookup_value(pr, "USAGE", &usage, NULL);
		blkid_probe_lookup_value(pr, "PTTYPE", &pt, NULL);
	}
	if (!t) {
		if (pt)
			log_error("%s holds a partition table (%s), not a filesystem: give the partition instead",
				  dev, pt);
		else
			log_error("no filesystem found on %s", dev);
		ret = -EMEDIUMTYPE;
		goto out;
	}
	if (!strcmp(t, "swap")) {
		log_error("%s is swap space, not a filesystem", dev);
		ret = -EMEDIUMTYPE;
	} else if (usage && !strcmp(usage, "raid")) {
		log_error("%s is a RAID or LVM member (%s), not a filesystem: assemble or activate it "
			  "and give the resulting device", dev, t);
		ret = -EMEDIUMTYPE;
	} else if (usage && !strcmp(usage, "crypto")) {
		log_error("%s is encrypted (%s): open it (cryptsetup open) and give the mapped device",
			  dev, t);
		ret = -EMEDIUMTYPE;
	} else if ((usage && strcmp(usage, "filesystem")) || strstr(t, "_member")) {
		log_error("%s holds %s, not a mountable filesystem", dev, t);
		ret = -EMEDIUMTYPE;
	} else if (!(*type = strdup(t))) {
		log_error("out of memory");
		ret = -ENOMEM;
	}
out:
	blkid_free_probe(pr);
	return ret;
}

/* Warn when the kernel already has dev mounted (other than below `ours`): its
 * content may change while we read it, and our options (noload…) do not
 * apply to a superblock that is already set up. */
static void warn_if_mounted(const char *dev, const char *ours)
{
	size_t ol = ours ? strlen(ours) : 0;
	struct stat st;
	if (stat(dev, &st) < 0)
		return;
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	char line[4096];
	while (fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		char mnt[PATH_MAX];
		if (sscanf(line, "%*d %*d %u:%u %*s %4095s", &maj, &min, mnt) == 3 &&
		    makedev(maj, min) == st.st_rdev &&
		    !(ol && !strncmp(mnt, ours, ol) && (mnt[ol] == '/' || !mnt[ol]))) {
			log_warn("%s is already mounted (at %s): if anything writes to it, the archive may be inconsistent",
				 dev, mnt);
			return;
		}
	}
}

/* mount(2) read-only with the no-replay options; the data string is the
 * options minus "ro", which MS_RDONLY already says. Besides MS_RDONLY:
 * nosuid/nodev/noexec because nothing on an untrusted source should run or
 * open a device through these mounts; reading is unaffected. */
static int mount_ro(const char *dev, const char *target, const char *type, const char *shown,
		    const char *extra)
{
	const char *opts = source_ro_options(type);
	char data_buf[512];
	const char *data = strncmp(opts, "ro,", 3) ? NULL : opts + 3;
	if (extra && *extra) {
		snprintf(data_buf, sizeof(data_buf), "%s%s%s", data ? data : "", data ? "," : "", extra);
		data = data_buf;
	}
	unsigned long flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	int rc = mount(dev, target, type, flags, data);
	/* Kernels built without separate ext2/ext3 drivers mount them as ext4. */
	if (rc < 0 && errno == ENODEV && (!strcmp(type, "ext2") || !strcmp(type, "ext3")))
		rc = mount(dev, target, "ext4", flags, data);
	if (rc < 0 && errno == ENODEV && !strcmp(type, "ntfs"))
		rc = mount(dev, target, "ntfs3", flags, NULL);
	if (rc < 0) {
		int e = errno;
		log_error("mounting %s (%s) read-only with '%s' at %s: %s", dev, type, opts, shown,
			  strerror(e));
		return -e;
	}
	log_info("mounted %s (%s) at %s with '%s%s%s'", dev, type, shown, opts,
		 extra && *extra ? "," : "", extra ? extra : "");
	return 0;
}

static int add_str(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int note_missing(struct source_mounts *m, const struct fstab_entry *e, const char *why)
{
	char *s;
	if (asprintf(&s, "%s (%s: %s)", e->file, e->spec, why) < 0)
		return -ENOMEM;
	int rc = add_str(&m->missing, &m->n_missing, s);
	free(s);
	return rc;
}

static int umount_one(const char *path)
{
	for (int i = 0; i < 10; i++) {
		if (umount2(path, UMOUNT_NOFOLLOW) == 0)
			return 0;
		if (errno == EINVAL || errno == ENOENT)
			return 0;  /* not (or no longer) a mount point */
		if (errno != EBUSY)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 200 * 1000 * 1000 }, NULL);
	}
	int e = errno;
	if (e == EBUSY && umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) == 0) {
		log_warn("unmounting %s: still busy after 2 s; detached it lazily", path);
		return 0;
	}
	log_error("unmounting %s: %s", path, strerror(errno));
	return -e;
}

void source_unmount(struct source_mounts *m)
{
	if (!m)
		return;
	for (size_t i = m->n; i-- > 0;) {
		umount_one(m->paths[i]);
		free(m->paths[i]);
	}
	if (m->dir && rmdir(m->dir) < 0)
		log_warn("removing %s: %s", m->dir, strerror(errno));
	if (m->n_missing) {
		log_warn("the archive does NOT contain these filesystems from the source's fstab:");
		for (size_t i = 0; i < m->n_missing; i++)
			log_warn("  %s", m->missing[i]);
	}
	for (size_t i = 0; i < m->n_missing; i++)
		free(m->missing[i]);
	free(m->missing);
	free(m->paths);
	free(m->dir);
	free(m);
}

/* Read <root>/etc/fstab without following its symlinks out of the root.
 * 0 and *text, -ENOENT if there is none, or -errno after logging. */
static int read_source_fstab(int rootfd, char **text)
{
	_cleanup_close_ int fd = source_open_in_root(rootfd, "etc/fstab",
						 O_RDONLY | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (fd != -ENOENT)
			log_error("opening the source's /etc/fstab: %s", strerror(-fd));
		return fd;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_error("the source's /etc/fstab is not a regular file");
		return -EINVAL;
	}
	char *buf = malloc(FSTAB_MAX + 1);
	if (!buf)
		return -ENOMEM;
	ssize_t n = read_full(fd, buf, FSTAB_MAX + 1);
	if (n < 0 || n > FSTAB_MAX) {
		log_error("reading the source's /etc/fstab: %s",
			  n < 0 ? strerror((int)-n) : "larger than 1 MiB");
		free(buf);
		return n < 0 ? (int)n : -EFBIG;
	}
	buf[n] = '\0';
	*text = buf;
	return 0;
}

static int path_depth(const char *p)
{
	int d = 0;
	for (; *p; p++)
		if (*p == '/' && p[1] && p[1] != '/')
			d++;
	return d;
}

struct ordered { const struct fstab_entry *e; size_t idx; int depth; };

static int by_depth(const void *a, const void *b)
{
	const struct ordered *x = a, *y = b;
	if (x->depth != y->depth)
		return x->depth - y->depth;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Device node for an fstab spec: tags through libblkid, paths as they are.
 * NULL (with *why set) when there is no such device here. */
static char *resolve_spec(const char *spec, const char **why)
{
	if (spec[0] == '/') {
		struct stat st;
		if (stat(spec, &st) < 0) {
			*why = "no such device";
			return NULL;
		}
		if (!strncmp(spec, "/dev/sd", 7) || !strncmp(spec, "/dev/hd", 7) ||
		    !strncmp(spec, "/dev/vd", 7) || !strncmp(spec, "/dev/nvme", 9))
			log_warn("fstab names %s by its kernel name, which may denote another disk in the "
				 "rescue system; check the result", spec);
		return strdup(spec);
	}
	blkid_cache cache = NULL;
	if (blkid_get_cache(&cache, "/dev/null") < 0) {
		*why = "libblkid failed";
		return NULL;
	}
	char *dev = blkid_evaluate_tag(spec, NULL, &cache);
	blkid_put_cache(cache);
	if (!dev)
		*why = "no device with that tag";
	return dev;
}

/* The subvolume options of a btrfs fstab entry ("subvol=@home"): without
 * them we would mount the default subvolume, not what the server mounts. */
static char *btrfs_subvol_options(const char *type, const char *options)
{
	if (strcmp(type, "btrfs"))
		return NULL;
	char *out = calloc(1, strlen(options) + 1);
	for (const char *p = options; out && p && *p;) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);
		if (!strncmp(p, "subvol=", 7) || !strncmp(p, "subvolid=", 9)) {
			if (*out)
				strcat(out, ",");
			strncat(out, p, l);
		}
		p = c ? c + 1 : NULL;
	}
	return out;
}

/* Mount one fstab entry below the root. Problems that only mean "this part
 * is absent here" are noted and return 0; a device that is present but will
 * not mount is an error unless the source itself says nofail. */
static int mount_entry(struct source_mounts *m, int rootfd, const struct fstab_entry *e)
{
	const char *why = NULL;
	_cleanup_free_ char *dev = resolve_spec(e->spec, &why);
	if (!dev) {
		log_warn("fstab: %s for %s: %s; continuing without it", e->spec, e->file, why);
		return note_missing(m, e, why);
	}
	_cleanup_free_ char *type = NULL;
	int rc = probe_fs(dev, &type);
	if (rc < 0) {
		if (fstab_has_option(e->options, "nofail")) {
			log_warn("fstab: skipping %s (nofail)", e->file);
			return note_missing(m, e, "not a mountable filesystem");
		}
		log_error("the source's fstab mounts %s at %s", dev, e->file);
		return rc;
	}
	warn_if_mounted(dev, m->dir);
	if (strcmp(e->vfstype, "auto") && strcmp(e->vfstype, type))
		log_warn("fstab says %s for %s but %s holds %s; mounting it as %s", e->vfstype, e->file,
			 dev, type, type);
	/* The mount point lies inside the untrusted source: resolve it with the
	 * root as "/", so no symlink or ".." can lead out of it. */
	const char *rel = e->file;
	while (*rel == '/')
		rel++;
	_cleanup_close_ int fd = source_open_in_root(rootfd, rel, O_PATH | O_DIRECTORY);
	if (fd < 0) {
		log_warn("fstab: mount point %s: %s on the source; continuing without %s", e->file,
			 strerror(-fd), dev);
		return note_missing(m, e, "no mount point directory on the source");
	}
	char fdpath[64], real[PATH_MAX];
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	ssize_t l = readlink(fdpath, real, sizeof(real) - 1);
	size_t dl = strlen(m->dir);
	if (l < 0 || (real[l] = '\0', strncmp(real, m->dir, dl)) || (real[dl] != '/' && real[dl])) {
		log_error("fstab: mount point %s resolves outside the source root; refusing it", e->file);
		return -EXDEV;
	}
	if (!real[dl]) {  /* e.g. through a symlink to "/": it would hide the root */
		log_warn("fstab: mount point %s is the source root itself; continuing without %s",
			 e->file, dev);
		return note_missing(m, e, "mount point resolves to the root");
	}
	_cleanup_free_ char *extra = btrfs_subvol_options(type, e->options);
	if ((rc = mount_ro(dev, fdpath, type, e->file, extra)) < 0) {
		if (fstab_has_option(e->options, "nofail")) {
			log_warn("fstab: continuing without %s (nofail)", e->file);
			return note_missing(m, e, "mount failed");
		}
		return rc;
	}
	if (add_str(&m->paths, &m->n, real) < 0) {
		umount_one(real);
		return -ENOMEM;
	}
	return 0;
}

static int mount_fstab(struct source_mounts *m)
{
	_cleanup_close_ int rootfd = open(m->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		int e = errno;
		log_error("opening %s: %s", m->dir, strerror(e));
		return -e;
	}
	_cleanup_free_ char *text = NULL;
	int rc = read_source_fstab(rootfd, &text);
	if (rc == -ENOENT) {
		log_warn("the source has no /etc/fstab: archiving its root filesystem only");
		return 0;
	}
	if (rc < 0)
		return rc;
	struct fstab_entry *ents = NULL;
	int n = fstab_parse(text, &ents);
	if (n < 0)
		return n;
	struct ordered *ord = calloc((size_t)n + 1, sizeof(*ord));
	if (!ord) {
		fstab_free(ents, (size_t)n);
		return -ENOMEM;
	}
	size_t k = 0;
	for (int i = 0; i < n; i++) {
		const char *why = fstab_skip_reason(&ents[i]);
		if (why) {
			if (strcmp(why, "the root filesystem"))
				log_info("fstab: not mounting %s (%s): %s", ents[i].file, ents[i].vfstype, why);
			continue;
		}
		ord[k++] = (struct ordered){ &ents[i], (size_t)i, path_depth(ents[i].file) };
	}
	qsort(ord, k, sizeof(*ord), by_depth);  /* parents before children */
	for (size_t i = 0; i < k && rc >= 0; i++)
		rc = mount_entry(m, rootfd, ord[i].e);
	free(ord);
	fstab_free(ents, (size_t)n);
	return rc < 0 ? rc : 0;
}

int source_mount(const char *device, struct source_mounts **out, const char **root)
{
	*out = NULL;
	_cleanup_free_ char *type = NULL;
	int rc = probe_fs(device, &type);
	if (rc < 0)
		return rc;
	warn_if_mounted(device, NULL);
	struct source_mounts *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	/* Our own directory, never inside the source: 0700 so no other user
	 * reads the server's files through it. */
	if (mkdir(P2V_RUN_DIR, 0700) < 0 && errno != EEXIST) {
		rc = -errno;
		log_error("creating %s: %s", P2V_RUN_DIR, strerror(errno));
		goto fail;
	}
	struct stat st;
	if (lstat(P2V_RUN_DIR, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		log_error("%s is not a directory owned by us; refusing to mount below it", P2V_RUN_DIR);
		rc = -EPERM;
		goto fail;
	}
	if (!(m->dir = strdup(P2V_RUN_DIR "/ct-XXXXXX"))) {
		rc = -ENOMEM;
		goto fail;
	}
	if (!mkdtemp(m->dir)) {
		rc = -errno;
		log_error("creating a mount directory in %s: %s", P2V_RUN_DIR, strerror(errno));
		free(m->dir);
		m->dir = NULL;
		goto fail;
	}
	if ((rc = mount_ro(device, m->dir, type, m->dir, NULL)) < 0)
		goto fail;
	if ((rc = add_str(&m->paths, &m->n, m->dir)) < 0) {
		umount_one(m->dir);
		goto fail;
	}
	if ((rc = mount_fstab(m)) < 0)
		goto fail;
	log_info("source %s ready at %s (%zu filesystem%s)", device, m->dir, m->n,
		 m->n == 1 ? "" : "s");
	*out = m;
	*root = m->dir;
	return 0;
fail:
	if (rc == -ENOMEM)
		log_error("preparing the source: out of memory");
	/* Nothing stays mounted on failure; no "missing" summary either. */
	for (size_t i = 0; i < m->n_missing; i++)
		free(m->missing[i]);
	free(m->missing);
	m->missing = NULL;
	m->n_missing = 0;
	source_unmount(m);
	return rc;
}
