/* Checks of user- and template-supplied values, following the formats of
 * Proxmox's JSON schema (pve-common PVE::JSONSchema) so that `pct create`
 * never has to refuse what we pass. */
#ifndef CTI_VALIDATE_H
#define CTI_VALIDATE_H

#include <stdbool.h>

/* pve "dns-name": labels of [A-Za-z0-9-], not starting or ending with '-',
 * joined by dots; at most 255 characters. */
bool valid_dns_name(const char *s);
bool valid_ipv4(const char *s);
bool valid_ipv6(const char *s);
bool valid_ip(const char *s);
/* "ADDR/PREFIX" with a prefix in range for the address family. */
bool valid_cidr4(const char *s);
bool valid_cidr6(const char *s);
bool valid_cidr(const char *s);
/* A Proxmox storage ID as rootfs accepts it: ^[^:\s]+$ */
bool valid_storage(const char *s);
/* Whether gw is inside the IPv4 network of cidr (both IPv4). */
bool ipv4_in_subnet(const char *cidr, const char *gw);

#endif
