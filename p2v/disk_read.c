#include "disk_read.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

int read_error_policy_parse(const char *s, enum read_error_policy *p)
{
	if (!strcmp(s, "fail"))
		*p = READ_ERROR_FAIL;
	else if (!strcmp(s, "zero"))
		*p = READ_ERROR_ZERO;
	else
		return -EINVAL;
	return 0;
}

const char *read_error_policy_name(enum read_error_policy p)
{
	return p == READ_ERROR_ZERO ? "zero" : "fail";
}

/* Merge into l->v[i] the ranges after it that it now touches. */
static void absorb_following(struct bad_list *l, size_t i)
{
	struct bad_range *p = &l->v[i];
	while (i + 1 < l->n && l->v[i + 1].off <= p->off + p->len) {
		uint64_t end = l->v[i + 1].off + l->v[i + 1].len;
		if (end > p->off + p->len)
			p->len = end - p->off;
		memmove(&l->v[i + 1], &l->v[i + 2], (l->n - i - 2) * sizeof(*l->v));
		l->n--;
	}
}

int bad_list_add(struct bad_list *l, uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	/* Ranges arrive in increasing order; anything else is inserted. */
	size_t i = l->n;
	while (i > 0 && l->v[i - 1].off > off)
		i--;
	if (i > 0 && l->v[i - 1].off + l->v[i - 1].len >= off) {
		struct bad_range *p = &l->v[i - 1];
		if (off + len > p->off + p->len)
			p->len = off + len - p->off;
		absorb_following(l, i - 1);
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct bad_range *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof(*l->v));
	l->v[i] = (struct bad_range){ off, len };
	l->n++;
	absorb_following(l, i);
	return 0;
}

uint64_t bad_list_bytes(const struct bad_list *l)
{
	uint64_t n = 0;
	for (size_t i = 0; i < l->n; i++)
		n += l->v[i].len;
	return n;
}

void bad_list_free(struct bad_list *l)
{
	free(l->v);
	*l = (struct bad_list){ 0 };
}

ssize_t fd_pread(void *fdp, void *buf, size_t len, uint64_t off)
{
	return pread(*(int *)fdp, buf, len, (off_t)off);
}

int is_media_error(int err)
{
	return err == EIO || err == ENODATA || err == EILSEQ || err == EBADMSG || err == ENOMSG;
}

unsigned sector_size_of(int fd)
{
	struct stat st;
	int ss = 0;
	if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode) && ioctl(fd, BLKSSZGET, &ss) == 0 &&
	    ss >= 512 && (ss & (ss - 1)) == 0)
		return (unsigned)ss;
	return 512;
}

/* Read all of [off, off+len): 0, -1 for a media error (errno kept), or
 * a negative errno for anything else. */
static int read_all(pread_fn fn, void *ctx, uint8_t *buf, size_t len, uint64_t off,
		    struct read_stats *st)
{
	size_t done = 0;
	while (done < len) {
		st->reads++;
		ssize_t n = fn(ctx, buf + done, len - done, off + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno ? errno : EIO;
			if (is_media_error(err)) {
				st->failed_reads++;
				return -1;
			}
			return -err;
		}
		if (n == 0)
			return -ENODATA;  /* the source ended early */
		done += (size_t)n;
	}
	return 0;
}

static int64_t bisect(pread_fn fn, void *ctx, uint8_t *buf, size_t len, uint64_t off,
		      unsigned sector, struct bad_list *bad, struct read_stats *st)
{
	int rc = read_all(fn, ctx, buf, len, off, st);
	if (rc == 0)
		return 0;
	if (rc < -1)
		return rc;
	/* The split point: a sector boundary inside the piece, near its middle. */
	uint64_t end = off + len;
	uint64_t mid = (off + len / 2) / sector * sector;
	if (mid <= off)
		mid = (off / sector + 1) * sector;
	if (mid >= end) {
		/* Within one sector: this much is lost. */
		memset(buf, 0, len);
		int a = bad_list_add(bad, off, len);
		return a < 0 ? a : (int64_t)len;
	}
	size_t left = (size_t)(mid - off);
	int64_t l = bisect(fn, ctx, buf, left, off, sector, bad, st);
	if (l < 0)
		return l;
	int64_t r = bisect(fn, ctx, buf + left, len - left, mid, sector, bad, st);
	if (r < 0)
		return r;
	return l + r;
}

int64_t read_bisect(pread_fn fn, void *ctx, uint8_t *buf, size_t len, uint64_t off,
		    unsigned sector, struct bad_list *bad, struct read_stats *st)
{
	struct read_stats dummy = { 0 };
	if (!sector || (sector & (sector - 1)))
		return -EINVAL;
	return bisect(fn, ctx, buf, len, off, sector, bad, st ? st : &dummy);
}

/* Bisected pieces are at most a disk window (4 MiB); the bounce buffer
 * holds that plus the partial sectors at either end. */
#define BOUNCE_CAP ((4u << 20) + 2 * 4096u)

void sector_reader_init(struct sector_reader *r, int fd, const char *path, unsigned sector)
{
	*r = (struct sector_reader){ .fd = fd, .dfd = -1, .path = path, .sector = sector };
}

static bool open_direct(struct sector_reader *r)
{
	if (!r->tried) {
		r->tried = true;
		void *p = NULL;
		if (posix_memalign(&p, 4096, BOUNCE_CAP) == 0) {
			r->bounce = p;
			r->cap = BOUNCE_CAP / r->sector * r->sector;
			r->dfd = open(r->path, O_RDONLY | O_DIRECT | O_CLOEXEC | O_NOCTTY);
		}
	}
	return r->dfd >= 0;
}

ssize_t sector_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct sector_reader *r = ctx;
	if (!r->direct || r->dfd < 0) {
		ssize_t n = pread(r->fd, buf, len, (off_t)off);
		if (n < 0 && is_media_error(errno)) {
			int err = errno;
			r->direct = open_direct(r);
			errno = err;
		}
		return n;
	}
	uint64_t a = off / r->sector * r->sector;
	uint64_t e = (off + len + r->sector - 1) / r->sector * r->sector;
	if (e - a > r->cap)
		e = a + r->cap;
	ssize_t n = pread(r->dfd, r->bounce, (size_t)(e - a), (off_t)a);
	if (n < 0 && errno == EINVAL) {
		/* The file system refuses this alignment after all. */
		close(r->dfd);
		r->dfd = -1;
		return pread(r->fd, buf, len, (off_t)off);
	}
	if (n < 0)
		return -1;
	if ((uint64_t)n <= off - a)
		return 0;
	size_t got = (size_t)n - (size_t)(off - a);
	if (got > len)
		got = len;
	memcpy(buf, r->bounce + (off - a), got);
	return (ssize_t)got;
}

void sector_reader_reset(struct sector_reader *r)
{
	r->direct = false;
}

void sector_reader_free(struct sector_reader *r)
{
	if (r->dfd >= 0)
		close(r->dfd);
	free(r->bounce);
	r->dfd = -1;
	r->bounce = NULL;
}
