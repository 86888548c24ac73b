/* The manifest of `ct-import batch`: one OpenVZ source per line with its
 * target, `SOURCE key=value ...`, '#' comments, and `* key=value ...` lines
 * that set defaults for the lines below them (doc/batch.md). Strict: every
 * problem is reported as "file:line: what", all of them before anything runs. */
#ifndef CTI_BATCH_MANIFEST_H
#define CTI_BATCH_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#define BATCH_MANIFEST_MAX_SIZE (4u << 20)
#define BATCH_MANIFEST_MAX_ITEMS 10000
#define BATCH_MANIFEST_MAX_ERRORS 100
#define BATCH_VMID_MIN 100u
#define BATCH_VMID_MAX 999999999u

enum batch_output { BATCH_OUT_UNSET, BATCH_OUT_TEMPLATE, BATCH_OUT_VZDUMP, BATCH_OUT_CREATE };
enum batch_backend { BATCH_BACKEND_UNSET, BATCH_BACKEND_PVE, BATCH_BACKEND_LXC };

struct batch_item {
	char *source;              /* as written */
	unsigned line;
	unsigned vmid;             /* 0: not given */
	char *storage, *bridge, *gw;
	enum batch_output output;  /* UNSET: convert-openvz's default (template) */
	enum batch_backend backend;
	bool start;
	/* Filled in by batch_manifest_resolve: */
	char *path;                /* absolute source path */
	bool is_dir;               /* an OpenVZ private area, not an archive */
	bool vmid_from_ctid;       /* vmid was not given but taken from the CTID */
	char *ctid;                /* as convert-openvz derives it */
};

struct batch_manifest {
	const char *file;          /* for messages; not owned */
	struct batch_item *item;
	size_t n;
	char **error;              /* "file:line: message", in line order */
	unsigned *error_line;      /* each one's line (0: the whole file) */
	size_t n_error;
};

/* Parse the manifest text (it need not be NUL-terminated). 0, -EINVAL when
 * m->error lists at least one problem, or -ENOMEM. */
int batch_manifest_parse(const char *file, const char *text, size_t len, struct batch_manifest *m);

/* Check what the text alone cannot tell: each source exists (relative paths
 * are relative to base_dir), no two sources are the same file, no two
 * conversions would write the same template, and every container to create
 * has a VMID (the vmid= given, else a numeric CTID from 100 up, which is
 * then filled in). Appends to m->error; 0, -EINVAL or -ENOMEM. */
int batch_manifest_resolve(struct batch_manifest *m, const char *base_dir);

/* The CTID convert-openvz takes from a source's name: N of
 * vzdump-openvz-N-…, else a private area's directory name, else the archive's
 * base name up to its first ".t". malloc'd ("" when that is not a safe
 * name), NULL on ENOMEM. */
char *batch_source_ctid(const char *source, bool is_dir);

const char *batch_output_name(enum batch_output o);
const char *batch_backend_name(enum batch_backend b);

void batch_manifest_free(struct batch_manifest *m);

#endif
