/* Questions on the terminal for p2v run's dialogue: a line with a default,
 * yes/no, and a secret read without echo. Prompts go to stdout, answers
 * come from stdin. */
#ifndef P2V_RUN_DIALOGUE_IO_H
#define P2V_RUN_DIALOGUE_IO_H

#include <stdbool.h>
#include <stddef.h>

/* "question [def]: "; the answer without surrounding blanks into buf, def
 * (or "") for an empty line. 0, or -EPIPE at the end of input, -ENOSPC
 * for a line longer than cap. */
int dlg_ask(const char *question, const char *def, char *buf, size_t cap);

/* "question [y/N]: " (or [Y/n] with def): y, yes, n, no in any case; asks
 * again otherwise. 0 or -EPIPE. */
int dlg_yes(const char *question, bool def, bool *out);

/* The same as dlg_ask without echo and without a default; the terminal's
 * echo comes back even when a signal ends the process meanwhile. */
int dlg_secret(const char *question, char *buf, size_t cap);

/* printf to stdout after the log has caught up (run_log_sync). */
void dlg_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
