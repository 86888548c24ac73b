/* Fixups that make a server's root boot as a container. Applied to the
 * created container's rootfs, never to the template. */
#ifndef CTI_FIXUPS_H
#define CTI_FIXUPS_H

#include <stdbool.h>

#include "ct_spec.h"

/* Apply every fixup under rootfs. For BACKEND_PVE the network files Proxmox
 * manages itself (eth0 stanza, hostname, hosts) are left to it. */
int fixups_apply(const char *rootfs, const struct ct_spec *spec, enum ct_backend backend);

/* Pure text transforms, exposed for unit tests: each returns a malloc'd new
 * text, or NULL when nothing needed changing. */
char *fixup_fstab_text(const char *fstab);
char *fixup_interfaces_text(const char *interfaces, const struct ct_spec *spec,
			    enum ct_backend backend);
/* interfaces(5) text of interfaces.d files: the same, never adding eth0. */
char *fixup_interfaces_d_text(const char *interfaces);
/* inittab: getty lines on serial ports (ttyS*) commented out. */
char *fixup_inittab_text(const char *inittab);
/* hosts: the 127.0.1.1 line names hostname (added when missing). */
char *fixup_hosts_text(const char *hosts, const char *hostname);

/* Whether an interface name is one of a physical server's (eth*, en*, wl*,
 * bond*, br*, vlan* …, VLANs and aliases of them), never lo. */
bool ifname_is_physical(const char *name);

/* The LXC backend's eth0 in netplan, RHEL ifcfg and resolv.conf form
 * (malloc'd; resolv NULL when spec names no nameserver or search domain). */
char *eth0_netplan_text(const struct ct_spec *spec);
char *eth0_ifcfg_text(const struct ct_spec *spec);
char *resolv_conf_text(const struct ct_spec *spec);

#endif
