/* What ct-import batch removes after a half-done conversion
 * (ct-import/batch_cleanup.h): only what the state entry names, scratch
 * directories only of processes that are gone, vzdump archives only of
 * that VMID and only those written since it started; and how it recognises
 * a conversion that still runs. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "batch_cleanup.h"

static char dir[64], cache[96], lxcp[96];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_batch_cleanup.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	snprintf(lxcp, sizeof(lxcp), "%s/lxc", dir);
	return mkdir(cache, 0700) || mkdir(lxcp, 0700);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static const char *at(const char *base, const char *name)
{
	static char p[4][256];
	static int i;
	char tmp[256];  /* base may be an earlier result */
	snprintf(tmp, sizeof(tmp), "%s/%s", base, name);
	i = (i + 1) % 4;
	memcpy(p[i], tmp, sizeof(tmp));
	return p[i];
}

static void touch(const char *path, time_t mtime)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	if (mtime) {
		struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
		assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	}
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static void test_only_what_the_entry_names(void **state)
{
	(void)state;
	char live[64], dead[64];
	snprintf(live, sizeof(live), ".convert-openvz.%d.aaaaaa", (int)getpid());
	/* A pid above pid_max never runs. */
	snprintf(dead, sizeof(dead), ".convert-openvz.%d.bbbbbb", 4194305);
	assert_int_equal(mkdir(at(cache, live), 0700), 0);
	assert_int_equal(mkdir(at(cache, dead), 0700), 0);
	touch(at(at(cache, dead), "partial"), 0);
	assert_int_equal(mkdir(at(cache, ".convert-openvz.notapid.c"), 0700), 0);
	touch(at(cache, "openvz-150.tar.zst"), 0);
	touch(at(cache, "openvz-151.tar.zst"), 0);
	touch(at(cache, "vzdump-lxc-150-2020_01_01-00_00_00.tar.zst"), 1000);  /* before the start */
	touch(at(cache, "vzdump-lxc-150-2026_11_26-10_00_00.tar.zst"), 0);     /* since */
	touch(at(cache, "vzdump-lxc-1500-2026_11_26-10_00_00.tar.zst"), 0);    /* another VMID */
	/* A half-made LXC container: killed before its config was written. */
	assert_int_equal(mkdir(at(lxcp, "150"), 0770), 0);
	assert_int_equal(mkdir(at(lxcp, "150/rootfs"), 0755), 0);
	touch(at(lxcp, "150/rootfs/file"), 0);
	assert_int_equal(mkdir(at(lxcp, "151"), 0770), 0);

	char tpl[256];
	snprintf(tpl, sizeof(tpl), "%s", at(cache, "openvz-150.tar.zst"));
	struct batch_entry e = { .status = BATCH_STARTED, .vmid = 150, .time = (int64_t)time(NULL) - 5,
				 .output = "create", .backend = "lxc", .name = "150", .template_path = tpl };
	struct batch_env env = { .cache_dir = cache, .lxc_path = lxcp, .log_fd = -1 };
	assert_true(batch_container_exists(&env, &e));
	assert_int_equal(batch_cleanup(&env, &e), 0);
	assert_false(batch_container_exists(&env, &e));
	assert_false(exists(at(lxcp, "150")));
	assert_true(exists(at(lxcp, "151")));
	assert_true(exists(at(cache, live)));       /* its process runs: ours */
	assert_false(exists(at(cache, dead)));
	assert_true(exists(at(cache, ".convert-openvz.notapid.c")));
	assert_false(exists(tpl));
	assert_true(exists(at(cache, "openvz-151.tar.zst")));
	/* create output: vzdump archives are not its business. */
	assert_true(exists(at(cache, "vzdump-lxc-150-2026_11_26-10_00_00.tar.zst")));

	struct batch_entry v = { .status = BATCH_STARTED, .vmid = 150, .time = (int64_t)time(NULL) - 5,
				 .output = "vzdump" };
	assert_int_equal(batch_cleanup(&env, &v), 0);
	assert_false(exists(at(cache, "vzdump-lxc-150-2026_11_26-10_00_00.tar.zst")));
	assert_true(exists(at(cache, "vzdump-lxc-150-2020_01_01-00_00_00.tar.zst")));
	assert_true(exists(at(cache, "vzdump-lxc-1500-2026_11_26-10_00_00.tar.zst")));

	/* Without a backend the entry never created a container: 151 stays. */
	struct batch_entry t = { .status = BATCH_FAILED, .vmid = 151, .name = "151", .output = "create" };
	assert_int_equal(batch_cleanup(&env, &t), 0);
	assert_true(exists(at(lxcp, "151")));
	assert_true(exists(at(cache, "openvz-151.tar.zst")));
	rmdir(at(cache, live));
}

static void test_conversion_running(void **state)
{
	(void)state;
	assert_false(batch_conversion_running(0, "/src/a.tar"));
	assert_false(batch_conversion_running(getpid(), "/src/a.tar"));  /* not a conversion */
	assert_false(batch_conversion_running(4194305, "/src/a.tar"));
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "sleep 5", "convert-openvz", "/src/a.tar", (char *)NULL);
		_exit(127);
	}
	bool seen = false;
	for (int i = 0; i < 100 && !seen; i++) {
		seen = batch_conversion_running(pid, "/src/a.tar");
		if (!seen)
			usleep(20000);
	}
	assert_true(seen);
	assert_false(batch_conversion_running(pid, "/src/b.tar"));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_false(batch_conversion_running(pid, "/src/a.tar"));
}

/* The child does not run before it is released; closing the release
 * descriptor unwritten (the start could not be recorded) means it never does. */
static void test_spawn_waits_for_release(void **state)
{
	(void)state;
	const char *out = at(dir, "spawn.out");
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	char *argv[] = { "/bin/sh", "-c", "echo ran", NULL };
	int release = -1;
	pid_t pid = batch_spawn(argv, fd, &release);
	assert_true(pid > 0);
	usleep(200000);
	struct stat st;
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_size, 0);  /* held */
	assert_int_equal(write(release, "g", 1), 1);
	close(release);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_size, 4);

	pid = batch_spawn(argv, fd, &release);
	assert_true(pid > 0);
	close(release);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 127);
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_size, 4);  /* it did not run */
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_only_what_the_entry_names),
		cmocka_unit_test(test_conversion_running),
		cmocka_unit_test(test_spawn_waits_for_release),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
