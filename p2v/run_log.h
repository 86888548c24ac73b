/* p2v run's log: everything written to stderr from here on (ours, the
 * command's, p2v.pre's) also goes to a file, through a small tee process, so
 * the console shows the run while the file keeps it. */
#ifndef P2V_RUN_LOG_H
#define P2V_RUN_LOG_H

#include <sys/types.h>

struct run_log {
	int saved_stderr;
	pid_t tee;
};

/* Append to path (created 0600). 0, or -errno after logging. */
int run_log_start(struct run_log *l, const char *path);
/* Wait (a moment at most) until the tee has passed on what was logged, so a
 * prompt written straight to the terminal comes after it. */
void run_log_sync(void);
/* Give stderr back and wait until the tee has written everything. */
void run_log_stop(struct run_log *l);

#endif
