/* ct-import create-ct: a privileged container from a template, through
 * Proxmox's pct where it exists, else plain LXC. What the template says
 * (OS, arch, hostname, network) fills in whatever the options leave open. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "create_spec.h"
#include "log.h"
#include "lxc.h"
#include "options.h"
#include "pve.h"
#include "run.h"
#include "template_info.h"
#include "util.h"

enum {
	OPT_TEMPLATE = 256, OPT_VMID, OPT_HOSTNAME, OPT_STORAGE, OPT_DISK_GB, OPT_MEMORY,
	OPT_CORES, OPT_BRIDGE, OPT_IP, OPT_GW, OPT_NAMESERVER, OPT_SEARCHDOMAIN, OPT_BACKEND,
	OPT_START, OPT_DRY_RUN, OPT_CACHE_DIR, OPT_LXC_PATH, OPT_CONFIG, OPT_NAME,
};

static const struct opt_def create_opts[] = {
	{ "template", OPT_TEMPLATE, "NAME", "template in the cache (extension optional), or an absolute path" },
	{ "vmid", OPT_VMID, "N", "Proxmox VMID (default: the next free one)" },
	{ "name", OPT_NAME, "NAME", "LXC container name (default: the VMID, else the template name)" },
	{ "hostname", OPT_HOSTNAME, "H", "host name (default: the template's)" },
	{ "storage", OPT_STORAGE, "S", "Proxmox storage for the root disk (default local-lvm)" },
	{ "disk-gb", OPT_DISK_GB, "N", "root disk size in GiB (default 1.5 x used, at least 4)" },
	{ "memory", OPT_MEMORY, "MB", "memory in MiB (default: the source server's, from p2v's inventory, capped by this host; else 1024)" },
	{ "cores", OPT_CORES, "N", "CPU cores (default: the source server's, capped by this host; else 1)" },
	{ "bridge", OPT_BRIDGE, "BR", "bridge for eth0 (default vmbr0 with pct; none with LXC)" },
	{ "ip", OPT_IP, "CIDR|dhcp", "eth0 address (default: the template's)" },
	{ "gw", OPT_GW, "IP", "default gateway (default: the template's)" },
	{ "nameserver", OPT_NAMESERVER, "IPS", "DNS servers, space-separated (default: the template's)" },
	{ "searchdomain", OPT_SEARCHDOMAIN, "DOMAINS", "DNS search domains (default: the template's)" },
	{ "backend", OPT_BACKEND, "pve|lxc", "how to create it (default pve when pct is installed)" },
	{ "start", OPT_START, NULL, "start the container once created" },
	{ "dry-run", OPT_DRY_RUN, NULL, "print what would be run and change nothing" },
	{ "cache-dir", OPT_CACHE_DIR, "DIR", "template cache (default from the config file, else " CTI_DEFAULT_CACHE_DIR ")" },
	{ "lxc-path", OPT_LXC_PATH, "DIR", "LXC container directory (default " CTI_DEFAULT_LXC_PATH ")" },
	{ "config", OPT_CONFIG, "FILE", "config file (default " CTI_CONFIG_FILE ")" },
	{ "verbose", 'v', NULL, "log more" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 },
};

static int create_opt(void *ctx, int key, const char *arg)
{
	struct create_args *a = ctx;
	switch (key) {
	case OPT_TEMPLATE: a->template = arg; break;
	case OPT_VMID: a->vmid = arg; break;
	case OPT_NAME: a->name = arg; break;
	case OPT_HOSTNAME: a->hostname = arg; break;
	case OPT_STORAGE: a->storage = arg; break;
	case OPT_DISK_GB: a->disk_gb = arg; break;
	case OPT_MEMORY: a->memory = arg; break;
	case OPT_CORES: a->cores = arg; break;
	case OPT_BRIDGE: a->bridge = arg; break;
	case OPT_IP: a->ip = arg; break;
	case OPT_GW: a->gw = arg; break;
	case OPT_NAMESERVER: a->nameserver = arg; break;
	case OPT_SEARCHDOMAIN: a->searchdomain = arg; break;
	case OPT_BACKEND: a->backend = arg; break;
	case OPT_START: a->start = true; break;
	case OPT_DRY_RUN: a->dry_run = true; break;
	case OPT_CACHE_DIR: a->cache_dir = arg; break;
	case OPT_LXC_PATH: a->lxc_path = arg; break;
	case OPT_CONFIG: a->config = arg; break;
	case 'v': log_set_level(LOG_DEBUG); break;
	case 'h': a->help = true; break;
	}
	return 0;
}

static const char *const template_exts[] = { "", ".tar.zst", ".tar.gz", ".tar.xz", ".tar.bz2",
					      ".tgz", ".tar", NULL };

/* The template's absolute path: NAME in the cache, with or without its
 * extension, or an absolute path. */
static int find_template(const char *cache_dir, const char *name, char **path)
{
	struct stat st;
	if (name[0] == '/') {
		if (stat(name, &st) < 0) {
			log_error("template %s: %s", name, strerror(errno));
			return -ENOENT;
		}
		if (!S_ISREG(st.st_mode)) {
			log_error("template %s is not a regular file", name);
			return -EINVAL;
		}
		return (*path = strdup(name)) ? 0 : -ENOMEM;
	}
	if (!name_is_safe(name)) {
		log_error("--template '%s' is not a file name in the template cache (or an absolute path)", name);
		return -EINVAL;
	}
	for (size_t i = 0; template_exts[i]; i++) {
		char *p;
		if (asprintf(&p, "%s/%s%s", cache_dir, name, template_exts[i]) < 0)
			return -ENOMEM;
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			/* Absolute, so pct (run elsewhere) and the spec agree on it. */
			*path = realpath(p, NULL);
			free(p);
			return *path ? 0 : -errno;
		}
		free(p);
	}
	log_error("template '%s' not found in %s", name, cache_dir);
	return -ENOENT;
}

static int exit_status(int rc)
{
	return rc == -EEXIST ? CTI_EXIT_EXISTS : rc == -EINVAL ? CTI_EXIT_USAGE : CTI_EXIT_FAILURE;
}

static void describe(const struct ct_spec *s, const struct template_info *info)
{
	char used[32];
	log_info("template %s: %s (ostype %s, arch %s), %s used", s->template_name,
		 info->os_pretty ? info->os_pretty : info->os_id ? info->os_id : "unknown OS",
		 s->ostype, s->arch ? s->arch : "unknown", format_bytes(info->used_bytes, used, sizeof(used)));
	log_info("container: hostname %s, %u GiB root, %u MiB, %u core(s), eth0 %s%s%s%s%s",
		 s->hostname ? s->hostname : "(default)", s->disk_gb, s->memory_mb, s->cores,
		 s->bridge ? "on " : "not connected", s->bridge ? s->bridge : "",
		 s->bridge && s->ip ? " ip " : "", s->bridge && s->ip ? s->ip : "",
		 s->bridge && s->gw ? " gw set" : "");
}

static int create_pve(struct ct_spec *spec, const char *vmid_opt)
{
	int rc;
	if (!vmid_opt) {
		rc = pve_next_vmid(spec->dry_run, &spec->vmid);
		if (rc < 0)
			return rc;
	}
	if (pve_vmid_exists(spec->vmid)) {
		log_error("VMID %u already exists; not overwriting it", spec->vmid);
		return -EEXIST;
	}
	if (spec->dry_run) {
		char **argv = pve_create_argv(spec);
		if (!argv)
			return -ENOMEM;
		print_argv_quoted(stdout, argv);
		pve_argv_free(argv);
		return 0;
	}
	rc = pve_create_ct(spec);
	if (rc == 0)
		printf("created container %u from %s\n", spec->vmid, spec->template_name);
	return rc;
}

static int create_lxc(struct ct_spec *spec)
{
	if (spec->dry_run) {
		_cleanup_free_ char *rootfs = NULL;
		if (asprintf(&rootfs, "%s/%s/rootfs", spec->lxc_path, spec->name) < 0)
			return -ENOMEM;
		_cleanup_free_ char *cfg = lxc_config_text(spec, rootfs);
		if (!cfg)
			return -ENOMEM;
		printf("# would create LXC container %s in %s/%s\n%s", spec->name, spec->lxc_path,
		       spec->name, cfg);
		return 0;
	}
	int rc = lxc_create_ct(spec);
	if (rc == 0)
		printf("created LXC container %s from %s\n", spec->name, spec->template_name);
	return rc;
}

int cmd_create_ct(int argc, char **argv)
{
	struct create_args a = { 0 };
	int idx = opt_parse(create_opts, argc, argv, create_opt, &a);
	if (idx < 0)
		return CTI_EXIT_USAGE;
	if (a.help) {
		opt_print_help(stdout, "ct-import create-ct --template NAME [OPTIONS]",
			       "Create a privileged container from a template in the cache.", create_opts);
		return CTI_EXIT_OK;
	}
	if (idx < argc) {
		log_error("create-ct: unexpected argument '%s' (see --help)", argv[idx]);
		return CTI_EXIT_USAGE;
	}
	int rc = create_args_check(&a);
	if (rc < 0)
		return CTI_EXIT_USAGE;

	struct cti_config cfg;
	rc = cti_config_load(a.config, &cfg);
	if (rc < 0)
		return CTI_EXIT_FAILURE;
	if (a.cache_dir)
		rc = cti_config_set(&cfg, "cache_dir", a.cache_dir);
	if (rc == 0 && a.lxc_path)
		rc = cti_config_set(&cfg, "lxc_path", a.lxc_path);
	_cleanup_free_ char *path = NULL;
	if (rc == 0)
		rc = find_template(cfg.cache_dir, a.template, &path);
	struct template_info info = { 0 };
	if (rc == 0)
		rc = template_inspect(path, &info);
	enum ct_backend backend = !a.backend ? (program_on_path("pct") ? BACKEND_PVE : BACKEND_LXC) :
				  !strcmp(a.backend, "pve") ? BACKEND_PVE : BACKEND_LXC;
	struct ct_spec spec = { 0 };
	struct spec_storage store = { 0 };
	if (rc == 0) {
		spec.template_path = path;
		spec.lxc_path = cfg.lxc_path;
		rc = create_spec_fill(&spec, &store, &a, &info, backend);
	}
	if (rc == 0) {
		describe(&spec, &info);
		rc = backend == BACKEND_PVE ? create_pve(&spec, a.vmid) : create_lxc(&spec);
	}
	spec_storage_free(&store);
	template_info_free(&info);
	cti_config_free(&cfg);
	return rc < 0 ? exit_status(rc) : CTI_EXIT_OK;
}
