#include "ct_report.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "disk_report.h"  /* utf8_cut, utf8_sanitize */
#include "log.h"
#include "util.h"

void ct_report_log(const struct tarball_stats *st, enum read_error_policy policy)
{
	if (!st->n_bad)
		return;
	char total[32];
	log_warn("%zu unreadable range%s in the source's files, %s (%s):", st->n_bad,
		 st->n_bad == 1 ? "" : "s", format_bytes(st->unreadable_bytes, total, sizeof(total)),
		 policy == READ_ERROR_ZERO ? "zeros in the archive" : "the archive failed");
	for (size_t i = 0; i < st->n_bad; i++)
		log_warn("unreadable file range: %s offset=%llu length=%llu", st->bad[i].file,
			 (unsigned long long)st->bad[i].off, (unsigned long long)st->bad[i].len);
}

/* Names may be any bytes; the report's are UTF-8 (a stray byte is '?'). */
static char *utf8_name(const char *file)
{
	char *s = strdup(file);
	if (s)
		utf8_sanitize(s);
	return s;
}

int ct_report_send(struct stream_writer *w, const struct tarball_stats *st)
{
	uint64_t bytes = 0;
	for (size_t i = 0; i < st->n_bad; i++) {
		const struct tar_bad_range *r = &st->bad[i];
		_cleanup_free_ char *file = utf8_name(r->file);
		if (!file)
			return -ENOMEM;
		size_t olen = utf8_cut(file, STREAM_MAX_OWNER);
		/* The receiver refuses more: the rest stay in this log only. */
		if (i == STREAM_MAX_FILE_RANGES || bytes + olen > STREAM_MAX_FILE_RANGE_BYTES) {
			log_warn("only the first %zu of %zu unreadable ranges are sent to ct-import "
				 "(all are listed above)", i, st->n_bad);
			break;
		}
		bytes += olen;
		int rc = stream_write_unreadable(w, r->off, r->len, file, olen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

char *ct_report_json(const char *name, const char *root, enum read_error_policy policy,
		     const struct tarball_stats *st)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < st->n_bad; i++) {
		const struct tar_bad_range *r = &st->bad[i];
		char *file = utf8_name(r->file);
		json_t *jr = file ? json_pack("{s:s, s:I, s:I, s:s}", "file", file, "offset",
					      (json_int_t)r->off, "length", (json_int_t)r->len,
					      "owner", file) : NULL;
		free(file);
		if (!jr || json_array_append_new(arr, jr) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:o}", "template", name, "source", root,
			      "policy", read_error_policy_name(policy), "unreadable_ranges",
			      (json_int_t)st->n_bad, "unreadable_bytes",
			      (json_int_t)st->unreadable_bytes, "unreadable", arr);
	char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
	json_decref(o);
	return text;
}

int ct_report_store(const char *output, const char *name, const char *root,
		    enum read_error_policy policy, const struct tarball_stats *st)
{
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s.unreadable.json", output) < 0)
		return -ENOMEM;
	if (!st->n_bad) {
		if (unlink(path) == 0)
			log_info("removed %s, left from an earlier archive of that name", path);
		return 0;
	}
	char *text = ct_report_json(name, root, policy, st);
	if (!text)
		return -ENOMEM;
	struct atomic_file f;
	int rc = atomic_file_open_path(&f, path, true);
	if (rc == 0) {
		if ((rc = write_full(f.fd, text, strlen(text))) < 0 ||
		    (rc = write_full(f.fd, "\n", 1)) < 0)
			log_error("writing %s: %s", path, strerror(-rc));
		else
			rc = atomic_file_commit(&f, true);
		atomic_file_discard(&f);
	}
	free(text);
	if (rc == 0)
		log_info("the list of unreadable ranges is in %s", path);
	return rc;
}
