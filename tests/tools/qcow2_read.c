#include "qcow2_read.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#define CS 65536u
#define COPIED (1ull << 63)
#define COMPRESSED (1ull << 62)

static int fail(struct qcow2_image *im, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(im->err, sizeof(im->err), fmt, ap);
	va_end(ap);
	return -1;
}

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static int read_exact(struct qcow2_image *im, void *buf, size_t len, uint64_t off)
{
	if (off > im->file_size || len > im->file_size - off)
		return fail(im, "%zu bytes at %llu lie beyond the file's %llu", len,
			    (unsigned long long)off, (unsigned long long)im->file_size);
	if (pread(im->fd, buf, len, (off_t)off) != (ssize_t)len)
		return fail(im, "cannot read %zu bytes at %llu", len, (unsigned long long)off);
	return 0;
}

static int ref(struct qcow2_image *im, uint64_t off, const char *what)
{
	if (off / CS >= im->nrefs)
		return fail(im, "%s at %llu lies beyond the file", what, (unsigned long long)off);
	im->refs[off / CS]++;
	return 0;
}

int qcow2_read_open(struct qcow2_image *im, int fd)
{
	memset(im, 0, sizeof(*im));
	im->fd = fd;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return fail(im, "cannot stat the image");
	im->file_size = (uint64_t)st.st_size;
	if (im->file_size < CS || im->file_size % CS)
		return fail(im, "file size %llu is not a whole number of clusters",
			    (unsigned long long)im->file_size);
	if (read_exact(im, im->header, sizeof(im->header), 0) < 0)
		return -1;
	const uint8_t *h = im->header;
	if (be(h, 4) != 0x514649fb || be(h + 4, 4) != 3)
		return fail(im, "not a qcow2 version 3 header");
	if (be(h + 8, 8) || be(h + 32, 4) || be(h + 60, 4))
		return fail(im, "backing file, encryption or snapshots present");
	if (be(h + 20, 4) != 16 || be(h + 96, 4) != 4 || be(h + 100, 4) < 104)
		return fail(im, "not 64 KiB clusters with 16-bit refcounts");
	im->virtual_size = be(h + 24, 8);
	im->l1_size = (uint32_t)be(h + 36, 4);
	im->l1_offset = be(h + 40, 8);
	im->rt_offset = be(h + 48, 8);
	im->rt_clusters = (uint32_t)be(h + 56, 4);
	uint64_t incompat = be(h + 72, 8);
	if (incompat & ~8ull)
		return fail(im, "unknown incompatible features %llx", (unsigned long long)incompat);
	im->zstd = incompat & 8;
	if (im->zstd != (be(h + 100, 4) >= 105 && h[104] == 1))
		return fail(im, "compression type and incompatible bit 3 disagree");
	if ((uint64_t)im->l1_size * 8192 * CS < im->virtual_size)
		return fail(im, "L1 table of %u entries does not cover %llu bytes", im->l1_size,
			    (unsigned long long)im->virtual_size);
	if (im->l1_offset % CS || im->rt_offset % CS || !im->rt_clusters)
		return fail(im, "unaligned L1 or refcount table");
	im->nrefs = im->file_size / CS;
	im->refs = calloc(im->nrefs, sizeof(*im->refs));
	im->l1 = malloc((size_t)im->l1_size * 8 + 1);
	im->l2 = malloc(CS);
	if (!im->refs || !im->l1 || !im->l2)
		return fail(im, "out of memory");
	return read_exact(im, im->l1, (size_t)im->l1_size * 8, im->l1_offset);
}

static int inflate_cluster(struct qcow2_image *im, const uint8_t *c, size_t len, uint8_t *out)
{
	if (im->zstd) {
		ZSTD_DCtx *d = ZSTD_createDCtx();
		ZSTD_inBuffer in = { c, len, 0 };
		ZSTD_outBuffer o = { out, CS, 0 };
		size_t r = 0;
		while (o.pos < o.size) {
			size_t in0 = in.pos, out0 = o.pos;
			r = ZSTD_decompressStream(d, &o, &in);
			if (ZSTD_isError(r) || (in.pos == in0 && o.pos == out0))
				break;
		}
		ZSTD_freeDCtx(d);
		if (ZSTD_isError(r) || o.pos != CS)
			return fail(im, "zstd cluster does not inflate to 64 KiB");
		return 0;
	}
	z_stream z = { 0 };
	if (inflateInit2(&z, -12) != Z_OK)
		return fail(im, "inflateInit2 failed");
	z.next_in = (uint8_t *)c, z.avail_in = (uInt)len;
	z.next_out = out, z.avail_out = CS;
	int r = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	if (!(r == Z_STREAM_END || (r == Z_BUF_ERROR && z.avail_out == 0)) || z.avail_out)
		return fail(im, "deflate cluster does not inflate to 64 KiB");
	return 0;
}

/* Guest cluster g into out; 1 when unallocated, 0 when read, -1 on error. */
static int read_cluster(struct qcow2_image *im, uint64_t g, uint8_t *out)
{
	if (g >> 13 >= im->l1_size)
		return fail(im, "guest cluster %llu beyond the L1 table", (unsigned long long)g);
	uint64_t l1 = be(im->l1 + (g >> 13) * 8, 8);
	if (!l1)
		return 1;
	if (!(l1 & COPIED) || (l1 & ~COPIED) % CS)
		return fail(im, "L1 entry %llu is %llx", (unsigned long long)(g >> 13),
			    (unsigned long long)l1);
	if (im->l2_offset != (l1 & ~COPIED)) {
		if (read_exact(im, im->l2, CS, l1 & ~COPIED) < 0)
			return -1;
		im->l2_offset = l1 & ~COPIED;
	}
	uint64_t l2 = be(im->l2 + (g & 8191) * 8, 8);
	if (!l2)
		return 1;
	if (l2 & COMPRESSED) {
		if (l2 & COPIED)
			return fail(im, "compressed cluster %llu marked copied", (unsigned long long)g);
		uint64_t off = l2 & ((1ull << 54) - 1);
		size_t len = (((l2 >> 54) & 0xff) + 1) * 512 - (off & 511);
		uint8_t *c = malloc(len);
		if (!c)
			return fail(im, "out of memory");
		/* The last sector may run past the end of the file. */
		uint64_t have = off < im->file_size ? im->file_size - off : 0;
		size_t n = len < have ? len : (size_t)have;
		int rc = read_exact(im, c, n, off);
		for (uint64_t k = off / CS; rc == 0 && k <= (off + n - 1) / CS; k++)
			rc = ref(im, k * CS, "compressed cluster");
		if (rc == 0)
			rc = inflate_cluster(im, c, n, out);
		free(c);
		return rc;
	}
	uint64_t off = l2 & 0x00fffffffffffe00ull;
	if (!(l2 & COPIED) || off % CS || (l2 & 1))
		return fail(im, "L2 entry of guest cluster %llu is %llx", (unsigned long long)g,
			    (unsigned long long)l2);
	if (ref(im, off, "data cluster") < 0)
		return -1;
	return read_exact(im, out, CS, off);
}

static int check_refcounts(struct qcow2_image *im)
{
	int rc = ref(im, 0, "header");
	uint64_t l1_bytes = (uint64_t)im->l1_size * 8;
	for (uint64_t o = 0; rc == 0 && o < l1_bytes; o += CS)
		rc = ref(im, im->l1_offset + o, "L1 table");
	for (uint32_t i = 0; rc == 0 && i < im->l1_size; i++) {
		uint8_t e[8];
		if ((rc = read_exact(im, e, 8, im->l1_offset + i * 8ull)) == 0 && be(e, 8))
			rc = ref(im, be(e, 8) & ~COPIED, "L2 table");
	}
	uint64_t rt_bytes = (uint64_t)im->rt_clusters * CS;
	uint8_t *rt = rc == 0 ? malloc(rt_bytes) : NULL;
	if (rc == 0 && !rt)
		rc = fail(im, "out of memory");
	if (rc == 0)
		rc = read_exact(im, rt, rt_bytes, im->rt_offset);
	for (uint32_t i = 0; rc == 0 && i < im->rt_clusters; i++)
		rc = ref(im, im->rt_offset + (uint64_t)i * CS, "refcount table");
	for (uint64_t i = 0; rc == 0 && i < rt_bytes / 8 && be(rt + 8 * i, 8); i++)
		rc = ref(im, be(rt + 8 * i, 8), "refcount block");
	for (size_t k = 0; rc == 0 && k < im->nrefs; k++) {
		uint64_t blk = be(rt + 8 * (k / (CS / 2)), 8);
		uint8_t b[2];
		if (!blk) {
			rc = fail(im, "host cluster %zu has no refcount block", k);
		} else if ((rc = read_exact(im, b, 2, blk + (k % (CS / 2)) * 2)) == 0 &&
			   im->refs[k] != be(b, 2)) {
			rc = fail(im, "host cluster %zu: %u references, refcount %u", k, im->refs[k],
				  (unsigned)be(b, 2));
		}
	}
	free(rt);
	return rc;
}

int qcow2_read_all(struct qcow2_image *im, qcow2_cluster_fn fn, void *ctx)
{
	uint8_t *c = malloc(CS);
	if (!c)
		return fail(im, "out of memory");
	int rc = 0;
	for (uint64_t g = 0; rc == 0 && g < (im->virtual_size + CS - 1) / CS; g++) {
		rc = read_cluster(im, g, c);
		if (rc >= 0)
			rc = fn(ctx, g, rc == 1 ? NULL : c);
	}
	free(c);
	return rc ? rc : check_refcounts(im);
}

void qcow2_read_close(struct qcow2_image *im)
{
	free(im->refs);
	free(im->l1);
	free(im->l2);
	im->refs = NULL;
	im->l1 = im->l2 = NULL;
}
