/* ct-import convert-openvz: one OpenVZ container (vzdump-openvz archive or
 * private area) into a template, a container (create-ct's backends) or a
 * vzdump-lxc archive. The contract is convert_openvz.h. Everything happens
 * in a scratch directory in the cache dir that is removed at the end, so a
 * refused source leaves nothing behind. */
#include "convert_openvz.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
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
#include "ovz_fixups.h"
#include "ovz_output.h"
#include "ovz_plan.h"
#include "ovz_report.h"
#include "ovz_source.h"
#include "pve.h"
#include "remove_tree.h"
#include "rootfs_at.h"
#include "run.h"
#include "util.h"
#include "validate.h"
#include "veconf.h"
#include "veconf_map.h"

enum {
	OPT_VMID = 256, OPT_STORAGE, OPT_BRIDGE, OPT_GW, OPT_OUTPUT, OPT_BACKEND, OPT_START,
	OPT_DRY_RUN, OPT_REPORT, OPT_CACHE_DIR, OPT_FORCE, OPT_CONFIG, OPT_NAME, OPT_LXC_PATH,
};

static const struct opt_def ovz_opts[] = {
	{ "vmid", OPT_VMID, "N", "Proxmox VMID (default: the CTID when it is 100 or more, else the next free one)" },
	{ "storage", OPT_STORAGE, "S", "Proxmox storage for the root disk (default local-lvm)" },
	{ "bridge", OPT_BRIDGE, "BR", "bridge for eth0 (default for Proxmox: NETIF's, else vmbr0; for plain LXC: none)" },
	{ "gw", OPT_GW, "IP", "default gateway for eth0 (venet had none inside the container)" },
	{ "output", OPT_OUTPUT, "template|vzdump|create", "what to write (default template)" },
	{ "backend", OPT_BACKEND, "pve|lxc", "with --output create (default pve when pct is installed)" },
	{ "start", OPT_START, NULL, "start the container once created" },
	{ "dry-run", OPT_DRY_RUN, NULL, "check and map the source, print what would be done, write nothing but the report" },
	{ "report", OPT_REPORT, "FILE", "write a JSON report of this conversion (doc/openvz.md)" },
	{ "cache-dir", OPT_CACHE_DIR, "DIR", "template cache and scratch space (default from " CTI_CONFIG_FILE ", else " CTI_DEFAULT_CACHE_DIR ")" },
	{ "force", OPT_FORCE, NULL, "replace an existing template of the same name" },
	{ "config", OPT_CONFIG, "FILE", "the container's ve.conf (default: found beside the private area, or ./etc/vzdump/vps.conf)" },
	{ "name", OPT_NAME, "NAME", "LXC container name (default: the VMID, else the CTID)" },
	{ "lxc-path", OPT_LXC_PATH, "DIR", "LXC container directory (default " CTI_DEFAULT_LXC_PATH ")" },
	{ "verbose", 'v', NULL, "log more" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 },
};


static int ovz_opt(void *ctx, int key, const char *arg)
{
	struct ovz_args *a = ctx;
	switch (key) {
	case OPT_VMID: a->vmid = arg; break;
	case OPT_STORAGE: a->storage = arg; break;
	case OPT_BRIDGE: a->bridge = arg; break;
	case OPT_GW: a->gw = arg; break;
	case OPT_OUTPUT: a->output = arg; break;
	case OPT_BACKEND: a->backend = arg; break;
	case OPT_START: a->start = true; break;
	case OPT_DRY_RUN: a->dry_run = true; break;
	case OPT_REPORT: a->report = arg; break;
	case OPT_CACHE_DIR: a->cache_dir = arg; break;
	case OPT_FORCE: a->force = true; break;
	case OPT_CONFIG: a->config = arg; break;
	case OPT_NAME: a->name = arg; break;
	case OPT_LXC_PATH: a->lxc_path = arg; break;
	case 'v': log_set_level(LOG_DEBUG); break;
	case 'h': a->help = true; break;
	}
	return 0;
}

/* The run being reported; the log hook collects its errors and warnings. */
static struct ovz_run *current;

static void collect(enum log_level level, const char *msg)
{
	if (!current)
		return;
	if (level == LOG_ERROR && !current->error)
		current->error = strdup(msg);
	else if (level == LOG_WARN)
		ovz_run_note(current, msg);
}

static bool bridge_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 15)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.", *s))
			return false;
	return true;
}

static int check_args(const struct ovz_args *a)
{
	uint64_t v;
	if (a->vmid && parse_u64(a->vmid, 100, 999999999, &v) < 0) {
		log_error("--vmid '%s': expected a whole number from 100 to 999999999", a->vmid);
		return -EINVAL;
	}
	if (a->output && strcmp(a->output, "template") && strcmp(a->output, "vzdump") &&
	    strcmp(a->output, "create")) {
		log_error("--output '%s': expected template, vzdump or create", a->output);
		return -EINVAL;
	}
	if (a->backend && strcmp(a->backend, "pve") && strcmp(a->backend, "lxc")) {
		log_error("--backend '%s': expected pve or lxc", a->backend);
		return -EINVAL;
	}
	if (a->storage && !valid_storage(a->storage)) {
		log_error("--storage '%s': a storage ID has no ':' or blanks", a->storage);
		return -EINVAL;
	}
	if (a->bridge && !bridge_ok(a->bridge)) {
		log_error("--bridge '%s' is not a bridge name", a->bridge);
		return -EINVAL;
	}
	if (a->gw && !valid_ip(a->gw)) {
		log_error("--gw '%s' is not an IPv4 or IPv6 address", a->gw);
		return -EINVAL;
	}
	if (a->name && !name_is_safe(a->name)) {
		log_error("--name '%s': use letters, digits and . _ + - only", a->name);
		return -EINVAL;
	}
	return 0;
}

/* ---- scratch space ---- */

/* Scratch directories of convert-openvz processes that no longer run. */
static void sweep_stale(const char *cache)
{
	DIR *d = opendir(cache);
	if (!d)
		return;
	struct dirent *de;
	size_t plen = strlen(CTI_OVZ_TMP_PREFIX);
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, CTI_OVZ_TMP_PREFIX, plen))
			continue;
		long pid = strtol(de->d_name + plen, NULL, 10);
		if (pid <= 0 || pid == getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/%s", cache, de->d_name);
		log_info("removing %s, left by an interrupted convert-openvz (pid %ld)", p, pid);
		remove_tree(p);
	}
	closedir(d);
}

/* ---- the configuration ---- */

/* ./etc/vzdump/vps.conf of the unpacked archive: read without following
 * symlinks, then taken out of the guest's tree. */
static int load_vps_conf(const char *root, const char *archive, struct veconf *c)
{
	_cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int d = rootfd < 0 ? -1 : rootfs_open_dir(rootfd, "etc/vzdump");
	_cleanup_free_ char *text = NULL;
	struct stat st;
	int rc = d < 0 ? d : rootfs_read_file(d, "vps.conf", VECONF_MAX_SIZE, &text, &st);
	if (rc < 0) {
		log_error("%s: no ./etc/vzdump/vps.conf in the archive (%s); is it a vzdump-openvz archive? "
			  "(--config names the ve.conf otherwise)", archive,
			  rc == -ENOENT ? "absent" : rc == -ELOOP ? "a symlink" : strerror(-rc));
		return -OVZ_EBADINPUT;
	}
	const char *base = strrchr(archive, '/');
	_cleanup_free_ char *name = NULL;
	if (asprintf(&name, "%s:./etc/vzdump/vps.conf", base ? base + 1 : archive) < 0)
		return -ENOMEM;
	rc = veconf_parse(name, text, strlen(text), c);
	if (rc == -EINVAL)
		return -OVZ_EBADINPUT;
	if (rc < 0)
		return rc;
	unlinkat(d, "vps.conf", 0);
	unlinkat(rootfd, "etc/vzdump", AT_REMOVEDIR);  /* when empty */
	return 0;
}

/* ---- the run ---- */

static int exit_status(int rc)
{
	return rc == 0 ? CTI_EXIT_OK : rc == -EEXIST ? CTI_EXIT_EXISTS :
	       rc == -OVZ_EBADINPUT ? CTI_EXIT_VERIFY : rc == -EINVAL ? CTI_EXIT_USAGE :
	       CTI_EXIT_FAILURE;
}

static int get_source(struct ovz_run *r, const struct ovz_args *a, const char *root,
		      struct veconf *c)
{
	int rc;
	if (r->is_dir) {
		_cleanup_free_ char *found = NULL;
		if (!a->config && (rc = ovz_find_private_config(r->source, r->ctid, &found)) < 0)
			return rc == -ENOENT ? -OVZ_EBADINPUT : rc;
		const char *conf = a->config ? a->config : found;
		r->config = strdup(conf);
		rc = veconf_load(conf, c);
		if (rc == -EINVAL || rc == -ENOENT || rc == -EACCES || rc == -EFBIG)
			return -OVZ_EBADINPUT;
		if (rc < 0)
			return rc;
		return ovz_copy_private(r->source, root);
	}
	rc = ovz_unpack_archive(r->source, root);
	if (rc < 0)
		return rc;
	if (a->config) {
		r->config = strdup(a->config);
		rc = veconf_load(a->config, c);
		return rc == -EINVAL || rc == -ENOENT || rc == -EACCES ? -OVZ_EBADINPUT : rc;
	}
	r->config = strdup("./etc/vzdump/vps.conf");
	return load_vps_conf(root, r->source, c);
}

static int convert(struct ovz_run *r, const struct ovz_args *a, const struct cti_config *cfg,
		   const char *scratch)
{
	_cleanup_free_ char *root = NULL;
	if (asprintf(&root, "%s/root", scratch) < 0)
		return -ENOMEM;
	if (mkdir(root, 0755) < 0)
		return -errno;
	struct veconf c = { 0 };
	struct veconf_map m = { .onboot = -1 };
	struct plan p = { 0 };
	int rc = get_source(r, a, root, &c);
	if (rc == 0) {
		rc = veconf_map(&c, &m);
		if (rc == -EINVAL)
			rc = -OVZ_EBADINPUT;
	}
	if (rc == 0)
		r->map = &m;
	struct ovz_tree_info ti;
	if (rc == 0 && (rc = ovz_tree_inspect(root, &ti)) < 0)
		log_error("cannot inspect the unpacked container: %s", strerror(-rc));
	bool create = !strcmp(r->output, "create");
	p.backend = a->backend ? (!strcmp(a->backend, "pve") ? BACKEND_PVE : BACKEND_LXC)
			       : program_on_path("pct") ? BACKEND_PVE : BACKEND_LXC;
	if (create)
		r->backend = p.backend == BACKEND_PVE ? "pve" : "lxc";
	bool pve_net = !strcmp(r->output, "vzdump") || (create && p.backend == BACKEND_PVE);
	if (rc == 0) {
		ovz_plan_fill(&p, r, a, &m, &ti, cfg, pve_net, create && p.backend == BACKEND_LXC);
		r->spec = &p.spec;
		rc = ovz_plan_vmid(&p, r, a, !strcmp(r->output, "vzdump") || (create && p.backend == BACKEND_PVE));
	}
	if (rc == 0) {
		p.spec.name = a->name ? a->name : r->vmid ? p.vmid_name : r->ctid;
		r->name = create && p.backend == BACKEND_LXC ? p.spec.name : NULL;
		snprintf(p.template_name, sizeof(p.template_name), CTI_OVZ_TEMPLATE_FMT, r->ctid);
		if (asprintf(&p.template_path, "%s/%s", cfg->cache_dir, p.template_name) < 0)
			rc = -ENOMEM;
		p.spec.template_path = p.template_path;
		p.spec.template_name = p.template_name;
	}
	if (rc == 0 && m.has_net && m.net0.venet && !p.spec.gw && !p.spec.gw6)
		ovz_run_note(r, "venet addresses and no --gw: the container reaches only its own "
				"prefix until a gateway is set");
	/* The network in the guest: what the config says, or what --bridge adds. */
	if (rc == 0)
		rc = ovz_fixups_apply(root, &p.spec, m.has_net || a->bridge, &r->fixups);
	if (rc == 0) {
		log_info("CT %s: %s, %u MiB + %u MiB swap, %u GiB, %s, eth0 %s%s", r->ctid,
			 p.spec.hostname ? p.spec.hostname : "(no hostname)", p.spec.memory_mb,
			 p.spec.swap_mb, p.spec.disk_gb, p.spec.ostype,
			 p.spec.ip ? p.spec.ip : p.spec.ip6 ? p.spec.ip6 : "dhcp/none",
			 p.spec.bridge ? "" : " (not connected)");
		if (!strcmp(r->output, "vzdump")) {
			rc = ovz_make_vzdump(&p, r, root, scratch, cfg->cache_dir);
		} else {
			if (create)  /* before the template: a taken target wastes no work */
				rc = ovz_target_free(&p);
			if (rc == 0)
				rc = ovz_make_template(&p, r, root, cfg->cache_dir, a->force, a->dry_run);
			if (rc == 0 && create) {
				rc = ovz_make_container(&p, r);
				/* A template that made no container is not left behind. */
				if (rc < 0 && !a->dry_run && r->n_outputs && !strcmp(r->outputs[0].kind, "template")) {
					unlink(p.template_path);
					free(r->outputs[0].path);
					r->n_outputs = 0;
				}
			}
		}
	}
	if (rc == 0 && !a->dry_run)
		for (size_t i = 0; i < r->n_outputs; i++)
			printf("%s %s%s%s\n", r->outputs[i].kind,
			       r->outputs[i].path ? r->outputs[i].path : "",
			       r->outputs[i].name ? r->outputs[i].name : "",
			       r->outputs[i].vmid && !r->outputs[i].path ? p.vmid_name : "");
	/* The report is written before m goes away. */
	r->exit_code = exit_status(rc);
	if (a->report && ovz_report_write(a->report, r) < 0 && rc == 0)
		rc = -EIO, r->exit_code = CTI_EXIT_FAILURE;
	r->map = NULL;
	r->spec = NULL;
	free(p.template_path);
	veconf_map_free(&m);
	veconf_free(&c);
	return rc;
}

int cmd_convert_openvz(int argc, char **argv)
{
	struct ovz_args a = { 0 };
	int idx = opt_parse(ovz_opts, argc, argv, ovz_opt, &a);
	if (idx < 0)
		return CTI_EXIT_USAGE;
	if (a.help) {
		opt_print_help(stdout, "ct-import convert-openvz SOURCE [OPTIONS]",
			       "Convert an OpenVZ container (a vzdump-openvz archive, or a private area "
			       "directory with its ve.conf) into a template, a container, or a "
			       "vzdump-lxc archive for pct restore.", ovz_opts);
		return CTI_EXIT_OK;
	}
	struct ovz_run r = { .output = a.output ? a.output : "template", .dry_run = a.dry_run };
	current = &r;
	log_set_message_hook(collect);
	int rc = 0;
	if (idx != argc - 1) {
		log_error("convert-openvz: give exactly one SOURCE (see --help)");
		rc = -EINVAL;
	}
	r.source = idx < argc ? argv[idx] : "";
	if (rc == 0)
		rc = check_args(&a);
	struct cti_config cfg = { 0 };
	bool cfg_loaded = false;
	if (rc == 0) {
		rc = cti_config_load(NULL, &cfg) < 0 ? -EIO : 0;
		cfg_loaded = rc == 0;
		if (rc == 0 && a.cache_dir)
			rc = cti_config_set(&cfg, "cache_dir", a.cache_dir);
		if (rc == 0 && a.lxc_path)
			rc = cti_config_set(&cfg, "lxc_path", a.lxc_path);
	}
	struct stat st;
	if (rc == 0) {
		if (stat(r.source, &st) < 0) {
			log_error("%s: %s", r.source, strerror(errno));
			rc = -OVZ_EBADINPUT;
		} else if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
			log_error("%s is neither an archive nor a private area directory", r.source);
			rc = -OVZ_EBADINPUT;
		} else {
			r.is_dir = S_ISDIR(st.st_mode);
			r.ctid = ovz_ctid_from_source(r.source, r.is_dir);
			if (!r.ctid) {
				log_error("%s: cannot tell the CTID from its name", r.source);
				rc = -OVZ_EBADINPUT;
			}
		}
	}
	_cleanup_free_ char *scratch = NULL;
	if (rc == 0) {
		if (mkdir(cfg.cache_dir, 0755) < 0 && errno != EEXIST) {
			rc = -errno;
			log_error("cannot create %s: %s", cfg.cache_dir, strerror(-rc));
		} else {
			sweep_stale(cfg.cache_dir);
			if (asprintf(&scratch, "%s/" CTI_OVZ_TMP_PREFIX "%ld.XXXXXX", cfg.cache_dir,
				     (long)getpid()) < 0)
				rc = -ENOMEM;
			else if (!mkdtemp(scratch)) {
				rc = -errno;
				log_error("cannot create a scratch directory in %s: %s", cfg.cache_dir,
					  strerror(-rc));
				free(scratch);
				scratch = NULL;
			}
		}
	}
	if (rc == 0) {
		rc = convert(&r, &a, &cfg, scratch);
	} else {
		r.exit_code = exit_status(rc);
		if (a.report)
			ovz_report_write(a.report, &r);
	}
	if (scratch)
		remove_tree(scratch);
	int status = r.exit_code;
	if (rc < 0 && status == CTI_EXIT_OK)
		status = exit_status(rc);
	log_set_message_hook(NULL);
	current = NULL;
	ovz_run_free(&r);
	if (cfg_loaded)
		cti_config_free(&cfg);
	return status;
}
