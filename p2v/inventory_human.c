/* The inventory as readable tables. */
#include <stdio.h>
#include <string.h>

#include "inventory.h"
#include "util.h"

static const char *s(const char *v) { return v && *v ? v : "-"; }

static void flags_str(char **f, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; f && f[i]; i++)
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? "," : "", f[i]);
	if (!buf[0])
		snprintf(buf, size, "-");
}

static void blkid_str(const struct inv_blkid *b, char *buf, size_t size)
{
	if (!b->probed)
		snprintf(buf, size, "(not probed)");
	else if (b->ambivalent)
		snprintf(buf, size, "AMBIVALENT: several signatures");
	else
		snprintf(buf, size, "%s%s%s%s%s%s%s", s(b->type), b->label ? " label=" : "",
			 b->label ? b->label : "", b->uuid ? " uuid=" : "", b->uuid ? b->uuid : "",
			 b->pttype && !b->type ? " pt=" : "", b->pttype && !b->type ? b->pttype : "");
}

void inventory_print_human(FILE *f, const struct inventory *inv)
{
	char a[32], b[32], c[32], line[512];
	fprintf(f, "Machine: %u CPU%s (%s), %s memory\n\n", inv->cpus, inv->cpus == 1 ? "" : "s",
		s(inv->cpu_model), format_bytes(inv->mem_bytes, a, sizeof(a)));
	fprintf(f, "%-12s %-10s %-6s %-24s %-20s %s\n", "DISK", "SIZE", "TRAN", "MODEL", "SERIAL",
		"NOTES");
	for (size_t i = 0; i < inv->n_disks; i++) {
		const struct inv_disk *d = &inv->disks[i];
		snprintf(line, sizeof(line), "%u/%uB sectors%s%s%s%s%s%s", d->logical_sector,
			 d->physical_sector, d->rotational ? ", rotational" : "",
			 d->removable ? ", removable" : "", d->read_only ? ", read-only" : "",
			 d->boot_medium ? ", BOOT MEDIUM" : "", d->backing_file ? ", file " : "",
			 d->backing_file ? d->backing_file : "");
		fprintf(f, "%-12s %-10s %-6s %-24s %-20s %s\n", d->path,
			format_bytes(d->size, a, sizeof(a)), s(d->transport), s(d->model), s(d->serial),
			line);
		blkid_str(&d->blkid, line, sizeof(line));
		fprintf(f, "  table: %s%s%s   blkid: %s\n", s(d->ptable),
			d->ptable_error ? " — " : "", d->ptable_error ? d->ptable_error : "", line);
		if (d->n_parts)
			fprintf(f, "  %3s %-12s %-12s %-10s %-9s %-16s %-14s %s\n", "#", "START", "END",
				"SIZE", "TYPE", "NAME", "FLAGS", "BLKID");
		for (size_t k = 0; k < d->n_parts; k++) {
			const struct inv_partition *p = &d->parts[k];
			char fl[128], bl[256];
			flags_str(p->flags, fl, sizeof(fl));
			blkid_str(&p->blkid, bl, sizeof(bl));
			fprintf(f, "  %3d %-12s %-12s %-10s %-9s %-16s %-14s %s\n", p->number,
				format_bytes(p->start, a, sizeof(a)), format_bytes(p->end + 1, b, sizeof(b)),
				format_bytes(p->size, c, sizeof(c)), p->type, s(p->name), fl, bl);
		}
	}
	for (size_t i = 0; i < inv->n_mds; i++) {
		const struct inv_md *m = &inv->mds[i];
		fprintf(f, "\nmd %s: %s, metadata %s, %s, members:", m->name, s(m->level),
			s(m->metadata_version), s(m->array_state));
		for (size_t k = 0; m->members && m->members[k]; k++)
			fprintf(f, " %s", m->members[k]);
		fputc('\n', f);
	}
	if (inv->n_dms)
		fputc('\n', f);
	for (size_t i = 0; i < inv->n_dms; i++) {
		const struct inv_dm *d = &inv->dms[i];
		fprintf(f, "dm %s (uuid %s):", d->name, s(d->uuid));
		for (size_t k = 0; k < d->n_targets; k++)
			fprintf(f, " %s", d->targets[k].type);
		fputc('\n', f);
	}
	fprintf(f, "\n%-22s %-8s %-34s %-6s %-16s %s\n", "SYSTEM ON", "FS", "OS", "ARCH", "HOSTNAME",
		"USED");
	if (!inv->n_oses)
		fprintf(f, "(no Linux root filesystem found)\n");
	for (size_t i = 0; i < inv->n_oses; i++) {
		const struct inv_os *o = &inv->oses[i];
		char where[300];
		if (o->partition)
			snprintf(where, sizeof(where), "%s #%d", o->disk, o->partition);
		else
			snprintf(where, sizeof(where), "%s", o->disk);
		snprintf(line, sizeof(line), "%s / %s", format_bytes(o->used_bytes, a, sizeof(a)),
			 format_bytes(o->total_bytes, b, sizeof(b)));
		fprintf(f, "%-22s %-8s %-34s %-6s %-16s %s\n", where, s(o->fstype),
			o->pretty_name ? o->pretty_name : s(o->id), s(o->arch), s(o->hostname), line);
		fprintf(f, "  network: %s %s%s%s; fstab: %zu entr%s\n", s(o->net.iface), s(o->net.ip),
			o->net.gw ? " gw " : "", o->net.gw ? o->net.gw : "", o->n_fstab,
			o->n_fstab == 1 ? "y" : "ies");
	}
	fprintf(f, "\n%-16s %-18s %-12s %-6s %-8s %s\n", "NIC", "MAC", "DRIVER", "STATE", "SPEED",
		"ADDRESSES");
	for (size_t i = 0; i < inv->n_nics; i++) {
		const struct inv_nic *n = &inv->nics[i];
		char sp[24] = "-";
		if (n->speed_mbps > 0)
			snprintf(sp, sizeof(sp), "%ldM", n->speed_mbps);
		line[0] = '\0';
		for (size_t k = 0; n->addrs && n->addrs[k]; k++)
			snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s%s", k ? " " : "",
				 n->addrs[k]);
		fprintf(f, "%-16s %-18s %-12s %-6s %-8s %s\n", n->name, s(n->mac),
			n->driver ? n->driver : n->is_virtual ? "(virtual)" : "-", s(n->operstate), sp,
			s(line));
	}
}
