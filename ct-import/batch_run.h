/* The running part of `ct-import batch`: starting each conversion child
 * once its start is durably recorded, settling what it did when it exits,
 * and the progress display (batch.c sets things up; doc/batch.md). */
#ifndef CTI_BATCH_RUN_H
#define CTI_BATCH_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "batch_cleanup.h"
#include "batch_manifest.h"
#include "batch_state.h"

struct job {
	pid_t pid;
	size_t item;     /* manifest index */
	size_t entry;    /* state index */
};

struct batch {
	struct batch_manifest m;
	struct batch_state st;
	struct batch_env env;
	char *state_dir, *reports_dir, *logs_dir;
	struct job *job;
	int lock_fd;     /* the state's flock */
	unsigned jobs, running, done, failed, total;
	bool tty;
	int width;
};

/* Set by SIGINT/SIGTERM/SIGHUP: start nothing new, stop the running ones. */
extern volatile sig_atomic_t batch_interrupted;

/* Run the manifest items queue[0..nq) with at most b->jobs at once. 0, or
 * the first error that stopped the batch (logged). */
int batch_run_all(struct batch *b, const size_t *queue, size_t nq);

/* The status line on a terminal: clear it (a log hook) and draw it. */
void batch_status_clear(void);
void batch_status_attach(struct batch *b);

#endif
