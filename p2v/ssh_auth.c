/* Login for p2v/ssh.c: a key file, a password (plain or keyboard-
 * interactive), or the agent's and ~/.ssh's keys. */
#include "ssh_auth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static int read_password(const char *file, char **out)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = read_file(file, 4096, &buf, &len);
	if (rc < 0) {
		log_error("cannot read the password file %s: %s", file, strerror(-rc));
		return rc;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	*out = buf;
	return 0;
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* Keyboard-interactive with the password as the answer to every hidden
 * prompt: servers with PasswordAuthentication off but PAM on offer only this. */
static int auth_kbdint(ssh_session s, const char *password)
{
	int rc;
	for (int round = 0; round < 8; round++) {
		rc = ssh_userauth_kbdint(s, NULL, NULL);
		if (rc != SSH_AUTH_INFO)
			return rc;
		int n = ssh_userauth_kbdint_getnprompts(s);
		for (int i = 0; i < n; i++) {
			char echo = 0;
			ssh_userauth_kbdint_getprompt(s, (unsigned)i, &echo);
			if (ssh_userauth_kbdint_setanswer(s, (unsigned)i, echo ? "" : password) < 0)
				return SSH_AUTH_ERROR;
		}
	}
	return SSH_AUTH_DENIED;
}

int ssh_authenticate(ssh_session s, const char *where, const struct ssh_auth_opts *o)
{
	/* "none" first: it fetches the methods the server offers (and may
	 * already succeed). */
	int rc = ssh_userauth_none(s, NULL);
	if (rc == SSH_AUTH_SUCCESS)
		return 0;
	if (rc == SSH_AUTH_ERROR) {
		log_error("%s: login failed: %s", where, ssh_get_error(s));
		return -SSH_ERR_CONNECT;
	}
	int methods = ssh_userauth_list(s, NULL);
	const char *tried = NULL;

	if (o->identity) {
		ssh_key key = NULL;
		if (access(o->identity, R_OK) < 0) {
			int e = errno;
			log_error("cannot read the identity file %s: %s", o->identity, strerror(e));
			return -e;
		}
		if (ssh_pki_import_privkey_file(o->identity, NULL, NULL, NULL, &key) != SSH_OK) {
			log_error("cannot load the private key %s (not a key, or protected by a "
				  "passphrase: load it into ssh-agent instead)", o->identity);
			return -SSH_ERR_AUTH;
		}
		rc = ssh_userauth_publickey(s, NULL, key);
		ssh_key_free(key);
		if (rc == SSH_AUTH_SUCCESS)
			return 0;
		if (rc == SSH_AUTH_ERROR) {
			log_error("%s: login failed: %s", where, ssh_get_error(s));
			return -SSH_ERR_CONNECT;
		}
		tried = "the key";
		if (!o->password_file) {
			log_error("%s: permission denied: the server refused the key %s%s",
				  where, o->identity,
				  rc == SSH_AUTH_PARTIAL ? " (it asks for a further method)" : "");
			return -SSH_ERR_AUTH;
		}
	}
	if (o->password_file) {
		char *pw = NULL;
		if ((rc = read_password(o->password_file, &pw)) < 0)
			return rc;
		if (methods & SSH_AUTH_METHOD_PASSWORD)
			rc = ssh_userauth_password(s, NULL, pw);
		else if (methods & SSH_AUTH_METHOD_INTERACTIVE)
			rc = auth_kbdint(s, pw);
		else
			rc = SSH_AUTH_DENIED;
		/* A server may offer "password" yet only accept it through PAM's
		 * keyboard-interactive. */
		if (rc == SSH_AUTH_DENIED && (methods & SSH_AUTH_METHOD_PASSWORD) &&
		    (methods & SSH_AUTH_METHOD_INTERACTIVE))
			rc = auth_kbdint(s, pw);
		free_secret(pw);
		if (rc == SSH_AUTH_SUCCESS)
			return 0;
		if (rc == SSH_AUTH_ERROR) {
			log_error("%s: login failed: %s", where, ssh_get_error(s));
			return -SSH_ERR_CONNECT;
		}
		if (!(methods & (SSH_AUTH_METHOD_PASSWORD | SSH_AUTH_METHOD_INTERACTIVE)))
			log_error("%s: permission denied: the server does not accept passwords%s",
				  where, tried ? " (and refused the key)" : "");
		else
			log_error("%s: permission denied: wrong password (from %s)%s", where,
				  o->password_file, tried ? " and the key was refused" : "");
		return -SSH_ERR_AUTH;
	}
	/* Neither given: the agent's keys, then ~/.ssh/id_*. */
	rc = ssh_userauth_publickey_auto(s, NULL, NULL);
	if (rc == SSH_AUTH_SUCCESS)
		return 0;
	if (rc == SSH_AUTH_ERROR) {
		log_error("%s: login failed: %s", where, ssh_get_error(s));
		return -SSH_ERR_CONNECT;
	}
	log_error("%s: permission denied: no key from ssh-agent or ~/.ssh was accepted; "
		  "give --identity FILE or --password-file FILE", where);
	return -SSH_ERR_AUTH;
}
