/* p2v inventory: what the machine holds before p2v reads a single block —
 * disks (sysfs), partition tables (libparted, opened read-only), every
 * signature libblkid sees, LVM PVs, device-mapper and md devices, the Linux
 * systems installed, CPUs, memory and NICs. doc/inventory.md is the JSON
 * schema. Nothing here writes to a disk. */
#ifndef P2V_INVENTORY_H
#define P2V_INVENTORY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "netconfig.h"
#include "source.h"

/* libblkid's verdict on a disk or partition (strings NULL when absent). */
struct inv_blkid {
	char *type, *uuid, *label, *usage, *pttype, *version;
	bool ambivalent;   /* several signatures: libblkid refused to choose */
	bool probed;       /* false when the device could not be read */
};

/* Whether libblkid saw RAID member metadata (BIOS RAID or md). */
bool inv_blkid_is_raid_member(const struct inv_blkid *b);

/* A Linux root (or other filesystem) found on a device, mounted read-only. */
struct inv_os {
	char *disk;          /* the whole disk it is on */
	int partition;       /* partition number, 0 for the whole disk */
	char *fstype;
	char *id, *version_id, *pretty_name, *ostype, *arch, *hostname;
	struct fstab_entry *fstab;
	size_t n_fstab;
	struct net_config net;
	uint64_t used_bytes, total_bytes;
};

struct inv_partition {
	int number;
	char *path;          /* the kernel's node (/dev/sda1), NULL if the kernel has none */
	uint64_t start, end, size;  /* bytes; end is the last byte, inclusive */
	char *type;          /* primary, logical, extended */
	char *fs;            /* libparted's filesystem guess */
	char *name;          /* GPT partition name */
	char **flags;        /* NULL-terminated */
	struct inv_blkid blkid;
};

struct inv_disk {
	char *name, *path;   /* sda, /dev/sda */
	char *model, *serial, *transport, *backing_file;
	uint64_t size;       /* bytes */
	unsigned logical_sector, physical_sector;
	bool rotational, removable, boot_medium, read_only;
	char *ptable;        /* libparted's label type (msdos, gpt …), NULL if none */
	char *ptable_error;  /* why libparted could not read it */
	struct inv_partition *parts;
	size_t n_parts;
	struct inv_blkid blkid;
};

struct inv_md {
	char *name, *level, *metadata_version, *array_state;
	uint64_t size;
	char **members;      /* NULL-terminated kernel names */
};

struct inv_dm_target { char *type; uint64_t start, length; };
struct inv_dm {
	char *name, *uuid;
	struct inv_dm_target *targets;
	size_t n_targets;
};

struct inv_nic {
	char *name, *mac, *driver, *operstate;
	int carrier;         /* 1, 0, or -1 when unknown (interface down) */
	long speed_mbps;     /* -1 when unknown */
	bool is_virtual;
	char **addrs;        /* "ADDR/PREFIX", NULL-terminated */
};

struct inventory {
	unsigned cpus;
	char *cpu_model;
	uint64_t mem_bytes;
	struct inv_disk *disks;
	size_t n_disks;
	struct inv_md *mds;
	size_t n_mds;
	struct inv_dm *dms;
	size_t n_dms;
	bool dm_available;
	struct inv_os *oses;
	size_t n_oses;
	struct inv_nic *nics;
	size_t n_nics;
};

struct inventory_opts {
	const char *sysfs;        /* default "/sys" */
	const char *proc;         /* default "/proc" */
	const char *const *disks; /* only these (paths or names); NULL = all */
	size_t n_disks;
	bool no_probe;            /* sysfs only: no libparted, libblkid, mounts (unit tests) */
};

int inventory_collect(const struct inventory_opts *o, struct inventory *inv);
void inventory_free(struct inventory *inv);

/* ---- pieces, exposed for unit tests ------------------------------------ */

/* Transport from a disk's resolved sysfs device path: nvme, usb, sata,
 * mmc, scsi, virtio, virtual, or NULL. */
const char *inv_transport_from_path(const char *devpath);
/* /proc/cpuinfo text: logical CPU count and model; 0 or -ENOMEM. */
int inv_parse_cpuinfo(const char *text, unsigned *count, char **model);
/* /proc/meminfo MemTotal in bytes; 0 or -ENOENT. */
int inv_parse_meminfo(const char *text, uint64_t *bytes);
/* One line of /proc/self/mountinfo: the device number and mount point. */
int inv_parse_mountinfo_line(const char *line, unsigned *major, unsigned *minor,
			     char *mnt, size_t mnt_size);

/* Disks, md arrays and NICs from sysfs (inventory_disks.c, inventory_hw.c). */
int inv_collect_disks(const struct inventory_opts *o, struct inventory *inv);
int inv_collect_md(const char *sysfs, struct inventory *inv);
int inv_collect_nics(const char *sysfs, struct inventory *inv);
int inv_collect_cpu_mem(const char *proc, struct inventory *inv);
/* Mark the disks the running system booted from (see doc/inventory.md). */
void inv_mark_boot_medium(const char *sysfs, const char *proc, struct inventory *inv);
/* Partition tables and libblkid verdicts (inventory_parts.c). */
int inv_probe_disk(struct inv_disk *d);
/* device-mapper devices through libdevmapper (inventory_dm.c). */
int inv_collect_dm(struct inventory *inv);
/* Mount every Linux filesystem candidate read-only and read what it holds
 * (inventory_os.c). */
int inv_probe_oses(struct inventory *inv);
/* Read os-release, /bin/sh, hostname, fstab and network from a root
 * directory fd (also used for the stream header). 0 and os filled when it
 * looks like a Linux root, -ENOENT when not. */
int inv_read_os(int rootfd, struct inv_os *os);
void inv_os_free(struct inv_os *os);
void inv_blkid_free(struct inv_blkid *b);

/* Output (inventory_json.c, inventory_human.c). */
json_t *inventory_to_json(const struct inventory *inv);
json_t *inv_os_to_json(const struct inv_os *os);
json_t *inv_dm_to_json(const struct inv_dm *dm);
void inventory_print_human(FILE *f, const struct inventory *inv);

/* The machine-level part for a stream header: cpus, memory, nics and, for
 * p2v ct, the OS in the archived root directory (root NULL: none). NULL on
 * failure (logged). */
json_t *inventory_hello_json(const char *root);

#endif
