#include "stream.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
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

static int out(struct stream_writer *w, const void *buf, size_t len)
{
	w->wire += len;
	return w->sink(w->sink_ctx, buf, len);
}

/* A frame whose payload is separate from the data buffer. */
static int send_frame(struct stream_writer *w, uint32_t type, uint64_t offset,
		      const void *payload, uint32_t length)
{
	uint8_t hdr[STREAM_FRAME_HEADER_LEN];
	encode_header(hdr, type, length, offset);
	int rc = out(w, hdr, sizeof(hdr));
	if (rc == 0 && length)
		rc = out(w, payload, length);
	return rc;
}

void stream_checkpoint_encode(const struct stream_checkpoint *c, uint8_t p[STREAM_CHECKPOINT_LEN])
{
	put_be64(p, c->aux);
	put_be32(p + 8, c->level);
	put_be32(p + 12, 0);
	memcpy(p + 16, c->sha, SHA256_STATE_LEN);
	memcpy(p + 16 + SHA256_STATE_LEN, c->aux_sha, SHA256_STATE_LEN);
}

void stream_checkpoint_decode(const uint8_t *p, uint64_t offset, struct stream_checkpoint *c)
{
	c->offset = offset;
	c->aux = get_be64(p);
	c->level = get_be32(p + 8);
	memcpy(c->sha, p + 16, SHA256_STATE_LEN);
	memcpy(c->aux_sha, p + 16 + SHA256_STATE_LEN, SHA256_STATE_LEN);
}

int stream_write_hello(struct stream_writer *w, const char *json)
{
	size_t len = strlen(json);
	if (len > STREAM_MAX_HELLO)
		return -E2BIG;
	uint8_t pre[STREAM_PREAMBLE_LEN] = { 0 };
	memcpy(pre, STREAM_MAGIC, 8);
	put_be32(pre + 8, STREAM_VERSION);
	int rc = out(w, pre, sizeof(pre));
	return rc ? rc : send_frame(w, FRAME_HELLO, 0, json, (uint32_t)len);
}

static int flush_data(struct stream_writer *w)
{
	if (!w->pending)
		return 0;
	uint64_t start = w->offset - w->pending;
	encode_header(w->buf, FRAME_DATA, (uint32_t)w->pending, start);
	int rc = out(w, w->buf, STREAM_FRAME_HEADER_LEN + w->pending);
	w->pending = 0;
	return rc;
}

int stream_writer_resume(struct stream_writer *w, uint64_t offset,
			 const uint8_t state[SHA256_STATE_LEN])
{
	struct sha256 sha;
	int rc = sha256_import(&sha, state);
	if (rc < 0)
		return rc;
	if (sha256_length(&sha) != offset) {
		sha256_abandon(&sha);
		return -EINVAL;
	}
	sha256_abandon(&w->sha);
	w->sha = sha;
	w->offset = offset;
	w->pending = 0;
	return 0;
}

int stream_write_checkpoint(struct stream_writer *w, struct stream_checkpoint *c)
{
	int rc = flush_data(w);
	if (rc)
		return rc;
	uint8_t p[STREAM_CHECKPOINT_LEN];
	c->offset = w->offset;
	sha256_export(&w->sha, c->sha);
	stream_checkpoint_encode(c, p);
	return send_frame(w, FRAME_CHECKPOINT, w->offset, p, sizeof(p));
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

int stream_write_unreadable(struct stream_writer *w, uint64_t off, uint64_t len,
			    const char *owner, size_t olen)
{
	uint8_t p[STREAM_MAX_UNREADABLE];
	if (olen > STREAM_MAX_OWNER)
		return -E2BIG;
	int rc = flush_data(w);
	if (rc)
		return rc;
	put_be64(p, len);
	if (olen)
		memcpy(p + 8, owner, olen);
	return send_frame(w, FRAME_UNREADABLE, off, p, (uint32_t)(8 + olen));
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

bool stream_checkpoint_has_state(const struct stream_checkpoint *c)
{
	for (size_t i = 0; i < SHA256_STATE_LEN; i++)
		if (c->sha[i])
			return true;
	return false;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int unhex(const char *s, size_t len, uint8_t *out, size_t n)
{
	if (len != 2 * n)
		return -EPROTO;
	for (size_t i = 0; i < 2 * n; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (v < 0)
			return -EPROTO;
		out[i / 2] = (uint8_t)(i % 2 ? (out[i / 2] | v) : v << 4);
	}
	return 0;
}

void stream_ready_format(char *buf, size_t cap, const struct stream_checkpoint *c)
{
	char a[2 * SHA256_STATE_LEN + 1] = "-", b[2 * SHA256_STATE_LEN + 1] = "-";
	if (stream_checkpoint_has_state(c)) {
		hex(c->sha, SHA256_STATE_LEN, a);
		hex(c->aux_sha, SHA256_STATE_LEN, b);
	}
	snprintf(buf, cap, "READY %" PRIu64 " %" PRIu64 " %" PRIu32 " %s %s", c->offset, c->aux,
		 c->level, a, b);
}

/* One space-separated decimal number at *p, advancing past it. */
static int take_u64(const char **p, uint64_t *v)
{
	const char *s = *p;
	if (*s < '0' || *s > '9')
		return -EPROTO;
	uint64_t n = 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (UINT64_MAX - 9) / 10)
			return -EPROTO;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	if (*s != ' ' && *s != '\0' && *s != '\n')
		return -EPROTO;
	*v = n;
	*p = *s == ' ' ? s + 1 : s;
	return 0;
}

static int take_state(const char **p, uint8_t *out)
{
	const char *s = *p;
	size_t len = strcspn(s, " \n");
	memset(out, 0, SHA256_STATE_LEN);
	*p = s[len] == ' ' ? s + len + 1 : s + len;
	if (len == 1 && s[0] == '-')
		return 1;
	return unhex(s, len, out, SHA256_STATE_LEN);
}

int stream_ready_parse(const char *line, struct stream_checkpoint *c)
{
	memset(c, 0, sizeof(*c));
	if (strncmp(line, "READY ", 6))
		return -EPROTO;
	const char *p = line + 6;
	uint64_t level;
	int a, b;
	if (take_u64(&p, &c->offset) < 0 || take_u64(&p, &c->aux) < 0 ||
	    take_u64(&p, &level) < 0 || level > 100 ||
	    (a = take_state(&p, c->sha)) < 0 || (b = take_state(&p, c->aux_sha)) < 0 ||
	    a != b || (*p && *p != '\n'))
		goto bad;
	c->level = (uint32_t)level;
	if (a == 1 && (c->offset || c->aux))
		goto bad;   /* a resume point needs its hash state */
	return 0;
bad:
	memset(c, 0, sizeof(*c));
	return -EPROTO;
}

int stream_ack_parse(const char *line, uint64_t *offset, uint64_t *wire)
{
	if (strncmp(line, "ACK ", 4))
		return -EPROTO;
	const char *p = line + 4;
	if (take_u64(&p, offset) < 0 || take_u64(&p, wire) < 0 || (*p && *p != '\n'))
		return -EPROTO;
	return 0;
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
	if (version < STREAM_VERSION_MIN || version > STREAM_VERSION) {
		log_error("p2v stream version %u is not supported (this ct-import speaks %u to %u)",
			  version, STREAM_VERSION_MIN, STREAM_VERSION);
		return -EPROTO;
	}
	return (int)version;
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
	case FRAME_CHECKPOINT: return STREAM_CHECKPOINT_LEN;
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
	bool exact = h->type == FRAME_ZERO || h->type == FRAME_END || h->type == FRAME_CHECKPOINT;
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
