/* Small helpers the inventory's files share: sysfs attributes and string
 * vectors. */
#ifndef P2V_INVENTORY_UTIL_H
#define P2V_INVENTORY_UTIL_H

#include <stddef.h>

/* dir/name's content without trailing blanks and newlines, malloc'd; NULL
 * when unreadable or empty. len may be NULL. */
char *inv_read_attr(const char *dir, const char *name, size_t *len);
/* dir/name as a decimal number; 0 or a negative error. */
int inv_read_ll(const char *dir, const char *name, long long *out);
/* The last component of the symlink dir/name's target, malloc'd, or NULL. */
char *inv_link_base(const char *dir, const char *name);
/* Append a copy of s to a NULL-terminated vector; 0 or -ENOMEM. */
int inv_strv_add(char ***v, const char *s);
void inv_strv_free(char **v);

#endif
