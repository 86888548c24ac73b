/* The plain-LXC backend: unpack the template securely into
 * <lxc_path>/<name>/rootfs, write a privileged config, optionally start. */
#ifndef CTI_LXC_H
#define CTI_LXC_H

#include "ct_spec.h"

/* Returns 0 or a negative error (logged). Refuses an existing container.
 * On failure the half-made container directory is removed. */
int lxc_create_ct(const struct ct_spec *spec);

/* Unpack an archive into an existing empty directory with safe_extract
 * (entries below dev/ left out), keeping owners, modes, ACLs, xattrs and
 * capabilities. 0 or a negative error (never -EEXIST or -EINVAL). */
int archive_unpack_secure(const char *archive_path, const char *dest_dir);

/* The LXC config text for spec (malloc'd). */
char *lxc_config_text(const struct ct_spec *spec, const char *rootfs);

#endif
