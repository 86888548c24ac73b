/* A VM to define from received disk images: what create-vm decided, handed
 * to the Proxmox (qm.h) or libvirt/QEMU (libvirt_xml.h) backend. */
#ifndef CTI_VM_SPEC_H
#define CTI_VM_SPEC_H

#include <stdbool.h>
#include <stddef.h>

struct vm_disk {
	const char *path;     /* absolute; no ',' (QEMU and Proxmox option syntax) */
	bool qcow2;           /* else raw */
	bool block_device;
};

struct vm_spec {
	unsigned vmid;        /* Proxmox only */
	const char *name;     /* a DNS name (Proxmox's format for it) */
	unsigned memory_mb;
	unsigned cores;
	const char *bridge;   /* NULL: no network interface */
	const char *storage;  /* Proxmox storage the disks are imported into */
	const struct vm_disk *disks;  /* the first one boots */
	size_t ndisks;
	bool uefi;            /* boots by UEFI: OVMF and an EFI vars disk */
	bool windows;         /* disks on SATA, e1000 NIC: no virtio drivers yet */
};

/* Windows guests keep at most this many disks on SATA (Proxmox's limit);
 * further disks go on SCSI. */
#define VM_MAX_SATA 6

#endif
