#include "resume.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "signals.h"
#include "ssh.h"
#include "util.h"

void resume_opts_init(struct resume_opts *o)
{
	*o = (struct resume_opts){ .retries = RESUME_DEFAULT_RETRIES,
				   .max_wait = RESUME_DEFAULT_MAX_WAIT,
				   .state_dir = RESUME_DEFAULT_STATE_DIR };
}

int resume_opt_handle(struct resume_opts *o, int key, const char *arg)
{
	uint64_t n;
	switch (key) {
	case RESUME_OPT_RETRIES:
		if (parse_u64(arg, 0, 1000, &n) < 0) {
			log_error("--retries takes a number from 0 to 1000, not '%s'", arg);
			return -EINVAL;
		}
		o->retries = (unsigned)n;
		return 1;
	case RESUME_OPT_MAX_WAIT:
		if (parse_u64(arg, 1, 3600, &n) < 0) {
			log_error("--retry-max-wait takes seconds from 1 to 3600, not '%s'", arg);
			return -EINVAL;
		}
		o->max_wait = (unsigned)n;
		return 1;
	case RESUME_OPT_RESUME: o->resume = true; return 1;
	case RESUME_OPT_STATE_DIR: o->state_dir = arg; return 1;
	default: return 0;
	}
}

static int new_id(char id[33])
{
	uint8_t r[16];
	if (getrandom(r, sizeof(r), 0) != sizeof(r)) {
		log_error("no random bytes for a transfer id: %s", strerror(errno));
		return -EIO;
	}
	for (int i = 0; i < 16; i++)
		snprintf(id + 2 * i, 3, "%02x", r[i]);
	return 0;
}

static bool id_ok(const char *s)
{
	if (!s || strlen(s) != 32)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static void write_record(struct transfer *t, const char *kind)
{
	if (!t->path[0])
		return;
	json_t *o = json_pack("{s:s, s:s, s:b, s:s}", "transfer_id", t->id, "kind", kind,
			      "done", t->done, "remote_path", t->remote_path);
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.new", t->path);
	int fd = o ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
	_cleanup_free_ char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	bool ok = fd >= 0 && text && write_full(fd, text, strlen(text)) == 0 && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	if (!ok || rename(tmp, t->path) < 0) {
		log_warn("cannot record the transfer in %s (%s): --resume will not find it",
			 t->path, strerror(errno ? errno : EIO));
		unlink(tmp);
		t->path[0] = '\0';
	}
}

int transfer_begin(struct transfer *t, const struct resume_opts *o, const char *kind,
		   const char *name)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->kind, sizeof(t->kind), "%s", kind);
	if (mkdir(o->state_dir, 0700) < 0 && errno != EEXIST)
		log_warn("cannot create the state directory %s: %s", o->state_dir, strerror(errno));
	else
		snprintf(t->path, sizeof(t->path), "%s/%s.%s.json", o->state_dir, name, kind);
	if (o->resume && t->path[0]) {
		json_error_t err;
		json_t *r = json_load_file(t->path, 0, &err);
		const char *id = json_string_value(json_object_get(r, "transfer_id"));
		const char *k = json_string_value(json_object_get(r, "kind"));
		const char *rp = json_string_value(json_object_get(r, "remote_path"));
		if (id_ok(id) && k && !strcmp(k, kind)) {
			snprintf(t->id, sizeof(t->id), "%s", id);
			t->done = json_is_true(json_object_get(r, "done"));
			t->loaded = true;
			snprintf(t->remote_path, sizeof(t->remote_path), "%s", rp ? rp : "");
			log_info("%s: resuming transfer %s%s", name, t->id,
				 t->done ? " (already stored)" : "");
		} else {
			log_warn("%s: no transfer to resume in %s; starting from the beginning", name,
				 o->state_dir);
		}
		json_decref(r);
	}
	if (!t->id[0]) {
		int rc = new_id(t->id);
		if (rc < 0)
			return rc;
		log_debug("%s: transfer id %s", name, t->id);
	}
	write_record(t, kind);
	return 0;
}

void transfer_mark_done(struct transfer *t, const char *remote_path)
{
	t->done = true;
	snprintf(t->remote_path, sizeof(t->remote_path), "%s", remote_path);
	write_record(t, t->kind);
}

void transfer_forget(struct transfer *t)
{
	if (t->path[0] && unlink(t->path) < 0 && errno != ENOENT)
		log_warn("cannot remove %s: %s", t->path, strerror(errno));
}

void transfer_failed(struct transfer *t)
{
	if (!t->loaded && !t->reached)
		transfer_forget(t);
}

void transfer_connection(struct transfer *t, uint64_t data_wire)
{
	t->reached = true;
	t->n_ck = 0;
	t->data_wire = data_wire;
}

void transfer_checkpoint(struct transfer *t, uint64_t offset, uint64_t wire)
{
	if (t->n_ck == sizeof(t->ck) / sizeof(t->ck[0])) {
		memmove(t->ck, t->ck + 1, sizeof(t->ck) - sizeof(t->ck[0]));
		t->n_ck--;
	}
	t->checkpoints++;
	t->ck[t->n_ck].offset = offset;
	t->ck[t->n_ck].wire = wire;
	t->n_ck++;
}

void transfer_cut(struct transfer *t, uint64_t wire)
{
	if (t->cut)   /* no READY since the last cut: nothing new was sent */
		return;
	t->cut = true;
	t->cut_wire = wire;
	t->cuts++;
}

void transfer_resumed(struct transfer *t, const char *label, uint64_t offset)
{
	if (!t->cut)
		return;
	t->cut = false;
	/* From the checkpoint the receiver resumes at, as it lay in the cut
	 * connection's stream; before any checkpoint there: its content start. */
	uint64_t from = t->data_wire;
	for (size_t i = 0; i < t->n_ck; i++)
		if (t->ck[i].offset == offset)
			from = t->ck[i].wire;
	uint64_t again = t->cut_wire > from ? t->cut_wire - from : 0;
	t->resent += again;
	if (again > t->resent_max)
		t->resent_max = again;
	log_info("%s: resuming at offset %llu; %llu bytes sent before the cut are sent again",
		 label, (unsigned long long)offset, (unsigned long long)again);
}

void transfer_report(const struct transfer *t, const char *label)
{
	if (!t->cuts)
		return;
	log_info("%s: resent_bytes=%llu cuts=%u max_resent=%llu window=%u", label,
		 (unsigned long long)t->resent, t->cuts, (unsigned long long)t->resent_max,
		 STREAM_RESUME_WINDOW);
}

bool resume_retryable(int rc, bool lost)
{
	return rc == -SSH_ERR_CONNECT || (lost && rc < 0 && rc != -SSH_ERR_HOSTKEY &&
					  rc != -SSH_ERR_AUTH && rc != -EINTR);
}

int resume_backoff(const struct resume_opts *o, unsigned attempt, const char *label,
		   struct progress *prog)
{
	if (attempt > o->retries) {
		log_error("%s: the connection dropped %u time%s in a row; giving up (--retries %u)",
			  label, attempt, attempt == 1 ? "" : "s", o->retries);
		return -ETIMEDOUT;
	}
	unsigned wait = attempt >= 12 ? o->max_wait : 1u << (attempt - 1);
	if (wait > o->max_wait)
		wait = o->max_wait;
	log_warn("%s: connection lost; reconnecting in %u s (attempt %u of %u)", label, wait,
		 attempt, o->retries);
	char text[256];
	const char *old = prog ? prog->label : NULL;
	for (unsigned left = wait; left > 0; left--) {
		if (p2v_interrupted)
			break;
		if (prog) {
			snprintf(text, sizeof(text), "%s [link down: retry %u/%u in %u s]", old, attempt,
				 o->retries, left);
			prog->label = text;
			progress_update(prog, prog->done, prog->sent);
		}
		struct timespec ts = { 1, 0 };
		nanosleep(&ts, NULL);
	}
	if (prog)
		prog->label = old;
	if (p2v_interrupted) {
		log_error("interrupted by signal %d", (int)p2v_interrupted);
		return -EINTR;
	}
	return 0;
}
