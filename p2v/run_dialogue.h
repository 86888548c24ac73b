/* p2v run without p2v.server: a plain-text dialogue on the console. It
 * shows the inventory and the fake-RAID verdict, sets the network up (from
 * p2v.ip, or as asked), asks for the mode, what to migrate, the server, the
 * login and the name, shows the server's host key fingerprint and asks to
 * confirm it. The answers become p2v.* words after the command line's (so
 * the command line's keys are the defaults, and p2v.post and the like still
 * apply) and go through the same run_plan_build as an unattended run; the
 * confirmed fingerprint is pinned with --hostkey. */
#ifndef P2V_RUN_DIALOGUE_H
#define P2V_RUN_DIALOGUE_H

#include <stddef.h>

#include "run_args.h"

struct run_dialogue_env {
	const char *cmdline;        /* the kernel command line */
	const char *password_file;  /* where p2v.password goes (run.c writes it) */
	const char *run_dir;        /* for the udhcpc script */
	const char *resolv_conf;
};

/* Ask on stdin/stdout (a terminal). P2V_EXIT_OK with *plan filled (its
 * network already up: plan->net_ready), or the exit status with what
 * failed in failed[] (the host key not confirmed: P2V_EXIT_HOSTKEY; end of
 * input: P2V_EXIT_USAGE). */
int run_dialogue(const struct run_dialogue_env *env, struct run_plan *plan, char *failed, size_t cap);

#endif
