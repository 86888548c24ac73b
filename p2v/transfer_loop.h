/* The reconnect loop p2v ct and p2v disk share: run one attempt per
 * connection, and after a dropped link reconnect with backoff, resuming
 * where the receiver's copy is durable (doc/protocol.md "Resuming"). */
#ifndef P2V_TRANSFER_LOOP_H
#define P2V_TRANSFER_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "progress.h"
#include "resume.h"
#include "ssh.h"

/* Send one stream over *connp (opened when NULL; kept open after success
 * or a final error, so the caller can reuse or close it), calling attempt
 * once per connection until it returns 0 or a failure not worth a
 * reconnect. A connection that got a checkpoint through starts the count
 * of reconnects anew. 0, or the last negative error (logged). */
int transfer_with_retries(struct transfer *t, const struct resume_opts *o, const char *label,
			  struct progress *prog, const struct ssh_target *target,
			  const struct ssh_auth_opts *auth, struct ssh_conn **connp,
			  int (*attempt)(void *ctx, struct ssh_conn *c), void *ctx);

/* End an attempt whose sending returned rc: collect the receiver's reply
 * and exit status, note a cut link on t, and turn a refusal into
 * -SSH_ERR_REMOTE (logged, naming label when not NULL). Returns the
 * attempt's result. */
int transfer_attempt_end(struct transfer *t, struct ssh_conn *conn, int rc, char *reply,
			 size_t cap, const char *label);

/* The receiver's final reply "OK PATH SIZE SHA256": PATH into path (cap
 * bytes) and the digest's hex into hex. With digest (this run sent the
 * whole stream) the reply must carry that digest. 0, or -SSH_ERR_REMOTE
 * (logged, naming label when not NULL). */
int transfer_reply_check(const char *reply, const uint8_t *digest, const char *label,
			 char *path, size_t cap, char hex[2 * SHA256_LEN + 1]);

#endif
