#include "inventory_util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inventory.h"
#include "util.h"

char *inv_read_attr(const char *dir, const char *name, size_t *len)
{
	char path[PATH_MAX];
	char *s = NULL;
	size_t l = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (read_file(path, 1 << 20, &s, &l) < 0)
		return NULL;
	while (l && (s[l - 1] == '\n' || s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\r'))
		s[--l] = '\0';
	if (!l) {
		free(s);
		return NULL;
	}
	if (len)
		*len = l;
	return s;
}

int inv_read_ll(const char *dir, const char *name, long long *out)
{
	_cleanup_free_ char *s = inv_read_attr(dir, name, NULL);
	if (!s)
		return -ENOENT;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

char *inv_link_base(const char *dir, const char *name)
{
	char path[PATH_MAX], target[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ssize_t l = readlink(path, target, sizeof(target) - 1);
	if (l <= 0)
		return NULL;
	target[l] = '\0';
	const char *b = strrchr(target, '/');
	return strdup(b ? b + 1 : target);
}

int inv_strv_add(char ***v, const char *s)
{
	size_t n = 0;
	while (*v && (*v)[n])
		n++;
	char **nv = realloc(*v, (n + 2) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (!(nv[n] = strdup(s))) {
		nv[n] = NULL;
		return -ENOMEM;
	}
	nv[n + 1] = NULL;
	return 0;
}

void inv_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

bool inv_blkid_is_raid_member(const struct inv_blkid *b)
{
	size_t l = b->type ? strlen(b->type) : 0;
	return l > 12 && !strcmp(b->type + l - 12, "_raid_member");
}
