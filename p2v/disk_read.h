/* Reading a source that may have bad sectors: a failed read is retried in
 * halves, down to one logical sector, so only what really cannot be read
 * is lost; each unreadable range is then either a failure or zero-filled
 * and remembered (--on-read-error=fail|zero). */
#ifndef P2V_DISK_READ_H
#define P2V_DISK_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum read_error_policy {
	READ_ERROR_FAIL = 0,  /* the run fails cleanly (the default) */
	READ_ERROR_ZERO,      /* the range reads as zeros and is listed */
};

/* "fail" or "zero"; -EINVAL for anything else. */
int read_error_policy_parse(const char *s, enum read_error_policy *p);
const char *read_error_policy_name(enum read_error_policy p);

struct bad_range {
	uint64_t off, len;
};

/* Unreadable ranges in increasing order, touching ones merged. */
struct bad_list {
	struct bad_range *v;
	size_t n, cap;
};

int bad_list_add(struct bad_list *l, uint64_t off, uint64_t len);
uint64_t bad_list_bytes(const struct bad_list *l);
void bad_list_free(struct bad_list *l);

/* pread(2)'s contract: bytes read, 0 at end of file, -1 with errno. */
typedef ssize_t (*pread_fn)(void *ctx, void *buf, size_t len, uint64_t off);

/* pread on the descriptor ctx points to. */
ssize_t fd_pread(void *fdp, void *buf, size_t len, uint64_t off);

/* Whether err is what a medium says about a sector it cannot read (EIO,
 * ENODATA, EILSEQ, EBADMSG, ENOMSG), as opposed to a mistake of ours. */
int is_media_error(int err);

/* The device's logical sector size (BLKSSZGET), 512 for a file. */
unsigned sector_size_of(int fd);

struct read_stats {
	uint64_t reads;        /* calls to the read function */
	uint64_t failed_reads; /* of which failed with a media error */
};

/* Read len bytes at off into buf through fn. A media error splits the
 * piece in two at a sector boundary (absolute offsets, multiples of
 * sector) and reads each half, down to pieces within one sector. What
 * stays unreadable is zero-filled in buf and added to bad (merged).
 * Returns 0 when every byte was read, the number of bytes left unreadable
 * (> 0) otherwise, or a negative errno for any other failure (including
 * the end of the source before len bytes: -ENODATA). Logs nothing. */
int64_t read_bisect(pread_fn fn, void *ctx, uint8_t *buf, size_t len, uint64_t off,
		    unsigned sector, struct bad_list *bad, struct read_stats *st);

/* The reads behind read_bisect for a source disk: buffered as usual until
 * a read fails with a media error, then (until sector_reader_reset) with
 * O_DIRECT through a sector-aligned bounce buffer, so a block device's
 * page cache (4 KiB pages) does not widen a bad 512-byte sector to its
 * whole page. Where O_DIRECT cannot be had, the retries stay buffered. */
struct sector_reader {
	int fd;              /* the source's own descriptor */
	int dfd;             /* O_DIRECT on the same path, or -1 */
	const char *path;
	unsigned sector;
	uint8_t *bounce;
	size_t cap;
	bool direct, tried;  /* in direct mode; opening it was tried */
};

void sector_reader_init(struct sector_reader *r, int fd, const char *path, unsigned sector);
/* A pread_fn; ctx is the sector_reader. */
ssize_t sector_pread(void *ctx, void *buf, size_t len, uint64_t off);
/* Back to buffered reads (after a piece is done). */
void sector_reader_reset(struct sector_reader *r);
void sector_reader_free(struct sector_reader *r);

#endif
