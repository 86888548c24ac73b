/* p2v run's plan: the p2v.* keys of a kernel command line turned into the
 * argv of `p2v ct` or `p2v disk` plus what happens around it. The keys come
 * from the option tables (struct opt_def.cmdline) of ct, disk and run_keys. */
#ifndef P2V_RUN_ARGS_H
#define P2V_RUN_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "cmdline.h"
#include "options.h"
#include "run_net.h"

/* What to do after the migration (p2v.post) or after a failure (p2v.fail). */
enum run_action { RUN_NOTHING, RUN_POWEROFF, RUN_REBOOT, RUN_SHELL };

struct run_plan {
	bool interactive;      /* no p2v.server: the console dialogue's case; nothing else is set */
	const char *mode;      /* "ct" or "disk" */
	char **argv;           /* argv[0] = mode; NULL-terminated */
	size_t argc;
	char *password;        /* p2v.password, for the file argv names with --password-file */
	char *pre;             /* p2v.pre: a command for /bin/sh -c */
	enum run_action post, fail;
	struct run_net net;    /* p2v.ip, p2v.iface */
	bool net_ready;        /* the dialogue has set the network up already */
};

/* p2v run's own keys: those that are no option of ct or disk. */
extern const struct opt_def run_keys[];

/* Build the plan from a kernel command line. Only words starting with "p2v."
 * count. A repeated key: the last one wins, except list keys (p2v.disks),
 * whose items accumulate in order. Unknown p2v.* keys are warned about and
 * ignored; a key of the other mode's command (p2v.format with p2v.mode=ct),
 * a bad value or a missing required key is an error naming the key: each is
 * logged, then -EINVAL. With p2v.password, argv gets --password-file
 * password_file (run.c writes the file). */
int run_plan_build(const char *cmdline, const char *password_file, struct run_plan *out);
/* The same from words already split (the dialogue's: the command line's
 * p2v.* words, then its answers, which win as later words do). */
int run_plan_build_params(const struct cmdline_param *p, size_t n, const char *password_file,
			  struct run_plan *out);
void run_plan_free(struct run_plan *p);

const char *run_action_name(enum run_action a);

/* argv as one line for a POSIX shell; malloc'd or NULL. */
char *run_argv_line(char *const *argv, size_t argc);

#endif
