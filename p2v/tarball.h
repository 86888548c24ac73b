/* The lossless root filesystem archive: a compressed pax tarball written
 * through libarchive, streamed to a sink as it is produced. */
#ifndef P2V_TARBALL_H
#define P2V_TARBALL_H

#include <stddef.h>
#include <stdint.h>

#include "disk_read.h"
#include "sha256.h"

enum tar_compression { TAR_ZSTD, TAR_GZIP };

struct tarball_opts {
	const char *root;               /* directory to archive (members are ./...) */
	const char *const *excludes;    /* extra fnmatch patterns, relative to root */
	size_t n_excludes;
	enum tar_compression compression;
	int level;                      /* compression level; 0 = default (see pressure) */
	int threads;                    /* zstd worker threads; 0 = one per core */
	/* Called now and then with the source bytes read so far (may be NULL). */
	void (*progress)(void *ctx, uint64_t source_bytes, uint64_t compressed_bytes);
	void *progress_ctx;
	/* zstd with level 0: when set, the level follows the sink, starting at
	 * 3 within 1..9. Called after each block; returns +1 when the sink held
	 * the compressor up (compress harder), -1 when the compressor held the
	 * sink up (compress lighter), 0 otherwise. */
	int (*pressure)(void *ctx);
	void *pressure_ctx;
	/* A file data range that stays unreadable (bad sectors): the archive
	 * fails, or holds zeros there and the range is listed. */
	enum read_error_policy on_read_error;
	/* Resumable streams (zstd): every checkpoint_every compressed bytes
	 * (or twice that of tar), at a tar block boundary, the zstd frame is
	 * ended and checkpoint() called with the tar offset, the hash state of
	 * the tar so far and the level; 0 or a negative error. */
	uint64_t checkpoint_every;
	int (*checkpoint)(void *ctx, uint64_t tar_offset,
			  const uint8_t tar_state[SHA256_STATE_LEN], int level);
	void *checkpoint_ctx;
	/* Resuming at a checkpoint: the first skip_to tar bytes are produced
	 * and hashed but not compressed; they must hash to skip_state (else
	 * the source changed: -ESTALE, logged). start_level: the adaptive
	 * level to continue with (0: the usual start). */
	uint64_t skip_to;
	const uint8_t *skip_state;
	int start_level;
};

/* A file data range that stayed unreadable: its path in the archive
 * ("/etc/…", the name's bytes as they are), byte offset within the file
 * and length. */
struct tar_bad_range {
	char *file;
	uint64_t off, len;
};

struct tarball_stats {
	uint64_t entries;
	uint64_t source_bytes;      /* file data read */
	uint64_t compressed_bytes;  /* bytes handed to the sink */
	uint64_t warnings;          /* unreadable entries skipped with a warning */
	uint64_t unreadable_bytes;  /* file data lost to bad sectors, zero-filled */
	uint64_t unreadable_ranges;
	struct tar_bad_range *bad;  /* the ranges, in the order found; malloc'd,
				       tarball_stats_free frees them */
	size_t n_bad;
	int level_min, level_max;   /* zstd levels used */
};

/* Sink for the compressed bytes: returns 0 or a negative error, which aborts
 * the archive. */
typedef int (*tarball_sink_fn)(void *ctx, const void *buf, size_t len);

/* Free what tarball_write left in stats (the lists of unreadable ranges);
 * stats stays usable for another tarball_write. */
void tarball_stats_free(struct tarball_stats *stats);

/* Archive opts->root into sink. Returns 0 or a negative error (logged). */
int tarball_write(const struct tarball_opts *opts, tarball_sink_fn sink, void *sink_ctx,
		  struct tarball_stats *stats);

/* The file extension for a compression: ".tar.zst" or ".tar.gz". */
const char *tarball_extension(enum tar_compression c);

#endif
