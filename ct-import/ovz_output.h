/* What convert-openvz writes from the fixed scratch tree: a template archive
 * for create-ct, or a vzdump-lxc archive that `pct restore` takes, whose
 * ./etc/vzdump/pct.conf carries the mapped configuration. Both are made by
 * GNU tar with Proxmox's own flags and published atomically. */
#ifndef CTI_OVZ_OUTPUT_H
#define CTI_OVZ_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ct_spec.h"

/* What the tree says about itself: Proxmox ostype ("unmanaged" when not
 * known) and arch (NULL when not known), static strings; the bytes its
 * files use. */
struct ovz_tree_info {
	const char *ostype, *arch;
	uint64_t used_bytes;
};
int ovz_tree_inspect(const char *root, struct ovz_tree_info *info);

/* pct.conf as pve-container writes it (PVE::LXC::Config): description as
 * '#' lines, then "key: value" lines sorted by key. spec gives arch,
 * ostype, hostname, memory, swap, cores, cpulimit, cpuunits, onboot, net0
 * (when bridge is set), nameserver, searchdomain; the root volume is
 * "STORAGE:vm-VMID-disk-0,size=NG". malloc'd, NULL when out of memory. */
char *ovz_pct_conf_text(const struct ct_spec *spec, const char *description);

/* Pack root as a zstd tar into dir/name atomically (refusing an existing
 * name, -EEXIST, unless overwrite). With pct_conf, the archive starts with
 * ./etc/vzdump/pct.conf holding it (conf_dir: an empty scratch directory
 * to stage it in). 0 or a negative error (logged). */
int ovz_write_archive(const char *root, const char *dir, const char *name, bool overwrite,
		      const char *pct_conf, const char *conf_dir);

/* "vzdump-lxc-VMID-YYYY_MM_DD-HH_MM_SS.tar.zst" for now (local time, as
 * vzdump names them). */
void ovz_vzdump_name(unsigned vmid, char *buf, size_t size);

#endif
