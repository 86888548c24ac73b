/* Kernel command lines: the kernel's word splitting (cmdline_split) and
 * p2v run's mapping of p2v.* keys onto p2v ct / p2v disk (run_plan_build). */
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

#include "cmdline.h"
#include "commands.h"
#include "log.h"
#include "run_args.h"

/* ---- what was logged: stderr goes to a file while f runs ---- */

static char logged[16384];

static int build_logged(const char *line, struct run_plan *p)
{
	fflush(stderr);
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	int saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	int rc = run_plan_build(line, "/run/p2v/password", p);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	size_t n = fread(logged, 1, sizeof(logged) - 1, tmp);
	logged[n] = '\0';
	fclose(tmp);
	return rc;
}

static void assert_logged(const char *what)
{
	if (!strstr(logged, what))
		fail_msg("'%s' not logged; the log was:\n%s", what, logged);
}

/* ---- splitting ---- */

static void split1(const char *line, size_t n, const char *const *keys, const char *const *values)
{
	struct cmdline_param *p;
	size_t got;
	assert_int_equal(cmdline_split(line, &p, &got), 0);
	if (got != n)
		fail_msg("'%s': %zu words, expected %zu", line, got, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(p[i].key, keys[i]);
		if (values[i])
			assert_string_equal(p[i].value ? p[i].value : "(null)", values[i]);
		else if (p[i].value)
			fail_msg("'%s' word %zu: value '%s', expected none", line, i, p[i].value);
	}
	cmdline_params_free(p, got);
}

#define K(...) ((const char *const[]){ __VA_ARGS__ })

static void test_split_plain(void **state)
{
	(void)state;
	split1("  BOOT_IMAGE=/vmlinuz  quiet\tnodmraid\n", 3, K("BOOT_IMAGE", "quiet", "nodmraid"),
	       K("/vmlinuz", NULL, NULL));
	split1("", 0, K(NULL), K(NULL));
	split1("   \n", 0, K(NULL), K(NULL));
	split1("k= a=b=c", 2, K("k", "a"), K("", "b=c"));
	/* '=' first is no separator (the kernel's equals == 0 test). */
	split1("=x =a=b", 2, K("=x", "=a"), K(NULL, "b"));
}

static void test_split_quotes(void **state)
{
	(void)state;
	/* The value quoted, or the whole word: quotes go, spaces stay. */
	split1("p2v.pre=\"echo a b\" x", 2, K("p2v.pre", "x"), K("echo a b", NULL));
	split1("\"p2v.pre=echo a b\" x", 2, K("p2v.pre", "x"), K("echo a b", NULL));
	/* Quotes in the middle group but are kept, as in the kernel. */
	split1("k=a\"b c\"d e", 2, K("k", "e"), K("a\"b c\"d", NULL));
	/* Leading quote of the value goes; a closing one that does not end
	 * the word stays. */
	split1("k=\"a b\"c", 1, K("k"), K("a b\"c"));
	/* No escapes: the backslash is a character, the quote still toggles. */
	split1("k=\"a\\\" b\"", 2, K("k", "b\""), K("a\\", NULL));
	/* An unterminated quote runs to the end of the line. */
	split1("a \"b c", 2, K("a", "b c"), K(NULL, NULL));
	split1("k=\"x y", 1, K("k"), K("x y"));
}

static void test_key_eq(void **state)
{
	(void)state;
	assert_true(cmdline_key_eq("p2v.accept-new-hostkey", "p2v.accept_new_hostkey"));
	assert_false(cmdline_key_eq("p2v.name", "p2v.names"));
	assert_false(cmdline_key_eq("p2v.nam", "p2v.name"));
	bool on;
	assert_int_equal(cmdline_flag(NULL, &on), 0);
	assert_true(on);
	assert_int_equal(cmdline_flag("0", &on), 0);
	assert_false(on);
	assert_int_equal(cmdline_flag("yes", &on), 0);
	assert_true(on);
	assert_int_equal(cmdline_flag("maybe", &on), -EINVAL);
}

/* ---- the plan ---- */

#define CT_BASE "p2v.server=hv p2v.mode=ct p2v.name=web p2v.root=/mnt p2v.hostkey=SHA256:k "
#define DISK_BASE "p2v.server=hv p2v.mode=disk p2v.name=vm p2v.hostkey=SHA256:k "

/* The plan's argv as one line, "ct --to hv ..."; checks NULL termination. */
static void expect_argv(const char *line, const char *want)
{
	struct run_plan p;
	int rc = build_logged(line, &p);
	if (rc != 0)
		fail_msg("'%s' refused (%d):\n%s", line, rc, logged);
	assert_false(p.interactive);
	assert_null(p.argv[p.argc]);
	char got[4096] = "";
	for (size_t i = 0; i < p.argc; i++) {
		if (i)
			strcat(got, " ");
		strcat(got, p.argv[i]);
	}
	if (strcmp(got, want))
		fail_msg("'%s'\n gave: %s\n want: %s", line, got, want);
	run_plan_free(&p);
}

static void expect_error(const char *line, const char *message)
{
	struct run_plan p;
	int rc = build_logged(line, &p);
	if (rc != -EINVAL)
		fail_msg("'%s' accepted or wrong error (%d)", line, rc);
	assert_null(p.argv);
	assert_logged(message);
}

static void test_mode_argv(void **state)
{
	(void)state;
	expect_argv(CT_BASE, "ct --to hv --name web --root /mnt --hostkey SHA256:k");
	expect_argv("p2v.server=hv p2v.mode=ct p2v.name=web p2v.device=/dev/sda2 p2v.hostkey=SHA256:k "
		    "p2v.identity=/media/key p2v.create=1 p2v.vmid=120",
		    "ct --to hv --name web --device /dev/sda2 --identity /media/key --hostkey SHA256:k "
		    "--create --vmid 120");
	expect_argv(DISK_BASE "p2v.format=raw p2v.create p2v.vmid=7",
		    "disk --to hv --name vm --format raw --hostkey SHA256:k --create --vmid 7");
	/* Other words (the kernel's root= among them) are not ours. */
	expect_argv("root=/dev/sda1 ro nodmraid " DISK_BASE "console=ttyS0",
		    "disk --to hv --name vm --hostkey SHA256:k");
	/* A flag that is off adds nothing; '-' and '_' are the same in keys. */
	expect_argv(DISK_BASE "p2v.create=0 p2v.accept-new-hostkey=1",
		    "disk --to hv --name vm --hostkey SHA256:k --accept-new-hostkey");
}

static void test_disks_list(void **state)
{
	(void)state;
	expect_argv(DISK_BASE "p2v.disks=/dev/sda,/dev/nvme0n1 p2v.disks=/dev/sdc",
		    "disk --to hv --name vm --disk /dev/sda --disk /dev/nvme0n1 --disk /dev/sdc --hostkey SHA256:k");
	/* Empty items are skipped. */
	expect_argv(DISK_BASE "p2v.disks=,/dev/sda,,",
		    "disk --to hv --name vm --disk /dev/sda --hostkey SHA256:k");
}

static void test_repeated_last_wins(void **state)
{
	(void)state;
	expect_argv(CT_BASE "p2v.name=other p2v.server=hv2 p2v.mode=ct",
		    "ct --to hv2 --name other --root /mnt --hostkey SHA256:k");
	/* The mode too: the last one decides which table counts. */
	expect_argv("p2v.mode=ct " DISK_BASE, "disk --to hv --name vm --hostkey SHA256:k");
	struct run_plan p;
	assert_int_equal(build_logged(CT_BASE "p2v.post=reboot p2v.post=poweroff p2v.fail=shell", &p), 0);
	assert_int_equal(p.post, RUN_POWEROFF);
	assert_int_equal(p.fail, RUN_SHELL);
	run_plan_free(&p);
}

static void test_quoted_values(void **state)
{
	(void)state;
	struct run_plan p;
	assert_int_equal(build_logged(CT_BASE "p2v.pre=\"mount /dev/sdb1 /media && echo ok\"", &p), 0);
	assert_string_equal(p.pre, "mount /dev/sdb1 /media && echo ok");
	run_plan_free(&p);
	expect_argv("p2v.server=hv p2v.mode=ct \"p2v.name=web\" p2v.root=\"/mnt/my root\" p2v.hostkey=SHA256:k",
		    "ct --to hv --name web --root /mnt/my root --hostkey SHA256:k");
}

static void test_unknown_key_warned(void **state)
{
	(void)state;
	struct run_plan p;
	assert_int_equal(build_logged(CT_BASE "p2v.colour=blue p2v.nmae=x", &p), 0);
	assert_logged("warning: unknown kernel command line key p2v.colour: ignored");
	assert_logged("p2v.nmae");
	assert_string_equal(p.argv[0], "ct");
	assert_int_equal(p.argc, 9);
	run_plan_free(&p);
}

static void test_missing_required(void **state)
{
	(void)state;
	struct run_plan p;
	/* No server: the interactive case, with nothing else decided. */
	assert_int_equal(build_logged("p2v.mode=ct p2v.name=x nodmraid", &p), 0);
	assert_true(p.interactive);
	assert_null(p.argv);
	run_plan_free(&p);
	expect_error("p2v.server=hv p2v.name=x p2v.hostkey=SHA256:k", "p2v.mode is required");
	expect_error("p2v.server=hv p2v.mode=vm p2v.name=x", "p2v.mode=vm: expected ct or disk");
	expect_error("p2v.server=hv p2v.mode=disk p2v.hostkey=SHA256:k", "p2v.name is required");
	expect_error("p2v.server=hv p2v.mode=disk p2v.name=x", "p2v.hostkey is required");
	expect_error("p2v.server=hv p2v.mode=disk p2v.name=x p2v.accept_new_hostkey=0", "p2v.hostkey is required");
	expect_error("p2v.server=hv p2v.mode=ct p2v.name=x p2v.hostkey=SHA256:k",
		     "needs exactly one of p2v.device=DEV (the root filesystem) or p2v.root=DIR");
	expect_error(CT_BASE "p2v.device=/dev/sda1", "needs exactly one of p2v.device");
	/* Every error is reported, not just the first. */
	expect_error("p2v.server=hv p2v.mode=ct", "p2v.name is required");
	assert_logged("p2v.hostkey is required");
	assert_logged("p2v.root=DIR");
	/* A key given without its value. */
	expect_error(CT_BASE "p2v.vmid", "p2v.vmid needs a value");
	expect_error("p2v.server= p2v.mode=ct", "p2v.server needs a value");
}

static void test_other_mode_key(void **state)
{
	(void)state;
	/* The user meant something p2v ct would silently not do: refused. */
	expect_error(CT_BASE "p2v.format=raw", "p2v.format is an option of p2v disk, not of p2v ct");
	expect_error(CT_BASE "p2v.disks=/dev/sda", "p2v.disks is an option of p2v disk");
	expect_error(DISK_BASE "p2v.root=/mnt", "p2v.root is an option of p2v ct, not of p2v disk");
}

static void test_server_composition(void **state)
{
	(void)state;
	expect_argv(DISK_BASE "p2v.user=admin p2v.port=2222",
		    "disk --to admin@hv:2222 --name vm --hostkey SHA256:k");
	expect_argv(DISK_BASE "p2v.server=root@hv:22", "disk --to root@hv:22 --name vm --hostkey SHA256:k");
	expect_argv(DISK_BASE "p2v.server=root@hv p2v.port=22", "disk --to root@hv:22 --name vm --hostkey SHA256:k");
	expect_argv(DISK_BASE "p2v.server=fd00::5 p2v.port=22", "disk --to [fd00::5]:22 --name vm --hostkey SHA256:k");
	expect_argv(DISK_BASE "p2v.server=[fd00::5] p2v.port=22", "disk --to [fd00::5]:22 --name vm --hostkey SHA256:k");
	expect_argv(DISK_BASE "p2v.server=fd00::5", "disk --to fd00::5 --name vm --hostkey SHA256:k");
	expect_error(DISK_BASE "p2v.server=hv:22 p2v.port=23", "p2v.port=23 and a port in p2v.server=hv:22");
	expect_error(DISK_BASE "p2v.server=[::1]:22 p2v.port=23", "a port in p2v.server");
	expect_error(DISK_BASE "p2v.server=a@hv p2v.user=b", "p2v.user=b and a user in p2v.server=a@hv");
	expect_error(DISK_BASE "p2v.port=0", "p2v.port=0: expected a number from 1 to 65535");
	expect_error(DISK_BASE "p2v.port=65536", "p2v.port=65536");
}

static void test_password_and_actions(void **state)
{
	(void)state;
	struct run_plan p;
	assert_int_equal(build_logged(DISK_BASE "p2v.password=\"s3cret with space\"", &p), 0);
	assert_string_equal(p.password, "s3cret with space");
	assert_string_equal(p.argv[p.argc - 2], "--password-file");
	assert_string_equal(p.argv[p.argc - 1], "/run/p2v/password");
	for (size_t i = 0; i < p.argc; i++)
		assert_null(strstr(p.argv[i], "s3cret"));
	assert_int_equal(p.post, RUN_NOTHING);
	assert_int_equal(p.fail, RUN_NOTHING);
	run_plan_free(&p);
	expect_error(DISK_BASE "p2v.post=halt", "p2v.post=halt: expected poweroff, reboot, shell or none");
	expect_error(DISK_BASE "p2v.fail=", "p2v.fail needs a value");
	expect_error(DISK_BASE "p2v.create=maybe", "p2v.create=maybe: expected 1 or 0");
}

static void test_network(void **state)
{
	(void)state;
	struct run_plan p;
	char buf[256];
	assert_int_equal(build_logged(DISK_BASE "p2v.ip=dhcp p2v.iface=eno1", &p), 0);
	assert_true(p.net.set && p.net.dhcp);
	assert_string_equal(run_net_describe(&p.net, buf, sizeof(buf)), "DHCP on eno1");
	run_plan_free(&p);
	assert_int_equal(build_logged(DISK_BASE "p2v.ip=192.0.2.7/24,192.0.2.1,192.0.2.53", &p), 0);
	assert_false(p.net.dhcp);
	assert_string_equal(p.net.addr, "192.0.2.7");
	assert_int_equal(p.net.prefix, 24);
	assert_string_equal(p.net.gw, "192.0.2.1");
	assert_string_equal(p.net.dns, "192.0.2.53");
	run_plan_free(&p);
	assert_int_equal(build_logged(DISK_BASE "p2v.ip=2001:db8::7/64", &p), 0);
	assert_int_equal(p.net.prefix, 64);
	assert_string_equal(p.net.gw, "");
	run_plan_free(&p);
	expect_error(DISK_BASE "p2v.ip=192.0.2.7", "p2v.ip=192.0.2.7: expected dhcp or ADDR/CIDR");
	expect_error(DISK_BASE "p2v.ip=192.0.2.7/33", "not an address with a prefix length");
	expect_error(DISK_BASE "p2v.ip=192.0.2.7/24,2001:db8::1", "the gateway is not an IPv4 address");
	expect_error(DISK_BASE "p2v.ip=192.0.2.7/24,192.0.2.1,dns.example", "the name server is not an IP address");
	expect_error(DISK_BASE "p2v.iface=eth/0", "p2v.iface=eth/0: not a network interface name");
}

/* ---- the tables ---- */

static void check_unique(const struct opt_def *defs, const char *what)
{
	char a[128], b[128];
	for (const struct opt_def *d = defs; d->name; d++) {
		if (!d->cmdline)
			continue;
		cmdline_key(d, a, sizeof(a));
		if (strncmp(a, "p2v.", 4) || strlen(a) < 5)
			fail_msg("%s: --%s has key '%s', not p2v.*", what, d->name, d->cmdline);
		for (const struct opt_def *e = d + 1; e->name; e++)
			if (e->cmdline && cmdline_key_eq(a, cmdline_key(e, b, sizeof(b))))
				fail_msg("%s: --%s and --%s share the key %s", what, d->name, e->name, a);
		assert_ptr_equal(cmdline_find(defs, a), d);
	}
}

static void test_tables_unique(void **state)
{
	(void)state;
	check_unique(ct_opts, "p2v ct");
	check_unique(disk_opts, "p2v disk");
	check_unique(run_keys, "p2v run");
	char k[128];
	/* run's own keys are none of the commands'; a key both commands have
	 * means the same option in each. */
	for (const struct opt_def *d = run_keys; d->name; d++) {
		cmdline_key(d, k, sizeof(k));
		if (cmdline_find(ct_opts, k) || cmdline_find(disk_opts, k))
			fail_msg("%s is both p2v run's and a command's", k);
	}
	for (const struct opt_def *d = ct_opts; d->name; d++) {
		const struct opt_def *e = d->cmdline ? cmdline_find(disk_opts, cmdline_key(d, k, sizeof(k))) : NULL;
		if (e && (strcmp(e->name, d->name) || !e->arg != !d->arg))
			fail_msg("%s: --%s in p2v ct, --%s in p2v disk", k, d->name, e->name);
	}
	/* Every key the issue names is in some table. */
	static const char *const wanted[] = {
		"p2v.server", "p2v.port", "p2v.user", "p2v.identity", "p2v.password", "p2v.hostkey",
		"p2v.accept_new_hostkey", "p2v.mode", "p2v.name", "p2v.vmid", "p2v.disks",
		"p2v.format", "p2v.create", "p2v.ip", "p2v.iface", "p2v.pre", "p2v.post", "p2v.fail",
		"p2v.root", "p2v.device",
	};
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
		if (!cmdline_find(run_keys, wanted[i]) && !cmdline_find(ct_opts, wanted[i]) &&
		    !cmdline_find(disk_opts, wanted[i]))
			fail_msg("no table has %s", wanted[i]);
	assert_true(cmdline_is_list(cmdline_find(disk_opts, "p2v.disks")));
	assert_false(cmdline_is_list(cmdline_find(disk_opts, "p2v.format")));
}

/* The dialogue's path: words already split, the command line's first and
 * the answers after them; values with spaces or quotes need no quoting. */
static void test_build_params(void **state)
{
	(void)state;
	struct cmdline_param w[] = {
		{ "p2v.mode", "disk" }, { "p2v.post", "poweroff" }, { "root", "/dev/sda1" },
		{ "p2v.mode", "ct" }, { "p2v.root", "/mnt/my \"root\"" }, { "p2v.server", "hv" },
		{ "p2v.port", "2222" }, { "p2v.user", "admin" }, { "p2v.name", "web" },
		{ "p2v.password", "pass \"word\"" }, { "p2v.hostkey", "SHA256:k" },
	};
	struct run_plan p;
	assert_int_equal(run_plan_build_params(w, sizeof(w) / sizeof(w[0]), "/run/p2v/password", &p), 0);
	assert_false(p.interactive);
	assert_string_equal(p.mode, "ct");
	assert_int_equal(p.post, RUN_POWEROFF);
	assert_string_equal(p.password, "pass \"word\"");
	char *line = run_argv_line(p.argv, p.argc);
	assert_string_equal(line, "p2v ct --to admin@hv:2222 --name web --root '/mnt/my \"root\"' "
			    "--hostkey SHA256:k --password-file /run/p2v/password");
	free(line);
	run_plan_free(&p);
	/* Without a server it is still the dialogue's case. */
	assert_int_equal(run_plan_build_params(w, 3, "/x", &p), 0);
	assert_true(p.interactive);
	run_plan_free(&p);
}

static void test_argv_line(void **state)
{
	(void)state;
	char *argv[] = { "ct", "--root", "/mnt/my root", "--to", "u@h:22", "--name", "it's", NULL };
	char *line = run_argv_line(argv, 7);
	assert_string_equal(line, "p2v ct --root '/mnt/my root' --to u@h:22 --name 'it'\\''s'");
	free(line);
}

int main(void)
{
	log_init("test");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_plain),
		cmocka_unit_test(test_split_quotes),
		cmocka_unit_test(test_key_eq),
		cmocka_unit_test(test_mode_argv),
		cmocka_unit_test(test_disks_list),
		cmocka_unit_test(test_repeated_last_wins),
		cmocka_unit_test(test_quoted_values),
		cmocka_unit_test(test_unknown_key_warned),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_other_mode_key),
		cmocka_unit_test(test_server_composition),
		cmocka_unit_test(test_password_and_actions),
		cmocka_unit_test(test_network),
		cmocka_unit_test(test_tables_unique),
		cmocka_unit_test(test_build_params),
		cmocka_unit_test(test_argv_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
