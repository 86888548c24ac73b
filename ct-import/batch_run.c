/* Running the conversions of ct-import batch (batch_run.h): a conversion
 * child is forked, its start recorded durably in the state, and only then
 * released; when it exits its report is read, what a failed one left is
 * removed, and the state says done or failed with the reason. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "batch_report.h"
#include "batch_run.h"
#include "commands.h"
#include "convert_openvz.h"
#include "log.h"
#include "run.h"
#include "util.h"

volatile sig_atomic_t batch_interrupted;

/* --- progress: one status line on a terminal, plain log lines otherwise --- */

static struct batch *progress_batch;

void batch_status_attach(struct batch *b)
{
	progress_batch = b;
}

void batch_status_clear(void)
{
	if (progress_batch && progress_batch->tty)
		fputs("\r\033[K", stderr);
}

static const char *display(const struct batch_item *it, char *buf, size_t size)
{
	if (it->vmid)
		snprintf(buf, size, "%u", it->vmid);
	else
		snprintf(buf, size, "%s", it->ctid);
	return buf;
}

static void status_draw(struct batch *b)
{
	if (!b->tty)
		return;
	char line[512];
	int n = snprintf(line, sizeof(line), "batch: %u/%u converted, %u running, %u failed", b->done, b->total,
			 b->running, b->failed);
	if (b->running && n > 0 && (size_t)n < sizeof(line))
		n += snprintf(line + n, sizeof(line) - (size_t)n, " |");
	for (unsigned j = 0; j < b->jobs && n > 0 && (size_t)n < sizeof(line); j++) {
		if (!b->job[j].pid)
			continue;
		char id[64];
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s", display(&b->m.item[b->job[j].item], id, sizeof(id)));
	}
	int w = b->width > 1 ? b->width - 1 : 79;
	fprintf(stderr, "\r\033[K%.*s", w, line);
	fflush(stderr);
}

/* --- running --- */

static size_t entry_index(struct batch *b, const struct batch_item *it)
{
	return (size_t)(batch_state_find(&b->st, it->path) - b->st.e);
}

static int mark_failed(struct batch *b, struct batch_entry *e, const char *reason)
{
	e->status = BATCH_FAILED;
	e->pid = 0;
	e->time = (int64_t)time(NULL);
	if (batch_entry_set(&e->reason, reason) < 0)
		return -ENOMEM;
	b->failed++;
	return batch_state_save(&b->st);
}

static int open_log(struct batch *b, const struct batch_entry *e)
{
	_cleanup_free_ char *p = NULL;
	if (asprintf(&p, "%s/%s.log", b->logs_dir, e->key) < 0)
		return -ENOMEM;
	int fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		int err = errno;
		log_error("cannot open %s: %s", p, strerror(err));
		return -err;
	}
	return fd;
}

static char **child_argv(struct batch *b, const struct batch_item *it, const struct batch_entry *e,
			 const char *report)
{
	struct argv_builder a = { 0 };
	/* The same binary as a child: a crash in one conversion stays there. */
	argv_push(&a, "/proc/self/exe");
	argv_push(&a, "convert-openvz");
	argv_push(&a, "%s", it->path);
	argv_push_opt(&a, "report", report);
	argv_push_opt(&a, "cache-dir", b->env.cache_dir);
	argv_push_opt(&a, "lxc-path", b->env.lxc_path);
	if (it->vmid) {
		argv_push(&a, "--vmid");
		argv_push(&a, "%u", it->vmid);
	}
	argv_push_opt(&a, "storage", it->storage);
	argv_push_opt(&a, "bridge", it->bridge);
	argv_push_opt(&a, "gw", it->gw);
	argv_push_opt(&a, "output", e->output);
	argv_push_opt(&a, "backend", e->backend);
	if (it->start)
		argv_push(&a, "--start");
	return argv_finish(&a);
}

/* Record the item as started (durably), then let its child run. Returns 0
 * when a child runs or the item was settled without one (> 0), else a
 * negative error that stops the batch. */
static int start_item(struct batch *b, size_t slot, size_t idx)
{
	const struct batch_item *it = &b->m.item[idx];
	struct batch_entry *e = &b->st.e[entry_index(b, it)];
	char name[64], buf[PATH_MAX];
	display(it, name, sizeof(name));
	int rc;
	enum batch_backend be = it->backend;
	if (it->output == BATCH_OUT_CREATE && be == BATCH_BACKEND_UNSET)
		be = program_on_path("pct") ? BATCH_BACKEND_PVE : BATCH_BACKEND_LXC;
	e->vmid = it->vmid;
	snprintf(buf, sizeof(buf), "%u", it->vmid);
	if (batch_entry_set(&e->output, batch_output_name(it->output)) < 0 ||
	    batch_entry_set(&e->backend, it->output == BATCH_OUT_CREATE ? batch_backend_name(be) : NULL) < 0 ||
	    batch_entry_set(&e->name, be == BATCH_BACKEND_LXC && it->output == BATCH_OUT_CREATE ? buf : NULL) < 0 ||
	    batch_entry_set(&e->template_path, NULL) < 0 || batch_entry_set(&e->reason, NULL) < 0)
		return -ENOMEM;
	e->exit_code = 0;
	e->warnings = e->unmapped = 0;

	/* What exists before we start is not ours: never touched, refused. */
	if (e->backend && batch_container_exists(&b->env, e)) {
		snprintf(buf, sizeof(buf), "container %u already exists (not created by this batch)", it->vmid);
		batch_entry_set(&e->backend, NULL);
		log_error("%s: %s", name, buf);
		return mark_failed(b, e, buf) < 0 ? -EIO : 1;
	}
	if (it->output != BATCH_OUT_VZDUMP) {
		snprintf(buf, sizeof(buf), "%s/" CTI_OVZ_TEMPLATE_FMT, b->env.cache_dir, it->ctid);
		struct stat st;
		if (lstat(buf, &st) == 0) {
			char why[PATH_MAX + 64];
			snprintf(why, sizeof(why), "%s already exists (remove it to convert again)", buf);
			batch_entry_set(&e->backend, NULL);
			log_error("%s: %s", name, why);
			return mark_failed(b, e, why) < 0 ? -EIO : 1;
		}
		if (batch_entry_set(&e->template_path, buf) < 0)
			return -ENOMEM;
	}

	_cleanup_free_ char *report = NULL;
	if (asprintf(&report, "%s/%s.json", b->reports_dir, e->key) < 0)
		return -ENOMEM;
	unlink(report);  /* an earlier attempt's */
	int log_fd = open_log(b, e);
	if (log_fd < 0)
		return log_fd;
	char **argv = child_argv(b, it, e, report);
	if (!argv) {
		close(log_fd);
		return -ENOMEM;
	}
	time_t now = time(NULL);
	dprintf(log_fd, "=== ct-import batch: attempt %u, %s", e->attempts + 1, ctime(&now));
	int release = -1;
	pid_t pid = batch_spawn(argv, log_fd, &release);
	argv_free(argv);
	close(log_fd);
	if (pid < 0)
		return pid;
	e->status = BATCH_STARTED;
	e->pid = pid;
	e->time = (int64_t)now;
	e->attempts++;
	rc = batch_state_save(&b->st);
	if (rc < 0) {
		/* Not recorded: the child must not run. */
		close(release);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return rc;
	}
	/* Recorded: let it run. */
	if (write(release, "g", 1) != 1)
		log_warn("cannot release conversion %ld: %s", (long)pid, strerror(errno));
	close(release);
	b->job[slot] = (struct job){ .pid = pid, .item = idx, .entry = (size_t)(e - b->st.e) };
	b->running++;
	/* On a terminal the status line shows what runs and what is done. */
	if (!b->tty)
		log_info("started %s: %s", name, it->source);
	return 0;
}

/* The last "error: " line of the child's log: why it failed when it died
 * before writing its report. */
static char *last_error_line(struct batch *b, const struct batch_entry *e)
{
	_cleanup_free_ char *p = NULL, *text = NULL;
	if (asprintf(&p, "%s/%s.log", b->logs_dir, e->key) < 0 || read_file(p, 8 << 20, &text, NULL) < 0)
		return NULL;
	char *last = NULL;
	for (char *s = text; (s = strstr(s, "error: ")); s += 7)
		last = s + 7;
	if (!last)
		return NULL;
	return strndup(last, strcspn(last, "\n"));
}

static int finish_job(struct batch *b, struct job *j, int status)
{
	const struct batch_item *it = &b->m.item[j->item];
	struct batch_entry *e = &b->st.e[j->entry];
	char name[64], reason[1024];
	display(it, name, sizeof(name));
	b->running--;
	j->pid = 0;

	_cleanup_free_ char *report = NULL;
	if (asprintf(&report, "%s/%s.json", b->reports_dir, e->key) < 0)
		return -ENOMEM;
	struct child_report r;
	child_report_read(report, &r);
	e->warnings = r.notes;
	e->unmapped = r.unmapped;
	bool exited = WIFEXITED(status);
	int code = exited ? WEXITSTATUS(status) : -1;
	e->exit_code = code;
	int rc = 0;
	if (code == 0 && r.result && !strcmp(r.result, "ok")) {
		if (e->backend && !batch_container_exists(&b->env, e)) {
			snprintf(reason, sizeof(reason), "reported success, but container %u does not exist", e->vmid);
		} else {
			child_report_free(&r);
			e->status = BATCH_DONE;
			e->pid = 0;
			e->time = (int64_t)time(NULL);
			b->done++;
			if (!b->tty)
				log_info("converted %s (%u warning(s), %u unmapped key(s))", name, e->warnings, e->unmapped);
			return batch_state_save(&b->st);
		}
	} else {
		_cleanup_free_ char *from_log = r.error ? NULL : last_error_line(b, e);
		const char *why = r.error ? r.error : from_log;
		if (!exited)
			snprintf(reason, sizeof(reason), "killed by signal %d%s%s", WTERMSIG(status),
				 why ? ": " : "", why ? why : "");
		else if (why)
			snprintf(reason, sizeof(reason), "%s", why);
		else
			snprintf(reason, sizeof(reason), "convert-openvz exited with status %d (no report)", code);
	}
	child_report_free(&r);
	/* Exit 3: something was in the way, so leave the container alone; the
	 * template (if this child published it) and scratch space go anyway. */
	struct batch_entry tmp = *e;
	if (code == CTI_EXIT_EXISTS)
		tmp.backend = NULL;
	rc = batch_cleanup(&b->env, &tmp);
	batch_status_clear();
	if (rc < 0) {
		/* Still recorded as started: the next run tries again. */
		log_error("%s failed (%s) and what it left could not be removed", name, reason);
		batch_entry_set(&e->reason, reason);
		b->failed++;
		return batch_state_save(&b->st);
	}
	if (batch_interrupted && !exited) {
		log_warn("%s was interrupted; the next run redoes it", name);
		e->status = BATCH_PENDING;
		e->pid = 0;
		batch_entry_set(&e->backend, NULL);
		batch_entry_set(&e->template_path, NULL);
		return batch_state_save(&b->st);
	}
	batch_entry_set(&e->backend, NULL);
	batch_entry_set(&e->template_path, NULL);
	log_error("FAILED %s: %s", name, reason);
	return mark_failed(b, e, reason);
}

int batch_run_all(struct batch *b, const size_t *queue, size_t nq)
{
	size_t next = 0;
	int fatal = 0;
	bool forwarded = false;
	while (b->running || (next < nq && !batch_interrupted && !fatal)) {
		/* Interrupted: the running conversions stop too (a terminal's ^C
		 * reached them already; a kill of the batch alone did not). */
		if (batch_interrupted && !forwarded) {
			for (unsigned j = 0; j < b->jobs; j++)
				if (b->job[j].pid)
					kill(b->job[j].pid, SIGTERM);
			forwarded = true;
		}
		while (next < nq && !batch_interrupted && !fatal && b->running < b->jobs) {
			size_t slot = 0;
			while (b->job[slot].pid)
				slot++;
			int rc = start_item(b, slot, queue[next++]);
			if (rc < 0)
				fatal = rc;
		}
		status_draw(b);
		if (!b->running)
			break;
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			log_error("waitpid: %s", strerror(errno));
			return -errno;
		}
		for (unsigned j = 0; j < b->jobs; j++)
			if (b->job[j].pid == pid) {
				int rc = finish_job(b, &b->job[j], status);
				if (rc < 0 && !fatal)
					fatal = rc;
			}
	}
	batch_status_clear();
	return fatal;
}
