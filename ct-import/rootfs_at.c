#include "rootfs_at.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* Without openat2 (kernels before 5.6): walk component by component and
 * refuse every symlink, which is stricter but never escapes either. */
static int open_dir_nofollow(int rootfd, const char *rel)
{
	_cleanup_free_ char *copy = strdup(rel);
	if (!copy)
		return -ENOMEM;
	int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	char *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, ".."))  {
			close(fd);
			return -EINVAL;
		}
		int next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(fd);
		if (next < 0)
			return -e;
		fd = next;
	}
	return fd;
}

int rootfs_open_dir(int rootfd, const char *rel)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	long fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
	if (fd >= 0)
		return (int)fd;
	if (errno == ENOSYS || errno == EPERM)  /* EPERM: a seccomp filter */
		return open_dir_nofollow(rootfd, rel);
	return -errno;
}

int rootfs_read_file(int dirfd, const char *name, size_t max, char **text, struct stat *st)
{
	*text = NULL;
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;  /* ELOOP for a symlink */
	if (fstat(fd, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	if ((size_t)st->st_size > max)
		return -EFBIG;
	char *buf = malloc((size_t)st->st_size + 1);
	if (!buf)
		return -ENOMEM;
	ssize_t n = read_full(fd, buf, (size_t)st->st_size);
	if (n < 0) {
		free(buf);
		return (int)n;
	}
	buf[n] = '\0';
	*text = buf;
	return 0;
}

bool rootfs_exists(int dirfd, const char *name)
{
	struct stat st;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int rootfs_write_file(int dirfd, const char *name, const char *what, const char *text,
		      mode_t mode, uid_t uid, gid_t gid)
{
	char tmp[300];
	if (snprintf(tmp, sizeof(tmp), ".%s.p2v-new.%d", name, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	unlinkat(dirfd, tmp, 0);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;
		log_error("cannot create %s: %s", what, strerror(e));
		return -e;
	}
	int rc = write_full(fd, text, strlen(text));
	/* Owner first: fchown clears set-id bits, fchmod then sets the mode. */
	if (rc == 0 && fchown(fd, uid, gid) < 0)
		rc = -errno;
	if (rc == 0 && fchmod(fd, mode & 07777) < 0)
		rc = -errno;
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		rc = -errno;
	if (rc < 0) {
		log_error("cannot write %s: %s", what, strerror(-rc));
		unlinkat(dirfd, tmp, 0);
	}
	return rc;
}
