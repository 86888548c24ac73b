/* p2v run: do what the p2v.* keys of the kernel command line say, so a
 * server booted from the rescue medium migrates without anyone typing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmdline.h"
#include "commands.h"
#include "log.h"
#include "options.h"
#include "remote.h"
#include "run_args.h"
#include "run_dialogue.h"
#include "run_log.h"
#include "run_net_up.h"
#include "util.h"

#define RUN_DIR "/run/p2v"
#define PASSWORD_FILE RUN_DIR "/password"
#define DEFAULT_LOG "/var/log/p2v-run.log"
#define RESOLV_CONF "/etc/resolv.conf"

enum { OPT_CMDLINE = 256, OPT_DRY_RUN, OPT_LOG };

static const struct opt_def run_opts[] = {
	{ "cmdline", OPT_CMDLINE, "STRING", "read the p2v.* keys from STRING instead of /proc/cmdline" },
	{ "dry-run", OPT_DRY_RUN, NULL, "print the p2v ct or p2v disk command the keys make (one shell-quoted line) and what would happen around it; run nothing" },
	{ "log", OPT_LOG, "FILE", "append the run's messages to FILE (default " DEFAULT_LOG ")" },
	{ "verbose", 'v', NULL, "log more" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 },
};

struct run_args {
	const char *cmdline, *log;
	bool dry_run, help;
};

static int run_opt(void *ctx, int key, const char *arg)
{
	struct run_args *a = ctx;
	switch (key) {
	case OPT_CMDLINE: a->cmdline = arg; break;
	case OPT_DRY_RUN: a->dry_run = true; break;
	case OPT_LOG: a->log = arg; break;
	case 'v': log_set_level(LOG_DEBUG); break;
	case 'h': a->help = true; break;
	}
	return 0;
}

static void key_line(const char *key, const char *arg, bool list, const char *text)
{
	char flag[256];
	snprintf(flag, sizeof(flag), "%s=%s%s%s", key, arg ? arg : "1", list ? "," : "",
		 list ? arg : "");
	printf("  %-30s  %s\n", flag, text);
}

/* The keys that map onto ct's and disk's options, each once. */
static void print_command_keys(void)
{
	const struct opt_def *tables[] = { ct_opts, disk_opts };
	const char *names[] = { "ct", "disk" };
	for (size_t t = 0; t < 2; t++)
		for (const struct opt_def *d = tables[t]; d->name; d++) {
			char key[128], text[256];
			if (!d->cmdline || (t == 1 && cmdline_find(ct_opts, cmdline_key(d, key, sizeof(key)))))
				continue;
			cmdline_key(d, key, sizeof(key));
			const struct opt_def *in_disk = t == 0 ? cmdline_find(disk_opts, key) : d;
			snprintf(text, sizeof(text), "--%s of p2v %s%s", d->name,
				 t == 0 && in_disk ? "ct and p2v disk" : names[t],
				 cmdline_is_list(d) ? ", once per comma-separated item"
				 : !strcmp(key, "p2v.server") ? ", with p2v.user and p2v.port added" : "");
			key_line(key, d->arg, cmdline_is_list(d), text);
		}
}

static void print_help(void)
{
	opt_print_help(stdout, "p2v run [--cmdline STRING] [--dry-run] [--log FILE]",
		       "Read the p2v.* keys of the kernel command line (words split as the kernel\n"
		       "splits them: key=\"a b\" for spaces) and run p2v ct or p2v disk with the\n"
		       "options they make, between p2v.pre and p2v.post (or p2v.fail). Without\n"
		       "p2v.server, on a terminal, a dialogue shows the inventory and the fake-RAID\n"
		       "verdict, asks for the network, mode, source, server, login and name (the\n"
		       "command line's p2v.* keys are the defaults), shows the server's host key\n"
		       "fingerprint to confirm, and then runs the same way, the key pinned; not\n"
		       "on a terminal that is an error (exit 2). After p2v.pre, p2v.ip sets the\n"
		       "network up (see its key below); without it the network stays as the boot\n"
		       "system left it and p2v run logs the addresses it goes out with. A\n"
		       "repeated key: the last wins, except p2v.disks, whose items add up. An\n"
		       "unknown p2v.* key is warned about and ignored; a key of the other mode's\n"
		       "command is an error. The log ends with a line that says success or what\n"
		       "failed.",
		       run_opts);
	printf("\nKernel command line keys of p2v run:\n");
	for (const struct opt_def *d = run_keys; d->name; d++)
		key_line(d->cmdline, d->arg, false, d->help);
	printf("\nKernel command line keys for p2v ct and p2v disk:\n");
	print_command_keys();
}

/* p2v.password into a file only root can read, for --password-file. */
static int write_password(const char *password)
{
	if (mkdir(RUN_DIR, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		log_error("%s: %s", RUN_DIR, strerror(e));
		return -e;
	}
	_cleanup_close_ int fd = open(PASSWORD_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	int rc = fd < 0 ? -errno : 0;
	if (rc == 0 && fchmod(fd, 0600) < 0)
		rc = -errno;
	if (rc == 0)
		rc = write_full(fd, password, strlen(password));
	if (rc == 0)
		rc = write_full(fd, "\n", 1);
	if (rc < 0)
		log_error("writing p2v.password to %s: %s", PASSWORD_FILE, strerror(-rc));
	return rc;
}

/* p2v.pre: the user's own shell command. Its exit status, or -1. */
static int run_pre(const char *cmd)
{
	_cleanup_free_ char *q = shell_quote(cmd);
	log_info("p2v.pre: running /bin/sh -c %s", q ? q : cmd);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		log_error("p2v.pre: fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static const char *status_text(int rc)
{
	switch (rc) {
	case P2V_EXIT_USAGE: return "bad command line";
	case P2V_EXIT_HOSTKEY: return "host key unknown, changed or not matching p2v.hostkey";
	case P2V_EXIT_AUTH: return "login refused";
	case P2V_EXIT_REMOTE: return "ct-import refused or failed";
	case P2V_EXIT_FAKERAID: return "BIOS RAID metadata not handled: boot with nodmraid, see p2v check";
	default: return "see the messages above";
	}
}

/* After the final line: power off, reboot, a shell, or return. */
static int act(enum run_action a, struct run_log *log, int rc)
{
	run_log_stop(log);
	switch (a) {
	case RUN_POWEROFF:
	case RUN_REBOOT:
		sync();
		if (reboot(a == RUN_POWEROFF ? RB_POWER_OFF : RB_AUTOBOOT) < 0)
			log_error("%s: %s", run_action_name(a), strerror(errno));
		return rc;
	case RUN_SHELL:
		execl("/bin/sh", "sh", (char *)NULL);
		log_error("/bin/sh: %s", strerror(errno));
		return rc;
	default:
		return rc;
	}
}

static void show_plan(const struct run_plan *p, bool dry)
{
	char net[256];
	log_info("network: %s%s", run_net_describe(&p->net, net, sizeof(net)),
		 p->net_ready ? " (done in the dialogue)" : "");
	if (dry && p->net.set)
		run_net_up(&p->net, RUN_DIR, RESOLV_CONF, true);
	if (p->password)
		log_info("p2v.password %s %s (0600) for --password-file", dry ? "would be written to" : "goes to",
			 PASSWORD_FILE);
	_cleanup_free_ char *pre = p->pre ? shell_quote(p->pre) : NULL;
	if (dry && pre)
		log_info("p2v.pre would run: /bin/sh -c %s", pre);
	log_info("after success: %s; after a failure: %s", run_action_name(p->post),
		 run_action_name(p->fail));
}

static int run_plan_exec(struct run_plan *p, struct run_log *log)
{
	_cleanup_free_ char *line = run_argv_line(p->argv, p->argc);
	char failed[512] = "";
	int rc = P2V_EXIT_OK;
	time_t start = time(NULL);
	show_plan(p, false);
	if (p->password && write_password(p->password) < 0) {
		snprintf(failed, sizeof(failed), "could not write p2v.password to %s", PASSWORD_FILE);
		rc = P2V_EXIT_FAILURE;
	}
	if (rc == P2V_EXIT_OK && p->pre) {
		int st = run_pre(p->pre);
		if (st != 0) {
			snprintf(failed, sizeof(failed), "p2v.pre exited with status %d", st);
			rc = P2V_EXIT_FAILURE;
		}
	}
	if (rc == P2V_EXIT_OK && !p->net_ready && run_net_up(&p->net, RUN_DIR, RESOLV_CONF, false) < 0) {
		char net[256];
		snprintf(failed, sizeof(failed), "network setup failed (%s)",
			 run_net_describe(&p->net, net, sizeof(net)));
		rc = P2V_EXIT_FAILURE;
	}
	if (rc == P2V_EXIT_OK) {
		log_info("running: %s", line ? line : p->mode);
		rc = (!strcmp(p->mode, "ct") ? cmd_ct : cmd_disk)((int)p->argc, p->argv);
		if (rc != P2V_EXIT_OK)
			snprintf(failed, sizeof(failed), "p2v %s exited with status %d (%s)", p->mode, rc,
				 status_text(rc));
	}
	if (p->password)
		unlink(PASSWORD_FILE);
	enum run_action then = rc == P2V_EXIT_OK ? p->post : p->fail;
	log_info("then: %s (%s)", run_action_name(then), rc == P2V_EXIT_OK ? "p2v.post" : "p2v.fail");
	/* The last line of the log: what became of the run. */
	if (rc == P2V_EXIT_OK)
		log_info("success: p2v %s finished in %ld s", p->mode, (long)(time(NULL) - start));
	else
		log_error("FAILED: %s", failed);
	return act(then, log, rc);
}

/* The dialogue, then the same run as an unattended one. */
static int run_interactive(struct run_plan *p, struct run_log *log, const char *cmdline)
{
	struct run_dialogue_env env = { .cmdline = cmdline, .password_file = PASSWORD_FILE,
					.run_dir = RUN_DIR, .resolv_conf = RESOLV_CONF };
	char failed[512] = "";
	run_plan_free(p);
	int rc = run_dialogue(&env, p, failed, sizeof(failed));
	if (rc != P2V_EXIT_OK) {
		log_error("FAILED: %s", failed);
		return rc;
	}
	return run_plan_exec(p, log);
}

int cmd_run(int argc, char **argv)
{
	struct run_args a = { .log = DEFAULT_LOG };
	struct run_plan plan = { 0 };
	struct run_log log = { .saved_stderr = -1, .tee = -1 };
	_cleanup_free_ char *proc = NULL;
	int idx = opt_parse(run_opts, argc, argv, run_opt, &a);
	if (idx < 0)
		return P2V_EXIT_USAGE;
	if (a.help) {
		print_help();
		return P2V_EXIT_OK;
	}
	if (idx < argc) {
		log_error("unexpected argument '%s' (see p2v run --help)", argv[idx]);
		return P2V_EXIT_USAGE;
	}
	if (!a.cmdline) {
		if (read_file("/proc/cmdline", 65536, &proc, NULL) < 0) {
			log_error("cannot read /proc/cmdline (give --cmdline STRING)");
			return P2V_EXIT_FAILURE;
		}
		a.cmdline = proc;
	}
	/* A real run keeps its log from the first message on. */
	if (!a.dry_run && run_log_start(&log, a.log) < 0)
		return P2V_EXIT_FAILURE;
	int rc = run_plan_build(a.cmdline, PASSWORD_FILE, &plan);
	if (rc < 0) {
		log_error("FAILED: the p2v.* keys of the kernel command line are wrong (see above)");
		rc = P2V_EXIT_USAGE;
	} else if (plan.interactive && a.dry_run) {
		log_info("no p2v.server: p2v run would ask on the terminal (the dialogue)");
		rc = P2V_EXIT_OK;
	} else if (plan.interactive && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		log_error("FAILED: no p2v.server on the kernel command line, and no terminal to ask "
			  "on (the dialogue needs one as stdin and stdout)");
		rc = P2V_EXIT_USAGE;
	} else if (plan.interactive) {
		rc = run_interactive(&plan, &log, a.cmdline);
	} else if (a.dry_run) {
		_cleanup_free_ char *line = run_argv_line(plan.argv, plan.argc);
		show_plan(&plan, true);
		if (!line) {
			rc = P2V_EXIT_FAILURE;
		} else {
			printf("%s\n", line);
			rc = P2V_EXIT_OK;
		}
	} else {
		rc = run_plan_exec(&plan, &log);
	}
	run_log_stop(&log);
	run_plan_free(&plan);
	return rc;
}
