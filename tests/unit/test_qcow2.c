/* The qcow2 writer: entry bit layouts, header fields, refusals, and images
 * read back by a small independent reader (tests/tools/qcow2_read.c) that
 * follows L1/L2, inflates compressed clusters and recounts every host
 * cluster's references. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "qcow2.h"
#include "util.h"
#include "../tools/qcow2_read.h"

#define CS QCOW2_CLUSTER_SIZE

static int tmpfd(void)
{
	int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	assert_true(fd >= 0);
	return fd;
}

static uint8_t *read_at(int fd, uint64_t off, size_t len)
{
	uint8_t *p = calloc(1, len);
	assert_non_null(p);
	assert_true(pread(fd, p, len, (off_t)off) >= 0);
	return p;
}

static void test_l2_entry_layout(void **state)
{
	(void)state;
	assert_true(qcow2_l2_entry(0x50000) == 0x8000000000050000ull);
	assert_true(qcow2_l2_entry(0x123450000ull) == (0x123450000ull | 1ull << 63));
}

static void test_compressed_entry_layout(void **state)
{
	(void)state;
	/* Inside one sector: no extra sectors, bit 62 set, bit 63 clear. */
	assert_true(qcow2_compressed_entry(0x12345, 100) == (1ull << 62 | 0x12345));
	/* Two bytes straddling a sector boundary: one extra sector (bit 54). */
	assert_true(qcow2_compressed_entry(0x101ff, 2) == (1ull << 62 | 1ull << 54 | 0x101ff));
	/* 127 sectors from an aligned start: 126 extra, in bits 54..61. */
	assert_true(qcow2_compressed_entry(0x10000, 127 * 512) ==
		    (1ull << 62 | 126ull << 54 | 0x10000));
	/* A large host offset keeps all 54 bits. */
	uint64_t off = (1ull << 53) + 777;
	assert_true((qcow2_compressed_entry(off, 1) & ((1ull << 54) - 1)) == off);
}

/* Guest content: a deterministic mix of compressible text, noise and
 * zeros, written at odd offsets and sizes across three L2 spans. */
struct piece { uint64_t off; size_t len; int kind; };
static const struct piece pieces[] = {
	{ 0, 1, 1 },                        /* a lone byte in cluster 0 */
	{ 100, 3 * CS + 17, 0 },            /* unaligned start, spans clusters */
	{ 5 * CS, CS, 2 },                  /* one aligned whole cluster */
	{ 9 * CS - 10, 20, 1 },             /* straddles a cluster boundary */
	{ (512ull << 20) - 3000, 9000, 0 }, /* straddles the first L2 span */
	{ (1536ull << 20) + 4096, 2 * CS, 1 },
	{ (1536ull << 20) + 40 * CS, 4 * CS, 2 },
};
#define VSIZE ((2048ull << 20) - 512)

static uint8_t content(uint64_t pos, int kind)
{
	if (kind == 0)
		return (uint8_t)("some compressible text, over and over\n"[pos % 38]);
	if (kind == 1)
		return (uint8_t)((pos * 2654435761u) >> 13);
	return (uint8_t)(pos % 3 ? 0 : pos >> 7);
}

static uint8_t expected(uint64_t pos)
{
	for (size_t i = 0; i < ARRAY_SIZE(pieces); i++)
		if (pos >= pieces[i].off && pos < pieces[i].off + pieces[i].len)
			return content(pos, pieces[i].kind);
	return 0;
}

static int write_image(int fd, enum qcow2_compression comp, struct qcow2_stats *st)
{
	struct qcow2_opts o = { comp, 0 };
	struct qcow2_writer *w;
	assert_int_equal(qcow2_writer_open(fd, VSIZE, &o, &w), 0);
	for (size_t i = 0; i < ARRAY_SIZE(pieces); i++) {
		uint8_t *b = malloc(pieces[i].len);
		for (size_t j = 0; j < pieces[i].len; j++)
			b[j] = content(pieces[i].off + j, pieces[i].kind);
		/* In two writes, so a write also begins mid-piece. */
		size_t half = pieces[i].len / 2;
		assert_int_equal(qcow2_writer_write(w, pieces[i].off, b, half), 0);
		assert_int_equal(qcow2_writer_write(w, pieces[i].off + half, b + half,
						    pieces[i].len - half), 0);
		free(b);
	}
	/* Before finish the file is no qcow2: cluster 0 is still a hole. */
	uint8_t magic[4] = { 0 };
	assert_true(pread(fd, magic, 4, 0) >= 0);
	assert_memory_not_equal(magic, "QFI\xfb", 4);
	assert_int_equal(qcow2_writer_finish(w), 0);
	qcow2_writer_stats(w, st);
	qcow2_writer_free(w);
	return 0;
}

static void check_header(const uint8_t *h, enum qcow2_compression comp)
{
	assert_int_equal(get_be32(h), 0x514649fb);
	assert_int_equal(get_be32(h + 4), 3);
	assert_true(get_be64(h + 8) == 0);             /* no backing file */
	assert_int_equal(get_be32(h + 20), 16);        /* 64 KiB clusters */
	assert_true(get_be64(h + 24) == VSIZE);
	assert_int_equal(get_be32(h + 32), 0);         /* no encryption */
	assert_int_equal(get_be32(h + 36), 4);         /* 4 × 512 MiB */
	assert_true(get_be64(h + 40) % CS == 0);
	assert_true(get_be64(h + 48) % CS == 0);
	assert_int_equal(get_be32(h + 56), 1);
	assert_int_equal(get_be32(h + 60), 0);         /* no snapshots */
	bool zstd = comp == QCOW2_COMPRESS_ZSTD;
	assert_true(get_be64(h + 72) == (zstd ? 8u : 0u));
	assert_true(get_be64(h + 80) == 0 && get_be64(h + 88) == 0);
	assert_int_equal(get_be32(h + 96), 4);         /* 16-bit refcounts */
	assert_int_equal(get_be32(h + 100), 112);
	assert_int_equal(h[104], zstd ? 1 : 0);
	for (int i = 105; i < 120; i++)                /* padding, end of extensions */
		assert_int_equal(h[i], 0);
}

/* Each guest cluster as the reader sees it against the pieces written. */
static int check_cluster(void *ctx, uint64_t g, const uint8_t *c)
{
	(void)ctx;
	uint64_t base = g * CS;
	bool touched = false;
	for (size_t i = 0; i < ARRAY_SIZE(pieces); i++)
		touched |= pieces[i].off < base + CS && pieces[i].off + pieces[i].len > base;
	if (!touched) {         /* most of the disk: must read as zeros */
		if (c && !(c[0] == 0 && memcmp(c, c + 1, CS - 1) == 0))
			fail_msg("untouched cluster %llu is not zeros", (unsigned long long)g);
		return 0;
	}
	for (size_t j = 0; j < CS && base + j < VSIZE; j++) {
		uint8_t got = c ? c[j] : 0;
		if (got != expected(base + j))
			fail_msg("byte %llu: %u != %u", (unsigned long long)(base + j),
				 got, expected(base + j));
	}
	return 0;
}

static void roundtrip(enum qcow2_compression comp)
{
	int fd = tmpfd();
	struct qcow2_stats st;
	write_image(fd, comp, &st);
	off_t fsize = lseek(fd, 0, SEEK_END);
	assert_true((uint64_t)fsize == st.file_size && fsize % CS == 0);
	if (comp != QCOW2_COMPRESS_NONE)
		assert_true(st.compressed_clusters > 0);
	else
		assert_true(st.compressed_clusters == 0);
	uint8_t *h = read_at(fd, 0, CS);
	check_header(h, comp);
	free(h);

	/* Content through L1/L2, then every host cluster's refcount. */
	struct qcow2_image im;
	if (qcow2_read_open(&im, fd) < 0)
		fail_msg("%s", im.err);
	if (qcow2_read_all(&im, check_cluster, NULL) != 0)
		fail_msg("%s", im.err);
	qcow2_read_close(&im);
	close(fd);
}

static void test_roundtrip_none(void **state) { (void)state; roundtrip(QCOW2_COMPRESS_NONE); }
static void test_roundtrip_deflate(void **state) { (void)state; roundtrip(QCOW2_COMPRESS_DEFLATE); }
static void test_roundtrip_zstd(void **state) { (void)state; roundtrip(QCOW2_COMPRESS_ZSTD); }

static void test_refusals(void **state)
{
	(void)state;
	int fd = tmpfd();
	struct qcow2_writer *w;
	assert_int_equal(qcow2_writer_open(fd, 1000, NULL, &w), -EINVAL);  /* not sectors */
	assert_int_equal(qcow2_writer_open(fd, 1ull << 62, NULL, &w), -EFBIG);
	assert_int_equal(qcow2_writer_open(fd, 1 << 20, NULL, &w), 0);
	uint8_t b[200];
	memset(b, 0xaa, sizeof(b));
	assert_int_equal(qcow2_writer_write(w, 100, b, 100), 0);
	assert_int_equal(qcow2_writer_write(w, 200, b, 0), 0);     /* empty, in order */
	assert_int_equal(qcow2_writer_write(w, 150, b, 100), -EINVAL);  /* overlaps */
	/* Once refused, the writer stays refused. */
	assert_int_equal(qcow2_writer_write(w, 1000, b, 10), -EINVAL);
	assert_int_equal(qcow2_writer_finish(w), -EINVAL);
	qcow2_writer_free(w);

	assert_int_equal(qcow2_writer_open(fd, 1 << 20, NULL, &w), 0);
	assert_int_equal(qcow2_writer_write(w, (1 << 20) - 100, b, 101), -EINVAL);  /* past end */
	qcow2_writer_free(w);

	assert_int_equal(qcow2_writer_open(fd, 1 << 20, NULL, &w), 0);
	assert_int_equal(qcow2_writer_write(w, 5000, b, 200), 0);
	assert_int_equal(qcow2_writer_write(w, 4000, b, 1), -EINVAL);    /* backwards */
	qcow2_writer_free(w);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_l2_entry_layout),
		cmocka_unit_test(test_compressed_entry_layout),
		cmocka_unit_test(test_roundtrip_none),
		cmocka_unit_test(test_roundtrip_deflate),
		cmocka_unit_test(test_roundtrip_zstd),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
