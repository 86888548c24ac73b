/* p2v.ip and p2v.iface: parsed and checked now; bringing the network up is
 * still the boot medium's job, so p2v run only says what it would do. */
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

#endif
