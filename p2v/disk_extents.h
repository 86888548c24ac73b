/* Which bytes of a disk matter: the disk as a list of regions (partitions
 * whose content we understand), everything else read as is. Pure logic, no
 * I/O, so it is unit-tested on synthetic maps. */
#ifndef P2V_DISK_EXTENTS_H
#define P2V_DISK_EXTENTS_H

#include <stddef.h>
#include <stdint.h>

/* Find the first run of used blocks [*first, *end) inside [from, to) (block
 * numbers relative to the region). Returns 1 when found, 0 when none. */
typedef int (*used_blocks_fn)(void *ctx, uint64_t from, uint64_t to, uint64_t *first,
			      uint64_t *end);

enum region_kind {
	REGION_BLOCKMAP,  /* a filesystem whose used blocks next_used reports */
	REGION_HEADER,    /* only the first header_len bytes matter (swap) */
};

struct disk_region {
	uint64_t start, len;     /* bytes on the disk */
	enum region_kind kind;
	uint64_t header_len;     /* REGION_HEADER */
	uint32_t block_size;     /* REGION_BLOCKMAP: blocks of the map ... */
	uint64_t nblocks;        /* ... covering the first nblocks; the rest is raw */
	used_blocks_fn next_used;
	void *ctx;
};

/* Regions sorted by start, not overlapping; bytes outside every region
 * (partition tables, boot loader gaps, unknown filesystems) all matter. */
struct disk_layout {
	uint64_t size;
	struct disk_region *regions;
	size_t n;
};

struct run {
	uint64_t off, len;
};

/* A bounded list of runs, in increasing order, adjacent ones merged. */
struct run_list {
	struct run *v;
	size_t n, cap;
};

/* Append [off, off+len), merging with the last run when they touch.
 * -ENOSPC when full. */
int run_list_add(struct run_list *l, uint64_t off, uint64_t len);

/* The runs of [off, off+len) (clipped to the disk) that matter. A window of
 * W bytes never yields more than W / (2 * smallest block size) + 2 runs. */
int layout_used_runs(const struct disk_layout *l, uint64_t off, uint64_t len,
		     struct run_list *out);

/* Spans to read for the runs: runs closer than max_gap bytes are read in one
 * span (reading a short gap beats a seek). */
int runs_merge(const struct run_list *in, uint64_t max_gap, struct run_list *out);

/* The non-zero parts of buf (which holds disk bytes from disk offset off),
 * at the granularity of grain-sized blocks aligned to disk offsets: a grain
 * that is all zeros is left out. */
int nonzero_runs(const uint8_t *buf, uint64_t off, size_t len, size_t grain,
		 struct run_list *out);

/* True when len bytes at p are all zero. */
int is_zero(const void *p, size_t len);

/* Validate a layout (sorted, inside the disk, sane block maps): 0 or -EINVAL. */
int layout_check(const struct disk_layout *l);

#endif
