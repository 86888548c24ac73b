/* p2v check: run the fake-RAID gate over the machine's disks (or those
 * named) and say whether migration may proceed. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "gate.h"
#include "log.h"
#include "options.h"
#include "util.h"

enum { OPT_CMDLINE = 256, OPT_DISK, OPT_JSON };

static const struct opt_def check_opts[] = {
	{ "cmdline", OPT_CMDLINE, "STRING", "judge this kernel command line instead of /proc/cmdline" },
	{ "disk", OPT_DISK, "DEV", "check this disk, partition or image file (repeatable; default: every disk in /sys/block)" },
	{ "json", OPT_JSON, NULL, "print the verdict as JSON on stdout" },
	{ "verbose", 'v', NULL, "log more" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 },
};

struct check_args {
	const char *cmdline;
	char **disks;
	size_t n_disks;
	bool json, help;
};

static int add_disk(struct check_args *a, const char *path)
{
	char **more = realloc(a->disks, (a->n_disks + 1) * sizeof(*more));
	if (!more)
		return -ENOMEM;
	a->disks = more;
	if (!(a->disks[a->n_disks] = strdup(path)))
		return -ENOMEM;
	a->n_disks++;
	return 0;
}

static int check_opt(void *ctx, int key, const char *arg)
{
	struct check_args *a = ctx;
	switch (key) {
	case OPT_CMDLINE: a->cmdline = arg; break;
	case OPT_DISK: return add_disk(a, arg);
	case OPT_JSON: a->json = true; break;
	case 'v': log_set_level(LOG_DEBUG); break;
	case 'h': a->help = true; break;
	}
	return 0;
}

/* Whole disks from /sys/block, without loop, RAM, optical, floppy and
 * assembled (dm, md) devices, nor empty ones (an nbd with nothing attached). */
static int list_disks(struct check_args *a)
{
	static const char *const skip[] = { "loop", "ram", "zram", "sr", "fd", "dm-", "md" };
	DIR *d = opendir("/sys/block");
	if (!d) {
		log_error("/sys/block: %s", strerror(errno));
		return -errno;
	}
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d)) && rc == 0) {
		if (e->d_name[0] == '.')
			continue;
		bool skipped = false;
		for (size_t i = 0; i < ARRAY_SIZE(skip) && !skipped; i++)
			skipped = !strncmp(e->d_name, skip[i], strlen(skip[i]));
		char path[512];
		_cleanup_free_ char *size = NULL;
		snprintf(path, sizeof(path), "/sys/block/%s/size", e->d_name);
		if (skipped || read_file(path, 64, &size, NULL) < 0 || strtoull(size, NULL, 10) == 0)
			continue;
		snprintf(path, sizeof(path), "/dev/%s", e->d_name);
		rc = add_disk(a, path);
	}
	closedir(d);
	return rc;
}

static json_t *volume_json(const struct fr_volume *v)
{
	return json_pack("{s:s, s:s, s:i}", "name", v->name, "level", fr_level_name(v->level),
			 "members", (int)v->members);
}

static json_t *disk_json(const struct gate_disk *d)
{
	const struct fr_probe *p = &d->probe;
	json_t *o = json_pack("{s:s, s:s?, s:b}", "path", d->path,
			      "probed", d->assembled ? NULL : d->probed, "assembled", d->assembled);
	if (d->assembled)
		return o;
	if (d->error) {
		json_object_set_new(o, "error", json_string(strerror(-d->error)));
		return o;
	}
	json_object_set_new(o, "type", p->type[0] ? json_string(p->type) : json_null());
	json_object_set_new(o, "usage", p->usage[0] ? json_string(p->usage) : json_null());
	json_object_set_new(o, "pttype", p->pttype[0] ? json_string(p->pttype) : json_null());
	json_object_set_new(o, "ambivalent", json_boolean(p->ambivalent));
	json_object_set_new(o, "fakeraid", json_boolean(p->fakeraid));
	if (!p->fakeraid)
		return o;
	json_t *vols = json_array();
	for (size_t i = 0; i < p->n_volumes; i++)
		json_array_append_new(vols, volume_json(&p->volumes[i]));
	/* The set's level and members: the first volume's, as dmraid names it. */
	json_t *raid = json_pack("{s:s, s:s, s:o, s:o, s:o}", "format", p->format,
				 "version", p->version,
				 "level", p->n_volumes ? json_string(fr_level_name(p->volumes[0].level))
						       : json_null(),
				 "members", p->n_volumes ? json_integer(p->volumes[0].members) : json_null(),
				 "volumes", vols);
	json_object_set_new(o, "raid", raid);
	return o;
}

static void print_json(const struct gate_report *r, int exit_code)
{
	json_t *disks = json_array(), *dm = json_array(), *md = json_array();
	for (size_t i = 0; i < r->n_disks; i++)
		json_array_append_new(disks, disk_json(&r->disks[i]));
	for (size_t i = 0; i < r->active.n_dm; i++) {
		json_t *t = json_array();
		for (size_t j = 0; j < r->active.dm[i].n_targets; j++)
			json_array_append_new(t, json_string(r->active.dm[i].targets[j]));
		json_array_append_new(dm, json_pack("{s:s, s:s, s:o}", "name", r->active.dm[i].name,
						    "uuid", r->active.dm[i].uuid, "targets", t));
	}
	for (size_t i = 0; i < r->active.n_md; i++) {
		const struct fr_md_array *a = &r->active.md[i];
		bool c = a->kind == FR_MD_CONTAINER;
		json_array_append_new(md, json_pack("{s:s, s:s, s:s?, s:s?}", "name", a->name,
						    "kind", c ? "container" : "member",
						    "format", c ? a->format : NULL,
						    "container", c ? NULL : a->container));
	}
	json_t *o = json_pack("{s:s, s:i, s:b, s:b, s:b, s:b, s:o, s:{s:o, s:o}}",
			      "verdict", gate_verdict_name(r->verdict), "exit", exit_code,
			      "nodmraid", r->input.nodmraid, "metadata", r->input.metadata,
			      "striped", r->input.striped, "active", r->input.active,
			      "disks", disks, "active_sets", "dm", dm, "md", md);
	char *s = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
	if (s)
		puts(s);
	free(s);
	json_decref(o);
}

int cmd_check(int argc, char **argv)
{
	struct check_args a = { 0 };
	int rc = P2V_EXIT_USAGE;
	int idx = opt_parse(check_opts, argc, argv, check_opt, &a);
	if (idx < 0)
		goto out;
	if (a.help) {
		opt_print_help(stdout, "p2v check [--cmdline STRING] [--disk DEV]... [--json]",
			       "Look for BIOS (\"fake\") RAID metadata on the disks and decide whether\n"
			       "migration may proceed: exit 0 if so, 6 if refused (boot with nodmraid,\n"
			       "stop assembled sets, or name the assembled device of a striped set).",
			       check_opts);
		rc = P2V_EXIT_OK;
		goto out;
	}
	if (idx < argc) {
		log_error("unexpected argument '%s' (see p2v check --help)", argv[idx]);
		goto out;
	}
	rc = P2V_EXIT_FAILURE;
	bool listed = !a.n_disks;
	if (listed && list_disks(&a) < 0)
		goto out;
	struct gate_report r;
	if (gate_run((const char *const *)a.disks, a.n_disks, a.cmdline, listed, &r) < 0)
		goto out;
	rc = r.verdict == GATE_ALLOW ? P2V_EXIT_OK : P2V_EXIT_FAKERAID;
	if (a.json)
		print_json(&r, rc);
	gate_print_human(a.json ? stderr : stdout, &r);
	gate_report_free(&r);
out:
	for (size_t i = 0; i < a.n_disks; i++)
		free(a.disks[i]);
	free(a.disks);
	return rc;
}
