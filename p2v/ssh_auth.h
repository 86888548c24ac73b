/* Login, internal to p2v/ssh.c. */
#ifndef P2V_SSH_AUTH_H
#define P2V_SSH_AUTH_H

#include <libssh/libssh.h>

#include "ssh.h"

/* Log in with o->identity and/or o->password_file, or else the agent's and
 * ~/.ssh's keys; where names the server in messages. Returns 0, or
 * -SSH_ERR_AUTH / -SSH_ERR_CONNECT / -errno, logged. */
int ssh_authenticate(ssh_session s, const char *where, const struct ssh_auth_opts *o);

#endif
