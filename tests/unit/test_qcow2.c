/* The qcow2 writer: entry bit layouts, header fields, refusals, and images
 * read back by a small independent reader that follows L1/L2, inflates
 * compressed clusters and recounts every host cluster's references. */
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
#include <zlib.h>
#include <zstd.h>

#include "qcow2.h"
#include "util.h"

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

/* Read guest cluster g into out through L1/L2; counts references. */
static void read_cluster(int fd, const uint8_t *h, uint64_t g, uint8_t *out,
			 uint16_t *refs, size_t nrefs)
{
	memset(out, 0, CS);
	uint64_t l1e = get_be64(h + 40) + (g >> 13) * 8;
	uint64_t l1 = 0;
	assert_true(pread(fd, &l1, 8, (off_t)l1e) == 8);
	l1 = be64toh(l1);
	if (!l1)
		return;
	uint64_t l2e = 0;
	assert_true(pread(fd, &l2e, 8, (off_t)((l1 & ~(1ull << 63)) + (g & 8191) * 8)) == 8);
	l2e = be64toh(l2e);
	if (!l2e)
		return;
	if (l2e & (1ull << 62)) {
		assert_false(l2e & (1ull << 63));
		uint64_t off = l2e & ((1ull << 54) - 1);
		size_t csize = (((l2e >> 54) & 0xff) + 1) * 512 - (off & 511);
		uint8_t *c = read_at(fd, off, csize);
		for (uint64_t k = off / CS; k <= (off + csize - 1) / CS; k++)
			assert_true(k < nrefs), refs[k]++;
		if (get_be64(h + 72) & 8) {
			ZSTD_DCtx *d = ZSTD_createDCtx();
			ZSTD_inBuffer in = { c, csize, 0 };
			ZSTD_outBuffer o = { out, CS, 0 };
			while (o.pos < o.size)
				assert_false(ZSTD_isError(ZSTD_decompressStream(d, &o, &in)));
			ZSTD_freeDCtx(d);
		} else {
			z_stream z = { 0 };
			assert_int_equal(inflateInit2(&z, -12), Z_OK);
			z.next_in = c, z.avail_in = (uInt)csize;
			z.next_out = out, z.avail_out = CS;
			int r = inflate(&z, Z_FINISH);
			assert_true(r == Z_STREAM_END || (r == Z_BUF_ERROR && z.avail_out == 0));
			assert_int_equal(z.avail_out, 0);
			inflateEnd(&z);
		}
		free(c);
	} else {
		assert_true(l2e & (1ull << 63));   /* refcount 1: "copied" */
		uint64_t off = l2e & 0x00fffffffffffe00ull;
		assert_true(off % CS == 0 && off / CS < nrefs);
		refs[off / CS]++;
		assert_true(pread(fd, out, CS, (off_t)off) == CS);
	}
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

	size_t nrefs = (size_t)(fsize / CS);
	uint16_t *refs = calloc(nrefs, sizeof(*refs));
	refs[0]++;                                      /* header */
	for (uint64_t i = 0; i < 4; i++) {              /* L1 (one cluster), L2s */
		uint64_t e = get_be64(h + 40);
		uint64_t l1 = 0;
		assert_true(pread(fd, &l1, 8, (off_t)(e + i * 8)) == 8);
		l1 = be64toh(l1);
		if (l1) {
			assert_true(l1 & (1ull << 63));
			refs[(l1 & ~(1ull << 63)) / CS]++;
		}
	}
	refs[get_be64(h + 40) / CS]++;
	uint8_t *c = malloc(CS);
	for (uint64_t g = 0; g < (VSIZE + CS - 1) / CS; g++) {
		read_cluster(fd, h, g, c, refs, nrefs);
		uint64_t base = g * CS;
		bool touched = false;
		for (size_t i = 0; i < ARRAY_SIZE(pieces); i++)
			touched |= pieces[i].off < base + CS && pieces[i].off + pieces[i].len > base;
		if (!touched) {         /* most of the disk: must read as zeros */
			assert_true(c[0] == 0 && memcmp(c, c + 1, CS - 1) == 0);
			continue;
		}
		for (size_t j = 0; j < CS && base + j < VSIZE; j++) {
			if (c[j] != expected(base + j))
				fail_msg("byte %llu: %u != %u", (unsigned long long)(base + j),
					 c[j], expected(base + j));
		}
	}
	/* The refcount table (one cluster) and its blocks. */
	uint64_t rt = get_be64(h + 48);
	refs[rt / CS]++;
	uint8_t *tbl = read_at(fd, rt, CS);
	uint64_t covered = 0;
	for (size_t i = 0; i < CS / 8 && get_be64(tbl + 8 * i); i++, covered += CS / 2)
		refs[get_be64(tbl + 8 * i) / CS]++;
	assert_true(covered >= nrefs);
	for (size_t k = 0; k < nrefs; k++) {
		uint64_t blk = get_be64(tbl + 8 * (k / (CS / 2)));
		uint8_t b[2];
		assert_true(pread(fd, b, 2, (off_t)(blk + (k % (CS / 2)) * 2)) == 2);
		if (refs[k] != (b[0] << 8 | b[1]))
			fail_msg("cluster %zu: %u references, refcount %u", k, refs[k], b[0] << 8 | b[1]);
	}
	free(tbl);
	free(c);
	free(refs);
	free(h);
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
