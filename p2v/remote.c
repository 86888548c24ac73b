#include "remote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
