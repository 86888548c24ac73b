/* The Proxmox VM backend: `qm create` with the disks imported from the
 * received images (import-from, PVE >= 7.2). */
#ifndef CTI_QM_H
#define CTI_QM_H

#include "vm_spec.h"

/* The exact argv, NULL-terminated and malloc'd (free with pve_argv_free):
 *   qm create VMID --name N --memory MB --cores C [--net0 MODEL,bridge=BR]
 *     --scsihw virtio-scsi-single --scsi0 STORAGE:0,import-from=/abs/disk …
 *     --boot order=scsi0 --ostype l26 [--bios ovmf --efidisk0 STORAGE:1,…]
 * A Windows guest gets its disks on sata0… (boot order=sata0), ostype win10
 * and an e1000 NIC. NULL when out of memory. */
char **qm_create_argv(const struct vm_spec *spec);

/* Run it; 0 or a negative error (logged). */
int qm_create_vm(const struct vm_spec *spec);

#endif
