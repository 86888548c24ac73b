/* The host key a server shows, without logging in: for the interactive
 * dialogue of p2v run, which asks the user to confirm it and then pins it
 * (--hostkey), so the key confirmed is the key the migration accepts. */
#ifndef P2V_SSH_PROBE_H
#define P2V_SSH_PROBE_H

#include "ssh.h"

/* Connect to t, complete the key exchange, and return the server's host
 * key fingerprint ("SHA256:...", as ssh-keygen -l prints it) and key type
 * ("ssh-ed25519"), both malloc'd. known_hosts (NULL: ~/.ssh/known_hosts)
 * only steers which key type is negotiated, as it does for p2v ct and p2v
 * disk; nothing is written there. 0, or -SSH_ERR_CONNECT / -errno logged. */
int ssh_probe_host_key(const struct ssh_target *t, const char *known_hosts, char **fp, char **type);

#endif
