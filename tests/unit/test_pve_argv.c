/* The `pct create` argv for several kinds of source server, each option
 * checked against the schema pve-container declares for it
 * (src/PVE/LXC/Config.pm $confdesc / $netconf_desc, pve-common
 * PVE::JSONSchema formats), implemented here independently of
 * ct-import/validate.c with POSIX regexes and inet_pton. */
#include <arpa/inet.h>
#include <errno.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "create_spec.h"
#include "netconfig.h"
#include "osinfo.h"
#include "pve.h"

/* ---- the schema ---- */

static bool matches(const char *re, const char *s)
{
	regex_t r;
	assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	bool ok = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return ok;
}

static bool in_enum(const char *s, const char *const *values)
{
	for (; *values; values++)
		if (!strcmp(s, *values))
			return true;
	return false;
}

static bool integer_in(const char *s, long long min, long long max)
{
	if (!matches("^[0-9]+$", s))
		return false;
	long long v = strtoll(s, NULL, 10);
	return v >= min && v <= max;
}

static bool is_ipv4(const char *s) { struct in_addr a; return inet_pton(AF_INET, s, &a) == 1; }
static bool is_ipv6(const char *s) { struct in6_addr a; return inet_pton(AF_INET6, s, &a) == 1; }
static bool is_ip(const char *s) { return is_ipv4(s) || is_ipv6(s); }

static bool cidr(const char *s, bool v6)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return false;
	snprintf(addr, sizeof(addr), "%.*s", (int)(slash - s), s);
	return (v6 ? is_ipv6(addr) : is_ipv4(addr)) && integer_in(slash + 1, v6 ? 0 : 0, v6 ? 128 : 32);
}

/* PVE::JSONSchema dns-name: ^(label\.)*label$ with label [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])? */
#define DNS_LABEL "[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?"
static bool dns_name(const char *s)
{
	return strlen(s) <= 255 && matches("^(" DNS_LABEL "\\.)*" DNS_LABEL "$", s);
}

static bool each(const char *list, bool (*fn)(const char *))
{
	char *copy = strdup(list), *save = NULL;
	bool ok = true, any = false;
	for (char *w = strtok_r(copy, " ,;", &save); w; w = strtok_r(NULL, " ,;", &save)) {
		ok = ok && fn(w);
		any = true;
	}
	free(copy);
	return ok && any;
}

static bool boolean(const char *s)
{
	static const char *const v[] = { "0", "1", "on", "off", "yes", "no", "true", "false", NULL };
	return in_enum(s, v);
}

/* $netconf_desc: a property string of known keys, name= required. */
static void check_net(const char *value)
{
	static const char *const keys[] = { "name", "bridge", "hwaddr", "mtu", "ip", "gw", "ip6", "gw6",
					    "firewall", "tag", "trunks", "rate", "link_down", "type", NULL };
	char *copy = strdup(value), *save = NULL;
	char seen[16][16];
	size_t nseen = 0;
	bool has_name = false;
	for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		assert_non_null(eq);
		*eq = '\0';
		const char *k = kv, *v = eq + 1;
		assert_true(in_enum(k, keys));
		for (size_t i = 0; i < nseen; i++)
			assert_string_not_equal(seen[i], k);
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", k);
		if (!strcmp(k, "name")) {
			has_name = true;
			assert_true(matches("^[-_.a-zA-Z0-9]+$", v));
		} else if (!strcmp(k, "bridge")) {
			assert_true(matches("^[-_.a-zA-Z0-9]+$", v));
		} else if (!strcmp(k, "ip")) {
			assert_true(!strcmp(v, "dhcp") || !strcmp(v, "manual") || cidr(v, false));
		} else if (!strcmp(k, "gw")) {
			assert_true(is_ipv4(v));
		} else if (!strcmp(k, "ip6")) {
			assert_true(!strcmp(v, "dhcp") || !strcmp(v, "manual") || !strcmp(v, "auto") || cidr(v, true));
		} else if (!strcmp(k, "gw6")) {
			assert_true(is_ipv6(v));
		} else if (!strcmp(k, "tag")) {
			assert_true(integer_in(v, 1, 4094));
		} else if (!strcmp(k, "firewall") || !strcmp(k, "link_down")) {
			assert_true(boolean(v));
		} else if (!strcmp(k, "hwaddr")) {
			/* pve-common mac-addr: unicast, six hex pairs */
			assert_true(matches("^[0-9a-fA-F][02468aceACE](:[0-9a-fA-F]{2}){5}$", v));
		} else if (!strcmp(k, "mtu")) {
			assert_true(integer_in(v, 64, 65536));
		}
	}
	assert_true(has_name);
	free(copy);
}

/* Every option of a `pct create` argv against its schema entry. */
static void check_against_schema(char **argv)
{
	static const char *const arch[] = { "amd64", "i386", "arm64", "armhf", "riscv32", "riscv64", NULL };
	static const char *const ostype[] = { "debian", "devuan", "ubuntu", "centos", "fedora", "opensuse",
					      "archlinux", "alpine", "gentoo", "nixos", "unmanaged", NULL };
	assert_string_equal(argv[0], "pct");
	assert_string_equal(argv[1], "create");
	assert_true(integer_in(argv[2], 100, 999999999));
	/* ostemplate: a volume ID of content vztmpl, or an absolute path (root only). */
	assert_true(matches("^[^:[:space:]]+:vztmpl/[^/]+\\.(tar|tar\\.(gz|xz|zst|bz2)|tgz)$", argv[3]) ||
		    argv[3][0] == '/');
	char seen[32][32];
	size_t nseen = 0;
	for (size_t i = 4; argv[i]; i += 2) {
		const char *opt = argv[i], *v = argv[i + 1];
		assert_true(!strncmp(opt, "--", 2));
		assert_non_null(v);
		opt += 2;
		for (size_t s = 0; s < nseen; s++)
			assert_string_not_equal(seen[s], opt);
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", opt);
		if (!strcmp(opt, "arch"))
			assert_true(in_enum(v, arch));
		else if (!strcmp(opt, "ostype"))
			assert_true(in_enum(v, ostype));
		else if (!strcmp(opt, "hostname"))
			assert_true(dns_name(v));
		else if (!strcmp(opt, "unprivileged") || !strcmp(opt, "onboot"))
			assert_true(boolean(v));
		else if (!strcmp(opt, "rootfs"))
			/* pct create's "allocate a new volume" form: STORAGE:SIZE_IN_GiB */
			assert_true(matches("^([^:[:space:]]+):([0-9]+(\\.[0-9]+)?)$", v));
		else if (!strcmp(opt, "memory"))
			assert_true(integer_in(v, 16, 1LL << 40));
		else if (!strcmp(opt, "cores"))
			assert_true(integer_in(v, 1, 8192));
		else if (!strcmp(opt, "swap"))
			assert_true(integer_in(v, 0, 1LL << 40));
		else if (!strcmp(opt, "cpuunits"))
			assert_true(integer_in(v, 0, 500000));
		else if (!strcmp(opt, "cpulimit"))
			/* number, minimum 0, maximum 8192 */
			assert_true(matches("^[0-9]+(\\.[0-9]+)?$", v) && strtod(v, NULL) <= 8192);
		else if (!strcmp(opt, "net0"))
			check_net(v);
		else if (!strcmp(opt, "nameserver"))
			assert_true(each(v, is_ip));
		else if (!strcmp(opt, "searchdomain"))
			assert_true(each(v, dns_name));
		else
			fail_msg("option --%s is not one pct create takes here", opt);
	}
}

/* ---- building argvs ---- */

static char **build(const struct create_args *a, struct template_info *info, const char *tpl,
		    struct spec_storage *store, struct ct_spec *spec)
{
	*spec = (struct ct_spec){ .template_path = tpl, .lxc_path = "/var/lib/lxc" };
	assert_int_equal(create_spec_fill(spec, store, a, info, BACKEND_PVE), 0);
	if (!spec->vmid)
		spec->vmid = 123;
	char **argv = pve_create_argv(spec);
	assert_non_null(argv);
	check_against_schema(argv);
	return argv;
}

static char *joined(char **argv)
{
	size_t len = 1;
	for (char **p = argv; *p; p++)
		len += strlen(*p) + 3;
	char *s = calloc(1, len);
	for (char **p = argv; *p; p++) {
		if (p != argv)
			strcat(s, " ");
		bool q = strchr(*p, ' ') != NULL;
		if (q)
			strcat(s, "'");
		strcat(s, *p);
		if (q)
			strcat(s, "'");
	}
	return s;
}

static void expect_argv(char **argv, const char *want)
{
	char *got = joined(argv);
	assert_string_equal(got, want);
	free(got);
	pve_argv_free(argv);
}

static void test_debian_amd64_static(void **state)
{
	(void)state;
	struct template_info info = { 0 };
	info.ostype = strdup("debian");
	info.arch = strdup("amd64");
	info.hostname = strdup("web1.example.com");
	info.used_bytes = 5ULL << 30;  /* 7.5 GiB wanted → 8 */
	assert_int_equal(netcfg_parse_ifupdown(
		"auto lo\niface lo inet loopback\nauto ens18\niface ens18 inet static\n"
		"  address 192.0.2.10/24\n  gateway 192.0.2.1\n  dns-nameservers 192.0.2.53 9.9.9.9\n"
		"  dns-search example.com\n", &info.net), 0);
	struct create_args a = { .template = "debian12-web1" };
	struct spec_storage store = { 0 };
	struct ct_spec spec;
	char **argv = build(&a, &info, "/var/lib/vz/template/cache/debian12-web1.tar.zst", &store, &spec);
	expect_argv(argv, "pct create 123 local:vztmpl/debian12-web1.tar.zst --arch amd64 --ostype debian "
		    "--hostname web1.example.com --unprivileged 0 --onboot 1 --rootfs local-lvm:8 "
		    "--memory 1024 --cores 1 --net0 name=eth0,bridge=vmbr0,ip=192.0.2.10/24,gw=192.0.2.1 "
		    "--nameserver '192.0.2.53 9.9.9.9' --searchdomain example.com");
	spec_storage_free(&store);

	/* Options override the template: address, gateway, name, sizes. */
	struct create_args o = { .template = "x", .vmid = "4242", .hostname = "new", .ip = "10.0.0.5/16",
				 .gw = "10.0.0.1", .storage = "tank", .disk_gb = "20", .memory = "2048",
				 .cores = "4", .bridge = "vmbr1", .nameserver = "1.1.1.1",
				 .searchdomain = "a.example b.example" };
	argv = build(&o, &info, "/srv/templates/debian12-web1.tar.zst", &store, &spec);
	expect_argv(argv, "pct create 4242 /srv/templates/debian12-web1.tar.zst --arch amd64 --ostype debian "
		    "--hostname new --unprivileged 0 --onboot 1 --rootfs tank:20 --memory 2048 --cores 4 "
		    "--net0 name=eth0,bridge=vmbr1,ip=10.0.0.5/16,gw=10.0.0.1 --nameserver 1.1.1.1 "
		    "--searchdomain 'a.example b.example'");
	spec_storage_free(&store);

	/* A new address outside the template's subnet does not inherit its gateway. */
	struct create_args n = { .template = "x", .ip = "10.9.9.9/24" };
	argv = build(&n, &info, "/var/lib/vz/template/cache/t.tar.gz", &store, &spec);
	assert_null(spec.gw);
	pve_argv_free(argv);
	spec_storage_free(&store);
	template_info_free(&info);
}

static void test_debian_i386_dhcp(void **state)
{
	(void)state;
	struct template_info info = { 0 };
	info.ostype = strdup(ostype_from_os_release("ID=debian\nVERSION_ID=\"11\"\n"));
	uint8_t elf[64] = { 0x7f, 'E', 'L', 'F', 1, 1, 1 };
	elf[16] = 3; elf[18] = 3; elf[20] = 1;   /* ET_DYN, EM_386, EV_CURRENT */
	info.arch = strdup(arch_from_elf(elf, sizeof(elf)));
	info.hostname = strdup("old_box");        /* not a DNS name: dropped */
	info.used_bytes = 700ULL << 20;           /* small: the 4 GiB minimum */
	assert_int_equal(netcfg_parse_ifupdown("iface eth0 inet dhcp\n", &info.net), 0);
	struct create_args a = { .template = "old" };
	struct spec_storage store = { 0 };
	struct ct_spec spec;
	char **argv = build(&a, &info, "/var/lib/vz/template/cache/old.tar.gz", &store, &spec);
	expect_argv(argv, "pct create 123 local:vztmpl/old.tar.gz --arch i386 --ostype debian "
		    "--unprivileged 0 --onboot 1 --rootfs local-lvm:4 --memory 1024 --cores 1 "
		    "--net0 name=eth0,bridge=vmbr0,ip=dhcp");
	spec_storage_free(&store);

	/* --gw never goes with dhcp, even when the template had one. */
	free(info.net.gw);
	info.net.gw = strdup("10.0.0.1");
	argv = build(&a, &info, "/var/lib/vz/template/cache/old.tar.gz", &store, &spec);
	assert_null(spec.gw);
	pve_argv_free(argv);
	spec_storage_free(&store);
	template_info_free(&info);
}

static void test_centos_ifcfg(void **state)
{
	(void)state;
	struct template_info info = { 0 };
	info.ostype = strdup(ostype_from_os_release("NAME=\"Rocky Linux\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n"));
	info.arch = strdup("amd64");
	info.hostname = hostname_from_sysconfig("NETWORKING=yes\nHOSTNAME=db1.corp.example.net\n");
	info.used_bytes = (uint64_t)(2.7 * (1ULL << 30));  /* 4.05 GiB → 5 */
	assert_int_equal(netcfg_parse_ifcfg("ifcfg-ens192",
		"TYPE=Ethernet\nBOOTPROTO=none\nDEVICE=ens192\nONBOOT=yes\nIPADDR=172.16.5.9\n"
		"PREFIX=22\nGATEWAY=172.16.4.1\nDNS1=172.16.4.2\nDOMAIN=corp.example.net\n", &info.net), 0);
	struct create_args a = { .template = "rocky", .vmid = "200", .storage = "local" };
	struct spec_storage store = { 0 };
	struct ct_spec spec;
	char **argv = build(&a, &info, "/var/lib/vz/template/cache/rocky.tar.xz", &store, &spec);
	expect_argv(argv, "pct create 200 local:vztmpl/rocky.tar.xz --arch amd64 --ostype centos "
		    "--hostname db1.corp.example.net --unprivileged 0 --onboot 1 --rootfs local:5 "
		    "--memory 1024 --cores 1 --net0 name=eth0,bridge=vmbr0,ip=172.16.5.9/22,gw=172.16.4.1 "
		    "--nameserver 172.16.4.2 --searchdomain corp.example.net");
	spec_storage_free(&store);
	template_info_free(&info);
}

static void test_alpine_and_ipv6(void **state)
{
	(void)state;
	struct template_info info = { 0 };
	info.ostype = strdup(ostype_from_os_release("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.18.4\n"));
	info.hostname = hostname_from_etc_hostname("alpine-gw\n");
	/* Unknown arch: --arch is left out and pct detects it itself. */
	assert_int_equal(netcfg_parse_ifupdown("auto eth0\niface eth0 inet6 static\n"
					       "  address 2001:db8::7/64\n  gateway 2001:db8::1\n", &info.net), 0);
	struct create_args a = { .template = "alpine" };
	struct spec_storage store = { 0 };
	struct ct_spec spec;
	char **argv = build(&a, &info, "/var/lib/vz/template/cache/alpine.tar.gz", &store, &spec);
	expect_argv(argv, "pct create 123 local:vztmpl/alpine.tar.gz --ostype alpine --hostname alpine-gw "
		    "--unprivileged 0 --onboot 1 --rootfs local-lvm:4 --memory 1024 --cores 1 "
		    "--net0 name=eth0,bridge=vmbr0,ip6=2001:db8::7/64,gw6=2001:db8::1");
	spec_storage_free(&store);

	/* Nothing found at all: unmanaged, dhcp. Bad template DNS is dropped. */
	struct template_info none = { 0 };
	none.net.nameserver = strdup("10.0.0.53 not-an-ip");
	none.net.searchdomain = strdup("ok.example bad_domain");
	argv = build(&a, &none, "/var/lib/vz/template/cache/alpine.tar.gz", &store, &spec);
	expect_argv(argv, "pct create 123 local:vztmpl/alpine.tar.gz --ostype unmanaged --unprivileged 0 "
		    "--onboot 1 --rootfs local-lvm:4 --memory 1024 --cores 1 "
		    "--net0 name=eth0,bridge=vmbr0,ip=dhcp --nameserver 10.0.0.53 --searchdomain ok.example");
	spec_storage_free(&store);
	template_info_free(&none);
	template_info_free(&info);
}

/* What convert-openvz adds from a ve.conf: swap, CPU weight and limit, a
 * MAC, IPv4 and IPv6 together, onboot off. */
static void test_openvz_fields(void **state)
{
	(void)state;
	struct ct_spec spec = {
		.template_path = "/srv/cache/openvz-101.tar.zst", .template_name = "openvz-101.tar.zst",
		.vmid = 101, .hostname = "ovz101.example.com", .storage = "local-lvm", .disk_gb = 10,
		.memory_mb = 1024, .has_swap = true, .swap_mb = 0, .cores = 2, .onboot = -1,
		.cpuunits = 1000, .cpulimit = "1.5", .hwaddr = "00:18:51:AB:CD:EF", .bridge = "vmbr1",
		.ip = "192.0.2.10/32", .gw = "192.0.2.1", .ip6 = "2001:db8::10/128", .gw6 = "2001:db8::1",
		.ostype = "debian", .arch = "amd64",
	};
	char **argv = pve_create_argv(&spec);
	assert_non_null(argv);
	check_against_schema(argv);
	expect_argv(argv, "pct create 101 /srv/cache/openvz-101.tar.zst --arch amd64 --ostype debian "
		    "--hostname ovz101.example.com --unprivileged 0 --onboot 0 --rootfs local-lvm:10 "
		    "--memory 1024 --swap 0 --cores 2 --cpulimit 1.5 --cpuunits 1000 "
		    "--net0 name=eth0,bridge=vmbr1,hwaddr=00:18:51:AB:CD:EF,ip=192.0.2.10/32,gw=192.0.2.1,"
		    "ip6=2001:db8::10/128,gw6=2001:db8::1");

	/* venet with only IPv6, no gateway; dhcp for IPv4 is not invented. */
	spec = (struct ct_spec){ .template_path = "/srv/cache/openvz-102.tar.zst",
				 .template_name = "openvz-102.tar.zst", .vmid = 102, .storage = "local",
				 .disk_gb = 4, .memory_mb = 256, .has_swap = true, .swap_mb = 512,
				 .cores = 1, .onboot = 1, .bridge = "vmbr0", .ip6 = "2001:db8::2/128" };
	argv = pve_create_argv(&spec);
	assert_non_null(argv);
	check_against_schema(argv);
	expect_argv(argv, "pct create 102 /srv/cache/openvz-102.tar.zst --ostype unmanaged "
		    "--unprivileged 0 --onboot 1 --rootfs local:4 --memory 256 --swap 512 --cores 1 "
		    "--net0 name=eth0,bridge=vmbr0,ip6=2001:db8::2/128");
}

static void test_option_checks(void **state)
{
	(void)state;
	struct create_args ok = { .template = "t", .vmid = "100", .cores = "8192", .memory = "16",
				  .hostname = "a-b.c", .ip = "dhcp", .storage = "local-zfs",
				  .bridge = "vmbr0", .backend = "pve" };
	assert_int_equal(create_args_check(&ok), 0);
	struct create_args bad[] = {
		{ .vmid = "100" },                         /* no template */
		{ .template = "t", .vmid = "99" },
		{ .template = "t", .vmid = "1000000000" },
		{ .template = "t", .vmid = "1e3" },
		{ .template = "t", .cores = "0" },
		{ .template = "t", .cores = "8193" },
		{ .template = "t", .memory = "15" },
		{ .template = "t", .hostname = "-bad" },
		{ .template = "t", .hostname = "under_score" },
		{ .template = "t", .ip = "10.0.0.1" },
		{ .template = "t", .ip = "10.0.0.1/33" },
		{ .template = "t", .ip = "dhcp", .gw = "10.0.0.1" },
		{ .template = "t", .gw = "10.0.0.256" },
		{ .template = "t", .ip = "10.0.0.2/24", .gw = "2001:db8::1" },
		{ .template = "t", .storage = "local:lvm" },
		{ .template = "t", .storage = "a b" },
		{ .template = "t", .bridge = "vmbr0,ip=1.2.3.4/8" },
		{ .template = "t", .nameserver = "dns.example" },
		{ .template = "t", .searchdomain = "a..b" },
		{ .template = "t", .backend = "docker" },
		{ .template = "t", .name = "../x" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (create_args_check(&bad[i]) != -EINVAL)
			fail_msg("case %zu was accepted", i);
	}
	assert_int_equal(default_disk_gb(0), 4);
	assert_int_equal(default_disk_gb(3ULL << 30), 5);   /* 4.5 → 5 */
	assert_int_equal(default_disk_gb(4ULL << 30), 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debian_amd64_static),
		cmocka_unit_test(test_debian_i386_dhcp),
		cmocka_unit_test(test_centos_ifcfg),
		cmocka_unit_test(test_alpine_and_ipv6),
		cmocka_unit_test(test_openvz_fields),
		cmocka_unit_test(test_option_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
