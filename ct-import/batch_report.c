/* Reports of ct-import batch (batch_report.h). The per-container reports
 * are convert-openvz's own, kept as <state>.d/reports/KEY.json; the summary
 * says for every manifest line what became of it. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "batch_report.h"
#include "log.h"
#include "util.h"

int child_report_read(const char *path, struct child_report *r)
{
	*r = (struct child_report){ 0 };
	json_error_t err;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	if (!root)
		return -ENOENT;
	json_t *v = json_object_get(root, "result");
	int rc = 0;
	if (!json_is_object(root) || !json_is_string(v)) {
		rc = -EINVAL;
	} else {
		r->result = strdup(json_string_value(v));
		v = json_object_get(root, "error");
		if (json_is_string(v))
			r->error = strdup(json_string_value(v));
		r->notes = (unsigned)json_array_size(json_object_get(root, "notes"));
		r->unmapped = (unsigned)json_array_size(json_object_get(root, "unmapped"));
		if (!r->result)
			rc = -ENOMEM;
	}
	json_decref(root);
	return rc;
}

void child_report_free(struct child_report *r)
{
	free(r->result);
	free(r->error);
	*r = (struct child_report){ 0 };
}

/* What the summary calls a status: a container done in an earlier run is
 * converted all the same. */
static const char *summary_status(const struct batch_entry *e)
{
	return !e ? "pending" : e->status == BATCH_DONE ? "converted" :
	       e->status == BATCH_FAILED ? "failed" : "pending";
}

static char *join(const char *dir, const char *key, const char *ext)
{
	char *p;
	return asprintf(&p, "%s/%s%s", dir, key, ext) < 0 ? NULL : p;
}

int batch_summary_write(const struct batch_summary_ctx *c, const char *path)
{
	json_t *arr = json_array();
	unsigned conv = 0, failed = 0, pending = 0, warnings = 0, unmapped = 0;
	for (size_t i = 0; arr && i < c->m->n; i++) {
		const struct batch_item *it = &c->m->item[i];
		const struct batch_entry *e = batch_state_find(c->st, it->path);
		const char *s = summary_status(e);
		conv += !strcmp(s, "converted");
		failed += !strcmp(s, "failed");
		pending += !strcmp(s, "pending");
		_cleanup_free_ char *rep = e ? join(c->reports_dir, e->key, ".json") : NULL;
		_cleanup_free_ char *log = e ? join(c->logs_dir, e->key, ".log") : NULL;
		json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:s?}", "source", it->source, "line", (json_int_t)it->line,
				      "path", it->path, "status", s, "ctid", it->ctid);
		if (!o)
			break;
		if (it->vmid)
			json_object_set_new(o, "vmid", json_integer(it->vmid));
		if (batch_output_name(it->output))
			json_object_set_new(o, "output", json_string(batch_output_name(it->output)));
		if (e) {
			warnings += e->warnings;
			unmapped += e->unmapped;
			json_object_set_new(o, "reason", e->reason && e->status == BATCH_FAILED ? json_string(e->reason) : json_null());
			json_object_set_new(o, "exit_code", json_integer(e->exit_code));
			json_object_set_new(o, "warnings", json_integer(e->warnings));
			json_object_set_new(o, "unmapped", json_integer(e->unmapped));
			json_object_set_new(o, "attempts", json_integer(e->attempts));
			if (rep && access(rep, F_OK) == 0)
				json_object_set_new(o, "report", json_string(rep));
			if (log && access(log, F_OK) == 0)
				json_object_set_new(o, "log", json_string(log));
		}
		json_array_append_new(arr, o);
	}
	json_t *root = json_pack("{s:i, s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:o}", "version", 1,
				 "manifest", c->manifest, "state", c->state, "total", (json_int_t)c->m->n,
				 "converted", (json_int_t)conv, "failed", (json_int_t)failed,
				 "pending", (json_int_t)pending, "warnings", (json_int_t)warnings,
				 "unmapped", (json_int_t)unmapped, "containers", arr);
	char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(root);
	if (!text)
		return -ENOMEM;
	struct atomic_file af;
	int rc = atomic_file_open_path(&af, path, true);
	if (rc == 0) {
		rc = write_full(af.fd, text, strlen(text));
		if (rc == 0)
			rc = write_full(af.fd, "\n", 1);
		if (rc < 0)
			log_error("writing %s: %s", path, strerror(-rc));
		else
			rc = atomic_file_commit(&af, true);
		atomic_file_discard(&af);
	}
	free(text);
	return rc;
}

void batch_summary_print(const struct batch_summary_ctx *c, FILE *f)
{
	unsigned conv = 0, failed = 0, pending = 0, warnings = 0;
	fprintf(f, "\n%-10s %-10s %-9s %s\n", "CONTAINER", "STATUS", "WARNINGS", "SOURCE / REASON");
	for (size_t i = 0; i < c->m->n; i++) {
		const struct batch_item *it = &c->m->item[i];
		const struct batch_entry *e = batch_state_find(c->st, it->path);
		const char *s = summary_status(e);
		char id[32];
		if (it->vmid)
			snprintf(id, sizeof(id), "%u", it->vmid);
		else
			snprintf(id, sizeof(id), "%.31s", it->ctid ? it->ctid : "?");
		fprintf(f, "%-10s %-10s %-9u %s\n", id, s, e ? e->warnings : 0, it->source);
		if (e && e->status == BATCH_FAILED)
			fprintf(f, "%-31s %s\n", "", e->reason);
		conv += !strcmp(s, "converted");
		failed += !strcmp(s, "failed");
		pending += !strcmp(s, "pending");
		warnings += e ? e->warnings : 0;
	}
	fprintf(f, "\n%u of %zu converted, %u failed, %u not done; %u warning(s)\n", conv, c->m->n, failed,
		pending, warnings);
}
