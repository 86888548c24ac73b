/* ct-import receive's work apart from its command line, so the fuzz
 * harness (tests/fuzz/fuzz_stream.c) drives the same code on any fd. */
#ifndef CTI_RECEIVE_H
#define CTI_RECEIVE_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"

struct receive_stream_opts {
	const char *target_dev;  /* --target-dev, or NULL */
	const char *format;      /* --format, or NULL */
	const char *compress;    /* --compress, or NULL */
	bool force;              /* --force: replace an existing template */
};

/* Read one p2v stream from in into cfg's cache_dir (templates) or
 * import_dir (disks); on success print the "OK …" line on reply. 0 or a
 * negative error (logged); nothing is published on failure. */
int receive_stream(int in, FILE *reply, const struct cti_config *cfg,
		   const struct receive_stream_opts *o);

#endif
