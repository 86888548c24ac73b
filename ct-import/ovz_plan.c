/* convert-openvz's decisions and outputs (ovz_plan.h). */
#include "ovz_plan.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "create_spec.h"
#include "log.h"
#include "lxc.h"
#include "pve.h"
#include "run.h"
#include "util.h"

void ovz_plan_fill(struct plan *p, struct ovz_run *r, const struct ovz_args *a,
		   const struct veconf_map *m, const struct ovz_tree_info *ti,
		   const struct cti_config *cfg, bool want_net_default, bool lxc_create)
{
	struct ct_spec *s = &p->spec;
	veconf_map_to_spec(m, s);
	s->storage = a->storage ? a->storage : CTI_DEFAULT_STORAGE;
	s->disk_gb = m->disk_gb ? m->disk_gb : default_disk_gb(ti->used_bytes);
	s->has_swap = true;
	s->swap_mb = m->swap_mb;
	s->onboot = m->onboot < 0 ? 0 : m->onboot ? 1 : -1;
	s->cpuunits = m->has_cpuunits ? m->cpuunits : 0;
	if (m->has_cpulimit && m->cpulimit_pct)
		s->cpulimit = veconf_cpulimit_str(m->cpulimit_pct, p->cpulimit, sizeof(p->cpulimit));
	s->ip6 = m->net0.ip6;
	s->hwaddr = m->net0.hwaddr;
	s->bridge = a->bridge ? a->bridge : m->net0.bridge;
	if (!s->bridge && want_net_default)
		s->bridge = CTI_DEFAULT_BRIDGE;
	if (lxc_create && !a->bridge && m->net0.bridge) {
		/* An old host's bridge name is only a guess on a plain LXC
		 * host; a missing bridge would keep the container from starting. */
		s->bridge = NULL;
		char note[160];
		snprintf(note, sizeof(note), "NETIF's bridge %s is not used with plain LXC: no network "
			 "until --bridge names one", m->net0.bridge);
		ovz_run_note(r, note);
	}
	if (a->gw) {
		if (strchr(a->gw, ':'))
			s->gw6 = a->gw;
		else
			s->gw = a->gw;
	}
	s->ostype = ti->ostype;
	s->arch = ti->arch;
	s->lxc_path = cfg->lxc_path;
	s->start = a->start;
	s->dry_run = a->dry_run;
}

int ovz_plan_vmid(struct plan *p, struct ovz_run *r, const struct ovz_args *a, bool need)
{
	uint64_t v;
	if (a->vmid) {
		parse_u64(a->vmid, 100, 999999999, &v);
	} else if (r->ctid && parse_u64(r->ctid, 100, 999999999, &v) == 0) {
		log_info("VMID %llu, the CTID (give --vmid for another)", (unsigned long long)v);
	} else if (need && p->backend == BACKEND_PVE) {
		unsigned id;
		int rc = pve_next_vmid(a->dry_run, &id);
		if (rc < 0)
			return rc;
		v = id;
	} else if (need) {
		log_error("CTID '%s' is not a usable VMID; give --vmid", r->ctid ? r->ctid : "?");
		return -EINVAL;
	} else {
		return 0;
	}
	p->spec.vmid = r->vmid = (unsigned)v;
	snprintf(p->vmid_name, sizeof(p->vmid_name), "%u", r->vmid);
	return 0;
}

void ovz_add_output(struct ovz_run *r, const char *kind, const char *path, unsigned vmid,
		    const char *name)
{
	if (r->n_outputs >= ARRAY_SIZE(r->outputs))
		return;
	struct ovz_output_rec *o = &r->outputs[r->n_outputs++];
	o->kind = kind;
	o->path = path ? strdup(path) : NULL;
	o->vmid = vmid;
	o->name = name ? strdup(name) : NULL;
}

/* ---- outputs ---- */

int ovz_make_template(struct plan *p, struct ovz_run *r, const char *root, const char *cache,
		      bool force, bool dry_run)
{
	if (!force && !dry_run && access(p->template_path, F_OK) == 0) {
		log_error("template %s already exists; --force replaces it", p->template_path);
		return -EEXIST;
	}
	if (dry_run) {
		printf("would write the template %s\n", p->template_path);
		return 0;
	}
	int rc = ovz_write_archive(root, cache, p->template_name, force, NULL, NULL);
	if (rc == 0)
		ovz_add_output(r, "template", p->template_path, 0, NULL);
	return rc;
}

/* The VMID or LXC container name is not taken (the backends check again
 * when they create it). 0 or -EEXIST (logged). */
int ovz_target_free(const struct plan *p)
{
	const struct ct_spec *s = &p->spec;
	if (p->backend == BACKEND_PVE) {
		if (pve_vmid_exists(s->vmid)) {
			log_error("VMID %u already exists; not overwriting it", s->vmid);
			return -EEXIST;
		}
		return 0;
	}
	char dir[PATH_MAX];
	struct stat st;
	snprintf(dir, sizeof(dir), "%s/%s", s->lxc_path, s->name);
	if (lstat(dir, &st) == 0) {
		log_error("container %s already exists (%s)", s->name, dir);
		return -EEXIST;
	}
	return 0;
}

int ovz_make_container(struct plan *p, struct ovz_run *r)
{
	struct ct_spec *s = &p->spec;
	if (p->backend == BACKEND_PVE) {
		if (pve_vmid_exists(s->vmid)) {
			log_error("VMID %u already exists; not overwriting it", s->vmid);
			return -EEXIST;
		}
		if (s->dry_run) {
			char **argv = pve_create_argv(s);
			if (!argv)
				return -ENOMEM;
			print_argv_quoted(stdout, argv);
			pve_argv_free(argv);
			return 0;
		}
		int rc = pve_create_ct(s);
		if (rc == 0)
			ovz_add_output(r, "container", NULL, s->vmid, NULL);
		return rc;
	}
	if (s->dry_run) {
		_cleanup_free_ char *rootfs = NULL;
		if (asprintf(&rootfs, "%s/%s/rootfs", s->lxc_path, s->name) < 0)
			return -ENOMEM;
		_cleanup_free_ char *cfg = lxc_config_text(s, rootfs);
		if (!cfg)
			return -EINVAL;
		printf("# would create LXC container %s in %s/%s\n%s", s->name, s->lxc_path, s->name, cfg);
		return 0;
	}
	int rc = lxc_create_ct(s);
	if (rc == 0)
		ovz_add_output(r, "container", NULL, 0, s->name);
	return rc;
}

int ovz_make_vzdump(struct plan *p, struct ovz_run *r, const char *root, const char *scratch,
		    const char *cache)
{
	_cleanup_free_ char *desc = NULL, *conf = NULL, *conf_dir = NULL, *path = NULL;
	if (asprintf(&desc, "Converted from OpenVZ container %s (%s) by ct-import convert-openvz",
		     r->ctid ? r->ctid : "?", r->source) < 0)
		return -ENOMEM;
	conf = ovz_pct_conf_text(&p->spec, desc);
	if (!conf)
		return -ENOMEM;
	char name[128];
	ovz_vzdump_name(p->spec.vmid, name, sizeof(name));
	if (asprintf(&path, "%s/%s", cache, name) < 0 || asprintf(&conf_dir, "%s/conf", scratch) < 0)
		return -ENOMEM;
	if (p->spec.dry_run) {
		printf("would write %s with ./etc/vzdump/pct.conf:\n%s", path, conf);
		return 0;
	}
	if (mkdir(conf_dir, 0700) < 0)
		return -errno;
	int rc = ovz_write_archive(root, cache, name, false, conf, conf_dir);
	if (rc == 0)
		ovz_add_output(r, "vzdump", path, p->spec.vmid, NULL);
	return rc;
}
