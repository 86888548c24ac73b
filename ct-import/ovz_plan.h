/* convert-openvz's decisions and outputs (convert_openvz.c runs them): the
 * container's values from the mapped ve.conf, the options and the unpacked
 * tree; the VMID; and writing the template, the container or the vzdump
 * archive, each recorded in the run's report. */
#ifndef CTI_OVZ_PLAN_H
#define CTI_OVZ_PLAN_H

#include <stdbool.h>

#include "config.h"
#include "ct_spec.h"
#include "ovz_output.h"
#include "ovz_report.h"
#include "veconf_map.h"

/* The options as given (NULL when absent). */
struct ovz_args {
	const char *vmid, *storage, *bridge, *gw, *output, *backend, *report, *cache_dir;
	const char *config, *name, *lxc_path;
	bool start, dry_run, force, help;
};

struct plan {
	struct ct_spec spec;
	char cpulimit[32];
	char vmid_name[16];
	char *template_path;
	char template_name[160];
	enum ct_backend backend;
};

/* Fill p->spec from the mapping, options and tree. want_net_default: a
 * Proxmox target (bridge defaults to NETIF's, then vmbr0); lxc_create:
 * plain LXC, which takes only --bridge (noted in r otherwise). */
void ovz_plan_fill(struct plan *p, struct ovz_run *r, const struct ovz_args *a,
		   const struct veconf_map *m, const struct ovz_tree_info *ti,
		   const struct cti_config *cfg, bool want_net_default, bool lxc_create);
/* --vmid, else the CTID when it is one, else (need, pve) the next free;
 * need and none found: -EINVAL (logged). */
int ovz_plan_vmid(struct plan *p, struct ovz_run *r, const struct ovz_args *a, bool need);
void ovz_add_output(struct ovz_run *r, const char *kind, const char *path, unsigned vmid,
		    const char *name);
/* 0 or -EEXIST (logged) when the VMID / LXC container is taken. */
int ovz_target_free(const struct plan *p);
int ovz_make_template(struct plan *p, struct ovz_run *r, const char *root, const char *cache,
		      bool force, bool dry_run);
int ovz_make_container(struct plan *p, struct ovz_run *r);
int ovz_make_vzdump(struct plan *p, struct ovz_run *r, const char *root, const char *scratch,
		    const char *cache);

#endif
