/* The SSH transport: one libssh session running one exec channel on the
 * hypervisor, with host key verification and key or password login. */
#ifndef P2V_SSH_H
#define P2V_SSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ssh_target {
	char *user;      /* NULL: the current user's name */
	char *host;      /* name, IPv4, or IPv6 (given as [addr] or [addr]:port) */
	unsigned port;   /* 22 unless given */
};

/* Parse "[USER@]HOST[:PORT]". Fills *t with malloc'd strings; free with
 * ssh_target_free. Returns 0 or -EINVAL (logged). */
int ssh_target_parse(const char *spec, struct ssh_target *t);
void ssh_target_free(struct ssh_target *t);

struct ssh_auth_opts {
	const char *identity;        /* private key file, or NULL */
	const char *password_file;   /* file whose first line is the password, or NULL */
	const char *hostkey_pin;     /* "SHA256:base64", or NULL */
	bool accept_new_hostkey;     /* record an unknown key instead of refusing */
	const char *known_hosts;     /* NULL: ~/.ssh/known_hosts */
};

/* Distinct failures, so callers and exit codes can tell them apart. */
enum {
	SSH_ERR_HOSTKEY = 1000,  /* unknown, changed or pin-mismatched host key */
	SSH_ERR_AUTH,            /* every login method was refused */
	SSH_ERR_CONNECT,         /* no TCP connection or SSH handshake */
	SSH_ERR_REMOTE,          /* the remote command failed */
};

struct ssh_conn;

/* Connect, verify the host key, authenticate. Returns 0, or -SSH_ERR_* /
 * -errno with the reason logged. */
int ssh_conn_open(const struct ssh_target *t, const struct ssh_auth_opts *o,
		  struct ssh_conn **out);
/* Start `command` on an exec channel. */
int ssh_conn_exec(struct ssh_conn *c, const char *command);
/* Wait for the receiver's READY line (doc/protocol.md), relaying its
 * stderr meanwhile; line gets it. -SSH_ERR_REMOTE when the remote ended
 * its output first (ssh_conn_finish then has its reply and status),
 * -SSH_ERR_CONNECT when the connection is gone. */
int ssh_conn_read_ready(struct ssh_conn *c, char *line, size_t cap);
/* Keep at most window bytes written but not acknowledged by an ACK line
 * (0: no limit); for the channel started next and the current one. */
void ssh_conn_set_window(struct ssh_conn *c, uint64_t window);
/* Bytes written on the current channel, and the last ACK's content offset
 * and stream bytes. Not while another thread writes. */
void ssh_conn_progress(const struct ssh_conn *c, uint64_t *wire_sent, uint64_t *acked_offset,
		       uint64_t *acked_wire);
/* Whether the TCP/SSH connection itself is gone (worth reconnecting). */
bool ssh_conn_lost(const struct ssh_conn *c);
/* Write all of buf to the remote command's stdin. The signature matches the
 * stream sink (lib/stream.h). Returns 0 or a negative error. */
int ssh_conn_write(void *conn, const void *buf, size_t len);
/* Send EOF, read the remote stdout into reply (NUL-terminated, at most cap-1
 * bytes kept) until the channel closes, relaying the remote stderr to ours,
 * and return the remote exit status (>= 0) or a negative error. */
int ssh_conn_finish(struct ssh_conn *c, char *reply, size_t cap);
void ssh_conn_close(struct ssh_conn *c);

#endif
