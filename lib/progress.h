/* Progress of a long operation: a self-rewriting line on a terminal, one
 * JSON object per line with --progress=json, or nothing. */
#ifndef PROGRESS_H
#define PROGRESS_H

#include <stdint.h>

enum progress_mode { PROGRESS_AUTO, PROGRESS_JSON, PROGRESS_NONE };

struct progress {
	enum progress_mode mode;  /* AUTO resolved to NONE when stderr is no tty */
	const char *label;
	uint64_t total;           /* expected source bytes; 0 when unknown */
	uint64_t done;            /* source bytes processed */
	uint64_t sent;            /* bytes sent on the wire */
	double start, last;       /* monotonic seconds */
};

/* Parse "auto", "json" or "none"; 0 or -EINVAL. */
int progress_mode_parse(const char *s, enum progress_mode *mode);
void progress_init(struct progress *p, enum progress_mode mode, const char *label, uint64_t total);
/* Record progress; prints at most twice a second. */
void progress_update(struct progress *p, uint64_t done, uint64_t sent);
/* Final line (always shown on a terminal or in JSON mode). */
void progress_finish(struct progress *p);
double progress_elapsed(const struct progress *p);

#endif
