/* The inventory as JSON; doc/inventory.md is the schema. Absent strings are
 * null; byte quantities are bytes. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.h"
#include "inventory_util.h"

/* A JSON string, or null; bytes that are not UTF-8 become '?'. */
static json_t *jstr(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	char *c = strdup(s);
	if (!c)
		return json_null();
	for (unsigned char *p = (unsigned char *)c; *p; p++)
		if (*p >= 0x80)
			*p = '?';
	j = json_string(c);
	free(c);
	return j ? j : json_null();
}

static json_t *jstrv(char **v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, jstr(v[i]));
	return a;
}

static json_t *blkid_json(const struct inv_blkid *b)
{
	if (!b->probed)
		return json_null();
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:b}",
			 "type", jstr(b->type), "uuid", jstr(b->uuid), "label", jstr(b->label),
			 "usage", jstr(b->usage), "version", jstr(b->version), "pttype", jstr(b->pttype),
			 "raid_member", inv_blkid_is_raid_member(b), "ambivalent", b->ambivalent);
}

static json_t *part_json(const struct inv_partition *p)
{
	return json_pack("{s:i, s:o, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o}",
			 "number", p->number, "path", jstr(p->path), "start", (json_int_t)p->start,
			 "end", (json_int_t)p->end, "size", (json_int_t)p->size, "type", jstr(p->type),
			 "flags", jstrv(p->flags), "name", jstr(p->name), "filesystem", jstr(p->fs),
			 "blkid", blkid_json(&p->blkid));
}

static json_t *disk_json(const struct inv_disk *d)
{
	json_t *parts = json_array();
	for (size_t i = 0; i < d->n_parts; i++)
		json_array_append_new(parts, part_json(&d->parts[i]));
	return json_pack("{s:o, s:o, s:o, s:o, s:I, s:i, s:i, s:b, s:b, s:b, s:o, s:o, s:b,"
			 " s:o, s:o, s:o, s:o}",
			 "name", jstr(d->name), "path", jstr(d->path), "model", jstr(d->model),
			 "serial", jstr(d->serial), "size", (json_int_t)d->size,
			 "logical_sector_size", (int)d->logical_sector,
			 "physical_sector_size", (int)d->physical_sector, "rotational", d->rotational,
			 "removable", d->removable, "read_only", d->read_only,
			 "transport", jstr(d->transport), "backing_file", jstr(d->backing_file),
			 "boot_medium", d->boot_medium, "partition_table", jstr(d->ptable),
			 "partition_table_error", jstr(d->ptable_error), "partitions", parts,
			 "blkid", blkid_json(&d->blkid));
}

json_t *inv_os_to_json(const struct inv_os *os)
{
	json_t *fstab = json_array();
	for (size_t i = 0; i < os->n_fstab; i++)
		json_array_append_new(fstab, json_pack("{s:o, s:o, s:o, s:o}",
			"spec", jstr(os->fstab[i].spec), "file", jstr(os->fstab[i].file),
			"vfstype", jstr(os->fstab[i].vfstype), "options", jstr(os->fstab[i].options)));
	const struct net_config *n = &os->net;
	json_t *net = json_pack("{s:o, s:o, s:o, s:o, s:o}", "iface", jstr(n->iface),
				"ip", jstr(n->ip), "gw", jstr(n->gw), "nameserver", jstr(n->nameserver),
				"searchdomain", jstr(n->searchdomain));
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:o, s:o}",
			 "disk", jstr(os->disk),
			 "partition", os->partition ? json_integer(os->partition) : json_null(),
			 "fstype", jstr(os->fstype), "id", jstr(os->id),
			 "version_id", jstr(os->version_id), "pretty_name", jstr(os->pretty_name),
			 "ostype", jstr(os->ostype), "arch", jstr(os->arch),
			 "hostname", jstr(os->hostname), "used_bytes", (json_int_t)os->used_bytes,
			 "total_bytes", (json_int_t)os->total_bytes, "fstab", fstab, "network", net);
}

json_t *inv_dm_to_json(const struct inv_dm *dm)
{
	json_t *t = json_array();
	for (size_t i = 0; i < dm->n_targets; i++)
		json_array_append_new(t, json_pack("{s:o, s:I, s:I}", "type", jstr(dm->targets[i].type),
						   "start", (json_int_t)dm->targets[i].start,
						   "length", (json_int_t)dm->targets[i].length));
	return json_pack("{s:o, s:o, s:o}", "name", jstr(dm->name), "uuid", jstr(dm->uuid),
			 "targets", t);
}

static json_t *nic_json(const struct inv_nic *n)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o}", "name", jstr(n->name),
			 "mac", jstr(n->mac), "driver", jstr(n->driver), "operstate", jstr(n->operstate),
			 "carrier", n->carrier < 0 ? json_null() : json_boolean(n->carrier),
			 "speed_mbps", n->speed_mbps < 0 ? json_null() : json_integer(n->speed_mbps),
			 "virtual", n->is_virtual, "addresses", jstrv(n->addrs));
}

/* The disks' and partitions' blkid verdicts matching pred, as {disk, partition, …}. */
static json_t *members(const struct inventory *inv, bool lvm)
{
	json_t *a = json_array();
	for (size_t i = 0; i < inv->n_disks; i++) {
		const struct inv_disk *d = &inv->disks[i];
		for (size_t k = 0; k <= d->n_parts; k++) {
			const struct inv_blkid *b = k ? &d->parts[k - 1].blkid : &d->blkid;
			bool match = lvm ? b->type && !strcmp(b->type, "LVM2_member") : inv_blkid_is_raid_member(b);
			if (!match)
				continue;
			json_array_append_new(a, json_pack("{s:o, s:o, s:o, s:o, s:o}",
				"disk", jstr(d->path),
				"partition", k ? json_integer(d->parts[k - 1].number) : json_null(),
				"path", jstr(k ? d->parts[k - 1].path : d->path),
				"type", jstr(b->type), "uuid", jstr(b->uuid)));
		}
	}
	return a;
}

json_t *inventory_to_json(const struct inventory *inv)
{
	json_t *disks = json_array(), *mds = json_array(), *dms = json_array(), *oses = json_array(),
	       *nics = json_array();
	for (size_t i = 0; i < inv->n_disks; i++)
		json_array_append_new(disks, disk_json(&inv->disks[i]));
	for (size_t i = 0; i < inv->n_mds; i++) {
		const struct inv_md *m = &inv->mds[i];
		char path[300];
		snprintf(path, sizeof(path), "/dev/%s", m->name);
		json_array_append_new(mds, json_pack("{s:o, s:o, s:o, s:o, s:o, s:I, s:o}",
			"name", jstr(m->name), "path", jstr(path), "level", jstr(m->level),
			"metadata_version", jstr(m->metadata_version), "array_state", jstr(m->array_state),
			"size", (json_int_t)m->size, "members", jstrv(m->members)));
	}
	for (size_t i = 0; i < inv->n_dms; i++)
		json_array_append_new(dms, inv_dm_to_json(&inv->dms[i]));
	for (size_t i = 0; i < inv->n_oses; i++)
		json_array_append_new(oses, inv_os_to_json(&inv->oses[i]));
	for (size_t i = 0; i < inv->n_nics; i++)
		json_array_append_new(nics, nic_json(&inv->nics[i]));
	return json_pack("{s:i, s:{s:i, s:o}, s:{s:I}, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o}",
			 "schema", 1, "cpus", "count", (int)inv->cpus, "model", jstr(inv->cpu_model),
			 "memory", "total_bytes", (json_int_t)inv->mem_bytes, "disks", disks,
			 "lvm_pvs", members(inv, true), "raid_members", members(inv, false),
			 "md_arrays", mds, "dm_available", inv->dm_available, "dm_devices", dms,
			 "operating_systems", oses, "nics", nics);
}
