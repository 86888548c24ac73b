/* Secure tar extraction (safe_extract.h). The checks and libarchive's are
 * relative to the working directory, so the extraction runs from inside
 * dest (ct-import is one thread). */
#include "safe_extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* Owners, modes, times, ACLs, xattrs and sparse files as in the archive;
 * as root libarchive sets xattrs after chown, so security.capability
 * survives. No FFLAGS: an immutable file would block the fixups and
 * lxc-destroy (Proxmox's GNU tar does not restore them either). */
#define EXTRACT_FLAGS                                                                  \
	(ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |           \
	 ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_OWNER |              \
	 ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_ACL |           \
	 ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SPARSE)

/* "./a/b" → "a/b"; NULL when absolute or with a ".." component. */
static const char *relative(const char *p)
{
	if (p[0] == '/')
		return NULL;
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	for (const char *c = p; *c;) {
		size_t n = strcspn(c, "/");
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return NULL;
		c += n;
		c += strspn(c, "/");
	}
	return p;
}

/* Whether a directory on the way to rel (relative to the working
 * directory, the tree's root) is a symlink: writing there would follow it. */
static bool through_symlink(const char *rel)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", rel);
	for (char *s = strchr(buf, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		struct stat st;
		bool link = buf[0] && lstat(buf, &st) == 0 && S_ISLNK(st.st_mode);
		*s = '/';
		if (link)
			return true;
	}
	return false;
}

/* Why the entry at path must not be written, or NULL. */
static const char *refusal(const char *path, struct archive_entry *e)
{
	const char *rel = relative(path);
	if (!rel)
		return path[0] == '/' ? "absolute path" : "'..' in the path";
	if (through_symlink(rel))
		return "its path goes through a symlink (it would land outside the tree)";
	const char *link = archive_entry_hardlink(e);
	if (link) {
		const char *lrel = relative(link);
		if (!lrel)
			return "hard link to a target outside the tree";
		if (through_symlink(lrel))
			return "hard link through a symlink";
	}
	return NULL;
}

/* Like Proxmox (tar's exclude of ./dev/...): a server's static device nodes are
 * stale in a container, whose /dev LXC populates itself. */
static bool below_dev(const char *path)
{
	if (path[0] == '.' && path[1] == '/')
		path += 2;
	while (path[0] == '/')
		path++;
	return !strncmp(path, "dev/", 4) && path[4] != '\0';
}

static int copy_data(struct archive *in, struct archive *out, bool *read_err)
{
	for (;;) {
		const void *buf;
		size_t size;
		la_int64_t offset;
		int r = archive_read_data_block(in, &buf, &size, &offset);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN) {
			*read_err = true;
			return -1;
		}
		if (archive_write_data_block(out, buf, size, offset) < ARCHIVE_WARN)
			return -1;
	}
}

static int refuse(const char *source, const char *entry, const char *why)
{
	log_error("%s: refusing entry '%s': %s", source, entry, why);
	return -SAFE_EXTRACT_EBADINPUT;
}

static int extract(struct archive *in, struct archive *out, const struct safe_extract *x)
{
	const char *source = x->name;
	unsigned long warnings = 0, n = 0, dev_skipped = 0;
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			log_error("%s: not a readable tar archive: %s", source, archive_error_string(in));
			return -SAFE_EXTRACT_EBADINPUT;
		}
		const char *path = archive_entry_pathname(e);
		if (!path)
			return refuse(source, "(no name)", "entry without a name");
		n++;
		if (x->skip_dev && below_dev(path)) {
			dev_skipped++;
			continue;
		}
		const char *why = refusal(path, e);
		if (why)
			return refuse(source, path, why);
		/* Numeric owners as stored (no name lookup): the container's
		 * passwd, not the host's, gives ids their names. */
		bool read_err = false;
		r = archive_write_header(out, e);
		if (r >= ARCHIVE_WARN && archive_entry_size(e) > 0 && copy_data(in, out, &read_err) < 0)
			r = ARCHIVE_FATAL;
		if (r >= ARCHIVE_WARN) {
			int f = archive_write_finish_entry(out);
			if (f < r)
				r = f;
		}
		if (read_err) {
			log_error("%s: corrupt or cut short at '%s': %s", source, path,
				  archive_error_string(in));
			return -SAFE_EXTRACT_EBADINPUT;
		}
		if (r == ARCHIVE_WARN && warnings++ < 20)
			log_warn("%s: %s", path, archive_error_string(out));
		if (r < ARCHIVE_WARN) {
			int err = archive_errno(out);
			log_error("writing '%s' from %s: %s", path, source,
				  archive_error_string(out) ? archive_error_string(out) : "failed");
			/* libarchive's secure checks give no errno; the disk's do. */
			return err > 0 ? -err : -SAFE_EXTRACT_EBADINPUT;
		}
	}
	if (archive_write_close(out) != ARCHIVE_OK) {
		log_error("finishing the extraction of %s: %s", source, archive_error_string(out));
		return -EIO;
	}
	if (n == 0) {
		log_error("%s: the archive is empty", source);
		return -SAFE_EXTRACT_EBADINPUT;
	}
	if (warnings)
		log_warn("%lu entries of %s were written with warnings", warnings, source);
	if (dev_skipped)
		log_debug("skipped %lu entries below /dev", dev_skipped);
	log_debug("%lu entries from %s", n, source);
	return 0;
}

int safe_extract(const struct safe_extract *x, const char *dest)
{
	struct archive *in = archive_read_new(), *out = archive_write_disk_new();
	int rc = 0, cwd = -1;
	if (!in || !out) {
		rc = -ENOMEM;
		goto done;
	}
	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	int r = x->path ? archive_read_open_filename(in, x->path, 1 << 20)
			: archive_read_open_fd(in, x->fd, 1 << 20);
	if (r != ARCHIVE_OK) {
		log_error("cannot read %s: %s", x->name, archive_error_string(in));
		rc = -SAFE_EXTRACT_EBADINPUT;
		goto done;
	}
	archive_write_disk_set_options(out, EXTRACT_FLAGS);
	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || chdir(dest) < 0) {
		rc = -errno;
		log_error("cannot enter %s: %s", dest, strerror(-rc));
		goto done;
	}
	rc = extract(in, out, x);
	if (fchdir(cwd) < 0 && rc == 0) {
		rc = -errno;
		log_error("cannot return to the working directory: %s", strerror(-rc));
	}
done:
	if (cwd >= 0)
		close(cwd);
	if (out)
		archive_write_free(out);
	if (in)
		archive_read_free(in);
	return rc;
}
