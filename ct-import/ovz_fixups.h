/* What an OpenVZ guest needs to boot as an LXC container, applied to the
 * scratch tree before it becomes a template (the create-ct fixups still run
 * on the container made from it):
 * - venet0 goes: Debian /etc/network/interfaces stanzas (venet0, venet0:N,
 *   and their auto/allow lines), RHEL ifcfg-venet0*, route(6)-venet0*, and
 *   GATEWAYDEV/IPV6_DEFAULTDEV=venet0 in /etc/sysconfig/network;
 * - eth0 is configured from the mapped net0 in the guest's own format when
 *   the guest has no eth0 configuration of its own (a veth container does);
 * - a getty on tty1 (inittab) and the systemd getty units OpenVZ masked;
 * - /etc/mtab -> /proc/mounts; simfs lines out of /etc/fstab.
 * Paths resolve inside the tree (rootfs_at.h); symlinks are not followed. */
#ifndef CTI_OVZ_FIXUPS_H
#define CTI_OVZ_FIXUPS_H

#include <stdbool.h>
#include <stddef.h>

#include "ct_spec.h"

/* The files changed, "PATH: what", for the report. */
struct ovz_fixlog {
	char **v;
	size_t n;
};
void ovz_fixlog_free(struct ovz_fixlog *l);

/* Apply them under root. spec gives eth0 (ip/gw/ip6/gw6; write_eth0 false:
 * the container has no network, leave eth0 alone). 0 or a negative error. */
int ovz_fixups_apply(const char *root, const struct ct_spec *spec, bool write_eth0,
		     struct ovz_fixlog *log);

/* The pure text transforms, for unit tests: each returns a malloc'd new
 * text, or NULL when nothing needed changing. */
/* venet0 stanzas out; eth0 appended when add_eth0 and no "iface eth0" is
 * left. *had_eth0 (may be NULL) says whether the guest had one. */
char *ovz_interfaces_text(const char *text, const struct ct_spec *spec, bool add_eth0,
			  bool *had_eth0);
char *ovz_sysconfig_network_text(const char *text);
char *ovz_fstab_text(const char *text);
/* An active getty on tty1: a commented-out one is restored, else one is
 * added with getty (e.g. "/sbin/getty 38400" or "/sbin/mingetty"). */
char *ovz_inittab_text(const char *text, const char *getty);
/* ifcfg-eth0 and, when the IPv4 gateway is outside the prefix (venet's
 * /32), route-eth0 with an on-link route to it (NULL otherwise). */
char *ovz_ifcfg_eth0_text(const struct ct_spec *spec);
char *ovz_route_eth0_text(const struct ct_spec *spec);

#endif
