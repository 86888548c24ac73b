/* What `ct-import batch` does to processes and leftovers: spawning one
 * conversion child, and removing what a half-done conversion may have left
 * (its container, its scratch directory, a template or vzdump archive it
 * published) before the container is redone. */
#ifndef CTI_BATCH_CLEANUP_H
#define CTI_BATCH_CLEANUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "batch_state.h"

struct batch_env {
	const char *cache_dir;
	const char *lxc_path;
	int log_fd;            /* where cleanup commands' output goes */
};

/* Fork argv[0] (a path) with stdin /dev/null and stdout+stderr onto out_fd.
 * The child dies with the batch (PR_SET_PDEATHSIG) and does not exec until
 * release_fd (the write end of a pipe) is written to or closed: the caller
 * records its pid durably first. Returns the pid or a negative error. */
pid_t batch_spawn(char *const argv[], int out_fd, int *release_fd);

/* Run argv (PATH lookup) to completion with its output on out_fd; the exit
 * status, or a negative error when it could not run or was killed. */
int batch_run(char *const argv[], int out_fd);

/* Whether the container exists now: <lxc_path>/<name> with lxc, the VMID
 * anywhere in the cluster with pve. */
bool batch_container_exists(const struct batch_env *env, const struct batch_entry *e);

/* Remove what the conversion recorded in e may have left: the container
 * (e->backend set means this batch started creating it), scratch
 * directories of conversion processes no longer running, e->template_path,
 * and vzdump archives of e->vmid written since e->time. Idempotent.
 * 0, or a negative error (logged) when the container could not be removed. */
int batch_cleanup(const struct batch_env *env, const struct batch_entry *e);

/* Whether pid runs a ct-import convert-openvz of source (a conversion an
 * earlier batch left running must not be redone under it). */
bool batch_conversion_running(long pid, const char *source);

#endif
