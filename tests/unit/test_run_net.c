/* p2v run's network plan: the commands p2v.ip makes, the DHCP client's
 * argv, what a udhcpc lease says, resolv.conf, and which interface is
 * chosen. The integration test test_run_net.sh runs them in namespaces. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "run_net.h"

/* One argv as a single line, for comparing whole commands. */
static const char *line(const char *const *argv)
{
	static char buf[1024];
	return run_net_argv_line(argv, buf, sizeof(buf));
}

static struct run_net parsed(const char *ip, const char *iface)
{
	struct run_net n;
	assert_int_equal(run_net_parse(ip, iface, &n), 0);
	return n;
}

static void test_static_v4(void **state)
{
	(void)state;
	struct run_net n = parsed("192.0.2.7/24,192.0.2.1,192.0.2.53", "eno1");
	struct run_net_cmds c;
	run_net_static_cmds(&n, "eno1", &c);
	assert_int_equal(c.n, 2);
	assert_string_equal(line(c.argv[0]), "ip -4 addr replace 192.0.2.7/24 dev eno1");
	assert_string_equal(line(c.argv[1]), "ip -4 route replace default via 192.0.2.1 dev eno1");
	/* NULL-terminated, as execvp needs. */
	assert_null(c.argv[0][7]);
	assert_null(c.argv[1][9]);
}

static void test_static_no_gateway(void **state)
{
	(void)state;
	struct run_net n = parsed("10.1.2.3/8", NULL);
	struct run_net_cmds c;
	run_net_static_cmds(&n, "eth0", &c);
	assert_int_equal(c.n, 1);
	assert_string_equal(line(c.argv[0]), "ip -4 addr replace 10.1.2.3/8 dev eth0");
}

/* A hoster's /32 with a router outside it: the route needs onlink. */
static void test_static_onlink(void **state)
{
	(void)state;
	struct run_net n = parsed("203.0.113.9/32,172.31.1.1", NULL);
	struct run_net_cmds c;
	run_net_static_cmds(&n, "eth0", &c);
	assert_string_equal(line(c.argv[1]), "ip -4 route replace default via 172.31.1.1 dev eth0 onlink");
	n = parsed("192.0.2.7/25,192.0.2.200", NULL);
	run_net_static_cmds(&n, "eth0", &c);
	assert_string_equal(line(c.argv[1]), "ip -4 route replace default via 192.0.2.200 dev eth0 onlink");
}

static void test_static_v6(void **state)
{
	(void)state;
	struct run_net n = parsed("2001:db8::7/64,fe80::1,2001:db8::53", NULL);
	struct run_net_cmds c;
	run_net_static_cmds(&n, "eth0", &c);
	assert_string_equal(line(c.argv[0]), "ip -6 addr replace 2001:db8::7/64 dev eth0");
	/* A link-local router is on the link: no onlink. */
	assert_string_equal(line(c.argv[1]), "ip -6 route replace default via fe80::1 dev eth0");
	n = parsed("2001:db8::7/64,2001:db9::1", NULL);
	run_net_static_cmds(&n, "eth0", &c);
	assert_string_equal(line(c.argv[1]), "ip -6 route replace default via 2001:db9::1 dev eth0 onlink");
}

static void test_in_subnet(void **state)
{
	(void)state;
	assert_true(run_net_in_subnet("192.0.2.7", 24, "192.0.2.1"));
	assert_false(run_net_in_subnet("192.0.2.7", 24, "192.0.3.1"));
	assert_true(run_net_in_subnet("192.0.2.7", 25, "192.0.2.127"));
	assert_false(run_net_in_subnet("192.0.2.7", 25, "192.0.2.128"));
	assert_true(run_net_in_subnet("10.0.0.1", 0, "8.8.8.8"));
	assert_false(run_net_in_subnet("192.0.2.7", 32, "192.0.2.8"));
	assert_true(run_net_in_subnet("2001:db8::7", 64, "2001:db8::1"));
	assert_false(run_net_in_subnet("2001:db8::7", 64, "2001:db8:0:1::1"));
	assert_false(run_net_in_subnet("192.0.2.7", 24, "2001:db8::1"));
}

static void test_dhcp_argv(void **state)
{
	(void)state;
	struct run_net_dhcp d;
	assert_int_equal(run_net_dhcp_argv(RUN_DHCP_UDHCPC, "eth0", "/run/p2v", &d), 12);
	assert_string_equal(line(d.argv), "udhcpc -i eth0 -f -n -q -t " RUN_DHCP_TRIES " -T 3 -s /run/p2v/udhcpc.script");
	assert_string_equal(d.lease, "/run/p2v/lease");
	assert_int_equal(run_net_dhcp_argv(RUN_DHCP_BUSYBOX, "eth0", "/r", &d), 13);
	assert_string_equal(line(d.argv), "busybox udhcpc -i eth0 -f -n -q -t " RUN_DHCP_TRIES " -T 3 -s /r/udhcpc.script");
	assert_null(d.argv[13]);
	assert_int_equal(run_net_dhcp_argv(RUN_DHCP_DHCLIENT, "eno1", "/r", &d), 7);
	assert_string_equal(line(d.argv), "dhclient -1 -pf /r/dhclient.pid -lf /r/dhclient.leases eno1");
	assert_int_equal(run_net_dhcp_argv(RUN_DHCP_NONE, "eno1", "/r", &d), 0);
	assert_null(d.argv[0]);
}

static void test_lease(void **state)
{
	(void)state;
	struct run_net n;
	assert_int_equal(run_net_parse_lease("ip=10.9.0.50\nmask=24\nsubnet=255.255.255.0\n"
					     "router=10.9.0.1 10.9.0.2\ndns=10.9.0.53 10.9.0.54\n", &n), 0);
	assert_true(n.set && n.dhcp);
	assert_string_equal(n.addr, "10.9.0.50");
	assert_int_equal(n.prefix, 24);
	assert_string_equal(n.gw, "10.9.0.1");
	assert_string_equal(n.dns, "10.9.0.53");
	/* An old udhcpc without $mask: the dotted subnet. */
	assert_int_equal(run_net_parse_lease("ip=10.9.0.50\nmask=\nsubnet=255.255.240.0\nrouter=\ndns=\n", &n), 0);
	assert_int_equal(n.prefix, 20);
	assert_string_equal(n.gw, "");
	assert_string_equal(n.dns, "");
	/* What cannot be used is refused or dropped, never passed on. */
	assert_int_equal(run_net_parse_lease("ip=\nmask=24\n", &n), -EINVAL);
	assert_int_equal(run_net_parse_lease("ip=10.9.0.50\nsubnet=255.0.255.0\n", &n), -EINVAL);
	assert_int_equal(run_net_parse_lease("ip=10.9.0.50\nmask=33\n", &n), -EINVAL);
	assert_int_equal(run_net_parse_lease("ip=10.9.0.50\nmask=16\nrouter=-rf\ndns=x;y\n", &n), 0);
	assert_string_equal(n.gw, "");
	assert_string_equal(n.dns, "");
	assert_int_equal(run_net_parse_lease("mask=16\nip=10.9.0.50\n", &n), 0);
	assert_int_equal(n.prefix, 16);
}

/* The script p2v writes for udhcpc, run by sh with udhcpc's variables:
 * the lease file it leaves is what run_net_parse_lease reads. */
static void test_udhcpc_script(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_run_net.XXXXXX", script[64], lease[64], env[80];
	assert_non_null(mkdtemp(dir));
	snprintf(script, sizeof(script), "%s/s", dir);
	snprintf(lease, sizeof(lease), "%s/lease", dir);
	FILE *f = fopen(script, "w");
	assert_non_null(f);
	fputs(run_net_udhcpc_script, f);
	fclose(f);
	snprintf(env, sizeof(env), "P2V_LEASE=%s", lease);
	for (int pass = 0; pass < 2; pass++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			char *envp[] = { env, "ip=10.9.0.50", "mask=24", "subnet=255.255.255.0",
					 "router=10.9.0.1", "dns=10.9.0.53 10.9.0.54", NULL };
			execle("/bin/sh", "sh", script, pass ? "bound" : "deconfig", (char *)NULL, envp);
			_exit(127);
		}
		int st;
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		/* deconfig writes nothing. */
		assert_int_equal(access(lease, F_OK) == 0, pass == 1);
	}
	char text[512] = "";
	f = fopen(lease, "r");
	assert_non_null(f);
	text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
	fclose(f);
	struct run_net n;
	assert_int_equal(run_net_parse_lease(text, &n), 0);
	assert_string_equal(n.addr, "10.9.0.50");
	assert_int_equal(n.prefix, 24);
	assert_string_equal(n.gw, "10.9.0.1");
	assert_string_equal(n.dns, "10.9.0.53");
	unlink(lease);
	unlink(script);
	rmdir(dir);
}

static void test_resolv_conf(void **state)
{
	(void)state;
	char buf[128];
	assert_int_equal(run_net_resolv_conf("192.0.2.53", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "# written by p2v run\nnameserver 192.0.2.53\n");
	assert_int_equal(run_net_resolv_conf("192.0.2.53", buf, 20), -ENOSPC);
}

static void test_choose(void **state)
{
	(void)state;
	struct run_net_link l[] = {
		{ "lo", false, false, true },       /* loopback: never */
		{ "eth10", true, true, true },
		{ "sit0", false, false, true },     /* a tunnel: never */
		{ "eth2", true, true, true },       /* before eth10 in natural order */
		{ "eth1", true, true, false },      /* no cable */
		{ "dummy0", true, false, true },    /* no device: not while there are NICs */
	};
	assert_int_equal(run_net_choose(l, 6), 3);
	l[3].carrier = false;
	assert_int_equal(run_net_choose(l, 6), 1);
	l[1].carrier = false;
	assert_int_equal(run_net_choose(l, 6), -1);
	assert_false(run_net_candidate(l, 6, 0));
	assert_false(run_net_candidate(l, 6, 2));
	assert_true(run_net_candidate(l, 6, 4));
	assert_false(run_net_candidate(l, 6, 5));
	/* Only virtual links (a container, a namespace's veth): they count. */
	struct run_net_link v[] = {
		{ "lo", false, false, true },
		{ "veth1", true, false, true },
		{ "eth0", true, false, false },
	};
	assert_true(run_net_candidate(v, 3, 1));
	assert_int_equal(run_net_choose(v, 3), 1);
}

static void test_describe(void **state)
{
	(void)state;
	char buf[256];
	struct run_net n = parsed("192.0.2.7/24,192.0.2.1,192.0.2.53", "eno1");
	assert_string_equal(run_net_describe(&n, buf, sizeof(buf)),
			    "192.0.2.7/24 on eno1, default route via 192.0.2.1, name server 192.0.2.53");
	n = parsed("dhcp", NULL);
	assert_string_equal(run_net_describe(&n, buf, sizeof(buf)), "DHCP on the first interface with a link");
}

static void test_argv_line_quotes(void **state)
{
	(void)state;
	const char *argv[] = { "sh", "-c", "a b", "it's", "", NULL };
	assert_string_equal(line(argv), "sh -c 'a b' 'it'\\''s' ''");
}

int main(void)
{
	log_init("test");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_static_v4),
		cmocka_unit_test(test_static_no_gateway),
		cmocka_unit_test(test_static_onlink),
		cmocka_unit_test(test_static_v6),
		cmocka_unit_test(test_in_subnet),
		cmocka_unit_test(test_dhcp_argv),
		cmocka_unit_test(test_lease),
		cmocka_unit_test(test_udhcpc_script),
		cmocka_unit_test(test_resolv_conf),
		cmocka_unit_test(test_choose),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_argv_line_quotes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
