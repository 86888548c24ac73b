/* A resumable transfer's files on the receiver (doc/protocol.md
 * "Resuming"), all hidden in the directory the result is published in:
 *
 *   .FINAL.partial   the content received so far (templates, raw staging of
 *                    disk images; an empty placeholder for --target-dev)
 *   .FINAL.resume    the last durable checkpoint, JSON, replaced atomically
 *   .FINAL.lock      flock'ed by the receiver working on it: "PID ID"
 *
 * A new receiver with the same transfer id takes over from a previous one
 * still blocked on a dead connection; with another id, it starts afresh. */
#ifndef CTI_RESUME_STAGE_H
#define CTI_RESUME_STAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "stream.h"

#define TRANSFER_ID_LEN 32   /* hex digits */

struct resume_stage {
	int dirfd, fd, lockfd;   /* fd: the partial file, O_RDWR */
	char *dir;
	char partial[256], state[256], lock[256];
	char id[TRANSFER_ID_LEN + 1];
	char *ident;             /* what must not change between attempts */
	bool resumed;            /* ck holds the durable checkpoint */
	bool done;               /* this transfer was published: done_reply is its OK line */
	char done_reply[4200];
	struct stream_checkpoint ck;
};

/* Whether s is a transfer id: TRANSFER_ID_LEN lowercase hex digits. */
bool transfer_id_valid(const char *s);

/* Open (creating) the staging files for dir/final under the lock. ident
 * describes the transfer (kind, size, format …): a state whose id or ident
 * differs is discarded with the partial file. 0 or -errno (logged);
 * -EBUSY when another receiver keeps the lock. */
int resume_stage_open(struct resume_stage *s, const char *dir, const char *final,
		      const char *id, const char *ident);
/* Record c as durable (the caller synced the data first) and tell the
 * sender "ACK OFFSET WIRE" on reply. */
int resume_stage_save(struct resume_stage *s, const struct stream_checkpoint *c, uint64_t wire,
		      FILE *reply);
/* Link the partial file as final (replacing it only when overwrite), sync
 * the directory, remove the state. */
int resume_stage_publish(struct resume_stage *s, const char *final, bool overwrite);
/* After publishing: keep "done" and the OK line, so a sender whose
 * connection dropped before it saw that line gets it on reconnecting. */
void resume_stage_done(struct resume_stage *s, const char *ok_line);
/* Remove partial, state and lock (a transfer that cannot be resumed). */
void resume_stage_discard(struct resume_stage *s);
/* Close, keeping the files for the next attempt; safe on a zeroed struct
 * with fds -1. */
void resume_stage_close(struct resume_stage *s);

/* Write the READY line (the resume point, or a fresh start) and flush. */
void resume_stage_ready(FILE *reply, const struct resume_stage *s);

#endif
