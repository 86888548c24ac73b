#include "disk_extents.h"

#include <errno.h>
#include <string.h>

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

int run_list_add(struct run_list *l, uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	if (l->n && l->v[l->n - 1].off + l->v[l->n - 1].len == off) {
		l->v[l->n - 1].len += len;
		return 0;
	}
	if (l->n == l->cap)
		return -ENOSPC;
	l->v[l->n++] = (struct run){ off, len };
	return 0;
}

/* The used runs of a block-mapped region within [p, end), which lies inside
 * the region. */
static int blockmap_runs(const struct disk_region *r, uint64_t p, uint64_t end,
			 struct run_list *out)
{
	uint64_t bs = r->block_size;
	uint64_t cov_end = r->start + MIN(r->len, r->nblocks * bs);
	int rc = 0;
	if (p < cov_end) {
		uint64_t stop = MIN(end, cov_end);
		uint64_t from = (p - r->start) / bs;
		uint64_t to = (stop - r->start + bs - 1) / bs;
		uint64_t first, last;
		while (from < to && r->next_used(r->ctx, from, to, &first, &last) == 1) {
			if (first < from || last <= first)
				return -EINVAL;  /* a broken map must not loop */
			uint64_t a = MAX(p, r->start + first * bs);
			uint64_t b = MIN(stop, r->start + MIN(last, to) * bs);
			if (b > a && (rc = run_list_add(out, a, b - a)) < 0)
				return rc;
			from = last;
		}
		p = stop;
	}
	/* Past what the map covers (a filesystem smaller than its partition). */
	if (p < end)
		rc = run_list_add(out, p, end - p);
	return rc;
}

int layout_used_runs(const struct disk_layout *l, uint64_t off, uint64_t len,
		     struct run_list *out)
{
	uint64_t end = off + len > l->size || off + len < off ? l->size : off + len;
	uint64_t p = off;
	int rc;
	out->n = 0;
	for (size_t i = 0; i < l->n && p < end; i++) {
		const struct disk_region *r = &l->regions[i];
		uint64_t rend = r->start + r->len;
		if (rend <= p)
			continue;
		if (r->start >= end)
			break;
		if (r->start > p) {
			if ((rc = run_list_add(out, p, r->start - p)) < 0)
				return rc;
			p = r->start;
		}
		uint64_t stop = MIN(end, rend);
		if (r->kind == REGION_HEADER) {
			uint64_t h = r->start + MIN(r->header_len, r->len);
			if (p < h && (rc = run_list_add(out, p, MIN(h, stop) - p)) < 0)
				return rc;
		} else if ((rc = blockmap_runs(r, p, stop, out)) < 0) {
			return rc;
		}
		p = stop;
	}
	if (p < end)
		return run_list_add(out, p, end - p);
	return 0;
}

int runs_merge(const struct run_list *in, uint64_t max_gap, struct run_list *out)
{
	out->n = 0;
	for (size_t i = 0; i < in->n; i++) {
		const struct run *r = &in->v[i];
		if (out->n) {
			struct run *last = &out->v[out->n - 1];
			if (r->off - (last->off + last->len) <= max_gap) {
				last->len = r->off + r->len - last->off;
				continue;
			}
		}
		if (out->n == out->cap)
			return -ENOSPC;
		out->v[out->n++] = *r;
	}
	return 0;
}

int is_zero(const void *p, size_t len)
{
	const uint8_t *b = p;
	/* Check a short head byte by byte, then compare the buffer with itself
	 * shifted: memcmp is vectorised, so this runs at memory speed. */
	size_t head = MIN(len, 16);
	for (size_t i = 0; i < head; i++)
		if (b[i])
			return 0;
	return len <= 16 || memcmp(b, b + 16, len - 16) == 0;
}

int nonzero_runs(const uint8_t *buf, uint64_t off, size_t len, size_t grain,
		 struct run_list *out)
{
	out->n = 0;
	size_t i = 0;
	while (i < len) {
		/* Grains are aligned to disk offsets, so qcow2 clusters of the
		 * same size line up with them. */
		size_t n = grain - (size_t)((off + i) % grain);
		if (n > len - i)
			n = len - i;
		if (!is_zero(buf + i, n)) {
			int rc = run_list_add(out, off + i, n);
			if (rc < 0)
				return rc;
		}
		i += n;
	}
	return 0;
}

int layout_check(const struct disk_layout *l)
{
	uint64_t prev_end = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct disk_region *r = &l->regions[i];
		if (r->start < prev_end || r->start + r->len < r->start ||
		    r->start + r->len > l->size)
			return -EINVAL;
		if (r->kind == REGION_BLOCKMAP &&
		    (r->block_size < 512 || !r->next_used || r->nblocks > r->len / r->block_size + 1))
			return -EINVAL;
		prev_end = r->start + r->len;
	}
	return 0;
}
