/* A directory's names in byte order. Reading them all up front keeps only
 * one fd per directory level open during a walk, and sorting them (rather
 * than taking readdir's order) makes the same tree give the same archive,
 * which a resumed transfer regenerates up to its checkpoint. */
#include "sorted_dir.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void sorted_dir_free(struct sorted_dir *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sorted_dir_read(int dirfd, struct sorted_dir *l)
{
	int fd = dup(dirfd);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int err = errno;
		close(fd);
		return -err;
	}
	struct dirent *de;
	int rc = 0;
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 32;
			char **v = realloc(l->v, l->cap * sizeof(*v));
			if (!v) {
				rc = -ENOMEM;
				break;
			}
			l->v = v;
		}
		if (!(l->v[l->n] = strdup(de->d_name))) {
			rc = -ENOMEM;
			break;
		}
		l->n++;
		errno = 0;
	}
	if (!rc && errno)
		rc = -errno;
	closedir(d);
	if (!rc && l->n)   /* an empty directory has no array to sort */
		qsort(l->v, l->n, sizeof(*l->v), cmp_names);
	return rc;
}
