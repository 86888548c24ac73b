/* Preparing the source of a ct migration from a block device: mount its root
 * filesystem read-only without journal replay, then the other local
 * filesystems its own /etc/fstab lists, and undo all of it afterwards. */
#ifndef P2V_SOURCE_H
#define P2V_SOURCE_H

#include <stddef.h>

#include "fstab.h"
#include "in_root.h"

struct source_mounts;

/* Mount `device` read-only under a fresh directory and the fstab-listed
 * filesystems below it. *root is the directory to archive. Returns 0 or a
 * negative error; on error nothing stays mounted. */
int source_mount(const char *device, struct source_mounts **out, const char **root);
/* Unmount everything source_mount mounted, innermost first, and remove the
 * directory. */
void source_unmount(struct source_mounts *m);

#endif
