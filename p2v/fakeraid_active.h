/* Fake-RAID sets the rescue system has already assembled: dmraid's
 * device-mapper maps and mdadm's external-metadata (imsm/ddf) containers
 * with their member arrays.
 *
 * For the teardown (`p2v fakeraid --deactivate`, p2v/dmraid_teardown.c):
 * fr_active_scan() fills struct fr_active with every such map and array.
 * Each fr_dm_map carries its dev_t and the dev_ts it sits on (deps), so the
 * removal order is "maps nobody else depends on first" (partitions before
 * sets); fr_md_array says which arrays are containers and which container a
 * member array belongs to (stop members before their container). */
#ifndef P2V_FAKERAID_ACTIVE_H
#define P2V_FAKERAID_ACTIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FR_DM_MAX_TARGETS 8
#define FR_DM_MAX_DEPS 16

struct fr_dm_map {
	char name[128];
	char uuid[160];                 /* "" when the map has none */
	dev_t dev;                      /* 0 when parsed from text */
	size_t n_targets;
	char targets[FR_DM_MAX_TARGETS][16];  /* "mirror", "striped", "linear" … */
	size_t n_deps;
	dev_t deps[FR_DM_MAX_DEPS];     /* devices the map's table uses */
};

enum fr_md_kind {
	FR_MD_NATIVE,           /* md's own superblock (0.90, 1.x) or none */
	FR_MD_CONTAINER,        /* external:imsm / external:ddf */
	FR_MD_MEMBER,           /* external:/md127/0 — an array inside a container */
	FR_MD_OTHER_EXTERNAL,   /* external metadata of another kind */
};

struct fr_md_array {
	char name[32];          /* "md127" */
	enum fr_md_kind kind;
	char format[16];        /* "imsm" / "ddf" for a container */
	char container[32];     /* a member's container ("md127") */
	char subarray[16];      /* a member's index in it ("0") */
};

struct fr_active {
	struct fr_dm_map *dm;
	size_t n_dm;
	struct fr_md_array *md;
	size_t n_md;
};

/* dmraid's set naming: isw_, pdc_, nvidia_, sil_, via_, jmicron_, asr_,
 * ddf1_, hpt37x_, hpt45x_, lsi_ followed by the set's id. */
bool fr_dm_name_is_dmraid(const char *name);
/* dm UUID "DMRAID-<name>" (or a kpartx partition of one, "partN-DMRAID-…"). */
bool fr_dm_uuid_is_dmraid(const char *uuid);
/* A dmraid map by uuid, or by name when it has no uuid. */
bool fr_dm_map_is_dmraid(const struct fr_dm_map *m);

/* Parse `dmsetup table` output of all devices ("NAME: START LEN TARGET
 * ARGS…", one line per target) into maps (without uuid or deps). Returns
 * the number of maps in *out (caller frees) or -EINVAL for a malformed line. */
int fr_dm_parse_table(const char *text, struct fr_dm_map **out);

/* Classify a sysfs md/metadata_version string ("external:imsm\n",
 * "external:/md127/0", "external:-md127/1", "1.2", "none") into *a (name
 * untouched). 0, or -EINVAL for an empty string. */
int fr_md_parse_metadata_version(const char *text, struct fr_md_array *a);
/* Whether an md array is part of BIOS RAID handling (container or member). */
bool fr_md_is_fakeraid(const struct fr_md_array *a);

/* Scan libdevmapper (when the kernel has device-mapper) for dmraid maps and
 * `sysfs`/block/md* for imsm/ddf containers and their members; sysfs is
 * "/sys" normally, a directory tree in tests. Fills *out with the fake-RAID
 * ones only. 0 or -errno. */
int fr_active_scan(const char *sysfs, struct fr_active *out);
void fr_active_free(struct fr_active *a);

/* Whether the block device `name` (as in /sys/class/block/NAME) is an
 * assembled fake-RAID set or a partition of one: dm uuid DMRAID-… or an md
 * array inside an imsm/ddf container. */
bool fr_block_is_assembled(const char *sysfs, const char *name);

#endif
