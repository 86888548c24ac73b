#include "disk_send.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "disk_hash.h"
#include "log.h"
#include "util.h"

/* Enough read buffers that the hasher can trail the reader by a few
 * windows without stalling it. */
#define NBUF 4
/* The most runs a window can split into (1 KiB blocks, alternating). */
#define MAX_RUNS (DISK_WINDOW / 1024 / 2 + 4)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read the spans of a window into buf (which maps the window at woff). A
 * bad sector is isolated by read_bisect; what stays unreadable is zeros
 * in buf and listed in s->unreadable, and fails the copy unless the
 * policy is zero. */
static int read_spans(struct disk_source *s, const struct run_list *spans, uint64_t woff,
		      uint8_t *buf, struct sector_reader *rd, struct disk_send_stats *st)
{
	for (size_t i = 0; i < spans->n; i++) {
		const struct run *r = &spans->v[i];
		size_t had = s->unreadable.n;
		struct bad_range last = had ? s->unreadable.v[had - 1] : (struct bad_range){ 0 };
		int64_t lost = read_bisect(sector_pread, rd, buf + (r->off - woff), r->len, r->off,
					   rd->sector, &s->unreadable, NULL);
		sector_reader_reset(rd);
		if (lost < 0) {
			log_error("%s: reading %llu bytes at offset %llu: %s", s->path,
				  (unsigned long long)r->len, (unsigned long long)r->off,
				  strerror((int)-lost));
			return (int)lost;
		}
		st->read_bytes += r->len;
		if (!lost)
			continue;
		/* A range that grew by merging is logged again, whole. */
		size_t from = had && memcmp(&last, &s->unreadable.v[had - 1], sizeof(last)) ? had - 1 : had;
		for (size_t j = from; j < s->unreadable.n; j++)
			log_warn("%s: %llu bytes at offset %llu cannot be read%s", s->path,
				 (unsigned long long)s->unreadable.v[j].len,
				 (unsigned long long)s->unreadable.v[j].off,
				 s->on_read_error == READ_ERROR_ZERO ? "; zero-filled" : "");
		st->unreadable_bytes += (uint64_t)lost;
		if (s->on_read_error != READ_ERROR_ZERO) {
			log_error("%s has unreadable sectors; stopping (--on-read-error=zero would "
				  "zero-fill and list them)", s->path);
			return -EIO;
		}
	}
	return 0;
}

/* Zero what lies outside the used runs: free blocks read within a span and
 * bytes never read at all both arrive as zeros. */
static void zero_unused(const struct run_list *used, uint64_t woff, size_t wlen, uint8_t *buf)
{
	uint64_t p = woff;
	for (size_t i = 0; i < used->n; i++) {
		if (used->v[i].off > p)
			memset(buf + (p - woff), 0, used->v[i].off - p);
		p = used->v[i].off + used->v[i].len;
	}
	if (p < woff + wlen)
		memset(buf + (p - woff), 0, woff + wlen - p);
}

static int emit_window(const uint8_t *buf, uint64_t woff, size_t wlen, disk_emit_fn emit,
		       void *ctx, struct run_list *nz, struct disk_send_stats *st)
{
	for (size_t c = 0; c < wlen; c += DISK_CHUNK) {
		size_t clen = wlen - c < DISK_CHUNK ? wlen - c : DISK_CHUNK;
		int rc = nonzero_runs(buf + c, woff + c, clen, DISK_GRAIN, nz);
		for (size_t i = 0; rc == 0 && i < nz->n; i++) {
			rc = emit(ctx, nz->v[i].off, buf + (nz->v[i].off - woff), nz->v[i].len);
			st->data_bytes += nz->v[i].len;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

int disk_send(struct disk_source *s, disk_emit_fn emit, void *emit_ctx,
	      struct progress *prog, const uint64_t *sent,
	      const volatile sig_atomic_t *stop, struct disk_send_stats *st)
{
	return disk_send_from(s, emit, emit_ctx, prog, sent, stop, NULL, st);
}

int disk_send_from(struct disk_source *s, disk_emit_fn emit, void *emit_ctx,
		   struct progress *prog, const uint64_t *sent,
		   const volatile sig_atomic_t *stop, const struct disk_resume *r,
		   struct disk_send_stats *st)
{
	struct run used_v[MAX_RUNS], span_v[MAX_RUNS], nz_v[DISK_CHUNK / DISK_GRAIN + 1];
	struct run_list used = { used_v, 0, MAX_RUNS }, spans = { span_v, 0, MAX_RUNS },
			nz = { nz_v, 0, ARRAY_SIZE(nz_v) };
	struct disk_hasher *h;
	*st = (struct disk_send_stats){ .size = s->size };
	struct sector_reader rd;
	sector_reader_init(&rd, s->fd, s->path, sector_size_of(s->fd));
	uint64_t start = r ? r->start : 0;
	if ((start % DISK_WINDOW && start != s->size) || start > s->size)
		return -EINVAL;
	int rc = disk_hasher_start_at(&h, NBUF, DISK_WINDOW, r && start ? r->state : NULL);
	if (rc < 0)
		return rc;
	for (uint64_t woff = start; woff < s->size && rc == 0; woff += DISK_WINDOW) {
		size_t wlen = s->size - woff < DISK_WINDOW ? (size_t)(s->size - woff) : DISK_WINDOW;
		if (stop && *stop) {
			log_error("interrupted by signal %d", (int)*stop);
			rc = -EINTR;
			break;
		}
		if ((rc = layout_used_runs(&s->layout, woff, wlen, &used)) < 0 ||
		    (rc = runs_merge(&used, DISK_READ_GAP, &spans)) < 0) {
			log_error("%s: internal error mapping offset %llu", s->path,
				  (unsigned long long)woff);
			break;
		}
		if (!used.n) {
			/* Nothing used here: not read, hashed as zeros. */
			disk_hasher_zeros(h, wlen);
		} else {
			uint8_t *buf = disk_hasher_buffer(h);
			if ((rc = read_spans(s, &spans, woff, buf, &rd, st)) < 0)
				break;
			zero_unused(&used, woff, wlen, buf);
			disk_hasher_submit(h, wlen);
			rc = emit_window(buf, woff, wlen, emit, emit_ctx, &nz, st);
		}
		if (rc == 0 && r && r->checkpoint && r->want(r->ctx, woff + wlen)) {
			uint8_t state[SHA256_STATE_LEN];
			disk_hasher_state(h, state);
			rc = r->checkpoint(r->ctx, woff + wlen, state);
		}
		if (prog)
			progress_update(prog, woff + wlen, sent ? *sent : st->data_bytes);
	}
	double t = now();
	sector_reader_free(&rd);
	disk_hasher_finish(h, rc == 0 ? st->digest : NULL);
	st->hash_wait = now() - t;
	return rc;
}

int disk_frames_init(struct disk_frames *f, stream_sink_fn sink, void *sink_ctx, int level)
{
	*f = (struct disk_frames){ .sink = sink, .sink_ctx = sink_ctx, .level = level };
	f->out = malloc(STREAM_FRAME_HEADER_LEN + 4 + ZSTD_compressBound(DISK_CHUNK));
	if (!f->out)
		return -ENOMEM;
	if (level > 0) {
		if (!(f->cctx = ZSTD_createCCtx())) {
			disk_frames_free(f);
			return -ENOMEM;
		}
		ZSTD_CCtx_setParameter(f->cctx, ZSTD_c_compressionLevel, level);
		/* No checksum: the stream's SHA-256 covers the content. */
		ZSTD_CCtx_setParameter(f->cctx, ZSTD_c_checksumFlag, 0);
	}
	return 0;
}

static void put_header(uint8_t *p, uint32_t type, uint32_t len, uint64_t off)
{
	put_be32(p, type);
	put_be32(p + 4, len);
	put_be64(p + 8, off);
}

int disk_frames_emit(void *ctx, uint64_t off, const uint8_t *buf, size_t len)
{
	struct disk_frames *f = ctx;
	uint8_t *h = f->out;
	if (len > DISK_CHUNK)
		return -EINVAL;
	if (f->cctx) {
		size_t cap = ZSTD_compressBound(DISK_CHUNK);
		size_t z = ZSTD_compress2(f->cctx, h + STREAM_FRAME_HEADER_LEN + 4, cap, buf, len);
		if (ZSTD_isError(z)) {
			log_error("zstd: %s", ZSTD_getErrorName(z));
			return -EIO;
		}
		if (z + 4 < len) {
			put_header(h, FRAME_ZDATA, (uint32_t)(z + 4), off);
			put_be32(h + STREAM_FRAME_HEADER_LEN, (uint32_t)len);
			size_t total = STREAM_FRAME_HEADER_LEN + 4 + z;
			f->wire_bytes += total;
			f->zframes++;
			return f->sink(f->sink_ctx, h, total);
		}
	}
	put_header(h, FRAME_DATA, (uint32_t)len, off);
	f->wire_bytes += STREAM_FRAME_HEADER_LEN + len;
	f->frames++;
	int rc = f->sink(f->sink_ctx, h, STREAM_FRAME_HEADER_LEN);
	return rc ? rc : f->sink(f->sink_ctx, buf, len);
}

int disk_frames_end(struct disk_frames *f, uint64_t size, const uint8_t digest[SHA256_LEN])
{
	uint8_t frame[STREAM_FRAME_HEADER_LEN + SHA256_LEN];
	put_header(frame, FRAME_END, SHA256_LEN, size);
	memcpy(frame + STREAM_FRAME_HEADER_LEN, digest, SHA256_LEN);
	f->wire_bytes += sizeof(frame);
	return f->sink(f->sink_ctx, frame, sizeof(frame));
}

void disk_frames_free(struct disk_frames *f)
{
	ZSTD_freeCCtx(f->cctx);
	f->cctx = NULL;
	free(f->out);
	f->out = NULL;
}

int disk_file_emit(void *fdp, uint64_t off, const uint8_t *buf, size_t len)
{
	int fd = *(int *)fdp;
	while (len) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("writing the output at offset %llu: %s", (unsigned long long)off,
				  strerror(errno));
			return -errno;
		}
		buf += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

void disk_send_report(const char *what, const struct disk_source *s, const struct disk_send_stats *st,
		   uint64_t sent, double secs)
{
	char hex[2 * SHA256_LEN + 1], size[32], rd[32], data[32], wire[32];
	sha256_hex(st->digest, hex);
	log_info("%s (%s): %s disk, %s read, %s of data, %s sent in %.1f s; sha256 %s", what,
		 s->path, format_bytes(st->size, size, sizeof(size)),
		 format_bytes(st->read_bytes, rd, sizeof(rd)),
		 format_bytes(st->data_bytes, data, sizeof(data)),
		 format_bytes(sent, wire, sizeof(wire)), secs, hex);
	/* Exact counts, for scripts and tests. */
	log_info("%s: size=%llu read_bytes=%llu data_bytes=%llu sent_bytes=%llu skipped_free=%llu "
		 "unreadable_bytes=%llu",
		 what, (unsigned long long)st->size, (unsigned long long)st->read_bytes,
		 (unsigned long long)st->data_bytes, (unsigned long long)sent,
		 (unsigned long long)s->skipped, (unsigned long long)st->unreadable_bytes);
}
