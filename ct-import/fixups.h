/* Fixups that make a server's root boot as a container. Applied to the
 * created container's rootfs, never to the template. */
#ifndef CTI_FIXUPS_H
#define CTI_FIXUPS_H

#include "ct_spec.h"

/* Apply every fixup under rootfs. For BACKEND_PVE the network files Proxmox
 * manages itself (eth0 stanza, hostname, hosts) are left to it. */
int fixups_apply(const char *rootfs, const struct ct_spec *spec, enum ct_backend backend);

/* Pure text transforms, exposed for unit tests: each returns a malloc'd new
 * text, or NULL when nothing needed changing. */
char *fixup_fstab_text(const char *fstab);
char *fixup_interfaces_text(const char *interfaces, const struct ct_spec *spec,
			    enum ct_backend backend);

#endif
