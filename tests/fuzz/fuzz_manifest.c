/* The batch manifest (ct-import/batch_manifest.c): any text either parses
 * into containers that satisfy every rule the parser promises (unique
 * sources and VMIDs, VMIDs in range, backend/start only with output=create,
 * no source taken for an option) or is refused with at least one error,
 * each naming the file and a line that exists. */
#include "fuzz.h"
#include "batch_manifest.h"
#include "log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	log_init("fuzz_manifest");
	return 0;
}

static void check_error(const char *e, unsigned lines)
{
	static const char prefix[] = "fuzz.manifest";
	if (strncmp(e, prefix, sizeof(prefix) - 1))
		fuzz_die("error without the file name: '%s'", e);
	const char *p = e + sizeof(prefix) - 1;
	if (!strncmp(p, ": ", 2))
		return;
	if (*p != ':')
		fuzz_die("error without a line: '%s'", e);
	unsigned long line = strtoul(p + 1, NULL, 10);
	if (line == 0 || line > lines)
		fuzz_die("error names line %lu of %u: '%s'", line, lines, e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return -1;
	unsigned lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	struct batch_manifest m;
	int rc = batch_manifest_parse("fuzz.manifest", (const char *)data, size, &m);
	if (rc == -22) {
		if (!m.n_error)
			fuzz_die("refused without a reason");
		for (size_t i = 0; i < m.n_error; i++)
			check_error(m.error[i], lines);
	} else if (rc == 0) {
		if (m.n_error || !m.n)
			fuzz_die("accepted with %zu errors and %zu containers", m.n_error, m.n);
		for (size_t i = 0; i < m.n; i++) {
			const struct batch_item *it = &m.item[i];
			if (!it->source[0] || it->source[0] == '-' || it->source[0] == '#' || !strcmp(it->source, "*") ||
			    strpbrk(it->source, " \t\n"))
				fuzz_die("source '%s' accepted", it->source);
			if (it->vmid && (it->vmid < BATCH_VMID_MIN || it->vmid > BATCH_VMID_MAX))
				fuzz_die("vmid %u accepted", it->vmid);
			if (it->output != BATCH_OUT_CREATE && (it->backend != BATCH_BACKEND_UNSET || it->start))
				fuzz_die("backend/start on output %d", it->output);
			if (it->line == 0 || it->line > lines || (i && it->line <= m.item[i - 1].line))
				fuzz_die("line %u out of order", it->line);
			for (size_t j = 0; j < i; j++) {
				if (!strcmp(m.item[j].source, it->source))
					fuzz_die("source '%s' twice", it->source);
				if (it->vmid && m.item[j].vmid == it->vmid)
					fuzz_die("vmid %u twice", it->vmid);
			}
		}
	} else if (rc != -12) {
		fuzz_die("unexpected return %d", rc);
	}
	batch_manifest_free(&m);
	char *text = fuzz_text(data, size > 200 ? 200 : size);
	char *ctid = batch_source_ctid(text, size & 1);
	if (ctid && ctid[0] && (strchr(ctid, '/') || ctid[0] == '.' || ctid[0] == '-'))
		fuzz_die("CTID '%s' is not a safe name", ctid);
	free(ctid);
	free(text);
	return 0;
}
