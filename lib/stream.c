#include "stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

static void encode_header(uint8_t *p, uint32_t type, uint32_t length, uint64_t offset)
{
	put_be32(p, type);
	put_be32(p + 4, length);
	put_be64(p + 8, offset);
}

int stream_writer_init(struct stream_writer *w, stream_sink_fn sink, void *sink_ctx)
{
	*w = (struct stream_writer){ .sink = sink, .sink_ctx = sink_ctx };
	w->buf = malloc(STREAM_FRAME_HEADER_LEN + STREAM_DATA_FRAME);
	if (!w->buf)
		return -ENOMEM;
	int rc = sha256_init(&w->sha);
	if (rc < 0) {
		free(w->buf);
		w->buf = NULL;
	}
	return rc;
}

void stream_writer_free(struct stream_writer *w)
{
	sha256_abandon(&w->sha);
	free(w->buf);
	w->buf = NULL;
}

/* A frame whose payload is separate from the data buffer. */
static int send_frame(struct stream_writer *w, uint32_t type, uint64_t offset,
		      const void *payload, uint32_t length)
{
	uint8_t hdr[STREAM_FRAME_HEADER_LEN];
	encode_header(hdr, type, length, offset);
	int rc = w->sink(w->sink_ctx, hdr, sizeof(hdr));
	if (rc == 0 && length)
		rc = w->sink(w->sink_ctx, payload, length);
	return rc;
}

int stream_write_hello(struct stream_writer *w, const char *json)
{
	size_t len = strlen(json);
	if (len > STREAM_MAX_HELLO)
		return -E2BIG;
	uint8_t pre[STREAM_PREAMBLE_LEN] = { 0 };
	memcpy(pre, STREAM_MAGIC, 8);
	put_be32(pre + 8, STREAM_VERSION);
	int rc = w->sink(w->sink_ctx, pre, sizeof(pre));
	return rc ? rc : send_frame(w, FRAME_HELLO, 0, json, (uint32_t)len);
}

static int flush_data(struct stream_writer *w)
{
	if (!w->pending)
		return 0;
	uint64_t start = w->offset - w->pending;
	encode_header(w->buf, FRAME_DATA, (uint32_t)w->pending, start);
	int rc = w->sink(w->sink_ctx, w->buf, STREAM_FRAME_HEADER_LEN + w->pending);
	w->pending = 0;
	return rc;
}

int stream_write_data(struct stream_writer *w, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	sha256_update(&w->sha, buf, len);
	while (len) {
		size_t n = STREAM_DATA_FRAME - w->pending;
		if (n > len)
			n = len;
		memcpy(w->buf + STREAM_FRAME_HEADER_LEN + w->pending, p, n);
		w->pending += n;
		w->offset += n;
		p += n;
		len -= n;
		if (w->pending == STREAM_DATA_FRAME) {
			int rc = flush_data(w);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int stream_write_zero(struct stream_writer *w, uint64_t count)
{
	static const uint8_t zeros[65536];
	int rc = flush_data(w);
	if (rc || !count)
		return rc;
	for (uint64_t left = count; left;) {
		size_t n = left < sizeof(zeros) ? (size_t)left : sizeof(zeros);
		sha256_update(&w->sha, zeros, n);
		left -= n;
	}
	uint8_t payload[8];
	put_be64(payload, count);
	rc = send_frame(w, FRAME_ZERO, w->offset, payload, sizeof(payload));
	w->offset += count;
	return rc;
}

int stream_write_end(struct stream_writer *w, uint8_t digest[SHA256_LEN])
{
	int rc = flush_data(w);
	if (rc)
		return rc;
	uint8_t d[SHA256_LEN];
	sha256_final(&w->sha, d);
	if (digest)
		memcpy(digest, d, sizeof(d));
	return send_frame(w, FRAME_END, w->offset, d, sizeof(d));
}

int stream_write_abort(struct stream_writer *w, const char *reason)
{
	size_t len = strnlen(reason, STREAM_MAX_ABORT);
	w->pending = 0;
	return send_frame(w, FRAME_ABORT, w->offset, reason, (uint32_t)len);
}

int stream_read_preamble(int fd)
{
	uint8_t pre[STREAM_PREAMBLE_LEN];
	ssize_t n = read_full(fd, pre, sizeof(pre));
	if (n < 0) {
		log_error("reading the stream: %s", strerror((int)-n));
		return (int)n;
	}
	if (n != sizeof(pre) || memcmp(pre, STREAM_MAGIC, 8)) {
		log_error("input is not a p2v stream (bad magic)");
		return -EPROTO;
	}
	uint32_t version = get_be32(pre + 8);
	if (version != STREAM_VERSION) {
		log_error("p2v stream version %u is not supported (this ct-import speaks %u)",
			  version, STREAM_VERSION);
		return -EPROTO;
	}
	return 0;
}

static uint32_t max_payload(uint32_t type)
{
	switch (type) {
	case FRAME_HELLO: return STREAM_MAX_HELLO;
	case FRAME_DATA: return STREAM_MAX_DATA;
	case FRAME_ZDATA: return STREAM_MAX_DATA;
	case FRAME_ZERO: return 8;
	case FRAME_END: return SHA256_LEN;
	case FRAME_ABORT: return STREAM_MAX_ABORT;
	case FRAME_UNREADABLE: return STREAM_MAX_UNREADABLE;
	default: return 0;
	}
}

int stream_read_frame(int fd, struct frame_header *h, uint8_t *buf, size_t cap)
{
	uint8_t hdr[STREAM_FRAME_HEADER_LEN];
	ssize_t n = read_full(fd, hdr, sizeof(hdr));
	if (n == 0)
		return 0;
	if (n < 0) {
		log_error("reading the stream: %s", strerror((int)-n));
		return (int)n;
	}
	if (n != sizeof(hdr)) {
		log_error("stream cut short inside a frame header");
		return -EPROTO;
	}
	h->type = get_be32(hdr);
	h->length = get_be32(hdr + 4);
	h->offset = get_be64(hdr + 8);
	uint32_t max = max_payload(h->type);
	if (!max) {
		log_error("unknown frame type %u in stream", h->type);
		return -EPROTO;
	}
	bool exact = h->type == FRAME_ZERO || h->type == FRAME_END;
	if (h->length > max || h->length > cap || (exact && h->length != max)) {
		log_error("frame type %u has invalid length %u", h->type, h->length);
		return -EPROTO;
	}
	n = read_full(fd, buf, h->length);
	if (n < 0) {
		log_error("reading the stream: %s", strerror((int)-n));
		return (int)n;
	}
	if ((size_t)n != h->length) {
		log_error("stream cut short inside a frame (%zd of %u bytes)", n, h->length);
		return -EPROTO;
	}
	return 1;
}
