/* archive_unpack_secure (declared in lxc.h): a template into a rootfs with
 * libarchive, refusing entries that would land outside it. */
#include "lxc.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* Owners, modes, times, ACLs, xattrs and sparse files as in the template;
 * as root libarchive sets xattrs after chown, so security.capability
 * survives. No FFLAGS: an immutable file would block the fixups and
 * lxc-destroy (Proxmox's GNU tar does not restore them either). */
#define UNPACK_FLAGS                                                                   \
	(ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |           \
	 ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_OWNER |              \
	 ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_ACL |           \
	 ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SPARSE)

/* Like Proxmox (tar's exclude of ./dev/...): a server's static device nodes are
 * stale in a container, whose /dev LXC populates itself. */
static bool skipped(const char *path)
{
	if (path[0] == '.' && path[1] == '/')
		path += 2;
	while (path[0] == '/')
		path++;
	return !strncmp(path, "dev/", 4) && path[4] != '\0';
}

static int copy_data(struct archive *in, struct archive *out)
{
	for (;;) {
		const void *buf;
		size_t size;
		la_int64_t offset;
		int r = archive_read_data_block(in, &buf, &size, &offset);
		if (r == ARCHIVE_EOF)
			return ARCHIVE_OK;
		if (r < ARCHIVE_WARN)
			return r;
		if (archive_write_data_block(out, buf, size, offset) < ARCHIVE_WARN)
			return ARCHIVE_FATAL;
	}
}

static int unpack(struct archive *in, struct archive *out, const char *archive_path)
{
	struct archive_entry *e;
	unsigned long warnings = 0, dev_skipped = 0;
	for (;;) {
		int r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			log_error("reading %s: %s", archive_path, archive_error_string(in));
			return -EIO;
		}
		const char *path = archive_entry_pathname(e);
		if (!path || skipped(path)) {
			dev_skipped++;
			continue;
		}
		/* Numeric owners as stored (no name lookup): the container's
		 * passwd, not the host's, gives ids their names. */
		r = archive_write_header(out, e);
		if (r == ARCHIVE_OK && archive_entry_size(e) > 0)
			r = copy_data(in, out) == ARCHIVE_OK ? ARCHIVE_OK : ARCHIVE_FATAL;
		if (r >= ARCHIVE_WARN) {
			int f = archive_write_finish_entry(out);
			if (f < r)
				r = f;
		}
		if (r == ARCHIVE_WARN) {
			if (warnings++ < 20)
				log_warn("%s: %s", path, archive_error_string(out));
		} else if (r < ARCHIVE_WARN) {
			/* An insecure entry (.., absolute, through a symlink) is an
			 * attack or a broken template either way: stop. */
			const char *why = archive_error_string(out);
			if (!why)
				why = archive_error_string(in);
			log_error("unpacking %s: %s: %s", archive_path, path, why ? why : "failed");
			return -EIO;
		}
	}
	if (archive_write_close(out) != ARCHIVE_OK) {
		log_error("unpacking %s: %s", archive_path, archive_error_string(out));
		return -EIO;
	}
	if (warnings)
		log_warn("%lu entries of %s were unpacked with warnings", warnings, archive_path);
	if (dev_skipped)
		log_debug("skipped %lu entries below /dev", dev_skipped);
	return 0;
}

int archive_unpack_secure(const char *archive_path, const char *dest_dir)
{
	struct archive *in = archive_read_new();
	struct archive *out = archive_write_disk_new();
	int rc = 0, cwd = -1;
	if (!in || !out) {
		rc = -ENOMEM;
		goto out;
	}
	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	if (archive_read_open_filename(in, archive_path, 1 << 20) != ARCHIVE_OK) {
		int e = archive_errno(in);
		log_error("cannot open %s: %s", archive_path, archive_error_string(in));
		rc = e > 0 ? -e : -EIO;
		goto out;
	}
	archive_write_disk_set_options(out, UNPACK_FLAGS);
	/* The secure checks and hard link targets are relative to the working
	 * directory, so unpack from inside dest_dir (ct-import is one thread). */
	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || chdir(dest_dir) < 0) {
		rc = -errno;
		log_error("cannot enter %s: %s", dest_dir, strerror(-rc));
		goto out;
	}
	rc = unpack(in, out, archive_path);
	if (fchdir(cwd) < 0 && rc == 0) {
		rc = -errno;
		log_error("cannot return to the working directory: %s", strerror(-rc));
	}
out:
	if (cwd >= 0)
		close(cwd);
	if (out)
		archive_write_free(out);
	if (in)
		archive_read_free(in);
	return rc;
}
