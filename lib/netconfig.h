/* Reading a server's network configuration from the text of its files:
 * ifupdown, netplan, RHEL ifcfg, NetworkManager keyfiles, resolv.conf.
 * Pure string parsers so they can be tested without an archive; ct-import
 * reads them from a template, p2v inventory from a mounted root. */
#ifndef NETCONFIG_H
#define NETCONFIG_H

struct net_config {
	char *iface;         /* the source's primary interface (eth0, ens3, bond0 …) */
	char *ip;            /* "ADDR/PREFIX", "dhcp", or NULL when nothing was found */
	char *gw;
	char *nameserver;    /* space-separated */
	char *searchdomain;  /* space-separated */
};

void net_config_free(struct net_config *n);

/* Each parser fills out (zeroed by the caller) with the primary interface it
 * finds: loopback is skipped and an interface with a gateway is preferred.
 * Fields stay NULL when nothing was found. 0 or -ENOMEM. */
int netcfg_parse_ifupdown(const char *text, struct net_config *out);
int netcfg_parse_netplan(const char *text, struct net_config *out);
/* file_name is the ifcfg file's name ("ifcfg-eth0"): DEVICE= falls back to it. */
int netcfg_parse_ifcfg(const char *file_name, const char *text, struct net_config *out);
int netcfg_parse_nmconnection(const char *text, struct net_config *out);

/* The patterns of ifupdown "source" lines and the directories of
 * "source-directory" lines (the latter with "/" "*" appended), as written;
 * a NULL-terminated malloc'd array (free with netcfg_strv_free), or NULL. */
char **netcfg_ifupdown_sources(const char *text);
void netcfg_strv_free(char **v);

/* resolv.conf: nameservers and search domains, space-separated (NULL if none). */
int netcfg_parse_resolv(const char *text, char **nameserver, char **search);

/* The host name in /etc/hostname text, or HOSTNAME= of /etc/sysconfig/network;
 * malloc'd, NULL when absent. */
char *hostname_from_etc_hostname(const char *text);
char *hostname_from_sysconfig(const char *text);
/* GATEWAY= of /etc/sysconfig/network (the RHEL global default route). */
char *gateway_from_sysconfig(const char *text);

/* What the interface files left open, from the other files a root carries
 * (each text may be NULL): the gateway from etc/sysconfig/network for a
 * static address, DNS from etc/resolv.conf, and *hostname (when still NULL)
 * from etc/hostname or else etc/sysconfig/network. 0 or -ENOMEM. */
int netcfg_fill_fallbacks(struct net_config *net, char **hostname, const char *sysnet,
			  const char *resolv, const char *etc_hostname);

/* Prefix length of a netmask ("255.255.255.0" or "24"), -1 if invalid. */
int netmask_to_prefix(const char *mask);

/* Keep the better of *best and *cand in *best (one with a gateway, then one
 * with an address, then the first), freeing the other. */
void netcfg_take_better(struct net_config *best, struct net_config *cand);

#endif
