#include "disk_output.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "disk_layout.h"
#include "disk_report.h"
#include "disk_send.h"
#include "log.h"
#include "util.h"

/* Onto a device whose old content must not show through: what lies between
 * the runs is zeroed as we go. */
struct dev_out {
	int fd;
	uint64_t done;   /* everything before this is written or zeroed */
};

static int zero_range(int fd, uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	uint64_t range[2] = { off, len };
	if (ioctl(fd, BLKZEROOUT, range) == 0)
		return 0;
	static const uint8_t zeros[1 << 16];
	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		int rc = disk_file_emit(&fd, off, zeros, n);
		if (rc < 0)
			return rc;
		off += n;
		len -= n;
	}
	return 0;
}

static int dev_emit(void *ctx, uint64_t off, const uint8_t *buf, size_t len)
{
	struct dev_out *d = ctx;
	int rc = zero_range(d->fd, d->done, off - d->done);
	if (rc == 0)
		rc = disk_file_emit(&d->fd, off, buf, len);
	d->done = off + len;
	return rc;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	if (S_ISBLK(a->st_mode) || S_ISBLK(b->st_mode))
		return S_ISBLK(a->st_mode) && S_ISBLK(b->st_mode) && a->st_rdev == b->st_rdev;
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static int to_device(struct disk_source *s, const struct disk_output_opts *o,
		     struct progress *prog, struct disk_send_stats *st)
{
	/* O_EXCL on a block device: refused while mounted or in use. */
	int fd = open(o->path, O_WRONLY | O_EXCL | O_CLOEXEC);
	uint64_t size = 0;
	if (fd < 0) {
		log_error("cannot open %s exclusively: %s", o->path, strerror(errno));
		return -errno;
	}
	int rc = 0;
	if (ioctl(fd, BLKGETSIZE64, &size) < 0 || size < s->size) {
		log_error("%s is smaller than %s (%llu < %llu bytes)", o->path, s->path,
			  (unsigned long long)size, (unsigned long long)s->size);
		rc = -ENOSPC;
	}
	struct dev_out d = { .fd = fd };
	if (rc == 0)
		rc = disk_send(s, dev_emit, &d, prog, NULL, o->stop, st);
	if (rc == 0)
		rc = zero_range(fd, d.done, s->size - d.done);
	if (rc == 0 && fsync(fd) < 0) {
		rc = -errno;
		log_error("%s: %s", o->path, strerror(errno));
	}
	close(fd);
	return rc;
}

static int to_file(struct disk_source *s, const struct disk_output_opts *o,
		   struct progress *prog, struct disk_send_stats *st)
{
	struct atomic_file f;
	int rc = atomic_file_open_path(&f, o->path, o->force);
	if (rc < 0)
		return rc;
	rc = disk_send(s, disk_file_emit, &f.fd, prog, NULL, o->stop, st);
	if (rc == 0 && ftruncate(f.fd, (off_t)s->size) < 0) {
		rc = -errno;
		log_error("sizing %s: %s", o->path, strerror(errno));
	}
	if (rc == 0)
		rc = atomic_file_commit(&f, o->force);
	atomic_file_discard(&f);
	return rc;
}

int disk_write_output(const char *disk, const struct disk_output_opts *o)
{
	struct disk_source s;
	struct stat in, out;
	int rc = disk_source_open(disk, o->skip_free, &s);
	if (rc < 0)
		return rc;
	s.on_read_error = o->on_read_error;
	bool exists = stat(o->path, &out) == 0;
	if (exists && fstat(s.fd, &in) == 0 && same_file(&in, &out)) {
		log_error("refusing to write %s onto itself", disk);
		disk_source_close(&s);
		return -EINVAL;
	}
	struct progress prog;
	struct disk_send_stats st;
	progress_init(&prog, o->progress, "imaging", s.size);
	if (exists && S_ISBLK(out.st_mode))
		rc = to_device(&s, o, &prog, &st);
	else
		rc = to_file(&s, o, &prog, &st);
	progress_finish(&prog);
	/* Bad sectors: listed in the log, and beside an image file that was
	 * written (a device has no "beside"). */
	_cleanup_free_ char *list = NULL;
	if (rc == 0 && !(exists && S_ISBLK(out.st_mode)) &&
	    asprintf(&list, "%s.unreadable.json", o->path) < 0)
		rc = -ENOMEM;
	int urc = unreadable_finish(o->path, &s, NULL, s.unreadable.n ? list : NULL);
	if (rc == 0)
		rc = urc;
	if (rc == 0) {
		disk_send_report(o->path, &s, &st, st.data_bytes, progress_elapsed(&prog));
		log_info("wrote %s", o->path);
	}
	disk_source_close(&s);
	return rc;
}
