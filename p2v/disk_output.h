/* `p2v disk --output`: a source disk written locally, as a sparse raw image
 * file (published only when complete) or onto a block device (a USB disk),
 * with what was skipped as zeros either way. */
#ifndef P2V_DISK_OUTPUT_H
#define P2V_DISK_OUTPUT_H

#include <signal.h>
#include <stdbool.h>

#include "disk_read.h"
#include "progress.h"

struct disk_output_opts {
	const char *path;
	bool force;        /* replace an existing file */
	bool skip_free;
	enum progress_mode progress;
	const volatile sig_atomic_t *stop;
	enum read_error_policy on_read_error;
};

/* 0 or a negative errno (logged). */
int disk_write_output(const char *disk, const struct disk_output_opts *o);

#endif
