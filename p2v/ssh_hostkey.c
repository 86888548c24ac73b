/* Host key verification for p2v/ssh.c: a pinned fingerprint, or the
 * known_hosts file (recording an unknown key only when asked to). */
#include "ssh_hostkey.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static int mkdir_parents(const char *file)
{
	_cleanup_free_ char *dir = strdup(file);
	if (!dir)
		return -ENOMEM;
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
				int e = errno;
				log_error("cannot create %s: %s", dir, strerror(e));
				return -e;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

char *ssh_default_known_hosts(void)
{
	const char *home = getenv("HOME");
	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : "/";
	}
	char *path;
	if (asprintf(&path, "%s/.ssh/known_hosts", home) < 0)
		return NULL;
	return path;
}

char *ssh_key_fingerprint(ssh_key key)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) < 0)
		return NULL;
	char *fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	ssh_clean_pubkey_hash(&hash);
	if (!fp)
		return NULL;
	char *ours = strdup(fp);
	ssh_string_free_char(fp);
	return ours;
}

/* Compare fingerprints ignoring the "SHA256:" prefix and base64 padding, so
 * a pin copied with or without them matches. */
static bool pin_matches(const char *pin, const char *fp)
{
	if (!strncmp(pin, "SHA256:", 7))
		pin += 7;
	if (!strncmp(fp, "SHA256:", 7))
		fp += 7;
	size_t a = strcspn(pin, "="), b = strcspn(fp, "=");
	return a == b && a > 0 && !memcmp(pin, fp, a);
}

int ssh_verify_host_key(ssh_session s, const char *where, const struct ssh_auth_opts *o,
			const char *known_hosts)
{
	ssh_key key = NULL;
	if (ssh_get_server_publickey(s, &key) < 0) {
		log_error("%s: no host key from the server: %s", where, ssh_get_error(s));
		return -SSH_ERR_HOSTKEY;
	}
	_cleanup_free_ char *fp = ssh_key_fingerprint(key);
	const char *type = ssh_key_type_to_char(ssh_key_type(key));
	ssh_key_free(key);
	if (!fp) {
		log_error("%s: cannot compute the host key fingerprint", where);
		return -SSH_ERR_HOSTKEY;
	}
	if (!type)
		type = "unknown";

	if (o->hostkey_pin) {
		/* An explicit pin is the whole decision: known_hosts is not read. */
		if (pin_matches(o->hostkey_pin, fp)) {
			log_debug("%s: host key %s %s matches the pin", where, type, fp);
			return 0;
		}
		log_error("%s: host key refused: the server's %s key is %s, but --hostkey "
			  "expects %s", where, type, fp, o->hostkey_pin);
		return -SSH_ERR_HOSTKEY;
	}

	enum ssh_known_hosts_e st = ssh_session_is_known_server(s);
	switch (st) {
	case SSH_KNOWN_HOSTS_OK:
		return 0;
	case SSH_KNOWN_HOSTS_CHANGED:
		log_error("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
			  "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
			  "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
			  "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n"
			  "The %s host key sent by %s has fingerprint\n%s\n"
			  "and it does not match the key recorded in %s.\n"
			  "If the host was reinstalled, remove the old key (ssh-keygen -R) or pass "
			  "--hostkey with the new fingerprint after checking it on the hypervisor.\n"
			  "Host key verification failed.", type, where, fp, known_hosts);
		return -SSH_ERR_HOSTKEY;
	case SSH_KNOWN_HOSTS_OTHER:
		log_error("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
			  "@    WARNING: POSSIBLE DNS SPOOFING OR KEY CHANGE!        @\n"
			  "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
			  "%s sent a %s host key with fingerprint\n%s\n"
			  "but %s records a key of another type for this host.\n"
			  "Host key verification failed.", where, type, fp, known_hosts);
		return -SSH_ERR_HOSTKEY;
	case SSH_KNOWN_HOSTS_NOT_FOUND:
	case SSH_KNOWN_HOSTS_UNKNOWN:
		if (!o->accept_new_hostkey) {
			log_error("host key of %s is not known (not in %s): %s key %s\n"
				  "Check the fingerprint on the hypervisor (ssh-keygen -lf "
				  "/etc/ssh/ssh_host_%s_key.pub), then pass --hostkey %s, or "
				  "--accept-new-hostkey to record it.",
				  where, known_hosts, type, fp,
				  !strcmp(type, "ssh-ed25519") ? "ed25519" :
				  !strcmp(type, "ssh-rsa") ? "rsa" : "ecdsa", fp);
			return -SSH_ERR_HOSTKEY;
		}
		int rc = mkdir_parents(known_hosts);
		if (rc < 0)
			return rc;
		if (ssh_session_update_known_hosts(s) != SSH_OK) {
			log_error("cannot record the host key of %s in %s: %s", where,
				  known_hosts, ssh_get_error(s));
			return -SSH_ERR_HOSTKEY;
		}
		log_warn("permanently added the %s host key of %s (%s) to %s",
			 type, where, fp, known_hosts);
		return 0;
	case SSH_KNOWN_HOSTS_ERROR:
	default:
		log_error("cannot check the host key of %s against %s: %s", where,
			  known_hosts, ssh_get_error(s));
		return -SSH_ERR_HOSTKEY;
	}
}
