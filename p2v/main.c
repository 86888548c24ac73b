/* p2v: the agent on the rescue medium. Parses the command and dispatches. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "log.h"

static void usage(FILE *f)
{
	fputs("Usage: p2v COMMAND [OPTIONS]\n\n"
	      "Move a physical Linux server into a container or a VM.\n\n"
	      "Commands:\n"
	      "  ct        archive a root filesystem losslessly and stream it to ct-import\n"
	      "  check     look for BIOS RAID metadata; exit 6 if migration must not proceed\n"
	      "  disk      image whole disks for a VM, sending only used blocks\n"
	      "  fakeraid  list BIOS RAID maps and md containers; --deactivate takes them apart\n"
	      "  inventory list disks, partitions, RAID/LVM signatures, installed systems, CPUs, NICs\n"
	      "  help      show this text\n\n"
	      "Run 'p2v COMMAND --help' for a command's options; see p2v(1).\n", f);
}

int main(int argc, char **argv)
{
	log_init("p2v");
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "ct"))
		return cmd_ct(argc - 1, argv + 1);
	if (!strcmp(cmd, "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(cmd, "disk"))
		return cmd_disk(argc - 1, argv + 1);
	if (!strcmp(cmd, "fakeraid"))
		return cmd_fakeraid(argc - 1, argv + 1);
	if (!strcmp(cmd, "inventory"))
		return cmd_inventory(argc - 1, argv + 1);
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	log_error("unknown command '%s' (see 'p2v --help')", cmd);
	return 2;
}
