/* The batch manifest (ct-import/batch_manifest.h): what a line means,
 * defaults, and every kind of mistake reported with its file and line, all
 * of them in one pass. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "batch_manifest.h"

static void parse_ok(const char *text, struct batch_manifest *m)
{
	int rc = batch_manifest_parse("m.txt", text, strlen(text), m);
	for (size_t i = 0; i < m->n_error; i++)
		print_message("unexpected: %s\n", m->error[i]);
	assert_int_equal(rc, 0);
	assert_int_equal(m->n_error, 0);
}

/* The text must be refused with exactly these errors, in this order. */
static void parse_errors(const char *text, const char *const *expected, size_t n)
{
	struct batch_manifest m;
	assert_int_equal(batch_manifest_parse("m.txt", text, strlen(text), &m), -EINVAL);
	for (size_t i = 0; i < m.n_error; i++)
		print_message("error %zu: %s\n", i, m.error[i]);
	assert_int_equal(m.n_error, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(m.error[i], expected[i]);
	batch_manifest_free(&m);
}

static void test_lines(void **state)
{
	(void)state;
	struct batch_manifest m;
	parse_ok("# fifty containers\n"
		 "\n"
		 "   \t\n"
		 "/vz/dump/vzdump-openvz-101-2020_01_01-00_00_00.tar vmid=201 storage=local-lvm bridge=vmbr1 "
		 "gw=192.0.2.1 output=create backend=lxc start=yes  # the web server\n"
		 "archives/102.tgz\tvmid=202 output=vzdump gw=2001:db8::1\r\n"
		 "/vz/private/103 output=template", &m);
	assert_int_equal(m.n, 3);
	const struct batch_item *a = &m.item[0], *b = &m.item[1], *c = &m.item[2];
	assert_string_equal(a->source, "/vz/dump/vzdump-openvz-101-2020_01_01-00_00_00.tar");
	assert_int_equal(a->line, 4);
	assert_int_equal(a->vmid, 201);
	assert_string_equal(a->storage, "local-lvm");
	assert_string_equal(a->bridge, "vmbr1");
	assert_string_equal(a->gw, "192.0.2.1");
	assert_int_equal(a->output, BATCH_OUT_CREATE);
	assert_int_equal(a->backend, BATCH_BACKEND_LXC);
	assert_true(a->start);
	assert_string_equal(b->source, "archives/102.tgz");
	assert_int_equal(b->line, 5);
	assert_int_equal(b->output, BATCH_OUT_VZDUMP);
	assert_string_equal(b->gw, "2001:db8::1");
	assert_null(b->storage);
	assert_int_equal(c->line, 6);
	assert_int_equal(c->vmid, 0);
	assert_int_equal(c->output, BATCH_OUT_TEMPLATE);
	assert_int_equal(c->backend, BATCH_BACKEND_UNSET);
	assert_false(c->start);
	batch_manifest_free(&m);
}

static void test_defaults(void **state)
{
	(void)state;
	struct batch_manifest m;
	parse_ok("a.tar vmid=100\n"
		 "* output=create backend=lxc bridge=br0 start=yes\n"
		 "b.tar vmid=101\n"
		 "c.tar vmid=102 bridge=br1 start=no backend=pve\n"
		 "d.tar output=template\n"
		 "* storage=fast\n"
		 "e.tar vmid=104\n", &m);
	assert_int_equal(m.n, 5);
	/* Before any '*' line: nothing set. */
	assert_int_equal(m.item[0].output, BATCH_OUT_UNSET);
	assert_null(m.item[0].bridge);
	/* Defaults fill in what the line leaves open. */
	assert_int_equal(m.item[1].output, BATCH_OUT_CREATE);
	assert_int_equal(m.item[1].backend, BATCH_BACKEND_LXC);
	assert_string_equal(m.item[1].bridge, "br0");
	assert_true(m.item[1].start);
	/* The line's own values win. */
	assert_string_equal(m.item[2].bridge, "br1");
	assert_false(m.item[2].start);
	assert_int_equal(m.item[2].backend, BATCH_BACKEND_PVE);
	/* backend/start defaults do not apply to a template. */
	assert_int_equal(m.item[3].output, BATCH_OUT_TEMPLATE);
	assert_int_equal(m.item[3].backend, BATCH_BACKEND_UNSET);
	assert_false(m.item[3].start);
	/* A new '*' line replaces the defaults as a whole. */
	assert_int_equal(m.item[4].output, BATCH_OUT_UNSET);
	assert_null(m.item[4].bridge);
	assert_string_equal(m.item[4].storage, "fast");
	batch_manifest_free(&m);
}

static void test_every_error_with_its_line(void **state)
{
	(void)state;
	static const char *const want[] = {
		"m.txt:2: unknown key 'vmdi' (known: vmid storage bridge gw output backend start)",
		"m.txt:3: vmid '99' is not a number from 100 to 999999999",
		"m.txt:4: 'extra' is not key=value (a source path cannot contain spaces)",
		"m.txt:5: output 'lxc' is not template, vzdump or create",
		"m.txt:6: vmid 100 is already used on line 1",
		"m.txt:7: a.tar is already listed on line 1",
		"m.txt:8: gw '10.0.0.300' is not an IPv4 or IPv6 address",
		"m.txt:9: bridge 'a-very-long-bridge' is not an interface name (at most 15 of letters, digits, - _ .)",
		"m.txt:10: vmid= given twice",
		"m.txt:11: start 'maybe' is not yes or no",
		"m.txt:12: backend= only applies to output=create",
		"m.txt:13: source '-rf' starts with '-' (write ./-rf)",
		"m.txt:14: vmid= cannot be a default: each container needs its own",
		"m.txt:15: storage= has no value",
		"m.txt:16: storage '1bad' is not a storage ID (a letter, then letters, digits, - _ .)",
		"m.txt:17: backend 'kvm' is not pve or lxc",
		"m.txt:18: contains a NUL byte",
	};
	const char text[] = "a.tar vmid=100\n"
			    "b.tar vmdi=101\n"
			    "c.tar vmid=99\n"
			    "d.tar vmid=103 extra\n"
			    "e.tar output=lxc\n"
			    "f.tar vmid=100\n"
			    "a.tar vmid=106\n"
			    "g.tar gw=10.0.0.300\n"
			    "h.tar bridge=a-very-long-bridge\n"
			    "i.tar vmid=110 vmid=111\n"
			    "j.tar output=create start=maybe\n"
			    "k.tar output=template backend=lxc\n"
			    "-rf vmid=113\n"
			    "* vmid=114\n"
			    "l.tar storage=\n"
			    "m.tar storage=1bad\n"
			    "n.tar output=create backend=kvm\n"
			    "o.tar\0 vmid=118\n"
			    "p.tar vmid=119\n";
	struct batch_manifest m;
	assert_int_equal(batch_manifest_parse("m.txt", text, sizeof(text) - 1, &m), -EINVAL);
	for (size_t i = 0; i < m.n_error; i++)
		print_message("error %zu: %s\n", i, m.error[i]);
	assert_int_equal(m.n_error, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < m.n_error; i++)
		assert_string_equal(m.error[i], want[i]);
	batch_manifest_free(&m);
}

static void test_empty_and_limits(void **state)
{
	(void)state;
	static const char *const none[] = { "m.txt: lists no containers" };
	parse_errors("# nothing\n\n* output=create\n", none, 1);
	parse_errors("", none, 1);
	static const char *const longl[] = { "m.txt:2: line longer than 4096 bytes" };
	char *big = malloc(6000);
	assert_non_null(big);
	memcpy(big, "a.tar\n", 6);
	memset(big + 6, 'x', 5000);
	strcpy(big + 5006, "\nb.tar\n");
	parse_errors(big, longl, 1);
	free(big);
	/* More than the cap: the list stops with a note, not at the first. */
	size_t n = 0;
	char *many = malloc(200 * 32);
	assert_non_null(many);
	for (int i = 0; i < 200; i++)
		n += (size_t)sprintf(many + n, "x%d.tar bogus=1\n", i);
	struct batch_manifest m;
	assert_int_equal(batch_manifest_parse("m.txt", many, n, &m), -EINVAL);
	assert_int_equal(m.n_error, BATCH_MANIFEST_MAX_ERRORS + 1);
	assert_string_equal(m.error[BATCH_MANIFEST_MAX_ERRORS], "m.txt: too many errors; stopping here");
	batch_manifest_free(&m);
	free(many);
}

static void test_ctid(void **state)
{
	(void)state;
	char *s;
	assert_string_equal(s = batch_source_ctid("/d/vzdump-openvz-101-2020_01_01-00_00_00.tar.zst", false), "101"), free(s);
	assert_string_equal(s = batch_source_ctid("vzdump-openvz-7.tgz", false), "7"), free(s);
	assert_string_equal(s = batch_source_ctid("/vz/private/105/", true), "105"), free(s);
	assert_string_equal(s = batch_source_ctid("/a/web.example.tar.gz", false), "web.example"), free(s);
	assert_string_equal(s = batch_source_ctid("/a/plain", false), "plain"), free(s);
	/* Nothing usable: empty, so the manifest check names the line. */
	assert_string_equal(s = batch_source_ctid("/a/.tar", false), ""), free(s);
}

/* Sources checked on disk, relative to the manifest's directory. */
static void test_resolve(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_batch_manifest.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char p[256];
	const char *files[] = { "vzdump-openvz-101-2020_01_01-00_00_00.tar", "vzdump-openvz-101-2021_01_01-00_00_00.tar",
				"web.tar", "vzdump-openvz-300-x.tar" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		FILE *f = fopen(p, "w");
		assert_non_null(f);
		fclose(f);
	}
	snprintf(p, sizeof(p), "%s/private/104", dir);
	char pd[256];
	snprintf(pd, sizeof(pd), "%s/private", dir);
	assert_int_equal(mkdir(pd, 0700), 0);
	assert_int_equal(mkdir(p, 0700), 0);

	struct batch_manifest m;
	char text[1024];
	snprintf(text, sizeof(text),
		 "vzdump-openvz-101-2020_01_01-00_00_00.tar output=create\n"     /* vmid 101 from CTID */
		 "vzdump-openvz-101-2021_01_01-00_00_00.tar vmid=500\n"          /* same template */
		 "missing.tar\n"
		 "web.tar output=create\n"                                       /* no VMID */
		 "%s/web.tar vmid=501 output=vzdump\n"                            /* same file */
		 "private/104 output=create backend=lxc\n"
		 "vzdump-openvz-300-x.tar vmid=104 output=vzdump\n",              /* 104 taken by the CTID */
		 dir);
	assert_int_equal(batch_manifest_parse("m.txt", text, strlen(text), &m), 0);
	assert_int_equal(batch_manifest_resolve(&m, dir), -EINVAL);
	static const char *const want[] = {
		"m.txt:2: CTID 101 is also line 1's: both would write openvz-101.tar.zst",
		"m.txt:3: missing.tar: No such file or directory",
		"m.txt:4: output=create needs vmid= (the CTID 'web' is not a VMID)",
		"m.txt:5: %s/web.tar is the same as line 4's web.tar",
		"m.txt:7: VMID 104 is already used on line 6",
	};
	for (size_t i = 0; i < m.n_error; i++)
		print_message("error %zu: %s\n", i, m.error[i]);
	assert_int_equal(m.n_error, 5);
	for (size_t i = 0; i < 5; i++) {
		char w[512];
		snprintf(w, sizeof(w), want[i], dir);
		assert_string_equal(m.error[i], w);
	}
	assert_int_equal(m.item[0].vmid, 101);
	assert_false(m.item[0].is_dir);
	assert_true(m.item[5].is_dir);
	assert_int_equal(m.item[5].vmid, 104);
	assert_string_equal(m.item[5].path, p);
	batch_manifest_free(&m);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_error_with_its_line),
		cmocka_unit_test(test_empty_and_limits),
		cmocka_unit_test(test_ctid),
		cmocka_unit_test(test_resolve),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
