/* ct-import batch: convert every OpenVZ container a manifest lists, N at a
 * time, each in its own convert-openvz child process (a crash in one cannot
 * take the others down), with a state file that makes a killed batch
 * resumable without creating any VMID twice (doc/batch.md). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "batch_cleanup.h"
#include "batch_manifest.h"
#include "batch_report.h"
#include "batch_run.h"
#include "batch_state.h"
#include "commands.h"
#include "config.h"
#include "log.h"
#include "options.h"
#include "util.h"

enum { OPT_JOBS = 256, OPT_STATE, OPT_REPORT, OPT_CACHE_DIR, OPT_LXC_PATH };

static const struct opt_def batch_opts[] = {
	{ "jobs", OPT_JOBS, "N", "conversions to run at once (default 2)" },
	{ "state", OPT_STATE, "FILE", "state file that makes a rerun resume (default MANIFEST.state; "
	  "reports and logs go to FILE.d/)" },
	{ "report", OPT_REPORT, "FILE", "write the summary as JSON to FILE" },
	{ "cache-dir", OPT_CACHE_DIR, "DIR", "template cache for every conversion (default from the config file, else "
	  CTI_DEFAULT_CACHE_DIR ")" },
	{ "lxc-path", OPT_LXC_PATH, "DIR", "LXC container directory for every conversion (default from the config file, else "
	  CTI_DEFAULT_LXC_PATH ")" },
	{ "verbose", 'v', NULL, "log more" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 },
};

struct batch_args {
	unsigned jobs;
	const char *state, *report, *cache_dir, *lxc_path;
	bool help;
};

static int batch_opt(void *ctx, int key, const char *arg)
{
	struct batch_args *a = ctx;
	uint64_t v;
	switch (key) {
	case OPT_JOBS:
		if (parse_u64(arg, 1, 64, &v) < 0) {
			log_error("--jobs '%s': expected a number from 1 to 64", arg);
			return -EINVAL;
		}
		a->jobs = (unsigned)v;
		break;
	case OPT_STATE: a->state = arg; break;
	case OPT_REPORT: a->report = arg; break;
	case OPT_CACHE_DIR: a->cache_dir = arg; break;
	case OPT_LXC_PATH: a->lxc_path = arg; break;
	case 'v': log_set_level(LOG_DEBUG); break;
	case 'h': a->help = true; break;
	}
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	batch_interrupted = 1;
}

/* --- setup --- */

static int read_manifest(const char *file, struct batch_manifest *m)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int rc = read_file(file, BATCH_MANIFEST_MAX_SIZE, &text, &len);
	if (rc < 0) {
		log_error("cannot read the manifest %s: %s", file,
			  rc == -EFBIG ? "too large" : strerror(-rc));
		return rc;
	}
	rc = batch_manifest_parse(file, text, len, m);
	if (rc == -ENOMEM)
		return rc;
	_cleanup_free_ char *copy = strdup(file);
	if (!copy)
		return -ENOMEM;
	char *slash = strrchr(copy, '/');
	const char *dir = slash ? (slash == copy ? "/" : (*slash = '\0', copy)) : ".";
	int r2 = batch_manifest_resolve(m, dir);
	if (r2 == -ENOMEM)
		return r2;
	for (size_t i = 0; i < m->n_error; i++)
		log_error("%s", m->error[i]);
	if (m->n_error)
		log_error("%zu problem(s) in %s; nothing was converted", m->n_error, file);
	return m->n_error ? -EINVAL : 0;
}

static char *absolute(const char *p)
{
	if (p[0] == '/')
		return strdup(p);
	char cwd[PATH_MAX], *out;
	if (!getcwd(cwd, sizeof(cwd)) || asprintf(&out, "%s/%s", cwd, p) < 0)
		return NULL;
	return out;
}

static char *item_key(const struct batch_item *it)
{
	char *k;
	if (it->vmid ? asprintf(&k, "vmid-%u", it->vmid) < 0 : asprintf(&k, "ctid-%s", it->ctid) < 0)
		return NULL;
	for (char *p = k; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_' || *p == '-' || *p == '+'))
			*p = '_';
	if (strlen(k) > 100)
		k[100] = '\0';
	return k;
}

static bool key_used(const struct batch_state *st, const char *key)
{
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->e[i].key, key))
			return true;
	return false;
}

/* Every manifest item gets its state entry; a VMID that an earlier run
 * created (or started creating) for another source is refused. */
static int reconcile(struct batch *b)
{
	int problems = 0;
	for (size_t i = 0; i < b->m.n; i++) {
		const struct batch_item *it = &b->m.item[i];
		for (size_t j = 0; j < b->st.n; j++) {
			const struct batch_entry *e = &b->st.e[j];
			if (it->vmid && e->vmid == it->vmid && strcmp(e->source, it->path) &&
			    (e->status == BATCH_DONE || (e->status == BATCH_STARTED && e->backend))) {
				log_error("%s:%u: VMID %u was %s for %s in an earlier run", b->m.file, it->line,
					  it->vmid, e->status == BATCH_DONE ? "created" : "being created", e->source);
				problems++;
			}
		}
		if (batch_state_find(&b->st, it->path))
			continue;
		_cleanup_free_ char *key = item_key(it);
		if (!key)
			return -ENOMEM;
		char k2[128];
		snprintf(k2, sizeof(k2), "%s", key);
		for (unsigned n = 2; key_used(&b->st, k2); n++)
			snprintf(k2, sizeof(k2), "%s-%u", key, n);
		if (!batch_state_add(&b->st, it->path, k2))
			return -ENOMEM;
	}
	return problems ? -EINVAL : 0;
}

/* Half-done containers from a killed run: remove what they may have left,
 * then they are pending again. */
static int recover(struct batch *b)
{
	for (size_t i = 0; i < b->st.n; i++) {
		struct batch_entry *e = &b->st.e[i];
		if (e->status != BATCH_STARTED)
			continue;
		if (batch_conversion_running(e->pid, e->source)) {
			log_error("the conversion of %s from an earlier batch is still running (pid %ld); "
				  "let it finish or kill it, then rerun", e->source, e->pid);
			return -EBUSY;
		}
		log_info("%s was half done when the last batch stopped: cleaning up to redo it", e->source);
		int rc = batch_cleanup(&b->env, e);
		if (rc < 0)
			return rc;
		e->status = BATCH_PENDING;
		e->pid = 0;
		e->time = (int64_t)time(NULL);
		if (batch_entry_set(&e->backend, NULL) < 0 || batch_entry_set(&e->template_path, NULL) < 0)
			return -ENOMEM;
		if ((rc = batch_state_save(&b->st)) < 0)
			return rc;
	}
	return 0;
}

static void batch_free(struct batch *b)
{
	batch_manifest_free(&b->m);
	batch_state_free(&b->st);
	free(b->state_dir);
	free(b->reports_dir);
	free(b->logs_dir);
	free(b->job);
	if (b->env.log_fd >= 0)
		close(b->env.log_fd);
	if (b->lock_fd >= 0)
		close(b->lock_fd);
}

static int make_dir(const char *p)
{
	if (mkdir(p, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		log_error("cannot create %s: %s", p, strerror(e));
		return -e;
	}
	return 0;
}

static int batch_main(struct batch *b, const struct batch_args *a, const char *manifest, struct cti_config *cfg)
{
	int rc = read_manifest(manifest, &b->m);
	if (rc < 0)
		return rc == -EINVAL ? CTI_EXIT_USAGE : CTI_EXIT_FAILURE;
	_cleanup_free_ char *state = a->state ? absolute(a->state) : NULL;
	if (!state && asprintf(&state, "%s.state", manifest) < 0)
		return CTI_EXIT_FAILURE;
	_cleanup_free_ char *state_abs = absolute(state);
	_cleanup_free_ char *cache = absolute(a->cache_dir ? a->cache_dir : cfg->cache_dir);
	_cleanup_free_ char *lxcp = absolute(a->lxc_path ? a->lxc_path : cfg->lxc_path);
	if (!state_abs || !cache || !lxcp || asprintf(&b->state_dir, "%s.d", state_abs) < 0 ||
	    asprintf(&b->reports_dir, "%s/reports", b->state_dir) < 0 ||
	    asprintf(&b->logs_dir, "%s/logs", b->state_dir) < 0)
		return CTI_EXIT_FAILURE;
	b->env.cache_dir = cache;
	b->env.lxc_path = lxcp;

	/* Held until batch_free: the whole run is one batch's. */
	rc = batch_state_lock(b->state_dir, &b->lock_fd);
	if (rc < 0)
		return CTI_EXIT_FAILURE;
	if (make_dir(b->reports_dir) < 0 || make_dir(b->logs_dir) < 0)
		return CTI_EXIT_FAILURE;
	_cleanup_free_ char *batch_log = NULL;
	if (asprintf(&batch_log, "%s/cleanup.log", b->logs_dir) < 0)
		return CTI_EXIT_FAILURE;
	b->env.log_fd = open(batch_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (batch_state_load(state_abs, &b->st) < 0)
		return CTI_EXIT_FAILURE;
	rc = reconcile(b);
	if (rc < 0)
		return rc == -EINVAL ? CTI_EXIT_USAGE : CTI_EXIT_FAILURE;
	if (recover(b) < 0 || batch_state_save(&b->st) < 0)
		return CTI_EXIT_FAILURE;

	_cleanup_free_ size_t *queue = calloc(b->m.n, sizeof(size_t));
	if (!queue || !(b->job = calloc(b->jobs, sizeof(*b->job))))
		return CTI_EXIT_FAILURE;
	size_t nq = 0;
	b->total = (unsigned)b->m.n;
	for (size_t i = 0; i < b->m.n; i++) {
		const struct batch_entry *e = batch_state_find(&b->st, b->m.item[i].path);
		if (e->status == BATCH_DONE) {
			b->done++;
			log_debug("%s: converted in an earlier run", b->m.item[i].source);
			if (e->vmid != b->m.item[i].vmid)
				log_warn("%s:%u: converted in an earlier run as VMID %u; not converted again as %u",
					 manifest, b->m.item[i].line, e->vmid, b->m.item[i].vmid);
		} else {
			queue[nq++] = i;
		}
	}
	if (b->done)
		log_info("%u of %u container(s) converted in an earlier run; %zu to do", b->done, b->total, nq);
	rc = batch_run_all(b, queue, nq);

	_cleanup_free_ char *manifest_abs = absolute(manifest);
	struct batch_summary_ctx sc = { .manifest = manifest_abs ? manifest_abs : manifest, .state = state_abs, .reports_dir = b->reports_dir,
					.logs_dir = b->logs_dir, .m = &b->m, .st = &b->st };
	batch_summary_print(&sc, stdout);
	fflush(stdout);
	if (a->report && batch_summary_write(&sc, a->report) < 0)
		rc = rc ? rc : -EIO;
	if (batch_interrupted)
		log_warn("interrupted: rerun the same command to finish");
	if (rc < 0)
		return CTI_EXIT_FAILURE;
	return b->done == b->total ? CTI_EXIT_OK : CTI_EXIT_FAILURE;
}

int cmd_batch(int argc, char **argv)
{
	struct batch_args a = { .jobs = 2 };
	int idx = opt_parse(batch_opts, argc, argv, batch_opt, &a);
	if (idx < 0)
		return CTI_EXIT_USAGE;
	if (a.help) {
		opt_print_help(stdout, "ct-import batch MANIFEST [--jobs N] [--state FILE] [--report FILE]",
			       "Convert every OpenVZ container MANIFEST lists (see doc/batch.md), N at a time; "
			       "a rerun resumes a killed batch.", batch_opts);
		return CTI_EXIT_OK;
	}
	if (argc - idx != 1) {
		log_error("batch: expected one MANIFEST (see --help)");
		return CTI_EXIT_USAGE;
	}
	struct cti_config cfg;
	if (cti_config_load(NULL, &cfg) < 0)
		return CTI_EXIT_FAILURE;
	struct batch b = { .jobs = a.jobs, .env.log_fd = -1, .lock_fd = -1 };
	b.tty = isatty(STDERR_FILENO);
	struct winsize ws;
	b.width = b.tty && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 80;
	batch_status_attach(&b);
	log_set_before_hook(batch_status_clear);
	struct sigaction sa = { .sa_handler = on_signal };  /* no SA_RESTART: waitpid returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	int code = batch_main(&b, &a, argv[idx], &cfg);
	log_set_before_hook(NULL);
	batch_status_attach(NULL);
	batch_free(&b);
	cti_config_free(&cfg);
	return code;
}
