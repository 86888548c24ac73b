/* Where an OpenVZ container comes from (a vzdump-openvz archive or a private
 * area directory) and how its files get into a scratch tree that the fixups
 * may change: a secure extraction that refuses anything that would land
 * outside the tree. The source itself is only ever read. */
#ifndef CTI_OVZ_SOURCE_H
#define CTI_OVZ_SOURCE_H

#include <stdbool.h>
#include <sys/types.h>

#include "safe_extract.h"

/* The error for malformed or unsafe input (exit status 4): an unreadable or
 * corrupt archive, a ../ or absolute entry, one through a symlink, a hard
 * link out of the tree, no configuration. */
#define OVZ_EBADINPUT SAFE_EXTRACT_EBADINPUT

/* The CTID a source names: "vzdump-openvz-CTID-…" (any directory, any
 * extension), or a private area's last path component; else the archive's
 * base name without its extensions. malloc'd, NULL when out of memory or
 * nothing is left that name_is_safe accepts. */
char *ovz_ctid_from_source(const char *source, bool is_dir);

/* The ve.conf of the private area dir (CTID ctid): the first that exists of
 * PREFIX/etc/vz/conf/CTID.conf where dir is PREFIX/vz/private/CTID or
 * PREFIX/var/lib/vz/private/CTID (an OpenVZ host's layout, also on a mounted
 * copy of its disk), dir/../CTID.conf, and dir/etc/vzdump/vps.conf.
 * 0 (*path malloc'd), -ENOENT (logged: where it looked), -ENOMEM. */
int ovz_find_private_config(const char *dir, const char *ctid, char **path);

/* Unpack the archive (tar, any compression libarchive reads, LZO through
 * lzop) into the existing empty directory dest. Entries are refused (the
 * whole run fails with -OVZ_EBADINPUT, logged with the entry's name) when
 * absolute, containing "..", reached through a symlink in the tree, or
 * hard links whose target is one of those. Device nodes are kept (a
 * privileged container may use them). Owners, modes, times, ACLs, xattrs. */
int ovz_unpack_archive(const char *archive, const char *dest);

/* Copy a private area into dest: GNU tar reads it (one file system, numeric
 * owners, ACLs, xattrs) and the same extraction as above writes it. */
int ovz_copy_private(const char *dir, const char *dest);

/* Start argv with in_fd/out_fd (-1: inherit) as its stdin/stdout. */
int ovz_spawn(char *const argv[], int in_fd, int out_fd, pid_t *pid);
/* Wait for pid: 0 when it exited 0, else -EIO (logged with what). */
int ovz_wait(pid_t pid, const char *what);

#endif
