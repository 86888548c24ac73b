/* What create-vm needs to know about a disk image before defining a VM:
 * its format, whether the guest boots by UEFI (a GPT with an EFI system
 * partition, or an MBR partition of type 0xEF) and whether it is Windows
 * (the first partition that is not an ESP, MSR or BIOS boot partition holds
 * NTFS). qcow2 images are read through their own cluster mapping, so this
 * works on any image, whoever wrote it; nothing is written. */
#ifndef CTI_DISK_PROBE_H
#define CTI_DISK_PROBE_H

#include <stdbool.h>
#include <stdint.h>

struct disk_info {
	bool qcow2;          /* else raw */
	bool block_device;
	uint64_t size;       /* virtual size */
	bool partitioned;    /* an MBR or GPT was found */
	bool gpt;
	bool uefi;
	bool windows;
};

/* 0 or a negative error (logged). An image without a partition table is
 * not an error: it probes as BIOS, not Windows. */
int disk_probe(const char *path, struct disk_info *info);

#endif
