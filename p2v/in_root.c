/* Opening paths inside an untrusted root (a server's filesystem mounted by
 * p2v) as if it were "/": no symlink or ".." may lead out of it. */
#include "in_root.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

static bool same_inode(int a, int b)
{
	struct stat x, y;
	return fstat(a, &x) == 0 && fstat(b, &y) == 0 && x.st_dev == y.st_dev &&
	       x.st_ino == y.st_ino;
}

/* What openat2(RESOLVE_IN_ROOT) does, for kernels before 5.6 (and valgrind):
 * walk the path one component at a time, restarting absolute symlinks at
 * the root and keeping ".." at the root from leaving it. The source is
 * mounted read-only, so nothing changes under the walk. */
static int open_in_root_walk(int rootfd, const char *path, int flags)
{
	char *rest = strdup(path);
	int cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC), links = 0, rc = 0;
	if (!rest || cur < 0) {
		rc = !rest ? -ENOMEM : -errno;
		goto out;
	}
	char *p = rest;
	while (*p) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		char *comp = p;
		p = slash ? slash + 1 : p + strlen(p);
		if (!*comp || !strcmp(comp, "."))
			continue;
		int next;
		if (!strcmp(comp, "..")) {
			if (same_inode(cur, rootfd))
				continue;
			next = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		} else {
			next = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0) {
			rc = -errno;
			goto out;
		}
		struct stat st;
		if (fstat(next, &st) < 0) {
			rc = -errno;
			close(next);
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t l = readlinkat(next, "", target, sizeof(target) - 1);
			close(next);
			if (l < 0 || ++links > 40) {
				rc = l < 0 ? -errno : -ELOOP;
				goto out;
			}
			target[l] = '\0';
			char *joined;
			if (asprintf(&joined, "%s/%s", target, p) < 0) {
				rc = -ENOMEM;
				goto out;
			}
			free(rest);
			rest = p = joined;
			if (target[0] == '/') {
				close(cur);
				if ((cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
					rc = -errno;
					goto out;
				}
			}
			continue;
		}
		if (*p && !S_ISDIR(st.st_mode)) {
			close(next);
			rc = -ENOTDIR;
			goto out;
		}
		close(cur);
		cur = next;
	}
	if (flags & O_PATH) {
		struct stat st;
		if ((flags & O_DIRECTORY) && (fstat(cur, &st) < 0 || !S_ISDIR(st.st_mode))) {
			rc = -ENOTDIR;
			goto out;
		}
		rc = cur;
		cur = -1;
		goto out;
	}
	char fdpath[64];
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", cur);
	rc = open(fdpath, flags | O_CLOEXEC);
	if (rc < 0)
		rc = -errno;
out:
	if (cur >= 0)
		close(cur);
	free(rest);
	return rc;
}

/* Open path below dirfd as if dirfd were "/": no symlink or ".." leads out. */
static int openat2_in_root(int dirfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		return open_in_root_walk(dirfd, path, flags);
	return fd < 0 ? -errno : (int)fd;
}

int source_open_in_root(int rootfd, const char *path, int flags)
{
	return openat2_in_root(rootfd, path, flags);
}
