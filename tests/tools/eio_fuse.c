/* A disk with bad sectors, for tests: a FUSE file system whose root is one
 * read-only regular file serving a backing image, except that any read
 * touching a listed byte range fails with EIO, as a failing drive's does.
 * Reads use direct I/O, so the kernel passes each request through as is
 * (no 4 KiB page cache rounding) and an application's pread sees exactly
 * the ranges listed.
 *
 *   eio_fuse BACKING MOUNTPOINT [OFF:LEN]...   (MOUNTPOINT: a regular file)
 *
 * Runs in the foreground until unmounted (umount MOUNTPOINT). Writes are
 * refused; the backing image is opened read-only. Each failed read is
 * counted; SIGUSR1 prints the count on stderr. */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_BAD 256

static int backing = -1;
static off_t backing_size;
static struct { uint64_t off, len; } bad[MAX_BAD];
static int nbad;
static volatile sig_atomic_t failed_reads;

static int eio_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	(void)fi;
	if (strcmp(path, "/"))
		return -ENOENT;
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | 0444;
	st->st_nlink = 1;
	st->st_size = backing_size;
	return 0;
}

static int eio_open(const char *path, struct fuse_file_info *fi)
{
	if (strcmp(path, "/"))
		return -ENOENT;
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EROFS;
	fi->direct_io = 1;
	return 0;
}

static int eio_read(const char *path, char *buf, size_t len, off_t off, struct fuse_file_info *fi)
{
	(void)path, (void)fi;
	for (int i = 0; i < nbad; i++)
		if ((uint64_t)off < bad[i].off + bad[i].len && bad[i].off < (uint64_t)off + len) {
			failed_reads++;
			return -EIO;
		}
	ssize_t n = pread(backing, buf, len, off);
	return n < 0 ? -errno : (int)n;
}

static void report(int sig)
{
	(void)sig;
	char msg[64];
	int n = snprintf(msg, sizeof(msg), "eio_fuse: %d failed reads\n", (int)failed_reads);
	if (write(2, msg, (size_t)n) < 0)
		return;
}

static const struct fuse_operations ops = {
	.getattr = eio_getattr,
	.open = eio_open,
	.read = eio_read,
};

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s BACKING MOUNTPOINT [OFF:LEN]...\n", argv[0]);
		return 2;
	}
	backing = open(argv[1], O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (backing < 0 || fstat(backing, &st) < 0) {
		perror(argv[1]);
		return 1;
	}
	backing_size = st.st_size;
	for (int i = 3; i < argc; i++) {
		if (nbad == MAX_BAD ||
		    sscanf(argv[i], "%" SCNu64 ":%" SCNu64, &bad[nbad].off, &bad[nbad].len) != 2) {
			fprintf(stderr, "eio_fuse: bad range '%s' (OFF:LEN, at most %d)\n", argv[i], MAX_BAD);
			return 2;
		}
		nbad++;
	}
	signal(SIGUSR1, report);
	/* Foreground, single-threaded, read-only; root may read it. */
	char *fargv[] = { argv[0], argv[2], "-f", "-s", "-o", "ro,default_permissions,fsname=eio_fuse",
			  NULL };
	return fuse_main(6, fargv, &ops, NULL);
}
