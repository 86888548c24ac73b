/* BIOS RAID detection through libblkid, and the level/member parsers for
 * the two formats that keep them where we can read them (isw, DDF). The
 * layouts follow mdadm's super-intel.c and super-ddf.c. */
#include <blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakeraid.h"
#include "log.h"
#include "util.h"

const char *const fr_blkid_types[] = {
	"isw_raid_member", "ddf_raid_member", "nvidia_raid_member",
	"promise_fasttrack_raid_member", "silicon_medley_raid_member",
	"jmicron_raid_member", "via_raid_member", "lsi_mega_raid_member",
	"adaptec_raid_member", "hpt37x_raid_member", "hpt45x_raid_member", NULL,
};

/* dmraid's format names, in the order of fr_blkid_types. */
static const char *const formats[] = {
	"isw", "ddf", "nvidia", "promise", "silicon", "jmicron", "via", "lsi",
	"adaptec", "hpt37x", "hpt45x",
};

const char *fr_format_of_type(const char *type)
{
	for (size_t i = 0; type && fr_blkid_types[i]; i++)
		if (!strcmp(type, fr_blkid_types[i]))
			return formats[i];
	return NULL;
}

const char *fr_level_name(enum fr_level level)
{
	switch (level) {
	case FR_LEVEL_RAID0: return "raid0";
	case FR_LEVEL_RAID1: return "raid1";
	case FR_LEVEL_RAID10: return "raid10";
	case FR_LEVEL_RAID5: return "raid5";
	case FR_LEVEL_RAID6: return "raid6";
	case FR_LEVEL_OTHER: return "other";
	default: return "unknown";
	}
}

bool fr_level_is_mirror(enum fr_level level) { return level == FR_LEVEL_RAID1; }

bool fr_level_is_striped(enum fr_level level)
{
	return level != FR_LEVEL_UNKNOWN && level != FR_LEVEL_RAID1;
}

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16; }
static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static void copy_name(char *dst, size_t size, const uint8_t *src, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len && src[i] && n + 1 < size; i++)
		dst[n++] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	while (n && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

/* --- Intel Matrix (IMSM) ---------------------------------------------- */

#define ISW_SIG "Intel Raid ISM Cfg Sig. "
#define ISW_DISK_TABLE 0xD8     /* first imsm_disk */
#define ISW_DISK_SIZE 48
#define ISW_DEV_FIXED 112       /* imsm_dev up to its first map (80 + vol's 32) */
#define ISW_MAP_FIXED 48        /* imsm_map without disk_ord_tbl */

size_t fr_isw_mpb_size(const uint8_t *anchor, size_t len)
{
	if (len < 0x28 || memcmp(anchor, ISW_SIG, strlen(ISW_SIG)))
		return 0;
	return le32(anchor + 0x24);
}

static enum fr_level isw_level(unsigned raid_level, unsigned members)
{
	switch (raid_level) {
	case 0: return FR_LEVEL_RAID0;
	/* IMSM keeps RAID10 as level 1 with four members (mdadm does the same). */
	case 1: return members == 2 ? FR_LEVEL_RAID1 : FR_LEVEL_RAID10;
	case 5: return FR_LEVEL_RAID5;
	case 10: return FR_LEVEL_RAID10;
	default: return FR_LEVEL_OTHER;
	}
}

int fr_parse_isw(const uint8_t *mpb, size_t len, struct fr_volume *vols, size_t max)
{
	size_t size = fr_isw_mpb_size(mpb, len);
	if (size < ISW_DISK_TABLE || size > len || size % 4)
		return -EINVAL;
	uint32_t sum = 0;
	for (size_t i = 0; i < size; i += 4)
		sum += le32(mpb + i);
	uint32_t stored = le32(mpb + 0x20);
	if (sum - stored != stored)
		return -EINVAL;
	unsigned num_disks = mpb[0x38], num_devs = mpb[0x39];
	size_t off = ISW_DISK_TABLE + (size_t)num_disks * ISW_DISK_SIZE;
	int n = 0;
	for (unsigned d = 0; d < num_devs; d++) {
		if (off + ISW_DEV_FIXED + ISW_MAP_FIXED > size)
			return -EINVAL;
		const uint8_t *dev = mpb + off;
		const uint8_t *map = dev + ISW_DEV_FIXED;
		unsigned members = map[16];
		size_t dev_size = ISW_DEV_FIXED + ISW_MAP_FIXED + 4 * (size_t)members;
		if (dev[80 + 8] /* migr_state: a second map follows */) {
			if (off + dev_size + ISW_MAP_FIXED > size)
				return -EINVAL;
			dev_size += ISW_MAP_FIXED + 4 * (size_t)dev[dev_size + 16];
		}
		if (off + dev_size > size)
			return -EINVAL;
		if ((size_t)n < max) {
			copy_name(vols[n].name, sizeof(vols[n].name), dev, 16);
			vols[n].level = isw_level(map[15], members);
			vols[n].members = members;
			n++;
		}
		off += dev_size;
	}
	return n;
}

/* --- SNIA DDF ----------------------------------------------------------- */

#define DDF_MAGIC 0xDE11DE11u
#define DDF_VD_CONF_MAGIC 0xEEEEEEEEu

static uint32_t be32p(const uint8_t *p) { return get_be32(p); }

int fr_ddf_config_location(const uint8_t *hdr, uint64_t *offset, uint64_t *len)
{
	if (be32p(hdr) != DDF_MAGIC)
		return -EINVAL;
	uint64_t lba = get_be64(hdr + 96);
	uint64_t conf = be32p(hdr + 216), conf_len = be32p(hdr + 220);
	if (lba == UINT64_MAX || conf_len == 0 || conf_len > 65536)
		return -EINVAL;
	*offset = (lba + conf) * 512;
	*len = conf_len * 512;
	return 0;
}

static enum fr_level ddf_level(unsigned prl, unsigned sec_count, unsigned srl)
{
	switch (prl) {
	case 0x00: return FR_LEVEL_RAID0;
	case 0x01:
		if (sec_count <= 1)
			return FR_LEVEL_RAID1;
		/* mirrors striped or spanned together: mdadm's RAID10 */
		return srl == 0x00 || srl == 0x03 ? FR_LEVEL_RAID10 : FR_LEVEL_OTHER;
	case 0x05: return FR_LEVEL_RAID5;
	case 0x06: return FR_LEVEL_RAID6;
	default: return FR_LEVEL_OTHER;  /* RAID3/4, 1E, 5E, 5EE, JBOD, concat */
	}
}

int fr_parse_ddf_config(const uint8_t *hdr, const uint8_t *config, size_t config_len,
			struct fr_volume *vols, size_t max)
{
	if (be32p(hdr) != DDF_MAGIC)
		return -EINVAL;
	size_t rec = (size_t)be16(hdr + 134) * 512;   /* config_record_len */
	if (rec < 512)
		return -EINVAL;
	int n = 0;
	for (size_t off = 0; off + 512 <= config_len; off += rec) {
		const uint8_t *r = config + off;
		if (be32p(r) != DDF_VD_CONF_MAGIC)
			continue;       /* unused slot, spare or vendor record */
		/* A RAID10 keeps one record per mirror pair; count the set once. */
		if (r[70] /* sec_elmnt_seq */ != 0)
			continue;
		unsigned prim = be16(r + 64), sec = r[69];
		if ((size_t)n < max) {
			vols[n].name[0] = '\0';  /* the name is in another section */
			vols[n].level = ddf_level(r[67], sec, r[71]);
			vols[n].members = prim * (sec > 1 ? sec : 1);
			n++;
		}
	}
	return n;
}

/* --- probing ------------------------------------------------------------ */

static int pread_exact(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t r = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		done += (size_t)r;
	}
	return 0;
}

/* Volumes of an isw disk: the MPB ends at the second-last sector; a long
 * one continues in the sectors just before it. */
static void read_isw(int fd, uint64_t size, unsigned ssz, struct fr_probe *p)
{
	uint8_t anchor[4096];
	if (ssz > sizeof(anchor) || size < 2ull * ssz ||
	    pread_exact(fd, anchor, ssz, size - 2ull * ssz) < 0)
		return;
	size_t mpb_size = fr_isw_mpb_size(anchor, ssz);
	if (!mpb_size || mpb_size > 1024 * 1024)
		return;
	size_t sectors = (mpb_size + ssz - 1) / ssz;
	if ((uint64_t)(sectors + 1) * ssz > size)
		return;
	_cleanup_free_ uint8_t *mpb = malloc(sectors * ssz);
	if (!mpb)
		return;
	memcpy(mpb, anchor, ssz);
	if (sectors > 1 &&
	    pread_exact(fd, mpb + ssz, (sectors - 1) * ssz, size - (sectors + 1) * ssz) < 0)
		return;
	int n = fr_parse_isw(mpb, sectors * ssz, p->volumes, FR_MAX_VOLUMES);
	if (n < 0)
		log_warn("isw metadata: bad MPB (size or checksum); RAID level unknown");
	else
		p->n_volumes = (size_t)n;
}

static void read_ddf(int fd, uint64_t size, struct fr_probe *p)
{
	uint8_t hdr[512], primary[512];
	static const unsigned from_end[] = { 1, 257 };
	bool found = false;
	for (size_t i = 0; i < ARRAY_SIZE(from_end) && !found; i++)
		found = size >= from_end[i] * 512ull &&
			pread_exact(fd, hdr, sizeof(hdr), size - from_end[i] * 512ull) == 0 &&
			be32p(hdr) == DDF_MAGIC;
	if (!found)
		return;
	/* The sections hang off the primary header. */
	uint64_t lba = get_be64(hdr + 96);
	if (lba == UINT64_MAX || lba >= size / 512 ||
	    pread_exact(fd, primary, sizeof(primary), lba * 512) < 0 || be32p(primary) != DDF_MAGIC)
		memcpy(primary, hdr, sizeof(primary));
	uint64_t off, len;
	if (fr_ddf_config_location(primary, &off, &len) < 0 || off + len > size)
		return;
	_cleanup_free_ uint8_t *conf = malloc(len);
	if (!conf || pread_exact(fd, conf, len, off) < 0)
		return;
	int n = fr_parse_ddf_config(primary, conf, len, p->volumes, FR_MAX_VOLUMES);
	if (n > 0)
		p->n_volumes = (size_t)n;
}

static void copy_value(blkid_probe pr, const char *name, char *dst, size_t size)
{
	const char *v = NULL;
	size_t len = 0;
	if (blkid_probe_lookup_value(pr, name, &v, &len) == 0 && v)
		snprintf(dst, size, "%s", v);
}

int fr_probe_path(const char *path, struct fr_probe *out)
{
	memset(out, 0, sizeof(*out));
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		log_error("opening %s: %s", path, strerror(e));
		return -e;
	}
	blkid_probe pr = blkid_new_probe();
	if (!pr || blkid_probe_set_device(pr, fd, 0, 0) < 0) {
		log_error("%s: libblkid cannot probe it", path);
		if (pr)
			blkid_free_probe(pr);
		return -EIO;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE |
					  BLKID_SUBLKS_VERSION);
	blkid_probe_enable_partitions(pr, 1);
	int rc = blkid_do_safeprobe(pr);
	if (rc == -2)
		out->ambivalent = true;
	else if (rc < 0) {
		log_error("%s: libblkid probing failed", path);
		blkid_free_probe(pr);
		return -EIO;
	}
	if (rc == 0) {
		copy_value(pr, "TYPE", out->type, sizeof(out->type));
		copy_value(pr, "USAGE", out->usage, sizeof(out->usage));
		copy_value(pr, "VERSION", out->version, sizeof(out->version));
		copy_value(pr, "PTTYPE", out->pttype, sizeof(out->pttype));
	}
	uint64_t size = (uint64_t)blkid_probe_get_size(pr);
	unsigned ssz = blkid_probe_get_sectorsize(pr);
	blkid_free_probe(pr);

	out->format = !strcmp(out->usage, "raid") ? fr_format_of_type(out->type) : NULL;
	out->fakeraid = out->format != NULL;
	if (out->fakeraid && !strcmp(out->format, "isw"))
		read_isw(fd, size, ssz ? ssz : 512, out);
	else if (out->fakeraid && !strcmp(out->format, "ddf"))
		read_ddf(fd, size, out);
	return 0;
}
