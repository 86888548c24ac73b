#include "resume_stage.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* How long a new receiver waits for the previous one to let go, before and
 * after asking it to stop. */
#define LOCK_WAIT_S 10
#define TAKEOVER_WAIT_S 20

bool transfer_id_valid(const char *s)
{
	if (!s || strlen(s) != TRANSFER_ID_LEN)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int try_lock_for(int fd, int seconds)
{
	for (int i = 0; i < seconds * 10; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		sleep_ms(100);
	}
	return flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : -EWOULDBLOCK;
}

/* A receiver of the same transfer that still holds the lock is waiting on a
 * connection that is gone (the sender reconnected): stop it. Only a
 * ct-import process of ours, and only for the same transfer id. */
static void stop_previous(struct resume_stage *s)
{
	char buf[128] = "";
	ssize_t n = pread(s->lockfd, buf, sizeof(buf) - 1, 0);
	long pid = 0;
	char id[TRANSFER_ID_LEN + 2] = "";
	if (n <= 0 || sscanf(buf, "%ld %33s", &pid, id) != 2 || pid <= 1 || pid == getpid() ||
	    strcmp(id, s->id))
		return;
	char path[64], comm[64] = "";
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, comm, sizeof(comm) - 1) <= 0 || strncmp(comm, "ct-import", 9))
		return;
	log_info("taking over from receiver %ld of the same transfer (its connection is gone)", pid);
	kill((pid_t)pid, SIGTERM);
}

static int take_lock(struct resume_stage *s)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		s->lockfd = openat(s->dirfd, s->lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (s->lockfd < 0) {
			log_error("cannot create %s/%s: %s", s->dir, s->lock, strerror(errno));
			return -errno;
		}
		int rc = try_lock_for(s->lockfd, LOCK_WAIT_S);
		if (rc == -EWOULDBLOCK) {
			stop_previous(s);
			rc = try_lock_for(s->lockfd, TAKEOVER_WAIT_S);
		}
		if (rc < 0) {
			log_error("another receiver is working on %s/%s", s->dir, s->partial);
			close(s->lockfd);
			s->lockfd = -1;
			return rc == -EWOULDBLOCK ? -EBUSY : rc;
		}
		/* The holder may have published and removed the lock file. */
		struct stat st;
		if (fstat(s->lockfd, &st) == 0 && st.st_nlink > 0)
			break;
		close(s->lockfd);
		s->lockfd = -1;
	}
	if (s->lockfd < 0)
		return -EBUSY;
	char line[128];
	int n = snprintf(line, sizeof(line), "%ld %s\n", (long)getpid(), s->id);
	if (ftruncate(s->lockfd, 0) < 0 || pwrite(s->lockfd, line, (size_t)n, 0) != n)
		log_debug("cannot note our pid in %s", s->lock);
	return 0;
}

static int state_hex_get(json_t *o, const char *key, uint8_t out[SHA256_STATE_LEN])
{
	const char *h = json_string_value(json_object_get(o, key));
	if (!h || strlen(h) != 2 * SHA256_STATE_LEN)
		return -EINVAL;
	for (size_t i = 0; i < SHA256_STATE_LEN; i++) {
		unsigned v;
		if (sscanf(h + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static void state_hex_put(json_t *o, const char *key, const uint8_t in[SHA256_STATE_LEN])
{
	char h[2 * SHA256_STATE_LEN + 1];
	for (size_t i = 0; i < SHA256_STATE_LEN; i++)
		snprintf(h + 2 * i, 3, "%02x", in[i]);
	json_object_set_new(o, key, json_string(h));
}

/* The durable checkpoint, if the state file is ours and sound. */
static bool load_state(struct resume_stage *s)
{
	_cleanup_close_ int fd = openat(s->dirfd, s->state, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	json_error_t err;
	json_t *o = json_loadfd(fd, 0, &err);
	const char *id = json_string_value(json_object_get(o, "transfer_id"));
	const char *ident = json_string_value(json_object_get(o, "ident"));
	const char *done = json_string_value(json_object_get(o, "done"));
	if (done && id && ident && !strcmp(id, s->id) && !strcmp(ident, s->ident) &&
	    !strncmp(done, "OK ", 3) && !strchr(done, '\n')) {
		snprintf(s->done_reply, sizeof(s->done_reply), "%s", done);
		s->done = true;
		json_decref(o);
		return false;
	}
	json_t *off = json_object_get(o, "offset"), *aux = json_object_get(o, "aux"),
	       *level = json_object_get(o, "level");
	bool ok = id && ident && !strcmp(id, s->id) && !strcmp(ident, s->ident) &&
		  json_is_integer(off) && json_integer_value(off) >= 0 && json_is_integer(aux) &&
		  json_integer_value(aux) >= 0 && json_is_integer(level) &&
		  json_integer_value(level) >= 0 && json_integer_value(level) <= 100 &&
		  state_hex_get(o, "sha", s->ck.sha) == 0 &&
		  state_hex_get(o, "aux_sha", s->ck.aux_sha) == 0;
	if (ok) {
		s->ck.offset = (uint64_t)json_integer_value(off);
		s->ck.aux = (uint64_t)json_integer_value(aux);
		s->ck.level = (uint32_t)json_integer_value(level);
		/* The state must describe exactly offset bytes. */
		struct sha256 sha;
		ok = sha256_import(&sha, s->ck.sha) == 0 && sha256_length(&sha) == s->ck.offset;
		sha256_abandon(&sha);
	} else if (id && strcmp(id, s->id)) {
		log_info("a partial transfer of another sender (%s) is discarded", id);
	}
	json_decref(o);
	if (!ok)
		memset(&s->ck, 0, sizeof(s->ck));
	return ok;
}

int resume_stage_open(struct resume_stage *s, const char *dir, const char *final,
		      const char *id, const char *ident)
{
	*s = (struct resume_stage){ .dirfd = -1, .fd = -1, .lockfd = -1 };
	snprintf(s->id, sizeof(s->id), "%s", id);
	if (!(s->dir = strdup(dir)) || !(s->ident = strdup(ident)))
		return -ENOMEM;
	if (snprintf(s->partial, sizeof(s->partial), ".%s.partial", final) >= (int)sizeof(s->partial) ||
	    snprintf(s->state, sizeof(s->state), ".%s.resume", final) >= (int)sizeof(s->state) ||
	    snprintf(s->lock, sizeof(s->lock), ".%s.lock", final) >= (int)sizeof(s->lock))
		return -ENAMETOOLONG;
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		log_error("cannot open %s: %s", dir, strerror(errno));
		return -errno;
	}
	int rc = take_lock(s);
	if (rc < 0)
		return rc;
	s->resumed = load_state(s);
	if (s->done)
		return 0;
	s->fd = openat(s->dirfd, s->partial, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->fd < 0) {
		log_error("cannot create %s/%s: %s", dir, s->partial, strerror(errno));
		return -errno;
	}
	struct stat st;
	if (fstat(s->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_error("%s/%s is not a regular file", dir, s->partial);
		return -EINVAL;
	}
	if (!s->resumed) {
		unlinkat(s->dirfd, s->state, 0);
		if (ftruncate(s->fd, 0) < 0)
			return -errno;
	}
	return 0;
}

int resume_stage_save(struct resume_stage *s, const struct stream_checkpoint *c, uint64_t wire,
		      FILE *reply)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:i}", "transfer_id", s->id, "ident", s->ident,
			      "offset", (json_int_t)c->offset, "aux", (json_int_t)c->aux,
			      "level", (int)c->level);
	if (!o)
		return -ENOMEM;
	state_hex_put(o, "sha", c->sha);
	state_hex_put(o, "aux_sha", c->aux_sha);
	_cleanup_free_ char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s.new", s->state);
	int fd = text ? openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
	int rc = fd < 0 ? (text ? -errno : -ENOMEM) : 0;
	if (rc == 0 && (rc = write_full(fd, text, strlen(text))) == 0 && fsync(fd) < 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	if (rc == 0 && renameat(s->dirfd, tmp, s->dirfd, s->state) < 0)
		rc = -errno;
	if (rc == 0 && fsync(s->dirfd) < 0)
		rc = -errno;
	if (rc < 0) {
		log_error("recording the checkpoint in %s/%s: %s", s->dir, s->state, strerror(-rc));
		return rc;
	}
	s->ck = *c;
	s->resumed = true;
	fprintf(reply, "ACK %llu %llu\n", (unsigned long long)c->offset, (unsigned long long)wire);
	fflush(reply);
	return 0;
}

int resume_stage_publish(struct resume_stage *s, const char *final, bool overwrite)
{
	if (fsync(s->fd) < 0) {
		log_error("syncing %s/%s: %s", s->dir, s->partial, strerror(errno));
		return -errno;
	}
	unsigned flags = overwrite ? 0 : RENAME_NOREPLACE;
	if (renameat2(s->dirfd, s->partial, s->dirfd, final, flags) < 0) {
		int e = errno;
		if (e == EEXIST)
			log_error("%s/%s already exists", s->dir, final);
		else
			log_error("publishing %s/%s: %s", s->dir, final, strerror(e));
		return -e;
	}
	if (fsync(s->dirfd) < 0)
		log_warn("syncing %s: %s", s->dir, strerror(errno));
	return 0;
}

void resume_stage_done(struct resume_stage *s, const char *ok_line)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "transfer_id", s->id, "ident", s->ident,
			      "done", ok_line);
	_cleanup_free_ char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s.new", s->state);
	int fd = text ? openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
	bool ok = fd >= 0 && write_full(fd, text, strlen(text)) == 0 && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	if (!ok || renameat(s->dirfd, tmp, s->dirfd, s->state) < 0) {
		unlinkat(s->dirfd, tmp, 0);
		unlinkat(s->dirfd, s->state, 0);
	}
	unlinkat(s->dirfd, s->partial, 0);
	unlinkat(s->dirfd, s->lock, 0);
}

void resume_stage_discard(struct resume_stage *s)
{
	if (s->dirfd < 0 || s->lockfd < 0)
		return;
	unlinkat(s->dirfd, s->partial, 0);
	unlinkat(s->dirfd, s->state, 0);
	unlinkat(s->dirfd, s->lock, 0);
}

void resume_stage_close(struct resume_stage *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->dir);
	free(s->ident);
	s->dir = s->ident = NULL;
	s->fd = s->lockfd = s->dirfd = -1;
}

void resume_stage_ready(FILE *reply, const struct resume_stage *s)
{
	char line[STREAM_READY_MAX];
	struct stream_checkpoint none = { 0 };
	stream_ready_format(line, sizeof(line), s && s->resumed ? &s->ck : &none);
	fprintf(reply, "%s\n", line);
	fflush(reply);
}
