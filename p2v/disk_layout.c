#include "disk_layout.h"

#include <blkid/blkid.h>
#include <errno.h>
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define ESP_GUID "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"

/* libext2fs's own messages live in libcom_err, which we do not link. */
static const char *ext_error(errcode_t err, char *buf, size_t cap)
{
	if (err > 0 && err < 4096)
		return strerror((int)err);
	snprintf(buf, cap, "libext2fs error %ld", (long)err);
	return buf;
}

static int ext_next_used(void *ctx, uint64_t from, uint64_t to, uint64_t *first, uint64_t *end)
{
	ext2_filsys fs = ctx;
	uint64_t fdb = fs->super->s_first_data_block;
	blk64_t s, e;
	/* Blocks before the first data block (the 1 KiB boot block of a
	 * 1 KiB-block filesystem) are outside the bitmap; they may hold a
	 * boot loader, so they are always sent. */
	if (from < fdb) {
		*first = from;
		*end = fdb < to ? fdb : to;
		return 1;
	}
	if (ext2fs_find_first_set_block_bitmap2(fs->block_map, from, to - 1, &s))
		return 0;
	if (ext2fs_find_first_zero_block_bitmap2(fs->block_map, s, to - 1, &e))
		e = to;
	*first = s;
	*end = e;
	return 1;
}

/* The used-block map of the ext2/3/4 filesystem at [off, off+len), or a
 * logged reason why it is read whole. */
static int open_ext(struct disk_source *s, uint64_t off, uint64_t len, struct disk_region *r)
{
	char opts[64];
	ext2_filsys fs = NULL;
	char msg[64];
	snprintf(opts, sizeof(opts), "offset=%llu", (unsigned long long)off);
	/* Without EXT2_FLAG_RW, unix_io opens the device O_RDONLY. */
	errcode_t err = ext2fs_open2(s->path, opts, EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs);
	if (err) {
		log_warn("%s: ext filesystem at offset %llu: %s; reading it whole", s->path,
			 (unsigned long long)off, ext_error(err, msg, sizeof(msg)));
		return -EIO;
	}
	uint64_t bs = fs->blocksize, nblocks = ext2fs_blocks_count(fs->super);
	const char *why = NULL;
	/* Blocks a journal replay would allocate are free in the bitmaps. */
	if (ext2fs_has_feature_journal_needs_recovery(fs->super))
		why = "its journal needs recovery";
	else if (!(fs->super->s_state & EXT2_VALID_FS) || (fs->super->s_state & EXT2_ERROR_FS))
		why = "it was not cleanly unmounted or has errors";
	else if (nblocks > len / bs)
		why = "it is larger than its partition";
	if (!why) {
		/* A bit array stays small up to ~1 TiB; past that the default
		 * extent tree is smaller for all but pathological layouts. */
		if (nblocks / 8 <= (32u << 20))
			fs->default_bitmap_type = EXT2FS_BMAP64_BITARRAY;
		if ((err = ext2fs_read_block_bitmap(fs)))
			why = ext_error(err, msg, sizeof(msg));
	}
	if (why) {
		log_warn("%s: ext filesystem at offset %llu: %s; reading it whole", s->path,
			 (unsigned long long)off, why);
		ext2fs_close_free(&fs);
		return -EIO;
	}
	uint64_t free_blocks = ext2fs_free_blocks_count(fs->super);
	log_info("%s: ext filesystem at offset %llu: %llu of %llu blocks of %llu bytes in use",
		 s->path, (unsigned long long)off, (unsigned long long)(nblocks - free_blocks),
		 (unsigned long long)nblocks, (unsigned long long)bs);
	*r = (struct disk_region){ .start = off, .len = len, .kind = REGION_BLOCKMAP,
				   .block_size = (uint32_t)bs, .nblocks = nblocks,
				   .next_used = ext_next_used, .ctx = fs };
	s->fs[s->nfs++] = fs;
	s->skipped += free_blocks * bs;
	return 0;
}

/* Probe the filesystem type at [off, off+len) into type ("" if none). */
static void probe_type(int fd, uint64_t off, uint64_t len, char *type, size_t cap)
{
	type[0] = '\0';
	blkid_probe pr = blkid_new_probe();
	if (!pr)
		return;
	const char *v;
	if (blkid_probe_set_device(pr, fd, (blkid_loff_t)off, (blkid_loff_t)len) == 0) {
		blkid_probe_enable_superblocks(pr, 1);
		blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
		blkid_probe_enable_partitions(pr, 0);
		if (blkid_do_safeprobe(pr) == 0 && blkid_probe_lookup_value(pr, "TYPE", &v, NULL) == 0)
			snprintf(type, cap, "%s", v);
	}
	blkid_free_probe(pr);
}

static int add_region(struct disk_source *s, uint64_t off, uint64_t len)
{
	char type[32];
	probe_type(s->fd, off, len, type, sizeof(type));
	struct disk_region r;
	log_debug("%s: %s at %llu, %llu bytes", s->path, type[0] ? type : "unknown content",
		  (unsigned long long)off, (unsigned long long)len);
	if (!strcmp(type, "ext2") || !strcmp(type, "ext3") || !strcmp(type, "ext4")) {
		if (s->nfs == DISK_MAX_PARTS || open_ext(s, off, len, &r) < 0)
			return 0;
	} else if (!strcmp(type, "swap")) {
		/* The header page holds the signature, label and UUID; the rest
		 * is scratch. (A hibernation image probes as "swsuspend" and is
		 * sent whole.) */
		long page = sysconf(_SC_PAGESIZE);
		r = (struct disk_region){ .start = off, .len = len, .kind = REGION_HEADER,
					  .header_len = page > 0 ? (uint64_t)page : 4096 };
		s->skipped += len - (r.header_len < len ? r.header_len : len);
		log_info("%s: swap at offset %llu: sending its header only", s->path,
			 (unsigned long long)off);
	} else {
		return 0;
	}
	s->layout.regions[s->layout.n++] = r;
	return 0;
}

static int cmp_region(const void *a, const void *b)
{
	const struct disk_region *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int map_partitions(struct disk_source *s)
{
	blkid_probe pr = blkid_new_probe();
	if (!pr)
		return -ENOMEM;
	int rc = 0;
	if (blkid_probe_set_device(pr, s->fd, 0, (blkid_loff_t)s->size) < 0) {
		log_error("%s: cannot probe the partition table", s->path);
		rc = -EIO;
		goto out;
	}
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
	blkid_partlist ls = blkid_probe_get_partitions(pr);
	if (!ls) {
		/* No partition table: maybe a filesystem on the whole disk. */
		rc = add_region(s, 0, s->size);
		goto out;
	}
	blkid_parttable tab = blkid_partlist_get_table(ls);
	const char *pt = tab ? blkid_parttable_get_type(tab) : NULL;
	snprintf(s->pttype, sizeof(s->pttype), "%s", pt ? pt : "");
	int n = blkid_partlist_numof_partitions(ls);
	for (int i = 0; i < n && rc == 0; i++) {
		blkid_partition p = blkid_partlist_get_partition(ls, i);
		/* An extended partition only contains the logical ones (listed
		 * on their own); its link sectors are read as raw gaps. */
		if (!p || blkid_partition_is_extended(p))
			continue;
		const char *ptype = blkid_partition_get_type_string(p);
		if (ptype && !strcasecmp(ptype, ESP_GUID))
			s->efi = true;
		uint64_t off = (uint64_t)blkid_partition_get_start(p) * 512;
		uint64_t len = (uint64_t)blkid_partition_get_size(p) * 512;
		if (off >= s->size || len == 0)
			continue;
		if (len > s->size - off)
			len = s->size - off;
		if (s->layout.n == DISK_MAX_PARTS)
			break;
		rc = add_region(s, off, len);
	}
	qsort(s->layout.regions, s->layout.n, sizeof(*s->layout.regions), cmp_region);
	/* Overlapping partitions (a broken table) make us trust none of them. */
	if (layout_check(&s->layout) < 0) {
		log_warn("%s: partitions overlap; reading the whole disk", s->path);
		s->layout.n = 0;
		s->skipped = 0;
	}
out:
	blkid_free_probe(pr);
	return rc;
}

int disk_source_open(const char *path, bool skip_free, struct disk_source *s)
{
	*s = (struct disk_source){ .fd = -1 };
	s->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (s->fd < 0) {
		log_error("cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	struct stat st;
	int rc = 0;
	if (fstat(s->fd, &st) < 0) {
		rc = -errno;
		log_error("%s: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(s->fd, BLKGETSIZE64, &s->size) < 0) {
			rc = -errno;
			log_error("%s: cannot get its size: %s", path, strerror(errno));
			goto fail;
		}
	} else if (S_ISREG(st.st_mode)) {
		s->size = (uint64_t)st.st_size;
	} else {
		log_error("%s is neither a block device nor a disk image file", path);
		rc = -EINVAL;
		goto fail;
	}
	s->path = strdup(path);
	s->layout.size = s->size;
	s->layout.regions = calloc(DISK_MAX_PARTS, sizeof(*s->layout.regions));
	if (!s->path || !s->layout.regions) {
		rc = -ENOMEM;
		goto fail;
	}
	if (skip_free && (rc = map_partitions(s)) < 0)
		goto fail;
	posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return 0;
fail:
	disk_source_close(s);
	return rc;
}

void disk_source_close(struct disk_source *s)
{
	for (unsigned i = 0; i < s->nfs; i++) {
		ext2_filsys fs = s->fs[i];
		ext2fs_close_free(&fs);
	}
	s->nfs = 0;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->layout.regions);
	s->layout.regions = NULL;
	bad_list_free(&s->unreadable);
	free(s->path);
	s->path = NULL;
}
