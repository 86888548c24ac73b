/* The hand-off to the sending thread: bytes arrive complete and in order,
 * a consumer error reaches the producer, and the pressure signal says
 * which side is the bottleneck. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "async_sink.h"
#include "sha256.h"

struct consumer {
	struct sha256 sha;
	size_t bytes;
	size_t fail_after;   /* 0: never */
	unsigned delay_us;   /* per call: a slow network */
};

static int consume(void *ctx, const void *buf, size_t len)
{
	struct consumer *c = ctx;
	if (c->delay_us)
		usleep(c->delay_us);
	if (c->fail_after && c->bytes >= c->fail_after)
		return -EPIPE;
	sha256_update(&c->sha, buf, len);
	c->bytes += len;
	return 0;
}

static void test_order_and_completeness(void **state)
{
	(void)state;
	struct consumer c = { 0 };
	sha256_init(&c.sha);
	struct async_sink *as;
	assert_int_equal(async_sink_start(&as, consume, &c), 0);
	struct sha256 expect;
	sha256_init(&expect);
	unsigned char buf[70001];
	size_t total = 0;
	for (int i = 0; i < 300; i++) {   /* odd sizes straddle the 1 MiB slots */
		size_t n = 1 + (size_t)(i * 7919) % sizeof(buf);
		for (size_t j = 0; j < n; j++)
			buf[j] = (unsigned char)(i + j * 31);
		sha256_update(&expect, buf, n);
		assert_int_equal(async_sink_write(as, buf, n), 0);
		total += n;
	}
	assert_int_equal(async_sink_finish(as), 0);
	assert_int_equal(c.bytes, total);
	uint8_t a[SHA256_LEN], b[SHA256_LEN];
	sha256_final(&c.sha, a);
	sha256_final(&expect, b);
	assert_memory_equal(a, b, SHA256_LEN);
}

static void test_consumer_error_reaches_producer(void **state)
{
	(void)state;
	struct consumer c = { .fail_after = 3u << 20 };
	sha256_init(&c.sha);
	struct async_sink *as;
	assert_int_equal(async_sink_start(&as, consume, &c), 0);
	static unsigned char mb[1 << 20];
	int rc = 0;
	for (int i = 0; i < 64 && rc == 0; i++)
		rc = async_sink_write(as, mb, sizeof(mb));
	assert_int_equal(rc, -EPIPE);   /* stopped early, not after 64 MiB */
	assert_int_equal(async_sink_finish(as), -EPIPE);
	sha256_abandon(&c.sha);
}

/* Push `mb` MiB with the given per-MiB producer and consumer delays and
 * return the sum of the pressure readings taken along the way. */
static int pressure_with(unsigned producer_us, unsigned consumer_us)
{
	struct consumer c = { .delay_us = consumer_us };
	sha256_init(&c.sha);
	struct async_sink *as;
	assert_int_equal(async_sink_start(&as, consume, &c), 0);
	static unsigned char mb[1 << 20];
	int sum = 0;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		usleep(producer_us);
		assert_int_equal(async_sink_write(as, mb, sizeof(mb)), 0);
		sum += async_sink_pressure(as);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < 2);
	assert_int_equal(async_sink_finish(as), 0);
	sha256_abandon(&c.sha);
	return sum;
}

static void test_pressure(void **state)
{
	(void)state;
	assert_true(pressure_with(1000, 20000) > 0);   /* slow network: compress harder */
	assert_true(pressure_with(20000, 1000) < 0);   /* slow producer: compress lighter */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_completeness),
		cmocka_unit_test(test_consumer_error_reaches_producer),
		cmocka_unit_test(test_pressure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
