#include "run_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "remote.h"
#include "util.h"

/* 4 or 6 for a literal address of that family, 0 otherwise. */
static int family_of(const char *s)
{
	unsigned char buf[16];
	if (inet_pton(AF_INET, s, buf) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, buf) == 1)
		return 6;
	return 0;
}

/* Copy field [s, end) into buf; false when it does not fit. */
static bool take(const char *s, const char *end, char *buf, size_t cap)
{
	size_t len = (size_t)(end - s);
	if (len >= cap)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return true;
}

static int parse_static(const char *ip, struct run_net *n)
{
	const char *slash = strchr(ip, '/');
	const char *c1 = strchr(ip, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	const char *end_cidr = c1 ? c1 : ip + strlen(ip);
	char cidr[8];
	uint64_t prefix;
	if (!slash || slash > end_cidr || !take(ip, slash, n->addr, sizeof(n->addr)) ||
	    !take(slash + 1, end_cidr, cidr, sizeof(cidr))) {
		log_error("p2v.ip=%s: expected dhcp or ADDR/CIDR[,GW[,DNS]]", ip);
		return -EINVAL;
	}
	int fam = family_of(n->addr);
	if (!fam || parse_u64(cidr, 0, fam == 4 ? 32 : 128, &prefix) < 0) {
		log_error("p2v.ip=%s: '%s/%s' is not an address with a prefix length", ip, n->addr, cidr);
		return -EINVAL;
	}
	n->prefix = (int)prefix;
	if (c1 && (!take(c1 + 1, c2 ? c2 : c1 + 1 + strlen(c1 + 1), n->gw, sizeof(n->gw)) ||
		   (*n->gw && family_of(n->gw) != fam))) {
		log_error("p2v.ip=%s: the gateway is not an IPv%d address", ip, fam);
		return -EINVAL;
	}
	if (c2 && (!take(c2 + 1, c2 + 1 + strlen(c2 + 1), n->dns, sizeof(n->dns)) ||
		   !family_of(n->dns))) {
		log_error("p2v.ip=%s: the name server is not an IP address", ip);
		return -EINVAL;
	}
	return 0;
}

int run_net_parse(const char *ip, const char *iface, struct run_net *n)
{
	memset(n, 0, sizeof(*n));
	int rc = 0;
	if (iface) {
		size_t len = strlen(iface);
		bool ok = len > 0 && len < sizeof(n->iface) && strcmp(iface, ".") && strcmp(iface, "..");
		for (const char *p = iface; ok && *p; p++)
			ok = *p > ' ' && *p != '/' && *p != ':' && *p != 0x7f;
		if (!ok) {
			log_error("p2v.iface=%s: not a network interface name", iface);
			rc = -EINVAL;
		} else {
			memcpy(n->iface, iface, len + 1);
		}
	}
	if (!ip)
		return rc;
	n->set = true;
	if (!strcmp(ip, "dhcp"))
		n->dhcp = true;
	else if (parse_static(ip, n) < 0)
		rc = -EINVAL;
	return rc;
}

const char *run_net_describe(const struct run_net *n, char *buf, size_t cap)
{
	const char *on = *n->iface ? n->iface : "the first interface with a link";
	if (!n->set)
		snprintf(buf, cap, "leave the network as the boot system set it up%s%s",
			 *n->iface ? " (p2v.iface without p2v.ip: ignored) on " : "",
			 *n->iface ? n->iface : "");
	else if (n->dhcp)
		snprintf(buf, cap, "DHCP on %s", on);
	else
		snprintf(buf, cap, "%s/%d on %s%s%s%s%s", n->addr, n->prefix, on,
			 *n->gw ? ", default route via " : "", n->gw,
			 *n->dns ? ", name server " : "", n->dns);
	return buf;
}

bool run_net_in_subnet(const char *addr, int prefix, const char *gw)
{
	unsigned char a[16], g[16];
	int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
	int bits = fam == AF_INET ? 32 : 128;
	if (inet_pton(fam, addr, a) != 1 || inet_pton(fam, gw, g) != 1 || prefix < 0 || prefix > bits)
		return false;
	int full = prefix / 8, rest = prefix % 8;
	if (memcmp(a, g, (size_t)full))
		return false;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return rest == 0 || (a[full] & mask) == (g[full] & mask);
}

void run_net_static_cmds(const struct run_net *n, const char *iface, struct run_net_cmds *out)
{
	memset(out, 0, sizeof(*out));
	bool v6 = strchr(n->addr, ':') != NULL;
	snprintf(out->cidr, sizeof(out->cidr), "%s/%d", n->addr, n->prefix);
	const char *addr[] = { "ip", v6 ? "-6" : "-4", "addr", "replace", out->cidr, "dev", iface, NULL };
	const char *route[] = { "ip", v6 ? "-6" : "-4", "route", "replace", "default", "via", n->gw,
				"dev", iface, NULL, NULL };
	/* A gateway outside the subnet (a /32 with a hoster's router) is
	 * reachable only when the kernel is told it is on the link; IPv6's
	 * link-local gateways are on the link by definition. */
	if (!run_net_in_subnet(n->addr, n->prefix, n->gw) &&
	    !(v6 && !strncasecmp(n->gw, "fe80:", 5)))
		route[9] = "onlink";
	memcpy(out->argv[out->n++], addr, sizeof(addr));
	if (*n->gw)
		memcpy(out->argv[out->n++], route, sizeof(route));
}

size_t run_net_dhcp_argv(enum run_dhcp_client c, const char *iface, const char *run_dir,
			 struct run_net_dhcp *out)
{
	const char **argv = out->argv;
	size_t i = 0;
	snprintf(out->script, sizeof(out->script), "%s/udhcpc.script", run_dir);
	snprintf(out->lease, sizeof(out->lease), "%s/lease", run_dir);
	snprintf(out->pidfile, sizeof(out->pidfile), "%s/dhclient.pid", run_dir);
	snprintf(out->leases, sizeof(out->leases), "%s/dhclient.leases", run_dir);
	switch (c) {
	case RUN_DHCP_NONE:
		break;
	case RUN_DHCP_BUSYBOX:
		argv[i++] = "busybox";
		/* fall through */
	case RUN_DHCP_UDHCPC:
		argv[i++] = "udhcpc";
		argv[i++] = "-i";
		argv[i++] = iface;
		argv[i++] = "-f";   /* stay in front: quit (-q) or fail (-n), never daemonize */
		argv[i++] = "-n";
		argv[i++] = "-q";
		argv[i++] = "-t";
		argv[i++] = RUN_DHCP_TRIES;
		argv[i++] = "-T";
		argv[i++] = "3";
		argv[i++] = "-s";
		argv[i++] = out->script;
		break;
	case RUN_DHCP_DHCLIENT:
		argv[i++] = "dhclient";
		argv[i++] = "-1";
		argv[i++] = "-pf";
		argv[i++] = out->pidfile;
		argv[i++] = "-lf";
		argv[i++] = out->leases;
		argv[i++] = iface;
		break;
	}
	argv[i] = NULL;
	return i;
}

/* The lease's variables are the DHCP server's words: p2v checks each one as
 * an address before it uses it, so the script only passes them on. */
const char run_net_udhcpc_script[] =
	"#!/bin/sh\n"
	"# Written by p2v run: hand udhcpc's lease to p2v, which applies it.\n"
	"case \"$1\" in\n"
	"bound|renew)\n"
	"\t{\n"
	"\t\tprintf 'ip=%s\\n' \"$ip\"\n"
	"\t\tprintf 'mask=%s\\n' \"$mask\"\n"
	"\t\tprintf 'subnet=%s\\n' \"$subnet\"\n"
	"\t\tprintf 'router=%s\\n' \"$router\"\n"
	"\t\tprintf 'dns=%s\\n' \"$dns\"\n"
	"\t} >\"$P2V_LEASE.tmp\" && mv -f \"$P2V_LEASE.tmp\" \"$P2V_LEASE\"\n"
	"\t;;\n"
	"esac\n"
	"exit 0\n";

/* The value of KEY=... on a line of its own, its first word, into buf. */
static bool lease_value(const char *text, const char *key, char *buf, size_t cap)
{
	size_t klen = strlen(key);
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (strncmp(l, key, klen) || l[klen] != '=')
			continue;
		const char *v = l + klen + 1;
		v += strspn(v, " \t");
		size_t len = strcspn(v, " \t\n");
		if (len == 0 || len >= cap)
			return false;
		memcpy(buf, v, len);
		buf[len] = '\0';
		return true;
	}
	return false;
}

/* A dotted netmask's prefix length, or -1 when its ones are not contiguous. */
static int mask_prefix(const char *mask)
{
	struct in_addr m;
	if (inet_pton(AF_INET, mask, &m) != 1)
		return -1;
	uint32_t v = ntohl(m.s_addr);
	int p = 0;
	while (p < 32 && (v & (0x80000000u >> p)))
		p++;
	return (uint32_t)(p ? 0xffffffffu << (32 - p) : 0) == v ? p : -1;
}

int run_net_parse_lease(const char *text, struct run_net *out)
{
	char mask[48], subnet[48];
	uint64_t prefix;
	memset(out, 0, sizeof(*out));
	out->set = out->dhcp = true;
	if (!lease_value(text, "ip", out->addr, sizeof(out->addr)) || family_of(out->addr) != 4) {
		log_error("the DHCP lease has no IPv4 address");
		return -EINVAL;
	}
	if (lease_value(text, "mask", mask, sizeof(mask)) && parse_u64(mask, 0, 32, &prefix) == 0)
		out->prefix = (int)prefix;
	else if (lease_value(text, "subnet", subnet, sizeof(subnet)) && mask_prefix(subnet) >= 0)
		out->prefix = mask_prefix(subnet);
	else {
		log_error("the DHCP lease for %s has no usable netmask", out->addr);
		return -EINVAL;
	}
	if (lease_value(text, "router", out->gw, sizeof(out->gw)) && family_of(out->gw) != 4) {
		log_warn("the DHCP lease's router '%s' is not an IPv4 address: no default route", out->gw);
		*out->gw = '\0';
	}
	if (lease_value(text, "dns", out->dns, sizeof(out->dns)) && !family_of(out->dns)) {
		log_warn("the DHCP lease's name server '%s' is not an IP address: ignored", out->dns);
		*out->dns = '\0';
	}
	return 0;
}

int run_net_resolv_conf(const char *dns, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "# written by p2v run\nnameserver %s\n", dns);
	return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}

bool run_net_candidate(const struct run_net_link *links, size_t n, size_t i)
{
	const struct run_net_link *l = &links[i];
	if (!l->ether || !strcmp(l->name, "lo"))
		return false;
	if (l->physical)
		return true;
	for (size_t j = 0; j < n; j++)
		if (links[j].ether && links[j].physical)
			return false;
	return true;
}

int run_net_choose(const struct run_net_link *links, size_t n)
{
	int best = -1;
	for (size_t i = 0; i < n; i++)
		if (run_net_candidate(links, n, i) && links[i].carrier &&
		    (best < 0 || strverscmp(links[i].name, links[best].name) < 0))
			best = (int)i;
	return best;
}

const char *run_net_argv_line(const char *const *argv, char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; argv[i] && len < cap; i++) {
		_cleanup_free_ char *q = strpbrk(argv[i], " \t\n'\"\\$`;&|<>*?()") || !*argv[i]
			? shell_quote(argv[i]) : NULL;
		int w = snprintf(buf + len, cap - len, "%s%s", i ? " " : "", q ? q : argv[i]);
		if (w < 0)
			break;
		len += (size_t)w;
	}
	return buf;
}
