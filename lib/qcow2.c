/* Streaming qcow2 v3 writer; see qcow2.h for the layout and memory bounds. */
#include "qcow2.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "log.h"
#include "util.h"

#define CS          ((uint64_t)QCOW2_CLUSTER_SIZE)
#define L2_BITS     (QCOW2_CLUSTER_BITS - 3)           /* 8192 entries, 512 MiB */
#define L2_ENTRIES  (1u << L2_BITS)
#define RB_BITS     (QCOW2_CLUSTER_BITS - 1)           /* 32768 16-bit refcounts */
#define RB_ENTRIES  (1u << RB_BITS)
#define OBUF_CLUSTERS 16                               /* 1 MiB of output batched per pwrite */
#define CSIZE_SHIFT (62 - (QCOW2_CLUSTER_BITS - 8))
#define OFFSET_MASK ((1ull << 56) - 512)              /* L1/L2 offset bits 9..55 */
/* qemu's limit on the L1 table (32 MiB), i.e. a 2 PiB disk. */
#define MAX_L1_ENTRIES (32u * 1024 * 1024 / 8)
/* A compressed cluster must save at least a sector: a barely smaller one
 * costs decompression on every read and copy-on-write on every write. */
#define COMPRESS_BOUND (CS - 512)

struct qcow2_writer {
	int fd;
	uint64_t size;
	enum qcow2_compression comp;
	int level;
	z_stream zs;
	bool zs_ready;
	ZSTD_CCtx *zctx;            /* zstd clusters, or the probe before deflate */
	uint8_t *zbuf;              /* compressed output of one cluster */

	uint64_t pos;               /* end of the previous write */
	uint8_t *cur;               /* guest cluster being assembled, zero-filled */
	uint64_t cur_idx;
	bool cur_used;

	uint64_t *l1;               /* big-endian entries */
	uint32_t l1_size;
	uint64_t *l2;               /* big-endian entries of L2 table l2_idx */
	uint64_t l2_idx;
	bool l2_used;

	uint64_t next;              /* next free host cluster */
	uint8_t *obuf;              /* host clusters [obuf_start, next) not yet written */
	uint64_t obuf_start;
	uint64_t cpos, cend;        /* open compressed-data area, bytes; empty if equal */

	uint16_t *rblock;           /* refcounts of host clusters in span rb_idx */
	uint64_t rb_idx;
	uint64_t *rtable;           /* host offsets of written refcount blocks */
	size_t rtable_len, rtable_cap;

	struct qcow2_stats st;
	bool failed, finished;
};

uint64_t qcow2_l2_entry(uint64_t host_offset)
{
	return (host_offset & OFFSET_MASK) | QCOW2_OFLAG_COPIED;
}

uint64_t qcow2_compressed_entry(uint64_t host_offset, size_t len)
{
	uint64_t extra = ((host_offset + len - 1) >> 9) - (host_offset >> 9);
	return QCOW2_OFLAG_COMPRESSED | extra << CSIZE_SHIFT |
	       (host_offset & ((1ull << CSIZE_SHIFT) - 1));
}

static int pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			log_error("qcow2: write at %llu: %s", (unsigned long long)off, strerror(e));
			return -e;
		}
		p += n, len -= (size_t)n, off += (uint64_t)n;
	}
	return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	return p[0] == 0 && memcmp(p, p + 1, n - 1) == 0;
}

static int flush_obuf(struct qcow2_writer *w)
{
	uint64_t n = w->next - w->obuf_start;
	if (n == 0)
		return 0;
	int r = pwrite_full(w->fd, w->obuf, n * CS, w->obuf_start * CS);
	w->obuf_start = w->next;
	return r;
}

/* Copy bytes to host offset off: into the buffer, or straight to the file
 * for the part of an open compressed area already flushed. */
static int put_bytes(struct qcow2_writer *w, uint64_t off, const void *buf, size_t len)
{
	uint64_t bstart = w->obuf_start * CS;
	if (off < bstart) {
		size_t n = (size_t)(bstart - off) < len ? (size_t)(bstart - off) : len;
		int r = pwrite_full(w->fd, buf, n, off);
		if (r < 0)
			return r;
		off += n, len -= n, buf = (const uint8_t *)buf + n;
	}
	if (len)
		memcpy(w->obuf + (off - bstart), buf, len);
	return 0;
}

static void rb_to_be(uint8_t *dst, const uint16_t *counts)
{
	for (size_t i = 0; i < RB_ENTRIES; i++) {
		dst[2 * i] = (uint8_t)(counts[i] >> 8);
		dst[2 * i + 1] = (uint8_t)counts[i];
	}
}

static int rtable_push(struct qcow2_writer *w, uint64_t host_offset)
{
	if (w->rtable_len == w->rtable_cap) {
		size_t cap = w->rtable_cap ? 2 * w->rtable_cap : 64;
		uint64_t *t = realloc(w->rtable, cap * sizeof(*t));
		if (!t) {
			log_error("qcow2: out of memory");
			return -ENOMEM;
		}
		w->rtable = t, w->rtable_cap = cap;
	}
	w->rtable[w->rtable_len++] = host_offset;
	return 0;
}

/* Hand out host cluster `next` with the given refcount, zero-filled in the
 * output buffer. Crossing into a new 2 GiB refcount span first stores the
 * finished block in the span's first cluster, which closes the compressed
 * area: nothing in the old span changes any more. */
static int alloc_cluster(struct qcow2_writer *w, uint16_t refcount, uint64_t *out)
{
	for (;;) {
		if (w->next - w->obuf_start == OBUF_CLUSTERS) {
			int r = flush_obuf(w);
			if (r < 0)
				return r;
		}
		uint64_t h = w->next;
		uint8_t *p = w->obuf + (h - w->obuf_start) * CS;
		if (h >> RB_BITS == w->rb_idx) {
			memset(p, 0, CS);
			w->rblock[h & (RB_ENTRIES - 1)] = refcount;
			w->next++;
			*out = h;
			return 0;
		}
		w->cpos = w->cend;
		rb_to_be(p, w->rblock);
		int r = rtable_push(w, h * CS);
		if (r < 0)
			return r;
		memset(w->rblock, 0, RB_ENTRIES * sizeof(*w->rblock));
		w->rb_idx = h >> RB_BITS;
		w->rblock[h & (RB_ENTRIES - 1)] = 1;
		w->next++;
	}
}

static int flush_l2(struct qcow2_writer *w)
{
	if (!w->l2_used)
		return 0;
	uint64_t h;
	int r = alloc_cluster(w, 1, &h);
	if (r < 0)
		return r;
	memcpy(w->obuf + (h - w->obuf_start) * CS, w->l2, CS);
	w->l1[w->l2_idx] = htobe64(qcow2_l2_entry(h * CS));
	memset(w->l2, 0, CS);
	w->l2_used = false;
	return 0;
}

/* Compress one cluster into zbuf; the compressed length, or 0 when it
 * does not save enough to be worth storing compressed. */
static size_t compress_cluster(struct qcow2_writer *w, const uint8_t *data)
{
	if (w->comp == QCOW2_COMPRESS_ZSTD) {
		size_t n = ZSTD_compressCCtx(w->zctx, w->zbuf, COMPRESS_BOUND, data, CS, w->level);
		return ZSTD_isError(n) ? 0 : n;
	}
	/* zstd's fast level gives up on noise (encrypted or already compressed
	 * data) an order of magnitude sooner than deflate, which would fail on
	 * it anyway: a cheap probe before the slow attempt. */
	if (ZSTD_isError(ZSTD_compressCCtx(w->zctx, w->zbuf, COMPRESS_BOUND, data, CS, 1)))
		return 0;
	if (deflateReset(&w->zs) != Z_OK)
		return 0;
	w->zs.next_in = (Bytef *)data;
	w->zs.avail_in = CS;
	w->zs.next_out = w->zbuf;
	w->zs.avail_out = COMPRESS_BOUND;
	if (deflate(&w->zs, Z_FINISH) != Z_STREAM_END)
		return 0;
	return COMPRESS_BOUND - w->zs.avail_out;
}

/* Place n compressed bytes in the open area, growing it into the next
 * cluster when that is contiguous and in the same refcount span, else
 * opening a new one. Every host cluster the bytes touch gains a reference. */
static int store_compressed(struct qcow2_writer *w, size_t n, uint64_t *entry)
{
	if (w->cend - w->cpos < n) {
		bool grow = w->cpos < w->cend && w->cend == w->next * CS &&
			    w->next >> RB_BITS == w->rb_idx;
		uint64_t h;
		int r = alloc_cluster(w, 0, &h);
		if (r < 0)
			return r;
		if (!grow)
			w->cpos = h * CS;
		w->cend = (h + 1) * CS;
	}
	int r = put_bytes(w, w->cpos, w->zbuf, n);
	if (r < 0)
		return r;
	for (uint64_t c = w->cpos / CS; c <= (w->cpos + n - 1) / CS; c++)
		w->rblock[c & (RB_ENTRIES - 1)]++;
	*entry = qcow2_compressed_entry(w->cpos, n);
	w->cpos += n;
	return 0;
}

/* Store guest cluster g (CS bytes); all-zero clusters stay unallocated. */
static int emit_cluster(struct qcow2_writer *w, uint64_t g, const uint8_t *data)
{
	if (all_zero(data, CS))
		return 0;
	int r;
	if (g >> L2_BITS != w->l2_idx) {
		if ((r = flush_l2(w)) < 0)
			return r;
		w->l2_idx = g >> L2_BITS;
	}
	uint64_t entry;
	size_t n = w->comp != QCOW2_COMPRESS_NONE ? compress_cluster(w, data) : 0;
	if (n) {
		if ((r = store_compressed(w, n, &entry)) < 0)
			return r;
		w->st.compressed_clusters++;
	} else {
		uint64_t h;
		if ((r = alloc_cluster(w, 1, &h)) < 0)
			return r;
		memcpy(w->obuf + (h - w->obuf_start) * CS, data, CS);
		entry = qcow2_l2_entry(h * CS);
		w->st.data_clusters++;
	}
	w->l2[g & (L2_ENTRIES - 1)] = htobe64(entry);
	w->l2_used = true;
	return 0;
}

static int emit_cur(struct qcow2_writer *w)
{
	int r = emit_cluster(w, w->cur_idx, w->cur);
	memset(w->cur, 0, CS);
	w->cur_used = false;
	return r;
}

int qcow2_writer_open(int fd, uint64_t virtual_size, const struct qcow2_opts *o,
		      struct qcow2_writer **out)
{
	struct qcow2_opts none = { QCOW2_COMPRESS_NONE, 0 };
	if (!o)
		o = &none;
	if (virtual_size % 512) {
		log_error("qcow2: size %llu is not a whole number of 512-byte sectors",
			  (unsigned long long)virtual_size);
		return -EINVAL;
	}
	uint64_t l1 = (virtual_size + (CS << L2_BITS) - 1) >> (QCOW2_CLUSTER_BITS + L2_BITS);
	if (virtual_size > (1ull << 62) || l1 > MAX_L1_ENTRIES) {
		log_error("qcow2: size %llu is too large", (unsigned long long)virtual_size);
		return -EFBIG;
	}
	if (o->compression > QCOW2_COMPRESS_ZSTD) {
		log_error("qcow2: unknown compression %d", (int)o->compression);
		return -EINVAL;
	}
	struct qcow2_writer *w = calloc(1, sizeof(*w));
	if (!w) {
		log_error("qcow2: out of memory");
		return -ENOMEM;
	}
	w->fd = fd;
	w->size = virtual_size;
	w->comp = o->compression;
	w->l1_size = (uint32_t)l1;
	w->l1 = calloc(l1 ? l1 : 1, sizeof(uint64_t));
	w->l2 = calloc(1, CS);
	w->cur = calloc(1, CS);
	w->obuf = malloc(OBUF_CLUSTERS * CS);
	w->rblock = calloc(RB_ENTRIES, sizeof(uint16_t));
	bool ok = w->l1 && w->l2 && w->cur && w->obuf && w->rblock;
	if (ok && w->comp != QCOW2_COMPRESS_NONE)
		ok = (w->zbuf = malloc(CS)) != NULL;
	if (ok && w->comp != QCOW2_COMPRESS_NONE)
		ok = (w->zctx = ZSTD_createCCtx()) != NULL;
	if (ok && w->comp == QCOW2_COMPRESS_ZSTD) {
		w->level = o->level ? o->level : ZSTD_CLEVEL_DEFAULT;
	} else if (ok && w->comp == QCOW2_COMPRESS_DEFLATE) {
		w->level = o->level ? o->level : Z_DEFAULT_COMPRESSION;
		/* qemu inflates with a 4 KiB window (-12: raw deflate). */
		ok = deflateInit2(&w->zs, w->level, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY) == Z_OK;
		w->zs_ready = ok;
	}
	if (!ok) {
		log_error("qcow2: out of memory or bad compression level %d", o->level);
		qcow2_writer_free(w);
		return -ENOMEM;
	}
	/* Cluster 0 is the header, written by finish; data starts at 1. */
	w->rblock[0] = 1;
	w->next = w->obuf_start = 1;
	*out = w;
	return 0;
}

int qcow2_writer_write(struct qcow2_writer *w, uint64_t offset, const void *buf, size_t len)
{
	if (w->failed || w->finished) {
		log_error("qcow2: write after %s", w->failed ? "an error" : "finish");
		return -EINVAL;
	}
	if (offset < w->pos || offset > w->size || len > w->size - offset) {
		log_error("qcow2: write of %zu bytes at %llu is out of order or past the end "
			  "(previous write ended at %llu, size %llu)", len,
			  (unsigned long long)offset, (unsigned long long)w->pos,
			  (unsigned long long)w->size);
		w->failed = true;
		return -EINVAL;
	}
	const uint8_t *p = buf;
	int r = 0;
	while (len && r == 0) {
		uint64_t g = offset / CS;
		size_t in = (size_t)(offset % CS);
		if (w->cur_used && g != w->cur_idx && (r = emit_cur(w)) < 0)
			break;
		size_t n;
		if (in == 0 && len >= CS) {
			n = CS;     /* a whole cluster: straight from the caller's buffer */
			r = emit_cluster(w, g, p);
		} else {
			n = CS - in < len ? CS - in : len;
			memcpy(w->cur + in, p, n);
			w->cur_idx = g;
			w->cur_used = true;
			if (in + n == CS)
				r = emit_cur(w);
		}
		offset += n, p += n, len -= n;
	}
	w->pos = offset;
	if (r < 0)
		w->failed = true;
	return r;
}

/* The tail: after the L1 table at F come the remaining refcount blocks and
 * the refcount table, sized together since each counts the others. */
static int write_tail(struct qcow2_writer *w, uint64_t *rt_off, uint32_t *rt_clusters,
		      uint64_t *l1_off)
{
	int r = flush_obuf(w);
	if (r < 0)
		return r;
	uint64_t l1_clusters = ((uint64_t)w->l1_size * 8 + CS - 1) / CS;
	if (!l1_clusters)
		l1_clusters = 1;
	uint64_t f = w->next, nblocks = w->rb_idx + 1, t = 1, end;
	for (;;) {
		end = f + l1_clusters + (nblocks - w->rb_idx) + t;
		if (nblocks << RB_BITS < end)
			nblocks++;
		else if (t * CS / 8 < nblocks)
			t++;
		else
			break;
	}
	*l1_off = f * CS;
	if ((r = pwrite_full(w->fd, w->l1, w->l1_size * 8, *l1_off)) < 0)
		return r;
	uint64_t rb_first = f + l1_clusters;
	uint8_t *be = w->obuf;      /* reused: one cluster of big-endian block */
	for (uint64_t b = w->rb_idx; b < nblocks; b++) {
		if (b != w->rb_idx)
			memset(w->rblock, 0, RB_ENTRIES * sizeof(*w->rblock));
		for (uint64_t c = b << RB_BITS; c < (b + 1) << RB_BITS; c++)
			if (c >= f && c < end)
				w->rblock[c & (RB_ENTRIES - 1)] = 1;
		rb_to_be(be, w->rblock);
		uint64_t at = (rb_first + b - w->rb_idx) * CS;
		if ((r = pwrite_full(w->fd, be, CS, at)) < 0 || (r = rtable_push(w, at)) < 0)
			return r;
	}
	/* The table, zero-padded to whole clusters, in big-endian. */
	uint64_t rt_at = (rb_first + nblocks - w->rb_idx) * CS;
	for (uint64_t i = 0; i < t * CS / 8; i += CS / 8) {
		uint64_t *chunk = (uint64_t *)be;
		for (uint64_t j = 0; j < CS / 8; j++)
			chunk[j] = i + j < w->rtable_len ? htobe64(w->rtable[i + j]) : 0;
		if ((r = pwrite_full(w->fd, be, CS, rt_at + i * 8)) < 0)
			return r;
	}
	/* The L1 table's clusters past its entries stay a hole: zeros. The file
	 * ends at the table's end, so extend it there. */
	w->next = end;
	*rt_off = rt_at;
	*rt_clusters = (uint32_t)t;
	if (ftruncate(w->fd, (off_t)(end * CS)) < 0) {
		int e = errno;
		log_error("qcow2: extend image: %s", strerror(e));
		return -e;
	}
	return 0;
}

int qcow2_writer_finish(struct qcow2_writer *w)
{
	if (w->failed || w->finished) {
		log_error("qcow2: finish after %s", w->failed ? "an error" : "finish");
		return -EINVAL;
	}
	int r = 0;
	uint64_t rt_off = 0, l1_off = 0;
	uint32_t rt_clusters = 0;
	if (w->cur_used)
		r = emit_cur(w);
	if (r == 0)
		r = flush_l2(w);
	w->cpos = w->cend;
	if (r == 0)
		r = write_tail(w, &rt_off, &rt_clusters, &l1_off);
	if (r < 0) {
		w->failed = true;
		return r;
	}
	uint8_t *h = w->cur;        /* zeroed by emit_cur or never used */
	memset(h, 0, CS);
	put_be32(h + 0, 0x514649fb);           /* "QFI\xfb" */
	put_be32(h + 4, 3);
	put_be32(h + 20, QCOW2_CLUSTER_BITS);
	put_be64(h + 24, w->size);
	put_be32(h + 36, w->l1_size);
	put_be64(h + 40, l1_off);
	put_be64(h + 48, rt_off);
	put_be32(h + 56, rt_clusters);
	put_be64(h + 72, w->comp == QCOW2_COMPRESS_ZSTD ? QCOW2_INCOMPAT_COMPRESSION : 0);
	put_be32(h + 96, 4);                   /* refcount_order: 16-bit */
	put_be32(h + 100, QCOW2_HEADER_LENGTH);
	h[104] = w->comp == QCOW2_COMPRESS_ZSTD ? 1 : 0;
	/* Bytes 112..119: the end-of-extensions marker, all zeros. */
	if ((r = pwrite_full(w->fd, h, CS, 0)) < 0) {
		w->failed = true;
		return r;
	}
	w->st.file_size = w->next * CS;
	w->finished = true;
	return 0;
}

void qcow2_writer_stats(const struct qcow2_writer *w, struct qcow2_stats *st)
{
	*st = w->st;
	if (!w->finished)
		st->file_size = w->next * CS;
}

void qcow2_writer_free(struct qcow2_writer *w)
{
	if (!w)
		return;
	if (w->zs_ready)
		deflateEnd(&w->zs);
	ZSTD_freeCCtx(w->zctx);
	free(w->zbuf);
	free(w->cur);
	free(w->l1);
	free(w->l2);
	free(w->obuf);
	free(w->rblock);
	free(w->rtable);
	free(w);
}
