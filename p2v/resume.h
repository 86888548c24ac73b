/* Surviving a dropped link (doc/protocol.md "Resuming"): reconnecting with
 * bounded exponential backoff, p2v's own record of each transfer's id so
 * `--resume` continues after p2v itself was killed, and the count of bytes
 * a cut made us send again. */
#ifndef P2V_RESUME_H
#define P2V_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "progress.h"
#include "stream.h"

#define RESUME_DEFAULT_STATE_DIR "/run/p2v"
#define RESUME_DEFAULT_RETRIES 10
#define RESUME_DEFAULT_MAX_WAIT 60

/* Keys 410-419 are reserved for these. */
enum {
	RESUME_OPT_RETRIES = 410,
	RESUME_OPT_MAX_WAIT,
	RESUME_OPT_RESUME,
	RESUME_OPT_STATE_DIR,
};

#define RESUME_OPT_DEFS \
	{ "retries", RESUME_OPT_RETRIES, "N", "reconnect up to N times in a row when the connection drops, continuing where the hypervisor's copy is durable (default 10; 0: give up at once)", "p2v.retries" }, \
	{ "retry-max-wait", RESUME_OPT_MAX_WAIT, "S", "longest wait between reconnects; waits double from 1 s (default 60)", "p2v.retry_max_wait" }, \
	{ "resume", RESUME_OPT_RESUME, NULL, "continue the transfer a killed p2v left unfinished (its id is in the state directory)", "p2v.resume" }, \
	{ "state-dir", RESUME_OPT_STATE_DIR, "DIR", "where p2v records its transfers for --resume (default " RESUME_DEFAULT_STATE_DIR "; must be writable, e.g. a tmpfs on a read-only rescue medium)" }

struct resume_opts {
	unsigned retries;
	unsigned max_wait;
	bool resume;
	const char *state_dir;
};

void resume_opts_init(struct resume_opts *o);
/* 1 when key was one of ours (-EINVAL, logged, for a bad value), 0 when not. */
int resume_opt_handle(struct resume_opts *o, int key, const char *arg);

/* One transfer (one stream) and its record state_dir/NAME.KIND.json. */
struct transfer {
	char id[33];
	char kind[16];
	char path[4096];        /* the record; "" when it cannot be kept */
	bool done;              /* a previous run finished it */
	bool loaded;            /* the id came from a record (--resume) */
	bool reached;           /* a receiver answered READY in this run */
	char remote_path[4096]; /* where it was stored, when done */
	/* Resent-bytes accounting: checkpoints written on the current
	 * connection (content offset, stream bytes after the frame). */
	struct { uint64_t offset, wire; } ck[64];
	size_t n_ck;
	uint64_t checkpoints;   /* written in all, for telling progress */
	uint64_t data_wire;     /* stream bytes before the first content byte */
	uint64_t cut_wire;      /* bytes sent on the connection that was cut */
	bool cut;
	uint64_t resent, resent_max;
	unsigned cuts;
};

/* Find (with --resume) or create the record and the transfer id. A record
 * that cannot be written costs only --resume (warned). */
int transfer_begin(struct transfer *t, const struct resume_opts *o, const char *kind,
		   const char *name);
void transfer_mark_done(struct transfer *t, const char *remote_path);
void transfer_forget(struct transfer *t);
/* After a failed run: drop a record nothing can resume from (a new id no
 * receiver ever answered: a refused login or host key, no such host). */
void transfer_failed(struct transfer *t);

/* A new connection's stream: what came before its content. */
void transfer_connection(struct transfer *t, uint64_t data_wire);
/* A checkpoint frame ended at stream byte wire on this connection. */
void transfer_checkpoint(struct transfer *t, uint64_t offset, uint64_t wire);
/* The connection dropped after wire bytes were sent on it. */
void transfer_cut(struct transfer *t, uint64_t wire);
/* The receiver resumes at offset: account what the cut makes us resend. */
void transfer_resumed(struct transfer *t, const char *label, uint64_t offset);
/* "resent_bytes=… cuts=… max_resent=… window=…" into the log. */
void transfer_report(const struct transfer *t, const char *label);

/* Whether an attempt that failed with rc is worth a reconnect. */
bool resume_retryable(int rc, bool lost);
/* Wait before reconnect number attempt (1-based): 1, 2, 4 … s, at most
 * max_wait, shown on the progress line and logged. -EINTR on a signal,
 * -ETIMEDOUT (logged) when attempts are used up. */
int resume_backoff(const struct resume_opts *o, unsigned attempt, const char *label,
		   struct progress *prog);

#endif
