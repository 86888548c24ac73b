/* p2v fakeraid: show the BIOS RAID assemblies the rescue system activated
 * (dmraid maps, external-metadata md arrays, and what is stacked on them)
 * and, with --deactivate, take them apart so the member disks can be read
 * as plain disks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "dmraid_teardown.h"
#include "log.h"
#include "options.h"
#include "util.h"

enum { OPT_DEACTIVATE = 256, OPT_DRY_RUN, OPT_SYSFS, OPT_DEVDIR };

static const struct opt_def fakeraid_opts[] = {
	{ "deactivate", OPT_DEACTIVATE, NULL, "remove dmraid maps and stop external-metadata md arrays, leaves first" },
	{ "dry-run", OPT_DRY_RUN, NULL, "with --deactivate: print the plan, change nothing" },
	{ "sysfs", OPT_SYSFS, "DIR", "read md arrays from DIR instead of /sys" },
	{ "dev", OPT_DEVDIR, "DIR", "md device nodes are in DIR (default /dev)" },
	{ "verbose", 'v', NULL, "log more" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 },
};

struct fakeraid_args {
	const char *sysfs, *devdir;
	bool deactivate, dry_run, help;
};

static int fakeraid_opt(void *ctx, int key, const char *arg)
{
	struct fakeraid_args *a = ctx;
	switch (key) {
	case OPT_DEACTIVATE: a->deactivate = true; break;
	case OPT_DRY_RUN: a->dry_run = true; break;
	case OPT_SYSFS: a->sysfs = arg; break;
	case OPT_DEVDIR: a->devdir = arg; break;
	case 'v': log_set_level(LOG_DEBUG); break;
	case 'h': a->help = true; break;
	}
	return 0;
}

static int collect(const struct fakeraid_args *a, struct dmt_graph *g)
{
	int rc = dmt_collect_dm(g);
	if (rc == -ENODEV) {
		log_debug("no device-mapper in this kernel: no dm maps to look at");
		rc = 0;
	}
	if (rc < 0)
		return rc;
	rc = dmt_collect_md(a->sysfs, g);
	if (rc < 0)
		log_error("reading md arrays from %s: %s", a->sysfs, strerror(-rc));
	return rc;
}

static void print_node(FILE *f, const char *what, const struct dmt_node *nd)
{
	fprintf(f, "%s %s %s (%u:%u)", what, nd->kind == DMT_DM ? "dm" : "md", nd->name,
		nd->dev.major, nd->dev.minor);
	if (*nd->uuid)
		fprintf(f, " uuid %s", nd->uuid);
	if (*nd->metadata)
		fprintf(f, " metadata %s", nd->metadata);
	if (!nd->fakeraid)
		fputs(" (stacked on BIOS RAID)", f);
	if (nd->open_count)
		fprintf(f, " open %u", nd->open_count);
	fputc('\n', f);
}

int cmd_fakeraid(int argc, char **argv)
{
	struct fakeraid_args a = { .sysfs = "/sys", .devdir = "/dev" };
	if (opt_parse(fakeraid_opts, argc, argv, fakeraid_opt, &a) < 0)
		return P2V_EXIT_USAGE;
	if (a.help) {
		opt_print_help(stdout, "p2v fakeraid [--deactivate [--dry-run]]",
			       "List BIOS RAID (dmraid, imsm/ddf md) assemblies and take them apart.",
			       fakeraid_opts);
		return P2V_EXIT_OK;
	}

	struct dmt_graph g = { 0 };
	_cleanup_free_ size_t *order = NULL;
	size_t n_order = 0;
	int status = P2V_EXIT_FAILURE;
	if (collect(&a, &g) < 0 || dmt_plan(&g, &order, &n_order) < 0)
		goto out;
	if (!n_order) {
		printf("no active BIOS RAID maps or md containers\n");
		status = P2V_EXIT_OK;
		goto out;
	}
	if (!a.deactivate || a.dry_run) {
		/* The plan is the order removal would take. */
		for (size_t i = 0; i < n_order; i++)
			print_node(stdout, a.deactivate ? "would remove" : "active", &g.nodes[order[i]]);
		if (!a.deactivate)
			printf("run 'p2v fakeraid --deactivate' to take them apart\n");
		status = P2V_EXIT_OK;
		goto out;
	}
	if (dmt_execute(&g, order, n_order, a.devdir, stdout) < 0)
		goto out;

	/* Judge by looking again, not by the return codes alone. */
	dmt_graph_free(&g);
	free(order);
	order = NULL;
	if (collect(&a, &g) < 0 || dmt_plan(&g, &order, &n_order) < 0)
		goto out;
	if (n_order) {
		for (size_t i = 0; i < n_order; i++)
			print_node(stderr, "still active", &g.nodes[order[i]]);
		log_error("%zu BIOS RAID device(s) still active after deactivation", n_order);
		goto out;
	}
	printf("all BIOS RAID maps and md containers are deactivated\n");
	status = P2V_EXIT_OK;
out:
	dmt_graph_free(&g);
	return status;
}
