/* Entry points of p2v's commands: each takes argv with argv[0] = command
 * name and returns the process exit status (see exit codes in p2v(1)). */
#ifndef P2V_COMMANDS_H
#define P2V_COMMANDS_H

#include "options.h"

/* Exit statuses shared by every command. */
enum {
	P2V_EXIT_OK = 0,
	P2V_EXIT_FAILURE = 1,   /* the migration failed; the reason was logged */
	P2V_EXIT_USAGE = 2,     /* bad command line */
	P2V_EXIT_HOSTKEY = 3,   /* host key unknown, changed or not matching the pin */
	P2V_EXIT_AUTH = 4,      /* login refused */
	P2V_EXIT_REMOTE = 5,    /* ct-import refused or failed */
	P2V_EXIT_FAKERAID = 6,  /* BIOS RAID metadata not handled: see p2v check */
};

int cmd_ct(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_disk(int argc, char **argv);
int cmd_inventory(int argc, char **argv);
int cmd_fakeraid(int argc, char **argv);
int cmd_run(int argc, char **argv);

/* The option tables of p2v ct and p2v disk: p2v run maps kernel command
 * line keys through them. */
extern const struct opt_def ct_opts[];
extern const struct opt_def disk_opts[];

#endif
