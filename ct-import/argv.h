/* Building the argv of a program we run (pct, qm …) one word at a time,
 * with a single check for allocation failure at the end. */
#ifndef CTI_ARGV_H
#define CTI_ARGV_H

#include <stdbool.h>
#include <stddef.h>

struct argv_builder {
	char **v;     /* NULL-terminated once anything was pushed */
	size_t n;
	bool failed;  /* an allocation failed: argv_finish returns NULL */
};

/* Append one word, formatted. */
void argv_push(struct argv_builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append "--opt" and value, unless value is NULL. */
void argv_push_opt(struct argv_builder *b, const char *opt, const char *value);
/* The argv (free with argv_free), or NULL if any push failed. */
char **argv_finish(struct argv_builder *b);
void argv_free(char **argv);

#endif
