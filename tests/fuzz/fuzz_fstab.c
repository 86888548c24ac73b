/* /etc/fstab of the source, as p2v reads it to decide what to mount:
 * fstab_parse, then every per-entry rule. */
#include "fuzz.h"
#include "fstab.h"
#include "log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	log_init("fuzz_fstab");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	struct fstab_entry *e = NULL;
	int n = fstab_parse(text, &e);
	if (n < 0) {
		free(text);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		if (!e[i].spec || !e[i].file || !e[i].vfstype || !e[i].options)
			fuzz_die("fstab entry %d has a NULL field", i);
		const char *why = fstab_skip_reason(&e[i]);
		int local = fstab_entry_is_local_fs(&e[i]);
		if (why && strlen(why) == 0)
			fuzz_die("empty skip reason");
		(void)local;
		const char *ro = source_ro_options(e[i].vfstype);
		if (!ro || strncmp(ro, "ro", 2))
			fuzz_die("read-only options '%s' for %s", ro ? ro : "(null)", e[i].vfstype);
		/* "ro" among the options must be found as a word, and words of
		 * the options themselves must be found. */
		fstab_has_option(e[i].options, "ro");
		fstab_has_option(e[i].options, "");
		char *first = strdup(e[i].options), *comma = first ? strchr(first, ',') : NULL;
		if (comma)
			*comma = '\0';
		if (first && *first && !fstab_has_option(e[i].options, first))
			fuzz_die("option '%s' not found in '%s'", first, e[i].options);
		free(first);
	}
	fstab_free(e, (size_t)n);
	free(text);
	return 0;
}
