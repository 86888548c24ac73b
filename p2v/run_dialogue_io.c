#include "run_dialogue_io.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "run_log.h"

void dlg_say(const char *fmt, ...)
{
	va_list ap;
	run_log_sync();
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* One line from stdin, trimmed. Read with read(2), byte by byte: stdio's
 * buffer would keep what the user typed ahead from the next question. */
static int read_line(char *buf, size_t cap)
{
	size_t len = 0;
	bool too_long = false;
	for (;;) {
		char c;
		ssize_t n = read(STDIN_FILENO, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (len == 0)
				return -EPIPE;
			break;
		}
		if (c == '\n')
			break;
		if (len + 1 < cap)
			buf[len++] = c;
		else
			too_long = true;
	}
	while (len && (buf[len - 1] == '\r' || isspace((unsigned char)buf[len - 1])))
		len--;
	buf[len] = '\0';
	size_t lead = strspn(buf, " \t");
	memmove(buf, buf + lead, len - lead + 1);
	return too_long ? -ENOSPC : 0;
}

int dlg_ask(const char *question, const char *def, char *buf, size_t cap)
{
	for (;;) {
		if (def && *def)
			dlg_say("%s [%s]: ", question, def);
		else
			dlg_say("%s: ", question);
		int rc = read_line(buf, cap);
		if (rc == -ENOSPC) {
			dlg_say("That is too long (at most %zu characters).\n", cap - 1);
			continue;
		}
		if (rc < 0)
			return rc;
		if (!*buf && def)
			snprintf(buf, cap, "%s", def);
		return 0;
	}
}

int dlg_yes(const char *question, bool def, bool *out)
{
	char buf[16];
	for (;;) {
		dlg_say("%s [%s]: ", question, def ? "Y/n" : "y/N");
		int rc = read_line(buf, sizeof(buf));
		if (rc == -EPIPE)
			return rc;
		if (rc == 0 && !*buf) {
			*out = def;
			return 0;
		}
		if (rc == 0 && (!strcasecmp(buf, "y") || !strcasecmp(buf, "yes"))) {
			*out = true;
			return 0;
		}
		if (rc == 0 && (!strcasecmp(buf, "n") || !strcasecmp(buf, "no"))) {
			*out = false;
			return 0;
		}
		dlg_say("Please answer y or n.\n");
	}
}

static struct termios saved_tty;

static void restore_and_die(int sig)
{
	tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

int dlg_secret(const char *question, char *buf, size_t cap)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa = { .sa_handler = restore_and_die }, old[4];
	bool tty = tcgetattr(STDIN_FILENO, &saved_tty) == 0;
	if (tty) {
		for (size_t i = 0; i < 4; i++)
			sigaction(sigs[i], &sa, &old[i]);
		struct termios quiet = saved_tty;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	int rc;
	do {
		dlg_say("%s: ", question);
		rc = read_line(buf, cap);
		if (rc == -ENOSPC)
			dlg_say("\nThat is too long (at most %zu characters).\n", cap - 1);
	} while (rc == -ENOSPC);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
		for (size_t i = 0; i < 4; i++)
			sigaction(sigs[i], &old[i], NULL);
	}
	/* The newline the user typed was not echoed. */
	dlg_say("\n");
	return rc;
}
