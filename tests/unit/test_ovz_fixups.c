/* convert-openvz's pure parts: the guest text fixups (venet0 out, eth0 in,
 * getty, simfs), pct.conf as pve-container writes it (keys sorted;
 * property strings as pve-common's print_property_string: the required
 * name first, then sorted), and the CTID a source's name gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ovz_fixups.h"
#include "ovz_output.h"
#include "ovz_source.h"

static void expect_text(char *got, const char *want)
{
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static const char debian_venet[] =
	"# This configuration file is auto-generated.\n"
	"auto lo\n"
	"iface lo inet loopback\n"
	"\n"
	"auto venet0 venet0:0\n"
	"iface venet0 inet manual\n"
	"\tup ifup venet0:0\n"
	"\tup route add default gw 191.255.255.1\n"
	"\n"
	"iface venet0:0 inet static\n"
	"\taddress 192.0.2.5\n"
	"\tnetmask 255.255.255.255\n"
	"\n"
	"source /etc/network/interfaces.d/*\n";

static void test_interfaces_venet_to_static_eth0(void **state)
{
	(void)state;
	struct ct_spec s = { .ip = "192.0.2.5/32", .gw = "192.0.2.1", .ip6 = "2001:db8::5/128",
			     .gw6 = "2001:db8::1" };
	bool had = true;
	expect_text(ovz_interfaces_text(debian_venet, &s, true, &had),
		    "# This configuration file is auto-generated.\n"
		    "auto lo\n"
		    "iface lo inet loopback\n"
		    "\n"
		    "# ct-import (OpenVZ): auto venet0 venet0:0\n"
		    "# ct-import (OpenVZ): iface venet0 inet manual\n"
		    "# ct-import (OpenVZ): \tup ifup venet0:0\n"
		    "# ct-import (OpenVZ): \tup route add default gw 191.255.255.1\n"
		    "\n"
		    "# ct-import (OpenVZ): iface venet0:0 inet static\n"
		    "# ct-import (OpenVZ): \taddress 192.0.2.5\n"
		    "# ct-import (OpenVZ): \tnetmask 255.255.255.255\n"
		    "\n"
		    "source /etc/network/interfaces.d/*\n"
		    "\n# The container's network device (written by ct-import convert-openvz)\n"
		    "auto eth0\n"
		    "iface eth0 inet static\n\taddress 192.0.2.5/32\n\tgateway 192.0.2.1\n"
		    "iface eth0 inet6 static\n\taddress 2001:db8::5/128\n\tgateway 2001:db8::1\n");
	assert_false(had);
}

static void test_interfaces_keeps_guest_eth0(void **state)
{
	(void)state;
	/* veth: the guest configured eth0 itself; only venet0 goes. "auto lo
	 * venet0" keeps lo. */
	const char *text = "auto lo venet0\niface lo inet loopback\n"
			   "iface venet0 inet manual\n"
			   "auto eth0\niface eth0 inet dhcp\n";
	struct ct_spec s = { 0 };
	bool had = false;
	expect_text(ovz_interfaces_text(text, &s, true, &had),
		    "# ct-import (OpenVZ): auto lo venet0\nauto lo\niface lo inet loopback\n"
		    "# ct-import (OpenVZ): iface venet0 inet manual\n"
		    "auto eth0\niface eth0 inet dhcp\n");
	assert_true(had);
	/* Nothing of OpenVZ's and eth0 present: unchanged (NULL). */
	assert_null(ovz_interfaces_text("auto eth0\niface eth0 inet dhcp\n", &s, true, NULL));
	/* No network: eth0 is not added. */
	assert_null(ovz_interfaces_text("auto lo\niface lo inet loopback\n", &s, false, NULL));
	/* No address known: dhcp. */
	expect_text(ovz_interfaces_text("auto lo\n", &s, true, NULL),
		    "auto lo\n\n# The container's network device (written by ct-import convert-openvz)\n"
		    "auto eth0\niface eth0 inet dhcp\n");
	/* IPv6 only: no IPv4 stanza. */
	struct ct_spec v6 = { .ip6 = "2001:db8::9/128" };
	expect_text(ovz_interfaces_text("", &v6, true, NULL),
		    "\n# The container's network device (written by ct-import convert-openvz)\n"
		    "auto eth0\niface eth0 inet6 static\n\taddress 2001:db8::9/128\n");
}

static void test_rhel(void **state)
{
	(void)state;
	expect_text(ovz_sysconfig_network_text("NETWORKING=\"yes\"\nGATEWAYDEV=\"venet0\"\n"
					       "IPV6_DEFAULTDEV=venet0\nHOSTNAME=x\n"),
		    "NETWORKING=\"yes\"\n# ct-import (OpenVZ): GATEWAYDEV=\"venet0\"\n"
		    "# ct-import (OpenVZ): IPV6_DEFAULTDEV=venet0\nHOSTNAME=x\n");
	assert_null(ovz_sysconfig_network_text("NETWORKING=yes\nGATEWAYDEV=eth0\n"));

	struct ct_spec s = { .ip = "192.0.2.7/32", .gw = "192.0.2.1", .ip6 = "2001:db8::7/128" };
	expect_text(ovz_ifcfg_eth0_text(&s),
		    "# The container's network device (written by ct-import convert-openvz)\n"
		    "DEVICE=eth0\nTYPE=Ethernet\nONBOOT=yes\nBOOTPROTO=none\nIPADDR=192.0.2.7\n"
		    "PREFIX=32\nGATEWAY=192.0.2.1\nIPV6INIT=yes\nIPV6ADDR=2001:db8::7/128\n");
	/* /32 and a gateway outside it: an on-link route, as Proxmox. */
	expect_text(ovz_route_eth0_text(&s),
		    "# written by ct-import convert-openvz: the gateway is outside eth0's prefix\n"
		    "192.0.2.1 dev eth0\ndefault via 192.0.2.1 dev eth0\n");
	struct ct_spec inside = { .ip = "192.0.2.7/24", .gw = "192.0.2.1" };
	assert_null(ovz_route_eth0_text(&inside));
	struct ct_spec dhcp = { 0 };
	assert_null(ovz_route_eth0_text(&dhcp));
	expect_text(ovz_ifcfg_eth0_text(&dhcp),
		    "# The container's network device (written by ct-import convert-openvz)\n"
		    "DEVICE=eth0\nTYPE=Ethernet\nONBOOT=yes\nBOOTPROTO=dhcp\n");
}

static void test_fstab_inittab(void **state)
{
	(void)state;
	expect_text(ovz_fstab_text("proc /proc proc defaults 0 0\n/dev/simfs / simfs defaults 0 0\n"
				   "# /dev/simfs / simfs\nnone /dev/pts devpts rw 0 0\n"),
		    "proc /proc proc defaults 0 0\n# ct-import (OpenVZ): /dev/simfs / simfs defaults 0 0\n"
		    "# /dev/simfs / simfs\nnone /dev/pts devpts rw 0 0\n");
	assert_null(ovz_fstab_text("proc /proc proc defaults 0 0\n"));

	/* OpenVZ commented the gettys out: tty1's comes back, tty2's stays. */
	expect_text(ovz_inittab_text("id:2:initdefault:\n#1:2345:respawn:/sbin/getty 38400 tty1\n"
				     "#2:23:respawn:/sbin/getty 38400 tty2\n", "/sbin/getty 38400"),
		    "id:2:initdefault:\n1:2345:respawn:/sbin/getty 38400 tty1\n"
		    "#2:23:respawn:/sbin/getty 38400 tty2\n");
	/* None at all: one is added with the getty given. */
	expect_text(ovz_inittab_text("id:3:initdefault:\n", "/sbin/mingetty"),
		    "id:3:initdefault:\n# a console for lxc-console / pct console (ct-import convert-openvz)\n"
		    "1:2345:respawn:/sbin/mingetty tty1\n");
	/* Already there (tty10 does not count for tty1). */
	assert_null(ovz_inittab_text("1:2345:respawn:/sbin/getty 38400 tty1\n", "/sbin/getty 38400"));
	char *t = ovz_inittab_text("10:2345:respawn:/sbin/getty 38400 tty10\n", "/sbin/getty 38400");
	assert_non_null(t);
	assert_non_null(strstr(t, "\n1:2345:respawn:/sbin/getty 38400 tty1\n"));
	free(t);
}

static void test_pct_conf(void **state)
{
	(void)state;
	struct ct_spec s = {
		.vmid = 101, .hostname = "web.example.com", .storage = "local-lvm", .disk_gb = 10,
		.memory_mb = 1024, .has_swap = true, .swap_mb = 512, .cores = 2, .cpulimit = "1.5",
		.cpuunits = 1000, .onboot = 1, .bridge = "vmbr0", .hwaddr = "00:18:51:AB:CD:EF",
		.ip = "192.0.2.10/32", .gw = "192.0.2.1", .ip6 = "2001:db8::10/128",
		.nameserver = "192.0.2.53 192.0.2.54", .searchdomain = "example.com",
		.ostype = "debian", .arch = "amd64",
	};
	expect_text(ovz_pct_conf_text(&s, "Converted from OpenVZ 101\nsecond line"),
		    "#Converted from OpenVZ 101\n#second line\n"
		    "arch: amd64\ncores: 2\ncpulimit: 1.5\ncpuunits: 1000\nhostname: web.example.com\n"
		    "memory: 1024\nnameserver: 192.0.2.53 192.0.2.54\n"
		    "net0: name=eth0,bridge=vmbr0,gw=192.0.2.1,hwaddr=00:18:51:AB:CD:EF,ip=192.0.2.10/32,"
		    "ip6=2001:db8::10/128,type=veth\n"
		    "onboot: 1\nostype: debian\nrootfs: local-lvm:vm-101-disk-0,size=10G\n"
		    "searchdomain: example.com\nswap: 512\n");
	/* Minimal: no bridge, no cores (all CPUs), onboot off, unknown OS. */
	struct ct_spec m = { .vmid = 200, .storage = "tank", .disk_gb = 4, .memory_mb = 512,
			     .onboot = -1 };
	expect_text(ovz_pct_conf_text(&m, NULL),
		    "memory: 512\nonboot: 0\nostype: unmanaged\nrootfs: tank:vm-200-disk-0,size=4G\n");
}

static void test_names(void **state)
{
	(void)state;
	static const struct { const char *src; bool dir; const char *want; } cases[] = {
		{ "/b/vzdump-openvz-101-2024_03_01-02_03_04.tar.lzo", false, "101" },
		{ "vzdump-openvz-7-2024_03_01-02_03_04.tgz", false, "7" },
		{ "/srv/dumps/web.tar.gz", false, "web" },
		{ "/vz/private/105/", true, "105" },
		{ "/vz/private/105", true, "105" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *id = ovz_ctid_from_source(cases[i].src, cases[i].dir);
		assert_non_null(id);
		assert_string_equal(id, cases[i].want);
		free(id);
	}
	assert_null(ovz_ctid_from_source("/x/.hidden.tar", false));
	char name[128];
	ovz_vzdump_name(123, name, sizeof(name));
	assert_int_equal(strlen(name), strlen("vzdump-lxc-123-2024_03_01-02_03_04.tar.zst"));
	assert_int_equal(strncmp(name, "vzdump-lxc-123-", 15), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interfaces_venet_to_static_eth0),
		cmocka_unit_test(test_interfaces_keeps_guest_eth0),
		cmocka_unit_test(test_rhel),
		cmocka_unit_test(test_fstab_inittab),
		cmocka_unit_test(test_pct_conf),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
