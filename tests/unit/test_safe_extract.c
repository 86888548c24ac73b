/* The secure extraction create-ct and convert-openvz share
 * (ct-import/safe_extract.h): archives written here with libarchive are
 * unpacked into a scratch tree; hostile entries are refused before anything
 * lands outside it, dev/ is left out only when asked, an empty archive is
 * bad input, and a file descriptor works like a path. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
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

#include "safe_extract.h"

static char dir[64], tar[96], dest[96], outside[96];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_safe_extract.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(tar, sizeof(tar), "%s/a.tar", dir);
	snprintf(dest, sizeof(dest), "%s/dest", dir);
	snprintf(outside, sizeof(outside), "%s/outside", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* Each test starts with an empty dest and outside. */
static int fresh(void **state)
{
	(void)state;
	char cmd[640];
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s %s && mkdir %s %s", dest, outside, tar, dest, outside);
	return system(cmd);
}

struct ent {
	const char *name;
	mode_t type;          /* AE_IFREG, AE_IFDIR, AE_IFLNK; 0 for a hard link */
	const char *target;   /* symlink or hard link target */
};

static void write_tar(const struct ent *e, size_t n)
{
	struct archive *a = archive_write_new();
	assert_non_null(a);
	assert_int_equal(archive_write_set_format_pax(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, tar), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		archive_entry_set_pathname(ae, e[i].name);
		archive_entry_set_perm(ae, 0644);
		if (!e[i].type) {
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_hardlink(ae, e[i].target);
		} else {
			archive_entry_set_filetype(ae, e[i].type);
			if (e[i].type == AE_IFDIR)
				archive_entry_set_perm(ae, 0755);
			if (e[i].type == AE_IFLNK)
				archive_entry_set_symlink(ae, e[i].target);
			if (e[i].type == AE_IFREG)
				archive_entry_set_size(ae, 6);
		}
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		if (e[i].type == AE_IFREG)
			assert_int_equal(archive_write_data(a, "pwned\n", 6), 6);
		archive_entry_free(ae);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static int run(bool skip_dev)
{
	const struct safe_extract x = { .name = tar, .path = tar, .skip_dev = skip_dev };
	return safe_extract(&x, dest);
}

static bool exists(const char *base, const char *name)
{
	char p[256];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", base, name);
	return lstat(p, &st) == 0;
}

static bool empty_dir(const char *d)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "[ -z \"$(ls -A %s)\" ]", d);
	return system(cmd) == 0;
}

static void test_plain_tree(void **state)
{
	(void)state;
	const struct ent e[] = {
		{ "./etc", AE_IFDIR, NULL },
		{ "./etc/hostname", AE_IFREG, NULL },
		{ "./etc/link", AE_IFLNK, "hostname" },
		{ "./etc/hard", 0, "./etc/hostname" },
		{ "./dev/console", AE_IFREG, NULL },
	};
	write_tar(e, 5);
	assert_int_equal(run(false), 0);
	assert_true(exists(dest, "etc/hostname"));
	assert_true(exists(dest, "etc/link"));
	assert_true(exists(dest, "dev/console"));
	struct stat a, b;
	char p1[200], p2[200];
	snprintf(p1, sizeof(p1), "%s/etc/hostname", dest);
	snprintf(p2, sizeof(p2), "%s/etc/hard", dest);
	assert_int_equal(stat(p1, &a), 0);
	assert_int_equal(stat(p2, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	/* The working directory is given back. */
	char cwd[256];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_string_not_equal(cwd, dest);
}

static void test_skip_dev(void **state)
{
	(void)state;
	const struct ent e[] = {
		{ "./dev", AE_IFDIR, NULL },
		{ "./dev/console", AE_IFREG, NULL },
		{ "./etc", AE_IFDIR, NULL },
	};
	write_tar(e, 3);
	assert_int_equal(run(true), 0);
	assert_true(exists(dest, "dev"));  /* the directory itself stays */
	assert_false(exists(dest, "dev/console"));
	assert_true(exists(dest, "etc"));
}

static void refused(const struct ent *e, size_t n)
{
	write_tar(e, n);
	assert_int_equal(run(true), -SAFE_EXTRACT_EBADINPUT);
	assert_true(empty_dir(outside));
	assert_false(exists(dir, "pwned"));
}

static void test_dotdot(void **state)
{
	(void)state;
	const struct ent e[] = { { "./etc/../../pwned", AE_IFREG, NULL } };
	refused(e, 1);
}

static void test_absolute(void **state)
{
	(void)state;
	char abs[160];
	snprintf(abs, sizeof(abs), "%s/pwned", outside);
	const struct ent e[] = { { abs, AE_IFREG, NULL } };
	refused(e, 1);
}

static void test_through_symlink(void **state)
{
	(void)state;
	const struct ent e[] = {
		{ "./esc", AE_IFLNK, outside },
		{ "./esc/pwned", AE_IFREG, NULL },
	};
	refused(e, 2);
	const struct ent rel[] = {
		{ "./up", AE_IFLNK, "../outside" },
		{ "./up/pwned", AE_IFREG, NULL },
	};
	assert_int_equal(fresh(NULL), 0);
	refused(rel, 2);
}

static void test_hard_link_out(void **state)
{
	(void)state;
	const struct ent e[] = { { "./etc-shadow", 0, "/etc/shadow" } };
	refused(e, 1);
	assert_int_equal(fresh(NULL), 0);
	const struct ent d[] = { { "./etc-shadow", 0, "../../etc/shadow" } };
	refused(d, 1);
	assert_int_equal(fresh(NULL), 0);
	const struct ent s[] = {
		{ "./esc", AE_IFLNK, outside },
		{ "./hl", 0, "./esc/x" },
	};
	refused(s, 2);
}

static void test_empty_and_garbage(void **state)
{
	(void)state;
	write_tar(NULL, 0);
	assert_int_equal(run(false), -SAFE_EXTRACT_EBADINPUT);
	int fd = open(tar, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a tar archive at all", 24), 24);
	close(fd);
	assert_int_equal(run(false), -SAFE_EXTRACT_EBADINPUT);
	unlink(tar);
	assert_int_equal(run(false), -SAFE_EXTRACT_EBADINPUT);
}

static void test_from_fd(void **state)
{
	(void)state;
	const struct ent e[] = { { "./etc", AE_IFDIR, NULL }, { "./etc/hostname", AE_IFREG, NULL } };
	write_tar(e, 2);
	int fd = open(tar, O_RDONLY);
	assert_true(fd >= 0);
	const struct safe_extract x = { .name = "pipe", .fd = fd };
	assert_int_equal(safe_extract(&x, dest), 0);
	close(fd);
	assert_true(exists(dest, "etc/hostname"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_plain_tree, fresh),
		cmocka_unit_test_setup(test_skip_dev, fresh),
		cmocka_unit_test_setup(test_dotdot, fresh),
		cmocka_unit_test_setup(test_absolute, fresh),
		cmocka_unit_test_setup(test_through_symlink, fresh),
		cmocka_unit_test_setup(test_hard_link_out, fresh),
		cmocka_unit_test_setup(test_empty_and_garbage, fresh),
		cmocka_unit_test_setup(test_from_fd, fresh),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
