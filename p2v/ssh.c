/* The SSH transport: one libssh session, one exec channel at a time, host
 * keys checked against known_hosts or a pinned fingerprint (ssh_hostkey.c),
 * login by key, password or the agent's/default keys (ssh_auth.c); the
 * receiver's stdout lines (READY, ACK, the reply) are read in ssh_lines.c. */
#include "ssh.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "log.h"
#include "ssh_auth.h"
#include "ssh_hostkey.h"
#include "ssh_lines.h"
#include "util.h"

/* AES-GCM first: with AES-NI it is several times faster than libssh's default
 * first choice, chacha20-poly1305 (see bench/ssh_write.c). */
#define FAST_CIPHERS "aes128-gcm@openssh.com,aes256-gcm@openssh.com," \
		     "chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr"
/* libssh 0.10 applies this to every wait of a blocking session (connect,
 * login, window, exit status); the waits that may legitimately take longer
 * are done in our own loops. */
#define CONNECT_TIMEOUT_S 30L
/* ssh_channel_write gets at most this much per call, so that we look at the
 * remote stderr between calls and never pass libssh more than a uint32_t. */
#ifndef WRITE_CHUNK
#define WRITE_CHUNK (1u << 20)
#endif

struct ssh_conn {
	ssh_session session;
	ssh_channel channel;
	char *where;        /* "user@host:port", for messages */
	int write_err;      /* the first write failure, returned (not logged) again */
	struct ssh_lines lines;  /* READY, ACK and the reply, from stdout */
	uint64_t wire_sent;  /* bytes written on this channel */
	uint64_t window;     /* at most this many unacknowledged; 0: no limit */
};

/* ---- target parsing ---------------------------------------------------- */

void ssh_target_free(struct ssh_target *t)
{
	if (!t)
		return;
	free(t->user);
	free(t->host);
	t->user = t->host = NULL;
}

static bool host_chars_ok(const char *h)
{
	for (const unsigned char *p = (const unsigned char *)h; *p; p++)
		if (*p <= ' ' || *p == 0x7f || strchr("/@[]\\'\"`$;&|<>(){}*?!", *p))
			return false;
	return true;
}

static bool ipv6_ok(const char *a)
{
	/* A zone ("fe80::1%eth0") is allowed after the address. */
	char buf[INET6_ADDRSTRLEN + 1];
	size_t n = strcspn(a, "%");
	if (n == 0 || n >= sizeof(buf) || (a[n] == '%' && (!a[n + 1] || !host_chars_ok(a + n + 1))))
		return false;
	memcpy(buf, a, n);
	buf[n] = '\0';
	struct in6_addr in;
	return inet_pton(AF_INET6, buf, &in) == 1;
}

int ssh_target_parse(const char *spec, struct ssh_target *t)
{
	memset(t, 0, sizeof(*t));
	t->port = 22;
	if (!spec || !*spec) {
		log_error("no SSH target given (expected [USER@]HOST[:PORT])");
		return -EINVAL;
	}
	const char *hostpart = spec;
	const char *at = strrchr(spec, '@');
	_cleanup_free_ char *user = NULL, *host = NULL;
	if (at) {
		if (at == spec) {
			log_error("SSH target '%s': empty user name before '@'", spec);
			return -EINVAL;
		}
		if (!(user = strndup(spec, (size_t)(at - spec))))
			return -ENOMEM;
		for (const unsigned char *p = (const unsigned char *)user; *p; p++)
			if (*p <= ' ' || *p == 0x7f || *p == ':' || *p == '/') {
				log_error("SSH target '%s': invalid character in the user name", spec);
				return -EINVAL;
			}
		hostpart = at + 1;
	}
	const char *port = NULL;
	if (hostpart[0] == '[') {
		/* [IPv6] or [IPv6]:PORT */
		const char *close = strchr(hostpart, ']');
		if (!close) {
			log_error("SSH target '%s': missing ']' after the IPv6 address", spec);
			return -EINVAL;
		}
		if (!(host = strndup(hostpart + 1, (size_t)(close - hostpart - 1))))
			return -ENOMEM;
		if (!*host) {
			log_error("SSH target '%s': empty address in []", spec);
			return -EINVAL;
		}
		if (!ipv6_ok(host)) {
			log_error("SSH target '%s': '%s' is not an IPv6 address", spec, host);
			return -EINVAL;
		}
		if (close[1] == ':')
			port = close + 2;
		else if (close[1]) {
			log_error("SSH target '%s': unexpected text after ']' (expected :PORT)", spec);
			return -EINVAL;
		}
	} else {
		const char *colon = strchr(hostpart, ':');
		if (colon && strchr(colon + 1, ':')) {
			/* Several colons: a bare IPv6 address, as ssh(1) accepts;
			 * a port then needs the [addr]:port form. */
			if (!(host = strdup(hostpart)))
				return -ENOMEM;
			if (!ipv6_ok(host)) {
				log_error("SSH target '%s': '%s' is not an IPv6 address "
					  "(write [ADDR]:PORT for a port)", spec, host);
				return -EINVAL;
			}
		} else {
			size_t n = colon ? (size_t)(colon - hostpart) : strlen(hostpart);
			if (!(host = strndup(hostpart, n)))
				return -ENOMEM;
			if (colon)
				port = colon + 1;
		}
	}
	if (!*host) {
		log_error("SSH target '%s': empty host name", spec);
		return -EINVAL;
	}
	if (!strchr(host, ':') && !host_chars_ok(host)) {
		log_error("SSH target '%s': invalid character in the host name '%s'", spec, host);
		return -EINVAL;
	}
	if (host[0] == '-') {
		log_error("SSH target '%s': a host name cannot start with '-'", spec);
		return -EINVAL;
	}
	if (port) {
		uint64_t p;
		if (parse_u64(port, 1, 65535, &p) < 0 || port[0] == '+' || port[0] == '-') {
			log_error("SSH target '%s': port '%s' is not a number from 1 to 65535", spec, port);
			return -EINVAL;
		}
		t->port = (unsigned)p;
	}
	t->user = user;
	t->host = host;
	user = host = NULL;
	return 0;
}

/* ---- connection -------------------------------------------------------- */

void ssh_conn_close(struct ssh_conn *c)
{
	if (!c)
		return;
	if (c->channel) {
		ssh_channel_close(c->channel);
		ssh_channel_free(c->channel);
	}
	if (c->session) {
		if (ssh_is_connected(c->session))
			ssh_disconnect(c->session);
		ssh_free(c->session);
	}
	free(c->where);
	free(c);
}

/* Our own waits for window and exit status have no limit (a remote may
 * legitimately be slow): let TCP declare a dead hypervisor or cable dead
 * instead of the transfer hanging for good. Best effort. */
static void tcp_liveness(ssh_session s)
{
	int fd = ssh_get_fd(s);
	int on = 1, idle = 60, intvl = 15, cnt = 8;
	unsigned user_timeout_ms = 5 * 60 * 1000;
	if (fd < 0)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms,
			 sizeof(user_timeout_ms));
}

static int set_opt(struct ssh_conn *c, enum ssh_options_e opt, const void *val, const char *what)
{
	if (ssh_options_set(c->session, opt, val) < 0) {
		log_error("SSH option %s: %s", what, ssh_get_error(c->session));
		return -EINVAL;
	}
	return 0;
}

int ssh_conn_open(const struct ssh_target *t, const struct ssh_auth_opts *o,
		  struct ssh_conn **out)
{
	*out = NULL;
	struct ssh_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	_cleanup_free_ char *kh_default = NULL;
	const char *known_hosts = o->known_hosts;
	if (!known_hosts && !(known_hosts = kh_default = ssh_default_known_hosts())) {
		ssh_conn_close(c);
		return -ENOMEM;
	}
	bool v6 = strchr(t->host, ':') != NULL;
	if (asprintf(&c->where, "%s%s%s%s%s:%u", t->user ? t->user : "", t->user ? "@" : "",
		     v6 ? "[" : "", t->host, v6 ? "]" : "", t->port) < 0) {
		c->where = NULL;
		ssh_conn_close(c);
		return -ENOMEM;
	}
	if (!(c->session = ssh_new())) {
		ssh_conn_close(c);
		return -ENOMEM;
	}
	int port = (int)t->port;
	long timeout = CONNECT_TIMEOUT_S;
	bool no = false;
	int verbosity = log_get_level() >= LOG_DEBUG ? SSH_LOG_PROTOCOL : SSH_LOG_NOLOG;
	int rc;
	/* Only what we set: a rescue system's or the user's ssh_config must
	 * not change which keys or host we trust. */
	if ((rc = set_opt(c, SSH_OPTIONS_PROCESS_CONFIG, &no, "ProcessConfig")) < 0 ||
	    (rc = set_opt(c, SSH_OPTIONS_LOG_VERBOSITY, &verbosity, "LogVerbosity")) < 0 ||
	    (rc = set_opt(c, SSH_OPTIONS_HOST, t->host, "Host")) < 0 ||
	    (rc = set_opt(c, SSH_OPTIONS_PORT, &port, "Port")) < 0 ||
	    (t->user && (rc = set_opt(c, SSH_OPTIONS_USER, t->user, "User")) < 0) ||
	    (rc = set_opt(c, SSH_OPTIONS_KNOWNHOSTS, known_hosts, "KnownHosts")) < 0 ||
	    (rc = set_opt(c, SSH_OPTIONS_TIMEOUT, &timeout, "Timeout")) < 0 ||
	    (rc = set_opt(c, SSH_OPTIONS_CIPHERS_C_S, FAST_CIPHERS, "Ciphers")) < 0 ||
	    (rc = set_opt(c, SSH_OPTIONS_CIPHERS_S_C, FAST_CIPHERS, "Ciphers")) < 0 ||
	    /* The stream is already zstd-compressed. */
	    (rc = set_opt(c, SSH_OPTIONS_COMPRESSION, "no", "Compression")) < 0) {
		ssh_conn_close(c);
		return rc;
	}
	if (ssh_connect(c->session) != SSH_OK) {
		log_error("cannot connect to %s: %s", c->where, ssh_get_error(c->session));
		ssh_conn_close(c);
		return -SSH_ERR_CONNECT;
	}
	tcp_liveness(c->session);
	if ((rc = ssh_verify_host_key(c->session, c->where, o, known_hosts)) < 0 ||
	    (rc = ssh_authenticate(c->session, c->where, o)) < 0) {
		ssh_conn_close(c);
		return rc;
	}
	log_debug("logged in to %s", c->where);
	*out = c;
	return 0;
}

int ssh_conn_exec(struct ssh_conn *c, const char *command)
{
	if (c->channel) {
		log_error("%s: a remote command is still running", c->where);
		return -EBUSY;
	}
	ssh_channel ch = ssh_channel_new(c->session);
	if (!ch) {
		log_error("%s: cannot create a channel: %s", c->where, ssh_get_error(c->session));
		return -SSH_ERR_CONNECT;
	}
	if (ssh_channel_open_session(ch) != SSH_OK) {
		log_error("%s: cannot open a session channel: %s", c->where,
			  ssh_get_error(c->session));
		ssh_channel_free(ch);
		return -SSH_ERR_CONNECT;
	}
	if (ssh_channel_request_exec(ch, command) != SSH_OK) {
		log_error("%s: cannot run '%s': %s", c->where, command, ssh_get_error(c->session));
		ssh_channel_close(ch);
		ssh_channel_free(ch);
		return -SSH_ERR_REMOTE;
	}
	log_debug("%s: running %s", c->where, command);
	c->channel = ch;
	c->write_err = 0;
	ssh_lines_reset(&c->lines);
	c->wire_sent = 0;
	return 0;
}

static int drain(struct ssh_conn *c);

void ssh_conn_set_window(struct ssh_conn *c, uint64_t window)
{
	c->window = window;
}

bool ssh_conn_lost(const struct ssh_conn *c)
{
	return !c || !c->session || !ssh_is_connected(c->session);
}

void ssh_conn_progress(const struct ssh_conn *c, uint64_t *wire_sent, uint64_t *acked_offset,
		       uint64_t *acked_wire)
{
	*wire_sent = c->wire_sent;
	*acked_offset = c->lines.acked_offset;
	*acked_wire = c->lines.acked_wire;
}

/* Read and relay until cond holds or the remote stops; the same bounded
 * poll as wait_window. */
static int wait_remote(struct ssh_conn *c, bool (*cond)(const struct ssh_conn *), const char *what)
{
	for (;;) {
		int rc = drain(c);
		if (rc < 0)
			return rc;
		if (cond(c))
			return 0;
		if (!ssh_is_connected(c->session)) {
			log_error("%s: connection lost while waiting for %s", c->where, what);
			return -SSH_ERR_CONNECT;
		}
		if (ssh_channel_is_eof(c->channel) || ssh_channel_is_closed(c->channel))
			return -SSH_ERR_REMOTE;  /* the caller collects the reply */
		struct pollfd p = { .fd = ssh_get_fd(c->session), .events = POLLIN };
		if (poll(&p, 1, 200) < 0 && errno != EINTR) {
			int e = errno;
			log_error("%s: poll: %s", c->where, strerror(e));
			return -e;
		}
	}
}

static bool ready_seen(const struct ssh_conn *c) { return c->lines.have_ready; }

int ssh_conn_read_ready(struct ssh_conn *c, char *line, size_t cap)
{
	if (!c->channel)
		return -EBADF;
	int rc = wait_remote(c, ready_seen, "the receiver's READY");
	if (rc == 0)
		snprintf(line, cap, "%s", c->lines.ready);
	return rc;
}

static bool ack_room(const struct ssh_conn *c)
{
	return c->wire_sent < c->lines.acked_wire + c->window;
}

/* Copy whatever the remote wrote to its stderr to ours, and keep what it
 * wrote to stdout for ssh_conn_finish, without waiting: unread data would
 * close its window and stall the remote, and with it our writes.
 * Returns 0 or -SSH_ERR_CONNECT. */
static int drain(struct ssh_conn *c)
{
	char buf[16384];
	for (int is_stderr = 1; is_stderr >= 0; is_stderr--) {
		for (;;) {
			int avail = ssh_channel_poll(c->channel, is_stderr);
			if (avail == SSH_ERROR) {
				log_error("%s: connection lost: %s", c->where,
					  ssh_get_error(c->session));
				return -SSH_ERR_CONNECT;
			}
			if (avail <= 0)  /* nothing now, or SSH_EOF */
				break;
			int n = ssh_channel_read_nonblocking(c->channel, buf, sizeof(buf), is_stderr);
			if (n == SSH_ERROR) {
				log_error("%s: connection lost: %s", c->where,
					  ssh_get_error(c->session));
				return -SSH_ERR_CONNECT;
			}
			if (n <= 0)
				break;
			if (is_stderr) {
				/* Our stderr gone is no reason to stop the transfer. */
				(void)write_full(STDERR_FILENO, buf, (size_t)n);
			} else {
				ssh_lines_feed(&c->lines, buf, (size_t)n);
			}
		}
	}
	return 0;
}

/* Wait until the remote grants window, reading what arrives meanwhile.
 * libssh's own wait inside ssh_channel_write reads nothing out, so a remote
 * filling its stderr while we write would stall both sides for good. */
static int wait_window(struct ssh_conn *c)
{
	for (;;) {
		int rc = drain(c);
		if (rc < 0)
			return rc;
		if (ssh_channel_window_size(c->channel) > 0)
			return 0;
		/* After the remote's EOF, libssh no longer reads the socket for us
		 * (ssh_channel_poll answers EOF at once), so neither a window
		 * adjust nor the close would ever be seen here, and poll() below
		 * would spin on the unread packets. No stderr can come after EOF,
		 * so libssh's own blocking wait for window is safe now. */
		if (ssh_channel_is_eof(c->channel))
			return 0;
		if (ssh_channel_is_closed(c->channel) || !ssh_is_connected(c->session)) {
			log_error("%s: the remote command stopped reading its input", c->where);
			return -SSH_ERR_REMOTE;
		}
		struct pollfd p = { .fd = ssh_get_fd(c->session), .events = POLLIN };
		/* A bounded wait: drain() is the one that reads the socket. */
		if (poll(&p, 1, 200) < 0 && errno != EINTR) {
			int e = errno;
			log_error("%s: poll: %s", c->where, strerror(e));
			return -e;
		}
	}
}

int ssh_conn_write(void *conn, const void *buf, size_t len)
{
	struct ssh_conn *c = conn;
	const char *p = buf;
	if (!c->channel)
		return -EBADF;
	if (c->write_err)
		return c->write_err;
	while (len > 0) {
		int rc = 0;
		/* No more unacknowledged bytes than the window: what a cut makes
		 * us send again. */
		if (c->window && !ack_room(c))
			rc = wait_remote(c, ack_room, "the receiver's acknowledgement");
		if (rc == -SSH_ERR_REMOTE)
			log_error("%s: the remote command stopped reading its input", c->where);
		if (rc == 0)
			rc = wait_window(c);
		if (rc < 0)
			return c->write_err = rc;
		/* Never more than the window, so libssh never blocks waiting for
		 * one (see wait_window); it still blocks flushing the socket,
		 * which sshd always reads. */
		uint32_t n = ssh_channel_window_size(c->channel);
		if (n == 0)  /* remote EOF: let libssh wait for window or the close */
			n = WRITE_CHUNK;
		if (n > WRITE_CHUNK)
			n = WRITE_CHUNK;
		if (n > len)
			n = (uint32_t)len;
		if (c->window && n > c->lines.acked_wire + c->window - c->wire_sent)
			n = (uint32_t)(c->lines.acked_wire + c->window - c->wire_sent);
		int w = ssh_channel_write(c->channel, p, n);
		if (w < 0) {
			if (ssh_is_connected(c->session)) {
				log_error("%s: the remote command stopped reading its input", c->where);
				return c->write_err = -SSH_ERR_REMOTE;
			}
			log_error("%s: sending failed: %s", c->where, ssh_get_error(c->session));
			return c->write_err = -SSH_ERR_CONNECT;
		}
		p += w;
		len -= (size_t)w;
		c->wire_sent += (uint64_t)w;
	}
	return 0;
}

int ssh_conn_finish(struct ssh_conn *c, char *reply, size_t cap)
{
	size_t have = 0;
	if (reply && cap)
		reply[0] = '\0';
	if (!c->channel)
		return -EBADF;
	int rc = 0;
	if (ssh_channel_is_open(c->channel) && ssh_channel_send_eof(c->channel) != SSH_OK &&
	    !ssh_channel_is_closed(c->channel))
		log_debug("%s: sending EOF: %s", c->where, ssh_get_error(c->session));
	char buf[16384];
	for (;;) {
		if ((rc = drain(c)) < 0)
			goto out;
		ssh_lines_take_reply(&c->lines, reply, cap, &have);
		/* A short timeout: stderr arriving while stdout is quiet is
		 * buffered by libssh and relayed on the next turn. */
		int n = ssh_channel_read_timeout(c->channel, buf, sizeof(buf), 0, 100);
		if (n == SSH_ERROR) {
			log_error("%s: connection lost: %s", c->where, ssh_get_error(c->session));
			rc = -SSH_ERR_CONNECT;
			goto out;
		}
		if (n > 0) {
			/* Keep what fits; read on regardless so the remote
			 * never blocks on a full window. */
			ssh_lines_feed(&c->lines, buf, (size_t)n);
			ssh_lines_take_reply(&c->lines, reply, cap, &have);
			continue;
		}
		if (ssh_channel_is_eof(c->channel) || ssh_channel_is_closed(c->channel))
			break;
	}
	if ((rc = drain(c)) < 0)
		goto out;
	ssh_lines_flush(&c->lines);
	ssh_lines_take_reply(&c->lines, reply, cap, &have);
	/* In blocking mode libssh bounds this wait by SSH_OPTIONS_TIMEOUT; a
	 * command that closed its stdout may well run longer than that. */
	while ((rc = ssh_channel_get_exit_status(c->channel)) < 0 &&
	       ssh_channel_is_open(c->channel) &&
	       !(ssh_get_status(c->session) & (SSH_CLOSED | SSH_CLOSED_ERROR)))
		;
	if (rc < 0) {
		log_error("%s: the remote command ended without an exit status "
			  "(killed by a signal, or the connection dropped)", c->where);
		rc = ssh_is_connected(c->session) ? -SSH_ERR_REMOTE : -SSH_ERR_CONNECT;
	}
out:
	c->lines.early_len = 0;
	ssh_channel_close(c->channel);
	ssh_channel_free(c->channel);
	c->channel = NULL;
	return rc;
}
