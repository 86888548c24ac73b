/* Entry points of ct-import's commands: argv[0] is the command name; each
 * returns the process exit status. */
#ifndef CTI_COMMANDS_H
#define CTI_COMMANDS_H

enum {
	CTI_EXIT_OK = 0,
	CTI_EXIT_FAILURE = 1,
	CTI_EXIT_USAGE = 2,
	CTI_EXIT_EXISTS = 3,    /* the template, image or container already exists */
	CTI_EXIT_VERIFY = 4,    /* the stream was malformed, cut short or failed its SHA-256 */
};

int cmd_receive(int argc, char **argv);
int cmd_create_ct(int argc, char **argv);
int cmd_create_vm(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_convert_openvz(int argc, char **argv);

#endif
