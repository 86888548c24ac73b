/* ve.conf network keys: IP_ADDRESS (venet), NETIF (veth), NAMESERVER and
 * SEARCHDOMAIN into a container's net0 and DNS (rules in veconf_map.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "veconf_map.h"

#define BLANKS " \t"

struct netif_dev {
	char *ifname, *mac, *bridge, *host_ifname, *host_mac;
};

static bool ifname_ok(const char *s)
{
	size_t len = strlen(s);
	return len > 0 && len < 16 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == len;
}

static bool mac_ok(const char *s)
{
	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		bool colon = i % 3 == 2;
		if (colon ? s[i] != ':' : !strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	}
	return true;
}

/* One NETIF entry ("ifname=eth0,bridge=vmbr0,mac=..."), split in place. */
static int parse_netif_dev(struct veconf_map *m, const char *file, const struct veconf_entry *e,
			   char *s, struct netif_dev *d)
{
	*d = (struct netif_dev){ 0 };
	char *save = NULL;
	for (char *f = strtok_r(s, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		char *v = strchr(f, '=');
		if (!v)
			return veconf_map_fail(m, file, e, "\"%s\" in a NETIF entry is not name=value", f);
		*v++ = '\0';
		char **slot = !strcmp(f, "ifname")      ? &d->ifname
			      : !strcmp(f, "mac")         ? &d->mac
			      : !strcmp(f, "bridge")      ? &d->bridge
			      : !strcmp(f, "host_ifname") ? &d->host_ifname
			      : !strcmp(f, "host_mac")    ? &d->host_mac
							  : NULL;
		if (!slot) {
			/* vzctl skips what it does not know (mac_filter is host-side). */
			int r = veconf_map_note(m, "NETIF: %s=%s not mapped (host-side or unknown)", f, v);
			if (r < 0)
				return r;
			continue;
		}
		bool mac = slot == &d->mac || slot == &d->host_mac;
		if (mac ? !mac_ok(v) : !ifname_ok(v))
			return veconf_map_fail(m, file, e, "bad %s \"%s\" in a NETIF entry", f, v);
		*slot = v;
	}
	if (!d->ifname)
		return veconf_map_fail(m, file, e, "a NETIF entry without ifname");
	return 0;
}

static int map_netif(struct veconf_map *m, const char *file, const struct veconf_entry *e)
{
	_cleanup_free_ char *copy = strdup(e->value);
	_cleanup_free_ struct netif_dev *dev = NULL;
	if (!copy)
		return -ENOMEM;
	size_t n = 0, pick = 0;
	char *save = NULL;
	int r;
	for (char *t = strtok_r(copy, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
		struct netif_dev *grown = realloc(dev, (n + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		dev = grown;
		if ((r = parse_netif_dev(m, file, e, t, &dev[n])) < 0)
			return r;
		if (!strcmp(dev[n].ifname, "eth0") && strcmp(dev[pick].ifname, "eth0"))
			pick = n;
		n++;
	}
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (i != pick && (r = veconf_map_note(m, "NETIF: device %s not mapped: the container "
						      "gets one network device (net0 = %s)",
						      dev[i].ifname, dev[pick].ifname)) < 0)
			return r;
	const struct netif_dev *d = &dev[pick];
	if ((d->host_ifname || d->host_mac) &&
	    (r = veconf_map_note(m, "NETIF: %s's host side dropped (host_ifname=%s, host_mac=%s); "
				    "the new host names its own", d->ifname,
				 d->host_ifname ? d->host_ifname : "-", d->host_mac ? d->host_mac : "-")) < 0)
		return r;
	m->net0.veth = true;
	if (!(m->net0.name = strdup(d->ifname)) || (d->mac && !(m->net0.hwaddr = strdup(d->mac))) ||
	    (d->bridge && !(m->net0.bridge = strdup(d->bridge))))
		return -ENOMEM;
	return 0;
}

/* "ADDR" or "ADDR/PREFIX" → canonical "ADDR/PREFIX" in out; the family in
 * *af. NULL reason on success. */
static const char *parse_addr(const char *tok, int *af, char *out, size_t size)
{
	char addr[INET6_ADDRSTRLEN + 8];
	unsigned char bin[16];
	const char *slash = strchr(tok, '/');
	size_t len = slash ? (size_t)(slash - tok) : strlen(tok);
	if (len >= sizeof(addr))
		return "not an address";
	memcpy(addr, tok, len);
	addr[len] = '\0';
	*af = strchr(addr, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(*af, addr, bin) != 1)
		return "not an address";
	uint64_t max = *af == AF_INET ? 32 : 128, prefix = max;
	if (slash && parse_u64(slash + 1, 0, max, &prefix) < 0)
		return "bad prefix length";
	char canon[INET6_ADDRSTRLEN];
	inet_ntop(*af, bin, canon, sizeof(canon));
	snprintf(out, size, "%s/%u", canon, (unsigned)prefix);
	return NULL;
}

static int map_ip(struct veconf_map *m, const char *file, const struct veconf_entry *e)
{
	_cleanup_free_ char *copy = strdup(e->value);
	if (!copy)
		return -ENOMEM;
	char *save = NULL;
	int r;
	for (char *t = strtok_r(copy, BLANKS, &save); t; t = strtok_r(NULL, BLANKS, &save)) {
		/* vzctl skips the unspecified addresses */
		if (!strcmp(t, "0.0.0.0") || !strcmp(t, "::") || !strcmp(t, "::0"))
			continue;
		char buf[INET6_ADDRSTRLEN + 8];
		int af;
		const char *why = parse_addr(t, &af, buf, sizeof(buf));
		if (why)
			return veconf_map_fail(m, file, e, "\"%s\": %s", t, why);
		char **slot = af == AF_INET ? &m->net0.ip : &m->net0.ip6;
		if (*slot) {
			if ((r = veconf_map_note(m, "IP_ADDRESS: %s not mapped: net0 holds one IPv4 "
						    "and one IPv6 address", t)) < 0)
				return r;
			continue;
		}
		if (!(*slot = strdup(buf)))
			return -ENOMEM;
		m->net0.venet = true;
		if (!strchr(t, '/') &&
		    (r = veconf_map_note(m, "IP_ADDRESS: venet address %s has no prefix: net0 gets %s, "
					    "reachable through a gateway (--gw)", t, buf)) < 0)
			return r;
	}
	return 0;
}

int veconf_map_net(struct veconf_map *m, const char *file, const struct veconf_entry *ip,
		   const struct veconf_entry *netif)
{
	int r;
	if ((netif && (r = map_netif(m, file, netif)) < 0) || (ip && (r = map_ip(m, file, ip)) < 0))
		return r;
	m->has_net = m->net0.veth || m->net0.venet;
	if (!m->has_net)
		return 0;
	if (!m->net0.name && !(m->net0.name = strdup("eth0")))
		return -ENOMEM;
	if (m->net0.veth && m->net0.venet &&
	    (r = veconf_map_note(m, "venet addresses put on veth device %s; the guest's own "
				    "settings for it may differ", m->net0.name)) < 0)
		return r;
	return 0;
}

static bool domain_ok(const char *s)
{
	size_t len = strlen(s);
	return len <= 253 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == len;
}

/* Blank-separated list; "inherit" left out; each item checked. */
static int map_list(struct veconf_map *m, const char *file, const struct veconf_entry *e,
		    bool addresses, char **out)
{
	_cleanup_free_ char *copy = strdup(e->value);
	_cleanup_free_ char *joined = calloc(1, strlen(e->value) + 1);
	if (!copy || !joined)
		return -ENOMEM;
	char *save = NULL;
	int r;
	for (char *t = strtok_r(copy, BLANKS, &save); t; t = strtok_r(NULL, BLANKS, &save)) {
		if (!strcmp(t, "inherit")) {
			if ((r = veconf_map_note(m, "%s: inherit left out: the new host's resolver "
						    "settings apply", e->key)) < 0)
				return r;
			continue;
		}
		unsigned char bin[16];
		bool ok = addresses ? inet_pton(strchr(t, ':') ? AF_INET6 : AF_INET, t, bin) == 1
				    : domain_ok(t);
		if (!ok)
			return veconf_map_fail(m, file, e, "\"%s\" is not %s", t,
					       addresses ? "an IP address" : "a domain name");
		if (*joined)
			strcat(joined, " ");
		strcat(joined, t);
	}
	if (*joined) {
		*out = joined;
		joined = NULL;
	}
	return 0;
}

int veconf_map_dns(struct veconf_map *m, const char *file, const struct veconf_entry *ns,
		   const struct veconf_entry *sd)
{
	int r;
	if ((ns && (r = map_list(m, file, ns, true, &m->nameserver)) < 0) ||
	    (sd && (r = map_list(m, file, sd, false, &m->searchdomain)) < 0))
		return r;
	return 0;
}
