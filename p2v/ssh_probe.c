#include "ssh_probe.h"

#include <errno.h>
#include <libssh/libssh.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ssh_hostkey.h"
#include "util.h"

#define PROBE_TIMEOUT_S 30L

int ssh_probe_host_key(const struct ssh_target *t, const char *known_hosts, char **fp, char **type)
{
	*fp = *type = NULL;
	_cleanup_free_ char *kh_default = NULL;
	if (!known_hosts && !(known_hosts = kh_default = ssh_default_known_hosts()))
		return -ENOMEM;
	ssh_session s = ssh_new();
	if (!s)
		return -ENOMEM;
	int port = (int)t->port;
	long timeout = PROBE_TIMEOUT_S;
	bool no = false;
	int verbosity = log_get_level() >= LOG_DEBUG ? SSH_LOG_PROTOCOL : SSH_LOG_NOLOG;
	int rc = 0;
	/* The options p2v ct and p2v disk set that bear on the host key: the
	 * same server key type is negotiated later. */
	if (ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_HOST, t->host) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_PORT, &port) < 0 ||
	    (t->user && ssh_options_set(s, SSH_OPTIONS_USER, t->user) < 0) ||
	    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, known_hosts) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout) < 0) {
		log_error("SSH options for %s: %s", t->host, ssh_get_error(s));
		rc = -EINVAL;
	} else if (ssh_connect(s) != SSH_OK) {
		log_error("cannot connect to %s port %u: %s", t->host, t->port, ssh_get_error(s));
		rc = -SSH_ERR_CONNECT;
	}
	ssh_key key = NULL;
	if (rc == 0 && ssh_get_server_publickey(s, &key) < 0) {
		log_error("%s: no host key from the server: %s", t->host, ssh_get_error(s));
		rc = -SSH_ERR_CONNECT;
	}
	if (rc == 0) {
		const char *ty = ssh_key_type_to_char(ssh_key_type(key));
		*fp = ssh_key_fingerprint(key);
		*type = strdup(ty ? ty : "unknown");
		if (!*fp || !*type) {
			free(*fp);
			free(*type);
			*fp = *type = NULL;
			rc = -ENOMEM;
		}
	}
	ssh_key_free(key);
	if (ssh_is_connected(s))
		ssh_disconnect(s);
	ssh_free(s);
	return rc;
}
