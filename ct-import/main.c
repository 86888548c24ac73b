/* ct-import: the hypervisor side. Parses the command and dispatches. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "log.h"

static void usage(FILE *f)
{
	fputs("Usage: ct-import COMMAND [OPTIONS]\n\n"
	      "Receive p2v streams and create containers from them.\n\n"
	      "Commands:\n"
	      "  receive     read a p2v stream on stdin into the template cache\n"
	      "  create-ct   create a privileged container from a template\n"
	      "  create-vm   define a VM from received disk images\n"
	      "  help        show this text\n\n"
	      "Run 'ct-import COMMAND --help' for a command's options; see ct-import(1).\n", f);
}

int main(int argc, char **argv)
{
	log_init("ct-import");
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "receive"))
		return cmd_receive(argc - 1, argv + 1);
	if (!strcmp(cmd, "create-ct"))
		return cmd_create_ct(argc - 1, argv + 1);
	if (!strcmp(cmd, "create-vm"))
		return cmd_create_vm(argc - 1, argv + 1);
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	log_error("unknown command '%s' (see 'ct-import --help')", cmd);
	return 2;
}
