/* Kernel command lines: split into words exactly as the kernel's next_arg()
 * does, and find an option by its kernel key (struct opt_def.cmdline). */
#ifndef CMDLINE_H
#define CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"

/* One word: "key=value" gives key and value, a bare "key" a NULL value. */
struct cmdline_param {
	char *key;
	char *value;
};

/* Split line the kernel's way: words are separated by white space; a double
 * quote toggles "inside quotes" (where white space does not split) wherever
 * it appears, and there are no escapes. Quotes are removed only where the
 * kernel removes them: one right after the first '=' together with one
 * ending the word, and one starting the word together with one ending it.
 * So `k="a b"` and `"k=a b"` give k = "a b", while `k=a"b c"d` keeps its
 * quotes: k = `a"b c"d`. 0 or -ENOMEM; free with cmdline_params_free. */
int cmdline_split(const char *line, struct cmdline_param **out, size_t *n);
void cmdline_params_free(struct cmdline_param *p, size_t n);

/* Key names compare with '-' and '_' equivalent, as kernel parameters do. */
bool cmdline_key_eq(const char *a, const char *b);

/* A def's key without the list marker (see options.h), into buf. */
const char *cmdline_key(const struct opt_def *d, char *buf, size_t cap);
bool cmdline_is_list(const struct opt_def *d);

/* The entry of defs whose kernel key is key, or NULL. */
const struct opt_def *cmdline_find(const struct opt_def *defs, const char *key);

/* A flag key's value: absent (bare key), "1", "yes", "true", "on" are true;
 * "0", "no", "false", "off" false; anything else -EINVAL. */
int cmdline_flag(const char *value, bool *out);

#endif
