/* OpenVZ sources into a scratch tree (ovz_source.h), through the secure
 * extraction create-ct uses too (safe_extract.h), so a hostile archive
 * cannot write outside dest. */
#include "ovz_source.h"

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
#include "safe_extract.h"
#include "util.h"

extern char **environ;

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

/* Read a tar stream from fd (or the file path when fd < 0) into dest. */
static int extract_into(const char *source, const char *path, int fd, const char *dest)
{
	const struct safe_extract x = { .name = source, .path = fd >= 0 ? NULL : path, .fd = fd };
	return safe_extract(&x, dest);
}

/* Read fd to its end. libarchive stops at the tar end marker, but GNU tar
 * still writes the rest of its last record after it: closing the pipe
 * before that kills tar with SIGPIPE (seen under load in test_batch). */
static void drain(int fd)
{
	char buf[16384];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EINTR))
			return;
	}
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
	else
		drain(p[0]);
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
