/* The stream format: what the writer emits, the reader accepts and the
 * reader refuses. Frames travel through a real pipe. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "capture_sink.h"
#include "stream.h"
#include "util.h"

/* A pipe's read end holding bytes (small enough for the pipe buffer or
 * written by a child). */
static int pipe_with(const uint8_t *bytes, size_t len)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	if (fork() == 0) {
		close(p[0]);
		write_full(p[1], bytes, len);
		_exit(0);
	}
	close(p[1]);
	return p[0];
}

static void test_roundtrip(void **state)
{
	(void)state;
	struct capture c = { 0 };
	struct stream_writer w;
	assert_int_equal(stream_writer_init(&w, capture_sink, &c), 0);
	assert_int_equal(stream_write_hello(&w, "{\"kind\":\"template\"}"), 0);
	size_t big = STREAM_DATA_FRAME + 1000;
	uint8_t *data = malloc(big);
	for (size_t i = 0; i < big; i++)
		data[i] = (uint8_t)(i * 7);
	assert_int_equal(stream_write_data(&w, data, big), 0);
	assert_int_equal(stream_write_zero(&w, 5000), 0);
	assert_int_equal(stream_write_data(&w, "tail", 4), 0);
	uint8_t digest[SHA256_LEN];
	assert_int_equal(stream_write_end(&w, digest), 0);
	stream_writer_free(&w);

	/* The digest covers data, zeros and tail in order. */
	struct sha256 s;
	sha256_init(&s);
	sha256_update(&s, data, big);
	uint8_t *zeros = calloc(1, 5000);
	sha256_update(&s, zeros, 5000);
	sha256_update(&s, "tail", 4);
	uint8_t expect[SHA256_LEN];
	sha256_final(&s, expect);
	assert_memory_equal(digest, expect, SHA256_LEN);

	int fd = pipe_with(c.buf, c.len);
	uint8_t *buf = malloc(STREAM_MAX_DATA);
	struct frame_header h;
	assert_int_equal(stream_read_preamble(fd), STREAM_VERSION);
	assert_int_equal(stream_read_frame(fd, &h, buf, STREAM_MAX_DATA), 1);
	assert_int_equal(h.type, FRAME_HELLO);
	assert_memory_equal(buf, "{\"kind\":\"template\"}", h.length);
	/* Data is split at the frame size, offsets are logical positions. */
	assert_int_equal(stream_read_frame(fd, &h, buf, STREAM_MAX_DATA), 1);
	assert_int_equal(h.type, FRAME_DATA);
	assert_int_equal(h.offset, 0);
	assert_int_equal(h.length, STREAM_DATA_FRAME);
	assert_memory_equal(buf, data, STREAM_DATA_FRAME);
	assert_int_equal(stream_read_frame(fd, &h, buf, STREAM_MAX_DATA), 1);
	assert_int_equal(h.offset, STREAM_DATA_FRAME);
	assert_int_equal(h.length, 1000);
	assert_int_equal(stream_read_frame(fd, &h, buf, STREAM_MAX_DATA), 1);
	assert_int_equal(h.type, FRAME_ZERO);
	assert_int_equal(h.offset, big);
	assert_int_equal(get_be64(buf), 5000);
	assert_int_equal(stream_read_frame(fd, &h, buf, STREAM_MAX_DATA), 1);
	assert_int_equal(h.type, FRAME_DATA);
	assert_int_equal(h.offset, big + 5000);
	assert_int_equal(stream_read_frame(fd, &h, buf, STREAM_MAX_DATA), 1);
	assert_int_equal(h.type, FRAME_END);
	assert_int_equal(h.offset, big + 5004);
	assert_memory_equal(buf, expect, SHA256_LEN);
	assert_int_equal(stream_read_frame(fd, &h, buf, STREAM_MAX_DATA), 0);
	close(fd);
	free(buf);
	free(data);
	free(zeros);
	free(c.buf);
}

static int read_one(const uint8_t *bytes, size_t len)
{
	int fd = pipe_with(bytes, len);
	uint8_t *buf = malloc(STREAM_MAX_DATA);
	struct frame_header h;
	int rc = stream_read_frame(fd, &h, buf, STREAM_MAX_DATA);
	close(fd);
	free(buf);
	return rc;
}

static void frame(uint8_t *p, uint32_t type, uint32_t len, uint64_t off)
{
	put_be32(p, type);
	put_be32(p + 4, len);
	put_be64(p + 8, off);
}

static void test_refusals(void **state)
{
	(void)state;
	uint8_t f[64] = { 0 };
	frame(f, 99, 0, 0);
	assert_int_equal(read_one(f, 16), -EPROTO);              /* unknown type */
	frame(f, FRAME_DATA, STREAM_MAX_DATA + 1, 0);
	assert_int_equal(read_one(f, 16), -EPROTO);              /* oversized */
	frame(f, FRAME_END, 31, 0);
	assert_int_equal(read_one(f, 16 + 31), -EPROTO);         /* END must carry 32 */
	frame(f, FRAME_ZERO, 9, 0);
	assert_int_equal(read_one(f, 16 + 9), -EPROTO);          /* ZERO must carry 8 */
	frame(f, FRAME_DATA, 40, 0);
	assert_int_equal(read_one(f, 16 + 10), -EPROTO);         /* cut inside payload */
	assert_int_equal(read_one(f, 7), -EPROTO);               /* cut inside header */
	assert_int_equal(read_one(f, 0), 0);                     /* clean EOF */
	frame(f, FRAME_DATA, 40, 0);
	assert_int_equal(read_one(f, 16 + 40), 1);
}

static void test_preamble(void **state)
{
	(void)state;
	uint8_t p[16] = "P2VSTRM\n";
	put_be32(p + 8, STREAM_VERSION);
	int fd = pipe_with(p, 16);
	assert_int_equal(stream_read_preamble(fd), STREAM_VERSION);
	close(fd);
	put_be32(p + 8, STREAM_VERSION + 1);
	fd = pipe_with(p, 16);
	assert_int_equal(stream_read_preamble(fd), -EPROTO);
	close(fd);
	fd = pipe_with((const uint8_t *)"GET / HTTP/1.1\r\n", 16);
	assert_int_equal(stream_read_preamble(fd), -EPROTO);
	close(fd);
	fd = pipe_with(p, 5);
	assert_int_equal(stream_read_preamble(fd), -EPROTO);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_preamble),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
