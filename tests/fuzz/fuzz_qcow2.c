/* The qcow2 writer (lib/qcow2.c) fed a random extent sequence decoded from
 * the input, the way ct-import's disk receiver feeds it: increasing
 * offsets, gaps, random lengths and contents (zero runs included), a random
 * virtual size up to 1.5 GiB (three L2 spans) and a random compression.
 * The image goes to a memfd and is read back by tests/tools/qcow2_read.c (an independent
 * reader that also recounts every refcount) against the content written.
 *
 * With FUZZ_QCOW2_SAVE=DIR each image is also kept as DIR/N.qcow2 beside
 * the raw content DIR/N.raw, for tests/fuzz/qcow2_check_corpus.sh to judge
 * with qemu-img check and compare. */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "log.h"
#include "qcow2.h"
#include "../tools/qcow2_read.h"

#define CS QCOW2_CLUSTER_SIZE
#define MAX_VSIZE (1536ull << 20)   /* three L2 tables' spans */
#define MAX_DATA (2u << 20)    /* bytes written per input, for speed */
#define MAX_EXTENTS 256

struct extent {
	uint64_t off;
	size_t len;
	uint8_t *buf;
};

/* Reads the input as a little stream of integers; zeros once it runs out. */
struct cursor { const uint8_t *p; size_t n; };

static uint64_t take(struct cursor *c, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++) {
		v = v << 8 | (c->n ? *c->p : 0);
		if (c->n)
			c->p++, c->n--;
	}
	return v;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
	return *s;
}

/* Content kinds: noise, a repeated byte, text, sparse bytes, and noise
 * with whole-cluster and partial zero runs cut into it. */
/* Not instrumented: byte loops would dominate the run time. */
__attribute__((no_sanitize("coverage"), noinline))
static void fill(uint8_t *b, size_t len, int kind, uint64_t seed)
{
	uint64_t s = seed | 1;
	switch (kind) {
	case 0:
		for (size_t i = 0; i < len; i++)
			b[i] = (uint8_t)(xorshift(&s) >> 29);
		break;
	case 1:
		memset(b, (int)(seed & 0xff), len);
		break;
	case 2:
		for (size_t i = 0; i < len; i++)
			b[i] = (uint8_t)"a compressible line of text\n"[(i + seed) % 28];
		break;
	case 3:
		memset(b, 0, len);
		for (size_t i = seed % 4099; i < len; i += 1 + xorshift(&s) % 9000)
			b[i] = (uint8_t)(i | 1);
		break;
	default:
		for (size_t i = 0; i < len; i++)
			b[i] = (uint8_t)(xorshift(&s) >> 29);
		for (size_t z = seed % CS; z < len; z += 1 + xorshift(&s) % (3 * CS)) {
			size_t zl = xorshift(&s) % (2 * CS + 1);
			memset(b + z, 0, zl < len - z ? zl : len - z);
		}
		break;
	}
}

struct image {
	struct extent ext[MAX_EXTENTS];
	size_t n;
	uint64_t vsize;
	size_t next;          /* first extent that may overlap the cluster asked */
	uint8_t want[CS];
};

static bool all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static int check_cluster(void *ctx, uint64_t g, const uint8_t *data)
{
	struct image *im = ctx;
	uint64_t base = g * CS, end = base + CS;
	while (im->next < im->n && im->ext[im->next].off + im->ext[im->next].len <= base)
		im->next++;
	bool touched = im->next < im->n && im->ext[im->next].off < end;
	if (!touched && !data)
		return 0;   /* the common case: a gap, unallocated */
	memset(im->want, 0, CS);
	for (size_t i = im->next; i < im->n && im->ext[i].off < end; i++) {
		const struct extent *e = &im->ext[i];
		uint64_t from = e->off > base ? e->off : base;
		uint64_t to = e->off + e->len < end ? e->off + e->len : end;
		if (from < to)
			memcpy(im->want + (from - base), e->buf + (from - e->off), to - from);
	}
	if (!data) {
		if (touched && !all_zero(im->want, CS))
			fuzz_die("guest cluster %llu is unallocated but was written with data",
				 (unsigned long long)g);
		return 0;
	}
	if (all_zero(data, CS))
		fuzz_die("guest cluster %llu is allocated but all zeros", (unsigned long long)g);
	size_t valid = im->vsize - base < CS ? (size_t)(im->vsize - base) : CS;
	if (memcmp(data, im->want, valid)) {
		size_t k = 0;
		while (data[k] == im->want[k])
			k++;
		fuzz_die("guest byte %llu reads %u, %u was written", (unsigned long long)(base + k),
			 data[k], im->want[k]);
	}
	if (!all_zero(data + valid, CS - valid))
		fuzz_die("guest cluster %llu has bytes past the virtual size", (unsigned long long)g);
	return 0;
}

static void save(int fd, const struct image *im)
{
	const char *dir = getenv("FUZZ_QCOW2_SAVE");
	static unsigned seq;
	if (!dir)
		return;
	char path[4096];
	snprintf(path, sizeof(path), "%s/%u.qcow2", dir, seq);
	int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	struct stat st;
	off_t off = 0;
	if (out < 0 || fstat(fd, &st) < 0 || sendfile(out, fd, &off, (size_t)st.st_size) != st.st_size)
		fuzz_die("cannot save %s", path);
	close(out);
	snprintf(path, sizeof(path), "%s/%u.raw", dir, seq++);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0 || ftruncate(out, (off_t)im->vsize) < 0)
		fuzz_die("cannot save %s", path);
	for (size_t i = 0; i < im->n; i++)
		if (pwrite(out, im->ext[i].buf, im->ext[i].len, (off_t)im->ext[i].off) !=
		    (ssize_t)im->ext[i].len)
			fuzz_die("cannot write %s", path);
	close(out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	log_init("fuzz_qcow2");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct image im;
	struct cursor c = { data, size };
	uint8_t head = (uint8_t)take(&c, 1);
	struct qcow2_opts o = { .compression = (enum qcow2_compression)(head % 3),
				.level = (head >> 2) % 4 == 3 ? 1 : 0 };
	im.vsize = (1 + take(&c, 3) % (MAX_VSIZE / 512)) * 512;
	im.n = 0;
	im.next = 0;

	/* Extents: flags, gap, length, seed. */
	uint64_t pos = 0;
	size_t total = 0;
	while (c.n && im.n < MAX_EXTENTS && pos < im.vsize && total < MAX_DATA) {
		uint8_t f = (uint8_t)take(&c, 1);
		uint64_t gap = f & 1 ? take(&c, 3) << (f >> 6 & 3) * 4 : take(&c, 1);
		uint64_t len = f & 2 ? take(&c, 3) % (4u << 20) : 1 + take(&c, 2) % (3 * CS);
		uint64_t seed = take(&c, 2);
		if (gap >= im.vsize - pos)
			break;
		pos += gap;
		if (len > im.vsize - pos)
			len = im.vsize - pos;
		if (len > MAX_DATA - total)
			len = MAX_DATA - total;
		struct extent *e = &im.ext[im.n++];
		e->off = pos;
		e->len = (size_t)len;
		e->buf = malloc(len ? len : 1);
		if (!e->buf)
			abort();
		fill(e->buf, e->len, (f >> 2 & 7) % 5, seed);
		pos += len;
		total += len;
	}

	int fd = memfd_create("fuzz_qcow2", MFD_CLOEXEC);
	if (fd < 0)
		fuzz_die("memfd_create: %s", strerror(errno));
	struct qcow2_writer *w;
	int rc = qcow2_writer_open(fd, im.vsize, &o, &w);
	if (rc < 0)
		fuzz_die("qcow2_writer_open(%llu): %d", (unsigned long long)im.vsize, rc);
	for (size_t i = 0; i < im.n; i++) {
		/* In one or two writes, so writes also start mid-extent. */
		struct extent *e = &im.ext[i];
		size_t half = e->len > 1 && (e->buf[0] & 1) ? (size_t)(e->off % e->len) : e->len;
		if ((rc = qcow2_writer_write(w, e->off, e->buf, half)) < 0 ||
		    (rc = qcow2_writer_write(w, e->off + half, e->buf + half, e->len - half)) < 0)
			fuzz_die("write of %zu bytes at %llu: %d", e->len, (unsigned long long)e->off, rc);
	}
	if ((rc = qcow2_writer_finish(w)) < 0)
		fuzz_die("qcow2_writer_finish: %d", rc);
	struct qcow2_stats st;
	qcow2_writer_stats(w, &st);
	qcow2_writer_free(w);

	struct stat sb;
	if (fstat(fd, &sb) < 0 || (uint64_t)sb.st_size != st.file_size)
		fuzz_die("file is %lld bytes, the writer says %llu", (long long)sb.st_size,
			 (unsigned long long)st.file_size);
	struct qcow2_image q;
	if (qcow2_read_open(&q, fd) < 0)
		fuzz_die("reading the image: %s", q.err);
	if (q.virtual_size != im.vsize)
		fuzz_die("virtual size %llu, asked %llu", (unsigned long long)q.virtual_size,
			 (unsigned long long)im.vsize);
	if (q.zstd != (o.compression == QCOW2_COMPRESS_ZSTD))
		fuzz_die("compression type in the header is not the one asked");
	if (qcow2_read_all(&q, check_cluster, &im) != 0)
		fuzz_die("reading the image: %s", q.err);
	qcow2_read_close(&q);
	save(fd, &im);
	close(fd);
	for (size_t i = 0; i < im.n; i++)
		free(im.ext[i].buf);
	return 0;
}
