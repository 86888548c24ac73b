/* Small shared helpers: names, numbers, shell quoting, option parsing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "options.h"
#include "remote.h"
#include "util.h"

static void test_name_is_safe(void **state)
{
	(void)state;
	assert_true(name_is_safe("web01"));
	assert_true(name_is_safe("debian-12_amd64+p2v.2026"));
	assert_false(name_is_safe(""));
	assert_false(name_is_safe(".hidden"));
	assert_false(name_is_safe("-rf"));
	assert_false(name_is_safe("../etc"));
	assert_false(name_is_safe("a/b"));
	assert_false(name_is_safe("a b"));
	assert_false(name_is_safe("caf\xc3\xa9"));
	char longname[130];
	memset(longname, 'a', 129);
	longname[129] = '\0';
	assert_false(name_is_safe(longname));
	longname[128] = '\0';
	assert_true(name_is_safe(longname));
}

static void test_parse_u64(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(parse_u64("42", 1, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_u64("0", 1, 100, &v), -EINVAL);
	assert_int_equal(parse_u64("101", 1, 100, &v), -EINVAL);
	assert_int_equal(parse_u64("-1", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_u64("12abc", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_u64("", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_u64("99999999999999999999999", 0, UINT64_MAX, &v), -EINVAL);
}

static void test_shell_quote(void **state)
{
	(void)state;
	char *q = shell_quote("it's $HOME; rm -rf /");
	assert_string_equal(q, "'it'\\''s $HOME; rm -rf /'");
	free(q);
	char *args[] = { "--template", "a b.tar.zst", "--ip", "dhcp" };
	char *cmd = remote_command("ct-import create-ct", args, 4);
	assert_string_equal(cmd, "ct-import create-ct '--template' 'a b.tar.zst' '--ip' 'dhcp'");
	free(cmd);
}

struct seen {
	int keys[8];
	const char *args[8];
	int n;
};

static int record(void *ctx, int key, const char *arg)
{
	struct seen *s = ctx;
	s->keys[s->n] = key;
	s->args[s->n++] = arg;
	return 0;
}

static const struct opt_def defs[] = {
	{ "name", 256, "NAME", "a name" },
	{ "force", 257, NULL, "a flag" },
	{ "verbose", 'v', NULL, "more" },
	{ 0 },
};

static void test_opt_parse(void **state)
{
	(void)state;
	struct seen s = { 0 };
	char *argv[] = { "cmd", "--name", "x", "operand", "-v", "--force", NULL };
	int idx = opt_parse(defs, 6, argv, record, &s);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.keys[0], 256);
	assert_string_equal(s.args[0], "x");
	assert_int_equal(s.keys[1], 'v');
	assert_int_equal(s.keys[2], 257);
	assert_int_equal(idx, 5);  /* getopt moved the operand to the end */
	assert_string_equal(argv[idx], "operand");

	struct seen t = { 0 };
	char *bad[] = { "cmd", "--nope", NULL };
	assert_int_equal(opt_parse(defs, 2, bad, record, &t), -EINVAL);
	char *missing[] = { "cmd", "--name", NULL };
	assert_int_equal(opt_parse(defs, 2, missing, record, &t), -EINVAL);
	assert_int_equal(t.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_is_safe),
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_shell_quote),
		cmocka_unit_test(test_opt_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
