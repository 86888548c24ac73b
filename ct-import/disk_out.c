#include "disk_out.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "log.h"
#include "qcow2.h"
#include "util.h"

enum out_kind { OUT_RAW, OUT_QCOW2, OUT_DEVICE, OUT_STAGED };

struct disk_out {
	enum out_kind kind;
	int fd;                 /* the image or device being written */
	struct atomic_file af;  /* files only */
	struct qcow2_writer *qw;
	uint64_t size;
	unsigned sector;        /* device logical block size */
	char *path;             /* final path, for messages and the reply */
	bool committed;
};

/* Raw files skip all-zero chunks of this size so the file stays sparse. */
#define SPARSE_CHUNK (64u << 10)
/* One BLKZEROOUT call at most this long, so a huge run is not one
 * uninterruptible ioctl. */
#define ZEROOUT_STEP (1ull << 30)

static bool all_zero(const uint8_t *p, size_t len)
{
	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

static int pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int mkdir_p(const char *dir)
{
	_cleanup_free_ char *p = strdup(dir);
	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = c;
		if (!c)
			return 0;
	}
}

int disk_out_open_file(struct disk_out **out, const char *dir, const char *name,
		       enum disk_format format, enum qcow2_compression compression, uint64_t size)
{
	struct disk_out *o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->fd = -1;
	o->af = (struct atomic_file){ .fd = -1, .dirfd = -1 };
	o->size = size;
	o->kind = format == DISK_QCOW2 ? OUT_QCOW2 : OUT_RAW;
	int rc = mkdir_p(dir);
	if (rc < 0) {
		log_error("cannot create the import directory %s: %s", dir, strerror(-rc));
		goto fail;
	}
	if (asprintf(&o->path, "%s/%s", dir, name) < 0) {
		o->path = NULL;
		rc = -ENOMEM;
		goto fail;
	}
	/* Images are never replaced: a second migration must not clobber a VM's disk. */
	if ((rc = atomic_file_open(&o->af, dir, name, false)) < 0)
		goto fail;
	o->fd = o->af.fd;
	if (o->kind == OUT_RAW) {
		if (ftruncate(o->fd, (off_t)size) < 0) {
			rc = -errno;
			log_error("cannot size %s to %llu bytes: %s", o->path,
				  (unsigned long long)size, strerror(-rc));
			goto fail;
		}
	} else {
		if (size % 512) {
			log_error("a qcow2 image holds whole 512-byte sectors; %llu bytes needs --format raw",
				  (unsigned long long)size);
			rc = -EINVAL;
			goto fail;
		}
		struct qcow2_opts qo = { .compression = compression };
		if ((rc = qcow2_writer_open(o->fd, size, &qo, &o->qw)) < 0)
			goto fail;
	}
	*out = o;
	return 0;
fail:
	disk_out_free(o);
	return rc;
}

int disk_out_open_device(struct disk_out **out, const char *dev, uint64_t size)
{
	struct disk_out *o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->kind = OUT_DEVICE;
	o->af = (struct atomic_file){ .fd = -1, .dirfd = -1 };
	o->size = size;
	int rc;
	/* O_EXCL on a block device: refused while mounted or held by another. */
	o->fd = open(dev, O_WRONLY | O_EXCL | O_CLOEXEC);
	if (o->fd < 0) {
		rc = -errno;
		log_error("cannot open target device %s exclusively: %s", dev, strerror(-rc));
		goto fail;
	}
	struct stat st;
	if (fstat(o->fd, &st) < 0 || !S_ISBLK(st.st_mode)) {
		log_error("target %s is not a block device", dev);
		rc = -ENOTBLK;
		goto fail;
	}
	uint64_t devsize = 0;
	int ssz = 512;
	if (ioctl(o->fd, BLKGETSIZE64, &devsize) < 0 || ioctl(o->fd, BLKSSZGET, &ssz) < 0 || ssz <= 0) {
		rc = -errno;
		log_error("cannot read the size of %s: %s", dev, strerror(-rc));
		goto fail;
	}
	o->sector = (unsigned)ssz;
	if (devsize < size) {
		char a[32], b[32];
		log_error("target device %s (%s) is smaller than the source disk (%s)", dev,
			  format_bytes(devsize, a, sizeof(a)), format_bytes(size, b, sizeof(b)));
		rc = -ENOSPC;
		goto fail;
	}
	if (!(o->path = strdup(dev))) {
		rc = -ENOMEM;
		goto fail;
	}
	*out = o;
	return 0;
fail:
	disk_out_free(o);
	return rc;
}

int disk_out_open_staged(struct disk_out **out, int fd, const char *path, uint64_t size,
			 uint64_t resume_at)
{
	struct disk_out *o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->kind = OUT_STAGED;
	o->af = (struct atomic_file){ .fd = -1, .dirfd = -1 };
	o->fd = fd;
	o->size = size;
	if (!(o->path = strdup(path))) {
		free(o);
		return -ENOMEM;
	}
	/* Truncating to the checkpoint and back leaves holes (zeros) after it. */
	if (ftruncate(fd, (off_t)resume_at) < 0 || ftruncate(fd, (off_t)size) < 0) {
		int rc = -errno;
		log_error("cannot size %s to %llu bytes: %s", path, (unsigned long long)size,
			  strerror(-rc));
		disk_out_free(o);
		return rc;
	}
	*out = o;
	return 0;
}

int disk_out_sync(struct disk_out *o)
{
	if (o->kind == OUT_QCOW2)
		return -EINVAL;  /* not resumable */
	if (fsync(o->fd) < 0) {
		int rc = -errno;
		log_error("syncing %s: %s", o->path, strerror(-rc));
		return rc;
	}
	return 0;
}

int disk_out_convert_qcow2(int rawfd, uint64_t size, const char *dir, const char *name,
			   enum qcow2_compression compression)
{
	struct disk_out *o = NULL;
	int rc = disk_out_open_file(&o, dir, name, DISK_QCOW2, compression, size);
	if (rc < 0)
		return rc;
	const size_t step = 1u << 20;
	_cleanup_free_ uint8_t *buf = malloc(step);
	if (!buf)
		rc = -ENOMEM;
	/* Only the data regions: the holes are zeros, unallocated in qcow2. */
	for (off_t pos = 0; rc == 0 && (uint64_t)pos < size;) {
		off_t data = lseek(rawfd, pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		off_t hole = data < 0 ? -1 : lseek(rawfd, data, SEEK_HOLE);
		if (data < 0 || hole < 0) {
			rc = -errno;
			log_error("mapping the staged image for %s: %s", name, strerror(-rc));
			break;
		}
		if ((uint64_t)hole > size)
			hole = (off_t)size;
		for (pos = data; rc == 0 && pos < hole;) {
			size_t n = (uint64_t)(hole - pos) < step ? (size_t)(hole - pos) : step;
			ssize_t got = pread(rawfd, buf, n, pos);
			if (got <= 0) {
				rc = got < 0 ? -errno : -EIO;
				log_error("reading the staged image for %s: %s", name, strerror(-rc));
				break;
			}
			rc = disk_out_write(o, (uint64_t)pos, buf, (size_t)got);
			pos += got;
		}
	}
	if (rc == 0)
		rc = disk_out_commit(o);
	disk_out_free(o);
	return rc;
}

static int write_error(struct disk_out *o, int rc)
{
	log_error("writing %s: %s", o->path, strerror(-rc));
	return rc;
}

int disk_out_write(struct disk_out *o, uint64_t offset, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	int rc = 0;
	switch (o->kind) {
	case OUT_RAW:
	case OUT_STAGED:
		/* Leave zero chunks as holes in the fresh file. */
		while (len && rc == 0) {
			size_t n = SPARSE_CHUNK - (size_t)(offset % SPARSE_CHUNK);
			if (n > len)
				n = len;
			if (!all_zero(p, n))
				rc = pwrite_full(o->fd, p, n, offset);
			p += n;
			offset += n;
			len -= n;
		}
		break;
	case OUT_DEVICE:
		rc = pwrite_full(o->fd, p, len, offset);
		break;
	case OUT_QCOW2:
		/* The writer leaves all-zero clusters unallocated. */
		return qcow2_writer_write(o->qw, offset, buf, len);
	}
	return rc < 0 ? write_error(o, rc) : 0;
}

/* Zero [offset, offset+len) on the device: BLKZEROOUT for the aligned middle,
 * plain writes for unaligned edges. */
static int device_zero(struct disk_out *o, uint64_t offset, uint64_t len)
{
	static const uint8_t zeros[4096];
	uint64_t s = o->sector;
	while (len && (offset % s || len < s)) {
		size_t n = (size_t)(s - offset % s);
		if (n > len)
			n = (size_t)len;
		if (n > sizeof(zeros))
			n = sizeof(zeros);
		int rc = pwrite_full(o->fd, zeros, n, offset);
		if (rc < 0)
			return rc;
		offset += n;
		len -= n;
	}
	uint64_t mid = len - len % s;
	while (mid) {
		uint64_t step = mid < ZEROOUT_STEP ? mid : ZEROOUT_STEP;
		uint64_t range[2] = { offset, step };
		if (ioctl(o->fd, BLKZEROOUT, range) < 0)
			return -errno;
		offset += step;
		len -= step;
		mid -= step;
	}
	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		int rc = pwrite_full(o->fd, zeros, n, offset);
		if (rc < 0)
			return rc;
		offset += n;
		len -= n;
	}
	return 0;
}

int disk_out_zero(struct disk_out *o, uint64_t offset, uint64_t len)
{
	int rc = 0;
	switch (o->kind) {
	case OUT_RAW:
	case OUT_STAGED:
		/* A fresh sparse file already reads zeros there (a staged
		 * one was cleared after its checkpoint). */
		break;
	case OUT_DEVICE:
		rc = device_zero(o, offset, len);
		break;
	case OUT_QCOW2:
		/* Gaps in a qcow2 stream are unallocated clusters: zeros. */
		break;
	}
	return rc < 0 ? write_error(o, rc) : 0;
}

int disk_out_commit(struct disk_out *o)
{
	if (o->kind == OUT_DEVICE || o->kind == OUT_STAGED) {
		if (fsync(o->fd) < 0)
			return write_error(o, -errno);
		o->committed = true;
		return 0;
	}
	int rc = o->qw ? qcow2_writer_finish(o->qw) : 0;
	if (rc < 0)
		return rc;
	rc = atomic_file_commit(&o->af, false);
	if (rc < 0)
		return rc;
	o->fd = -1;
	o->committed = true;
	return 0;
}

const char *disk_out_path(const struct disk_out *o)
{
	return o->path;
}

void disk_out_free(struct disk_out *o)
{
	if (!o)
		return;
	if (o->kind == OUT_DEVICE) {
		if (o->fd >= 0)
			close(o->fd);
	} else if (o->kind != OUT_STAGED) {  /* a staged fd is borrowed */
		qcow2_writer_free(o->qw);
		atomic_file_discard(&o->af);
	}
	free(o->path);
	free(o);
}
