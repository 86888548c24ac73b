/* The batch state file (ct-import/batch_state.h): a round trip keeps every
 * member, a missing file is an empty state, anything corrupt or impossible
 * is refused with a message naming the file, and the lock excludes a
 * second batch. */
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
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "batch_state.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_batch_state.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static char *path_of(const char *name)
{
	static char p[128];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_round_trip(void **state)
{
	(void)state;
	const char *path = path_of("rt.state");
	struct batch_state st;
	assert_int_equal(batch_state_load(path, &st), 0);  /* missing: empty */
	assert_int_equal(st.n, 0);
	struct batch_entry *a = batch_state_add(&st, "/vz/dump/a.tar", "vmid-101");
	assert_non_null(a);
	a->status = BATCH_STARTED;
	a->vmid = 101;
	a->pid = 4242;
	a->time = 1700000000;
	a->attempts = 2;
	assert_int_equal(batch_entry_set(&a->output, "create"), 0);
	assert_int_equal(batch_entry_set(&a->backend, "lxc"), 0);
	assert_int_equal(batch_entry_set(&a->name, "101"), 0);
	assert_int_equal(batch_entry_set(&a->template_path, "/cache/openvz-101.tar.zst"), 0);
	struct batch_entry *b = batch_state_add(&st, "/vz/dump/b \"quoted\"\n.tar", "ctid-b");
	assert_non_null(b);
	b->status = BATCH_FAILED;
	b->exit_code = 4;
	b->warnings = 3;
	b->unmapped = 7;
	assert_int_equal(batch_entry_set(&b->reason, "vps.conf:3: bad value \"x\""), 0);
	struct batch_entry *c = batch_state_add(&st, "/c.tar", "ctid-c");
	c->status = BATCH_DONE;
	c->exit_code = -1;
	assert_int_equal(batch_state_save(&st), 0);
	batch_state_free(&st);

	assert_int_equal(batch_state_load(path, &st), 0);
	assert_int_equal(st.n, 3);
	a = batch_state_find(&st, "/vz/dump/a.tar");
	assert_non_null(a);
	assert_int_equal(a->status, BATCH_STARTED);
	assert_string_equal(a->key, "vmid-101");
	assert_int_equal(a->vmid, 101);
	assert_int_equal(a->pid, 4242);
	assert_int_equal(a->time, 1700000000);
	assert_int_equal(a->attempts, 2);
	assert_string_equal(a->output, "create");
	assert_string_equal(a->backend, "lxc");
	assert_string_equal(a->name, "101");
	assert_string_equal(a->template_path, "/cache/openvz-101.tar.zst");
	assert_null(a->reason);
	b = batch_state_find(&st, "/vz/dump/b \"quoted\"\n.tar");
	assert_non_null(b);
	assert_int_equal(b->status, BATCH_FAILED);
	assert_string_equal(b->reason, "vps.conf:3: bad value \"x\"");
	assert_int_equal(b->exit_code, 4);
	assert_int_equal(b->warnings, 3);
	assert_int_equal(b->unmapped, 7);
	assert_null(b->backend);
	c = batch_state_find(&st, "/c.tar");
	assert_int_equal(c->status, BATCH_DONE);
	assert_int_equal(c->exit_code, -1);
	assert_null(batch_state_find(&st, "/none"));
	/* Saved again over itself: the same file, and no temporary left. */
	assert_int_equal(batch_state_save(&st), 0);
	batch_state_free(&st);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "test $(ls -A %s | grep -c rt.state) = 1", dir);
	assert_int_equal(system(cmd), 0);
}

static void refused(const char *text)
{
	const char *path = path_of("bad.state");
	write_text(path, text);
	struct batch_state st;
	assert_int_equal(batch_state_load(path, &st), -EINVAL);
	assert_int_equal(st.n, 0);
	assert_null(st.e);
	batch_state_free(&st);
}

static void test_corrupt_refused(void **state)
{
	(void)state;
	refused("");
	refused("{\"version\": 1, \"containers\": [");     /* cut short by a crash */
	refused("not json at all");
	refused("[]");
	refused("{\"version\": 2, \"containers\": []}");
	refused("{\"version\": 1}");
	refused("{\"version\": 1, \"containers\": [ 3 ]}");
	refused("{\"version\": 1, \"containers\": [ {\"source\": \"/a\", \"key\": \"k\"} ]}");
	refused("{\"version\": 1, \"containers\": [ {\"source\": \"/a\", \"key\": \"k\", \"status\": \"half\"} ]}");
	refused("{\"version\": 1, \"containers\": [ {\"source\": \"a\", \"key\": \"k\", \"status\": \"done\"} ]}");
	refused("{\"version\": 1, \"containers\": [ {\"source\": \"/a\", \"key\": \"../k\", \"status\": \"done\"} ]}");
	refused("{\"version\": 1, \"containers\": [ {\"source\": \"/a\", \"key\": \"k\", \"status\": \"done\", \"vmid\": 5} ]}");
	refused("{\"version\": 1, \"containers\": [ {\"source\": \"/a\", \"key\": \"k\", \"status\": \"done\", \"vmid\": \"101\"} ]}");
	refused("{\"version\": 1, \"containers\": [ {\"source\": \"/a\", \"key\": \"k\", \"status\": \"done\", \"colour\": 1} ]}");
	refused("{\"version\": 1, \"containers\": [ {\"source\": \"/a\", \"key\": \"k\", \"status\": \"failed\"} ]}");
	refused("{\"version\": 1, \"containers\": [ {\"source\": \"/a\", \"key\": \"k\", \"status\": \"started\", \"backend\": \"lxc\"} ]}");
	refused("{\"version\": 1, \"containers\": [ {\"source\": \"/a\", \"key\": \"k\", \"status\": \"done\", \"backend\": \"kvm\"} ]}");
	refused("{\"version\": 1, \"containers\": [ {\"source\": \"/a\", \"key\": \"k\", \"status\": \"done\", \"name\": \"../x\"} ]}");
	refused("{\"version\": 1, \"containers\": [ {\"source\": \"/a\", \"key\": \"k\", \"status\": \"done\"},"
		" {\"source\": \"/a\", \"key\": \"j\", \"status\": \"done\"} ]}");
	refused("{\"version\": 1, \"containers\": [ {\"source\": \"/a\", \"key\": \"k\", \"status\": \"done\", "
		"\"source\": \"/b\"} ]}");
	/* And a well-formed one loads. */
	const char *path = path_of("ok.state");
	write_text(path, "{\"version\": 1, \"containers\": [ {\"source\": \"/a\", \"key\": \"k\", \"status\": \"started\", "
			 "\"backend\": \"pve\", \"vmid\": 100, \"pid\": 12} ]}");
	struct batch_state st;
	assert_int_equal(batch_state_load(path, &st), 0);
	assert_int_equal(st.n, 1);
	assert_int_equal(st.e[0].vmid, 100);
	batch_state_free(&st);
}

static void test_lock(void **state)
{
	(void)state;
	const char *d = path_of("locked.state.d");
	int fd = -1;
	assert_int_equal(batch_state_lock(d, &fd), 0);
	assert_true(fd >= 0);
	/* Another process (flock locks belong to the open file) is refused. */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd2 = -1;
		_exit(batch_state_lock(d, &fd2) == -EBUSY ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* Released with the descriptor. */
	close(fd);
	int fd3 = -1;
	assert_int_equal(batch_state_lock(d, &fd3), 0);
	close(fd3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_corrupt_refused),
		cmocka_unit_test(test_lock),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
