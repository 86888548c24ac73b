/* ct-import: the hypervisor side. Parses the command and dispatches. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "log.h"
#include "util.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "receive", cmd_receive, "read a p2v stream on stdin: a template into the cache, a disk into the import dir" },
	{ "create-ct", cmd_create_ct, "create a privileged container from a template" },
	{ "create-vm", cmd_create_vm, "define a VM from received disk images" },
	{ "convert-openvz", cmd_convert_openvz, "convert an OpenVZ container (vzdump-openvz archive or private area) to LXC" },
	{ "batch", cmd_batch, "convert the OpenVZ containers a manifest lists, resumably, N at a time" },
};

static void usage(FILE *f)
{
	fputs("Usage: ct-import COMMAND [OPTIONS]\n\n"
	      "Receive p2v streams and create containers and VMs from them.\n\n"
	      "Commands:\n", f);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].help);
	fputs("  help           show this text\n\n"
	      "Run 'ct-import COMMAND --help' for a command's options; see ct-import(1).\n", f);
}

int main(int argc, char **argv)
{
	log_init("ct-import");
	if (argc < 2) {
		usage(stderr);
		return CTI_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return CTI_EXIT_OK;
	}
	log_error("unknown command '%s' (see 'ct-import --help')", cmd);
	return CTI_EXIT_USAGE;
}
