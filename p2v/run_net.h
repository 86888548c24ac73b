/* p2v.ip and p2v.iface: parsing, and the pure part of bringing the network
 * up (which interface, which commands, what a DHCP lease said, what goes into
 * resolv.conf), kept apart from run_net_up.c, which runs them, so each piece
 * is unit-tested without touching a network. */
#ifndef P2V_RUN_NET_H
#define P2V_RUN_NET_H

#include <stdbool.h>
#include <stddef.h>

struct run_net {
	bool set;            /* p2v.ip was given */
	bool dhcp;
	char addr[48];       /* IPv4 or IPv6 address without the prefix */
	int prefix;
	char gw[48], dns[48];  /* "" when not given */
	char iface[16];      /* "" when not given */
};

/* ip: "dhcp" or "ADDR/CIDR[,GW[,DNS]]" (NULL: not given); iface: an
 * interface name (NULL: not given). 0, or -EINVAL after logging which key
 * was wrong. */
int run_net_parse(const char *ip, const char *iface, struct run_net *out);

/* "would run DHCP on eth0" and the like, into buf. */
const char *run_net_describe(const struct run_net *n, char *buf, size_t cap);

/* ---- the commands, as argv lists (NULL-terminated) ---- */

#define RUN_NET_MAX_CMDS 2
#define RUN_NET_MAX_ARGS 14

struct run_net_cmds {
	size_t n;
	const char *argv[RUN_NET_MAX_CMDS][RUN_NET_MAX_ARGS];
	char cidr[64];       /* "ADDR/PREFIX", which argv points into */
};

/* The static setup of n (addr, prefix, gw) on iface, which is up: the
 * address, the default route (onlink when the gateway lies outside the address's
 * subnet, as some hosters' /32 setups need). `replace`, not `add`, so a
 * second run after p2v.fail=shell does not fail on what the first set.
 * The argv point into n, iface and out. */
void run_net_static_cmds(const struct run_net *n, const char *iface, struct run_net_cmds *out);

/* Whether gw lies inside addr/prefix (both of the same family). */
bool run_net_in_subnet(const char *addr, int prefix, const char *gw);

enum run_dhcp_client { RUN_DHCP_NONE, RUN_DHCP_UDHCPC, RUN_DHCP_BUSYBOX, RUN_DHCP_DHCLIENT };

/* How many DISCOVERs udhcpc sends, 3 s apart: a switch port that has just
 * come up may hold traffic for 30 s while spanning tree listens. */
#define RUN_DHCP_TRIES "20"

struct run_net_dhcp {
	const char *argv[RUN_NET_MAX_ARGS];
	char script[256];    /* run_dir/udhcpc.script */
	char lease[256];     /* run_dir/lease: what the script hands back */
	char pidfile[256], leases[256];  /* dhclient's, in run_dir too */
};

/* The DHCP client's argv: udhcpc (or busybox udhcpc) asks once, quits when
 * it has a lease (-q) or when none came (-n), and calls out->script, which
 * hands the lease back to p2v; dhclient -1 applies its lease itself and
 * keeps its pid and lease files in run_dir, not in the rescue system's
 * /var/lib. The argv point into iface and out; returns the argument count
 * (0 for NONE). */
size_t run_net_dhcp_argv(enum run_dhcp_client c, const char *iface, const char *run_dir,
			 struct run_net_dhcp *out);

/* The udhcpc script p2v writes for itself: on bound/renew it writes the
 * lease's variables (ip, mask, subnet, router, dns) as KEY=VALUE lines to
 * the file named by $P2V_LEASE, through a temporary and mv. */
extern const char run_net_udhcpc_script[];

/* A lease file as that script writes it, into out: addr and prefix (from
 * mask, else the dotted subnet), gw (the first router), dns (the first
 * server). Values are checked as addresses; 0, or -EINVAL after logging what
 * was missing or wrong. */
int run_net_parse_lease(const char *text, struct run_net *out);

/* resolv.conf for one name server, into buf; -ENOSPC if it does not fit. */
int run_net_resolv_conf(const char *dns, char *buf, size_t cap);

/* ---- choosing the interface ---- */

struct run_net_link {
	const char *name;
	bool ether;          /* /sys/class/net/NAME/type is 1 (ARPHRD_ETHER) */
	bool physical;       /* it has a device (/sys/class/net/NAME/device) */
	bool carrier;        /* /sys/class/net/NAME/carrier is 1 */
};

/* Whether links[i] is a candidate for the automatic choice: Ethernet (no
 * loopback, tunnels or the like), and a NIC with a device unless there is
 * none: dummy0, ifb0 or a bond a module created have carrier or not, but
 * they never lead to the hypervisor; a container's veth is all there is. */
bool run_net_candidate(const struct run_net_link *links, size_t n, size_t i);

/* The index of the first candidate with carrier, in the kernel's natural
 * name order (eth2 before eth10), or -1. */
int run_net_choose(const struct run_net_link *links, size_t n);

/* argv as one line of shell words for the log, into buf. */
const char *run_net_argv_line(const char *const *argv, char *buf, size_t cap);

#endif
