/* The fake-RAID gate: the kernel command line, the decision table, the
 * user-facing verdict, and the run over a list of disks. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "gate.h"
#include "log.h"
#include "util.h"

bool gate_cmdline_words(const char *cmdline, bool (*fn)(const char *word, size_t len, void *ctx),
			void *ctx)
{
	_cleanup_free_ char *word = malloc(strlen(cmdline) + 1);
	if (!word)
		return false;
	const char *p = cmdline;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			return false;
		/* As the kernel's next_arg(): quotes group spaces, and are dropped. */
		size_t n = 0;
		bool quoted = false;
		for (; *p && (quoted || (*p != ' ' && *p != '\t' && *p != '\n')); p++) {
			if (*p == '"')
				quoted = !quoted;
			else
				word[n++] = *p;
		}
		word[n] = '\0';
		if (fn(word, n, ctx))
			return true;
	}
}

static bool is_nodmraid(const char *word, size_t len, void *ctx)
{
	(void)ctx;
	static const char key[] = "nodmraid";
	size_t k = sizeof(key) - 1;
	return len >= k && !memcmp(word, key, k) && (len == k || word[k] == '=');
}

bool gate_cmdline_has_nodmraid(const char *cmdline)
{
	return cmdline && gate_cmdline_words(cmdline, is_nodmraid, NULL);
}

/* No metadata: nothing to guard (a map elsewhere does not hold this disk).
 * A stripe or parity member is never a disk, whatever else holds; booting
 * with nodmraid would not help, the assembled set is what to read.
 * Otherwise nodmraid must be on the command line and nothing assembled —
 * unless the user named the assembled set, which needs it assembled. */
enum gate_verdict gate_decide(const struct gate_input *in)
{
	if (!in->metadata)
		return GATE_ALLOW;
	if (in->striped)
		return GATE_REFUSE_STRIPED;
	if (!in->nodmraid)
		return GATE_REFUSE_NODMRAID;
	if (in->active && !in->assembled)
		return GATE_REFUSE_ACTIVE;
	return GATE_ALLOW;
}

const char *gate_verdict_name(enum gate_verdict v)
{
	switch (v) {
	case GATE_ALLOW: return "allow";
	case GATE_REFUSE_NODMRAID: return "refuse-need-nodmraid";
	case GATE_REFUSE_ACTIVE: return "refuse-active-maps";
	case GATE_REFUSE_STRIPED: return "refuse-striped";
	}
	return "?";
}

int gate_resolve_disk(const char *sysfs, const char *path, char *disk, size_t size,
		      bool *assembled)
{
	struct stat st;
	*assembled = false;
	if (stat(path, &st) < 0) {
		int e = errno;
		log_error("%s: %s", path, strerror(e));
		return -e;
	}
	snprintf(disk, size, "%s", path);
	if (S_ISREG(st.st_mode))
		return 0;
	if (!S_ISBLK(st.st_mode)) {
		log_error("%s is neither a block device nor an image file", path);
		return -EINVAL;
	}
	char link[4096], real[PATH_MAX];
	snprintf(link, sizeof(link), "%s/dev/block/%u:%u", sysfs, major(st.st_rdev),
		 minor(st.st_rdev));
	if (!realpath(link, real)) {
		log_warn("%s: not in sysfs; checking it as a whole disk", path);
		return 0;
	}
	const char *name = strrchr(real, '/') + 1;
	if (fr_block_is_assembled(sysfs, name)) {
		*assembled = true;
		return 0;
	}
	char part[PATH_MAX + 16];
	snprintf(part, sizeof(part), "%s/partition", real);
	if (access(part, F_OK) == 0) {
		/* The metadata lives on the partition's whole disk. */
		char *slash = strrchr(real, '/');
		*slash = '\0';
		snprintf(disk, size, "/dev/%s", strrchr(real, '/') + 1);
	}
	return 0;
}

void gate_report_free(struct gate_report *r)
{
	free(r->disks);
	fr_active_free(&r->active);
	memset(r, 0, sizeof(*r));
}

int gate_run(const char *const *disks, size_t n, const char *cmdline, bool skip_unreadable,
	     struct gate_report *r)
{
	memset(r, 0, sizeof(*r));
	_cleanup_free_ char *proc = NULL;
	if (!cmdline) {
		if (read_file("/proc/cmdline", 65536, &proc, NULL) < 0)
			log_warn("cannot read /proc/cmdline; taking it as without nodmraid");
		cmdline = proc ? proc : "";
	}
	r->input.nodmraid = gate_cmdline_has_nodmraid(cmdline);
	r->disks = calloc(n ? n : 1, sizeof(*r->disks));
	if (!r->disks)
		return -ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct gate_disk *d = &r->disks[r->n_disks++];
		snprintf(d->path, sizeof(d->path), "%s", disks[i]);
		rc = gate_resolve_disk("/sys", disks[i], d->probed, sizeof(d->probed), &d->assembled);
		if (rc < 0)
			break;
		if (d->assembled) {
			d->probed[0] = '\0';
			r->input.assembled = true;
			continue;
		}
		/* The same whole disk named twice (two partitions) is probed once. */
		bool seen = false;
		for (size_t j = 0; j + 1 < r->n_disks && !seen; j++)
			if (!strcmp(r->disks[j].probed, d->probed)) {
				d->probe = r->disks[j].probe;
				seen = true;
			}
		if (!seen && (rc = fr_probe_path(d->probed, &d->probe)) < 0) {
			if (!skip_unreadable || rc == -ENOMEM)
				break;
			d->error = rc;
			rc = 0;
			continue;
		}
		if (d->probe.fakeraid) {
			r->input.metadata = true;
			for (size_t v = 0; v < d->probe.n_volumes; v++)
				if (fr_level_is_striped(d->probe.volumes[v].level))
					r->input.striped = true;
		}
	}
	if (rc == 0)
		rc = fr_active_scan("/sys", &r->active);
	if (rc < 0) {
		gate_report_free(r);
		return rc;
	}
	r->input.active = r->active.n_dm > 0 || r->active.n_md > 0;
	r->verdict = gate_decide(&r->input);
	return 0;
}

static void print_disk(FILE *f, const struct gate_disk *d)
{
	if (d->assembled) {
		fprintf(f, "  %s: an assembled BIOS RAID set (named explicitly)\n", d->path);
		return;
	}
	const struct fr_probe *p = &d->probe;
	fprintf(f, "  %s", d->path);
	if (strcmp(d->path, d->probed))
		fprintf(f, " (on %s)", d->probed);
	if (d->error) {
		fprintf(f, ": cannot be read (%s); skipped\n", strerror(-d->error));
		return;
	}
	if (!p->fakeraid) {
		fprintf(f, ": no BIOS RAID metadata%s%s%s\n", p->type[0] ? " (" : "", p->type,
			p->type[0] ? ")" : "");
		return;
	}
	fprintf(f, ": BIOS RAID member, %s metadata (%s%s%s)", p->format, p->type,
		p->version[0] ? " version " : "", p->version);
	if (!p->n_volumes)
		fputs(", RAID level unknown (not in this format's metadata, or no volume defined)", f);
	for (size_t v = 0; v < p->n_volumes; v++) {
		fprintf(f, "%s volume ", v ? ";" : ",");
		if (p->volumes[v].name[0])
			fprintf(f, "'%s'", p->volumes[v].name);
		else
			fprintf(f, "#%zu", v);
		fprintf(f, ": %s, %u members", fr_level_name(p->volumes[v].level),
			p->volumes[v].members);
	}
	fputc('\n', f);
}

static const char nodmraid_help[] =
	"The rescue system may assemble this BIOS RAID (dmraid or mdadm), and then\n"
	"its disks cannot be read as plain disks. Reboot the rescue medium with\n"
	"'nodmraid' on the kernel command line:\n"
	"  - at the boot menu, select the entry and press Tab (isolinux/syslinux)\n"
	"    or e (GRUB), append ' nodmraid' to the kernel line (the one starting\n"
	"    with 'linux' in GRUB), then boot (Enter; Ctrl-x or F10 in GRUB);\n"
	"  - old SystemRescueCd (ifcpu64.c32 menu): add it on both sides of '--':\n"
	"      ifcpu64.c32 rescue64 scandelay=1 nodmraid -- rescue32 scandelay=1 nodmraid\n"
	"Then run 'p2v check' again.\n";

void gate_print_human(FILE *f, const struct gate_report *r)
{
	for (size_t i = 0; i < r->n_disks; i++)
		print_disk(f, &r->disks[i]);
	for (size_t i = 0; i < r->active.n_dm; i++)
		fprintf(f, "  active dmraid map %s (uuid %s)\n", r->active.dm[i].name,
			r->active.dm[i].uuid[0] ? r->active.dm[i].uuid : "none");
	for (size_t i = 0; i < r->active.n_md; i++) {
		const struct fr_md_array *a = &r->active.md[i];
		if (a->kind == FR_MD_CONTAINER)
			fprintf(f, "  active md container /dev/%s (external:%s)\n", a->name, a->format);
		else
			fprintf(f, "  active md array /dev/%s in container /dev/%s\n", a->name,
				a->container);
	}
	fprintf(f, "kernel command line: %s\n", r->input.nodmraid ? "nodmraid" : "no nodmraid");
	switch (r->verdict) {
	case GATE_ALLOW:
		fputs("verdict: migration may proceed\n", f);
		for (size_t i = 0; i < r->n_disks; i++)
			if (r->disks[i].probe.fakeraid && !r->disks[i].probe.n_volumes) {
				fputs("note: the RAID level of a member above is not known; migrating one\n"
				      "member as a plain disk is right for a mirror (RAID1) only. For a\n"
				      "striped set, name the assembled device instead.\n", f);
				break;
			}
		break;
	case GATE_REFUSE_NODMRAID:
		fputs("verdict: refused — BIOS RAID metadata, and no 'nodmraid' on the kernel command line\n", f);
		fputs(nodmraid_help, f);
		break;
	case GATE_REFUSE_ACTIVE:
		fputs("verdict: refused — booted with nodmraid, but BIOS RAID sets are assembled and\n"
		      "hold the disks. Stop them first: 'p2v fakeraid --deactivate' (or 'dmraid -an',\n"
		      "'mdadm --stop' on each array and then its container), then run 'p2v check' again.\n", f);
		break;
	case GATE_REFUSE_STRIPED:
		fputs("verdict: refused — a member of a striped or parity set (RAID0/5/10) holds only\n"
		      "part of the data; it is not a readable disk on its own. Boot the rescue system\n"
		      "WITHOUT nodmraid so dmraid/mdadm assemble the set, and name the assembled\n"
		      "device (e.g. /dev/mapper/isw_…_Volume0p1 or /dev/md126p1) explicitly.\n", f);
		break;
	}
}

int fakeraid_gate(const char *const *disks, size_t n, const char *cmdline_or_null)
{
	struct gate_report r;
	int rc = gate_run(disks, n, cmdline_or_null, false, &r);
	if (rc < 0)
		return rc;
	if (r.verdict != GATE_ALLOW) {
		log_error("fake-RAID gate: %s", gate_verdict_name(r.verdict));
		gate_print_human(stderr, &r);
		rc = -EPERM;
	} else if (r.input.metadata) {
		log_info("fake-RAID gate: BIOS RAID metadata found, booted with nodmraid, no set assembled");
	}
	gate_report_free(&r);
	return rc;
}
