#include "run_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
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
		snprintf(buf, cap, "would leave the network as the boot system set it up%s%s",
			 *n->iface ? " (p2v.iface without p2v.ip: ignored) on " : "",
			 *n->iface ? n->iface : "");
	else if (n->dhcp)
		snprintf(buf, cap, "would run DHCP on %s", on);
	else
		snprintf(buf, cap, "would set %s/%d on %s%s%s%s%s", n->addr, n->prefix, on,
			 *n->gw ? ", default route via " : "", n->gw,
			 *n->dns ? ", name server " : "", n->dns);
	return buf;
}
