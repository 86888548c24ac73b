/* The network configuration parsers, on the texts real systems carry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "netconfig.h"

#define assert_str_or_null(a, b) \
	do { if (b) assert_string_equal(a, b); else assert_null(a); } while (0)

static void expect_net(const struct net_config *n, const char *iface, const char *ip,
		       const char *gw, const char *ns, const char *search)
{
	assert_str_or_null(n->iface, iface);
	assert_str_or_null(n->ip, ip);
	assert_str_or_null(n->gw, gw);
	assert_str_or_null(n->nameserver, ns);
	assert_str_or_null(n->searchdomain, search);
}

static void test_ifupdown_static(void **state)
{
	(void)state;
	const char *t =
		"# The loopback network interface\n"
		"auto lo\niface lo inet loopback\n\n"
		"allow-hotplug ens18\n"
		"iface ens18 inet static\n"
		"\taddress 192.0.2.10\n\tnetmask 255.255.255.0\n"
		"\tgateway 192.0.2.1\n"
		"\t# dns-* options are implemented by the resolvconf package\n"
		"\tdns-nameservers 192.0.2.53 \\\n\t 9.9.9.9\n"
		"\tdns-search example.com corp.example.com\n"
		"iface ens18 inet6 static\n\taddress 2001:db8::10/64\n\tgateway 2001:db8::1\n";
	struct net_config n = { 0 };
	assert_int_equal(netcfg_parse_ifupdown(t, &n), 0);
	expect_net(&n, "ens18", "192.0.2.10/24", "192.0.2.1", "192.0.2.53 9.9.9.9",
		   "example.com corp.example.com");
	net_config_free(&n);
}

static void test_ifupdown_prefers_gateway(void **state)
{
	(void)state;
	const char *t =
		"auto eth0\niface eth0 inet static\n  address 10.1.0.5/16\n"
		"auto eth1\niface eth1 inet static\n  address 203.0.113.7/28\n  gateway 203.0.113.1\n"
		"auto eth2\niface eth2 inet dhcp\n";
	struct net_config n = { 0 };
	assert_int_equal(netcfg_parse_ifupdown(t, &n), 0);
	expect_net(&n, "eth1", "203.0.113.7/28", "203.0.113.1", NULL, NULL);
	net_config_free(&n);
}

static void test_ifupdown_dhcp_bridge_manual(void **state)
{
	(void)state;
	/* The bridge carries the address; its port is manual and skipped. */
	const char *t =
		"iface lo inet loopback\n  dns-nameservers 1.1.1.1\n"
		"iface eno1 inet manual\n"
		"auto br0\niface br0 inet dhcp\n  bridge_ports eno1\n";
	struct net_config n = { 0 };
	assert_int_equal(netcfg_parse_ifupdown(t, &n), 0);
	expect_net(&n, "br0", "dhcp", NULL, "1.1.1.1", NULL);
	net_config_free(&n);

	/* Classful default for an address without netmask, as ifconfig does. */
	assert_int_equal(netcfg_parse_ifupdown("iface eth0 inet static\n address 10.0.0.2\n", &n), 0);
	expect_net(&n, "eth0", "10.0.0.2/8", NULL, NULL, NULL);
	net_config_free(&n);

	/* IPv6 only when there is no IPv4 stanza. */
	assert_int_equal(netcfg_parse_ifupdown("iface eth0 inet6 static\n address 2001:db8::5/64\n"
					       " gateway 2001:db8::1\n", &n), 0);
	expect_net(&n, "eth0", "2001:db8::5/64", "2001:db8::1", NULL, NULL);
	net_config_free(&n);

	assert_int_equal(netcfg_parse_ifupdown("auto lo\niface lo inet loopback\n", &n), 0);
	expect_net(&n, NULL, NULL, NULL, NULL, NULL);
}

static void test_ifupdown_sources(void **state)
{
	(void)state;
	char **v = netcfg_ifupdown_sources("auto lo\nsource /etc/network/interfaces.d/*\n"
					   "source-directory interfaces.d\nsource a b\n");
	assert_non_null(v);
	assert_string_equal(v[0], "/etc/network/interfaces.d/*");
	assert_string_equal(v[1], "interfaces.d/*");
	assert_string_equal(v[2], "a");
	assert_string_equal(v[3], "b");
	assert_null(v[4]);
	netcfg_strv_free(v);
	assert_null(netcfg_ifupdown_sources("auto lo\n"));
}

static void test_netplan(void **state)
{
	(void)state;
	const char *t =
		"# This file is generated from information provided by the datasource.\n"
		"network:\n"
		"    ethernets:\n"
		"        ens3:\n"
		"            addresses:\n"
		"            - 198.51.100.20/24\n"
		"            - 2001:db8:1::20/64\n"
		"            gateway4: 198.51.100.1\n"
		"            match:\n"
		"                macaddress: 52:54:00:12:34:56\n"
		"            nameservers:\n"
		"                addresses:\n"
		"                - 198.51.100.53\n"
		"                - \"8.8.8.8\"\n"
		"                search: [example.org, lab.example.org]\n"
		"            set-name: ens3\n"
		"        ens4:\n"
		"            dhcp4: true\n"
		"    version: 2\n";
	struct net_config n = { 0 };
	assert_int_equal(netcfg_parse_netplan(t, &n), 0);
	expect_net(&n, "ens3", "198.51.100.20/24", "198.51.100.1", "198.51.100.53 8.8.8.8",
		   "example.org lab.example.org");
	net_config_free(&n);
}

static void test_netplan_routes_and_dhcp(void **state)
{
	(void)state;
	const char *t =
		"network:\n"
		"  version: 2\n"
		"  renderer: networkd\n"
		"  ethernets:\n"
		"    lo:\n      addresses: [127.0.0.1/8]\n"
		"    enp1s0:\n"
		"      addresses: [ \"192.168.10.5/24\" ]   # static\n"
		"      routes:\n"
		"        - to: 10.0.0.0/8\n"
		"          via: 192.168.10.254\n"
		"        - via: 192.168.10.1\n"
		"          to: default\n"
		"      dhcp4: no\n";
	struct net_config n = { 0 };
	assert_int_equal(netcfg_parse_netplan(t, &n), 0);
	expect_net(&n, "enp1s0", "192.168.10.5/24", "192.168.10.1", NULL, NULL);
	net_config_free(&n);

	const char *d = "network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: yes\n"
			"  bridges:\n    br0:\n      interfaces: [eth1]\n      dhcp4: false\n";
	assert_int_equal(netcfg_parse_netplan(d, &n), 0);
	expect_net(&n, "eth0", "dhcp", NULL, NULL, NULL);
	net_config_free(&n);
}

static void test_ifcfg(void **state)
{
	(void)state;
	const char *t = "TYPE=Ethernet\nBOOTPROTO=none\nNAME=eth0\nDEVICE=eth0\nONBOOT=yes\n"
			"IPADDR=172.16.5.9\nNETMASK=255.255.252.0\nGATEWAY=172.16.4.1\n"
			"DNS1=172.16.4.2\nDNS2=8.8.4.4\nDOMAIN=\"corp.example.net example.net\"\n";
	struct net_config n = { 0 };
	assert_int_equal(netcfg_parse_ifcfg("ifcfg-eth0", t, &n), 0);
	expect_net(&n, "eth0", "172.16.5.9/22", "172.16.4.1", "172.16.4.2 8.8.4.4",
		   "corp.example.net example.net");
	net_config_free(&n);

	assert_int_equal(netcfg_parse_ifcfg("ifcfg-ens192", "BOOTPROTO=static\nIPADDR0=10.9.8.7\n"
					    "PREFIX0=24\nGATEWAY0=10.9.8.1\n", &n), 0);
	expect_net(&n, "ens192", "10.9.8.7/24", "10.9.8.1", NULL, NULL);
	net_config_free(&n);

	assert_int_equal(netcfg_parse_ifcfg("ifcfg-eth1", "BOOTPROTO='dhcp'\nONBOOT=yes\n", &n), 0);
	expect_net(&n, "eth1", "dhcp", NULL, NULL, NULL);
	net_config_free(&n);

	/* Loopback and interfaces that stay down are not candidates. */
	assert_int_equal(netcfg_parse_ifcfg("ifcfg-lo", "DEVICE=lo\nIPADDR=127.0.0.1\n", &n), 0);
	expect_net(&n, NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(netcfg_parse_ifcfg("ifcfg-eth2", "ONBOOT=no\nBOOTPROTO=dhcp\n", &n), 0);
	expect_net(&n, NULL, NULL, NULL, NULL, NULL);
}

static void test_nmconnection(void **state)
{
	(void)state;
	const char *t = "[connection]\nid=Wired connection 1\nuuid=0b1e\ntype=ethernet\n"
			"interface-name=enp0s3\n\n[ethernet]\n\n"
			"[ipv4]\naddress1=192.168.122.50/24,192.168.122.1\n"
			"dns=192.168.122.1;1.0.0.1;\ndns-search=home.arpa;\nmethod=manual\n\n"
			"[ipv6]\naddr-gen-mode=stable-privacy\nmethod=auto\n";
	struct net_config n = { 0 };
	assert_int_equal(netcfg_parse_nmconnection(t, &n), 0);
	expect_net(&n, "enp0s3", "192.168.122.50/24", "192.168.122.1", "192.168.122.1 1.0.0.1",
		   "home.arpa");
	net_config_free(&n);

	assert_int_equal(netcfg_parse_nmconnection("[connection]\nid=eth0\ntype=ethernet\n"
						   "[ipv4]\nmethod=manual\naddress1=10.2.3.4/16\n"
						   "gateway=10.2.0.1\n", &n), 0);
	expect_net(&n, "eth0", "10.2.3.4/16", "10.2.0.1", NULL, NULL);
	net_config_free(&n);

	assert_int_equal(netcfg_parse_nmconnection("[connection]\nid=x\ninterface-name=eth9\n"
						   "[ipv4]\nmethod=auto\n", &n), 0);
	expect_net(&n, "eth9", "dhcp", NULL, NULL, NULL);
	net_config_free(&n);

	assert_int_equal(netcfg_parse_nmconnection("[connection]\nid=lo\ntype=loopback\n"
						   "interface-name=lo\n[ipv4]\nmethod=manual\n"
						   "address1=127.0.0.1/8\n", &n), 0);
	expect_net(&n, NULL, NULL, NULL, NULL, NULL);
}

static void test_resolv_and_hostname(void **state)
{
	(void)state;
	char *ns, *search;
	assert_int_equal(netcfg_parse_resolv("# generated\ndomain old.example\nnameserver 10.0.0.2\n"
					     "nameserver 2001:db8::53 # v6\nsearch a.example b.example\n"
					     "options edns0\n", &ns, &search), 0);
	assert_string_equal(ns, "10.0.0.2 2001:db8::53");
	assert_string_equal(search, "a.example b.example");
	free(ns);
	free(search);
	assert_int_equal(netcfg_parse_resolv("", &ns, &search), 0);
	assert_null(ns);
	assert_null(search);

	char *h = hostname_from_etc_hostname("# comment\n\n  mail.example.com  \n");
	assert_string_equal(h, "mail.example.com");
	free(h);
	assert_null(hostname_from_etc_hostname("\n"));
	h = hostname_from_sysconfig("NETWORKING=yes\nHOSTNAME=\"db1.example.com\"\nGATEWAY=10.0.0.1\n");
	assert_string_equal(h, "db1.example.com");
	free(h);
	h = gateway_from_sysconfig("NETWORKING=yes\nGATEWAY=10.0.0.1\n");
	assert_string_equal(h, "10.0.0.1");
	free(h);
}

static void test_netmask(void **state)
{
	(void)state;
	assert_int_equal(netmask_to_prefix("255.255.255.0"), 24);
	assert_int_equal(netmask_to_prefix("255.255.255.255"), 32);
	assert_int_equal(netmask_to_prefix("0.0.0.0"), 0);
	assert_int_equal(netmask_to_prefix("255.255.240.0"), 20);
	assert_int_equal(netmask_to_prefix("26"), 26);
	assert_int_equal(netmask_to_prefix("255.0.255.0"), -1);
	assert_int_equal(netmask_to_prefix("bogus"), -1);
}

static void test_take_better(void **state)
{
	(void)state;
	struct net_config best = { 0 };
	struct net_config a = { strdup("eth0"), strdup("dhcp"), NULL, strdup("1.1.1.1"), NULL };
	struct net_config b = { strdup("eth1"), strdup("10.0.0.2/24"), strdup("10.0.0.1"), NULL, NULL };
	netcfg_take_better(&best, &a);
	netcfg_take_better(&best, &b);
	/* The gateway wins; DNS found with the other interface is kept. */
	expect_net(&best, "eth1", "10.0.0.2/24", "10.0.0.1", "1.1.1.1", NULL);
	net_config_free(&best);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ifupdown_static),
		cmocka_unit_test(test_ifupdown_prefers_gateway),
		cmocka_unit_test(test_ifupdown_dhcp_bridge_manual),
		cmocka_unit_test(test_ifupdown_sources),
		cmocka_unit_test(test_netplan),
		cmocka_unit_test(test_netplan_routes_and_dhcp),
		cmocka_unit_test(test_ifcfg),
		cmocka_unit_test(test_nmconnection),
		cmocka_unit_test(test_resolv_and_hostname),
		cmocka_unit_test(test_netmask),
		cmocka_unit_test(test_take_better),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
