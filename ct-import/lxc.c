/* The plain-LXC backend, for hosts without Proxmox: the template is unpacked
 * into <lxc_path>/<name>/rootfs, fixed up, and given a privileged config
 * that lxc-start understands; LXC's tools do the rest. */
#include "lxc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "atomic_file.h"
#include "fixups.h"
#include "log.h"
#include "remove_tree.h"
#include "run.h"
#include "util.h"

#define LXC_CONFIG_DIR "/usr/share/lxc/config"

/* LXC's arch names for the machines we know; LXC accepts these and more. */
static const char *host_arch(void)
{
	static const struct { const char *machine, *arch; } map[] = {
		{ "x86_64", "amd64" }, { "i686", "i386" }, { "i386", "i386" },
		{ "aarch64", "arm64" }, { "armv7l", "armhf" }, { "riscv64", "riscv64" },
	};
	struct utsname u;
	if (uname(&u) == 0)
		for (size_t i = 0; i < ARRAY_SIZE(map); i++)
			if (!strcmp(u.machine, map[i].machine))
				return map[i].arch;
	return "amd64";
}

/* A value that would end its config line early, or smuggle in another key. */
static bool config_value_ok(const char *what, const char *v)
{
	if (!v)
		return true;
	for (const char *p = v; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			log_error("%s contains a control character; refusing it in the LXC config", what);
			return false;
		}
	}
	return true;
}

static bool file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

char *lxc_config_text(const struct ct_spec *spec, const char *rootfs)
{
	if (!config_value_ok("the name", spec->name) ||
	    !config_value_ok("the host name", spec->hostname) ||
	    !config_value_ok("the bridge", spec->bridge) || !config_value_ok("the IP", spec->ip) ||
	    !config_value_ok("the gateway", spec->gw) || !config_value_ok("the arch", spec->arch) ||
	    !config_value_ok("the ostype", spec->ostype) ||
	    !config_value_ok("the rootfs path", rootfs) ||
	    !config_value_ok("the template name", spec->template_name) ||
	    !config_value_ok("the MAC address", spec->hwaddr) ||
	    !config_value_ok("the IPv6 address", spec->ip6) ||
	    !config_value_ok("the IPv6 gateway", spec->gw6) ||
	    !config_value_ok("the CPU limit", spec->cpulimit))
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fprintf(f, "# Privileged container created by ct-import from %s\n",
		spec->template_name ? spec->template_name : spec->template_path);

	/* The distribution's own common config when LXC ships one, else LXC's. */
	char distro[256] = "";
	if (spec->ostype && name_is_safe(spec->ostype))
		snprintf(distro, sizeof(distro), LXC_CONFIG_DIR "/%s.common.conf", spec->ostype);
	if (distro[0] && file_exists(distro))
		fprintf(f, "lxc.include = %s\n", distro);
	else if (file_exists(LXC_CONFIG_DIR "/common.conf"))
		fputs("lxc.include = " LXC_CONFIG_DIR "/common.conf\n", f);
	else
		fputs("# " LXC_CONFIG_DIR "/common.conf not found: no common settings\n", f);
	/* No lxc.apparmor.profile: LXC confines with its default profile where
	 * AppArmor is enabled and skips confinement where it is not. */

	fprintf(f, "lxc.arch = %s\n", spec->arch ? spec->arch : host_arch());
	fprintf(f, "lxc.uts.name = %s\n", spec->hostname ? spec->hostname : spec->name);
	fprintf(f, "lxc.rootfs.path = dir:%s\n", rootfs);

	if (!spec->bridge) {
		fputs("lxc.net.0.type = empty\n", f);
	} else {
		fprintf(f, "lxc.net.0.type = veth\nlxc.net.0.link = %s\nlxc.net.0.flags = up\n"
			   "lxc.net.0.name = eth0\n", spec->bridge);
		/* LXC sets a static address before init runs; the guest's own
		 * config (see fixups) says the same, so either way works. */
		if (spec->ip && strcmp(spec->ip, "dhcp") && strcmp(spec->ip, "manual")) {
			fprintf(f, "lxc.net.0.ipv4.address = %s\n", spec->ip);
			if (spec->gw)
				fprintf(f, "lxc.net.0.ipv4.gateway = %s\n", spec->gw);
		}
		if (spec->hwaddr)
			fprintf(f, "lxc.net.0.hwaddr = %s\n", spec->hwaddr);
		if (spec->ip6 && strchr(spec->ip6, '/')) {
			fprintf(f, "lxc.net.0.ipv6.address = %s\n", spec->ip6);
			if (spec->gw6)
				fprintf(f, "lxc.net.0.ipv6.gateway = %s\n", spec->gw6);
		}
	}
	fprintf(f, "lxc.start.auto = %d\n", spec->onboot < 0 ? 0 : 1);

	/* cgroup v2 keys only work on a unified host, v1 keys only on a legacy
	 * or hybrid one (LXC ignores the other kind), so pick by the host. */
	bool unified = file_exists("/sys/fs/cgroup/cgroup.controllers");
	if (spec->memory_mb) {
		unsigned long long bytes = (unsigned long long)spec->memory_mb << 20;
		if (unified)
			fprintf(f, "lxc.cgroup2.memory.max = %llu\n", bytes);
		else
			fprintf(f, "lxc.cgroup.memory.limit_in_bytes = %llu\n", bytes);
	}
	if (spec->has_swap && spec->memory_mb) {
		/* As Proxmox: swap alone on cgroup v2, memory + swap on v1. */
		unsigned long long swap = (unsigned long long)spec->swap_mb << 20;
		if (unified)
			fprintf(f, "lxc.cgroup2.memory.swap.max = %llu\n", swap);
		else
			fprintf(f, "lxc.cgroup.memory.memsw.limit_in_bytes = %llu\n",
				((unsigned long long)spec->memory_mb << 20) + swap);
	}
	if (spec->cpuunits) {
		/* Proxmox writes cpuunits as the weight: cpu.weight (1..10000) on
		 * v2, cpu.shares on v1. */
		unsigned w = spec->cpuunits;
		if (unified)
			fprintf(f, "lxc.cgroup2.cpu.weight = %u\n", w < 1 ? 1 : w > 10000 ? 10000 : w);
		else
			fprintf(f, "lxc.cgroup.cpu.shares = %u\n", w < 2 ? 2 : w);
	}
	double limit = spec->cpulimit ? strtod(spec->cpulimit, NULL) : 0;
	if (limit > 0 || spec->cores) {
		/* Like Proxmox's cpulimit: a CFS quota of that many CPUs; without
		 * one, the cores as quota. */
		unsigned long long quota = limit > 0 ? (unsigned long long)(limit * 100000 + 0.5)
						     : (unsigned long long)spec->cores * 100000;
		if (unified)
			fprintf(f, "lxc.cgroup2.cpu.max = %llu 100000\n", quota);
		else
			fprintf(f, "lxc.cgroup.cpu.cfs_period_us = 100000\n"
				   "lxc.cgroup.cpu.cfs_quota_us = %llu\n", quota);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int write_config(const char *ctdir, const char *text)
{
	struct atomic_file af;
	int rc = atomic_file_open(&af, ctdir, "config", false);
	if (rc < 0)
		return rc;
	rc = write_full(af.fd, text, strlen(text));
	if (rc == 0 && fchmod(af.fd, 0640) < 0)
		rc = -errno;
	if (rc < 0)
		log_error("writing %s/config: %s", ctdir, strerror(-rc));
	else
		rc = atomic_file_commit(&af, false);
	atomic_file_discard(&af);
	return rc;
}

static int start_ct(const struct ct_spec *spec)
{
	char *start[] = { "lxc-start", "-n", (char *)spec->name, "-P", (char *)spec->lxc_path, NULL };
	char *wait[] = { "lxc-wait", "-n", (char *)spec->name, "-P", (char *)spec->lxc_path,
			 "-s", "RUNNING", "-t", "30", NULL };
	if (spec->dry_run) {
		print_argv_quoted(stdout, start);
		print_argv_quoted(stdout, wait);
		return 0;
	}
	int rc = run_argv(start, NULL);
	if (rc == 0)
		rc = run_argv(wait, NULL);
	if (rc != 0) {
		log_error("container %s was created but did not start; see "
			  "'lxc-start -F -n %s -P %s' (lxc-destroy removes it)",
			  spec->name, spec->name, spec->lxc_path);
		return rc < 0 ? rc : -EIO;
	}
	log_info("container %s is running", spec->name);
	return 0;
}

int lxc_create_ct(const struct ct_spec *spec)
{
	if (!spec->name || !name_is_safe(spec->name)) {
		log_error("invalid LXC container name '%s'", spec->name ? spec->name : "");
		return -EINVAL;
	}
	if (!spec->lxc_path || spec->lxc_path[0] != '/') {
		log_error("the LXC path must be absolute");
		return -EINVAL;
	}
	_cleanup_free_ char *ctdir = NULL, *rootfs = NULL;
	if (asprintf(&ctdir, "%s/%s", spec->lxc_path, spec->name) < 0 ||
	    asprintf(&rootfs, "%s/rootfs", ctdir) < 0)
		return -ENOMEM;
	_cleanup_free_ char *config = lxc_config_text(spec, rootfs);
	if (!config)
		return -EINVAL;

	struct stat st;
	if (lstat(ctdir, &st) == 0) {
		log_error("container %s already exists (%s); remove it with "
			  "'lxc-destroy -n %s -P %s' or choose another name",
			  spec->name, ctdir, spec->name, spec->lxc_path);
		return -EEXIST;
	}
	if (spec->dry_run) {
		printf("would unpack %s into %s\n", spec->template_path, rootfs);
		printf("would apply the container fixups to %s\n", rootfs);
		printf("would write %s/config:\n%s", ctdir, config);
		return spec->start ? start_ct(spec) : 0;
	}

	if (mkdir(spec->lxc_path, 0755) < 0 && errno != EEXIST) {
		int e = errno;
		log_error("cannot create %s: %s", spec->lxc_path, strerror(e));
		return -e;
	}
	/* 0770 like lxc-create: host users must not reach the privileged
	 * container's set-uid programs through its rootfs. mkdir is also the
	 * atomic claim on the name. */
	if (mkdir(ctdir, 0770) < 0) {
		int e = errno;
		if (e == EEXIST)
			log_error("container %s already exists (%s)", spec->name, ctdir);
		else
			log_error("cannot create %s: %s", ctdir, strerror(e));
		return -e;
	}
	int rc = 0;
	if (chmod(ctdir, 0770) < 0) {  /* exactly, whatever the umask */
		rc = -errno;
		log_error("cannot chmod %s: %s", ctdir, strerror(-rc));
	}
	if (!rc && mkdir(rootfs, 0755) < 0) {
		rc = -errno;
		log_error("cannot create %s: %s", rootfs, strerror(-rc));
	}
	if (!rc) {
		log_info("unpacking %s into %s", spec->template_path, rootfs);
		rc = archive_unpack_secure(spec->template_path, rootfs);
	}
	if (!rc)
		rc = fixups_apply(rootfs, spec, BACKEND_LXC);
	if (!rc)
		rc = write_config(ctdir, config);
	if (rc < 0) {
		log_info("removing the unfinished container %s", ctdir);
		remove_tree(ctdir);
		return rc;
	}
	log_info("container %s created in %s", spec->name, ctdir);
	return spec->start ? start_ct(spec) : 0;
}
