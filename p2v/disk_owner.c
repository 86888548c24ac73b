#include "disk_owner.h"

#include <errno.h>
#include <ext2fs/ext2fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Names listed per range before "… and N more". */
#define MAX_NAMES 16

struct hit {
	size_t range;      /* index into the bad list */
	ext2_ino_t ino;
	char *path;        /* found by the directory walk */
};

struct search {
	ext2_filsys fs;
	const struct bad_list *l;
	size_t first, last;    /* the ranges inside this filesystem */
	blk64_t *b0, *b1;      /* each range's blocks: [b0, b1) */
	struct hit *hits;
	size_t n, cap;
	ext2_ino_t cur;
	int err;
};

static int add_hit(struct search *sr, size_t range, ext2_ino_t ino)
{
	for (size_t i = sr->n; i > 0 && sr->hits[i - 1].ino == ino; i--)
		if (sr->hits[i - 1].range == range)
			return 0;
	if (sr->n == sr->cap) {
		size_t cap = sr->cap ? 2 * sr->cap : 16;
		struct hit *h = realloc(sr->hits, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		sr->hits = h;
		sr->cap = cap;
	}
	sr->hits[sr->n++] = (struct hit){ range, ino, NULL };
	return 0;
}

/* Block callback: which bad ranges (sorted, so a binary search) hold blk. */
static int block_cb(ext2_filsys fs, blk64_t *blocknr, e2_blkcnt_t cnt, blk64_t ref, int refoff,
		    void *ctx)
{
	(void)fs, (void)cnt, (void)ref, (void)refoff;
	struct search *sr = ctx;
	blk64_t b = *blocknr;
	size_t lo = sr->first, hi = sr->last;
	while (lo < hi) {   /* first range with b0 > b */
		size_t mid = lo + (hi - lo) / 2;
		if (sr->b0[mid] <= b)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Neighbouring ranges can share a block. */
	for (size_t i = lo; i > sr->first && sr->b1[i - 1] > b; i--)
		if (add_hit(sr, i - 1, sr->cur) < 0) {
			sr->err = -ENOMEM;
			return BLOCK_ABORT;
		}
	return 0;
}

static int hit_by_ino(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;
	return x->ino != y->ino ? (x->ino < y->ino ? -1 : 1) :
	       x->range != y->range ? (x->range < y->range ? -1 : 1) : 0;
}

static int hit_ino_only(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;
	return x->ino != y->ino ? (x->ino < y->ino ? -1 : 1) : 0;
}

static int dir_cb(ext2_ino_t dir, int entry, struct ext2_dir_entry *d, int off, int bs, char *buf,
		  void *ctx)
{
	(void)entry, (void)off, (void)bs, (void)buf;
	struct search *sr = ctx;
	int len = ext2fs_dirent_name_len(d);
	if (!d->inode || (len == 1 && d->name[0] == '.') ||
	    (len == 2 && d->name[0] == '.' && d->name[1] == '.'))
		return 0;
	struct hit key = { 0, d->inode, NULL };
	struct hit *h = bsearch(&key, sr->hits, sr->n, sizeof(*h), hit_ino_only);
	if (!h)
		return 0;
	while (h > sr->hits && h[-1].ino == d->inode)
		h--;
	if (h->path)
		return 0;  /* a hard link already named it */
	char *dname = NULL, *path = NULL;
	if (ext2fs_get_pathname(sr->fs, dir, 0, &dname) == 0 &&
	    asprintf(&path, "%s/%.*s", strcmp(dname, "/") ? dname : "", len, d->name) >= 0)
		for (struct hit *p = h; p < sr->hits + sr->n && p->ino == d->inode; p++)
			p->path = p == h ? path : strdup(path);
	if (dname)
		ext2fs_free_mem(&dname);
	return 0;
}

/* Walk every inode's blocks, then every directory for the names. */
static int search_fs(struct search *sr)
{
	ext2_inode_scan scan;
	struct ext2_inode inode;
	ext2_ino_t ino;
	errcode_t err = ext2fs_open_inode_scan(sr->fs, 0, &scan);
	if (err)
		return -EIO;
	while (!(err = ext2fs_get_next_inode(scan, &ino, &inode)) && ino) {
		if (!inode.i_links_count && ino >= EXT2_FIRST_INODE(sr->fs->super))
			continue;
		if (!ext2fs_inode_has_valid_blocks2(sr->fs, &inode))
			continue;
		sr->cur = ino;
		ext2fs_block_iterate3(sr->fs, ino, BLOCK_FLAG_READ_ONLY, NULL, block_cb, sr);
		if (sr->err)
			break;
	}
	ext2fs_close_inode_scan(scan);
	if (sr->err)
		return sr->err;
	if (err)
		return -EIO;
	qsort(sr->hits, sr->n, sizeof(*sr->hits), hit_by_ino);
	if ((err = ext2fs_open_inode_scan(sr->fs, 0, &scan)))
		return -EIO;
	while (!(err = ext2fs_get_next_inode(scan, &ino, &inode)) && ino)
		if (LINUX_S_ISDIR(inode.i_mode) && inode.i_links_count)
			ext2fs_dir_iterate2(sr->fs, ino, 0, NULL, dir_cb, sr);
	ext2fs_close_inode_scan(scan);
	return err ? -EIO : 0;
}

static const char *special_inode(ext2_ino_t ino)
{
	switch (ino) {
	case EXT2_ROOT_INO: return "/";
	case EXT2_RESIZE_INO: return "<resize inode>";
	case EXT2_JOURNAL_INO: return "<journal>";
	default: return NULL;
	}
}

/* "ext@START: names" for range i. */
static char *describe(const struct search *sr, uint64_t start, size_t i)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);
	if (!f)
		return NULL;
	fprintf(f, "ext@%llu: ", (unsigned long long)start);
	unsigned named = 0, more = 0;
	for (size_t k = 0; k < sr->n; k++) {
		const struct hit *h = &sr->hits[k];
		if (h->range != i)
			continue;
		if (named == MAX_NAMES) {
			more++;
			continue;
		}
		const char *sp = special_inode(h->ino);
		if (named++)
			fputs(", ", f);
		if (h->path && h->ino >= EXT2_FIRST_INODE(sr->fs->super))
			fputs(h->path, f);
		else if (sp)
			fputs(sp, f);
		else
			fprintf(f, "<inode %u>", h->ino);
	}
	if (more)
		fprintf(f, " and %u more", more);
	if (!named) {
		/* Used blocks no inode claims: superblocks, descriptors,
		 * bitmaps, inode tables. */
		bool used = false;
		for (blk64_t b = sr->b0[i]; b < sr->b1[i] && !used; b++)
			used = b < sr->fs->super->s_first_data_block ||
			       ext2fs_test_block_bitmap2(sr->fs->block_map, b);
		fputs(used ? "filesystem metadata" : "free space", f);
	}
	fclose(f);
	return out;
}

int disk_owners(const struct disk_source *s, char **owners)
{
	const struct bad_list *l = &s->unreadable;
	for (size_t r = 0; r < s->layout.n; r++) {
		const struct disk_region *g = &s->layout.regions[r];
		if (g->kind != REGION_BLOCKMAP)
			continue;
		uint64_t fs_end = g->start + g->nblocks * g->block_size;
		struct search sr = { .fs = g->ctx, .l = l };
		while (sr.first < l->n && l->v[sr.first].off + l->v[sr.first].len <= g->start)
			sr.first++;
		sr.last = sr.first;
		while (sr.last < l->n && l->v[sr.last].off < fs_end)
			sr.last++;
		if (sr.first == sr.last)
			continue;
		sr.b0 = calloc(l->n, sizeof(*sr.b0));
		sr.b1 = calloc(l->n, sizeof(*sr.b1));
		if (!sr.b0 || !sr.b1) {
			free(sr.b0), free(sr.b1);
			return -ENOMEM;
		}
		for (size_t i = sr.first; i < sr.last; i++) {
			uint64_t a = l->v[i].off > g->start ? l->v[i].off : g->start;
			uint64_t e = l->v[i].off + l->v[i].len < fs_end ? l->v[i].off + l->v[i].len : fs_end;
			sr.b0[i] = (a - g->start) / g->block_size;
			sr.b1[i] = (e - g->start + g->block_size - 1) / g->block_size;
		}
		int rc = search_fs(&sr);
		if (rc == -ENOMEM)
			return rc;
		if (rc < 0)
			log_warn("%s: the ext filesystem at offset %llu cannot be searched for the "
				 "owners of its unreadable blocks", s->path, (unsigned long long)g->start);
		for (size_t i = sr.first; i < sr.last && rc == 0; i++) {
			char *d = describe(&sr, g->start, i);
			if (!d)
				continue;
			if (owners[i]) {   /* a range across two filesystems */
				char *both = NULL;
				if (asprintf(&both, "%s; %s", owners[i], d) >= 0) {
					free(owners[i]);
					owners[i] = both;
				}
				free(d);
			} else {
				owners[i] = d;
			}
		}
		for (size_t k = 0; k < sr.n; k++)
			free(sr.hits[k].path);
		free(sr.hits), free(sr.b0), free(sr.b1);
	}
	return 0;
}
