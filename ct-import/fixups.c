/* Applying the fixups to a created container's rootfs. The rootfs came from
 * a template, so it is untrusted: every path resolves inside it (rootfs_at.h)
 * and files rewritten or renamed are never symlinks. A file that is a
 * symlink is skipped with a warning, not followed. */
#include "fixups.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "rootfs_at.h"
#include "util.h"

#define MAX_CONFIG_FILE (4u << 20)
#define DISABLED_SUFFIX ".p2v-disabled"

struct fx {
	int rootfd;
	const struct ct_spec *spec;
	enum ct_backend backend;
	bool lxc_net;  /* the LXC backend gives the container an eth0 */
};

/* Rewrite dir/name with transform(text, ctx); NULL from it means unchanged.
 * Absent files are fine; symlinks and odd files are skipped with a warning. */
typedef char *(*transform_fn)(const char *text, const struct fx *fx);

static int rewrite_at(const struct fx *fx, int dirfd, const char *dir, const char *name,
		      transform_fn transform, const char *why)
{
	char what[512];
	snprintf(what, sizeof(what), "/%s/%s", dir, name);
	_cleanup_free_ char *text = NULL;
	struct stat st;
	int rc = rootfs_read_file(dirfd, name, MAX_CONFIG_FILE, &text, &st);
	if (rc == -ENOENT)
		return 0;
	if (rc == -ELOOP || rc == -EINVAL || rc == -EFBIG) {
		log_warn("fixups: not rewriting %s: %s", what,
			 rc == -ELOOP ? "it is a symlink" : rc == -EFBIG ? "too large" : "not a regular file");
		return 0;
	}
	if (rc < 0) {
		log_error("cannot read %s in the container: %s", what, strerror(-rc));
		return rc;
	}
	_cleanup_free_ char *out = transform(text, fx);
	if (!out)
		return 0;
	rc = rootfs_write_file(dirfd, name, what, out, st.st_mode, st.st_uid, st.st_gid);
	if (rc == 0)
		log_info("fixup: %s: %s", what, why);
	return rc;
}

static int rewrite(const struct fx *fx, const char *dir, const char *name,
		   transform_fn transform, const char *why)
{
	_cleanup_close_ int dfd = rootfs_open_dir(fx->rootfd, dir);
	if (dfd == -ENOENT)
		return 0;
	if (dfd == -ENOTDIR || dfd == -ELOOP || dfd == -EXDEV) {
		log_warn("fixups: /%s not rewritten: not a plain directory inside the container", dir);
		return 0;
	}
	if (dfd < 0) {
		log_error("cannot open /%s in the container: %s", dir, strerror(-dfd));
		return dfd;
	}
	return rewrite_at(fx, dfd, dir, name, transform, why);
}

/* Write a new file (replacing a regular file or symlink of that name). */
static int write_new(int dirfd, const char *dir, const char *name, const char *text, mode_t mode,
		     const char *why)
{
	char what[512];
	snprintf(what, sizeof(what), "/%s/%s", dir, name);
	int rc = rootfs_write_file(dirfd, name, what, text, mode, 0, 0);
	if (rc == 0)
		log_info("fixup: %s: %s", what, why);
	return rc;
}

/* Rename name aside as name.p2v-disabled (symlinks too: the link moves). */
static int disable_at(int dirfd, const char *dir, const char *name)
{
	char aside[300];
	if (snprintf(aside, sizeof(aside), "%s" DISABLED_SUFFIX, name) >= (int)sizeof(aside))
		return 0;
	if (renameat(dirfd, name, dirfd, aside) < 0) {
		int e = errno;
		log_error("cannot move /%s/%s aside: %s", dir, name, strerror(e));
		return -e;
	}
	log_info("fixup: /%s/%s moved aside to %s", dir, name, aside);
	return 0;
}

/* Names in dirfd matching pattern, sorted; NULL-terminated, or NULL. */
static char **list_dir(int dirfd, const char *pattern)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	size_t n = 0;
	char **v = calloc(1, sizeof(*v));
	struct dirent *de;
	while (v && (de = readdir(d))) {
		if (de->d_name[0] == '.' || fnmatch(pattern, de->d_name, 0))
			continue;
		char **nv = realloc(v, (n + 2) * sizeof(*v));
		if (!nv)
			break;
		v = nv;
		if (!(v[n] = strdup(de->d_name)))
			break;
		v[++n] = NULL;
	}
	closedir(d);
	if (v)
		qsort(v, n, sizeof(*v), (int (*)(const void *, const void *))strcmp);
	return v;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void strv_freep(char ***v) { strv_free(*v); }
#define _cleanup_strv_ __attribute__((cleanup(strv_freep)))

/* ---- fstab, inittab, hostname, hosts, resolv.conf ---- */

static char *fstab_tf(const char *text, const struct fx *fx)
{
	(void)fx;
	return fixup_fstab_text(text);
}

static char *inittab_tf(const char *text, const struct fx *fx)
{
	(void)fx;
	return fixup_inittab_text(text);
}

static char *hosts_tf(const char *text, const struct fx *fx)
{
	return fixup_hosts_text(text, fx->spec->hostname);
}

static char *hostname_tf(const char *text, const struct fx *fx)
{
	char *s = NULL;
	if (asprintf(&s, "%s\n", fx->spec->hostname) < 0)
		return NULL;
	if (!strcmp(s, text)) {
		free(s);
		return NULL;
	}
	return s;
}

static int fix_identity(const struct fx *fx)
{
	int rc = 0;
	if (!fx->spec->hostname)
		return 0;
	if (!rc)
		rc = rewrite(fx, "etc", "hostname", hostname_tf, "host name set");
	if (!rc)
		rc = rewrite(fx, "etc", "hosts", hosts_tf, "127.0.1.1 names the host");
	return rc;
}

static int fix_resolv(const struct fx *fx)
{
	_cleanup_free_ char *text = resolv_conf_text(fx->spec);
	if (!text)
		return 0;
	_cleanup_close_ int etc = rootfs_open_dir(fx->rootfd, "etc");
	if (etc < 0)
		return 0;
	/* Often a symlink into /run (systemd-resolved): replace the link itself. */
	struct stat st;
	if (fstatat(etc, "resolv.conf", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		unlinkat(etc, "resolv.conf", 0);
	return write_new(etc, "etc", "resolv.conf", text, 0644, "nameservers set");
}

/* ---- network ---- */

static char *interfaces_tf(const char *text, const struct fx *fx)
{
	return fixup_interfaces_text(text, fx->spec, fx->backend);
}

static char *interfaces_d_tf(const char *text, const struct fx *fx)
{
	(void)fx;
	return fixup_interfaces_d_text(text);
}

static int fix_ifupdown(const struct fx *fx)
{
	int rc = rewrite(fx, "etc/network", "interfaces", interfaces_tf,
			 fx->lxc_net ? "physical interfaces disabled, container eth0 configured"
				     : "physical interfaces disabled");
	if (rc)
		return rc;
	_cleanup_close_ int d = rootfs_open_dir(fx->rootfd, "etc/network/interfaces.d");
	if (d < 0)
		return 0;
	_cleanup_strv_ char **names = list_dir(d, "*");
	for (size_t i = 0; names && names[i] && !rc; i++)
		rc = rewrite_at(fx, d, "etc/network/interfaces.d", names[i], interfaces_d_tf,
				"physical interfaces disabled");
	return rc;
}

static int fix_netplan(const struct fx *fx)
{
	_cleanup_close_ int d = rootfs_open_dir(fx->rootfd, "etc/netplan");
	if (d < 0)
		return 0;
	_cleanup_strv_ char **names = list_dir(d, "*.yaml");
	if (!names || !names[0])
		return 0;
	int rc = 0;
	for (size_t i = 0; names[i] && !rc; i++)
		rc = disable_at(d, "etc/netplan", names[i]);
	if (!rc && fx->lxc_net) {
		_cleanup_free_ char *text = eth0_netplan_text(fx->spec);
		rc = text ? write_new(d, "etc/netplan", "10-p2v-eth0.yaml", text, 0600,
				      "container eth0 configured")
			  : -ENOMEM;
	}
	return rc;
}

static int fix_ifcfg(const struct fx *fx)
{
	static const char dir[] = "etc/sysconfig/network-scripts";
	_cleanup_close_ int d = rootfs_open_dir(fx->rootfd, dir);
	if (d < 0)
		return 0;
	_cleanup_strv_ char **names = list_dir(d, "ifcfg-*");
	if (!names || !names[0])
		return 0;
	int rc = 0;
	for (size_t i = 0; names[i] && !rc; i++) {
		const char *n = names[i];
		size_t len = strlen(n);
		bool already = len > strlen(DISABLED_SUFFIX) &&
			       !strcmp(n + len - strlen(DISABLED_SUFFIX), DISABLED_SUFFIX);
		if (strcmp(n, "ifcfg-lo") && !already)
			rc = disable_at(d, dir, n);
	}
	if (!rc && fx->lxc_net) {
		_cleanup_free_ char *text = eth0_ifcfg_text(fx->spec);
		rc = text ? write_new(d, dir, "ifcfg-eth0", text, 0644, "container eth0 configured")
			  : -ENOMEM;
	}
	return rc;
}

/* A keyfile bound to hardware: an interface-name of a physical device, or a
 * MAC address. Others (VPNs, loopback) are kept. */
static bool nmconnection_is_physical(const char *text)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, "mac-address=", 12))
			return true;
		if (!strncmp(p, "interface-name=", 15)) {
			char name[64];
			size_t n = strcspn(p + 15, "\r\n");
			snprintf(name, sizeof(name), "%.*s", (int)n, p + 15);
			if (ifname_is_physical(name))
				return true;
		}
	}
	return false;
}

static int fix_networkmanager(const struct fx *fx)
{
	static const char dir[] = "etc/NetworkManager/system-connections";
	_cleanup_close_ int d = rootfs_open_dir(fx->rootfd, dir);
	if (d < 0)
		return 0;
	_cleanup_strv_ char **names = list_dir(d, "*");
	int rc = 0;
	for (size_t i = 0; names && names[i] && !rc; i++) {
		size_t len = strlen(names[i]);
		if (len > strlen(DISABLED_SUFFIX) &&
		    !strcmp(names[i] + len - strlen(DISABLED_SUFFIX), DISABLED_SUFFIX))
			continue;
		_cleanup_free_ char *text = NULL;
		struct stat st;
		if (rootfs_read_file(d, names[i], MAX_CONFIG_FILE, &text, &st) < 0)
			continue;
		if (nmconnection_is_physical(text))
			rc = disable_at(d, dir, names[i]);
	}
	return rc;
}

/* ---- services ---- */

/* Units that drive hardware a container does not have. */
static const char *const masked_units[] = {
	"systemd-udevd.service",
	"systemd-udevd-control.socket",
	"systemd-udevd-kernel.socket",
	"systemd-udev-trigger.service",
	"systemd-udev-settle.service",
	"hwclock.service",
	"serial-getty@ttyS0.service",
	"serial-getty@ttyS1.service",
	"smartmontools.service",
	"smartd.service",
	"mdmonitor.service",
	"multipathd.service",
	"lvm2-monitor.service",
};

static int mask_unit(int sysd, const char *unit)
{
	char target[64];
	ssize_t n = readlinkat(sysd, unit, target, sizeof(target) - 1);
	if (n >= 0) {
		target[n] = '\0';
		if (!strcmp(target, "/dev/null"))
			return 0;
	}
	/* An administrator's override unit or another link: the mask replaces it. */
	if (rootfs_exists(sysd, unit) && unlinkat(sysd, unit, 0) < 0) {
		int e = errno;
		log_error("cannot replace /etc/systemd/system/%s: %s", unit, strerror(e));
		return -e;
	}
	if (symlinkat("/dev/null", sysd, unit) < 0) {
		int e = errno;
		log_error("cannot mask %s: %s", unit, strerror(e));
		return -e;
	}
	log_info("fixup: %s masked", unit);
	return 0;
}

static int fix_systemd(const struct fx *fx)
{
	_cleanup_close_ int sd = rootfs_open_dir(fx->rootfd, "etc/systemd");
	if (sd < 0)
		return 0;  /* not a systemd system */
	if (mkdirat(sd, "system", 0755) < 0 && errno != EEXIST) {
		int e = errno;
		log_error("cannot create /etc/systemd/system: %s", strerror(e));
		return -e;
	}
	_cleanup_close_ int sysd = openat(sd, "system", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sysd < 0) {
		log_warn("fixups: /etc/systemd/system is not a directory; units not masked");
		return 0;
	}
	int rc = 0;
	for (size_t i = 0; i < ARRAY_SIZE(masked_units) && !rc; i++)
		rc = mask_unit(sysd, masked_units[i]);
	_cleanup_close_ int wants = openat(sysd, "getty.target.wants",
					   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_strv_ char **links = wants >= 0 ? list_dir(wants, "serial-getty@*") : NULL;
	for (size_t i = 0; links && links[i] && !rc; i++) {
		if (unlinkat(wants, links[i], 0) < 0) {
			rc = -errno;
			log_error("cannot remove getty.target.wants/%s: %s", links[i], strerror(-rc));
		} else {
			log_info("fixup: serial console getty %s disabled", links[i]);
		}
	}
	return rc;
}

/* sysvinit: hwclock.sh start links in /etc/rc?.d. */
static int fix_sysv_rc(const struct fx *fx)
{
	static const char *const rcdirs[] = {
		"etc/rcS.d", "etc/rc0.d", "etc/rc1.d", "etc/rc2.d", "etc/rc3.d",
		"etc/rc4.d", "etc/rc5.d", "etc/rc6.d",
	};
	for (size_t i = 0; i < ARRAY_SIZE(rcdirs); i++) {
		_cleanup_close_ int d = rootfs_open_dir(fx->rootfd, rcdirs[i]);
		if (d < 0)
			continue;
		_cleanup_strv_ char **links = list_dir(d, "[SK][0-9][0-9]hwclock.sh");
		for (size_t j = 0; links && links[j]; j++) {
			struct stat st;
			if (fstatat(d, links[j], &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode))
				continue;
			if (unlinkat(d, links[j], 0) < 0) {
				int e = errno;
				log_error("cannot remove /%s/%s: %s", rcdirs[i], links[j], strerror(e));
				return -e;
			}
			log_info("fixup: /%s/%s removed", rcdirs[i], links[j]);
		}
	}
	return rewrite(fx, "etc", "inittab", inittab_tf, "serial console gettys disabled");
}

int fixups_apply(const char *rootfs, const struct ct_spec *spec, enum ct_backend backend)
{
	_cleanup_close_ int rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		int e = errno;
		log_error("cannot open the container root %s: %s", rootfs, strerror(e));
		return -e;
	}
	struct fx fx = {
		.rootfd = rootfd,
		.spec = spec,
		.backend = backend,
		.lxc_net = backend == BACKEND_LXC && spec->bridge,
	};
	int rc = rewrite(&fx, "etc", "fstab", fstab_tf, "disk, /boot and swap entries commented out");
	if (!rc)
		rc = fix_ifupdown(&fx);
	if (!rc)
		rc = fix_netplan(&fx);
	if (!rc)
		rc = fix_ifcfg(&fx);
	if (!rc)
		rc = fix_networkmanager(&fx);
	if (!rc)
		rc = fix_systemd(&fx);
	if (!rc)
		rc = fix_sysv_rc(&fx);
	/* Proxmox writes hostname, hosts and resolv.conf at every start itself. */
	if (!rc && backend == BACKEND_LXC)
		rc = fix_identity(&fx);
	if (!rc && backend == BACKEND_LXC)
		rc = fix_resolv(&fx);
	return rc;
}
