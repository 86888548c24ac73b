/* Kept apart from resume.c, which knows transfers and backoff but no
 * connection: this is where the two meet, once for every command. */
#include "transfer_loop.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

int transfer_with_retries(struct transfer *t, const struct resume_opts *o, const char *label,
			  struct progress *prog, const struct ssh_target *target,
			  const struct ssh_auth_opts *auth, struct ssh_conn **connp,
			  int (*attempt)(void *ctx, struct ssh_conn *c), void *ctx)
{
	int rc;
	for (unsigned n = 0;;) {
		uint64_t cks = t->checkpoints;
		if (!*connp && (rc = ssh_conn_open(target, auth, connp)) < 0) {
			if (rc != -SSH_ERR_CONNECT)
				break;
		} else {
			unsigned cuts = t->cuts;
			rc = attempt(ctx, *connp);
			if (rc == 0 || !resume_retryable(rc, t->cuts > cuts))
				break;
			ssh_conn_close(*connp);
			*connp = NULL;
		}
		/* A connection that got a checkpoint through starts the count anew. */
		n = t->checkpoints > cks ? 1 : n + 1;
		if ((rc = resume_backoff(o, n, label, prog)) < 0)
			break;
	}
	return rc;
}

int transfer_attempt_end(struct transfer *t, struct ssh_conn *conn, int rc, char *reply,
			 size_t cap, const char *label)
{
	uint64_t wire, acked_off, acked_wire;
	ssh_conn_progress(conn, &wire, &acked_off, &acked_wire);
	int status = ssh_conn_finish(conn, reply, cap);
	if (status == -SSH_ERR_CONNECT && rc >= 0)
		rc = status;
	if ((rc < 0 || status < 0) && ssh_conn_lost(conn))
		transfer_cut(t, wire);
	if (rc >= 0 && status != 0) {
		if (label)
			log_error("ct-import refused or failed for %s (exit status %d): %s", label,
				  status, reply[0] ? reply : "no reply");
		else
			log_error("ct-import refused or failed (exit status %d): %s", status,
				  reply[0] ? reply : "no reply");
		rc = status < 0 ? status : -SSH_ERR_REMOTE;
	}
	return rc;
}

int transfer_reply_check(const char *reply, const uint8_t *digest, const char *label,
			 char *path, size_t cap, char hex[2 * SHA256_LEN + 1])
{
	char mine[2 * SHA256_LEN + 1] = "", fmt[32];
	if (digest)
		sha256_hex(digest, mine);
	snprintf(fmt, sizeof(fmt), "OK %%%zus %%*u %%64s", cap - 1);
	if (sscanf(reply, fmt, path, hex) == 2 && (!digest || !strcmp(hex, mine)))
		return 0;
	if (label)
		log_error("unexpected reply from ct-import for %s: %s", label, reply);
	else
		log_error("unexpected reply from ct-import: %s", reply);
	return -SSH_ERR_REMOTE;
}
