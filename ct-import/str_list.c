/* str_list (str_list.h). */
#include "str_list.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int str_list_vappendf(char ***v, size_t *n, const char *fmt, va_list ap)
{
	char *s;
	if (vasprintf(&s, fmt, ap) < 0)
		return -ENOMEM;
	char **grown = realloc(*v, (*n + 1) * sizeof(*grown));
	if (!grown) {
		free(s);
		return -ENOMEM;
	}
	*v = grown;
	grown[(*n)++] = s;
	return 0;
}

void str_list_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
