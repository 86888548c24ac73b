/* Command-line options defined once, as a table: the parser, --help and the
 * man page's option list are all generated from it, so they cannot drift. */
#ifndef OPTIONS_H
#define OPTIONS_H

#include <stdio.h>

/* Tables list entries positionally and most leave the trailing cmdline
 * field out (zero); -Wextra would reject every such line. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

struct opt_def {
	const char *name;   /* long name without "--" */
	int key;            /* what the handler receives: a short letter or >= 256 */
	const char *arg;    /* argument name shown in help; NULL for a flag */
	const char *help;   /* one sentence */
	/* Kernel command line key that `p2v run` maps to this option
	 * ("p2v.name"), or NULL. A trailing ',' marks a list: "p2v.disks,"
	 * takes A,B,C and gives the option once per item. */
	const char *cmdline;
};

/* The handler returns 0, or a negative error to stop parsing. */
typedef int (*opt_handler_fn)(void *ctx, int key, const char *arg);

/* Parse argv[1..] (argv[0] is the command name) against defs, which ends with
 * a zeroed entry. Returns the index of the first operand, or -EINVAL after
 * logging what was wrong. Options may follow operands. */
int opt_parse(const struct opt_def *defs, int argc, char **argv, opt_handler_fn fn, void *ctx);

/* The long name of the option with this key, or NULL. */
const char *opt_name(const struct opt_def *defs, int key);

/* "Usage: …" then one line per option, for --help. */
void opt_print_help(FILE *f, const char *usage, const char *summary, const struct opt_def *defs);
/* The option list as man(7) .TP paragraphs, for doc/man. */
void opt_print_man(FILE *f, const struct opt_def *defs);

#endif
