/* The SSH login options every sending command takes (--identity,
 * --password-file, --hostkey, --accept-new-hostkey, --known-hosts), defined
 * once so `p2v ct` and `p2v disk` spell and document them alike. */
#ifndef P2V_SSH_OPTS_H
#define P2V_SSH_OPTS_H

#include "ssh.h"

/* Keys 400-409 are reserved for these; commands use others. */
enum {
	SSH_OPT_PASSWORD_FILE = 400,
	SSH_OPT_HOSTKEY,
	SSH_OPT_ACCEPT_NEW,
	SSH_OPT_KNOWN_HOSTS,
};

/* Entries for a command's struct opt_def table. */
#define SSH_OPT_DEFS \
	{ "identity", 'i', "FILE", "SSH private key to log in with", "p2v.identity" }, \
	{ "password-file", SSH_OPT_PASSWORD_FILE, "FILE", "log in with the password on FILE's first line" }, \
	{ "hostkey", SSH_OPT_HOSTKEY, "SHA256:...", "accept only the host key with this fingerprint", "p2v.hostkey" }, \
	{ "accept-new-hostkey", SSH_OPT_ACCEPT_NEW, NULL, "accept and record a host key not yet known (a changed key is always refused)", "p2v.accept_new_hostkey" }, \
	{ "known-hosts", SSH_OPT_KNOWN_HOSTS, "FILE", "known_hosts file (default ~/.ssh/known_hosts)" }

/* Store an SSH option: 1 when key was one, 0 when it is the command's own. */
int ssh_opt_handle(struct ssh_auth_opts *o, int key, const char *arg);

/* p2v's exit status for a failure from ssh_conn_* (-SSH_ERR_* or -errno). */
int ssh_exit_status(int rc);

#endif
