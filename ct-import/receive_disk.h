/* ct-import receive, disk streams (doc/protocol.md "Disk streams"): each
 * frame bounds-checked against the announced size, ZDATA decompressed to
 * exactly its announced length, the SHA-256 of the whole logical disk
 * recomputed, and the image published only when it matches. */
#ifndef CTI_RECEIVE_DISK_H
#define CTI_RECEIVE_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sha256.h"

/* Largest disk a stream may announce: 64 TiB. */
#define DISK_MAX_SIZE (64ull << 40)

struct disk_receive_opts {
	const char *import_dir;  /* where images are published */
	const char *target_dev;  /* --target-dev: overrides the HELLO's "target" */
	const char *format;      /* --format: overrides the HELLO's "format" */
	const char *compress;    /* qcow2 clusters: none (NULL), zstd or deflate */
	int version;             /* the stream's (2: READY and ACK lines on reply) */
	FILE *reply;             /* where those lines go (version 2) */
	uint64_t wire;           /* stream bytes read up to and with the HELLO */
};

struct disk_receive_result {
	char *path;              /* published image or device (malloc'd) */
	uint64_t size;
	uint8_t digest[SHA256_LEN];
	char *done_reply;        /* already published earlier: its OK line (malloc'd) */
};

/* Whether a HELLO payload announces kind "disk". */
bool hello_is_disk(const uint8_t *hello, size_t len);

/* Receive the rest of a disk stream from fd, whose HELLO frame payload was
 * hello (which may lie in buf: it is parsed first). buf holds
 * STREAM_MAX_DATA bytes. 0, or a negative error (logged):
 * -EEXIST for an existing image, -EPROTO / -EBADMSG for a malformed, short
 * or mismatching stream. */
int receive_disk(int fd, const uint8_t *hello, size_t hello_len, uint8_t *buf,
		 const struct disk_receive_opts *opts, struct disk_receive_result *res);

#endif
