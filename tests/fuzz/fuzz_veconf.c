/* OpenVZ ve.conf (ct-import/veconf.c, veconf_map.c): the strict parser,
 * every value through the number and pair syntax in each unit, and the
 * whole file mapped onto a container. */
#include "fuzz.h"
#include "ct_spec.h"
#include "log.h"
#include "veconf.h"
#include "veconf_map.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	log_init("fuzz_veconf");
	return 0;
}

static const enum veconf_unit units[] = { VECONF_ITEMS, VECONF_BYTES, VECONF_BLOCKS, VECONF_PAGES };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > VECONF_MAX_SIZE)
		return -1;
	struct veconf c = { 0 };
	int rc = veconf_parse("fuzz.conf", (const char *)data, size, &c);
	if (rc < 0) {
		if (rc == -22 && (!c.error[0] || c.n))
			fuzz_die("refused without a reason, or with entries left (%zu)", c.n);
		veconf_free(&c);
		return 0;
	}
	for (size_t i = 0; i < c.n; i++) {
		const struct veconf_entry *e = &c.entry[i];
		if (!e->key || !e->value || veconf_find(&c, e->key) != e)
			fuzz_die("entry %zu ('%s') is not found by its key", i, e->key ? e->key : "");
		for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
			uint64_t v;
			struct veconf_pair pr;
			if (veconf_parse_number(e->value, units[u], &v) == 0 && v > VECONF_UNLIMITED)
				fuzz_die("'%s' gives %llu, above unlimited", e->value, (unsigned long long)v);
			if (veconf_parse_pair(e->value, units[u], &pr) == 0 &&
			    (pr.barrier > VECONF_UNLIMITED || pr.limit > VECONF_UNLIMITED))
				fuzz_die("'%s' gives a pair above unlimited", e->value);
		}
	}
	struct veconf_map m = { 0 };
	if (veconf_map(&c, &m) == 0) {
		struct ct_spec spec = { 0 };
		veconf_map_to_spec(&m, &spec);
	}
	char buf[32];
	veconf_cpulimit_str((unsigned)(size * 37), buf, sizeof(buf));
	veconf_map_free(&m);
	veconf_free(&c);
	return 0;
}
