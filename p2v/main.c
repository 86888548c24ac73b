/* p2v: the agent on the rescue medium. Parses the command and dispatches. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "log.h"
#include "util.h"
#include "version.h"

/* In the order of a migration: look, check, move. */
static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "inventory", cmd_inventory, "list disks, partitions, RAID/LVM signatures, installed systems, CPUs, NICs" },
	{ "check", cmd_check, "look for BIOS RAID metadata; exit 6 if migration must not proceed" },
	{ "fakeraid", cmd_fakeraid, "list BIOS RAID maps and md containers; --deactivate takes them apart" },
	{ "ct", cmd_ct, "archive a root filesystem losslessly and stream it to ct-import" },
	{ "disk", cmd_disk, "image whole disks for a VM, sending only used blocks" },
	{ "run", cmd_run, "do what the p2v.* keys of the kernel command line say, or ask on the console without them" },
};

static void usage(FILE *f)
{
	fputs("Usage: p2v COMMAND [OPTIONS]\n\n"
	      "Move a physical Linux server into a container or a VM.\n\n"
	      "Commands:\n", f);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
	fputs("  help      show this text\n"
	      "  version   print the version (also --version)\n\n"
	      "Run 'p2v COMMAND --help' for a command's options; see p2v(1).\n", f);
}

int main(int argc, char **argv)
{
	log_init("p2v");
	if (argc < 2) {
		usage(stderr);
		return P2V_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return P2V_EXIT_OK;
	}
	/* Which build a rescue medium carries (bundle/VERSION has its git describe). */
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		printf("p2v %s\n", P2V_VERSION);
		return P2V_EXIT_OK;
	}
	log_error("unknown command '%s' (see 'p2v --help')", cmd);
	return P2V_EXIT_USAGE;
}
