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

struct ssh_conn;

/* Run `base` (default_base when NULL) with first[0..n_first) and then the
 * user's borrowed extra[0..n_extra) as quoted arguments on c, print its
 * reply, and return the p2v exit status; what names the step in messages
 * ("the container", "the VM"). */
int remote_run_create(struct ssh_conn *c, const char *base, const char *default_base,
		      char **first, size_t n_first, char *const *extra, size_t n_extra,
		      const char *what);

#endif
