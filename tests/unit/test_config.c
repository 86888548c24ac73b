/* /etc/ct-import.conf: defaults, key = value lines, comments, clear errors. */
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

#include "config.h"

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/test_config.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_defaults(void **state)
{
	(void)state;
	struct cti_config c;
	setenv("CT_IMPORT_CONF", "/nonexistent/ct-import.conf", 1);
	/* A named file that is missing is an error ... */
	assert_int_equal(cti_config_load(NULL, &c), -ENOENT);
	unsetenv("CT_IMPORT_CONF");
	assert_int_equal(cti_config_load("/nonexistent/x.conf", &c), -ENOENT);
	/* ... but the default file may be absent. */
	if (access(CTI_CONFIG_FILE, F_OK) != 0) {
		assert_int_equal(cti_config_load(NULL, &c), 0);
		assert_string_equal(c.cache_dir, CTI_DEFAULT_CACHE_DIR);
		assert_string_equal(c.lxc_path, CTI_DEFAULT_LXC_PATH);
		cti_config_free(&c);
	}
}

static void test_parse(void **state)
{
	(void)state;
	char *p = write_tmp("# ct-import settings\n\n  cache_dir = /srv/cache   # where templates live\n"
			    "lxc_path=\"/srv/lxc dir\"\n");
	struct cti_config c;
	assert_int_equal(cti_config_load(p, &c), 0);
	assert_string_equal(c.cache_dir, "/srv/cache");
	assert_string_equal(c.lxc_path, "/srv/lxc dir");
	/* The command line overrides by setting a key again. */
	assert_int_equal(cti_config_set(&c, "cache_dir", "/other"), 0);
	assert_string_equal(c.cache_dir, "/other");
	assert_int_equal(cti_config_set(&c, "nope", "x"), -EINVAL);
	cti_config_free(&c);
	assert_null(c.cache_dir);

	/* CT_IMPORT_CONF names the file when none is given. */
	setenv("CT_IMPORT_CONF", p, 1);
	assert_int_equal(cti_config_load(NULL, &c), 0);
	assert_string_equal(c.cache_dir, "/srv/cache");
	cti_config_free(&c);
	unsetenv("CT_IMPORT_CONF");
	unlink(p);
	free(p);
}

static void test_errors(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"cache_dir = /a\ncolour = blue\n",  /* unknown key */
		"cache_dir /a\n",                   /* no '=' */
		"= /a\n",                           /* no key */
		"lxc_path =\n",                     /* no value */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *p = write_tmp(bad[i]);
		struct cti_config c = { 0 };
		assert_int_equal(cti_config_load(p, &c), -EINVAL);
		assert_null(c.cache_dir);  /* nothing half-loaded is left */
		unlink(p);
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
