/* ve.conf → container values; resources, the unmapped list (veconf_map.h). */
#include "veconf_map.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "str_list.h"
#include "util.h"

/* Keys with no meaning for an LXC container, and why. */
static const struct {
	const char *key, *why;
} known[] = {
	{ "VE_ROOT", "ignored: mount point on the OpenVZ host" },
	{ "VE_PRIVATE", "ignored: private area path on the OpenVZ host" },
	{ "VE_LAYOUT", "ignored: OpenVZ storage layout (simfs/ploop)" },
	{ "OSTEMPLATE", "ignored: template the container was created from" },
	{ "ORIGIN_SAMPLE", "ignored: sample config the container was created from" },
	{ "DISK_QUOTA", "ignored: simfs quota switch; the root volume has a size instead" },
	{ "DISKINODES", "ignored: simfs inode quota" },
	{ "QUOTATIME", "ignored: simfs quota grace time" },
	{ "QUOTAUGIDLIMIT", "ignored: simfs second-level quota" },
	{ "NETFILTER", "ignored: OpenVZ netfilter module selection" },
	{ "IPTABLES", "ignored: OpenVZ netfilter module selection" },
	{ "MEMINFO", "ignored: OpenVZ /proc/meminfo emulation; LXC uses lxcfs" },
	{ "VM_OVERCOMMIT", "ignored: UBC privvmpages factor" },
	{ "KMEMSIZE", "ignored: UBC limit, no LXC equivalent" },
	{ "LOCKEDPAGES", "ignored: UBC limit, no LXC equivalent" },
	{ "SHMPAGES", "ignored: UBC limit, no LXC equivalent" },
	{ "OOMGUARPAGES", "ignored: UBC limit, no LXC equivalent" },
	{ "NUMPROC", "ignored: UBC limit, no LXC equivalent" },
	{ "AVNUMPROC", "ignored: UBC limit, no LXC equivalent" },
	{ "NUMTCPSOCK", "ignored: UBC limit, no LXC equivalent" },
	{ "NUMOTHERSOCK", "ignored: UBC limit, no LXC equivalent" },
	{ "NUMFLOCK", "ignored: UBC limit, no LXC equivalent" },
	{ "NUMPTY", "ignored: UBC limit, no LXC equivalent" },
	{ "NUMSIGINFO", "ignored: UBC limit, no LXC equivalent" },
	{ "NUMFILE", "ignored: UBC limit, no LXC equivalent" },
	{ "NUMIPTENT", "ignored: UBC limit, no LXC equivalent" },
	{ "TCPSNDBUF", "ignored: UBC limit, no LXC equivalent" },
	{ "TCPRCVBUF", "ignored: UBC limit, no LXC equivalent" },
	{ "OTHERSOCKBUF", "ignored: UBC limit, no LXC equivalent" },
	{ "DGRAMRCVBUF", "ignored: UBC limit, no LXC equivalent" },
	{ "DCACHESIZE", "ignored: UBC limit, no LXC equivalent" },
};

int veconf_map_note(struct veconf_map *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = str_list_vappendf(&m->notes, &m->n_notes, fmt, ap);
	va_end(ap);
	return rc;
}

int veconf_map_fail(struct veconf_map *m, const char *file, const struct veconf_entry *e,
		    const char *fmt, ...)
{
	char why[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(m->error, sizeof(m->error), "%s:%u: %s: %s", file, e->line, e->key, why);
	log_error("%s", m->error);
	return -EINVAL;
}

static int add_unmapped(struct veconf_map *m, const struct veconf_entry *e, const char *why)
{
	struct veconf_item *grown = realloc(m->unmapped, (m->n_unmapped + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	m->unmapped = grown;
	struct veconf_item *it = &m->unmapped[m->n_unmapped];
	*it = (struct veconf_item){ .key = strdup(e->key), .value = strdup(e->value),
				    .why = why, .line = e->line };
	if (!it->key || !it->value) {
		free(it->key);
		free(it->value);
		return -ENOMEM;
	}
	m->n_unmapped++;
	return 0;
}

#define PAIR_SYNTAX "expected barrier[:limit] of N, N with K/M/G/T/P/B, or unlimited"

/* The barrier:limit of key in unit, if present; *e NULL when absent. */
static int get_pair(struct veconf_map *m, const struct veconf *c, const char *key,
		    enum veconf_unit unit, const struct veconf_entry **e, struct veconf_pair *p)
{
	*e = veconf_find(c, key);
	if (!*e)
		return 0;
	if (veconf_parse_pair((*e)->value, unit, p) < 0)
		return veconf_map_fail(m, c->file, *e, PAIR_SYNTAX ", got \"%s\"", (*e)->value);
	return 0;
}

/* Pages to MiB, rounded up; 0 for unlimited or zero. */
static int pages_mb(struct veconf_map *m, const char *file, const struct veconf_entry *e,
		    uint64_t pages, unsigned *mb)
{
	*mb = 0;
	if (pages == VECONF_UNLIMITED || pages == 0)
		return 0;
	uint64_t v = (pages + 255) / 256;
	if (v > UINT_MAX)
		return veconf_map_fail(m, file, e, "%llu pages is more memory than a container can have",
				       (unsigned long long)pages);
	*mb = (unsigned)v;
	return 0;
}

/* Memory and swap; marks the keys used. */
static int map_memory(struct veconf_map *m, const struct veconf *c, bool *used)
{
	const struct veconf_entry *phys, *swap, *vmguar, *privvm;
	struct veconf_pair p_phys, p_swap, p_vmguar, p_privvm;
	int r;
	if ((r = get_pair(m, c, "PHYSPAGES", VECONF_PAGES, &phys, &p_phys)) < 0 ||
	    (r = get_pair(m, c, "SWAPPAGES", VECONF_PAGES, &swap, &p_swap)) < 0 ||
	    (r = get_pair(m, c, "VMGUARPAGES", VECONF_PAGES, &vmguar, &p_vmguar)) < 0 ||
	    (r = get_pair(m, c, "PRIVVMPAGES", VECONF_PAGES, &privvm, &p_privvm)) < 0)
		return r;

	/* Proxmox: PHYSPAGES limit when there is SWAPPAGES (vswap), else the
	 * VMGUARPAGES barrier. Where that finds nothing, try the other one,
	 * then the PRIVVMPAGES barrier. */
	struct {
		const struct veconf_entry *e;
		uint64_t pages;
		enum veconf_mem_source source;
	} order[3] = {
		{ phys, phys ? p_phys.limit : 0, VECONF_MEM_PHYSPAGES },
		{ vmguar, vmguar ? p_vmguar.barrier : 0, VECONF_MEM_VMGUARPAGES },
		{ privvm, privvm ? p_privvm.barrier : 0, VECONF_MEM_PRIVVMPAGES },
	};
	if (!swap) {
		typeof(order[0]) first = order[0];
		order[0] = order[1];
		order[1] = first;
	}
	unsigned mb = 0;
	for (size_t i = 0; i < ARRAY_SIZE(order) && !mb; i++) {
		if (!order[i].e)
			continue;
		if ((r = pages_mb(m, c->file, order[i].e, order[i].pages, &mb)) < 0)
			return r;
		if (mb) {
			m->mem_source = order[i].source;
			used[order[i].e - c->entry] = true;
		}
	}
	if (!mb) {
		mb = VECONF_DEFAULT_MEMORY_MB;
		if ((r = veconf_map_note(m, "memory: no finite PHYSPAGES, VMGUARPAGES or PRIVVMPAGES; "
					    "%u MiB (Proxmox's default)", mb)) < 0)
			return r;
	}
	m->memory_mb = mb;

	if (swap && (r = pages_mb(m, c->file, swap, p_swap.limit, &m->swap_mb)) < 0)
		return r;
	if (swap && (m->swap_mb || p_swap.limit == 0))
		used[swap - c->entry] = true;
	return 0;
}

static int map_disk(struct veconf_map *m, const struct veconf *c, bool *used)
{
	const struct veconf_entry *e;
	struct veconf_pair p;
	int r = get_pair(m, c, "DISKSPACE", VECONF_BLOCKS, &e, &p);
	if (r < 0 || !e || p.barrier == VECONF_UNLIMITED || p.barrier == 0)
		return r;
	uint64_t gb = (p.barrier + (1u << 20) - 1) >> 20;
	if (gb > UINT_MAX)
		return veconf_map_fail(m, c->file, e, "%llu KiB is too large a disk",
				       (unsigned long long)p.barrier);
	m->disk_gb = (unsigned)gb;
	used[e - c->entry] = true;
	return 0;
}

static int map_number(struct veconf_map *m, const struct veconf *c, bool *used, const char *key,
		      uint64_t max, unsigned *out, bool *set)
{
	const struct veconf_entry *e = veconf_find(c, key);
	if (!e)
		return 0;
	uint64_t v;
	if (e->value[0] && strchr(e->value, '%') && e->value[strlen(e->value) - 1] == '%')
		return veconf_map_fail(m, c->file, e, "\"%s\" is a share of all the host's CPUs; "
				       "give a number (100 = one CPU)", e->value);
	if (parse_u64(e->value, 0, max, &v) < 0)
		return veconf_map_fail(m, c->file, e, "expected a whole number up to %llu, got \"%s\"",
				       (unsigned long long)max, e->value);
	*out = (unsigned)v;
	if (set)
		*set = true;
	used[e - c->entry] = true;
	return 0;
}

static int map_simple(struct veconf_map *m, const struct veconf *c, bool *used)
{
	const struct veconf_entry *e = veconf_find(c, "HOSTNAME");
	int r;
	if (e && e->value[0]) {
		size_t len = strlen(e->value);
		if (len > 253 || strspn(e->value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					"0123456789.-") != len || e->value[0] == '-' || e->value[0] == '.')
			return veconf_map_fail(m, c->file, e, "\"%s\" is not a host name", e->value);
		if (!(m->hostname = strdup(e->value)))
			return -ENOMEM;
		used[e - c->entry] = true;
	}
	if ((e = veconf_find(c, "ONBOOT"))) {
		if (strcmp(e->value, "yes") != 0 && strcmp(e->value, "no") != 0)
			return veconf_map_fail(m, c->file, e, "expected yes or no, got \"%s\"", e->value);
		m->onboot = strcmp(e->value, "yes") == 0;
		used[e - c->entry] = true;
	}
	if ((r = map_number(m, c, used, "CPUS", 8192, &m->cores, NULL)) < 0 ||
	    (r = map_number(m, c, used, "CPUUNITS", 500000, &m->cpuunits, &m->has_cpuunits)) < 0 ||
	    (r = map_number(m, c, used, "CPULIMIT", 819200, &m->cpulimit_pct, &m->has_cpulimit)) < 0)
		return r;
	return 0;
}

static const char *why_unmapped(const struct veconf_entry *e)
{
	static const char *const memory[] = { "PHYSPAGES", "SWAPPAGES", "VMGUARPAGES", "PRIVVMPAGES" };
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (strcmp(known[i].key, e->key) == 0)
			return known[i].why;
	for (size_t i = 0; i < ARRAY_SIZE(memory); i++)
		if (strcmp(memory[i], e->key) == 0)
			return "not mapped: memory was taken from another key, or this one is unlimited";
	if (strcmp(e->key, "DISKSPACE") == 0)
		return "not mapped: unlimited or zero, no size to carry over";
	return "not mapped: no equivalent in the container's configuration";
}

int veconf_map(const struct veconf *c, struct veconf_map *m)
{
	*m = (struct veconf_map){ .onboot = -1 };
	_cleanup_free_ bool *used = calloc(c->n + 1, sizeof(*used));
	if (!used)
		return -ENOMEM;
	int r;
	if ((r = map_memory(m, c, used)) < 0 || (r = map_disk(m, c, used)) < 0 ||
	    (r = map_simple(m, c, used)) < 0)
		goto fail;
	const struct veconf_entry *ip = veconf_find(c, "IP_ADDRESS");
	const struct veconf_entry *netif = veconf_find(c, "NETIF");
	const struct veconf_entry *ns = veconf_find(c, "NAMESERVER");
	const struct veconf_entry *sd = veconf_find(c, "SEARCHDOMAIN");
	if ((r = veconf_map_net(m, c->file, ip, netif)) < 0 ||
	    (r = veconf_map_dns(m, c->file, ns, sd)) < 0)
		goto fail;
	/* These are mapped even when they say "nothing" (no address, inherit). */
	const struct veconf_entry *net_keys[] = { ip, netif, ns, sd };
	for (size_t i = 0; i < ARRAY_SIZE(net_keys); i++)
		if (net_keys[i])
			used[net_keys[i] - c->entry] = true;

	for (size_t i = 0; i < c->n; i++) {
		const struct veconf_entry *e = &c->entry[i];
		if (e->replaced &&
		    (r = veconf_map_note(m, "%s set %u times (lines %u to %u); the last one counts",
					 e->key, e->replaced + 1, e->first_line, e->line)) < 0)
			goto fail;
		if (!used[i] && (r = add_unmapped(m, e, why_unmapped(e))) < 0)
			goto fail;
	}
	return 0;
fail:;
	char error[sizeof(m->error)];
	memcpy(error, m->error, sizeof(error));
	veconf_map_free(m);
	memcpy(m->error, error, sizeof(error));
	return r;
}

void veconf_map_free(struct veconf_map *m)
{
	free(m->hostname);
	free(m->net0.name);
	free(m->net0.hwaddr);
	free(m->net0.bridge);
	free(m->net0.ip);
	free(m->net0.ip6);
	free(m->nameserver);
	free(m->searchdomain);
	for (size_t i = 0; i < m->n_unmapped; i++) {
		free(m->unmapped[i].key);
		free(m->unmapped[i].value);
	}
	free(m->unmapped);
	str_list_free(m->notes, m->n_notes);
	*m = (struct veconf_map){ .onboot = -1 };
}

void veconf_map_to_spec(const struct veconf_map *m, struct ct_spec *spec)
{
	if (m->hostname)
		spec->hostname = m->hostname;
	if (m->memory_mb)
		spec->memory_mb = m->memory_mb;
	if (m->disk_gb)
		spec->disk_gb = m->disk_gb;
	if (m->cores)
		spec->cores = m->cores;
	if (m->net0.bridge)
		spec->bridge = m->net0.bridge;
	if (m->net0.ip)
		spec->ip = m->net0.ip;
	if (m->nameserver)
		spec->nameserver = m->nameserver;
	if (m->searchdomain)
		spec->searchdomain = m->searchdomain;
}

const char *veconf_cpulimit_str(unsigned pct, char *buf, size_t size)
{
	unsigned whole = pct / 100, frac = pct % 100;
	if (!frac)
		snprintf(buf, size, "%u", whole);
	else if (frac % 10 == 0)
		snprintf(buf, size, "%u.%u", whole, frac / 10);
	else
		snprintf(buf, size, "%u.%02u", whole, frac);
	return buf;
}
