/* Which file owns an unreadable range, where the filesystem can tell:
 * for the ext2/3/4 filesystems whose block maps the source has open, the
 * blocks of every inode are searched (what debugfs's icheck does) and the
 * owning inodes named by walking the directories (ncheck). Other ranges
 * stay without an owner. */
#ifndef P2V_DISK_OWNER_H
#define P2V_DISK_OWNER_H

#include "disk_layout.h"

/* owners[i] (malloc'd, or NULL when nothing can tell) for each range i of
 * s->unreadable: "ext4@OFFSET: /path, /other", "ext4@OFFSET: <journal>",
 * "ext4@OFFSET: filesystem metadata". 0 or -ENOMEM; a filesystem that
 * cannot be searched (its own metadata unreadable) is logged and left
 * out. */
int disk_owners(const struct disk_source *s, char **owners);

#endif
