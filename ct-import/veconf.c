/* ve.conf: strict line parser and vzctl's number syntax (see veconf.h). */
#include "veconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

static bool is_key_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

__attribute__((format(printf, 3, 4)))
static int fail(struct veconf *c, unsigned line, const char *fmt, ...)
{
	char why[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(c->error, sizeof(c->error), "%s:%u: %s", c->file, line, why);
	log_error("%s", c->error);
	return -EINVAL;
}

const struct veconf_entry *veconf_find(const struct veconf *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->entry[i].key, key) == 0)
			return &c->entry[i];
	return NULL;
}

/* Takes key and value. */
static int set(struct veconf *c, char *key, char *value, unsigned line)
{
	struct veconf_entry *e = (struct veconf_entry *)veconf_find(c, key);
	if (e) {
		free(key);
		free(e->value);
		e->value = value;
		e->line = line;
		e->replaced++;
		return 0;
	}
	struct veconf_entry *grown = realloc(c->entry, (c->n + 1) * sizeof(*grown));
	if (!grown) {
		free(key);
		free(value);
		return -ENOMEM;
	}
	c->entry = grown;
	c->entry[c->n++] = (struct veconf_entry){
		.key = key, .value = value, .line = line, .first_line = line,
	};
	return 0;
}

/* Parse the value starting at p (just after '=', end at e) into out, which
 * has room for e - p + 1 bytes. Returns NULL or the reason it is malformed. */
static const char *parse_value(const char *p, const char *e, char *out)
{
	if (p < e && *p == '\'')
		return "single-quoted value: vzctl keeps single quotes, write KEY=\"value\"";
	bool quoted = p < e && *p == '"';
	if (quoted)
		p++;
	while (p < e) {
		char ch = *p;
		if (quoted && ch == '"')
			break;
		if (!quoted && (is_blank(ch) || ch == '"' || ch == '\''))
			return "unquoted value with blanks or quotes: write KEY=\"value\"";
		if (ch == '\\') {
			if (++p == e)
				return "backslash at the end of the line";
			ch = *p;
		}
		*out++ = ch;
		p++;
	}
	*out = '\0';
	if (!quoted)
		return NULL;
	if (p == e)
		return "missing closing quote";
	if (++p < e && !is_blank(*p))
		return "text after the closing quote";
	while (p < e && is_blank(*p))
		p++;
	if (p < e && *p != '#')
		return "text after the closing quote";
	return NULL;
}

static int parse_line(struct veconf *c, const char *p, const char *e, unsigned line)
{
	while (p < e && is_blank(*p))
		p++;
	while (e > p && is_blank(e[-1]))
		e--;
	if (p == e || *p == '#')
		return 0;
	if (memchr(p, '\0', (size_t)(e - p)))
		return fail(c, line, "NUL byte in the line");
	const char *k = p;
	while (p < e && is_key_char(*p))
		p++;
	if (p == k || p == e || *p != '=')
		return fail(c, line, "expected KEY=\"value\"");
	char *key = strndup(k, (size_t)(p - k));
	char *value = malloc((size_t)(e - p) + 1);
	if (!key || !value) {
		free(key);
		free(value);
		return -ENOMEM;
	}
	const char *why = parse_value(p + 1, e, value);
	if (why) {
		free(key);
		free(value);
		return fail(c, line, "%s", why);
	}
	return set(c, key, value, line);
}

int veconf_parse(const char *name, const char *text, size_t len, struct veconf *c)
{
	*c = (struct veconf){ .file = strdup(name) };
	if (!c->file)
		return -ENOMEM;
	const char *p = text, *end = text + len;
	unsigned line = 0;
	int r = 0;
	while (p < end && r == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		r = parse_line(c, p, e, ++line);
		p = nl ? nl + 1 : end;
	}
	if (r < 0) {
		char error[sizeof(c->error)];
		memcpy(error, c->error, sizeof(error));
		veconf_free(c);
		memcpy(c->error, error, sizeof(error));
	}
	return r;
}

int veconf_load(const char *path, struct veconf *c)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	*c = (struct veconf){ 0 };
	int r = read_file(path, VECONF_MAX_SIZE + 1, &text, &len);
	if (r < 0) {
		snprintf(c->error, sizeof(c->error), "%s: %s", path, strerror(-r));
		log_error("%s", c->error);
		return r;
	}
	if (len > VECONF_MAX_SIZE) {
		snprintf(c->error, sizeof(c->error), "%s: larger than %u bytes, not a ve.conf",
			 path, VECONF_MAX_SIZE);
		log_error("%s", c->error);
		return -EFBIG;
	}
	return veconf_parse(path, text, len, c);
}

void veconf_free(struct veconf *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->entry[i].key);
		free(c->entry[i].value);
	}
	free(c->entry);
	free(c->file);
	*c = (struct veconf){ 0 };
}

static uint64_t suffix_bytes(char ch)
{
	switch (ch) {
	case 'T': case 't': return UINT64_C(1) << 40;
	case 'G': case 'g': return UINT64_C(1) << 30;
	case 'M': case 'm': return UINT64_C(1) << 20;
	case 'K': case 'k': return UINT64_C(1) << 10;
	case 'P': case 'p': return 4096;
	case 'B': case 'b': return 1;
	}
	return 0;
}

/* Parse one number from *sp up to ':' or the end; advances *sp. */
static int parse_one(const char **sp, enum veconf_unit unit, uint64_t *out)
{
	const char *s = *sp;
	if (strncmp(s, "unlimited", 9) == 0) {
		*out = VECONF_UNLIMITED;
		*sp = s + 9;
		return 0;
	}
	/* value = (whole * 10^digits + frac) / 10^digits, kept exact in 128
	 * bits; anything at or above LONG_MAX is unlimited, as in vzctl. */
	unsigned __int128 num = 0, den = 1;
	const unsigned __int128 cap = (unsigned __int128)1 << 80;
	bool digits = false, point = false;
	for (; (*s >= '0' && *s <= '9') || (*s == '.' && !point); s++) {
		if (*s == '.') {
			point = true;
			continue;
		}
		digits = true;
		if (num >= cap || den >= cap) { /* far beyond LONG_MAX already */
			if (!point)
				num = cap;
			continue;
		}
		num = num * 10 + (unsigned)(*s - '0');
		if (point)
			den *= 10;
	}
	if (!digits)
		return -EINVAL;
	if (*s && *s != ':') {
		uint64_t mul = suffix_bytes(*s);
		if (!mul || unit == VECONF_ITEMS)
			return -EINVAL;
		num *= mul; /* num < 2^84, mul <= 2^40: fits in 128 bits */
		den *= (unsigned)unit;
		s++;
	}
	unsigned __int128 v = num / den;
	*out = v >= VECONF_UNLIMITED ? VECONF_UNLIMITED : (uint64_t)v;
	*sp = s;
	return 0;
}

int veconf_parse_number(const char *s, enum veconf_unit unit, uint64_t *out)
{
	uint64_t v;
	if (parse_one(&s, unit, &v) < 0 || *s)
		return -EINVAL;
	*out = v;
	return 0;
}

int veconf_parse_pair(const char *s, enum veconf_unit unit, struct veconf_pair *out)
{
	struct veconf_pair v;
	if (parse_one(&s, unit, &v.barrier) < 0)
		return -EINVAL;
	v.limit = v.barrier;
	if (*s == ':' && (s++, parse_one(&s, unit, &v.limit) < 0))
		return -EINVAL;
	if (*s)
		return -EINVAL;
	*out = v;
	return 0;
}
