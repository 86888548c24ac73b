/* The Proxmox backend: `pct create` with the argv decided from a ct_spec,
 * then the container fixups on the mounted rootfs, then `pct start`. */
#ifndef CTI_PVE_H
#define CTI_PVE_H

#include <stdbool.h>

#include "ct_spec.h"

/* Where Proxmox's cluster file system is mounted; $CTI_PVE_ETC overrides
 * it so the VMID checks can be tested without a cluster. */
const char *pve_etc_dir(void);

/* The ostemplate argument: "local:vztmpl/NAME" when the template lies in
 * Proxmox's default template cache, else its absolute path (pct accepts
 * absolute paths from root). malloc'd. */
char *pve_ostemplate(const struct ct_spec *spec);

/* The exact `pct create` argv for spec (vmid already chosen), NULL-terminated
 * and malloc'd (free with pve_argv_free); NULL when out of memory. */
char **pve_create_argv(const struct ct_spec *spec);
void pve_argv_free(char **argv);

/* The net0 property string for spec (bridge set): name, bridge, hwaddr,
 * ip/gw, ip6/gw6. malloc'd, NULL when out of memory. */
char *pve_net0_value(const struct ct_spec *spec);

/* Whether a guest with this VMID exists anywhere in the cluster. */
bool pve_vmid_exists(unsigned vmid);

/* The next free VMID: `pvesh get /cluster/nextid`, or, when allow_scan and
 * pvesh is absent (dry runs off Proxmox), the first ID from 100 that
 * pve_vmid_exists says is free. 0 or a negative error (logged). */
int pve_next_vmid(bool allow_scan, unsigned *vmid);

/* Run pct create, apply the fixups between pct mount and pct unmount, and
 * start the container when spec->start. 0 or a negative error (logged). */
int pve_create_ct(const struct ct_spec *spec);

#endif
