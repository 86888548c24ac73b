/* Apart from ssh.c because it is plain text handling: no libssh, no
 * socket, just what the receiver's stdout lines mean. */
#include "ssh_lines.h"

#include <stdio.h>
#include <string.h>

#include "stream.h"

void ssh_lines_reset(struct ssh_lines *l)
{
	l->early_len = l->line_len = 0;
	l->have_ready = false;
	l->acked_offset = l->acked_wire = 0;
}

static void early_add(struct ssh_lines *l, const char *p, size_t n)
{
	size_t room = sizeof(l->early) - l->early_len;
	size_t k = n < room ? n : room;
	memcpy(l->early + l->early_len, p, k);
	l->early_len += k;
}

static void take_line(struct ssh_lines *l)
{
	uint64_t off, wire;
	l->line[l->line_len] = '\0';
	if (stream_ack_parse(l->line, &off, &wire) == 0) {
		if (wire > l->acked_wire) {
			l->acked_wire = wire;
			l->acked_offset = off;
		}
	} else if (!l->have_ready && !strncmp(l->line, "READY ", 6)) {
		snprintf(l->ready, sizeof(l->ready), "%s", l->line);
		l->have_ready = true;
	} else {
		early_add(l, l->line, l->line_len);
	}
	l->line_len = 0;
}

void ssh_lines_feed(struct ssh_lines *l, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (l->line_len < sizeof(l->line) - 1)
			l->line[l->line_len++] = p[i];
		if (p[i] == '\n')
			take_line(l);
	}
}

void ssh_lines_flush(struct ssh_lines *l)
{
	if (l->line_len)
		take_line(l);
}

void ssh_lines_take_reply(struct ssh_lines *l, char *reply, size_t cap, size_t *have)
{
	size_t n = l->early_len;
	l->early_len = 0;
	if (!reply || *have + 1 >= cap)
		return;
	size_t k = n < cap - 1 - *have ? n : cap - 1 - *have;
	memcpy(reply + *have, l->early, k);
	*have += k;
	reply[*have] = '\0';
}
