/* A stream sink for unit tests that collects everything written into one
 * growing buffer (free c.buf afterwards). Shared by the stream tests. */
#ifndef TEST_CAPTURE_SINK_H
#define TEST_CAPTURE_SINK_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct capture {
	uint8_t *buf;
	size_t len;
};

static inline int capture_sink(void *ctx, const void *buf, size_t len)
{
	struct capture *c = ctx;
	c->buf = realloc(c->buf, c->len + len);
	memcpy(c->buf + c->len, buf, len);
	c->len += len;
	return 0;
}

#endif
