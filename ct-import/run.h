/* Running external programs (pct, pvesh) from an argv array, never through
 * a shell string, so no value from a template can be interpreted by a shell. */
#ifndef CTI_RUN_H
#define CTI_RUN_H

#include <stdbool.h>
#include <stdio.h>

/* Run argv[0] (looked up in PATH) and wait for it. With captured_stdout
 * non-NULL its standard output is returned there (malloc'd, NUL-terminated);
 * otherwise it shares ours. Returns the exit status (0..255), or a negative
 * error when it could not be run or died from a signal (logged). */
int run_argv(char *const argv[], char **captured_stdout);

/* Whether an executable named name is found in PATH. */
bool program_on_path(const char *name);

/* Print argv as one line of shell words, quoted where needed, then '\n'. */
void print_argv_quoted(FILE *f, char *const argv[]);

#endif
