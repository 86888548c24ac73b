#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static int exists(int dirfd, const char *name)
{
	struct stat st;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int atomic_file_open(struct atomic_file *f, const char *dir, const char *name, bool overwrite)
{
	*f = (struct atomic_file){ .fd = -1, .dirfd = -1 };
	f->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->dirfd < 0) {
		int e = errno;
		log_error("cannot open directory %s: %s", dir, strerror(e));
		return -e;
	}
	if (!overwrite && exists(f->dirfd, name)) {
		log_error("%s/%s already exists (use --force to replace it)", dir, name);
		atomic_file_discard(f);
		return -EEXIST;
	}
	f->name = strdup(name);
	if (!f->name) {
		atomic_file_discard(f);
		return -ENOMEM;
	}
	f->fd = openat(f->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	if (f->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		/* No O_TMPFILE here: a hidden name that never matches a final name. */
		if (asprintf(&f->tmpname, ".%s.partial.%d", name, (int)getpid()) < 0) {
			f->tmpname = NULL;
			atomic_file_discard(f);
			return -ENOMEM;
		}
		f->fd = openat(f->dirfd, f->tmpname, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	}
	if (f->fd < 0) {
		int e = errno;
		log_error("cannot create a file in %s: %s", dir, strerror(e));
		free(f->tmpname);
		f->tmpname = NULL;
		atomic_file_discard(f);
		return -e;
	}
	return 0;
}

int atomic_file_open_path(struct atomic_file *f, const char *path, bool overwrite)
{
	*f = (struct atomic_file){ .fd = -1, .dirfd = -1 };
	char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	char *slash = strrchr(copy, '/');
	const char *dir = slash ? (slash == copy ? "/" : copy) : ".";
	const char *base = slash ? slash + 1 : copy;
	if (slash)
		*slash = '\0';
	int rc = atomic_file_open(f, dir, base, overwrite);
	free(copy);
	return rc;
}

int atomic_file_commit(struct atomic_file *f, bool overwrite)
{
	if (fsync(f->fd) < 0) {
		int e = errno;
		log_error("syncing %s: %s", f->name, strerror(e));
		return -e;
	}
	int rc = 0;
	if (f->tmpname) {
		rc = overwrite ? renameat(f->dirfd, f->tmpname, f->dirfd, f->name)
			       : renameat2(f->dirfd, f->tmpname, f->dirfd, f->name, RENAME_NOREPLACE);
		if (rc == 0) {
			free(f->tmpname);
			f->tmpname = NULL;
		}
	} else {
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f->fd);
		if (!overwrite) {
			/* linkat never replaces: EEXIST if someone got there first. */
			rc = linkat(AT_FDCWD, proc, f->dirfd, f->name, AT_SYMLINK_FOLLOW);
		} else {
			char tmp[300];
			snprintf(tmp, sizeof(tmp), ".%s.new.%d", f->name, (int)getpid());
			rc = linkat(AT_FDCWD, proc, f->dirfd, tmp, AT_SYMLINK_FOLLOW);
			if (rc == 0 && (rc = renameat(f->dirfd, tmp, f->dirfd, f->name)) < 0) {
				int e = errno;
				unlinkat(f->dirfd, tmp, 0);
				errno = e;
			}
		}
	}
	if (rc < 0) {
		int e = errno;
		log_error("cannot publish %s: %s", f->name, strerror(e));
		return -e;
	}
	fsync(f->dirfd);
	close(f->fd);
	f->fd = -1;
	return 0;
}

void atomic_file_discard(struct atomic_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->tmpname && f->dirfd >= 0)
		unlinkat(f->dirfd, f->tmpname, 0);
	if (f->dirfd >= 0)
		close(f->dirfd);
	free(f->tmpname);
	free(f->name);
	*f = (struct atomic_file){ .fd = -1, .dirfd = -1 };
}
