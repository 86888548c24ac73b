/* Where the archive's tar bytes go; internal to p2v/tarball.c. libarchive
 * writes the tar in TAR_BLOCK_SIZE blocks; each is hashed (for resume
 * checkpoints), skipped when it lies before the resume point, else
 * compressed (our zstd at an adaptive level, or libarchive's gzip) and
 * handed to the caller's sink. */
#ifndef P2V_TAR_OUTPUT_H
#define P2V_TAR_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "sha256.h"
#include "tarball.h"

#define TAR_BLOCK_SIZE (1024 * 1024)   /* tar bytes per write callback */

struct archive;
struct zstd_stream;

struct tar_output {
	const struct tarball_opts *o;
	struct tarball_stats *st;       /* compressed_bytes, level_min/max */
	tarball_sink_fn sink;
	void *sink_ctx;
	struct archive *w;              /* the pax writer, set by the caller */
	int sink_rc;                    /* the sink's error (it logged it) */
	bool failed;                    /* no more bytes to the sink after an error */
	struct zstd_stream *zs;         /* our own zstd (libarchive's level is fixed) */
	/* Resumable streams: the tar's own hash and where it stands. */
	struct sha256 tar_sha;
	uint64_t tar_off;
	uint64_t ck_tar, ck_comp;       /* tar and compressed bytes at the last checkpoint */
};

/* Start hashing the tar, if checkpoints or a resume point ask for it. */
int tar_output_init(struct tar_output *out);
/* Set up out->w as a pax writer with the compression o asks for and open
 * it; 0 or a negative error (logged). */
int tar_output_open(struct tar_output *out);
/* After the writer is closed: the last zstd frame. */
int tar_output_finish(struct tar_output *out);
/* A resumed archive that ended before its resume point: -ESTALE (logged). */
int tar_output_check_resumed(const struct tar_output *out);
/* Free the writer (which closes it; set out->failed first if the archive
 * must not be completed) and the rest. */
void tar_output_free(struct tar_output *out);

/* A failed libarchive call on out->w while writing what: the sink's error
 * or libarchive's, logged. */
int tar_output_fail(struct tar_output *out, const char *what);
/* libarchive's errno for a, as a negative error (-EIO without one). */
int tar_archive_err(struct archive *a);

#endif
