/* Applying the OpenVZ fixups (ovz_fixups.h) to the scratch tree. The tree
 * came from an untrusted archive: directories resolve inside it, files read
 * or replaced are never symlinks (rootfs_at.h). */
#include "ovz_fixups.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "rootfs_at.h"
#include "str_list.h"
#include "util.h"

#define MAX_FILE (4u << 20)

struct ofx {
	int rootfd;
	const struct ct_spec *spec;
	bool write_eth0;
	struct ovz_fixlog *log;
};

void ovz_fixlog_free(struct ovz_fixlog *l)
{
	str_list_free(l->v, l->n);
	*l = (struct ovz_fixlog){ 0 };
}

static int note(struct ofx *fx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int note(struct ofx *fx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = str_list_vappendf(&fx->log->v, &fx->log->n, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return rc;
	log_info("fixup: %s", fx->log->v[fx->log->n - 1]);
	return 0;
}

/* Open dir inside the tree: the fd, or -1 when it is absent or not a plain
 * directory (logged as a warning only for the latter). */
static int open_dir(struct ofx *fx, const char *dir)
{
	int d = rootfs_open_dir(fx->rootfd, dir);
	if (d < 0 && d != -ENOENT)
		log_warn("OpenVZ fixups: /%s skipped: %s", dir, strerror(-d));
	return d < 0 ? -1 : d;
}

typedef char *(*transform_fn)(const char *text, struct ofx *fx, bool *extra);

/* Rewrite /dir/name with tf; absent files are fine, symlinks are skipped. */
static int rewrite(struct ofx *fx, const char *dir, const char *name, transform_fn tf, const char *why)
{
	_cleanup_close_ int d = open_dir(fx, dir);
	if (d < 0)
		return 0;
	_cleanup_free_ char *text = NULL;
	struct stat st;
	int rc = rootfs_read_file(d, name, MAX_FILE, &text, &st);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		log_warn("OpenVZ fixups: /%s/%s not rewritten: %s", dir, name,
			 rc == -ELOOP ? "it is a symlink" : strerror(-rc));
		return 0;
	}
	bool extra = false;
	_cleanup_free_ char *out = tf(text, fx, &extra);
	if (!out)
		return 0;
	char what[512];
	snprintf(what, sizeof(what), "/%s/%s", dir, name);
	rc = rootfs_write_file(d, name, what, out, st.st_mode & 07777, st.st_uid, st.st_gid);
	return rc < 0 ? rc : note(fx, "%s: %s", what, why);
}

/* ---- network ---- */

static char *interfaces_tf(const char *text, struct ofx *fx, bool *extra)
{
	(void)extra;
	return ovz_interfaces_text(text, fx->spec, fx->write_eth0, NULL);
}

static int fix_debian_net(struct ofx *fx)
{
	return rewrite(fx, "etc/network", "interfaces", interfaces_tf,
		       fx->write_eth0 ? "venet0 stanzas removed, eth0 configured if it was not"
				      : "venet0 stanzas removed");
}

static int fix_rhel_net(struct ofx *fx)
{
	static const char dir[] = "etc/sysconfig/network-scripts";
	_cleanup_close_ int d = open_dir(fx, dir);
	if (d < 0)
		return 0;
	int fd = openat(d, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dd = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dd) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	int rc = 0;
	bool eth0 = false;
	struct dirent *de;
	while (!rc && (de = readdir(dd))) {
		const char *n = de->d_name;
		if (!strcmp(n, "ifcfg-eth0"))
			eth0 = true;
		if (strncmp(n, "ifcfg-venet", 11) && strncmp(n, "route-venet", 11) &&
		    strncmp(n, "route6-venet", 12))
			continue;
		/* The venet device does not exist under LXC: nothing to keep. */
		if (unlinkat(d, n, 0) < 0) {
			rc = -errno;
			log_error("cannot remove /%s/%s: %s", dir, n, strerror(-rc));
		} else {
			rc = note(fx, "/%s/%s: removed (venet)", dir, n);
		}
	}
	closedir(dd);
	if (rc || !fx->write_eth0 || eth0)
		return rc;
	_cleanup_free_ char *ifcfg = ovz_ifcfg_eth0_text(fx->spec);
	if (!ifcfg)
		return -ENOMEM;
	rc = rootfs_write_file(d, "ifcfg-eth0", "/etc/sysconfig/network-scripts/ifcfg-eth0", ifcfg,
			       0644, 0, 0);
	if (!rc)
		rc = note(fx, "/%s/ifcfg-eth0: written (%s)", dir,
			  fx->spec->ip ? fx->spec->ip : fx->spec->ip6 ? fx->spec->ip6 : "dhcp");
	_cleanup_free_ char *route = rc ? NULL : ovz_route_eth0_text(fx->spec);
	if (route) {
		rc = rootfs_write_file(d, "route-eth0", "/etc/sysconfig/network-scripts/route-eth0",
				       route, 0644, 0, 0);
		if (!rc)
			rc = note(fx, "/%s/route-eth0: on-link route to the gateway %s", dir, fx->spec->gw);
	}
	return rc;
}

static char *sysnet_tf(const char *text, struct ofx *fx, bool *extra)
{
	(void)fx;
	(void)extra;
	return ovz_sysconfig_network_text(text);
}

/* ---- system ---- */

static char *fstab_tf(const char *text, struct ofx *fx, bool *extra)
{
	(void)fx;
	(void)extra;
	return ovz_fstab_text(text);
}

static char *inittab_tf(const char *text, struct ofx *fx, bool *extra)
{
	(void)extra;
	_cleanup_close_ int sbin = open_dir(fx, "sbin");
	const char *getty = "/sbin/getty 38400";
	if (sbin >= 0 && !rootfs_exists(sbin, "getty") && rootfs_exists(sbin, "mingetty"))
		getty = "/sbin/mingetty";
	return ovz_inittab_text(text, getty);
}

static int fix_mtab(struct ofx *fx)
{
	_cleanup_close_ int etc = open_dir(fx, "etc");
	if (etc < 0)
		return 0;
	char target[64];
	ssize_t n = readlinkat(etc, "mtab", target, sizeof(target) - 1);
	if (n >= 0) {
		target[n] = '\0';
		if (!strcmp(target, "/proc/mounts") || !strcmp(target, "../proc/self/mounts") ||
		    !strcmp(target, "/proc/self/mounts"))
			return 0;
	}
	struct stat st;
	if (fstatat(etc, "mtab", &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode)) {
			log_warn("OpenVZ fixups: /etc/mtab is a directory; left alone");
			return 0;
		}
		if (unlinkat(etc, "mtab", 0) < 0) {
			int e = errno;
			log_error("cannot remove /etc/mtab: %s", strerror(e));
			return -e;
		}
	}
	if (symlinkat("/proc/mounts", etc, "mtab") < 0) {
		int e = errno;
		log_error("cannot link /etc/mtab: %s", strerror(e));
		return -e;
	}
	return note(fx, "/etc/mtab: -> /proc/mounts");
}

/* OpenVZ's systemd templates mask the gettys (there was no console);
 * LXC has /dev/console and ttys, so the masks go. */
static int fix_systemd_getty(struct ofx *fx)
{
	static const char *const units[] = {
		"getty@.service", "getty@tty1.service", "console-getty.service",
		"container-getty@.service", "getty.target",
	};
	_cleanup_close_ int d = open_dir(fx, "etc/systemd/system");
	if (d < 0)
		return 0;
	int rc = 0;
	for (size_t i = 0; i < ARRAY_SIZE(units) && !rc; i++) {
		char target[64];
		ssize_t n = readlinkat(d, units[i], target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, "/dev/null"))
			continue;
		if (unlinkat(d, units[i], 0) < 0) {
			rc = -errno;
			log_error("cannot unmask %s: %s", units[i], strerror(-rc));
		} else {
			rc = note(fx, "/etc/systemd/system/%s: mask removed", units[i]);
		}
	}
	return rc;
}

int ovz_fixups_apply(const char *root, const struct ct_spec *spec, bool write_eth0,
		     struct ovz_fixlog *log)
{
	_cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		int e = errno;
		log_error("cannot open %s: %s", root, strerror(e));
		return -e;
	}
	struct ofx fx = { .rootfd = rootfd, .spec = spec, .write_eth0 = write_eth0, .log = log };
	int rc = fix_debian_net(&fx);
	if (!rc)
		rc = fix_rhel_net(&fx);
	if (!rc)
		rc = rewrite(&fx, "etc/sysconfig", "network", sysnet_tf, "venet0 as default device removed");
	if (!rc)
		rc = rewrite(&fx, "etc", "fstab", fstab_tf, "simfs line removed");
	if (!rc)
		rc = rewrite(&fx, "etc", "inittab", inittab_tf, "getty on tty1");
	if (!rc)
		rc = fix_systemd_getty(&fx);
	if (!rc)
		rc = fix_mtab(&fx);
	return rc;
}
