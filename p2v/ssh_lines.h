/* The exec channel's stdout as the stream protocol reads it
 * (doc/protocol.md): READY and ACK lines are taken out as they arrive,
 * everything else is kept as the receiver's reply. */
#ifndef P2V_SSH_LINES_H
#define P2V_SSH_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ssh_lines {
	char line[1024];    /* the line being read */
	size_t line_len;
	char ready[1024];   /* the first READY line */
	bool have_ready;
	uint64_t acked_offset, acked_wire;  /* the last ACK */
	char early[4096];   /* reply text read while we were still writing */
	size_t early_len;
};

/* For a new channel. */
void ssh_lines_reset(struct ssh_lines *l);
/* n more bytes of remote stdout. */
void ssh_lines_feed(struct ssh_lines *l, const char *p, size_t n);
/* The remote stdout ended: a last line without its newline counts too. */
void ssh_lines_flush(struct ssh_lines *l);
/* Move the reply text kept so far onto reply (*have bytes there already;
 * at most cap-1 kept, NUL-terminated; reply may be NULL). */
void ssh_lines_take_reply(struct ssh_lines *l, char *reply, size_t cap, size_t *have);

#endif
