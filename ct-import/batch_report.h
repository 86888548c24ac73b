/* Reports of `ct-import batch`: reading one conversion's JSON report
 * (convert_openvz.h) and writing the batch's summary, as JSON (--report)
 * and as a table for people. */
#ifndef CTI_BATCH_REPORT_H
#define CTI_BATCH_REPORT_H

#include <stdio.h>

#include "batch_manifest.h"
#include "batch_state.h"

struct child_report {
	char *result;      /* "ok", "failed", ... or NULL when unreadable */
	char *error;       /* the first error, or NULL */
	unsigned notes;    /* warnings */
	unsigned unmapped; /* ve.conf keys not mapped */
};

/* Read path; a missing or malformed report gives result NULL and -errno
 * (the child may have died before writing it). */
int child_report_read(const char *path, struct child_report *r);
void child_report_free(struct child_report *r);

struct batch_summary_ctx {
	const char *manifest, *state, *reports_dir, *logs_dir;
	const struct batch_manifest *m;
	struct batch_state *st;
};

/* The summary as JSON, written atomically to path. 0 or a negative error. */
int batch_summary_write(const struct batch_summary_ctx *c, const char *path);
/* One line per container, then the totals. */
void batch_summary_print(const struct batch_summary_ctx *c, FILE *f);

#endif
