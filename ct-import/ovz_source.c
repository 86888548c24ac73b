/* OpenVZ sources into a scratch tree (ovz_source.h). Every entry is checked
 * here before libarchive writes it, and libarchive's own secure flags stay
 * on as a second line, so a hostile archive cannot write outside dest. */
#include "ovz_source.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

extern char **environ;

#define EXTRACT_FLAGS                                                                  \
	(ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |           \
	 ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_OWNER |              \
	 ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_ACL |           \
	 ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SPARSE)

static const char lzo_magic[9] = { '\x89', 'L', 'Z', 'O', '\0', '\r', '\n', '\x1a', '\n' };

/* ---- names ---- */

static const char *base_of(const char *path, char *buf, size_t size)
{
	snprintf(buf, size, "%s", path);
	size_t n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	char *slash = strrchr(buf, '/');
	return slash ? slash + 1 : buf;
}

char *ovz_ctid_from_source(const char *source, bool is_dir)
{
	char buf[PATH_MAX];
	const char *base = base_of(source, buf, sizeof(buf));
	char id[129];
	if (!strncmp(base, "vzdump-openvz-", 14)) {
		size_t n = strcspn(base + 14, "-.");
		snprintf(id, sizeof(id), "%.*s", (int)(n < 128 ? n : 128), base + 14);
	} else if (is_dir) {
		snprintf(id, sizeof(id), "%.128s", base);
	} else {
		/* name.tar.gz, name.tgz …: everything before the first ".t". */
		const char *ext = strstr(base, ".t");
		size_t n = ext ? (size_t)(ext - base) : strlen(base);
		snprintf(id, sizeof(id), "%.*s", (int)(n < 128 ? n : 128), base);
	}
	return name_is_safe(id) ? strdup(id) : NULL;
}

int ovz_find_private_config(const char *dir, const char *ctid, char **path)
{
	char d[PATH_MAX];
	snprintf(d, sizeof(d), "%s", dir);
	for (size_t n = strlen(d); n > 1 && d[n - 1] == '/';)
		d[--n] = '\0';
	char cand[3][PATH_MAX + 64];
	size_t nc = 0;
	static const char *const layouts[] = { "/var/lib/vz/private/", "/vz/private/" };
	for (size_t i = 0; i < ARRAY_SIZE(layouts); i++) {
		char tail[PATH_MAX];
		snprintf(tail, sizeof(tail), "%s%s", layouts[i], ctid);
		size_t dl = strlen(d), tl = strlen(tail);
		if (dl >= tl && !strcmp(d + dl - tl, tail)) {
			snprintf(cand[nc++], sizeof(cand[0]), "%.*s/etc/vz/conf/%s.conf", (int)(dl - tl), d, ctid);
			break;
		}
	}
	snprintf(cand[nc++], sizeof(cand[0]), "%s/../%s.conf", d, ctid);
	snprintf(cand[nc++], sizeof(cand[0]), "%s/etc/vzdump/vps.conf", d);
	for (size_t i = 0; i < nc; i++) {
		struct stat st;
		if (stat(cand[i], &st) == 0 && S_ISREG(st.st_mode)) {
			*path = strdup(cand[i]);
			return *path ? 0 : -ENOMEM;
		}
	}
	log_error("no configuration found for the private area %s (looked for %s%s%s%s%s); give --config",
		  dir, cand[0], nc > 1 ? ", " : "", nc > 1 ? cand[1] : "", nc > 2 ? ", " : "",
		  nc > 2 ? cand[2] : "");
	return -ENOENT;
}

/* ---- processes ---- */

int ovz_spawn(char *const argv[], int in_fd, int out_fd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (in_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	int e = posix_spawnp(pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e) {
		log_error("cannot run %s: %s", argv[0], strerror(e));
		return -e;
	}
	return 0;
}

int ovz_wait(pid_t pid, const char *what)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		log_error("%s failed with exit status %d", what, WEXITSTATUS(st));
	else
		log_error("%s was killed by signal %d", what, WTERMSIG(st));
	return -EIO;
}

/* ---- extraction ---- */

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

static int refuse(const char *source, const char *entry, const char *why)
{
	log_error("%s: refusing entry '%s': %s; nothing was converted", source, entry, why);
	return -OVZ_EBADINPUT;
}

static int check_entry(const char *source, struct archive_entry *e)
{
	const char *path = archive_entry_pathname(e);
	if (!path)
		return refuse(source, "(no name)", "entry without a name");
	const char *rel = relative(path);
	if (!rel)
		return refuse(source, path, path[0] == '/' ? "absolute path" : "'..' in the path");
	if (through_symlink(rel))
		return refuse(source, path, "its path goes through a symlink (it would land outside the tree)");
	const char *link = archive_entry_hardlink(e);
	if (link) {
		const char *lrel = relative(link);
		if (!lrel)
			return refuse(source, path, "hard link to a target outside the tree");
		if (through_symlink(lrel))
			return refuse(source, path, "hard link through a symlink");
	}
	return 0;
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

static int extract(struct archive *in, struct archive *out, const char *source)
{
	unsigned long warnings = 0, n = 0;
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			log_error("%s: not a readable tar archive: %s", source, archive_error_string(in));
			return -OVZ_EBADINPUT;
		}
		int rc = check_entry(source, e);
		if (rc < 0)
			return rc;
		n++;
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
			log_error("%s: corrupt or cut short at '%s': %s", source,
				  archive_entry_pathname(e), archive_error_string(in));
			return -OVZ_EBADINPUT;
		}
		if (r == ARCHIVE_WARN && warnings++ < 20)
			log_warn("%s: %s", archive_entry_pathname(e), archive_error_string(out));
		if (r < ARCHIVE_WARN) {
			int err = archive_errno(out);
			log_error("writing '%s' from %s: %s", archive_entry_pathname(e), source,
				  archive_error_string(out) ? archive_error_string(out) : "failed");
			/* libarchive's secure checks give no errno; the disk's do. */
			return err > 0 ? -err : -OVZ_EBADINPUT;
		}
	}
	if (archive_write_close(out) != ARCHIVE_OK) {
		log_error("finishing the extraction of %s: %s", source, archive_error_string(out));
		return -EIO;
	}
	if (n == 0) {
		log_error("%s: the archive is empty", source);
		return -OVZ_EBADINPUT;
	}
	if (warnings)
		log_warn("%lu entries of %s were written with warnings", warnings, source);
	log_debug("%lu entries from %s", n, source);
	return 0;
}

/* Read a tar stream from fd (or the file path when fd < 0) into dest. */
static int extract_into(const char *source, const char *path, int fd, const char *dest)
{
	struct archive *in = archive_read_new(), *out = archive_write_disk_new();
	int rc = 0, cwd = -1;
	if (!in || !out) {
		rc = -ENOMEM;
		goto done;
	}
	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	int r = fd >= 0 ? archive_read_open_fd(in, fd, 1 << 20)
			: archive_read_open_filename(in, path, 1 << 20);
	if (r != ARCHIVE_OK) {
		log_error("cannot read %s: %s", source, archive_error_string(in));
		rc = -OVZ_EBADINPUT;
		goto done;
	}
	archive_write_disk_set_options(out, EXTRACT_FLAGS);
	/* libarchive's checks and our lstat()s are relative to the working
	 * directory: work from inside dest (ct-import is one thread). */
	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || chdir(dest) < 0) {
		rc = -errno;
		log_error("cannot enter %s: %s", dest, strerror(-rc));
		goto done;
	}
	rc = extract(in, out, source);
	if (fchdir(cwd) < 0 && rc == 0)
		rc = -errno;
done:
	if (cwd >= 0)
		close(cwd);
	if (out)
		archive_write_free(out);
	if (in)
		archive_read_free(in);
	return rc;
}

/* Extract what a child process writes to a pipe; the child's failure makes
 * the input bad (lzop: corrupt) or the run fail (tar on a private area). */
static int extract_from_child(const char *source, char *const argv[], int in_fd,
			      const char *dest, int child_fail)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid;
	int rc = ovz_spawn(argv, in_fd, p[1], &pid);
	close(p[1]);
	if (rc < 0) {
		close(p[0]);
		return rc;
	}
	rc = extract_into(source, NULL, p[0], dest);
	if (rc < 0)
		kill(pid, SIGTERM);
	close(p[0]);
	int wrc = ovz_wait(pid, argv[0]);
	if (rc == 0 && wrc < 0)
		rc = child_fail;
	return rc;
}

int ovz_unpack_archive(const char *archive, const char *dest)
{
	_cleanup_close_ int fd = open(archive, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		log_error("cannot open %s: %s", archive, strerror(errno));
		return -OVZ_EBADINPUT;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_error("%s is not a regular file", archive);
		return -OVZ_EBADINPUT;
	}
	char head[sizeof(lzo_magic)];
	ssize_t n = read_full(fd, head, sizeof(head));
	if (n < 0) {
		log_error("cannot read %s: %s", archive, strerror((int)-n));
		return -OVZ_EBADINPUT;
	}
	if (n == (ssize_t)sizeof(head) && !memcmp(head, lzo_magic, sizeof(head))) {
		/* Debian's libarchive has no LZO reader: lzop decompresses. */
		if (lseek(fd, 0, SEEK_SET) < 0)
			return -errno;
		char *argv[] = { "lzop", "-dc", NULL };
		log_info("decompressing %s with lzop", archive);
		return extract_from_child(archive, argv, fd, dest, -OVZ_EBADINPUT);
	}
	return extract_into(archive, archive, -1, dest);
}

int ovz_copy_private(const char *dir, const char *dest)
{
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_error("%s is not a directory", dir);
		return -OVZ_EBADINPUT;
	}
	char hdd[PATH_MAX];
	snprintf(hdd, sizeof(hdd), "%s/root.hdd", dir);
	if (access(hdd, F_OK) == 0) {
		log_error("%s is a ploop container (root.hdd); convert a vzdump archive of it instead", dir);
		return -OVZ_EBADINPUT;
	}
	char *argv[] = { "tar", "-cf", "-", "--numeric-owner", "--acls", "--xattrs",
			 "--xattrs-include=*", "--one-file-system", "-C", (char *)dir, ".", NULL };
	log_info("copying the private area %s", dir);
	return extract_from_child(dir, argv, -1, dest, -EIO);
}
