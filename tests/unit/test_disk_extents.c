/* p2v disk's extent logic on synthetic maps: which bytes of a disk matter
 * (partition layout merged with used-block maps and swap headers), checked
 * byte by byte against a brute-force oracle; zero detection; read-span
 * merging; and the whole reader (chunking, zeroing of free blocks, the
 * hasher thread) on a memfd disk. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "disk_extents.h"
#include "disk_layout.h"
#include "disk_send.h"
#include "sha256.h"
#include "util.h"

/* A synthetic used-block bitmap. */
struct bitmap {
	const uint8_t *used;
	uint64_t n;
};

static int bitmap_next_used(void *ctx, uint64_t from, uint64_t to, uint64_t *first, uint64_t *end)
{
	const struct bitmap *b = ctx;
	uint64_t i = from;
	while (i < to && i < b->n && !b->used[i])
		i++;
	if (i >= to || i >= b->n)
		return 0;
	uint64_t j = i;
	while (j < b->n && b->used[j])
		j++;   /* may run past `to`, as libext2fs's search does */
	*first = i;
	*end = j;
	return 1;
}

/* The oracle: does byte x of the disk matter? */
static int matters(const struct disk_layout *l, uint64_t x)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct disk_region *r = &l->regions[i];
		if (x < r->start || x >= r->start + r->len)
			continue;
		uint64_t rel = x - r->start;
		if (r->kind == REGION_HEADER)
			return rel < r->header_len;
		uint64_t blk = rel / r->block_size;
		if (blk >= r->nblocks)
			return 1;
		return ((const struct bitmap *)r->ctx)->used[blk];
	}
	return 1;
}

static void check_window(const struct disk_layout *l, uint64_t off, uint64_t len)
{
	struct run v[4096];
	struct run_list runs = { v, 0, 4096 };
	assert_int_equal(layout_used_runs(l, off, len, &runs), 0);
	uint64_t end = off + len > l->size ? l->size : off + len;
	size_t k = 0;
	for (uint64_t x = off; x < end; x++) {
		while (k < runs.n && runs.v[k].off + runs.v[k].len <= x)
			k++;
		int in = k < runs.n && runs.v[k].off <= x;
		if (in != matters(l, x))
			fail_msg("byte %llu: runs say %d, oracle %d (window %llu+%llu)",
				 (unsigned long long)x, in, !in, (unsigned long long)off,
				 (unsigned long long)len);
	}
	/* Runs are ordered, inside the window, and never touch (merged). */
	for (size_t i = 0; i < runs.n; i++) {
		assert_true(runs.v[i].off >= off && runs.v[i].off + runs.v[i].len <= end);
		assert_true(runs.v[i].len > 0);
		if (i)
			assert_true(runs.v[i].off > runs.v[i - 1].off + runs.v[i - 1].len);
	}
}

static void test_layout_against_oracle(void **state)
{
	(void)state;
	uint8_t used1[300], used2[64];
	struct bitmap b1 = { used1, 200 }, b2 = { used2, 64 };
	struct disk_region regs[3] = {
		/* 1 KiB blocks; the map covers 200 blocks of a 250 KiB region. */
		{ .start = 3000, .len = 250 * 1024, .kind = REGION_BLOCKMAP, .block_size = 1024,
		  .nblocks = 200, .next_used = bitmap_next_used, .ctx = &b1 },
		/* Swap right after, header 4 KiB. */
		{ .start = 3000 + 250 * 1024, .len = 40000, .kind = REGION_HEADER, .header_len = 4096 },
		/* 4 KiB blocks, region starting off any block alignment. */
		{ .start = 300000, .len = 64 * 4096, .kind = REGION_BLOCKMAP, .block_size = 4096,
		  .nblocks = 64, .next_used = bitmap_next_used, .ctx = &b2 },
	};
	struct disk_layout l = { .size = 300000 + 64 * 4096 + 777, .regions = regs, .n = 3 };
	assert_int_equal(layout_check(&l), 0);
	srand(7);
	for (int round = 0; round < 20; round++) {
		for (size_t i = 0; i < sizeof(used1); i++)
			used1[i] = round == 0 ? 0 : round == 1 ? 1 : rand() % 3 == 0;
		for (size_t i = 0; i < sizeof(used2); i++)
			used2[i] = round == 0 ? 0 : round == 1 ? 1 : rand() % 2;
		check_window(&l, 0, l.size);
		for (int w = 0; w < 10; w++) {
			uint64_t off = (uint64_t)rand() % l.size, len = 1 + (uint64_t)rand() % 70000;
			check_window(&l, off, len);
		}
	}
}

static void test_layout_refusals(void **state)
{
	(void)state;
	struct disk_region regs[2] = {
		{ .start = 0, .len = 1000, .kind = REGION_HEADER, .header_len = 10 },
		{ .start = 999, .len = 10, .kind = REGION_HEADER, .header_len = 10 },
	};
	struct disk_layout l = { .size = 2000, .regions = regs, .n = 2 };
	assert_int_equal(layout_check(&l), -EINVAL);   /* overlap */
	regs[1].start = 1995;
	assert_int_equal(layout_check(&l), -EINVAL);   /* past the end */
	regs[1].start = 1000;
	assert_int_equal(layout_check(&l), 0);
	/* A full run list says so instead of dropping runs. */
	uint8_t used[16] = { 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0 };
	struct bitmap b = { used, 16 };
	struct disk_region r = { .start = 0, .len = 16 * 512, .kind = REGION_BLOCKMAP,
				 .block_size = 512, .nblocks = 16, .next_used = bitmap_next_used,
				 .ctx = &b };
	struct disk_layout l2 = { .size = 16 * 512, .regions = &r, .n = 1 };
	struct run v[4];
	struct run_list runs = { v, 0, 4 };
	assert_int_equal(layout_used_runs(&l2, 0, l2.size, &runs), -ENOSPC);
}

static int broken_next_used(void *ctx, uint64_t from, uint64_t to, uint64_t *first, uint64_t *end)
{
	(void)ctx;
	(void)to;
	*first = from;
	*end = from;   /* an empty run would loop forever */
	return 1;
}

static void test_broken_map(void **state)
{
	(void)state;
	struct disk_region r = { .start = 0, .len = 8192, .kind = REGION_BLOCKMAP,
				 .block_size = 1024, .nblocks = 8, .next_used = broken_next_used };
	struct disk_layout l = { .size = 8192, .regions = &r, .n = 1 };
	struct run v[8];
	struct run_list runs = { v, 0, 8 };
	assert_int_equal(layout_used_runs(&l, 0, 8192, &runs), -EINVAL);
}

static void test_runs_merge(void **state)
{
	(void)state;
	struct run in_v[] = { { 0, 10 }, { 20, 5 }, { 100, 1 }, { 102, 3 } };
	struct run_list in = { in_v, 4, 4 };
	struct run out_v[4];
	struct run_list out = { out_v, 0, 4 };
	assert_int_equal(runs_merge(&in, 10, &out), 0);
	assert_int_equal(out.n, 2);
	assert_true(out.v[0].off == 0 && out.v[0].len == 25);
	assert_true(out.v[1].off == 100 && out.v[1].len == 5);
	assert_int_equal(runs_merge(&in, 0, &out), 0);
	assert_int_equal(out.n, 4);
}

static void test_zero_detection(void **state)
{
	(void)state;
	uint8_t buf[64];
	for (size_t len = 0; len <= sizeof(buf); len++) {
		memset(buf, 0, sizeof(buf));
		assert_true(is_zero(buf, len));
		for (size_t i = 0; i < len; i++) {
			buf[i] = 0x80;
			assert_false(is_zero(buf, len));
			buf[i] = 0;
		}
	}
	/* Grains align to disk offsets: a buffer starting at disk offset 100
	 * with grain 64 splits at 128, 192, … */
	uint8_t data[300] = { 0 };
	data[27] = 1;    /* disk 127: grain [64,128) → buffer [0,28) */
	data[28] = 1;    /* disk 128: grain [128,192) */
	data[299] = 1;   /* disk 399: grain [384,400) cut by the end */
	struct run v[16];
	struct run_list nz = { v, 0, 16 };
	assert_int_equal(nonzero_runs(data, 100, sizeof(data), 64, &nz), 0);
	assert_int_equal(nz.n, 2);
	assert_true(nz.v[0].off == 100 && nz.v[0].len == 92);   /* [100,192) merged */
	assert_true(nz.v[1].off == 384 && nz.v[1].len == 16);
}

/* The reader end to end on a memfd "disk": what it emits, put back
 * together, is the disk with free blocks zeroed, and the digest is that
 * content's SHA-256. */
struct capture {
	uint8_t *img;
	uint64_t last_end;
	unsigned calls;
};

static int capture_emit(void *ctx, uint64_t off, const uint8_t *buf, size_t len)
{
	struct capture *c = ctx;
	assert_true(off >= c->last_end);                       /* in order */
	assert_true(len > 0 && len <= DISK_CHUNK);
	assert_true(off / DISK_CHUNK == (off + len - 1) / DISK_CHUNK);   /* one chunk */
	memcpy(c->img + off, buf, len);
	c->last_end = off + len;
	c->calls++;
	return 0;
}

static void test_reader(void **state)
{
	(void)state;
	const uint64_t size = 9 * DISK_WINDOW + 12345;
	int fd = memfd_create("disk", 0);
	assert_true(fd >= 0);
	uint8_t *src = malloc(size), *expect = calloc(1, size);
	struct capture c = { .img = calloc(1, size) };
	srand(11);
	for (uint64_t i = 0; i < size; i++)
		src[i] = (uint8_t)rand();
	/* A zero stretch over two windows, which must not be emitted. */
	memset(src + 2 * DISK_WINDOW - 5000, 0, DISK_WINDOW + 10000);
	assert_int_equal(write_full(fd, src, size), 0);
	/* A filesystem of 4 KiB blocks from 5 MiB to 30 MiB; every third block
	 * of it free, and a free 9 MiB stretch (never read at all). */
	const uint64_t fs_start = 5u << 20, nblocks = (25u << 20) / 4096;
	uint8_t *used = malloc(nblocks);
	for (uint64_t b = 0; b < nblocks; b++)
		used[b] = b % 3 != 0 && !(b >= 1000 && b < 1000 + (9u << 20) / 4096);
	struct bitmap bm = { used, nblocks };
	struct disk_region r = { .start = fs_start, .len = nblocks * 4096, .kind = REGION_BLOCKMAP,
				 .block_size = 4096, .nblocks = nblocks,
				 .next_used = bitmap_next_used, .ctx = &bm };
	struct disk_source s = { .fd = fd, .path = "memfd", .size = size,
				 .layout = { .size = size, .regions = &r, .n = 1 } };
	for (uint64_t i = 0; i < size; i++)
		expect[i] = matters(&s.layout, i) ? src[i] : 0;
	struct disk_send_stats st;
	assert_int_equal(disk_send(&s, capture_emit, &c, NULL, NULL, NULL, &st), 0);
	assert_memory_equal(c.img, expect, size);
	struct sha256 h;
	uint8_t d[SHA256_LEN];
	assert_int_equal(sha256_init(&h), 0);
	sha256_update(&h, expect, size);
	sha256_final(&h, d);
	assert_memory_equal(d, st.digest, SHA256_LEN);
	assert_true(st.size == size);
	/* The 9 MiB free stretch was not read; the zero stretch not emitted. */
	assert_true(st.read_bytes <= size - (8u << 20));
	uint64_t nonzero = 0;
	for (uint64_t g = 0; g < size; g += DISK_GRAIN) {
		size_t n = size - g < DISK_GRAIN ? (size_t)(size - g) : DISK_GRAIN;
		nonzero += is_zero(expect + g, n) ? 0 : n;
	}
	assert_true(st.data_bytes == nonzero);
	assert_true(nonzero < size - (9u << 20));
	/* Without the map: everything but zeros, byte-exact. */
	s.layout.n = 0;
	memset(c.img, 0, size);
	c.last_end = 0;
	assert_int_equal(disk_send(&s, capture_emit, &c, NULL, NULL, NULL, &st), 0);
	assert_memory_equal(c.img, src, size);
	assert_true(st.read_bytes == size);
	assert_true(st.data_bytes <= size - DISK_WINDOW);
	close(fd);
	free(src);
	free(expect);
	free(used);
	free(c.img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_against_oracle),
		cmocka_unit_test(test_layout_refusals),
		cmocka_unit_test(test_broken_map),
		cmocka_unit_test(test_runs_merge),
		cmocka_unit_test(test_zero_detection),
		cmocka_unit_test(test_reader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
