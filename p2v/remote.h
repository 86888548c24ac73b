/* Building the command lines p2v runs on the hypervisor. The remote side
 * runs them through the login shell, so every argument is quoted. */
#ifndef P2V_REMOTE_H
#define P2V_REMOTE_H

#include <stddef.h>

/* Append "--OPT" and, if arg is not NULL, arg to a growing vector. */
int remote_args_add(char ***v, size_t *n, const char *opt, const char *arg);
void remote_args_free(char **v, size_t n);
/* Quote s for a POSIX shell ('…' with embedded ' as '\''). malloc'd. */
char *shell_quote(const char *s);
/* base (used as given: it is the user's own command text) followed by the
 * quoted args. malloc'd, or NULL on allocation failure. */
char *remote_command(const char *base, char *const *args, size_t n);

#endif
