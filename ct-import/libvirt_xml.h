/* The embedded backend, without Proxmox: a libvirt domain XML and a run.sh
 * with the equivalent QEMU command line (q35; disks on virtio-scsi, or on
 * SATA for Windows; OVMF when the guest boots by UEFI; a NIC on the bridge). */
#ifndef CTI_LIBVIRT_XML_H
#define CTI_LIBVIRT_XML_H

#include "vm_spec.h"

/* The domain XML (malloc'd; NULL when out of memory). */
char *libvirt_domain_xml(const struct vm_spec *spec);

/* A POSIX sh script that runs the VM with QEMU (malloc'd). Environment:
 * P2V_QEMU_ACCEL (kvm; tcg for software emulation), P2V_QEMU_NET (bridge,
 * user or none), P2V_QEMU_DISPLAY (default -nographic: the serial console on
 * the terminal); its arguments are passed on to QEMU. vars_path is where a
 * UEFI guest's EFI variables live (copied from OVMF's template at first run). */
char *qemu_run_script(const struct vm_spec *spec, const char *vars_path);

#endif
