#include "pve.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fixups.h"
#include "argv.h"
#include "log.h"
#include "run.h"
#include "util.h"

const char *pve_etc_dir(void)
{
	const char *d = getenv("CTI_PVE_ETC");
	return d && *d ? d : "/etc/pve";
}

char *pve_ostemplate(const struct ct_spec *spec)
{
	char *s = NULL;
	_cleanup_free_ char *dir = strdup(spec->template_path);
	if (!dir)
		return NULL;
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	char real_dir[PATH_MAX], real_cache[PATH_MAX];
	bool in_cache = !strcmp(dir, CTI_DEFAULT_CACHE_DIR) ||
			(realpath(dir, real_dir) && realpath(CTI_DEFAULT_CACHE_DIR, real_cache) &&
			 !strcmp(real_dir, real_cache));
	if (in_cache) {
		if (asprintf(&s, "local:vztmpl/%s", spec->template_name) < 0)
			return NULL;
		return s;
	}
	return strdup(spec->template_path);
}

void pve_argv_free(char **argv) { argv_free(argv); }

char *pve_net0_value(const struct ct_spec *spec)
{
	/* net0 carries IPv4 in ip=/gw= and IPv6 in ip6=/gw6=; an --ip of
	 * create-ct may be either family. */
	const char *ip = spec->ip, *ip6 = spec->ip6, *gw = spec->gw, *gw6 = spec->gw6;
	if (ip && strchr(ip, ':') && !ip6) {
		ip6 = ip;
		ip = NULL;
		if (gw && strchr(gw, ':') && !gw6) {
			gw6 = gw;
			gw = NULL;
		}
	}
	if (!ip && !ip6)
		ip = "dhcp";
	bool static4 = ip && strcmp(ip, "dhcp") && strcmp(ip, "manual");
	bool static6 = ip6 && strcmp(ip6, "dhcp") && strcmp(ip6, "manual") && strcmp(ip6, "auto");
	char *s = NULL;
	if (asprintf(&s, "name=eth0,bridge=%s%s%s%s%s%s%s%s%s%s%s", spec->bridge,
		     spec->hwaddr ? ",hwaddr=" : "", spec->hwaddr ? spec->hwaddr : "",
		     ip ? ",ip=" : "", ip ? ip : "",
		     static4 && gw ? ",gw=" : "", static4 && gw ? gw : "",
		     ip6 ? ",ip6=" : "", ip6 ? ip6 : "",
		     static6 && gw6 ? ",gw6=" : "", static6 && gw6 ? gw6 : "") < 0)
		return NULL;
	return s;
}

char **pve_create_argv(const struct ct_spec *spec)
{
	struct argv_builder b = { 0 };
	_cleanup_free_ char *ostemplate = pve_ostemplate(spec);
	if (!ostemplate)
		return NULL;
	argv_push(&b, "pct");
	argv_push(&b, "create");
	argv_push(&b, "%u", spec->vmid);
	argv_push(&b, "%s", ostemplate);
	argv_push_opt(&b, "arch", spec->arch);
	argv_push_opt(&b, "ostype", spec->ostype ? spec->ostype : "unmanaged");
	argv_push_opt(&b, "hostname", spec->hostname);
	/* A migrated server expects real root: privileged, and back after a reboot. */
	argv_push_opt(&b, "unprivileged", "0");
	argv_push_opt(&b, "onboot", spec->onboot < 0 ? "0" : "1");
	argv_push(&b, "--rootfs");
	argv_push(&b, "%s:%u", spec->storage, spec->disk_gb);
	argv_push(&b, "--memory");
	argv_push(&b, "%u", spec->memory_mb);
	if (spec->has_swap) {
		argv_push(&b, "--swap");
		argv_push(&b, "%u", spec->swap_mb);
	}
	if (spec->cores) {  /* 0: all the host's CPUs, pct's default */
		argv_push(&b, "--cores");
		argv_push(&b, "%u", spec->cores);
	}
	argv_push_opt(&b, "cpulimit", spec->cpulimit);
	if (spec->cpuunits) {
		argv_push(&b, "--cpuunits");
		argv_push(&b, "%u", spec->cpuunits);
	}
	if (spec->bridge) {
		char *net0 = pve_net0_value(spec);
		if (!net0)
			b.failed = true;
		argv_push(&b, "--net0");
		argv_push(&b, "%s", net0 ? net0 : "");
		free(net0);
	}
	argv_push_opt(&b, "nameserver", spec->nameserver);
	argv_push_opt(&b, "searchdomain", spec->searchdomain);
	return argv_finish(&b);
}

bool pve_vmid_exists(unsigned vmid)
{
	const char *etc = pve_etc_dir();
	char path[PATH_MAX];
	static const char *const confs[] = { "lxc", "qemu-server" };
	for (size_t i = 0; i < ARRAY_SIZE(confs); i++) {
		snprintf(path, sizeof(path), "%s/%s/%u.conf", etc, confs[i], vmid);
		if (access(path, F_OK) == 0)
			return true;
	}
	/* .vmlist covers every node of the cluster: "ids":{"100":{…},…} */
	snprintf(path, sizeof(path), "%s/.vmlist", etc);
	_cleanup_free_ char *list = NULL;
	if (read_file(path, 16 << 20, &list, NULL) == 0) {
		char key[32];
		snprintf(key, sizeof(key), "\"%u\"", vmid);
		if (strstr(list, key))
			return true;
	}
	return false;
}

int pve_next_vmid(bool allow_scan, unsigned *vmid)
{
	if (program_on_path("pvesh")) {
		char *argv[] = { "pvesh", "get", "/cluster/nextid", NULL };
		_cleanup_free_ char *out = NULL;
		int rc = run_argv(argv, &out);
		if (rc < 0)
			return rc;
		uint64_t v;
		/* pvesh may print the number quoted ("101") depending on output format. */
		char *p = out ? out + strspn(out, "\" \t") : NULL;
		if (p)
			p[strcspn(p, "\" \t\r\n")] = '\0';
		if (rc != 0 || !p || parse_u64(p, 100, 999999999, &v) < 0) {
			log_error("pvesh get /cluster/nextid failed (exit %d); give --vmid", rc);
			return -EIO;
		}
		*vmid = (unsigned)v;
		return 0;
	}
	if (!allow_scan) {
		log_error("pvesh not found: give --vmid");
		return -ENOENT;
	}
	for (unsigned id = 100; id < 1000000; id++) {
		if (!pve_vmid_exists(id)) {
			*vmid = id;
			return 0;
		}
	}
	log_error("no free VMID found");
	return -ENOSPC;
}

static int run_checked(char *const argv[], char **out)
{
	int rc = run_argv(argv, out);
	if (rc > 0) {
		log_error("'%s %s %s' failed with exit status %d", argv[0], argv[1], argv[2], rc);
		return -EIO;
	}
	return rc;
}

/* "mounted CT 100 in '/var/lib/lxc/100/rootfs'" */
static char *mounted_path(const char *out, unsigned vmid)
{
	const char *q = out ? strchr(out, '\'') : NULL;
	const char *e = q ? strchr(q + 1, '\'') : NULL;
	char *s;
	if (q && e && e > q + 1)
		return strndup(q + 1, (size_t)(e - q - 1));
	if (asprintf(&s, "/var/lib/lxc/%u/rootfs", vmid) < 0)
		return NULL;
	return s;
}

int pve_create_ct(const struct ct_spec *spec)
{
	char **argv = pve_create_argv(spec);
	if (!argv) {
		log_error("out of memory");
		return -ENOMEM;
	}
	log_info("running: pct create %u …", spec->vmid);
	int rc = run_checked(argv, NULL);
	pve_argv_free(argv);
	if (rc < 0)
		return rc;

	char id[16];
	snprintf(id, sizeof(id), "%u", spec->vmid);
	char *mount_argv[] = { "pct", "mount", id, NULL };
	_cleanup_free_ char *out = NULL;
	rc = run_checked(mount_argv, &out);
	if (rc < 0) {
		log_error("container %u was created but not fixed up", spec->vmid);
		return rc;
	}
	_cleanup_free_ char *rootfs = mounted_path(out, spec->vmid);
	rc = rootfs ? fixups_apply(rootfs, spec, BACKEND_PVE) : -ENOMEM;
	char *unmount_argv[] = { "pct", "unmount", id, NULL };
	int urc = run_checked(unmount_argv, NULL);
	if (rc < 0) {
		log_error("container %u was created but its fixups failed", spec->vmid);
		return rc;
	}
	if (urc < 0)
		return urc;
	log_info("container %u created and fixed up", spec->vmid);
	if (spec->start) {
		char *start_argv[] = { "pct", "start", id, NULL };
		rc = run_checked(start_argv, NULL);
		if (rc < 0)
			return rc;
		log_info("container %u started", spec->vmid);
	}
	return 0;
}
