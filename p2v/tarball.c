/* The lossless root filesystem archive: archive_read_disk walks the root,
 * archive_write turns it into a pax tarball compressed with zstd or gzip, and
 * the compressed bytes go to the caller's sink as they are produced. */
#include "tarball.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <fnmatch.h>
#include <linux/magic.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "zstd_stream.h"

#define BLOCK_SIZE        (1024 * 1024)          /* bytes per write callback */
#define PROGRESS_BYTES    (64ULL * 1024 * 1024)
#define PROGRESS_NSEC     500000000LL
#define SWAP_CHECK_MIN    (1024 * 1024)          /* smaller files are never swap */
#define DEFAULT_ZSTD_LEVEL 3
#define ADAPT_MIN_LEVEL   1   /* also where adapting starts: on a slow link the */
#define ADAPT_MAX_LEVEL   9   /* climb costs a fraction of a second */
#define SWAP_PROBE        65536                  /* covers 4/16/64 KiB pages */

/* Directories whose contents a container must not inherit. */
static const char *const volatile_dirs[] = { "proc", "sys", "dev", "run", "tmp" };

struct idname {
	int64_t id;
	size_t order;
	char *name;
};

struct idmap {
	struct idname *v;
	size_t n;
};

struct fsinfo {
	dev_t dev;
	bool pseudo;
};

struct tb {
	const struct tarball_opts *o;
	struct tarball_stats *st;
	tarball_sink_fn sink;
	void *sink_ctx;
	int sink_rc;
	bool failed;            /* no more bytes to the sink after an error */
	struct archive *disk, *w;
	struct zstd_stream *zs; /* our own zstd (libarchive's level is fixed) */
	const char *root;       /* as opened; entry paths start with it */
	size_t rootlen;
	dev_t root_dev;
	char **pats;            /* exclude patterns without a leading ./ or / */
	size_t n_pats;
	char **swaps;           /* swap files named in etc/fstab, relative */
	size_t n_swaps;
	struct idmap users, groups;
	struct fsinfo fs[64];
	size_t n_fs;
	const char *zeros;
	char *buf;              /* file data on its way into the archive */
	char *path;             /* root + "/" + the current entry's path */
	size_t path_cap;
	struct archive_entry *entry;
	struct archive_entry_linkresolver *res;
	uint64_t last_report_bytes;
	struct timespec last_report;
};

const char *tarball_extension(enum tar_compression c)
{
	return c == TAR_GZIP ? ".tar.gz" : ".tar.zst";
}

static const char *strip_leading(const char *p)
{
	for (;;) {
		if (p[0] == '/')
			p++;
		else if (p[0] == '.' && p[1] == '/')
			p += 2;
		else
			return p;
	}
}

/* ---- user and group names from the archived root, not the rescue system ---- */

static int idname_cmp(const void *a, const void *b)
{
	const struct idname *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void idmap_free(struct idmap *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].name);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/* Parse name:x:id:... lines; a missing or odd file just gives no names. */
static void idmap_load(struct idmap *m, const struct tb *t, const char *rel)
{
	_cleanup_free_ char *path = NULL, *buf = NULL;
	size_t len;
	if (asprintf(&path, "%s/%s", t->root, rel) < 0)
		return;
	struct stat sb;
	/* A symlink could point into the rescue system: ignore it. */
	if (lstat(path, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    read_file(path, 16 << 20, &buf, &len) < 0)
		return;
	size_t cap = 0;
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c1 || !c2 || c1 == line || line[0] == '#' || line[0] == '+' || line[0] == '-')
			continue;
		char *end;
		errno = 0;
		long long id = strtoll(c2 + 1, &end, 10);
		if (errno || end == c2 + 1 || *end != ':' || id < 0)
			continue;
		if (m->n == cap) {
			cap = cap ? cap * 2 : 64;
			struct idname *v = realloc(m->v, cap * sizeof(*v));
			if (!v)
				return;
			m->v = v;
		}
		char *name = strndup(line, (size_t)(c1 - line));
		if (!name)
			return;
		m->v[m->n] = (struct idname){ id, m->n, name };
		m->n++;
	}
	/* Sort by id, first line first, like getpwuid's answer. */
	qsort(m->v, m->n, sizeof(*m->v), idname_cmp);
}

static const char *idmap_lookup(const struct idmap *m, int64_t id)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (m->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->n && m->v[lo].id == id ? m->v[lo].name : NULL;
}

static const char *uname_cb(void *ctx, la_int64_t id)
{
	return idmap_lookup(&((struct tb *)ctx)->users, id);
}

static const char *gname_cb(void *ctx, la_int64_t id)
{
	return idmap_lookup(&((struct tb *)ctx)->groups, id);
}

/* ---- exclusions ---- */

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int load_patterns(struct tb *t)
{
	if (!t->o->n_excludes)
		return 0;
	t->pats = calloc(t->o->n_excludes, sizeof(*t->pats));
	if (!t->pats)
		return -ENOMEM;
	for (size_t i = 0; i < t->o->n_excludes; i++) {
		char *p = strdup(strip_leading(t->o->excludes[i]));
		if (!p)
			return -ENOMEM;
		size_t l = strlen(p);
		while (l > 1 && p[l - 1] == '/')
			p[--l] = '\0';
		t->pats[t->n_pats++] = p;
	}
	return 0;
}

/* Swap files the server's fstab names (devices are not in the tree anyway). */
static void load_fstab_swaps(struct tb *t)
{
	_cleanup_free_ char *path = NULL, *buf = NULL;
	size_t len, cap = 0;
	if (asprintf(&path, "%s/etc/fstab", t->root) < 0)
		return;
	struct stat sb;
	if (lstat(path, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    read_file(path, 1 << 20, &buf, &len) < 0)
		return;
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char spec[4096], mnt[4096], type[64];
		if (line[strspn(line, " \t")] == '#' ||
		    sscanf(line, "%4095s %4095s %63s", spec, mnt, type) != 3)
			continue;
		if (strcmp(type, "swap") || spec[0] != '/' || !strncmp(spec, "/dev/", 5))
			continue;
		if (t->n_swaps == cap) {
			cap = cap ? cap * 2 : 4;
			char **v = realloc(t->swaps, cap * sizeof(*v));
			if (!v)
				return;
			t->swaps = v;
		}
		char *rel = strdup(strip_leading(spec));
		if (!rel)
			return;
		t->swaps[t->n_swaps++] = rel;
	}
}

/* Linux swap areas carry "SWAPSPACE2" (or the old "SWAP-SPACE") in the last
 * 10 bytes of their first page, whatever the page size was. */
static bool has_swap_signature(int fd)
{
	static const size_t pages[] = { 4096, 8192, 16384, 65536 };
	char buf[SWAP_PROBE];
	ssize_t n = pread(fd, buf, sizeof(buf), 0);
	for (size_t i = 0; i < ARRAY_SIZE(pages); i++) {
		size_t off = pages[i] - 10;
		if (n >= (ssize_t)pages[i] &&
		    (!memcmp(buf + off, "SWAPSPACE2", 10) || !memcmp(buf + off, "SWAP-SPACE", 10)))
			return true;
	}
	return false;
}

/* Left out before anything but lstat is spent on it. */
static bool excluded(struct tb *t, const char *rel, const char *base, const struct stat *sb,
		     bool parent_is_mount_root)
{
	if (S_ISSOCK(sb->st_mode))
		return true;  /* tar cannot hold sockets; they are recreated at run time */
	if (S_ISDIR(sb->st_mode) && !strcmp(base, "lost+found") && parent_is_mount_root) {
		log_debug("leaving out %s", rel);
		return true;
	}
	for (size_t i = 0; i < t->n_pats; i++)
		if (fnmatch(t->pats[i], rel, 0) == 0) {
			log_debug("excluded by '%s': %s", t->pats[i], rel);
			return true;
		}
	if (S_ISREG(sb->st_mode))
		for (size_t i = 0; i < t->n_swaps; i++)
			if (!strcmp(t->swaps[i], rel)) {
				log_info("leaving out swap file %s (in etc/fstab)", rel);
				return true;
			}
	return false;
}

static bool fs_is_pseudo(struct tb *t, dev_t dev, int fd)
{
	for (size_t i = 0; i < t->n_fs; i++)
		if (t->fs[i].dev == dev)
			return t->fs[i].pseudo;
	struct statfs sf;
	bool pseudo = false;
	if (fstatfs(fd, &sf) == 0) {
		switch ((unsigned long)sf.f_type) {
		case PROC_SUPER_MAGIC: case SYSFS_MAGIC: case TMPFS_MAGIC: case RAMFS_MAGIC:
		case DEVPTS_SUPER_MAGIC: case CGROUP_SUPER_MAGIC: case CGROUP2_SUPER_MAGIC:
		case SECURITYFS_MAGIC: case DEBUGFS_MAGIC: case TRACEFS_MAGIC:
		case PSTOREFS_MAGIC: case BPF_FS_MAGIC: case 0x19800202 /* mqueue */:
		case HUGETLBFS_MAGIC: case 0x62656570 /* configfs */: case 0x65735543 /* fusectl */:
		case BINFMTFS_MAGIC: case EFIVARFS_MAGIC: case AUTOFS_SUPER_MAGIC:
		case SELINUX_MAGIC: case NSFS_MAGIC:
			pseudo = true;
		}
	}
	if (t->n_fs < ARRAY_SIZE(t->fs))
		t->fs[t->n_fs++] = (struct fsinfo){ dev, pseudo };
	return pseudo;
}

/* ACL qualifiers travel as numbers only: GNU tar resolves a name in an ACL
 * through the hypervisor's passwd, which is not the container's. */
static int acl_numeric_only(struct archive_entry *e)
{
	int want = ARCHIVE_ENTRY_ACL_TYPE_ACCESS | ARCHIVE_ENTRY_ACL_TYPE_DEFAULT;
	int n = archive_entry_acl_reset(e, want);
	if (n <= 0)
		return 0;
	struct ace { int type, perm, tag, qual; } *v = calloc((size_t)n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	int type, perm, tag, qual, k = 0;
	bool named = false;
	const char *name;
	while (k < n && archive_entry_acl_next(e, want, &type, &perm, &tag, &qual, &name) == ARCHIVE_OK) {
		v[k++] = (struct ace){ type, perm, tag, qual };
		named |= name != NULL && (tag == ARCHIVE_ENTRY_ACL_USER || tag == ARCHIVE_ENTRY_ACL_GROUP);
	}
	if (named) {
		mode_t mode = archive_entry_mode(e);
		archive_entry_acl_clear(e);
		for (int i = 0; i < k; i++)
			archive_entry_acl_add_entry(e, v[i].type, v[i].perm, v[i].tag, v[i].qual, NULL);
		archive_entry_set_mode(e, mode);  /* re-adding *_OBJ entries touches it */
	}
	free(v);
	return 0;
}

/* ---- output ---- */

/* Compressed bytes on their way out. */
static int count_and_sink(void *ctx, const void *buf, size_t len)
{
	struct tb *t = ctx;
	t->st->compressed_bytes += len;
	return t->sink(t->sink_ctx, buf, len);
}

static int adapt_level(struct tb *t)
{
	int step = t->o->pressure(t->o->pressure_ctx);
	int level = zstd_stream_level(t->zs) + step;
	if (!step || level < ADAPT_MIN_LEVEL || level > ADAPT_MAX_LEVEL)
		return 0;
	log_debug("zstd level %d (the %s was the bottleneck)", level,
		  step > 0 ? "network" : "CPU");
	if (level < t->st->level_min)
		t->st->level_min = level;
	if (level > t->st->level_max)
		t->st->level_max = level;
	return zstd_stream_set_level(t->zs, level);
}

static la_ssize_t on_write(struct archive *a, void *ctx, const void *buf, size_t len)
{
	struct tb *t = ctx;
	if (t->failed) {
		archive_set_error(a, ECANCELED, "archive abandoned");
		return -1;
	}
	int rc = t->zs ? zstd_stream_write(t->zs, buf, len) : count_and_sink(t, buf, len);
	if (rc == 0 && t->zs && !t->o->level && t->o->pressure)
		rc = adapt_level(t);
	if (rc < 0) {
		t->sink_rc = rc;
		archive_set_error(a, -rc, "sink failed");
		return -1;
	}
	return (la_ssize_t)len;
}

static void maybe_progress(struct tb *t, bool force)
{
	if (!t->o->progress)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long ns = (now.tv_sec - t->last_report.tv_sec) * 1000000000LL +
		       (now.tv_nsec - t->last_report.tv_nsec);
	if (!force && ns < PROGRESS_NSEC &&
	    t->st->source_bytes - t->last_report_bytes < PROGRESS_BYTES)
		return;
	t->last_report = now;
	t->last_report_bytes = t->st->source_bytes;
	t->o->progress(t->o->progress_ctx, t->st->source_bytes, t->st->compressed_bytes);
}

static int la_err(struct archive *a)
{
	int e = archive_errno(a);
	return e > 0 ? -e : -EIO;
}

static int write_fail(struct tb *t, const char *what)
{
	if (t->sink_rc < 0)
		return t->sink_rc;  /* the sink logged it */
	log_error("writing the archive (%s): %s", what, archive_error_string(t->w));
	return la_err(t->w);
}

/* Vanished or unreadable: warn and go on, like tar. */
static bool is_skippable(int err)
{
	return err == ENOENT || err == EACCES || err == EPERM || err == ENOTDIR ||
	       err == ELOOP || err == ENXIO || err == ESTALE;
}

static void skip_warn(struct tb *t, const char *rel, const char *what, int err)
{
	log_warn("skipping %s: %s: %s", *rel ? rel : ".", what, strerror(err));
	t->st->warnings++;
}

/* Copy fd's data regions (the entry's sparse map, or all of it) into the
 * archive. Holes go in as zeros; the pax writer drops them again because
 * they fall in the gaps of the sparse map. */
static int copy_data(struct tb *t, struct archive_entry *e, int fd, const char *rel)
{
	int64_t size = archive_entry_size(e), pos = 0, off, len;
	bool sparse = archive_entry_sparse_reset(e) > 0;
	bool more = true, shrunk = false;
	if (size >= BLOCK_SIZE)
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while (more) {
		if (sparse) {
			if (archive_entry_sparse_next(e, &off, &len) != ARCHIVE_OK)
				break;
		} else {
			off = 0, len = size;
			more = false;
		}
		if (off + len > size)
			len = size - off;
		while (pos < off) {
			size_t n = off - pos > BLOCK_SIZE ? BLOCK_SIZE : (size_t)(off - pos);
			if (archive_write_data(t->w, t->zeros, n) < 0)
				return write_fail(t, rel);
			pos += (int64_t)n;
		}
		while (pos < off + len) {
			size_t want = off + len - pos > BLOCK_SIZE ? BLOCK_SIZE : (size_t)(off + len - pos);
			const char *src = t->zeros;
			ssize_t n = (ssize_t)want;
			if (!shrunk) {
				n = pread(fd, t->buf, want, pos);
				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0) {
					int err = errno;
					log_error("reading %s: %s", rel, strerror(err));
					return -err;
				}
				if (n == 0) {
					/* Keep the entry the size its header says. */
					log_warn("%s shrank while being read; padded with zeros", rel);
					t->st->warnings++;
					shrunk = true;
					continue;
				}
				src = t->buf;
				t->st->source_bytes += (uint64_t)n;
			}
			if (archive_write_data(t->w, src, (size_t)n) < 0)
				return write_fail(t, rel);
			pos += n;
			maybe_progress(t, false);
		}
	}
	/* The trailing hole too: the pax writer emits the sparse map on the
	 * first write, so a file that is all hole needs one. */
	while (pos < size) {
		size_t n = size - pos > BLOCK_SIZE ? BLOCK_SIZE : (size_t)(size - pos);
		if (archive_write_data(t->w, t->zeros, n) < 0)
			return write_fail(t, rel);
		pos += (int64_t)n;
	}
	return 0;
}

/* Describe, write and (for a file) copy one entry. fd is open on it for
 * regular files and directories, -1 otherwise. */
static int archive_one(struct tb *t, const char *rel, int fd, const struct stat *sb)
{
	struct archive_entry *e = t->entry;
	archive_entry_clear(e);
	archive_entry_copy_sourcepath(e, t->path);
	int r = archive_read_disk_entry_from_file(t->disk, e, fd, sb);
	if (r == ARCHIVE_FATAL) {
		log_error("reading %s: %s", *rel ? rel : ".", archive_error_string(t->disk));
		return la_err(t->disk);
	}
	if (r != ARCHIVE_OK) {
		int err = archive_errno(t->disk);
		if (r == ARCHIVE_FAILED && is_skippable(err)) {
			skip_warn(t, rel, archive_error_string(t->disk), err);
			return 0;
		}
		/* ACLs or xattrs that changed or vanished: keep what we have. */
		log_warn("%s: %s", *rel ? rel : ".", archive_error_string(t->disk));
		t->st->warnings++;
	}
	_cleanup_free_ char *name = NULL;
	if (asprintf(&name, *rel ? "./%s" : ".", rel) < 0)
		return -ENOMEM;
	archive_entry_copy_pathname(e, name);
	archive_entry_unset_ctime(e);   /* no extractor can restore it */
	archive_entry_unset_birthtime(e);
	if (acl_numeric_only(e) < 0)
		return -ENOMEM;

	struct archive_entry *spare = NULL;
	archive_entry_linkify(t->res, &e, &spare);
	if (!e)
		return 0;  /* the tar strategy hands every entry straight back */
	r = archive_write_header(t->w, e);
	if (r == ARCHIVE_WARN && strstr(archive_error_string(t->w), "Can't translate"))
		/* Not UTF-8: stored as raw bytes, marked hdrcharset=BINARY. */
		log_info("%s: name is not UTF-8; stored as raw bytes", *rel ? rel : ".");
	else if (r == ARCHIVE_WARN)
		log_warn("%s: %s", *rel ? rel : ".", archive_error_string(t->w));
	else if (r == ARCHIVE_FAILED) {
		log_warn("skipping %s: %s", *rel ? rel : ".", archive_error_string(t->w));
		t->st->warnings++;
		return 0;
	} else if (r != ARCHIVE_OK)
		return write_fail(t, "header");
	t->st->entries++;
	if (S_ISREG(sb->st_mode) && !archive_entry_hardlink(e) && archive_entry_size(e) > 0)
		return copy_data(t, e, fd, rel);
	return 0;
}

struct namelist {
	char **v;
	size_t n, cap;
};

static void namelist_free(struct namelist *l)
{
	strv_free(l->v, l->n);
}

/* Read a directory's names up front, so only one fd per level stays open. */
static int read_names(int dirfd, struct namelist *l)
{
	int fd = dup(dirfd);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int err = errno;
		close(fd);
		return -err;
	}
	struct dirent *de;
	int rc = 0;
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 32;
			char **v = realloc(l->v, l->cap * sizeof(*v));
			if (!v) {
				rc = -ENOMEM;
				break;
			}
			l->v = v;
		}
		if (!(l->v[l->n] = strdup(de->d_name))) {
			rc = -ENOMEM;
			break;
		}
		l->n++;
		errno = 0;
	}
	if (!rc && errno)
		rc = -errno;
	closedir(d);
	return rc;
}

/* Make t->path end in rel (root + "/" + rel); returns 0 or -ENOMEM. */
static int set_path(struct tb *t, const char *rel)
{
	size_t need = t->rootlen + 1 + strlen(rel) + 1;
	if (need > t->path_cap) {
		size_t cap = need * 2;
		char *p = realloc(t->path, cap);
		if (!p)
			return -ENOMEM;
		t->path = p;
		t->path_cap = cap;
	}
	if (*rel)
		snprintf(t->path, t->path_cap, "%s%s%s", t->root,
			 t->root[t->rootlen - 1] == '/' ? "" : "/", rel);
	else
		snprintf(t->path, t->path_cap, "%s", t->root);
	return 0;
}

/* Depth first, each directory's whole subtree right after it: GNU tar sets
 * a directory's mtime once it sees an entry outside it, so an interleaved
 * order (archive_read_disk's) would leave directory mtimes wrong. */
static int visit(struct tb *t, int dirfd, const char *base, const char *rel,
		 const struct stat *sb);

static int walk_dir(struct tb *t, int dirfd, const char *rel, dev_t dev)
{
	struct namelist l = { 0 };
	int rc = read_names(dirfd, &l);
	if (rc == -ENOMEM)
		goto out;
	if (rc < 0) {
		skip_warn(t, rel, "reading the directory", -rc);
		rc = 0;
		goto out;
	}
	bool mount_root = !*rel;
	if (!mount_root) {
		struct stat up;
		mount_root = fstatat(dirfd, "..", &up, 0) == 0 && up.st_dev != dev;
	}
	for (size_t i = 0; i < l.n && rc == 0; i++) {
		const char *base = l.v[i];
		_cleanup_free_ char *crel = NULL;
		if (asprintf(&crel, "%s%s%s", rel, *rel ? "/" : "", base) < 0) {
			rc = -ENOMEM;
			break;
		}
		struct stat sb;
		if (fstatat(dirfd, base, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			skip_warn(t, crel, "stat", errno);
			continue;
		}
		if (excluded(t, crel, base, &sb, mount_root))
			continue;
		rc = visit(t, dirfd, base, crel, &sb);
	}
out:
	namelist_free(&l);
	return rc;
}

static int visit(struct tb *t, int dirfd, const char *base, const char *rel,
		 const struct stat *sb)
{
	int rc = set_path(t, rel);
	if (rc < 0)
		return rc;
	_cleanup_close_ int fd = -1;
	if (S_ISREG(sb->st_mode) || S_ISDIR(sb->st_mode)) {
		int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
			    (S_ISDIR(sb->st_mode) ? O_DIRECTORY : 0);
		fd = openat(dirfd, base, flags | O_NOATIME);
		if (fd < 0 && errno == EPERM)
			fd = openat(dirfd, base, flags);
		if (fd < 0 && errno == EACCES && S_ISDIR(sb->st_mode)) {
			/* Keep the directory itself; only its contents are lost. */
			log_warn("%s: cannot read the directory: %s", rel, strerror(errno));
			t->st->warnings++;
			return archive_one(t, rel, -1, sb);
		}
		if (fd < 0) {
			skip_warn(t, rel, "open", errno);
			return 0;
		}
		struct stat now;
		if (fstat(fd, &now) < 0 || now.st_ino != sb->st_ino || now.st_dev != sb->st_dev) {
			skip_warn(t, rel, "replaced while being read", EAGAIN);
			return 0;
		}
		if (S_ISREG(sb->st_mode) && (sb->st_mode & 07777) == 0600 &&
		    sb->st_size >= SWAP_CHECK_MIN && has_swap_signature(fd)) {
			log_info("leaving out swap file %s", rel);
			return 0;
		}
	}
	if ((rc = archive_one(t, rel, fd, sb)) < 0)
		return rc;
	maybe_progress(t, false);
	if (!S_ISDIR(sb->st_mode))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(volatile_dirs); i++)
		if (!strcmp(rel, volatile_dirs[i]))
			return 0;
	if (sb->st_dev != t->root_dev && fs_is_pseudo(t, sb->st_dev, fd)) {
		log_info("not descending into pseudo filesystem at %s", rel);
		return 0;
	}
	return walk_dir(t, fd, rel, sb->st_dev);
}

static int setup_writer(struct tb *t)
{
	const struct tarball_opts *o = t->o;
	struct archive *w = t->w;
	char val[32];
	if (archive_write_set_format_pax(w) != ARCHIVE_OK ||
	    archive_write_set_format_option(w, "pax", "xattrheader", "SCHILY") != ARCHIVE_OK)
		goto bad;
	if (o->compression == TAR_GZIP) {
		if (archive_write_add_filter_gzip(w) != ARCHIVE_OK)
			goto bad;
		int gz = o->level > 0 ? (o->level > 9 ? 9 : o->level) : 6;
		t->st->level_min = t->st->level_max = gz;
		snprintf(val, sizeof(val), "%d", gz);
		if (archive_write_set_filter_option(w, "gzip", "compression-level", val) != ARCHIVE_OK)
			goto bad;
	} else {
		bool adaptive = !o->level && o->pressure;
		int level = o->level > 0 ? o->level : adaptive ? ADAPT_MIN_LEVEL : DEFAULT_ZSTD_LEVEL;
		int rc = zstd_stream_open(&t->zs, level, o->threads, count_and_sink, t);
		if (rc < 0)
			return rc;
		t->st->level_min = t->st->level_max = level;
	}
	if (archive_write_set_bytes_per_block(w, BLOCK_SIZE) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w, 1) != ARCHIVE_OK)
		goto bad;
	if (archive_write_open2(w, t, NULL, on_write, NULL, NULL) != ARCHIVE_OK)
		return write_fail(t, "open");
	return 0;
bad:
	log_error("setting up the archive writer: %s", archive_error_string(w));
	return la_err(w);
}

static int setup_reader(struct tb *t)
{
	struct archive *d = t->disk;
	/* fflags: GNU tar (Proxmox) warns on SCHILY.fflags and cannot set them;
	 * leaving them out also saves an ioctl per file and directory. */
	if (archive_read_disk_set_behavior(d, ARCHIVE_READDISK_NO_FFLAGS) != ARCHIVE_OK ||
	    archive_read_disk_set_symlink_physical(d) != ARCHIVE_OK ||
	    archive_read_disk_set_uname_lookup(d, t, uname_cb, NULL) != ARCHIVE_OK ||
	    archive_read_disk_set_gname_lookup(d, t, gname_cb, NULL) != ARCHIVE_OK) {
		log_error("setting up the disk reader: %s", archive_error_string(d));
		return la_err(d);
	}
	return 0;
}

static int run(struct tb *t)
{
	int rc = setup_reader(t);
	if (rc < 0 || (rc = setup_writer(t)) < 0)
		return rc;
	t->res = archive_entry_linkresolver_new();
	t->entry = archive_entry_new();
	if (!t->res || !t->entry)
		return -ENOMEM;
	archive_entry_linkresolver_set_strategy(t->res, archive_format(t->w));
	/* The root itself: "." and everything below it. */
	struct stat sb;
	if (lstat(t->root, &sb) < 0 || stat(t->root, &sb) < 0) {
		rc = -errno;
		log_error("%s: %s", t->root, strerror(-rc));
		return rc;
	}
	_cleanup_close_ int fd = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		log_error("opening %s: %s", t->root, strerror(-rc));
		return rc;
	}
	if ((rc = set_path(t, "")) < 0 || (rc = archive_one(t, "", fd, &sb)) < 0 ||
	    (rc = walk_dir(t, fd, "", sb.st_dev)) < 0)
		return rc;
	if (archive_write_close(t->w) != ARCHIVE_OK)
		return write_fail(t, "close");
	if (t->zs) {
		rc = zstd_stream_finish(t->zs);
		t->zs = NULL;
		if (rc < 0)
			return rc;
	}
	maybe_progress(t, true);
	return 0;
}

int tarball_write(const struct tarball_opts *opts, tarball_sink_fn sink, void *sink_ctx,
		  struct tarball_stats *stats)
{
	struct tarball_stats dummy;
	if (!stats)
		stats = &dummy;
	memset(stats, 0, sizeof(*stats));
	struct stat sb;
	if (!opts->root || stat(opts->root, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		int err = opts->root && errno ? errno : ENOTDIR;
		log_error("%s: not a directory to archive: %s", opts->root ? opts->root : "(none)",
			  strerror(err));
		return -err;
	}
	_cleanup_free_ char *root = strdup(opts->root);
	if (!root)
		return -ENOMEM;
	size_t rl = strlen(root);
	while (rl > 1 && root[rl - 1] == '/')
		root[--rl] = '\0';

	struct tb t = {
		.o = opts, .st = stats, .sink = sink, .sink_ctx = sink_ctx,
		.root = root, .rootlen = rl, .root_dev = sb.st_dev,
	};
	clock_gettime(CLOCK_MONOTONIC, &t.last_report);
	/* Names go into pax headers as UTF-8; in the C locale libarchive would
	 * mark every non-ASCII name hdrcharset=BINARY, which GNU tar warns
	 * about. Under C.UTF-8 only names that are not UTF-8 are marked (and
	 * both GNU tar and bsdtar still restore their exact bytes). The locale
	 * is this thread's only, for this call only. */
	locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	locale_t old = utf8 ? uselocale(utf8) : (locale_t)0;
	if (!utf8)
		log_debug("no C.UTF-8 locale; non-ASCII names will be stored as binary");

	int rc = -ENOMEM;
	char *zeros = calloc(1, BLOCK_SIZE);
	t.zeros = zeros;
	t.buf = malloc(BLOCK_SIZE);
	t.disk = archive_read_disk_new();
	t.w = archive_write_new();
	if (!zeros || !t.buf || !t.disk || !t.w)
		goto out;
	if ((rc = load_patterns(&t)) < 0)
		goto out;
	load_fstab_swaps(&t);
	idmap_load(&t.users, &t, "etc/passwd");
	idmap_load(&t.groups, &t, "etc/group");
	rc = run(&t);
	/* Freeing the writer closes it: an abandoned archive must not get its
	 * end-of-archive blocks and look complete. */
	t.failed = rc < 0;
out:
	if (rc == -ENOMEM)
		log_error("out of memory while archiving %s", opts->root);
	if (t.w)
		archive_write_free(t.w);  /* also closes, if run() did not get there */
	zstd_stream_free(t.zs);        /* an unfinished frame stays unfinished */
	if (t.disk)
		archive_read_free(t.disk);
	free(zeros);
	free(t.buf);
	free(t.path);
	archive_entry_free(t.entry);
	if (t.res)
		archive_entry_linkresolver_free(t.res);
	strv_free(t.pats, t.n_pats);
	strv_free(t.swaps, t.n_swaps);
	idmap_free(&t.users);
	idmap_free(&t.groups);
	if (utf8) {
		uselocale(old);
		freelocale(utf8);
	}
	return rc;
}
