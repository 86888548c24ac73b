#include "ssh_opts.h"

#include "commands.h"

int ssh_opt_handle(struct ssh_auth_opts *o, int key, const char *arg)
{
	switch (key) {
	case 'i': o->identity = arg; return 1;
	case SSH_OPT_PASSWORD_FILE: o->password_file = arg; return 1;
	case SSH_OPT_HOSTKEY: o->hostkey_pin = arg; return 1;
	case SSH_OPT_ACCEPT_NEW: o->accept_new_hostkey = true; return 1;
	case SSH_OPT_KNOWN_HOSTS: o->known_hosts = arg; return 1;
	default: return 0;
	}
}

int ssh_exit_status(int rc)
{
	switch (-rc) {
	case SSH_ERR_HOSTKEY: return P2V_EXIT_HOSTKEY;
	case SSH_ERR_AUTH: return P2V_EXIT_AUTH;
	case SSH_ERR_REMOTE: return P2V_EXIT_REMOTE;
	default: return P2V_EXIT_FAILURE;
	}
}
