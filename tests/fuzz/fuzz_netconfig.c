/* A source's network configuration as text: every parser of
 * lib/netconfig.h on the same input, then the results combined the way
 * inspect.c and the inventory combine them. */
#include "fuzz.h"
#include "log.h"
#include "netconfig.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	log_init("fuzz_netconfig");
	return 0;
}

static void check(const struct net_config *n, const char *parser)
{
	const char *f[] = { n->iface, n->ip, n->gw, n->nameserver, n->searchdomain };
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i])
			(void)strlen(f[i]);   /* ASan: a real string */
	if (n->iface && !*n->iface)
		fuzz_die("%s: empty interface name", parser);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	/* The ifcfg file name: the first line, when short. */
	char name[64] = "ifcfg-eth0";
	const char *nl = memchr(text, '\n', size);
	if (nl && (size_t)(nl - text) < sizeof(name)) {
		memcpy(name, text, (size_t)(nl - text));
		name[nl - text] = '\0';
	}
	struct net_config a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	if (netcfg_parse_ifupdown(text, &a) == 0)
		check(&a, "ifupdown");
	if (netcfg_parse_netplan(text, &b) == 0)
		check(&b, "netplan");
	if (netcfg_parse_ifcfg(name, text, &c) == 0)
		check(&c, "ifcfg");
	if (netcfg_parse_nmconnection(text, &d) == 0)
		check(&d, "nmconnection");
	netcfg_take_better(&a, &b);
	netcfg_take_better(&a, &c);
	netcfg_take_better(&a, &d);
	check(&a, "take_better");
	net_config_free(&a);

	char **src = netcfg_ifupdown_sources(text);
	for (size_t i = 0; src && src[i]; i++)
		(void)strlen(src[i]);
	netcfg_strv_free(src);
	char *ns = NULL, *search = NULL;
	netcfg_parse_resolv(text, &ns, &search);
	free(ns);
	free(search);
	free(hostname_from_etc_hostname(text));
	free(hostname_from_sysconfig(text));
	free(gateway_from_sysconfig(text));
	int p = netmask_to_prefix(name);
	/* A bare number is a prefix length (IPv6 too: up to 128); a dotted
	 * netmask gives at most 32. */
	if (p < -1 || p > (strchr(name, '.') ? 32 : 128))
		fuzz_die("netmask '%s' gives prefix %d", name, p);
	free(text);
	return 0;
}
