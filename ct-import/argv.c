#include "argv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void argv_push(struct argv_builder *b, const char *fmt, ...)
{
	if (b->failed)
		return;
	char **nv = realloc(b->v, (b->n + 2) * sizeof(*nv));
	if (!nv) {
		b->failed = true;
		return;
	}
	b->v = nv;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&b->v[b->n], fmt, ap);
	va_end(ap);
	if (r < 0) {
		b->failed = true;
		b->v[b->n] = NULL;
		return;
	}
	b->v[++b->n] = NULL;
}

void argv_push_opt(struct argv_builder *b, const char *opt, const char *value)
{
	if (!value)
		return;
	argv_push(b, "--%s", opt);
	argv_push(b, "%s", value);
}

char **argv_finish(struct argv_builder *b)
{
	if (b->failed) {
		argv_free(b->v);
		return NULL;
	}
	return b->v;
}

void argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}
