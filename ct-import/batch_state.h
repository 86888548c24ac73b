/* The state file of `ct-import batch`: what happened to each container, kept
 * durable (written whole, fsync'd, renamed into place, directory fsync'd) so
 * a batch killed at any moment can be rerun. A container is recorded as
 * started, with its VMID, BEFORE its conversion process runs: a rerun then
 * knows that VMID may exist half-made and removes it before redoing it. */
#ifndef CTI_BATCH_STATE_H
#define CTI_BATCH_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BATCH_STATE_VERSION 1
#define BATCH_STATE_MAX_SIZE (16u << 20)

enum batch_status { BATCH_PENDING, BATCH_STARTED, BATCH_DONE, BATCH_FAILED };

struct batch_entry {
	char *source;          /* absolute path: the key */
	char *key;             /* file-name-safe id: report and log names */
	enum batch_status status;
	unsigned vmid;         /* 0: none */
	char *output;          /* "template", "vzdump", "create" or NULL (default) */
	char *backend;         /* "pve" / "lxc" with output create, else NULL */
	char *name;            /* LXC container name (create with lxc), else NULL */
	char *template_path;   /* the template this run may publish, when it did
				  not exist before (ours to remove when half-done) */
	long pid;              /* the conversion process while started; else 0 */
	int64_t time;          /* when the status was last set (epoch seconds) */
	char *reason;          /* failed: why */
	int exit_code;         /* failed/done: the child's exit status; -1 signal */
	unsigned warnings;     /* done/failed: notes in the child's report */
	unsigned unmapped;     /* done/failed: unmapped ve.conf keys in it */
	unsigned attempts;
};

struct batch_state {
	char *path;
	struct batch_entry *e;
	size_t n;
};

const char *batch_status_name(enum batch_status s);

/* Read path into st. A missing file gives an empty state; anything else that
 * is not a state file this version wrote is refused with -EINVAL, logging
 * the file and what is wrong with it. */
int batch_state_load(const char *path, struct batch_state *st);
/* Write the whole state durably (see above). 0 or a negative error (logged). */
int batch_state_save(const struct batch_state *st);

struct batch_entry *batch_state_find(struct batch_state *st, const char *source);
/* A new pending entry (key must be unique); NULL on ENOMEM. */
struct batch_entry *batch_state_add(struct batch_state *st, const char *source, const char *key);
/* Set a string member, replacing the old value; 0 or -ENOMEM. */
int batch_entry_set(char **member, const char *value);

void batch_state_free(struct batch_state *st);

/* Hold an exclusive lock for the batch's state: flock on the state's
 * directory (path.d), created when missing. Another process holding it
 * gives -EBUSY (logged). *fd stays open for as long as the lock is kept. */
int batch_state_lock(const char *state_dir, int *fd);

#endif
