/* The lossless root filesystem archive: we walk the root in a fixed order
 * (sorted_dir.c), archive_read_disk describes each entry (with xattrs and
 * ACLs; names from the root's own passwd and group, tar_names.c), leaving
 * out what tar_exclude.c says, and archive_write turns it into a pax
 * tarball whose bytes tar_output.c compresses and hands to the caller's
 * sink as they are produced. */
#include "tarball.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sorted_dir.h"
#include "tar_exclude.h"
#include "tar_names.h"
#include "tar_output.h"
#include "util.h"

#define BLOCK_SIZE        TAR_BLOCK_SIZE         /* file data read at a time */
#define PROGRESS_BYTES    (64ULL * 1024 * 1024)
#define PROGRESS_NSEC     500000000LL

struct tb {
	const struct tarball_opts *o;
	struct tarball_stats *st;
	struct tar_output out;  /* the writer and where its bytes go */
	struct archive *disk;
	const char *root;       /* as opened; entry paths start with it */
	size_t rootlen;
	dev_t root_dev;
	struct tar_exclude ex;
	struct idmap users, groups;
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

/* ---- user and group names from the archived root, not the rescue system ---- */

static const char *uname_cb(void *ctx, la_int64_t id)
{
	return tar_idmap_lookup(&((struct tb *)ctx)->users, id);
}

static const char *gname_cb(void *ctx, la_int64_t id)
{
	return tar_idmap_lookup(&((struct tb *)ctx)->groups, id);
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

/* A read of want bytes at pos failed with a media error: read around the
 * bad sectors into t->buf; what stays unreadable is zeros and listed, or
 * the archive fails, by policy. want, or -1 with errno. */
static ssize_t read_around_bad(struct tb *t, int fd, const char *rel, size_t want, int64_t pos)
{
	struct bad_list bad = { 0 };
	int64_t lost = read_bisect(fd_pread, &fd, (uint8_t *)t->buf, want, (uint64_t)pos, 512,
				   &bad, NULL);
	if (lost < 0) {
		errno = (int)-lost;
		return -1;
	}
	struct tar_bad_range *v = bad.n ? realloc(t->st->bad, (t->st->n_bad + bad.n) * sizeof(*v))
					: t->st->bad;
	if (bad.n && !v) {
		bad_list_free(&bad);
		errno = ENOMEM;
		return -1;
	}
	t->st->bad = v;
	for (size_t i = 0; i < bad.n; i++) {
		char *file = NULL;
		if (asprintf(&file, "/%s", rel) < 0) {
			bad_list_free(&bad);
			errno = ENOMEM;
			return -1;
		}
		v[t->st->n_bad++] = (struct tar_bad_range){ file, bad.v[i].off, bad.v[i].len };
		log_warn("unreadable: file=/%s offset=%llu length=%llu%s", rel,
			 (unsigned long long)bad.v[i].off, (unsigned long long)bad.v[i].len,
			 t->o->on_read_error == READ_ERROR_ZERO ? " (zero-filled)" : "");
	}
	t->st->unreadable_ranges += bad.n;
	t->st->unreadable_bytes += (uint64_t)lost;
	bad_list_free(&bad);
	if (lost && t->o->on_read_error != READ_ERROR_ZERO) {
		log_error("/%s has unreadable sectors; stopping (--on-read-error=zero would zero-fill "
			  "and list them)", rel);
		errno = EIO;
		return -1;
	}
	return (ssize_t)want;
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
			if (archive_write_data(t->out.w, t->zeros, n) < 0)
				return tar_output_fail(&t->out, rel);
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
				if (n < 0 && is_media_error(errno))
					n = read_around_bad(t, fd, rel, want, pos);
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
			if (archive_write_data(t->out.w, src, (size_t)n) < 0)
				return tar_output_fail(&t->out, rel);
			pos += n;
			maybe_progress(t, false);
		}
	}
	/* The trailing hole too: the pax writer emits the sparse map on the
	 * first write, so a file that is all hole needs one. */
	while (pos < size) {
		size_t n = size - pos > BLOCK_SIZE ? BLOCK_SIZE : (size_t)(size - pos);
		if (archive_write_data(t->out.w, t->zeros, n) < 0)
			return tar_output_fail(&t->out, rel);
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
		return tar_archive_err(t->disk);
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
	if (tar_acl_numeric_only(e) < 0)
		return -ENOMEM;

	struct archive_entry *spare = NULL;
	archive_entry_linkify(t->res, &e, &spare);
	if (!e)
		return 0;  /* the tar strategy hands every entry straight back */
	r = archive_write_header(t->out.w, e);
	if (r == ARCHIVE_WARN && strstr(archive_error_string(t->out.w), "Can't translate"))
		/* Not UTF-8: stored as raw bytes, marked hdrcharset=BINARY. */
		log_info("%s: name is not UTF-8; stored as raw bytes", *rel ? rel : ".");
	else if (r == ARCHIVE_WARN)
		log_warn("%s: %s", *rel ? rel : ".", archive_error_string(t->out.w));
	else if (r == ARCHIVE_FAILED) {
		log_warn("skipping %s: %s", *rel ? rel : ".", archive_error_string(t->out.w));
		t->st->warnings++;
		return 0;
	} else if (r != ARCHIVE_OK)
		return tar_output_fail(&t->out, "header");
	t->st->entries++;
	if (S_ISREG(sb->st_mode) && !archive_entry_hardlink(e) && archive_entry_size(e) > 0)
		return copy_data(t, e, fd, rel);
	return 0;
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
	struct sorted_dir l = { 0 };
	int rc = sorted_dir_read(dirfd, &l);
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
		if (tar_excluded(&t->ex, crel, base, &sb, mount_root))
			continue;
		rc = visit(t, dirfd, base, crel, &sb);
	}
out:
	sorted_dir_free(&l);
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
		if (tar_is_swap_file(fd, sb)) {
			log_info("leaving out swap file %s", rel);
			return 0;
		}
	}
	if ((rc = archive_one(t, rel, fd, sb)) < 0)
		return rc;
	maybe_progress(t, false);
	if (!S_ISDIR(sb->st_mode))
		return 0;
	if (tar_is_volatile_dir(rel))
		return 0;
	if (sb->st_dev != t->root_dev && tar_fs_is_pseudo(&t->ex, sb->st_dev, fd)) {
		log_info("not descending into pseudo filesystem at %s", rel);
		return 0;
	}
	return walk_dir(t, fd, rel, sb->st_dev);
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
		return tar_archive_err(d);
	}
	return 0;
}

static int run(struct tb *t)
{
	int rc = setup_reader(t);
	if (rc < 0 || (rc = tar_output_open(&t->out)) < 0)
		return rc;
	t->res = archive_entry_linkresolver_new();
	t->entry = archive_entry_new();
	if (!t->res || !t->entry)
		return -ENOMEM;
	archive_entry_linkresolver_set_strategy(t->res, archive_format(t->out.w));
	/* The root itself: "." and everything below it. */
	struct stat sb;
	if (lstat(t->root, &sb) < 0 || stat(t->root, &sb) < 0) {
		rc = -errno;
		log_error("%s: %s", t->root, strerror(-rc));
		return rc;
	}
	/* O_NOATIME as for every other entry: reading must not change what a
	 * resumed run's archive says about the root. */
	_cleanup_close_ int fd = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		log_error("opening %s: %s", t->root, strerror(-rc));
		return rc;
	}
	if ((rc = set_path(t, "")) < 0 || (rc = archive_one(t, "", fd, &sb)) < 0 ||
	    (rc = walk_dir(t, fd, "", sb.st_dev)) < 0)
		return rc;
	if (archive_write_close(t->out.w) != ARCHIVE_OK)
		return tar_output_fail(&t->out, "close");
	if ((rc = tar_output_finish(&t->out)) < 0)
		return rc;
	maybe_progress(t, true);
	return 0;
}

void tarball_stats_free(struct tarball_stats *stats)
{
	for (size_t i = 0; i < stats->n_bad; i++)
		free(stats->bad[i].file);
	free(stats->bad);
	stats->bad = NULL;
	stats->n_bad = 0;
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
		.o = opts, .st = stats,
		.out = { .o = opts, .st = stats, .sink = sink, .sink_ctx = sink_ctx },
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
	t.out.w = archive_write_new();
	if (!zeros || !t.buf || !t.disk || !t.out.w)
		goto out;
	if ((rc = tar_load_patterns(&t.ex, opts->excludes, opts->n_excludes)) < 0)
		goto out;
	tar_load_fstab_swaps(&t.ex, t.root);
	tar_idmap_load(&t.users, t.root, "etc/passwd");
	tar_idmap_load(&t.groups, t.root, "etc/group");
	if ((rc = tar_output_init(&t.out)) < 0)
		goto out;
	rc = run(&t);
	if (rc == 0)
		rc = tar_output_check_resumed(&t.out);
	/* Freeing the writer closes it: an abandoned archive must not get its
	 * end-of-archive blocks and look complete. */
	t.out.failed = rc < 0;
out:
	if (rc == -ENOMEM)
		log_error("out of memory while archiving %s", opts->root);
	tar_output_free(&t.out);  /* also closes the writer, if run() did not */
	if (t.disk)
		archive_read_free(t.disk);
	free(zeros);
	free(t.buf);
	free(t.path);
	archive_entry_free(t.entry);
	if (t.res)
		archive_entry_linkresolver_free(t.res);
	tar_exclude_free(&t.ex);
	tar_idmap_free(&t.users);
	tar_idmap_free(&t.groups);
	if (utf8) {
		uselocale(old);
		freelocale(utf8);
	}
	return rc;
}
