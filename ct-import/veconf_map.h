/* From an OpenVZ ve.conf (veconf.h) to the values of an LXC container:
 * what Proxmox's converter (pve-container src/PVE/VZDump/ConvertOVZ.pm)
 * maps, the same way, plus what it ignores. Every key not mapped is listed,
 * never dropped silently. The table with reasons is doc/openvz.md.
 *
 * memory_mb  As Proxmox: with SWAPPAGES (vswap) the PHYSPAGES limit, without
 *            it (old UBC) the VMGUARPAGES barrier. Where that is absent,
 *            zero or unlimited (Proxmox then takes 512 MiB), the other of
 *            the two, then the PRIVVMPAGES barrier, and only then 512 MiB.
 *            Pages of 4 KiB, rounded up to whole MiB.
 * swap_mb    SWAPPAGES limit when finite (Proxmox stores swap + memory, an
 *            old quirk; pct's swap is swap alone, so we keep swap alone);
 *            0 without SWAPPAGES, as in Proxmox.
 * disk_gb    DISKSPACE barrier (soft limit, 1 KiB blocks), rounded up to
 *            whole GiB; 0 when absent or unlimited (the caller sizes it).
 * cores      CPUS (Proxmox put it into cpulimit; cores is what vzctl's
 *            --cpus means: how many CPUs the container sees); 0 if unset.
 * cpulimit   CPULIMIT percent (100 = one CPU) / 100; 0 = no limit.
 * cpuunits   CPUUNITS as is (vzctl 8..500000 fits pct's 0..500000).
 * hostname, nameserver, searchdomain ("inherit" left out: the host's
 *            resolv.conf then applies, as pct does when neither is set),
 * onboot     ONBOOT yes/no.
 * net0       NETIF (veth): the entry for eth0, else the first: name, mac,
 *            bridge; host_ifname/host_mac are host-side and dropped with a
 *            note. IP_ADDRESS (venet): the first IPv4 and the first IPv6
 *            become net0's ip/ip6. venet addresses carry no prefix: they
 *            were host routes (the container had no on-link neighbours and
 *            reached everything through the host), so an address without
 *            one gets /32 (/128): the same reachability, no guessed subnet
 *            that may be wrong or cover other hosts. With a gateway outside
 *            the prefix pct adds an on-link route to it, so net0 needs a gw
 *            (--gw) for the container to be reachable — noted.
 */
#ifndef CTI_VECONF_MAP_H
#define CTI_VECONF_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include "ct_spec.h"
#include "veconf.h"

#define VECONF_DEFAULT_MEMORY_MB 512

enum veconf_mem_source {
	VECONF_MEM_DEFAULT,
	VECONF_MEM_PHYSPAGES,
	VECONF_MEM_VMGUARPAGES,
	VECONF_MEM_PRIVVMPAGES,
};

/* A key the conversion does not carry over; why starts with "ignored:"
 * when the key has no meaning for an LXC container. */
struct veconf_item {
	char *key, *value;
	const char *why;
	unsigned line;
};

struct veconf_net {
	char *name;   /* interface in the container (NETIF ifname, else eth0) */
	char *hwaddr; /* NETIF mac, NULL: the backend chooses */
	char *bridge; /* NETIF bridge, NULL: not given */
	char *ip;     /* "ADDR/PREFIX" from IP_ADDRESS, NULL: none */
	char *ip6;
	bool veth;    /* from NETIF */
	bool venet;   /* IP_ADDRESS had addresses */
};

struct veconf_map {
	char *hostname;
	unsigned memory_mb, swap_mb, disk_gb, cores;
	enum veconf_mem_source mem_source;
	bool has_net;
	struct veconf_net net0;
	char *nameserver, *searchdomain; /* space-separated; NULL: not set */
	int onboot;                      /* 1, 0, or -1 when not set */
	bool has_cpuunits, has_cpulimit;
	unsigned cpuunits, cpulimit_pct;
	struct veconf_item *unmapped;
	size_t n_unmapped;
	char **notes; /* warnings for the report: duplicates, dropped parts */
	size_t n_notes;
	char error[256]; /* on failure: "FILE:LINE: KEY: reason" */
};

/* Map c into m (all strings owned by m). 0, -EINVAL for a bad value of a
 * mapped key (m->error says which; logged once), or -ENOMEM. */
int veconf_map(const struct veconf *c, struct veconf_map *m);
void veconf_map_free(struct veconf_map *m);

/* Point spec's fields at m's values where m has one: hostname, memory_mb,
 * disk_gb, cores, bridge, ip, nameserver, searchdomain. Others untouched. */
void veconf_map_to_spec(const struct veconf_map *m, struct ct_spec *spec);

/* cpulimit for pct: percent / 100 without trailing zeros ("1.5"). */
const char *veconf_cpulimit_str(unsigned pct, char *buf, size_t size);

/* For the parts of the mapping (veconf_net.c): add a note; record and log
 * an error "FILE:LINE: KEY: reason" and return -EINVAL. */
int veconf_map_note(struct veconf_map *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int veconf_map_fail(struct veconf_map *m, const char *file, const struct veconf_entry *e,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Network and DNS keys into m (veconf_net.c); NULL entries are absent. */
int veconf_map_net(struct veconf_map *m, const char *file, const struct veconf_entry *ip,
		   const struct veconf_entry *netif);
int veconf_map_dns(struct veconf_map *m, const char *file, const struct veconf_entry *ns,
		   const struct veconf_entry *sd);

#endif
