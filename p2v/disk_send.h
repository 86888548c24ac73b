/* Reading a source disk and emitting what matters, in order: the reader
 * (this thread) reads 4 MiB windows of used blocks, zeroes what the layout
 * says is free, hands each window to the hasher thread, and emits the
 * non-zero 64 KiB-aligned runs of each 1 MiB chunk. Emitters: stream frames
 * (zstd-compressed, for a sending thread) or a sparse raw file. */
#ifndef P2V_DISK_SEND_H
#define P2V_DISK_SEND_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <zstd.h>

#include "disk_layout.h"
#include "progress.h"
#include "sha256.h"
#include "stream.h"

#define DISK_WINDOW (4u << 20)
#define DISK_CHUNK (1u << 20)
#define DISK_GRAIN (64u << 10)
/* Free gaps shorter than this between used runs are read, not skipped. */
#define DISK_READ_GAP (256u << 10)

/* Called with each non-zero run (at most DISK_CHUNK bytes, never crossing a
 * chunk boundary), in increasing offset order. */
typedef int (*disk_emit_fn)(void *ctx, uint64_t off, const uint8_t *buf, size_t len);

struct disk_send_stats {
	uint64_t size;         /* logical disk size */
	uint64_t read_bytes;   /* bytes read from the source */
	uint64_t data_bytes;   /* logical bytes emitted (everything else is zeros) */
	uint64_t unreadable_bytes;  /* bad sectors, zero-filled (see s->unreadable) */
	uint8_t digest[SHA256_LEN];  /* of the whole logical disk */
	double hash_wait;      /* seconds the reader waited for the hasher at the end */
};

/* Read s and emit its content. sent (may be NULL) is shown as the bytes sent
 * in progress. stop, when it becomes non-zero, ends the copy with -EINTR. */
int disk_send(struct disk_source *s, disk_emit_fn emit, void *emit_ctx,
	      struct progress *prog, const uint64_t *sent,
	      const volatile sig_atomic_t *stop, struct disk_send_stats *st);

/* Resuming and checkpoints (doc/protocol.md "Resuming"). */
struct disk_resume {
	uint64_t start;        /* a multiple of DISK_WINDOW: nothing before it is read */
	const uint8_t *state;  /* hash state of the content before start (NULL when 0) */
	/* After each window: whether its end should be a checkpoint; if so,
	 * checkpoint() gets the hash state of everything before off. */
	bool (*want)(void *ctx, uint64_t off);
	int (*checkpoint)(void *ctx, uint64_t off, const uint8_t state[SHA256_STATE_LEN]);
	void *ctx;
};

/* disk_send from r->start on (r may be NULL: all of it). */
int disk_send_from(struct disk_source *s, disk_emit_fn emit, void *emit_ctx,
		   struct progress *prog, const uint64_t *sent,
		   const volatile sig_atomic_t *stop, const struct disk_resume *r,
		   struct disk_send_stats *st);

/* Log what was read, emitted and sent, with exact counts for scripts. */
void disk_send_report(const char *what, const struct disk_source *s,
		      const struct disk_send_stats *st, uint64_t sent, double secs);

/* Stream frames: ZDATA when zstd shrinks a run, DATA otherwise. */
struct disk_frames {
	stream_sink_fn sink;
	void *sink_ctx;
	ZSTD_CCtx *cctx;
	int level;             /* 0: no compression */
	uint8_t *out;
	uint64_t wire_bytes;   /* frame headers and payloads */
	uint64_t zframes, frames;
};

int disk_frames_init(struct disk_frames *f, stream_sink_fn sink, void *sink_ctx, int level);
int disk_frames_emit(void *f, uint64_t off, const uint8_t *buf, size_t len);
int disk_frames_end(struct disk_frames *f, uint64_t size, const uint8_t digest[SHA256_LEN]);
void disk_frames_free(struct disk_frames *f);

/* A raw image: runs written where they belong; the caller sizes the file
 * (ftruncate) so everything else reads as zeros. ctx points to the fd. */
int disk_file_emit(void *fdp, uint64_t off, const uint8_t *buf, size_t len);

#endif
