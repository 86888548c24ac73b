/* The batch manifest's parser (batch_manifest.h, doc/batch.md). It collects
 * every problem with its line instead of stopping at the first, so a
 * 50-line manifest is fixed in one round. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "batch_manifest.h"
#include "ovz_source.h"
#include "util.h"

#define MAX_LINE 4096

/* Adds "file:line: message"; past the cap only the count grows (one last
 * entry says so). Returns -ENOMEM or 0. */
__attribute__((format(printf, 3, 4)))
static int add_error(struct batch_manifest *m, unsigned line, const char *fmt, ...)
{
	if (m->n_error > BATCH_MANIFEST_MAX_ERRORS)
		return 0;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	char **v = realloc(m->error, (m->n_error + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	m->error = v;
	unsigned *l = realloc(m->error_line, (m->n_error + 1) * sizeof(*l));
	if (!l)
		return -ENOMEM;
	m->error_line = l;
	l[m->n_error] = m->n_error == BATCH_MANIFEST_MAX_ERRORS ? UINT32_MAX : line;
	int r = m->n_error == BATCH_MANIFEST_MAX_ERRORS
		? asprintf(&v[m->n_error], "%s: too many errors; stopping here", m->file)
		: line ? asprintf(&v[m->n_error], "%s:%u: %s", m->file, line, msg)
		       : asprintf(&v[m->n_error], "%s: %s", m->file, msg);
	if (r < 0)
		return -ENOMEM;
	m->n_error++;
	return 0;
}

const char *batch_output_name(enum batch_output o)
{
	switch (o) {
	case BATCH_OUT_TEMPLATE: return "template";
	case BATCH_OUT_VZDUMP: return "vzdump";
	case BATCH_OUT_CREATE: return "create";
	default: return NULL;
	}
}

const char *batch_backend_name(enum batch_backend b)
{
	return b == BATCH_BACKEND_PVE ? "pve" : b == BATCH_BACKEND_LXC ? "lxc" : NULL;
}

static bool word_chars(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(extra, *p)))
			return false;
	return true;
}

/* Proxmox storage IDs: a letter, then letters, digits, - _ . */
static bool valid_storage(const char *s)
{
	return ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')) &&
	       word_chars(s, 64, "-_.");
}

/* Interface names: at most 15 bytes (IFNAMSIZ - 1). */
static bool valid_bridge(const char *s)
{
	return word_chars(s, 15, "-_.") && s[0] != '-' && s[0] != '.';
}

static bool valid_ip(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* The settings a '*' line gives the lines below it. */
struct defaults {
	char *storage, *bridge, *gw;
	enum batch_output output;
	enum batch_backend backend;
	bool start, start_set;
};

/* One key=value word onto item (or the defaults when item is NULL). Which
 * keys this line gave is tracked in *seen (a bit per key) to refuse repeats. */
static int apply_word(struct batch_manifest *m, unsigned line, char *word,
		      struct batch_item *it, struct defaults *d, unsigned *seen)
{
	static const char *const keys[] = { "vmid", "storage", "bridge", "gw", "output", "backend", "start" };
	char *eq = strchr(word, '=');
	if (!eq)
		return add_error(m, line, "'%s' is not key=value (a source path cannot contain spaces)", word);
	*eq = '\0';
	const char *key = word, *val = eq + 1;
	size_t k = 0;
	while (k < ARRAY_SIZE(keys) && strcmp(keys[k], key))
		k++;
	if (k == ARRAY_SIZE(keys))
		return add_error(m, line, "unknown key '%s' (known: vmid storage bridge gw output backend start)", key);
	if (*seen & (1u << k))
		return add_error(m, line, "%s= given twice", key);
	*seen |= 1u << k;
	if (!*val)
		return add_error(m, line, "%s= has no value", key);
	char **strp = NULL;
	switch (k) {
	case 0: {
		uint64_t v;
		if (!it)
			return add_error(m, line, "vmid= cannot be a default: each container needs its own");
		if (parse_u64(val, BATCH_VMID_MIN, BATCH_VMID_MAX, &v) < 0)
			return add_error(m, line, "vmid '%s' is not a number from %u to %u", val,
					 BATCH_VMID_MIN, BATCH_VMID_MAX);
		it->vmid = (unsigned)v;
		return 0;
	}
	case 1:
		if (!valid_storage(val))
			return add_error(m, line, "storage '%s' is not a storage ID (a letter, then letters, digits, - _ .)", val);
		strp = it ? &it->storage : &d->storage;
		break;
	case 2:
		if (!valid_bridge(val))
			return add_error(m, line, "bridge '%s' is not an interface name (at most 15 of letters, digits, - _ .)", val);
		strp = it ? &it->bridge : &d->bridge;
		break;
	case 3:
		if (!valid_ip(val))
			return add_error(m, line, "gw '%s' is not an IPv4 or IPv6 address", val);
		strp = it ? &it->gw : &d->gw;
		break;
	case 4: {
		enum batch_output o = !strcmp(val, "template") ? BATCH_OUT_TEMPLATE :
				      !strcmp(val, "vzdump") ? BATCH_OUT_VZDUMP :
				      !strcmp(val, "create") ? BATCH_OUT_CREATE : BATCH_OUT_UNSET;
		if (o == BATCH_OUT_UNSET)
			return add_error(m, line, "output '%s' is not template, vzdump or create", val);
		*(it ? &it->output : &d->output) = o;
		return 0;
	}
	case 5: {
		enum batch_backend b = !strcmp(val, "pve") ? BATCH_BACKEND_PVE :
				       !strcmp(val, "lxc") ? BATCH_BACKEND_LXC : BATCH_BACKEND_UNSET;
		if (b == BATCH_BACKEND_UNSET)
			return add_error(m, line, "backend '%s' is not pve or lxc", val);
		*(it ? &it->backend : &d->backend) = b;
		return 0;
	}
	case 6: {
		bool yes = !strcmp(val, "yes") || !strcmp(val, "1") || !strcmp(val, "true");
		bool no = !strcmp(val, "no") || !strcmp(val, "0") || !strcmp(val, "false");
		if (!yes && !no)
			return add_error(m, line, "start '%s' is not yes or no", val);
		if (it)
			it->start = yes;
		else
			d->start = yes, d->start_set = true;
		return 0;
	}
	}
	free(*strp);
	*strp = strdup(val);
	return *strp ? 0 : -ENOMEM;
}

static int dup_or_null(char **dst, const char *src)
{
	if (*dst || !src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

/* Keys missing on the line come from the defaults; backend and start only
 * matter (and are only allowed on the line itself) with output=create. */
static int finish_item(struct batch_manifest *m, struct batch_item *it, unsigned seen,
		       const struct defaults *d)
{
	if (!(seen & (1u << 4)))
		it->output = d->output;
	if (it->output != BATCH_OUT_CREATE) {
		if (seen & (1u << 5))
			return add_error(m, it->line, "backend= only applies to output=create");
		if (seen & (1u << 6))
			return add_error(m, it->line, "start= only applies to output=create");
	} else {
		if (!(seen & (1u << 5)))
			it->backend = d->backend;
		if (!(seen & (1u << 6)))
			it->start = d->start_set && d->start;
	}
	if (dup_or_null(&it->storage, d->storage) < 0 || dup_or_null(&it->bridge, d->bridge) < 0 ||
	    dup_or_null(&it->gw, d->gw) < 0)
		return -ENOMEM;
	for (size_t i = 0; i + 1 < m->n; i++) {
		const struct batch_item *o = &m->item[i];
		if (!strcmp(o->source, it->source))
			return add_error(m, it->line, "%s is already listed on line %u", it->source, o->line);
		if (it->vmid && o->vmid == it->vmid)
			return add_error(m, it->line, "vmid %u is already used on line %u", it->vmid, o->line);
	}
	return 0;
}

static void item_free(struct batch_item *it)
{
	free(it->source);
	free(it->storage);
	free(it->bridge);
	free(it->gw);
	free(it->path);
	free(it->ctid);
}

static int parse_line(struct batch_manifest *m, unsigned line, char *s, struct defaults *d)
{
	char *save = NULL, *word = strtok_r(s, " \t", &save);
	if (!word || word[0] == '#')
		return 0;
	struct batch_item *it = NULL;
	if (strcmp(word, "*")) {
		if (word[0] == '-')
			return add_error(m, line, "source '%s' starts with '-' (write ./%s)", word, word);
		if (m->n >= BATCH_MANIFEST_MAX_ITEMS)
			return add_error(m, line, "more than %u containers", BATCH_MANIFEST_MAX_ITEMS);
		struct batch_item *v = realloc(m->item, (m->n + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		m->item = v;
		it = &v[m->n++];
		*it = (struct batch_item){ .line = line, .source = strdup(word) };
		if (!it->source)
			return -ENOMEM;
	}
	/* A '*' line starts afresh: defaults are not inherited between them. */
	struct defaults nd = { 0 };
	unsigned seen = 0;
	int errors = (int)m->n_error, rc;
	while ((word = strtok_r(NULL, " \t", &save)) && word[0] != '#')
		if ((rc = apply_word(m, line, word, it, &nd, &seen)) < 0)
			return rc;
	if (!it) {
		free(d->storage), free(d->bridge), free(d->gw);
		*d = nd;
		return 0;
	}
	if ((int)m->n_error != errors)
		return 0;
	return finish_item(m, it, seen, d);
}

int batch_manifest_parse(const char *file, const char *text, size_t len, struct batch_manifest *m)
{
	*m = (struct batch_manifest){ .file = file };
	struct defaults d = { 0 };
	char buf[MAX_LINE + 1];
	unsigned line = 0;
	int rc = 0;
	size_t pos = 0;
	while (rc == 0 && pos < len) {
		line++;
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = (nl ? (size_t)(nl - text) : len) - pos;
		const char *start = text + pos;
		pos += n + (nl ? 1 : 0);
		if (n > 0 && start[n - 1] == '\r')
			n--;
		if (memchr(start, '\0', n)) {
			rc = add_error(m, line, "contains a NUL byte");
			continue;
		}
		if (n > MAX_LINE) {
			rc = add_error(m, line, "line longer than %u bytes", MAX_LINE);
			continue;
		}
		memcpy(buf, start, n);
		buf[n] = '\0';
		rc = parse_line(m, line, buf, &d);
	}
	free(d.storage), free(d.bridge), free(d.gw);
	if (rc == 0 && m->n == 0 && m->n_error == 0)
		rc = add_error(m, 0, "lists no containers");
	if (rc < 0) {
		batch_manifest_free(m);
		return rc;
	}
	return m->n_error ? -EINVAL : 0;
}

/* Line order, whichever pass found them (insertion sort: stable, and
 * there are at most a hundred). */
static void sort_errors(struct batch_manifest *m)
{
	for (size_t i = 1; i < m->n_error; i++) {
		char *e = m->error[i];
		unsigned l = m->error_line[i];
		size_t j = i;
		for (; j > 0 && m->error_line[j - 1] > l; j--) {
			m->error[j] = m->error[j - 1];
			m->error_line[j] = m->error_line[j - 1];
		}
		m->error[j] = e;
		m->error_line[j] = l;
	}
}

/* The template a conversion writes into the cache: openvz-CTID.tar.zst for
 * template and create outputs (convert_openvz.h); vzdump archives carry the
 * VMID and a time stamp instead. */
static bool writes_template(const struct batch_item *it)
{
	return it->output != BATCH_OUT_VZDUMP;
}

int batch_manifest_resolve(struct batch_manifest *m, const char *base_dir)
{
	for (size_t i = 0; i < m->n; i++) {
		struct batch_item *it = &m->item[i];
		_cleanup_free_ char *joined = NULL;
		if (it->source[0] != '/' && asprintf(&joined, "%s/%s", base_dir, it->source) < 0)
			return -ENOMEM;
		const char *p = joined ? joined : it->source;
		struct stat st;
		it->path = realpath(p, NULL);
		if (!it->path || stat(it->path, &st) < 0) {
			int rc = add_error(m, it->line, "%s: %s", it->source, strerror(errno));
			if (rc < 0)
				return rc;
			continue;
		}
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
			int rc = add_error(m, it->line, "%s is neither an archive nor a private area directory", it->source);
			if (rc < 0)
				return rc;
			continue;
		}
		it->is_dir = S_ISDIR(st.st_mode);
		/* The name as written decides the CTID, as for convert-openvz. */
		it->ctid = batch_source_ctid(it->source, it->is_dir);
		if (!it->ctid)
			return -ENOMEM;
		if (!it->ctid[0]) {
			int rc = add_error(m, it->line, "%s: its name gives no usable CTID", it->source);
			if (rc < 0)
				return rc;
			continue;
		}
		if (!it->vmid && (it->output == BATCH_OUT_CREATE || it->output == BATCH_OUT_VZDUMP)) {
			uint64_t v;
			if (parse_u64(it->ctid, BATCH_VMID_MIN, BATCH_VMID_MAX, &v) == 0) {
				it->vmid = (unsigned)v;
				it->vmid_from_ctid = true;
			} else {
				int rc = add_error(m, it->line, "output=%s needs vmid= (the CTID '%s' is not a VMID)",
						   batch_output_name(it->output), it->ctid);
				if (rc < 0)
					return rc;
				continue;
			}
		}
		for (size_t j = 0; j < i; j++) {
			const struct batch_item *o = &m->item[j];
			int rc = 0;
			if (!o->path || !o->ctid)
				continue;
			/* Equal names and given VMIDs were refused by the parser. */
			if (!strcmp(o->source, it->source) ||
			    (it->vmid == o->vmid && !it->vmid_from_ctid && !o->vmid_from_ctid))
				continue;
			if (!strcmp(o->path, it->path))
				rc = add_error(m, it->line, "%s is the same as line %u's %s", it->source, o->line, o->source);
			else if (it->vmid && o->vmid == it->vmid)
				rc = add_error(m, it->line, "VMID %u is already used on line %u",
					       it->vmid, o->line);
			else if (writes_template(it) && writes_template(o) && !strcmp(o->ctid, it->ctid))
				rc = add_error(m, it->line, "CTID %s is also line %u's: both would write openvz-%s.tar.zst",
					       it->ctid, o->line, it->ctid);
			if (rc < 0)
				return rc;
		}
	}
	sort_errors(m);
	return m->n_error ? -EINVAL : 0;
}

char *batch_source_ctid(const char *source, bool is_dir)
{
	/* convert-openvz's own rule, so the batch predicts its file names. */
	char *id = ovz_ctid_from_source(source, is_dir);
	return id ? id : strdup("");
}

void batch_manifest_free(struct batch_manifest *m)
{
	for (size_t i = 0; i < m->n; i++)
		item_free(&m->item[i]);
	free(m->item);
	for (size_t i = 0; i < m->n_error; i++)
		free(m->error[i]);
	free(m->error);
	free(m->error_line);
	m->item = NULL;
	m->error = NULL;
	m->error_line = NULL;
	m->n = m->n_error = 0;
}
