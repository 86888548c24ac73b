/* BIOS ("fake") RAID metadata on a disk: what libblkid sees, and for Intel
 * Matrix (isw/IMSM) and SNIA DDF the RAID level and member count, parsed
 * from the metadata's own bytes. Reads only; never writes a source disk. */
#ifndef P2V_FAKERAID_H
#define P2V_FAKERAID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RAID level as far as the metadata says. */
enum fr_level {
	FR_LEVEL_UNKNOWN = 0,   /* the format keeps it where we do not parse */
	FR_LEVEL_RAID0,
	FR_LEVEL_RAID1,
	FR_LEVEL_RAID10,
	FR_LEVEL_RAID5,
	FR_LEVEL_RAID6,
	FR_LEVEL_OTHER,         /* JBOD, concat, RAID3/4, 1E, 5E …: not a plain disk */
};

/* "raid1", "raid0" …, "unknown". */
const char *fr_level_name(enum fr_level level);
/* A single member of such a set is the whole data: only RAID1 (plain mirror). */
bool fr_level_is_mirror(enum fr_level level);
/* Striped or parity: one member alone is not a readable disk. */
bool fr_level_is_striped(enum fr_level level);

#define FR_MAX_VOLUMES 8

struct fr_volume {
	char name[33];          /* volume name from the metadata, may be empty */
	enum fr_level level;
	unsigned members;       /* 0 when unknown */
};

/* libblkid's verdict on one disk or image. */
struct fr_probe {
	char type[64];          /* blkid TYPE ("isw_raid_member", "ext4"), "" if none */
	char usage[32];         /* blkid USAGE ("raid", "filesystem" …) */
	char version[64];       /* blkid VERSION, if any */
	char pttype[32];        /* blkid PTTYPE ("gpt", "dos"), if any */
	bool ambivalent;        /* libblkid found several conflicting signatures */
	bool fakeraid;          /* TYPE is one of the eleven BIOS RAID member types */
	const char *format;     /* short format name ("isw", "ddf" …) when fakeraid */
	size_t n_volumes;       /* volumes the metadata describes (isw, ddf) */
	struct fr_volume volumes[FR_MAX_VOLUMES];
};

/* The eleven BIOS RAID member TYPEs libblkid knows, NULL-terminated. */
extern const char *const fr_blkid_types[];
/* Short name ("isw") for a blkid TYPE ("isw_raid_member"), or NULL if the
 * TYPE is not a BIOS RAID member (linux_raid_member is md's own format). */
const char *fr_format_of_type(const char *type);

/* Probe `path` (a block device or an image file) with libblkid's superblock
 * and partition probers, opened O_RDONLY. 0 or -errno (logged). */
int fr_probe_path(const char *path, struct fr_probe *out);

/* Parsers of the metadata bytes, pure so they are unit-tested.
 *
 * isw: `mpb` is the whole MPB (its first sector is the disk's second-last
 * sector; longer MPBs continue in the sectors before it), `len` bytes of it.
 * Returns the number of volumes filled in (>= 0) or -EINVAL when the
 * signature, size or checksum is wrong. */
int fr_parse_isw(const uint8_t *mpb, size_t len, struct fr_volume *vols, size_t max);
/* How many bytes of MPB the anchor sector announces (mpb_size), or 0. */
size_t fr_isw_mpb_size(const uint8_t *anchor, size_t len);

/* ddf: `hdr` is a 512-byte DDF header (anchor or primary); `config` the
 * configuration section it points to (config_section_length sectors from
 * primary_lba + config_section_offset). Same returns as fr_parse_isw. */
int fr_parse_ddf_config(const uint8_t *hdr, const uint8_t *config, size_t config_len,
			struct fr_volume *vols, size_t max);
/* Where the DDF configuration section lies, from a header: byte offset and
 * length on the disk. -EINVAL if the header is not DDF. */
int fr_ddf_config_location(const uint8_t *hdr, uint64_t *offset, uint64_t *len);

#endif
