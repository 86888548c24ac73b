/* p2v ct's unreadable file ranges on their way to ct-import: the frames
 * ct_report_send writes (after the pending data, names made UTF-8), read
 * back by the receiver's unreadable_take_file, its refusals and limits,
 * and the lists both sides keep beside the template. */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "capture_sink.h"
#include "ct_report.h"
#include "stream.h"
#include "unreadable_list.h"
#include "util.h"

static struct tar_bad_range ranges[] = {
	{ "/var/lib/mysql/ibdata1", 8192, 4096 },
	{ "/data/caf\xe9", 20480, 512 },   /* a Latin-1 name */
};
static const struct tarball_stats two = { .bad = ranges, .n_bad = 2, .unreadable_bytes = 4608 };

/* A frame header at p. */
static struct frame_header header_at(const uint8_t *p)
{
	return (struct frame_header){ get_be32(p), get_be32(p + 4), get_be64(p + 8) };
}

static void test_frames_roundtrip(void **state)
{
	(void)state;
	struct capture c = { 0 };
	struct stream_writer w;
	assert_int_equal(stream_writer_init(&w, capture_sink, &c), 0);
	assert_int_equal(stream_write_hello(&w, "{}"), 0);
	assert_int_equal(stream_write_data(&w, "abc", 3), 0);   /* pending until flushed */
	assert_int_equal(ct_report_send(&w, &two), 0);
	assert_int_equal(stream_write_end(&w, NULL), 0);

	const uint8_t *p = c.buf + STREAM_PREAMBLE_LEN;
	struct frame_header h = header_at(p);
	assert_int_equal(h.type, FRAME_HELLO);
	p += STREAM_FRAME_HEADER_LEN + h.length;
	h = header_at(p);
	assert_int_equal(h.type, FRAME_DATA);   /* the data goes before the ranges */
	assert_int_equal(h.length, 3);
	p += STREAM_FRAME_HEADER_LEN + h.length;

	struct unreadable_list u = { 0 };
	for (int i = 0; i < 2; i++) {
		h = header_at(p);
		assert_int_equal(h.type, FRAME_UNREADABLE);
		assert_int_equal(h.offset, ranges[i].off);
		assert_int_equal(get_be64(p + STREAM_FRAME_HEADER_LEN), ranges[i].len);
		assert_int_equal(unreadable_take_file(&u, &h, p + STREAM_FRAME_HEADER_LEN), 0);
		p += STREAM_FRAME_HEADER_LEN + h.length;
	}
	assert_int_equal(header_at(p).type, FRAME_END);
	assert_int_equal(u.count, 2);
	assert_int_equal(u.bytes, 4608);
	json_t *r1 = json_array_get(u.ranges, 1);
	assert_string_equal(json_string_value(json_object_get(r1, "file")), "/data/caf?");

	/* Kept beside the template; a later template without ranges removes it. */
	char dir[] = "/tmp/test_ct_report.XXXXXX", path[128];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/web01.tar.zst.unreadable.json", dir);
	assert_int_equal(unreadable_store_template(&u, dir, "web01.tar.zst", "web01"), 0);
	json_t *j = json_load_file(path, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "template")), "web01");
	assert_string_equal(json_string_value(json_object_get(j, "file")), "web01.tar.zst");
	assert_int_equal(json_integer_value(json_object_get(j, "unreadable_ranges")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "unreadable_bytes")), 4608);
	json_t *r0 = json_array_get(json_object_get(j, "unreadable"), 0);
	assert_string_equal(json_string_value(json_object_get(r0, "file")), "/var/lib/mysql/ibdata1");
	assert_string_equal(json_string_value(json_object_get(r0, "owner")), "/var/lib/mysql/ibdata1");
	assert_int_equal(json_integer_value(json_object_get(r0, "offset")), 8192);
	assert_int_equal(json_integer_value(json_object_get(r0, "length")), 4096);
	json_decref(j);
	struct unreadable_list none = { 0 };
	assert_int_equal(unreadable_store_template(&none, dir, "web01.tar.zst", "web01"), 0);
	assert_int_equal(access(path, F_OK), -1);
	rmdir(dir);
	unreadable_free(&u);
	stream_writer_free(&w);
	free(c.buf);
}

/* An UNREADABLE frame of a template stream, as the receiver reads it. */
static int take(struct unreadable_list *u, uint64_t off, uint64_t len, const char *owner,
		size_t olen)
{
	uint8_t buf[STREAM_MAX_UNREADABLE];
	put_be64(buf, len);
	memcpy(buf + 8, owner, olen);
	struct frame_header h = { FRAME_UNREADABLE, (uint32_t)(8 + olen), off };
	return unreadable_take_file(u, &h, buf);
}

static void test_refusals(void **state)
{
	(void)state;
	struct unreadable_list u = { 0 };
	assert_int_equal(take(&u, UINT64_MAX - 10, 100, "/a", 2), -EPROTO);   /* wraps */
	assert_int_equal(take(&u, INT64_MAX, 1, "/a", 2), -EPROTO);  /* past any file offset */
	assert_int_equal(take(&u, 0, UINT64_MAX, "/a", 2), -EPROTO);
	assert_int_equal(take(&u, 0, 0, "/a", 2), -EPROTO);
	assert_int_equal(take(&u, 0, 1, "", 0), -EPROTO);              /* no owner */
	assert_int_equal(take(&u, 0, 1, "/\xff", 2), -EPROTO);         /* not UTF-8 */
	assert_int_equal(take(&u, 0, 1, "/a\0b", 4), -EPROTO);         /* a NUL */
	struct frame_header shorty = { FRAME_UNREADABLE, 7, 0 };
	assert_int_equal(unreadable_take_file(&u, &shorty, (const uint8_t *)"1234567"), -EPROTO);
	assert_int_equal(u.count, 0);
	assert_int_equal(take(&u, INT64_MAX - 1, 1, "/a", 2), 0);      /* the last byte there is */
	/* Up to the count limit, then no more. */
	for (unsigned i = 1; i < STREAM_MAX_FILE_RANGES; i++)
		assert_int_equal(take(&u, i, 1, "/b", 2), 0);
	assert_int_equal(u.count, STREAM_MAX_FILE_RANGES);
	assert_int_equal(take(&u, 0, 1, "/c", 2), -EPROTO);
	unreadable_free(&u);
	/* Paths in all: at most STREAM_MAX_FILE_RANGE_BYTES. */
	static char owner[STREAM_MAX_OWNER];
	memset(owner, 'x', sizeof(owner));
	owner[0] = '/';
	for (unsigned i = 0; i < STREAM_MAX_FILE_RANGE_BYTES / STREAM_MAX_OWNER; i++)
		assert_int_equal(take(&u, i, 1, owner, sizeof(owner)), 0);
	assert_int_equal(take(&u, 0, 1, "/", 1), -EPROTO);
	unreadable_free(&u);
}

static void test_local_list(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_ct_report.XXXXXX", out[128], path[160];
	assert_non_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/web01.tar.zst", dir);
	snprintf(path, sizeof(path), "%s.unreadable.json", out);
	assert_int_equal(ct_report_store(out, "web01", "/mnt", READ_ERROR_ZERO, &two), 0);
	json_t *j = json_load_file(path, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "template")), "web01");
	assert_string_equal(json_string_value(json_object_get(j, "source")), "/mnt");
	assert_string_equal(json_string_value(json_object_get(j, "policy")), "zero");
	json_t *arr = json_object_get(j, "unreadable");
	assert_int_equal(json_array_size(arr), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 1), "file")),
			    "/data/caf?");
	json_decref(j);
	struct tarball_stats none = { 0 };
	assert_int_equal(ct_report_store(out, "web01", "/mnt", READ_ERROR_ZERO, &none), 0);
	assert_int_equal(access(path, F_OK), -1);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames_roundtrip),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_local_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
