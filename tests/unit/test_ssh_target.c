/* ssh_target_parse: "[USER@]HOST[:PORT]" with IPv6 in brackets. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "ssh.h"

static void ok(const char *spec, const char *user, const char *host, unsigned port)
{
	struct ssh_target t;
	int rc = ssh_target_parse(spec, &t);
	if (rc != 0)
		fail_msg("'%s' refused (%d)", spec, rc);
	if (user)
		assert_string_equal(t.user, user);
	else
		assert_null(t.user);
	assert_string_equal(t.host, host);
	assert_int_equal(t.port, port);
	ssh_target_free(&t);
	assert_null(t.user);
	assert_null(t.host);
}

static void bad(const char *spec)
{
	struct ssh_target t;
	int rc = ssh_target_parse(spec, &t);
	if (rc != -EINVAL)
		fail_msg("'%s' accepted or wrong error (%d)", spec ? spec : "(null)", rc);
	/* A refusal leaves nothing to free, and freeing is still safe. */
	assert_null(t.user);
	assert_null(t.host);
	ssh_target_free(&t);
}

static void test_plain(void **state)
{
	(void)state;
	ok("pve1", NULL, "pve1", 22);
	ok("pve1.example.org", NULL, "pve1.example.org", 22);
	ok("root@pve1", "root", "pve1", 22);
	ok("root@pve1:2222", "root", "pve1", 2222);
	ok("pve1:2222", NULL, "pve1", 2222);
	ok("10.0.0.5", NULL, "10.0.0.5", 22);
	ok("admin@10.0.0.5:65535", "admin", "10.0.0.5", 65535);
	ok("a@h:1", "a", "h", 1);
	ok("first.last-name_x@host", "first.last-name_x", "host", 22);
}

static void test_ipv6(void **state)
{
	(void)state;
	ok("[::1]", NULL, "::1", 22);
	ok("[::1]:2222", NULL, "::1", 2222);
	ok("root@[2001:db8::10]:22022", "root", "2001:db8::10", 22022);
	ok("root@[fe80::1%eth0]", "root", "fe80::1%eth0", 22);
	/* Bare, as ssh(1) accepts it: the whole text is the address. */
	ok("2001:db8::10", NULL, "2001:db8::10", 22);
	ok("root@::1", "root", "::1", 22);
	bad("[::1");              /* no closing bracket */
	bad("[::1]2222");         /* text after ']' without ':' */
	bad("[::1]:");            /* empty port */
	bad("[]");                /* empty address */
	bad("[]:22");
	bad("[pve1]:22");         /* brackets are for IPv6 only */
	bad("[::1]:0");
	bad("[::1]:65536");
	bad("[fe80::1%]");        /* empty zone */
	bad("2001:db8::zz");      /* not an address */
	bad("::1:22x");
}

static void test_ports(void **state)
{
	(void)state;
	bad("pve1:");
	bad("pve1:0");
	bad("pve1:65536");
	bad("pve1:99999999999999999999999");
	bad("pve1:-1");
	bad("pve1:+22");
	bad("pve1:22x");
	bad("pve1:x");
	bad("pve1: 22");
	bad("pve1:22 ");
	bad("pve1:0x16");
	ok("pve1:022", NULL, "pve1", 22);  /* decimal, leading zero harmless */
}

static void test_refusals(void **state)
{
	(void)state;
	bad(NULL);
	bad("");
	bad("root@");             /* user only */
	bad("@pve1");             /* empty user */
	bad("@");
	bad(":22");               /* empty host */
	bad("root@:22");
	bad("pve 1");             /* spaces */
	bad(" pve1");
	bad("root@pve1/x");
	bad("-oProxyCommand=x");  /* never an option to anything */
	bad("root@-pve1");
	bad("ro ot@pve1");
	bad("pve1;reboot");
	bad("pve1\n");
	bad("a@b@c:22x");
}

static void test_user_with_at(void **state)
{
	(void)state;
	/* The last '@' separates the user: hosts never contain one, some
	 * directory user names do. */
	ok("user@corp@pve1", "user@corp", "pve1", 22);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_user_with_at),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
