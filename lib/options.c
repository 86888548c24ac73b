#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int opt_parse(const struct opt_def *defs, int argc, char **argv, opt_handler_fn fn, void *ctx)
{
	size_t n = 0;
	while (defs[n].name)
		n++;
	struct option *longopts = calloc(n + 1, sizeof(*longopts));
	/* Leading ':' makes getopt report a missing argument as ':'. */
	char shortopts[2 * 64 + 4] = ":";
	size_t s = 1;
	if (!longopts)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		longopts[i] = (struct option){ defs[i].name, defs[i].arg ? required_argument : no_argument,
					       NULL, defs[i].key };
		if (defs[i].key > 0 && defs[i].key < 128 && s + 3 < sizeof(shortopts)) {
			shortopts[s++] = (char)defs[i].key;
			if (defs[i].arg)
				shortopts[s++] = ':';
		}
	}
	shortopts[s] = '\0';

	int rc = 0;
	optind = 1;
	opterr = 0;
	for (;;) {
		int c = getopt_long(argc, argv, shortopts, longopts, NULL);
		if (c == -1)
			break;
		if (c == '?' || c == ':') {
			const char *what = argv[optind - 1];
			log_error("%s: %s '%s' (see --help)", argv[0],
				  c == '?' ? "unknown option" : "missing argument for", what);
			rc = -EINVAL;
			break;
		}
		rc = fn(ctx, c, optarg);
		if (rc < 0)
			break;
	}
	free(longopts);
	return rc < 0 ? rc : optind;
}

const char *opt_name(const struct opt_def *defs, int key)
{
	for (const struct opt_def *d = defs; d->name; d++)
		if (d->key == key)
			return d->name;
	return NULL;
}

static void print_flag(FILE *f, const struct opt_def *d, const char *sep)
{
	if (d->key > 0 && d->key < 128)
		fprintf(f, "-%c, ", d->key);
	fprintf(f, "--%s%s%s", d->name, d->arg ? sep : "", d->arg ? d->arg : "");
}

/* " (kernel: p2v.name)": where the option's kernel command line key is
 * documented, --help and the man page alike. */
static void print_cmdline_key(FILE *f, const struct opt_def *d)
{
	if (!d->cmdline)
		return;
	size_t len = strlen(d->cmdline);
	bool list = len && d->cmdline[len - 1] == ',';
	const char *item = d->arg ? d->arg : "ITEM";
	fprintf(f, " (kernel: %.*s", (int)(list ? len - 1 : len), d->cmdline);
	if (list)
		fprintf(f, "=%s,%s,...", item, item);
	fputc(')', f);
}

void opt_print_help(FILE *f, const char *usage, const char *summary, const struct opt_def *defs)
{
	fprintf(f, "Usage: %s\n\n%s\n\nOptions:\n", usage, summary);
	for (const struct opt_def *d = defs; d->name; d++) {
		char flag[96];
		FILE *m = fmemopen(flag, sizeof(flag), "w");
		if (!m)
			continue;
		print_flag(m, d, " ");
		fclose(m);
		fprintf(f, "  %-30s  %s", flag, d->help);
		print_cmdline_key(f, d);
		fputc('\n', f);
	}
}

void opt_print_man(FILE *f, const struct opt_def *defs)
{
	for (const struct opt_def *d = defs; d->name; d++) {
		fputs(".TP\n", f);
		if (d->key > 0 && d->key < 128)
			fprintf(f, "\\fB\\-%c\\fR, ", d->key);
		fprintf(f, "\\fB\\-\\-%s\\fR", d->name);
		if (d->arg)
			fprintf(f, " \\fI%s\\fR", d->arg);
		fprintf(f, "\n%s", d->help);
		print_cmdline_key(f, d);
		fputc('\n', f);
	}
}
