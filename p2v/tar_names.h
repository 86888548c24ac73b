/* User and group names and ACLs of archived entries; internal to
 * p2v/tarball.c. */
#ifndef P2V_TAR_NAMES_H
#define P2V_TAR_NAMES_H

#include <stddef.h>
#include <stdint.h>

struct archive_entry;
struct idname;

/* id → name, sorted by id. */
struct idmap {
	struct idname *v;
	size_t n;
};

/* Load root/rel (etc/passwd or etc/group) into m. */
void tar_idmap_load(struct idmap *m, const char *root, const char *rel);
/* The name for id, or NULL. */
const char *tar_idmap_lookup(const struct idmap *m, int64_t id);
void tar_idmap_free(struct idmap *m);

/* Drop the names from e's ACL entries, keeping the numbers; 0 or -ENOMEM. */
int tar_acl_numeric_only(struct archive_entry *e);

#endif
