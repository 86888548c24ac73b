/* The kernel command line p2v run reads (lib/cmdline.c): split into words
 * the kernel's way, every key looked up in a table with a list key and
 * every value read as a flag. (run_plan_build in p2v/run_args.c is not
 * covered yet: it links most of p2v, which does not build with clang.) */
#include "fuzz.h"
#include "cmdline.h"
#include "log.h"

static const struct opt_def defs[] = {
	{ "server", 256, "HOST", "h", "p2v.server" },
	{ "disk", 257, "DEV", "h", "p2v.disks," },
	{ "force", 258, NULL, "h", "p2v.force" },
	{ "no-key", 259, NULL, "h", NULL },
	{ 0 },
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	log_init("fuzz_cmdline");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_text(data, size);
	struct cmdline_param *p = NULL;
	size_t n = 0;
	if (cmdline_split(line, &p, &n) == 0) {
		if (n > size)
			fuzz_die("%zu words from %zu bytes", n, size);
		for (size_t i = 0; i < n; i++) {
			if (!p[i].key)
				fuzz_die("word %zu has no key", i);
			/* No word is longer than the line, nor holds white space
			 * unless the line had a quote. */
			if (strlen(p[i].key) > size || (p[i].value && strlen(p[i].value) > size))
				fuzz_die("word %zu is longer than the line", i);
			if (!memchr(line, '"', size) && strpbrk(p[i].key, " \t\n"))
				fuzz_die("word '%s' holds white space without quotes", p[i].key);
			if (!cmdline_key_eq(p[i].key, p[i].key))
				fuzz_die("key '%s' differs from itself", p[i].key);
			const struct opt_def *d = cmdline_find(defs, p[i].key);
			if (d) {
				char buf[64];
				const char *k = cmdline_key(d, buf, sizeof(buf));
				if (!cmdline_key_eq(k, p[i].key))
					fuzz_die("found '%s' for '%s'", k, p[i].key);
				(void)cmdline_is_list(d);
			}
			bool flag;
			int rc = cmdline_flag(p[i].value, &flag);
			if (rc != 0 && rc != -22)
				fuzz_die("cmdline_flag('%s') = %d", p[i].value, rc);
		}
		cmdline_params_free(p, n);
	}
	free(line);
	return 0;
}
