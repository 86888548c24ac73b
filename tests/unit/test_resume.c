/* Resuming, below the network: SHA-256 state saved and restored, the
 * CHECKPOINT payload and the READY/ACK lines, a writer resumed from a
 * checkpoint giving the digest of the whole, the receiver's staging files
 * (resume_stage) and p2v's record (transfer_begin) surviving a restart, and
 * the resent-bytes accounting. */
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

#include "capture_sink.h"
#include "resume.h"
#include "resume_stage.h"
#include "sha256.h"
#include "stream.h"
#include "util.h"

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 131 + seed * 7 + (i >> 9)) & 0xff);
}

static void test_sha_state(void **state)
{
	(void)state;
	size_t n = 10007;
	uint8_t *data = malloc(n), whole[SHA256_LEN], resumed[SHA256_LEN];
	fill(data, n, 1);
	struct sha256 s;
	assert_int_equal(sha256_init(&s), 0);
	sha256_update(&s, data, n);
	sha256_final(&s, whole);
	/* Split at block boundaries and inside blocks alike. */
	size_t cuts[] = { 0, 1, 63, 64, 65, 4096, 5000, n };
	for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
		uint8_t saved[SHA256_STATE_LEN];
		assert_int_equal(sha256_init(&s), 0);
		sha256_update(&s, data, cuts[i]);
		sha256_export(&s, saved);
		assert_int_equal(sha256_length(&s), cuts[i]);
		sha256_abandon(&s);
		struct sha256 t;
		assert_int_equal(sha256_import(&t, saved), 0);
		assert_int_equal(sha256_length(&t), cuts[i]);
		sha256_update(&t, data + cuts[i], n - cuts[i]);
		sha256_final(&t, resumed);
		assert_memory_equal(whole, resumed, SHA256_LEN);
		/* A byte past the tail is not a state we wrote. */
		if (cuts[i] % 64 != 63) {
			saved[SHA256_STATE_LEN - 1] = 1;
			assert_int_equal(sha256_import(&t, saved), -EINVAL);
		}
	}
	free(data);
}

static void test_checkpoint_payload(void **state)
{
	(void)state;
	struct stream_checkpoint c = { .aux = 0x0102030405060708ull, .level = 7 }, d;
	for (int i = 0; i < SHA256_STATE_LEN; i++) {
		c.sha[i] = (uint8_t)i;
		c.aux_sha[i] = (uint8_t)(255 - i);
	}
	uint8_t p[STREAM_CHECKPOINT_LEN];
	stream_checkpoint_encode(&c, p);
	assert_int_equal(get_be64(p), c.aux);
	assert_int_equal(get_be32(p + 8), 7);
	stream_checkpoint_decode(p, 12345, &d);
	assert_int_equal(d.offset, 12345);
	assert_int_equal(d.aux, c.aux);
	assert_int_equal(d.level, 7);
	assert_memory_equal(d.sha, c.sha, SHA256_STATE_LEN);
	assert_memory_equal(d.aux_sha, c.aux_sha, SHA256_STATE_LEN);
}

static void test_ready_lines(void **state)
{
	(void)state;
	char line[STREAM_READY_MAX];
	struct stream_checkpoint c = { 0 }, d;
	stream_ready_format(line, sizeof(line), &c);
	assert_string_equal(line, "READY 0 0 0 - -");
	assert_int_equal(stream_ready_parse(line, &d), 0);
	assert_int_equal(d.offset, 0);
	assert_false(stream_checkpoint_has_state(&d));

	struct sha256 s;
	assert_int_equal(sha256_init(&s), 0);
	sha256_update(&s, "0123456789", 10);
	sha256_export(&s, c.sha);
	sha256_abandon(&s);
	c.offset = 10;
	c.aux = 4096;
	c.level = 3;
	memset(c.aux_sha, 0xab, sizeof(c.aux_sha));
	stream_ready_format(line, sizeof(line), &c);
	assert_true(strlen(line) < STREAM_READY_MAX);
	strcat(line, "\n");
	assert_int_equal(stream_ready_parse(line, &d), 0);
	assert_int_equal(d.offset, 10);
	assert_int_equal(d.aux, 4096);
	assert_int_equal(d.level, 3);
	assert_memory_equal(d.sha, c.sha, SHA256_STATE_LEN);
	assert_memory_equal(d.aux_sha, c.aux_sha, SHA256_STATE_LEN);

	const char *bad[] = {
		"", "READY", "READY 1 0 0 - -",            /* a resume point needs its state */
		"READY 0 0 0 - -x", "READY 0 0 0 -", "READY x 0 0 - -",
		"READY 0 0 101 - -", "READY 0 0 0 - 00", "READY 99999999999999999999 0 0 - -",
		"ACK 1 2", "OK /x 1 ab",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(stream_ready_parse(bad[i], &d), -EPROTO);
	/* A state with a wrong hex digit or length. */
	stream_ready_format(line, sizeof(line), &c);
	char *h = strchr(strchr(strchr(strchr(line + 6, ' ') + 1, ' ') + 1, ' '), ' ') - 5;
	*h = 'G';
	assert_int_equal(stream_ready_parse(line, &d), -EPROTO);

	uint64_t off, wire;
	assert_int_equal(stream_ack_parse("ACK 16777216 16779000\n", &off, &wire), 0);
	assert_int_equal(off, 16777216);
	assert_int_equal(wire, 16779000);
	assert_int_equal(stream_ack_parse("ACK 1", &off, &wire), -EPROTO);
	assert_int_equal(stream_ack_parse("ACK 1 2 3", &off, &wire), -EPROTO);
	assert_int_equal(stream_ack_parse("ACK -1 2", &off, &wire), -EPROTO);
}

/* A stream cut after a checkpoint and resumed from it ends with the END
 * digest of the uninterrupted stream, and its CHECKPOINT frame says so. */
static void test_writer_resume(void **state)
{
	(void)state;
	size_t n = 3 * STREAM_DATA_FRAME + 777, k = STREAM_DATA_FRAME + 5;
	uint8_t *data = malloc(n), d1[SHA256_LEN], d2[SHA256_LEN];
	fill(data, n, 2);
	struct capture c1 = { 0 }, c2 = { 0 }, c3 = { 0 };
	struct stream_writer w;
	assert_int_equal(stream_writer_init(&w, capture_sink, &c1), 0);
	assert_int_equal(stream_write_hello(&w, "{}"), 0);
	assert_int_equal(stream_write_data(&w, data, n), 0);
	assert_int_equal(stream_write_end(&w, d1), 0);
	assert_int_equal(w.wire, c1.len);
	stream_writer_free(&w);

	assert_int_equal(stream_writer_init(&w, capture_sink, &c2), 0);
	assert_int_equal(stream_write_hello(&w, "{}"), 0);
	assert_int_equal(stream_write_data(&w, data, k), 0);
	struct stream_checkpoint ck = { .aux = 99 };
	assert_int_equal(stream_write_checkpoint(&w, &ck), 0);
	assert_int_equal(ck.offset, k);
	assert_int_equal(w.wire, c2.len);
	/* The last frame is the CHECKPOINT, with the offset and aux given. */
	const uint8_t *f = c2.buf + c2.len - STREAM_FRAME_HEADER_LEN - STREAM_CHECKPOINT_LEN;
	assert_int_equal(get_be32(f), FRAME_CHECKPOINT);
	assert_int_equal(get_be32(f + 4), STREAM_CHECKPOINT_LEN);
	assert_int_equal(get_be64(f + 8), k);
	struct stream_checkpoint back;
	stream_checkpoint_decode(f + STREAM_FRAME_HEADER_LEN, get_be64(f + 8), &back);
	assert_int_equal(back.aux, 99);
	assert_memory_equal(back.sha, ck.sha, SHA256_STATE_LEN);
	assert_int_equal(stream_write_data(&w, data + k, 1000), 0);   /* lost in the cut */
	stream_writer_free(&w);

	assert_int_equal(stream_writer_init(&w, capture_sink, &c3), 0);
	assert_int_equal(stream_write_hello(&w, "{}"), 0);
	assert_int_equal(stream_writer_resume(&w, k + 1, ck.sha), -EINVAL);  /* not its offset */
	assert_int_equal(stream_writer_resume(&w, k, ck.sha), 0);
	assert_int_equal(stream_write_data(&w, data + k, n - k), 0);
	assert_int_equal(stream_write_end(&w, d2), 0);
	assert_memory_equal(d1, d2, SHA256_LEN);
	/* Its first data frame starts at the checkpoint. */
	const uint8_t *first = c3.buf + STREAM_PREAMBLE_LEN + STREAM_FRAME_HEADER_LEN + 2;
	assert_int_equal(get_be32(first), FRAME_DATA);
	assert_int_equal(get_be64(first + 8), k);
	stream_writer_free(&w);
	free(c1.buf);
	free(c2.buf);
	free(c3.buf);
	free(data);
}

static char tmpdir[64];

static int make_tmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_resume.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmp(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static bool exists_in(const char *name)
{
	char p[256];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return lstat(p, &st) == 0;
}

static void test_stage(void **state)
{
	(void)state;
	const char *id = "0123456789abcdef0123456789abcdef";
	const char *other = "fedcba9876543210fedcba9876543210";
	assert_true(transfer_id_valid(id));
	assert_false(transfer_id_valid("0123456789ABCDEF0123456789abcdef"));
	assert_false(transfer_id_valid("0123"));
	assert_false(transfer_id_valid(NULL));

	struct resume_stage st;
	assert_int_equal(resume_stage_open(&st, tmpdir, "t.tar.zst", id, "template t.tar.zst"), 0);
	assert_false(st.resumed);
	assert_true(exists_in(".t.tar.zst.partial"));
	assert_int_equal(write_full(st.fd, "hello world", 11), 0);
	struct stream_checkpoint c = { .offset = 5, .aux = 1024, .level = 4 };
	struct sha256 s;
	assert_int_equal(sha256_init(&s), 0);
	sha256_update(&s, "hello", 5);
	sha256_export(&s, c.sha);
	sha256_abandon(&s);
	memset(c.aux_sha, 0x5a, sizeof(c.aux_sha));
	char *ack = NULL;
	size_t ack_len = 0;
	FILE *reply = open_memstream(&ack, &ack_len);
	assert_int_equal(resume_stage_save(&st, &c, 777, reply), 0);
	fclose(reply);
	assert_string_equal(ack, "ACK 5 777\n");
	free(ack);
	resume_stage_close(&st);

	/* The same transfer again: resumed at the checkpoint. */
	assert_int_equal(resume_stage_open(&st, tmpdir, "t.tar.zst", id, "template t.tar.zst"), 0);
	assert_true(st.resumed);
	assert_int_equal(st.ck.offset, 5);
	assert_int_equal(st.ck.aux, 1024);
	assert_int_equal(st.ck.level, 4);
	assert_memory_equal(st.ck.sha, c.sha, SHA256_STATE_LEN);
	assert_memory_equal(st.ck.aux_sha, c.aux_sha, SHA256_STATE_LEN);
	char *line = NULL;
	size_t line_len = 0;
	reply = open_memstream(&line, &line_len);
	resume_stage_ready(reply, &st);
	fclose(reply);
	struct stream_checkpoint r;
	assert_int_equal(stream_ready_parse(line, &r), 0);
	assert_int_equal(r.offset, 5);
	free(line);
	resume_stage_close(&st);

	/* Another ident (e.g. another disk size) does not resume. */
	assert_int_equal(resume_stage_open(&st, tmpdir, "t.tar.zst", id, "template other"), 0);
	assert_false(st.resumed);
	resume_stage_close(&st);
	/* Nor does another transfer: and the old partial is cleared. */
	assert_int_equal(resume_stage_open(&st, tmpdir, "t.tar.zst", id, "template t.tar.zst"), 0);
	assert_false(st.resumed);   /* the state went with the other ident */
	FILE *null = fopen("/dev/null", "w");
	assert_int_equal(resume_stage_save(&st, &c, 1, null), 0);
	fclose(null);
	resume_stage_close(&st);
	assert_int_equal(resume_stage_open(&st, tmpdir, "t.tar.zst", other, "template t.tar.zst"), 0);
	assert_false(st.resumed);
	struct stat sb;
	assert_int_equal(fstat(st.fd, &sb), 0);
	assert_int_equal(sb.st_size, 0);

	/* Publishing renames the partial; done keeps the OK line for a
	 * sender that lost it. */
	assert_int_equal(write_full(st.fd, "abc", 3), 0);
	assert_int_equal(resume_stage_publish(&st, "t.tar.zst", false), 0);
	resume_stage_done(&st, "OK /x/t.tar.zst 3 abc");
	resume_stage_close(&st);
	assert_true(exists_in("t.tar.zst"));
	assert_false(exists_in(".t.tar.zst.partial"));
	assert_int_equal(resume_stage_open(&st, tmpdir, "t.tar.zst", other, "template t.tar.zst"), 0);
	assert_true(st.done);
	assert_string_equal(st.done_reply, "OK /x/t.tar.zst 3 abc");
	resume_stage_close(&st);
	/* Publishing never replaces unless told to. */
	assert_int_equal(resume_stage_open(&st, tmpdir, "t.tar.zst", id, "template t.tar.zst"), 0);
	assert_int_equal(resume_stage_publish(&st, "t.tar.zst", false), -EEXIST);
	resume_stage_discard(&st);
	resume_stage_close(&st);
	assert_false(exists_in(".t.tar.zst.partial"));
	/* A state file that is not ours is ignored. */
	char p[256];
	snprintf(p, sizeof(p), "%s/.u.raw.resume", tmpdir);
	FILE *f = fopen(p, "w");
	fprintf(f, "{\"transfer_id\":\"%s\",\"ident\":\"x\",\"offset\":7,\"aux\":0,\"level\":0,"
		   "\"sha\":\"zz\",\"aux_sha\":\"\"}", id);
	fclose(f);
	assert_int_equal(resume_stage_open(&st, tmpdir, "u.raw", id, "x"), 0);
	assert_false(st.resumed);
	resume_stage_close(&st);
}

static void test_transfer_record(void **state)
{
	(void)state;
	struct resume_opts o;
	resume_opts_init(&o);
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/state", tmpdir);
	o.state_dir = dir;
	struct transfer t, u;
	assert_int_equal(transfer_begin(&t, &o, "disk", "web01"), 0);
	assert_int_equal(strlen(t.id), 32);
	assert_true(transfer_id_valid(t.id));
	/* Without --resume: a new id each time. */
	assert_int_equal(transfer_begin(&u, &o, "disk", "web01"), 0);
	assert_string_not_equal(t.id, u.id);
	/* With it: the recorded one, and whether it was done. */
	o.resume = true;
	assert_int_equal(transfer_begin(&t, &o, "disk", "web01"), 0);
	assert_string_equal(t.id, u.id);
	assert_false(t.done);
	transfer_mark_done(&t, "/var/lib/vz/import/web01.qcow2");
	assert_int_equal(transfer_begin(&u, &o, "disk", "web01"), 0);
	assert_true(u.done);
	assert_string_equal(u.remote_path, "/var/lib/vz/import/web01.qcow2");
	/* Another kind is another record. */
	assert_int_equal(transfer_begin(&u, &o, "template", "web01"), 0);
	assert_false(u.done);
	transfer_forget(&t);
	assert_int_equal(transfer_begin(&u, &o, "disk", "web01"), 0);
	assert_string_not_equal(u.id, t.id);
	/* Options. */
	assert_int_equal(resume_opt_handle(&o, RESUME_OPT_RETRIES, "3"), 1);
	assert_int_equal(o.retries, 3);
	assert_int_equal(resume_opt_handle(&o, RESUME_OPT_RETRIES, "x"), -EINVAL);
	assert_int_equal(resume_opt_handle(&o, RESUME_OPT_MAX_WAIT, "0"), -EINVAL);
	assert_int_equal(resume_opt_handle(&o, 'v', NULL), 0);
}

static void test_resent_accounting(void **state)
{
	(void)state;
	struct transfer t = { 0 };
	/* Connection 1: content from stream byte 300, checkpoints. */
	transfer_connection(&t, 300);
	transfer_checkpoint(&t, 16 << 20, (16 << 20) + 400);
	transfer_checkpoint(&t, 32 << 20, (32 << 20) + 600);
	assert_int_equal(t.checkpoints, 2);
	transfer_cut(&t, (40 << 20) + 600);
	transfer_cut(&t, 5);   /* a second drop before READY changes nothing */
	transfer_resumed(&t, "x", 32 << 20);
	assert_int_equal(t.resent, 8 << 20);
	assert_int_equal(t.cuts, 1);
	/* Connection 2 cut before its first checkpoint: all it sent is resent,
	 * and the receiver resumes where it did the last time. */
	transfer_connection(&t, 200);
	transfer_cut(&t, 200 + (3 << 20));
	transfer_resumed(&t, "x", 32 << 20);
	assert_int_equal(t.resent, (8 << 20) + (3 << 20));
	assert_int_equal(t.resent_max, 8 << 20);
	assert_int_equal(t.cuts, 2);
	/* No cut: nothing accounted. */
	transfer_resumed(&t, "x", 0);
	assert_int_equal(t.cuts, 2);
	assert_true(resume_retryable(-1002 /* SSH_ERR_CONNECT */, false));
	assert_false(resume_retryable(-1000 /* hostkey */, true));
	assert_false(resume_retryable(-EINTR, true));
	assert_true(resume_retryable(-EPIPE, true));
	assert_false(resume_retryable(-EPIPE, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha_state),
		cmocka_unit_test(test_checkpoint_payload),
		cmocka_unit_test(test_ready_lines),
		cmocka_unit_test(test_writer_resume),
		cmocka_unit_test_setup_teardown(test_stage, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(test_transfer_record, make_tmp, remove_tmp),
		cmocka_unit_test(test_resent_accounting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
