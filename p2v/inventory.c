/* p2v inventory: collecting every part, freeing it, the stream header's
 * part, and the command. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "inventory.h"
#include "inventory_util.h"
#include "log.h"
#include "options.h"
#include "util.h"

int inventory_collect(const struct inventory_opts *o, struct inventory *inv)
{
	struct inventory_opts def = *o;
	if (!def.sysfs)
		def.sysfs = "/sys";
	if (!def.proc)
		def.proc = "/proc";
	*inv = (struct inventory){ 0 };
	int rc = inv_collect_cpu_mem(def.proc, inv);
	if (rc == 0)
		rc = inv_collect_nics(def.sysfs, inv);
	if (rc == 0)
		rc = inv_collect_disks(&def, inv);
	if (rc == 0)
		rc = inv_collect_md(def.sysfs, inv);
	if (rc == 0)
		inv_mark_boot_medium(def.sysfs, def.proc, inv);
	if (!def.no_probe) {
		for (size_t i = 0; rc == 0 && i < inv->n_disks; i++)
			rc = inv_probe_disk(&inv->disks[i]);
		if (rc == 0)
			rc = inv_collect_dm(inv);
		if (rc == 0)
			rc = inv_probe_oses(inv);
	}
	if (rc == -ENOMEM)
		log_error("inventory: out of memory");
	if (rc < 0)
		inventory_free(inv);
	return rc;
}

void inventory_free(struct inventory *inv)
{
	for (size_t i = 0; i < inv->n_disks; i++) {
		struct inv_disk *d = &inv->disks[i];
		for (size_t k = 0; k < d->n_parts; k++) {
			struct inv_partition *p = &d->parts[k];
			free(p->path);
			free(p->type);
			free(p->fs);
			free(p->name);
			inv_strv_free(p->flags);
			inv_blkid_free(&p->blkid);
		}
		free(d->parts);
		free(d->name);
		free(d->path);
		free(d->model);
		free(d->serial);
		free(d->transport);
		free(d->backing_file);
		free(d->ptable);
		free(d->ptable_error);
		inv_blkid_free(&d->blkid);
	}
	for (size_t i = 0; i < inv->n_mds; i++) {
		free(inv->mds[i].name);
		free(inv->mds[i].level);
		free(inv->mds[i].metadata_version);
		free(inv->mds[i].array_state);
		inv_strv_free(inv->mds[i].members);
	}
	for (size_t i = 0; i < inv->n_dms; i++) {
		for (size_t k = 0; k < inv->dms[i].n_targets; k++)
			free(inv->dms[i].targets[k].type);
		free(inv->dms[i].targets);
		free(inv->dms[i].name);
		free(inv->dms[i].uuid);
	}
	for (size_t i = 0; i < inv->n_oses; i++)
		inv_os_free(&inv->oses[i]);
	for (size_t i = 0; i < inv->n_nics; i++) {
		free(inv->nics[i].name);
		free(inv->nics[i].mac);
		free(inv->nics[i].driver);
		free(inv->nics[i].operstate);
		inv_strv_free(inv->nics[i].addrs);
	}
	free(inv->disks);
	free(inv->mds);
	free(inv->dms);
	free(inv->oses);
	free(inv->nics);
	free(inv->cpu_model);
	*inv = (struct inventory){ 0 };
}

json_t *inventory_hello_json(const char *root)
{
	struct inventory inv = { 0 };
	if (inv_collect_cpu_mem("/proc", &inv) < 0 || inv_collect_nics("/sys", &inv) < 0) {
		inventory_free(&inv);
		return NULL;
	}
	json_t *all = inventory_to_json(&inv);
	json_t *os = json_null();
	int rootfd = root ? open(root, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	struct inv_os o = { 0 };
	if (rootfd >= 0 && inv_read_os(rootfd, &o) == 0) {
		json_decref(os);
		os = inv_os_to_json(&o);
		/* The fstab is in the template itself; keep the header small. */
		json_object_del(os, "fstab");
		json_object_del(os, "disk");
		json_object_del(os, "partition");
		json_object_del(os, "fstype");
		json_object_del(os, "used_bytes");
		json_object_del(os, "total_bytes");
	}
	inv_os_free(&o);
	if (rootfd >= 0)
		close(rootfd);
	inventory_free(&inv);
	json_t *h = all ? json_pack("{s:O, s:O, s:O, s:o}", "cpus", json_object_get(all, "cpus"),
				    "memory", json_object_get(all, "memory"),
				    "nics", json_object_get(all, "nics"), "os", os)
			: NULL;
	json_decref(all);
	return h;
}

static const struct opt_def inventory_opts_def[] = {
	{ "json", 'j', NULL, "print JSON (schema in doc/inventory.md) instead of tables" },
	{ "disk", 'd', "DEV", "inventory only this disk (repeatable); also loop, ram … devices" },
	{ "sysfs", 's', "DIR", "read sysfs from DIR instead of /sys (for tests)" },
	{ "verbose", 'v', NULL, "log more" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 },
};

struct inventory_args {
	bool json, help;
	const char *sysfs;
	const char *disks[64];
	size_t n_disks;
};

static int inventory_opt(void *ctx, int key, const char *arg)
{
	struct inventory_args *a = ctx;
	switch (key) {
	case 'j': a->json = true; break;
	case 's': a->sysfs = arg; break;
	case 'v': log_set_level(LOG_DEBUG); break;
	case 'h': a->help = true; break;
	case 'd':
		if (a->n_disks == ARRAY_SIZE(a->disks)) {
			log_error("too many --disk options (at most %zu)", ARRAY_SIZE(a->disks));
			return -EINVAL;
		}
		a->disks[a->n_disks++] = arg;
		break;
	}
	return 0;
}

int cmd_inventory(int argc, char **argv)
{
	struct inventory_args a = { 0 };
	int idx = opt_parse(inventory_opts_def, argc, argv, inventory_opt, &a);
	if (idx < 0)
		return P2V_EXIT_USAGE;
	if (a.help) {
		opt_print_help(stdout, "p2v inventory [--json] [--disk DEV]...",
			       "List what the machine holds: disks, partition tables, filesystem and\n"
			       "RAID signatures, LVM, device-mapper and md devices, installed Linux systems\n"
			       "(mounted read-only without journal replay), CPUs, memory and NICs.\n"
			       "Nothing is written to any disk.",
			       inventory_opts_def);
		return P2V_EXIT_OK;
	}
	if (idx < argc) {
		log_error("unexpected argument '%s' (see p2v inventory --help)", argv[idx]);
		return P2V_EXIT_USAGE;
	}
	struct inventory_opts o = { .sysfs = a.sysfs, .disks = a.disks, .n_disks = a.n_disks };
	struct inventory inv;
	if (inventory_collect(&o, &inv) < 0)
		return P2V_EXIT_FAILURE;
	int rc = P2V_EXIT_OK;
	if (a.json) {
		json_t *j = inventory_to_json(&inv);
		if (!j || json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0) {
			log_error("inventory: cannot format JSON");
			rc = P2V_EXIT_FAILURE;
		}
		fputc('\n', stdout);
		json_decref(j);
	} else {
		inventory_print_human(stdout, &inv);
	}
	inventory_free(&inv);
	if (fflush(stdout) != 0) {
		log_error("writing the inventory: %s", strerror(errno));
		rc = P2V_EXIT_FAILURE;
	}
	return rc;
}
