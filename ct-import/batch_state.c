/* The batch state file (batch_state.h): one JSON object,
 *   { "version": 1, "containers": [ { "source", "key", "status", ... } ] }
 * rewritten whole on every change through lib/atomic_file. A file that does
 * not parse, or says something impossible, is refused rather than guessed
 * at: a wrong guess could create a VMID twice or destroy a stranger's. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "batch_manifest.h"
#include "batch_state.h"
#include "log.h"
#include "util.h"

static const char *const status_names[] = { "pending", "started", "done", "failed" };

const char *batch_status_name(enum batch_status s)
{
	return (unsigned)s < ARRAY_SIZE(status_names) ? status_names[s] : "?";
}

int batch_entry_set(char **member, const char *value)
{
	char *v = NULL;
	if (value && !(v = strdup(value)))
		return -ENOMEM;
	free(*member);
	*member = v;
	return 0;
}

static void entry_free(struct batch_entry *e)
{
	free(e->source);
	free(e->key);
	free(e->output);
	free(e->backend);
	free(e->name);
	free(e->template_path);
	free(e->reason);
}

void batch_state_free(struct batch_state *st)
{
	for (size_t i = 0; i < st->n; i++)
		entry_free(&st->e[i]);
	free(st->e);
	free(st->path);
	*st = (struct batch_state){ 0 };
}

struct batch_entry *batch_state_find(struct batch_state *st, const char *source)
{
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->e[i].source, source))
			return &st->e[i];
	return NULL;
}

struct batch_entry *batch_state_add(struct batch_state *st, const char *source, const char *key)
{
	struct batch_entry *v = realloc(st->e, (st->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	st->e = v;
	struct batch_entry *e = &v[st->n];
	*e = (struct batch_entry){ .status = BATCH_PENDING, .time = (int64_t)time(NULL) };
	e->source = strdup(source);
	e->key = strdup(key);
	if (!e->source || !e->key) {
		entry_free(e);
		return NULL;
	}
	st->n++;
	return e;
}

/* --- loading --- */

struct loader {
	const char *path;
	size_t index;
};

__attribute__((format(printf, 2, 3)))
static int bad(const struct loader *l, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("state file %s, container %zu: %s; it is not a state file ct-import batch "
		  "wrote (move it away to start afresh, which forgets what was started)", l->path, l->index + 1, msg);
	return -EINVAL;
}

static int get_str(const struct loader *l, json_t *o, const char *k, bool required, char **out)
{
	json_t *v = json_object_get(o, k);
	if (!v || json_is_null(v)) {
		if (required)
			return bad(l, "\"%s\" is missing", k);
		return 0;
	}
	if (!json_is_string(v) || !json_string_length(v) || strlen(json_string_value(v)) != json_string_length(v))
		return bad(l, "\"%s\" is not a non-empty string", k);
	*out = strdup(json_string_value(v));
	return *out ? 0 : -ENOMEM;
}

static int get_int(const struct loader *l, json_t *o, const char *k, json_int_t min, json_int_t max, json_int_t *out)
{
	json_t *v = json_object_get(o, k);
	if (!v) {
		*out = 0;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return bad(l, "\"%s\" is not an integer from %lld to %lld", k, (long long)min, (long long)max);
	*out = json_integer_value(v);
	return 0;
}

static int load_entry(const struct loader *l, json_t *o, struct batch_entry *e)
{
	static const char *const known[] = { "source", "key", "status", "vmid", "output", "backend", "name",
					     "template", "pid", "time", "reason", "exit_code", "warnings",
					     "unmapped", "attempts" };
	if (!json_is_object(o))
		return bad(l, "not an object");
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		size_t i = 0;
		while (i < ARRAY_SIZE(known) && strcmp(known[i], k))
			i++;
		if (i == ARRAY_SIZE(known))
			return bad(l, "unknown member \"%s\"", k);
	}
	_cleanup_free_ char *status = NULL;
	int rc;
	if ((rc = get_str(l, o, "source", true, &e->source)) < 0 ||
	    (rc = get_str(l, o, "key", true, &e->key)) < 0 ||
	    (rc = get_str(l, o, "status", true, &status)) < 0 ||
	    (rc = get_str(l, o, "output", false, &e->output)) < 0 ||
	    (rc = get_str(l, o, "backend", false, &e->backend)) < 0 ||
	    (rc = get_str(l, o, "name", false, &e->name)) < 0 ||
	    (rc = get_str(l, o, "template", false, &e->template_path)) < 0 ||
	    (rc = get_str(l, o, "reason", false, &e->reason)) < 0)
		return rc;
	size_t s = 0;
	while (s < ARRAY_SIZE(status_names) && strcmp(status_names[s], status))
		s++;
	if (s == ARRAY_SIZE(status_names))
		return bad(l, "unknown status \"%s\"", status);
	e->status = (enum batch_status)s;
	if (e->source[0] != '/')
		return bad(l, "source \"%s\" is not an absolute path", e->source);
	if (!name_is_safe(e->key))
		return bad(l, "key \"%s\" is not a safe file name", e->key);
	if (e->name && !name_is_safe(e->name))
		return bad(l, "container name \"%s\" is not a safe name", e->name);
	if (e->template_path && e->template_path[0] != '/')
		return bad(l, "template \"%s\" is not an absolute path", e->template_path);
	if (e->backend && strcmp(e->backend, "pve") && strcmp(e->backend, "lxc"))
		return bad(l, "backend \"%s\" is not pve or lxc", e->backend);
	if (e->output && strcmp(e->output, "template") && strcmp(e->output, "vzdump") && strcmp(e->output, "create"))
		return bad(l, "output \"%s\" is not template, vzdump or create", e->output);
	json_int_t n;
	if ((rc = get_int(l, o, "vmid", 0, BATCH_VMID_MAX, &n)) < 0)
		return rc;
	if (n && n < BATCH_VMID_MIN)
		return bad(l, "vmid %lld is below %u", (long long)n, BATCH_VMID_MIN);
	e->vmid = (unsigned)n;
	if ((rc = get_int(l, o, "pid", 0, 4194304, &n)) < 0)
		return rc;
	e->pid = (long)n;
	if ((rc = get_int(l, o, "time", 0, INT64_MAX, &n)) < 0)
		return rc;
	e->time = n;
	if ((rc = get_int(l, o, "exit_code", -1, 255, &n)) < 0)
		return rc;
	e->exit_code = (int)n;
	if ((rc = get_int(l, o, "warnings", 0, 1000000, &n)) < 0)
		return rc;
	e->warnings = (unsigned)n;
	if ((rc = get_int(l, o, "unmapped", 0, 1000000, &n)) < 0)
		return rc;
	e->unmapped = (unsigned)n;
	if ((rc = get_int(l, o, "attempts", 0, 1000000, &n)) < 0)
		return rc;
	e->attempts = (unsigned)n;
	if (e->status == BATCH_STARTED && e->backend && !e->vmid)
		return bad(l, "a started container without its VMID");
	if (e->status == BATCH_FAILED && !e->reason)
		return bad(l, "failed without a reason");
	return 0;
}

int batch_state_load(const char *path, struct batch_state *st)
{
	*st = (struct batch_state){ .path = strdup(path) };
	if (!st->path)
		return -ENOMEM;
	_cleanup_free_ char *text = NULL;
	size_t len;
	int rc = read_file(path, BATCH_STATE_MAX_SIZE, &text, &len);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		log_error("cannot read the state file %s: %s", path, strerror(-rc));
		return rc;
	}
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		log_error("state file %s is corrupt (line %d: %s); move it away to start afresh, "
			  "which forgets what was started", path, jerr.line, jerr.text);
		return -EINVAL;
	}
	json_t *ver = json_object_get(root, "version"), *arr = json_object_get(root, "containers");
	rc = 0;
	if (!json_is_object(root) || !json_is_integer(ver) || !json_is_array(arr)) {
		log_error("state file %s is not a ct-import batch state file (no version and containers)", path);
		rc = -EINVAL;
	} else if (json_integer_value(ver) != BATCH_STATE_VERSION) {
		log_error("state file %s has version %lld; this ct-import reads version %d", path,
			  (long long)json_integer_value(ver), BATCH_STATE_VERSION);
		rc = -EINVAL;
	}
	size_t n = rc ? 0 : json_array_size(arr);
	if (!rc && n && !(st->e = calloc(n, sizeof(*st->e))))
		rc = -ENOMEM;
	for (size_t i = 0; !rc && i < n; i++) {
		struct loader l = { path, i };
		st->n = i + 1;
		rc = load_entry(&l, json_array_get(arr, i), &st->e[i]);
		for (size_t j = 0; !rc && j < i; j++)
			if (!strcmp(st->e[j].source, st->e[i].source) || !strcmp(st->e[j].key, st->e[i].key))
				rc = bad(&l, "the same source or key as container %zu", j + 1);
	}
	json_decref(root);
	if (rc < 0) {
		char *p = st->path;
		st->path = NULL;
		batch_state_free(st);
		st->path = p;
	}
	return rc;
}

/* --- saving --- */

static int set_str(json_t *o, const char *k, const char *v)
{
	return v ? json_object_set_new(o, k, json_string(v)) : 0;
}

static int set_int(json_t *o, const char *k, json_int_t v)
{
	return v ? json_object_set_new(o, k, json_integer(v)) : 0;
}

static json_t *entry_json(const struct batch_entry *e)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	int rc = set_str(o, "source", e->source) | set_str(o, "key", e->key) |
		 set_str(o, "status", batch_status_name(e->status)) | set_int(o, "vmid", e->vmid) |
		 set_str(o, "output", e->output) | set_str(o, "backend", e->backend) |
		 set_str(o, "name", e->name) | set_str(o, "template", e->template_path) |
		 set_int(o, "pid", e->pid) | set_int(o, "time", e->time) | set_str(o, "reason", e->reason) |
		 set_int(o, "exit_code", e->exit_code) | set_int(o, "warnings", e->warnings) |
		 set_int(o, "unmapped", e->unmapped) | set_int(o, "attempts", e->attempts);
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int batch_state_save(const struct batch_state *st)
{
	json_t *arr = json_array();
	json_t *root = json_pack("{s:i, s:o}", "version", BATCH_STATE_VERSION, "containers", arr);
	if (!root)
		return -ENOMEM;
	for (size_t i = 0; i < st->n; i++)
		if (json_array_append_new(arr, entry_json(&st->e[i])) < 0) {
			json_decref(root);
			return -ENOMEM;
		}
	char *text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!text)
		return -ENOMEM;
	struct atomic_file af;
	int rc = atomic_file_open_path(&af, st->path, true);
	if (rc == 0) {
		rc = write_full(af.fd, text, strlen(text));
		if (rc == 0)
			rc = write_full(af.fd, "\n", 1);
		if (rc < 0)
			log_error("writing the state file %s: %s", st->path, strerror(-rc));
		else
			rc = atomic_file_commit(&af, true);
		atomic_file_discard(&af);
	}
	free(text);
	return rc;
}

int batch_state_lock(const char *state_dir, int *fd)
{
	if (mkdir(state_dir, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		log_error("cannot create %s: %s", state_dir, strerror(e));
		return -e;
	}
	*fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0) {
		int e = errno;
		log_error("cannot open %s: %s", state_dir, strerror(e));
		return -e;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(*fd);
		*fd = -1;
		if (e == EWOULDBLOCK) {
			log_error("another ct-import batch is running on this state (%s is locked); "
				  "two batches on one state file could create a container twice", state_dir);
			return -EBUSY;
		}
		log_error("cannot lock %s: %s", state_dir, strerror(e));
		return -e;
	}
	return 0;
}
