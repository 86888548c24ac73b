/* The bad-sector reader's retry logic against a fake medium: a memory
 * disk whose reads fail with EIO when they touch a listed byte range (as a
 * FUSE file with direct I/O or a failing drive does), that may return
 * short reads or EINTR. Checked: which ranges are reported (exactly the
 * touched sectors), that everything else arrives intact and the lost
 * bytes as zeros, how many reads the bisection costs, and that other
 * errors are not mistaken for bad sectors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "disk_read.h"
#include "disk_report.h"

struct medium {
	uint8_t *data;
	uint64_t size;
	const struct bad_range *bad;
	size_t nbad;
	size_t short_max;   /* when set, reads return at most this much */
	int eintr_every;    /* when set, every Nth call fails with EINTR */
	int fail_errno;     /* when set, every read fails with it */
	unsigned calls;
};

static ssize_t medium_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct medium *m = ctx;
	m->calls++;
	if (m->fail_errno) {
		errno = m->fail_errno;
		return -1;
	}
	if (m->eintr_every && m->calls % (unsigned)m->eintr_every == 0) {
		errno = EINTR;
		return -1;
	}
	if (off >= m->size)
		return 0;
	if (len > m->size - off)
		len = (size_t)(m->size - off);
	if (m->short_max && len > m->short_max)
		len = m->short_max;
	for (size_t i = 0; i < m->nbad; i++)
		if (off < m->bad[i].off + m->bad[i].len && m->bad[i].off < off + len) {
			errno = EIO;
			return -1;
		}
	memcpy(buf, m->data + off, len);
	return (ssize_t)len;
}

static struct medium *medium_new(uint64_t size)
{
	struct medium *m = calloc(1, sizeof(*m));
	m->data = malloc(size);
	m->size = size;
	for (uint64_t i = 0; i < size; i++)
		m->data[i] = (uint8_t)(i * 131 + 7) | 1;  /* never zero */
	return m;
}

static void medium_free(struct medium *m)
{
	free(m->data);
	free(m);
}

/* buf holds [off, off+len) of m: the medium's bytes outside lost, zeros in. */
static void assert_content(const struct medium *m, const uint8_t *buf, uint64_t off, size_t len,
			   const struct bad_list *lost)
{
	for (size_t i = 0; i < len; i++) {
		uint64_t p = off + i;
		int in_lost = 0;
		for (size_t j = 0; j < lost->n; j++)
			if (p >= lost->v[j].off && p < lost->v[j].off + lost->v[j].len)
				in_lost = 1;
		if (in_lost)
			assert_int_equal(buf[i], 0);
		else
			assert_int_equal(buf[i], m->data[p]);
	}
}

static void test_clean_read(void **state)
{
	(void)state;
	struct medium *m = medium_new(1 << 20);
	uint8_t *buf = malloc(1 << 20);
	struct bad_list bad = { 0 };
	struct read_stats st = { 0 };
	assert_int_equal(read_bisect(medium_pread, m, buf, 1 << 20, 0, 512, &bad, &st), 0);
	assert_int_equal(bad.n, 0);
	assert_int_equal(st.reads, 1);
	assert_memory_equal(buf, m->data, 1 << 20);
	free(buf);
	medium_free(m);
}

static void test_one_bad_sector(void **state)
{
	(void)state;
	const size_t len = 4u << 20;
	struct bad_range b[] = { { 1234567, 3 } };  /* inside sector 2411 */
	struct medium *m = medium_new(len);
	m->bad = b, m->nbad = 1;
	uint8_t *buf = malloc(len);
	struct bad_list bad = { 0 };
	struct read_stats st = { 0 };
	assert_int_equal(read_bisect(medium_pread, m, buf, len, 0, 512, &bad, &st), 512);
	assert_int_equal(bad.n, 1);
	assert_int_equal(bad.v[0].off, 1234567 / 512 * 512);
	assert_int_equal(bad.v[0].len, 512);
	assert_content(m, buf, 0, len, &bad);
	/* Halving: two reads per level, 13 levels from 4 MiB to 512 bytes. */
	assert_true(st.reads <= 2 * 13 + 1);
	assert_int_equal(st.failed_reads, 14);
	free(buf);
	medium_free(m);
	bad_list_free(&bad);
}

/* Ranges spanning sector boundaries round out to whole sectors; ranges
 * in neighbouring sectors merge; the report is in order. */
static void test_several_ranges(void **state)
{
	(void)state;
	const size_t len = 1u << 20;
	struct bad_range b[] = { { 700000, 1 }, { 4000, 200 }, { 4096, 1 }, { 100000, 5000 } };
	struct medium *m = medium_new(len);
	m->bad = b, m->nbad = 4;
	uint8_t *buf = malloc(len);
	struct bad_list bad = { 0 };
	int64_t lost = read_bisect(medium_pread, m, buf, len, 0, 512, &bad, NULL);
	assert_int_equal(bad.n, 3);
	/* 4000..4200 touches sectors 7 and 8 (3584..4608); 4096 is in 8. */
	assert_int_equal(bad.v[0].off, 3584);
	assert_int_equal(bad.v[0].len, 1024);
	/* 100000..105000: sectors 195 (99840) through 205 (104960..105472). */
	assert_int_equal(bad.v[1].off, 99840);
	assert_int_equal(bad.v[1].len, 105472 - 99840);
	assert_int_equal(bad.v[2].off, 700000 / 512 * 512);
	assert_int_equal(bad.v[2].len, 512);
	assert_int_equal(lost, (int64_t)bad_list_bytes(&bad));
	assert_content(m, buf, 0, len, &bad);
	free(buf);
	medium_free(m);
	bad_list_free(&bad);
}

/* A piece that does not start or end on a sector boundary: the reported
 * ranges are clipped to the piece, split at absolute sector boundaries. */
static void test_unaligned_piece(void **state)
{
	(void)state;
	struct bad_range b[] = { { 600, 1 }, { 2100, 1 } };
	struct medium *m = medium_new(8192);
	m->bad = b, m->nbad = 2;
	uint8_t buf[2000];
	struct bad_list bad = { 0 };
	assert_int_equal(read_bisect(medium_pread, m, buf, 2000, 300, 512, &bad, NULL), 512 + 252);
	assert_int_equal(bad.n, 2);
	assert_int_equal(bad.v[0].off, 512);
	assert_int_equal(bad.v[0].len, 512);
	assert_int_equal(bad.v[1].off, 2048);
	assert_int_equal(bad.v[1].len, 2300 - 2048);
	assert_content(m, buf, 300, 2000, &bad);
	medium_free(m);
	bad_list_free(&bad);
}

/* A 4 KiB-sector device never reports less than its sector. */
static void test_large_sectors(void **state)
{
	(void)state;
	struct bad_range b[] = { { 70000, 10 } };
	struct medium *m = medium_new(1 << 20);
	m->bad = b, m->nbad = 1;
	uint8_t *buf = malloc(1 << 20);
	struct bad_list bad = { 0 };
	assert_int_equal(read_bisect(medium_pread, m, buf, 1 << 20, 0, 4096, &bad, NULL), 4096);
	assert_int_equal(bad.v[0].off, 69632);  /* sector 17 */
	assert_int_equal(bad.v[0].len, 4096);
	assert_content(m, buf, 0, 1 << 20, &bad);
	assert_int_equal(read_bisect(medium_pread, m, buf, 4096, 0, 3000, &bad, NULL), -EINVAL);
	free(buf);
	medium_free(m);
	bad_list_free(&bad);
}

/* A dead stretch is read sector by sector and reported as one range. */
static void test_dead_stretch(void **state)
{
	(void)state;
	struct bad_range b[] = { { 65536, 65536 } };
	struct medium *m = medium_new(256 << 10);
	m->bad = b, m->nbad = 1;
	uint8_t *buf = malloc(256 << 10);
	struct bad_list bad = { 0 };
	struct read_stats st = { 0 };
	assert_int_equal(read_bisect(medium_pread, m, buf, 256 << 10, 0, 512, &bad, &st), 65536);
	assert_int_equal(bad.n, 1);
	assert_int_equal(bad.v[0].off, 65536);
	assert_int_equal(bad.v[0].len, 65536);
	assert_content(m, buf, 0, 256 << 10, &bad);
	/* Each of the 128 sectors is tried on its own, and not much more. */
	assert_true(st.failed_reads >= 128 && st.failed_reads < 2 * 128 + 16);
	free(buf);
	medium_free(m);
	bad_list_free(&bad);
}

/* Short reads and EINTR are not errors; bad sectors are still found. */
static void test_short_reads_and_eintr(void **state)
{
	(void)state;
	struct bad_range b[] = { { 10000, 1 } };
	struct medium *m = medium_new(65536);
	m->bad = b, m->nbad = 1;
	m->short_max = 1000;
	m->eintr_every = 3;
	uint8_t buf[65536];
	struct bad_list bad = { 0 };
	assert_int_equal(read_bisect(medium_pread, m, buf, sizeof(buf), 0, 512, &bad, NULL), 512);
	assert_int_equal(bad.n, 1);
	assert_int_equal(bad.v[0].off, 9728);
	assert_content(m, buf, 0, sizeof(buf), &bad);
	medium_free(m);
	bad_list_free(&bad);
}

/* Not a medium's complaint: returned at once, nothing listed. */
static void test_other_errors(void **state)
{
	(void)state;
	struct medium *m = medium_new(65536);
	uint8_t buf[4096];
	struct bad_list bad = { 0 };
	m->fail_errno = EBADF;
	assert_int_equal(read_bisect(medium_pread, m, buf, sizeof(buf), 0, 512, &bad, NULL), -EBADF);
	assert_int_equal(m->calls, 1);
	assert_int_equal(bad.n, 0);
	/* The source ending early is not a bad sector either. */
	m->fail_errno = 0;
	assert_int_equal(read_bisect(medium_pread, m, buf, sizeof(buf), 65536 - 100, 512, &bad, NULL),
			 -ENODATA);
	assert_int_equal(bad.n, 0);
	medium_free(m);
}

static void test_bad_list_merge(void **state)
{
	(void)state;
	struct bad_list l = { 0 };
	assert_int_equal(bad_list_add(&l, 1000, 10), 0);
	assert_int_equal(bad_list_add(&l, 100, 10), 0);   /* before */
	assert_int_equal(bad_list_add(&l, 2000, 10), 0);
	assert_int_equal(bad_list_add(&l, 110, 5), 0);    /* touches the first */
	assert_int_equal(l.n, 3);
	assert_int_equal(l.v[0].off, 100);
	assert_int_equal(l.v[0].len, 15);
	assert_int_equal(bad_list_add(&l, 990, 1015), 0);  /* bridges the 2nd and 3rd */
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[1].off, 990);
	assert_int_equal(l.v[1].len, 1020);
	assert_int_equal(bad_list_add(&l, 50, 0), 0);      /* empty: ignored */
	assert_int_equal(l.n, 2);
	assert_int_equal(bad_list_bytes(&l), 15 + 1020);
	for (uint64_t i = 0; i < 100; i++)                /* grows past its first block */
		assert_int_equal(bad_list_add(&l, 10000 + 10 * i, 5), 0);
	assert_int_equal(l.n, 102);
	bad_list_free(&l);
}

static void test_policy_names(void **state)
{
	(void)state;
	enum read_error_policy p = READ_ERROR_ZERO;
	assert_int_equal(read_error_policy_parse("fail", &p), 0);
	assert_int_equal(p, READ_ERROR_FAIL);
	assert_int_equal(read_error_policy_parse("zero", &p), 0);
	assert_int_equal(p, READ_ERROR_ZERO);
	assert_int_equal(read_error_policy_parse("skip", &p), -EINVAL);
	assert_string_equal(read_error_policy_name(READ_ERROR_FAIL), "fail");
}

/* File names become report text: any bytes in, valid UTF-8 out. */
static void test_owner_text(void **state)
{
	(void)state;
	char a[] = "/srv/caf\xc3\xa9/\xff\xfe-\xc3(-\xe2\x82\xac-\xed\xa0\x80-\xf4\x90\x80\x80-\xc0\xaf";
	utf8_sanitize(a);
	/* é and € stay; stray bytes, a truncated sequence, a surrogate, a
	 * code point past U+10FFFF and an overlong '/' do not. */
	#define Q "\x3f"   /* '?', spelt so no trigraph appears */
	assert_string_equal(a, "/srv/caf\xc3\xa9/" Q Q "-" Q "(-\xe2\x82\xac-" Q Q Q "-" Q Q Q Q "-" Q Q);
	/* A cut never splits a character. */
	const char *e = "ab\xe2\x82\xac";
	assert_int_equal(utf8_cut(e, 5), 5);
	assert_int_equal(utf8_cut(e, 4), 2);
	assert_int_equal(utf8_cut(e, 3), 2);
	assert_int_equal(utf8_cut(e, 100), 5);
	assert_int_equal(utf8_cut("", 10), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_read),
		cmocka_unit_test(test_one_bad_sector),
		cmocka_unit_test(test_several_ranges),
		cmocka_unit_test(test_unaligned_piece),
		cmocka_unit_test(test_large_sectors),
		cmocka_unit_test(test_dead_stretch),
		cmocka_unit_test(test_short_reads_and_eintr),
		cmocka_unit_test(test_other_errors),
		cmocka_unit_test(test_bad_list_merge),
		cmocka_unit_test(test_policy_names),
		cmocka_unit_test(test_owner_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
