/* User and group names for p2v/tarball.c, taken from the archived root's
 * etc/passwd and etc/group, not the rescue system's; and ACLs reduced to
 * numeric qualifiers. */
#include "tar_names.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

struct idname {
	int64_t id;
	size_t order;
	char *name;
};

static int idname_cmp(const void *a, const void *b)
{
	const struct idname *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

void tar_idmap_free(struct idmap *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].name);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/* Parse name:x:id:... lines; a missing or odd file just gives no names. */
void tar_idmap_load(struct idmap *m, const char *root, const char *rel)
{
	_cleanup_free_ char *path = NULL, *buf = NULL;
	size_t len;
	if (asprintf(&path, "%s/%s", root, rel) < 0)
		return;
	struct stat sb;
	/* A symlink could point into the rescue system: ignore it. */
	if (lstat(path, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    read_file(path, 16 << 20, &buf, &len) < 0)
		return;
	size_t cap = 0;
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c1 || !c2 || c1 == line || line[0] == '#' || line[0] == '+' || line[0] == '-')
			continue;
		char *end;
		errno = 0;
		long long id = strtoll(c2 + 1, &end, 10);
		if (errno || end == c2 + 1 || *end != ':' || id < 0)
			continue;
		if (m->n == cap) {
			cap = cap ? cap * 2 : 64;
			struct idname *v = realloc(m->v, cap * sizeof(*v));
			if (!v)
				return;
			m->v = v;
		}
		char *name = strndup(line, (size_t)(c1 - line));
		if (!name)
			return;
		m->v[m->n] = (struct idname){ id, m->n, name };
		m->n++;
	}
	/* Sort by id, first line first, like getpwuid's answer. */
	qsort(m->v, m->n, sizeof(*m->v), idname_cmp);
}

const char *tar_idmap_lookup(const struct idmap *m, int64_t id)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (m->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->n && m->v[lo].id == id ? m->v[lo].name : NULL;
}

/* ACL qualifiers travel as numbers only: GNU tar resolves a name in an ACL
 * through the hypervisor's passwd, which is not the container's. */
int tar_acl_numeric_only(struct archive_entry *e)
{
	int want = ARCHIVE_ENTRY_ACL_TYPE_ACCESS | ARCHIVE_ENTRY_ACL_TYPE_DEFAULT;
	int n = archive_entry_acl_reset(e, want);
	if (n <= 0)
		return 0;
	struct ace { int type, perm, tag, qual; } *v = calloc((size_t)n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	int type, perm, tag, qual, k = 0;
	bool named = false;
	const char *name;
	while (k < n && archive_entry_acl_next(e, want, &type, &perm, &tag, &qual, &name) == ARCHIVE_OK) {
		v[k++] = (struct ace){ type, perm, tag, qual };
		named |= name != NULL && (tag == ARCHIVE_ENTRY_ACL_USER || tag == ARCHIVE_ENTRY_ACL_GROUP);
	}
	if (named) {
		mode_t mode = archive_entry_mode(e);
		archive_entry_acl_clear(e);
		for (int i = 0; i < k; i++)
			archive_entry_acl_add_entry(e, v[i].type, v[i].perm, v[i].tag, v[i].qual, NULL);
		archive_entry_set_mode(e, mode);  /* re-adding *_OBJ entries touches it */
	}
	free(v);
	return 0;
}
