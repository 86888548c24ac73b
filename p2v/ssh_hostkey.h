/* Host key verification, internal to p2v/ssh.c. */
#ifndef P2V_SSH_HOSTKEY_H
#define P2V_SSH_HOSTKEY_H

#include <libssh/libssh.h>

#include "ssh.h"

/* "SHA256:base64" as `ssh-keygen -l` prints it (malloc'd), or NULL. */
char *ssh_key_fingerprint(ssh_key key);
/* ~/.ssh/known_hosts (malloc'd), or NULL when out of memory. */
char *ssh_default_known_hosts(void);
/* Check the connected session's host key against o->hostkey_pin or
 * known_hosts; where names the server in messages. Returns 0 or
 * -SSH_ERR_HOSTKEY / -errno, logged. */
int ssh_verify_host_key(ssh_session s, const char *where, const struct ssh_auth_opts *o,
			const char *known_hosts);

#endif
