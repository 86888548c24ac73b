/* OpenVZ ve.conf: strict parsing, vzctl's number syntax, and the mapping
 * onto an LXC container (ct-import/veconf.h, veconf_map.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "veconf.h"
#include "veconf_map.h"

static void parse_ok(const char *text, struct veconf *c)
{
	assert_int_equal(veconf_parse("vps.conf", text, strlen(text), c), 0);
}

static void map_ok(const char *text, struct veconf *c, struct veconf_map *m)
{
	parse_ok(text, c);
	assert_int_equal(veconf_map(c, m), 0);
}

static const char *value(const struct veconf *c, const char *key)
{
	const struct veconf_entry *e = veconf_find(c, key);
	return e ? e->value : NULL;
}

static bool has_note(const struct veconf_map *m, const char *text)
{
	for (size_t i = 0; i < m->n_notes; i++)
		if (strcmp(m->notes[i], text) == 0)
			return true;
	return false;
}

/* The unmapped list is exactly keys[] (in file order), each with its value,
 * and the "ignored:" ones are those with ign set. */
static void check_unmapped(const struct veconf_map *m, const char *const *keys,
			   const char *const *values, const bool *ign, size_t n)
{
	assert_int_equal(m->n_unmapped, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(m->unmapped[i].key, keys[i]);
		assert_string_equal(m->unmapped[i].value, values[i]);
		assert_int_equal(strncmp(m->unmapped[i].why, "ignored:", 8) == 0, ign[i]);
		assert_true(m->unmapped[i].line > 0);
	}
}

static void test_numbers(void **state)
{
	(void)state;
	uint64_t v;
	static const struct {
		const char *s;
		enum veconf_unit unit;
		uint64_t want;
	} ok[] = {
		{ "100", VECONF_PAGES, 100 },
		{ "512M", VECONF_PAGES, 131072 },
		{ "512m", VECONF_PAGES, 131072 },
		{ "1G", VECONF_BLOCKS, 1048576 },
		{ "2.2G", VECONF_BLOCKS, 2306867 },    /* vzctl truncates 2306867.2 */
		{ "1.5", VECONF_PAGES, 1 },            /* no suffix: own unit, truncated */
		{ ".5K", VECONF_BYTES, 512 },
		{ "4P", VECONF_BYTES, 16384 },
		{ "4p", VECONF_PAGES, 4 },
		{ "8k", VECONF_BYTES, 8192 },
		{ "1b", VECONF_PAGES, 0 },
		{ "10B", VECONF_BYTES, 10 },
		{ "1T", VECONF_PAGES, 268435456 },
		{ "3000", VECONF_ITEMS, 3000 },
		{ "unlimited", VECONF_PAGES, VECONF_UNLIMITED },
		{ "9223372036854775807", VECONF_PAGES, VECONF_UNLIMITED },
		{ "9223372036854775806", VECONF_PAGES, VECONF_UNLIMITED - 1 },
		{ "9223372036854775808", VECONF_PAGES, VECONF_UNLIMITED },   /* vzctl clamps */
		{ "99999999999999999999999999999", VECONF_BYTES, VECONF_UNLIMITED },
		{ "8388608T", VECONF_BYTES, VECONF_UNLIMITED },
		{ "8388607T", VECONF_BLOCKS, UINT64_C(8388607) << 30 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 1;
		if (veconf_parse_number(ok[i].s, ok[i].unit, &v) != 0 || v != ok[i].want)
			fail_msg("\"%s\" unit %d: got %llu, want %llu", ok[i].s, ok[i].unit,
				 (unsigned long long)v, (unsigned long long)ok[i].want);
	}
	static const char *const bad[] = { "", "abc", "-1", "+1", " 1", "1 ", "1X", "1KK",
					   "1:2", ".", "unlimitedx", "Unlimited", "1e3" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (veconf_parse_number(bad[i], VECONF_PAGES, &v) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
	assert_int_equal(veconf_parse_number("5K", VECONF_ITEMS, &v), -EINVAL);

	struct veconf_pair p;
	assert_int_equal(veconf_parse_pair("65536:69632", VECONF_PAGES, &p), 0);
	assert_true(p.barrier == 65536 && p.limit == 69632);
	assert_int_equal(veconf_parse_pair("0:unlimited", VECONF_PAGES, &p), 0);
	assert_true(p.barrier == 0 && p.limit == VECONF_UNLIMITED);
	assert_int_equal(veconf_parse_pair("1G", VECONF_PAGES, &p), 0);
	assert_true(p.barrier == 262144 && p.limit == 262144);
	assert_int_equal(veconf_parse_pair("10G:11G", VECONF_BLOCKS, &p), 0);
	assert_true(p.barrier == 10485760 && p.limit == 11534336);
	assert_int_equal(veconf_parse_pair("2G:2.2G", VECONF_BLOCKS, &p), 0);
	assert_true(p.barrier == 2097152 && p.limit == 2306867);
	static const char *const badpair[] = { "1:", ":1", "1:2:3", "1::2", "1;2", "" };
	for (size_t i = 0; i < sizeof(badpair) / sizeof(badpair[0]); i++)
		if (veconf_parse_pair(badpair[i], VECONF_PAGES, &p) != -EINVAL)
			fail_msg("pair \"%s\" accepted", badpair[i]);

	char buf[16];
	assert_string_equal(veconf_cpulimit_str(150, buf, sizeof(buf)), "1.5");
	assert_string_equal(veconf_cpulimit_str(25, buf, sizeof(buf)), "0.25");
	assert_string_equal(veconf_cpulimit_str(105, buf, sizeof(buf)), "1.05");
	assert_string_equal(veconf_cpulimit_str(200, buf, sizeof(buf)), "2");
	assert_string_equal(veconf_cpulimit_str(0, buf, sizeof(buf)), "0");
}

static void test_syntax(void **state)
{
	(void)state;
	struct veconf c;
	parse_ok("# comment\n\n   \t\n  LEADING=\"x\"  \nBARE=value\nEMPTY=\"\"\nNOTHING=\n"
		 "TRAIL=\"a b\"   # why\nESC=\"say \\\"hi\\\" \\\\ ok\"\nHASH=a#b\r\n"
		 "CRLF=\"y\"\r\n  # indented comment\nLAST=\"no newline\"", &c);
	assert_int_equal(c.n, 9);
	assert_string_equal(c.file, "vps.conf");
	assert_string_equal(value(&c, "LEADING"), "x");
	assert_string_equal(value(&c, "BARE"), "value");
	assert_string_equal(value(&c, "EMPTY"), "");
	assert_string_equal(value(&c, "NOTHING"), "");
	assert_string_equal(value(&c, "TRAIL"), "a b");
	assert_string_equal(value(&c, "ESC"), "say \"hi\" \\ ok");
	assert_string_equal(value(&c, "HASH"), "a#b");
	assert_string_equal(value(&c, "CRLF"), "y");
	assert_string_equal(value(&c, "LAST"), "no newline");
	assert_int_equal(veconf_find(&c, "LAST")->line, 13);
	assert_null(veconf_find(&c, "MISSING"));
	veconf_free(&c);
	assert_int_equal(c.n, 0);
	assert_null(c.entry);
}

static void test_errors(void **state)
{
	(void)state;
	static const struct {
		const char *line, *error;
	} bad[] = {
		{ "KEY = \"v\"", "expected KEY=\"value\"" },
		{ "KEY =\"v\"", "expected KEY=\"value\"" },
		{ "lower=\"v\"", "expected KEY=\"value\"" },
		{ "JUST TEXT", "expected KEY=\"value\"" },
		{ "=\"v\"", "expected KEY=\"value\"" },
		{ "export KEY=\"v\"", "expected KEY=\"value\"" },
		{ "KEY=\"abc", "missing closing quote" },
		{ "KEY=\"a\\\"", "missing closing quote" },
		{ "KEY=\"a\" b", "text after the closing quote" },
		{ "KEY=\"a\"\"b\"", "text after the closing quote" },
		{ "KEY=\"a\"#b", "text after the closing quote" },
		{ "KEY='a'", "single-quoted value: vzctl keeps single quotes, write KEY=\"value\"" },
		{ "KEY=a b", "unquoted value with blanks or quotes: write KEY=\"value\"" },
		{ "KEY=a\"b\"", "unquoted value with blanks or quotes: write KEY=\"value\"" },
		{ "KEY=a\\", "backslash at the end of the line" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256], want[256];
		snprintf(text, sizeof(text), "# header\nHOSTNAME=\"h\"\n\n%s\nAFTER=\"x\"\n", bad[i].line);
		snprintf(want, sizeof(want), "vps.conf:4: %s", bad[i].error);
		struct veconf c;
		assert_int_equal(veconf_parse("vps.conf", text, strlen(text), &c), -EINVAL);
		if (strcmp(c.error, want) != 0)
			fail_msg("line '%s': got '%s', want '%s'", bad[i].line, c.error, want);
		assert_int_equal(c.n, 0); /* nothing half-parsed is left */
		assert_null(c.entry);
		veconf_free(&c);
	}
	static const char nul[] = "A=\"1\"\nB=\"x\0y\"\n";
	struct veconf c;
	assert_int_equal(veconf_parse("101.conf", nul, sizeof(nul) - 1, &c), -EINVAL);
	assert_string_equal(c.error, "101.conf:2: NUL byte in the line");
	veconf_free(&c);

	/* From a file: the path names it. */
	char path[] = "/tmp/test_veconf.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "ONBOOT=\"yes\"\nPHYSPAGES=\"0:256M\"\nSWAPPAGES 0:512M\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	char want[128];
	snprintf(want, sizeof(want), "%s:3: expected KEY=\"value\"", path);
	assert_int_equal(veconf_load(path, &c), -EINVAL);
	assert_string_equal(c.error, want);
	veconf_free(&c);
	unlink(path);
	assert_int_equal(veconf_load(path, &c), -ENOENT);
	veconf_free(&c);
}

static void test_duplicates(void **state)
{
	(void)state;
	struct veconf c;
	struct veconf_map m;
	map_ok("HOSTNAME=\"old.example.com\"\nONBOOT=\"no\"\n# changed\nHOSTNAME=\"mid\"\n"
	       "HOSTNAME=\"new.example.com\"\nONBOOT=\"yes\"\n", &c, &m);
	assert_int_equal(c.n, 2);
	const struct veconf_entry *e = veconf_find(&c, "HOSTNAME");
	assert_string_equal(e->key, "HOSTNAME"); /* first key stays first */
	assert_ptr_equal(e, &c.entry[0]);
	assert_string_equal(e->value, "new.example.com");
	assert_int_equal(e->line, 5);
	assert_int_equal(e->first_line, 1);
	assert_int_equal(e->replaced, 2);
	assert_int_equal(veconf_find(&c, "ONBOOT")->replaced, 1);
	assert_string_equal(m.hostname, "new.example.com");
	assert_int_equal(m.onboot, 1);
	assert_true(has_note(&m, "HOSTNAME set 3 times (lines 1 to 5); the last one counts"));
	assert_true(has_note(&m, "ONBOOT set 2 times (lines 2 to 6); the last one counts"));
	veconf_map_free(&m);
	veconf_free(&c);
}

static void test_vswap(void **state)
{
	(void)state;
	struct veconf c;
	struct veconf_map m;
	map_ok("# vswap container\nONBOOT=\"yes\"\nPHYSPAGES=\"0:512M\"\nSWAPPAGES=\"0:1G\"\n"
	       "DISKSPACE=\"10G:11G\"\nDISKINODES=\"200000:220000\"\nQUOTATIME=\"0\"\n"
	       "CPUUNITS=\"1000\"\nCPULIMIT=\"150\"\nCPUS=\"2\"\nVE_ROOT=\"/vz/root/$VEID\"\n"
	       "VE_PRIVATE=\"/vz/private/$VEID\"\nOSTEMPLATE=\"debian-7.0-x86_64\"\n"
	       "ORIGIN_SAMPLE=\"vswap-512m\"\nHOSTNAME=\"web1.example.com\"\n"
	       "IP_ADDRESS=\"192.0.2.10 2001:DB8:0::10 192.0.2.11 10.1.2.3/25\"\n"
	       "NAMESERVER=\"8.8.8.8  2001:4860:4860::8888\"\nSEARCHDOMAIN=\"example.com corp.example\"\n"
	       "NETFILTER=\"stateless\"\nDESCRIPTION=\"web server\"\nFEATURES=\"nfs:on\"\n",
	       &c, &m);
	assert_int_equal(m.memory_mb, 512);
	assert_int_equal(m.mem_source, VECONF_MEM_PHYSPAGES);
	assert_int_equal(m.swap_mb, 1024);
	assert_int_equal(m.disk_gb, 10);
	assert_int_equal(m.cores, 2);
	assert_true(m.has_cpuunits && m.has_cpulimit);
	assert_int_equal(m.cpuunits, 1000);
	assert_int_equal(m.cpulimit_pct, 150);
	assert_int_equal(m.onboot, 1);
	assert_string_equal(m.hostname, "web1.example.com");
	assert_true(m.has_net);
	assert_true(m.net0.venet);
	assert_false(m.net0.veth);
	assert_string_equal(m.net0.name, "eth0");
	assert_null(m.net0.hwaddr);
	assert_null(m.net0.bridge);
	assert_string_equal(m.net0.ip, "192.0.2.10/32");
	assert_string_equal(m.net0.ip6, "2001:db8::10/128");
	assert_string_equal(m.nameserver, "8.8.8.8 2001:4860:4860::8888");
	assert_string_equal(m.searchdomain, "example.com corp.example");
	assert_true(has_note(&m, "IP_ADDRESS: 192.0.2.11 not mapped: net0 holds one IPv4 and one IPv6 address"));
	assert_true(has_note(&m, "IP_ADDRESS: 10.1.2.3/25 not mapped: net0 holds one IPv4 and one IPv6 address"));
	assert_true(has_note(&m, "IP_ADDRESS: venet address 192.0.2.10 has no prefix: net0 gets "
				 "192.0.2.10/32, reachable through a gateway (--gw)"));
	assert_int_equal(m.n_notes, 4); /* and the same for the IPv6 address */

	static const char *const keys[] = { "DISKINODES", "QUOTATIME", "VE_ROOT", "VE_PRIVATE",
					    "OSTEMPLATE", "ORIGIN_SAMPLE", "NETFILTER", "DESCRIPTION",
					    "FEATURES" };
	static const char *const values[] = { "200000:220000", "0", "/vz/root/$VEID",
					      "/vz/private/$VEID", "debian-7.0-x86_64", "vswap-512m",
					      "stateless", "web server", "nfs:on" };
	static const bool ign[] = { 1, 1, 1, 1, 1, 1, 1, 0, 0 };
	check_unmapped(&m, keys, values, ign, 9);

	/* Into create-ct's spec: only what the config says is set. */
	struct ct_spec spec = { .storage = "local-lvm", .gw = "192.0.2.1", .bridge = "vmbr9" };
	veconf_map_to_spec(&m, &spec);
	assert_string_equal(spec.hostname, "web1.example.com");
	assert_int_equal(spec.memory_mb, 512);
	assert_int_equal(spec.disk_gb, 10);
	assert_int_equal(spec.cores, 2);
	assert_string_equal(spec.ip, "192.0.2.10/32");
	assert_string_equal(spec.bridge, "vmbr9");
	assert_string_equal(spec.gw, "192.0.2.1");
	assert_string_equal(spec.storage, "local-lvm");
	assert_string_equal(spec.nameserver, "8.8.8.8 2001:4860:4860::8888");
	assert_string_equal(spec.searchdomain, "example.com corp.example");
	veconf_map_free(&m);
	veconf_free(&c);
}

/* vzctl's ve-basic.conf-sample (pre-vswap UBC) with blocks for DISKSPACE. */
#define UBC_BASE                                                                         \
	"KMEMSIZE=\"14372700:14790164\"\nLOCKEDPAGES=\"2048:2048\"\n"                    \
	"PRIVVMPAGES=\"65536:69632\"\nSHMPAGES=\"21504:21504\"\nNUMPROC=\"240:240\"\n"   \
	"PHYSPAGES=\"0:unlimited\"\n"
#define UBC_REST                                                                         \
	"OOMGUARPAGES=\"26112:unlimited\"\nNUMTCPSOCK=\"360:360\"\n"                     \
	"DISKSPACE=\"2306867:2306867\"\nCPUUNITS=\"1000\"\nONBOOT=\"no\"\n"

static void test_ubc(void **state)
{
	(void)state;
	struct veconf c;
	struct veconf_map m;
	/* As Proxmox: no SWAPPAGES, so the VMGUARPAGES barrier: 33792 pages. */
	map_ok(UBC_BASE "VMGUARPAGES=\"33792:unlimited\"\n" UBC_REST
	       "NETIF=\"ifname=eth1,mac=00:18:51:AA:BB:01,host_ifname=veth101.1,host_mac=00:18:51:CC:DD:01;"
	       "ifname=eth0,bridge=vmbr0,mac=00:18:51:AA:BB:00,host_ifname=veth101.0,"
	       "host_mac=00:18:51:CC:DD:00,mac_filter=on;\"\n"
	       "NAMESERVER=\"inherit\"\nSEARCHDOMAIN=\"inherit\"\nIP_ADDRESS=\"\"\n", &c, &m);
	assert_int_equal(m.memory_mb, 132);
	assert_int_equal(m.mem_source, VECONF_MEM_VMGUARPAGES);
	assert_int_equal(m.swap_mb, 0);
	assert_int_equal(m.disk_gb, 3); /* 2.2 GiB rounded up */
	assert_int_equal(m.cores, 0);
	assert_int_equal(m.onboot, 0);
	assert_true(m.has_cpuunits);
	assert_false(m.has_cpulimit);
	assert_null(m.hostname);
	assert_true(m.has_net && m.net0.veth);
	assert_false(m.net0.venet);
	assert_string_equal(m.net0.name, "eth0");
	assert_string_equal(m.net0.hwaddr, "00:18:51:AA:BB:00");
	assert_string_equal(m.net0.bridge, "vmbr0");
	assert_null(m.net0.ip);
	assert_null(m.net0.ip6);
	assert_null(m.nameserver);
	assert_null(m.searchdomain);
	assert_true(has_note(&m, "NETIF: device eth1 not mapped: the container gets one network "
				 "device (net0 = eth0)"));
	assert_true(has_note(&m, "NETIF: mac_filter=on not mapped (host-side or unknown)"));
	assert_true(has_note(&m, "NETIF: eth0's host side dropped (host_ifname=veth101.0, "
				 "host_mac=00:18:51:CC:DD:00); the new host names its own"));
	assert_true(has_note(&m, "NAMESERVER: inherit left out: the new host's resolver settings apply"));
	assert_true(has_note(&m, "SEARCHDOMAIN: inherit left out: the new host's resolver settings apply"));
	assert_int_equal(m.n_notes, 5);
	static const char *const keys[] = { "KMEMSIZE", "LOCKEDPAGES", "PRIVVMPAGES", "SHMPAGES",
					    "NUMPROC", "PHYSPAGES", "OOMGUARPAGES", "NUMTCPSOCK" };
	static const char *const values[] = { "14372700:14790164", "2048:2048", "65536:69632",
					      "21504:21504", "240:240", "0:unlimited",
					      "26112:unlimited", "360:360" };
	static const bool ign[] = { 1, 1, 0, 1, 1, 0, 1, 1 };
	check_unmapped(&m, keys, values, ign, 8);
	struct ct_spec spec = { .bridge = "vmbr1", .memory_mb = 1024 };
	veconf_map_to_spec(&m, &spec);
	assert_string_equal(spec.bridge, "vmbr0");
	assert_null(spec.ip);
	assert_null(spec.nameserver);
	assert_int_equal(spec.memory_mb, 132);
	assert_int_equal(spec.cores, 0);
	veconf_map_free(&m);
	veconf_free(&c);

	/* Beyond Proxmox: no usable VMGUARPAGES, so the PRIVVMPAGES barrier. */
	map_ok(UBC_BASE "VMGUARPAGES=\"unlimited\"\n" UBC_REST, &c, &m);
	assert_int_equal(m.memory_mb, 256);
	assert_int_equal(m.mem_source, VECONF_MEM_PRIVVMPAGES);
	assert_false(m.has_net);
	assert_null(m.net0.name);
	assert_int_equal(m.n_notes, 0);
	veconf_map_free(&m);
	veconf_free(&c);

	/* Nothing finite at all: Proxmox's 512 MiB, with a note. */
	map_ok("PHYSPAGES=\"0:unlimited\"\nPRIVVMPAGES=\"unlimited\"\nDISKSPACE=\"unlimited\"\n", &c, &m);
	assert_int_equal(m.memory_mb, 512);
	assert_int_equal(m.mem_source, VECONF_MEM_DEFAULT);
	assert_int_equal(m.disk_gb, 0);
	assert_true(has_note(&m, "memory: no finite PHYSPAGES, VMGUARPAGES or PRIVVMPAGES; "
				 "512 MiB (Proxmox's default)"));
	assert_int_equal(m.n_unmapped, 3);
	assert_string_equal(m.unmapped[2].key, "DISKSPACE");
	veconf_map_free(&m);
	veconf_free(&c);

	/* vswap without swap set; PHYSPAGES in bare pages rounds up to MiB. */
	map_ok("PHYSPAGES=\"0:65537\"\nSWAPPAGES=\"0\"\nVMGUARPAGES=\"1000\"\n", &c, &m);
	assert_int_equal(m.memory_mb, 257);
	assert_int_equal(m.mem_source, VECONF_MEM_PHYSPAGES);
	assert_int_equal(m.swap_mb, 0);
	assert_int_equal(m.n_unmapped, 1);
	assert_string_equal(m.unmapped[0].key, "VMGUARPAGES");
	veconf_map_free(&m);
	veconf_free(&c);
}

static void test_value_errors(void **state)
{
	(void)state;
	static const struct {
		const char *line, *error;
	} bad[] = {
		{ "ONBOOT=\"maybe\"", "ONBOOT: expected yes or no, got \"maybe\"" },
		{ "ONBOOT=\"YES\"", "ONBOOT: expected yes or no, got \"YES\"" },
		{ "PHYSPAGES=\"0:lots\"", "PHYSPAGES: expected barrier[:limit] of N, N with K/M/G/T/P/B, "
					  "or unlimited, got \"0:lots\"" },
		{ "DISKSPACE=\"10Q\"", "DISKSPACE: expected barrier[:limit] of N, N with K/M/G/T/P/B, "
				       "or unlimited, got \"10Q\"" },
		{ "CPULIMIT=\"50%\"", "CPULIMIT: \"50%\" is a share of all the host's CPUs; give a "
				      "number (100 = one CPU)" },
		{ "CPUS=\"two\"", "CPUS: expected a whole number up to 8192, got \"two\"" },
		{ "CPUUNITS=\"600000\"", "CPUUNITS: expected a whole number up to 500000, got \"600000\"" },
		{ "HOSTNAME=\"bad host\"", "HOSTNAME: \"bad host\" is not a host name" },
		{ "IP_ADDRESS=\"10.0.0.300\"", "IP_ADDRESS: \"10.0.0.300\": not an address" },
		{ "IP_ADDRESS=\"10.0.0.3/33\"", "IP_ADDRESS: \"10.0.0.3/33\": bad prefix length" },
		{ "NETIF=\"bridge=vmbr0\"", "NETIF: a NETIF entry without ifname" },
		{ "NETIF=\"ifname=eth0,mac=00:18:51\"", "NETIF: bad mac \"00:18:51\" in a NETIF entry" },
		{ "NETIF=\"ifname=eth0,vmbr0\"", "NETIF: \"vmbr0\" in a NETIF entry is not name=value" },
		{ "NAMESERVER=\"dns.example\"", "NAMESERVER: \"dns.example\" is not an IP address" },
		{ "SEARCHDOMAIN=\"a/b\"", "SEARCHDOMAIN: \"a/b\" is not a domain name" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256], want[256];
		snprintf(text, sizeof(text), "CPUS=\"1\"\nDISKSPACE=\"1G\"\n%s\n", bad[i].line);
		snprintf(want, sizeof(want), "vps.conf:3: %s", bad[i].error);
		struct veconf c;
		struct veconf_map m;
		parse_ok(text, &c);
		assert_int_equal(veconf_map(&c, &m), -EINVAL);
		if (strcmp(m.error, want) != 0)
			fail_msg("line '%s': got '%s', want '%s'", bad[i].line, m.error, want);
		assert_null(m.unmapped);
		assert_null(m.notes);
		veconf_map_free(&m);
		veconf_free(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),   cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_errors),    cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_vswap),     cmocka_unit_test(test_ubc),
		cmocka_unit_test(test_value_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
