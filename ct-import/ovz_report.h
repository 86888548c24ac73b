/* The state of one convert-openvz run and its JSON report (the format is
 * in convert_openvz.h). */
#ifndef CTI_OVZ_REPORT_H
#define CTI_OVZ_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "ct_spec.h"
#include "ovz_fixups.h"
#include "veconf_map.h"

struct ovz_output_rec {
	const char *kind;   /* "template", "vzdump", "container" */
	char *path;         /* files */
	unsigned vmid;      /* containers (pve) */
	char *name;         /* containers (lxc) */
};

struct ovz_run {
	const char *source;
	bool is_dir;
	char *config;       /* the ve.conf as named in the report */
	char *ctid;
	unsigned vmid;      /* 0: none */
	const char *name;
	const char *output;
	const char *backend; /* NULL unless --output create */
	bool dry_run;
	const struct veconf_map *map; /* NULL until mapped */
	const struct ct_spec *spec;   /* NULL until decided */
	struct ovz_fixlog fixups;
	char **notes;
	size_t n_notes;
	struct ovz_output_rec outputs[4];
	size_t n_outputs;
	int exit_code;
	char *error;        /* the first error logged */
};

/* Add a note (a warning for the report). 0 or -ENOMEM. */
int ovz_run_note(struct ovz_run *r, const char *text);
void ovz_run_free(struct ovz_run *r);

/* The report as JSON text (malloc'd), and written atomically to path. */
char *ovz_report_json(const struct ovz_run *r);
int ovz_report_write(const char *path, const struct ovz_run *r);

#endif
