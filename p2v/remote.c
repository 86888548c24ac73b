#include "remote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "log.h"
#include "ssh.h"
#include "ssh_opts.h"
#include "util.h"

int remote_args_add(char ***v, size_t *n, const char *opt, const char *arg)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (asprintf(&nv[*n], "--%s", opt) < 0)
		return -ENOMEM;
	(*n)++;
	if (arg) {
		if (!(nv[*n] = strdup(arg)))
			return -ENOMEM;
		(*n)++;
	}
	return 0;
}

void remote_args_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

char *shell_quote(const char *s)
{
	size_t len = 2;
	for (const char *p = s; *p; p++)
		len += *p == '\'' ? 4 : 1;
	char *out = malloc(len + 1), *o = out;
	if (!out)
		return NULL;
	*o++ = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

char *remote_command(const char *base, char *const *args, size_t n)
{
	size_t cap = strlen(base) + 1;
	char *cmd = strdup(base);
	for (size_t i = 0; cmd && i < n; i++) {
		char *q = shell_quote(args[i]);
		char *grown = q ? realloc(cmd, cap + strlen(q) + 1) : NULL;
		if (!grown) {
			free(q);
			free(cmd);
			return NULL;
		}
		cmd = grown;
		strcat(cmd, " ");
		strcat(cmd, q);
		cap += strlen(q) + 1;
		free(q);
	}
	return cmd;
}

int remote_run_create(struct ssh_conn *c, const char *base, const char *default_base,
		      char **first, size_t n_first, char *const *extra, size_t n_extra,
		      const char *what)
{
	char **all = malloc((n_first + n_extra + 1) * sizeof(*all));
	if (!all)
		return P2V_EXIT_FAILURE;
	memcpy(all, first, n_first * sizeof(*all));
	memcpy(all + n_first, extra, n_extra * sizeof(*all));
	_cleanup_free_ char *cmd = remote_command(base ? base : default_base, all, n_first + n_extra);
	free(all);
	if (!cmd)
		return P2V_EXIT_FAILURE;
	log_info("creating %s: %s", what, cmd);
	int rc = ssh_conn_exec(c, cmd);
	if (rc < 0)
		return ssh_exit_status(rc);
	char reply[4096];
	rc = ssh_conn_finish(c, reply, sizeof(reply));
	fputs(reply, stdout);
	if (rc != 0) {
		log_error("creating %s failed on the hypervisor (exit status %d)", what, rc);
		return P2V_EXIT_REMOTE;
	}
	return P2V_EXIT_OK;
}
