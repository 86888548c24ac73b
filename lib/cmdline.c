#include "cmdline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The kernel's isspace() in the C locale's range (its ctype also counts
 * 0xa0, which boot loaders do not produce). */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* One word from *p, as next_arg() cuts it: written into buf (which has room
 * for the whole line), key and value pointing into it. */
static void next_word(const char **p, char *buf, struct cmdline_param *w)
{
	const char *s = *p;
	bool in_quote = false, quoted = false;
	size_t i, equals = 0;
	bool has_equals = false;
	if (*s == '"') {
		s++;
		in_quote = quoted = true;
	}
	for (i = 0; s[i]; i++) {
		if (is_space(s[i]) && !in_quote)
			break;
		/* The kernel takes '=' at offset 0 as "no value": keep that. */
		if (!has_equals && s[i] == '=' && i > 0) {
			equals = i;
			has_equals = true;
		}
		if (s[i] == '"')
			in_quote = !in_quote;
	}
	memcpy(buf, s, i);
	buf[i] = '\0';
	w->key = buf;
	w->value = NULL;
	if (has_equals) {
		buf[equals] = '\0';
		w->value = buf + equals + 1;
		if (*w->value == '"') {
			w->value++;
			if (buf[i - 1] == '"')
				buf[i - 1] = '\0';
		}
	}
	if (quoted && i > 0 && buf[i - 1] == '"')
		buf[i - 1] = '\0';
	s += i;
	if (*s)
		s++;
	while (is_space(*s))
		s++;
	*p = s;
}

int cmdline_split(const char *line, struct cmdline_param **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	size_t len = strlen(line), cap = 0;
	struct cmdline_param *v = NULL;
	const char *p = line;
	while (is_space(*p))
		p++;
	while (*p) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			struct cmdline_param *nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				goto nomem;
			v = nv;
		}
		/* Each word gets its own buffer so it can be freed alone. */
		char *buf = malloc(len + 1);
		if (!buf)
			goto nomem;
		next_word(&p, buf, &v[*n]);
		(*n)++;
	}
	*out = v;
	return 0;
nomem:
	cmdline_params_free(v, *n);
	*n = 0;
	return -ENOMEM;
}

void cmdline_params_free(struct cmdline_param *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i].key);
	free(p);
}

bool cmdline_key_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;
		if (x != y)
			return false;
		if (!x)
			return true;
	}
}

bool cmdline_is_list(const struct opt_def *d)
{
	size_t len = d->cmdline ? strlen(d->cmdline) : 0;
	return len && d->cmdline[len - 1] == ',';
}

const char *cmdline_key(const struct opt_def *d, char *buf, size_t cap)
{
	size_t len = strlen(d->cmdline) - (cmdline_is_list(d) ? 1 : 0);
	snprintf(buf, cap, "%.*s", (int)len, d->cmdline);
	return buf;
}

const struct opt_def *cmdline_find(const struct opt_def *defs, const char *key)
{
	char k[128];
	for (const struct opt_def *d = defs; d->name; d++)
		if (d->cmdline && cmdline_key_eq(cmdline_key(d, k, sizeof(k)), key))
			return d;
	return NULL;
}

int cmdline_flag(const char *value, bool *out)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };
	if (!value) {
		*out = true;
		return 0;
	}
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(value, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcmp(value, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}
