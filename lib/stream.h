/* The p2v stream: what p2v sends to ct-import over the SSH channel.
 * Specified in doc/protocol.md; keep the two in step.
 *
 *   preamble  "P2VSTRM\n" | u32 version | u32 reserved        (16 bytes)
 *   frame     u32 type | u32 length | u64 offset | payload    (16 + length)
 *
 * All integers are big-endian. */
#ifndef STREAM_H
#define STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

#define STREAM_MAGIC "P2VSTRM\n"
#define STREAM_VERSION 2
/* The oldest version a receiver still reads (no reply lines, no resume). */
#define STREAM_VERSION_MIN 1
#define STREAM_PREAMBLE_LEN 16
#define STREAM_FRAME_HEADER_LEN 16
/* Largest payloads a receiver accepts; anything larger is a protocol error. */
#define STREAM_MAX_DATA (4u << 20)
#define STREAM_MAX_HELLO (1u << 20)
#define STREAM_MAX_ABORT 4096u
#define STREAM_MAX_OWNER 4096u
#define STREAM_MAX_UNREADABLE (8u + STREAM_MAX_OWNER)
/* A template stream lists at most this many unreadable file ranges, with
 * at most this many owner (path) bytes in all; more is a protocol error. */
#define STREAM_MAX_FILE_RANGES 100000u
#define STREAM_MAX_FILE_RANGE_BYTES (16u << 20)
/* CHECKPOINT payload: u64 aux | u32 level | u32 reserved | content hash
 * state | aux hash state (lib/sha256.h SHA256_STATE_LEN each). */
#define STREAM_CHECKPOINT_LEN (16u + 2u * SHA256_STATE_LEN)
/* Resuming: a sender has at most this many stream bytes on the wire that
 * the receiver has not acknowledged as durable (so at most this many are
 * sent again after a cut), and sends a checkpoint every quarter of it. */
#define STREAM_RESUME_WINDOW (64u << 20)
#define STREAM_CHECKPOINT_EVERY (STREAM_RESUME_WINDOW / 4)
/* What the sender packs into one data frame. */
#define STREAM_DATA_FRAME (1u << 20)

enum frame_type {
	FRAME_HELLO = 1,  /* JSON object describing what follows; offset 0 */
	FRAME_DATA = 2,   /* payload bytes at logical offset */
	FRAME_ZERO = 3,   /* payload: u64 count of zero bytes at offset */
	FRAME_END = 4,    /* offset: total logical size; payload: SHA-256 */
	FRAME_ABORT = 5,  /* the sender gives up; payload: reason text */
	FRAME_ZDATA = 6,  /* payload: u32 n, then one zstd frame of n bytes */
	FRAME_CHECKPOINT = 7,  /* v2: a point the receiver makes durable and
				  acknowledges; offset: content offset */
	FRAME_UNREADABLE = 8,  /* offset of a range the sender could not read (disk:
				  on the disk; template: in the file); payload:
				  u64 length, then the owner (template: the file's
				  path) as text */
};

struct frame_header {
	uint32_t type;
	uint32_t length;
	uint64_t offset;
};

/* What a CHECKPOINT frame carries besides its offset. */
struct stream_checkpoint {
	uint64_t offset;     /* content offset (frame header) */
	uint64_t aux;        /* templates: uncompressed tar offset; disks: 0 */
	uint32_t level;      /* templates: zstd level in use; disks: 0 */
	uint8_t sha[SHA256_STATE_LEN];      /* content hash state at offset */
	uint8_t aux_sha[SHA256_STATE_LEN];  /* templates: tar hash state at aux */
};

/* Whether a checkpoint's hash states are set (a fresh start has none). */
bool stream_checkpoint_has_state(const struct stream_checkpoint *c);
void stream_checkpoint_encode(const struct stream_checkpoint *c, uint8_t out[STREAM_CHECKPOINT_LEN]);
/* From a frame's payload (of STREAM_CHECKPOINT_LEN bytes) and offset. */
void stream_checkpoint_decode(const uint8_t *payload, uint64_t offset, struct stream_checkpoint *c);

/* The receiver's reply lines of version 2 (doc/protocol.md "Reply lines"):
 *   READY OFFSET AUX LEVEL SHA-STATE AUX-SHA-STATE   after the HELLO
 *   ACK OFFSET WIRE                                  after each durable checkpoint
 * The states are hex, or "-" for a fresh start (offset 0). */
#define STREAM_READY_MAX (64 + 4 * SHA256_STATE_LEN)
void stream_ready_format(char *buf, size_t cap, const struct stream_checkpoint *c);
/* 0, or -EPROTO for anything but a well-formed READY line (c zeroed for a
 * fresh start). */
int stream_ready_parse(const char *line, struct stream_checkpoint *c);
/* "ACK OFFSET WIRE": 0 or -EPROTO. */
int stream_ack_parse(const char *line, uint64_t *offset, uint64_t *wire);

/* Where the writer's bytes go: returns 0 or a negative error. */
typedef int (*stream_sink_fn)(void *ctx, const void *buf, size_t len);

struct stream_writer {
	stream_sink_fn sink;
	void *sink_ctx;
	uint64_t offset;      /* logical bytes emitted so far (data and zeros) */
	struct sha256 sha;    /* over the logical content, zeros included */
	uint8_t *buf;         /* frame header + pending data payload */
	size_t pending;       /* payload bytes in buf */
	uint64_t wire;        /* bytes handed to the sink (preamble, headers, payloads) */
};

int stream_writer_init(struct stream_writer *w, stream_sink_fn sink, void *sink_ctx);
/* Preamble and HELLO frame. */
int stream_write_hello(struct stream_writer *w, const char *json);
/* Append logical bytes; sent in frames of STREAM_DATA_FRAME bytes. */
int stream_write_data(struct stream_writer *w, const void *buf, size_t len);
/* A run of zero bytes, sent as one ZERO frame. */
int stream_write_zero(struct stream_writer *w, uint64_t count);
/* Flush pending data and send END with the total and SHA-256 (copied to
 * digest if not NULL). */
int stream_write_end(struct stream_writer *w, uint8_t digest[SHA256_LEN]);
/* Continue a resumed stream: content offset and hash state as of the
 * checkpoint the receiver resumed from (call after stream_write_hello). */
int stream_writer_resume(struct stream_writer *w, uint64_t offset,
			 const uint8_t state[SHA256_STATE_LEN]);
/* Flush pending data and send a CHECKPOINT at the current offset with the
 * writer's hash state (c->offset and c->sha are filled in). */
int stream_write_checkpoint(struct stream_writer *w, struct stream_checkpoint *c);
/* Flush pending data and send UNREADABLE: a range of len bytes at off
 * and its owner (olen bytes, at most STREAM_MAX_OWNER). */
int stream_write_unreadable(struct stream_writer *w, uint64_t off, uint64_t len,
			    const char *owner, size_t olen);
/* Tell the receiver to discard everything (best effort). */
int stream_write_abort(struct stream_writer *w, const char *reason);
void stream_writer_free(struct stream_writer *w);

/* Reading side. Both return -EPROTO (logged) for anything malformed,
 * including a stream cut short. */
/* Returns the stream's version (STREAM_VERSION_MIN..STREAM_VERSION). */
int stream_read_preamble(int fd);
/* Read one frame header and its payload into buf (cap >= STREAM_MAX_DATA).
 * Lengths are checked against the type's limit before anything is read.
 * Returns 1 for a frame, 0 for EOF exactly at a frame boundary. */
int stream_read_frame(int fd, struct frame_header *h, uint8_t *buf, size_t cap);

#endif
