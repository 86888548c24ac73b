/* Installed systems: every ext2/3/4, xfs and btrfs filesystem is mounted
 * read-only without journal replay (p2v/source.h's options), and what a
 * Linux root says about itself is read through the root as "/" — no
 * symlink in the untrusted tree leads out of it. A partition without a
 * kernel node (a loop disk; this kernel does not scan their tables) is
 * reached through a loop device of our own, read-only, over the whole
 * disk opened O_RDONLY, at the partition's offset. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <linux/loop.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "inventory.h"
#include "log.h"
#include "osinfo.h"
#include "util.h"

#define P2V_RUN_DIR "/run/p2v"
#define TEXT_MAX (1024 * 1024)

void inv_os_free(struct inv_os *os)
{
	free(os->disk);
	free(os->fstype);
	free(os->id);
	free(os->version_id);
	free(os->pretty_name);
	free(os->ostype);
	free(os->arch);
	free(os->hostname);
	fstab_free(os->fstab, os->n_fstab);
	net_config_free(&os->net);
	*os = (struct inv_os){ 0 };
}

/* A regular file below the root, NUL-terminated; NULL when absent. */
static char *text_in_root(int rootfd, const char *rel)
{
	_cleanup_close_ int fd = source_open_in_root(rootfd, rel, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return NULL;
	char *buf = malloc(TEXT_MAX + 1);
	if (!buf)
		return NULL;
	ssize_t n = read_full(fd, buf, TEXT_MAX);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

typedef int (*file_fn)(const char *name, const char *text, struct net_config *out);

/* Each file matching pattern ("dir/glob", the glob in the last component
 * only), sorted, through fn; the best result is kept in best. */
static int each_file(int rootfd, const char *pattern, file_fn fn, struct net_config *best)
{
	_cleanup_free_ char *dir = strdup(pattern);
	if (!dir)
		return -ENOMEM;
	char *slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	const char *glob = slash + 1;
	int dfd = source_open_in_root(rootfd, dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return 0;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return 0;
	}
	char **names = NULL;
	size_t n = 0;
	int rc = 0;
	for (struct dirent *e; rc == 0 && (e = readdir(d));) {
		if (e->d_name[0] == '.' || fnmatch(glob, e->d_name, 0))
			continue;
		char **v = realloc(names, (n + 1) * sizeof(*v));
		if (!v || !(v[n] = strdup(e->d_name))) {
			names = v ? v : names;
			rc = -ENOMEM;
			break;
		}
		names = v;
		n++;
	}
	closedir(d);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(names[i], names[j]) > 0) {
				char *t = names[i];
				names[i] = names[j];
				names[j] = t;
			}
	for (size_t i = 0; i < n; i++) {
		char rel[PATH_MAX];
		snprintf(rel, sizeof(rel), "%s/%s", dir, names[i]);
		_cleanup_free_ char *t = rc == 0 ? text_in_root(rootfd, rel) : NULL;
		if (t) {
			struct net_config c = { 0 };
			rc = fn(names[i], t, &c);
			netcfg_take_better(best, &c);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

static int p_netplan(const char *name, const char *text, struct net_config *out)
{
	(void)name;
	return netcfg_parse_netplan(text, out);
}
static int p_nm(const char *name, const char *text, struct net_config *out)
{
	(void)name;
	return netcfg_parse_nmconnection(text, out);
}

/* /etc/network/interfaces together with the files its source lines name. */
static int read_ifupdown(int rootfd, struct net_config *out)
{
	_cleanup_free_ char *main_text = text_in_root(rootfd, "etc/network/interfaces");
	if (!main_text)
		return 0;
	char **src = netcfg_ifupdown_sources(main_text);
	char *all = strdup(main_text);
	int rc = all ? 0 : -ENOMEM;
	for (size_t i = 0; src && src[i] && rc == 0; i++) {
		char pat[PATH_MAX];
		if (src[i][0] == '/')
			snprintf(pat, sizeof(pat), "%s", src[i] + 1);
		else
			snprintf(pat, sizeof(pat), "etc/network/%s", src[i]);
		/* ifupdown stanzas may span files: parse them as one text. */
		_cleanup_free_ char *dir = strdup(pat);
		char *slash = dir ? strrchr(dir, '/') : NULL;
		if (!slash)
			continue;
		*slash = '\0';
		int dfd = source_open_in_root(rootfd, dir, O_RDONLY | O_DIRECTORY);
		DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
		if (!d) {
			if (dfd >= 0)
				close(dfd);
			continue;
		}
		for (struct dirent *e; rc == 0 && (e = readdir(d));) {
			if (e->d_name[0] == '.' || fnmatch(slash + 1, e->d_name, 0))
				continue;
			char rel[PATH_MAX];
			snprintf(rel, sizeof(rel), "%s/%s", dir, e->d_name);
			_cleanup_free_ char *t = text_in_root(rootfd, rel);
			char *joined;
			if (t && asprintf(&joined, "%s\n%s", all, t) >= 0) {
				free(all);
				all = joined;
			}
		}
		closedir(d);
	}
	if (rc == 0)
		rc = netcfg_parse_ifupdown(all, out);
	free(all);
	netcfg_strv_free(src);
	return rc;
}

static int read_net(int rootfd, struct inv_os *os)
{
	struct net_config *net = &os->net, c = { 0 };
	int rc = read_ifupdown(rootfd, &c);
	netcfg_take_better(net, &c);
	if (rc == 0)
		rc = each_file(rootfd, "etc/netplan/*.yaml", p_netplan, net);
	if (rc == 0)
		rc = each_file(rootfd, "etc/sysconfig/network-scripts/ifcfg-*",
			       netcfg_parse_ifcfg, net);
	if (rc == 0)
		rc = each_file(rootfd, "etc/NetworkManager/system-connections/*", p_nm, net);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *sysnet = text_in_root(rootfd, "etc/sysconfig/network");
	_cleanup_free_ char *resolv = text_in_root(rootfd, "etc/resolv.conf");
	_cleanup_free_ char *h = text_in_root(rootfd, "etc/hostname");
	return netcfg_fill_fallbacks(net, &os->hostname, sysnet, resolv, h);
}

int inv_read_os(int rootfd, struct inv_os *os)
{
	_cleanup_free_ char *osr = text_in_root(rootfd, "etc/os-release");
	if (!osr)
		osr = text_in_root(rootfd, "usr/lib/os-release");
	const char *type = NULL;
	bool legacy = false;
	if (osr) {
		os->id = os_release_value(osr, "ID");
		os->version_id = os_release_value(osr, "VERSION_ID");
		os->pretty_name = os_release_value(osr, "PRETTY_NAME");
		type = ostype_from_os_release(osr);
	}
	for (size_t i = 0; !type && osinfo_release_files[i]; i++) {
		char p[64];
		snprintf(p, sizeof(p), "etc/%s", osinfo_release_files[i]);
		_cleanup_free_ char *t = text_in_root(rootfd, p);
		if (t) {
			legacy = true;
			type = ostype_from_release_file(osinfo_release_files[i], t);
		}
	}
	uint8_t hdr[64];
	ssize_t hl = -1;
	int sh = source_open_in_root(rootfd, "bin/sh", O_RDONLY | O_NOCTTY | O_NONBLOCK);
	if (sh >= 0) {
		struct stat st;
		if (fstat(sh, &st) == 0 && S_ISREG(st.st_mode))
			hl = read_full(sh, hdr, sizeof(hdr));
		close(sh);
	}
	if (!osr && !legacy && hl < 0)
		return -ENOENT;   /* not a root filesystem: /boot, /home, data … */
	const char *arch = hl > 0 ? arch_from_elf(hdr, (size_t)hl) : NULL;
	os->arch = arch ? strdup(arch) : NULL;
	os->ostype = strdup(type ? type : "unmanaged");
	_cleanup_free_ char *fstab = text_in_root(rootfd, "etc/fstab");
	if (fstab) {
		int n = fstab_parse(fstab, &os->fstab);
		os->n_fstab = n > 0 ? (size_t)n : 0;
	}
	return read_net(rootfd, os);
}

static bool os_candidate(const char *type)
{
	return type && (!strcmp(type, "ext2") || !strcmp(type, "ext3") || !strcmp(type, "ext4") ||
			!strcmp(type, "xfs") || !strcmp(type, "btrfs"));
}

/* A read-only loop device over [off, off+size) of disk; its open fd (the
 * loop goes away by itself after the last close and unmount) or -errno. */
static int loop_ro(const char *disk, uint64_t off, uint64_t size, char *node, size_t node_size)
{
	_cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	_cleanup_close_ int bfd = open(disk, O_RDONLY | O_CLOEXEC);
	if (ctl < 0 || bfd < 0)
		return -errno;
	for (int attempt = 0; attempt < 8; attempt++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			return -errno;
		snprintf(node, node_size, "/dev/loop%d", n);
		int lfd = open(node, O_RDWR | O_CLOEXEC);
		if (lfd < 0)
			return -errno;
		struct loop_config cfg = {
			.fd = (unsigned)bfd,
			.info = {
				.lo_offset = off, .lo_sizelimit = size,
				.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR,
			},
		};
		if (ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0)
			return lfd;
		int e = errno;
		close(lfd);
		if (e != EBUSY)
			return -e;   /* EBUSY: another process took it first */
	}
	return -EBUSY;
}

static int mount_ro(const char *dev, const char *dir, const char *type)
{
	const char *opts = source_ro_options(type);
	const char *data = strncmp(opts, "ro,", 3) ? NULL : opts + 3;
	unsigned long flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	int rc = mount(dev, dir, type, flags, data);
	if (rc < 0 && errno == ENODEV && (!strcmp(type, "ext2") || !strcmp(type, "ext3")))
		rc = mount(dev, dir, "ext4", flags, data);
	return rc < 0 ? -errno : 0;
}

static void unmount_dir(const char *dir)
{
	for (int i = 0; i < 10 && umount2(dir, UMOUNT_NOFOLLOW) < 0 && errno == EBUSY; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 200 * 1000 * 1000 }, NULL);
	if (rmdir(dir) < 0 && errno == EBUSY && umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
		rmdir(dir);
}

/* Mount one filesystem, read what it holds, unmount. 0 with *found set
 * when it is a Linux root. */
static int probe_one(const struct inv_disk *d, const struct inv_partition *p, const char *type,
		     struct inv_os *os, bool *found)
{
	char node[64];
	const char *dev = p ? p->path : d->path;
	int lfd = -1;
	*found = false;
	if (!dev) {
		if ((lfd = loop_ro(d->path, p->start, p->size, node, sizeof(node))) < 0) {
			log_warn("%s partition %d: no read-only loop device (%s); not inspected", d->path,
				 p->number, strerror(-lfd));
			return 0;
		}
		dev = node;
	}
	if (mkdir(P2V_RUN_DIR, 0700) < 0 && errno != EEXIST)
		log_debug("mkdir %s: %s", P2V_RUN_DIR, strerror(errno));
	char dir[] = P2V_RUN_DIR "/os-XXXXXX";
	if (!mkdtemp(dir)) {
		int e = errno;
		if (lfd >= 0)
			close(lfd);
		log_error("creating a directory in %s: %s", P2V_RUN_DIR, strerror(e));
		return -e;
	}
	int rc = mount_ro(dev, dir, type);
	if (lfd >= 0)
		close(lfd);
	if (rc < 0) {
		log_warn("%s: mounting %s read-only with '%s' failed (%s); not inspected", dev, type,
			 source_ro_options(type), strerror(-rc));
		rmdir(dir);
		return 0;
	}
	log_debug("inspecting %s (%s) at %s", dev, type, dir);
	int rootfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	rc = rootfd < 0 ? -errno : inv_read_os(rootfd, os);
	if (rc == -ENOENT && !strcmp(type, "btrfs")) {
		/* Ubuntu, openSUSE: the root is a subvolume, "@" by convention. */
		inv_os_free(os);
		int sub = source_open_in_root(rootfd, "@", O_PATH | O_DIRECTORY);
		rc = sub < 0 ? -ENOENT : inv_read_os(sub, os);
		if (sub >= 0)
			close(sub);
	}
	if (rootfd >= 0)
		close(rootfd);
	struct statvfs vfs;
	if (rc == 0 && statvfs(dir, &vfs) == 0) {
		os->total_bytes = (uint64_t)vfs.f_blocks * vfs.f_frsize;
		os->used_bytes = (uint64_t)(vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
	}
	unmount_dir(dir);
	if (rc == -ENOENT) {
		inv_os_free(os);
		return 0;
	}
	if (rc < 0) {
		inv_os_free(os);
		return rc;
	}
	os->fstype = strdup(type);
	os->disk = strdup(d->path);
	os->partition = p ? p->number : 0;
	*found = true;
	return os->fstype && os->disk ? 0 : -ENOMEM;
}

static int add_if_root(struct inventory *inv, const struct inv_disk *d,
		       const struct inv_partition *p, const char *type)
{
	struct inv_os os = { 0 };
	bool found;
	int rc = probe_one(d, p, type, &os, &found);
	if (rc < 0 || !found)
		return rc;
	struct inv_os *v = realloc(inv->oses, (inv->n_oses + 1) * sizeof(*v));
	if (!v) {
		inv_os_free(&os);
		return -ENOMEM;
	}
	inv->oses = v;
	v[inv->n_oses++] = os;
	return 0;
}

int inv_probe_oses(struct inventory *inv)
{
	int rc = 0;
	for (size_t i = 0; i < inv->n_disks && rc == 0; i++) {
		const struct inv_disk *d = &inv->disks[i];
		if (d->boot_medium)
			continue;   /* the rescue system itself */
		if (inv_blkid_is_raid_member(&d->blkid)) {
			/* Mounting a member's filesystem is reading it behind the
			 * RAID's back: that is p2v check's decision, not ours. */
			log_info("%s carries %s metadata: not looking for installed systems on it "
				 "(see 'p2v check')", d->path, d->blkid.type);
			continue;
		}
		if (os_candidate(d->blkid.type) && !d->n_parts)
			rc = add_if_root(inv, d, NULL, d->blkid.type);
		for (size_t k = 0; k < d->n_parts && rc == 0; k++)
			if (os_candidate(d->parts[k].blkid.type))
				rc = add_if_root(inv, d, &d->parts[k], d->parts[k].blkid.type);
	}
	return rc;
}
