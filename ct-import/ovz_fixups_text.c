/* The text transforms of ovz_fixups.h: no file system access. Lines taken
 * out stay visible behind OVZ_COMMENT, so an administrator sees what was
 * there. */
#include "ovz_fixups.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text_edit.h"
#include "util.h"

#define OVZ_COMMENT "# ct-import (OpenVZ): "

static void drop(struct text_out *t, const char *line, size_t len)
{
	text_out_comment(t, OVZ_COMMENT, line, len);
}

static bool is_venet(const char *ifname)
{
	return !strncmp(ifname, "venet", 5);
}

static bool ip_static(const char *ip)
{
	return ip && strcmp(ip, "dhcp") && strcmp(ip, "manual") && strcmp(ip, "auto");
}

/* ---- Debian /etc/network/interfaces ---- */

static void eth0_stanza(FILE *f, const struct ct_spec *spec)
{
	fputs("\n# The container's network device (written by ct-import convert-openvz)\nauto eth0\n", f);
	if (ip_static(spec->ip)) {
		fprintf(f, "iface eth0 inet static\n\taddress %s\n", spec->ip);
		if (spec->gw)
			fprintf(f, "\tgateway %s\n", spec->gw);
	} else if (spec->ip || !spec->ip6) {
		fputs("iface eth0 inet dhcp\n", f);
	}
	if (ip_static(spec->ip6)) {
		fprintf(f, "iface eth0 inet6 static\n\taddress %s\n", spec->ip6);
		if (spec->gw6)
			fprintf(f, "\tgateway %s\n", spec->gw6);
	} else if (spec->ip6 && !strcmp(spec->ip6, "dhcp")) {
		fputs("iface eth0 inet6 dhcp\n", f);
	} else if (spec->ip6 && !strcmp(spec->ip6, "auto")) {
		fputs("iface eth0 inet6 auto\n", f);
	}
}

char *ovz_interfaces_text(const char *text, const struct ct_spec *spec, bool add_eth0,
			  bool *had_eth0)
{
	struct text_out t;
	if (!text_out_open(&t))
		return NULL;
	bool in_venet = false, eth0 = false;
	TEXT_EACH_LINE(text, line, len) {
		char w0[64], w1[256];
		text_word(line, len, 0, w0, sizeof(w0));
		if (!w0[0] || w0[0] == '#') {
			fprintf(t.f, "%.*s\n", (int)len, line);
			continue;
		}
		if (!strcmp(w0, "iface") || !strcmp(w0, "mapping")) {
			text_word(line, len, 1, w1, sizeof(w1));
			in_venet = is_venet(w1);
			if (!strcmp(w1, "eth0"))
				eth0 = true;
		} else if (!strcmp(w0, "auto") || !strncmp(w0, "allow-", 6)) {
			/* "auto lo venet0 venet0:0": keep the others. */
			in_venet = false;
			char kept[1024] = "";
			bool any_venet = false;
			for (int i = 1; *text_word(line, len, i, w1, sizeof(w1)) && w1[0] != '#'; i++) {
				if (is_venet(w1))
					any_venet = true;
				else if (strlen(kept) + strlen(w1) + 2 < sizeof(kept))
					strcat(strcat(kept, " "), w1);
			}
			if (!any_venet) {
				fprintf(t.f, "%.*s\n", (int)len, line);
			} else {
				drop(&t, line, len);
				if (kept[0])
					fprintf(t.f, "%s%s\n", w0, kept);
			}
			continue;
		} else if (!strncmp(w0, "source", 6)) {
			in_venet = false;
		}
		if (in_venet)
			drop(&t, line, len);
		else
			fprintf(t.f, "%.*s\n", (int)len, line);
	}
	if (had_eth0)
		*had_eth0 = eth0;
	if (add_eth0 && !eth0) {
		eth0_stanza(t.f, spec);
		t.changed = true;
	}
	return text_out_finish(&t);
}

/* ---- RHEL ---- */

char *ovz_sysconfig_network_text(const char *text)
{
	struct text_out t;
	if (!text_out_open(&t))
		return NULL;
	TEXT_EACH_LINE(text, line, len) {
		const char *p = line;
		while (p < line + len && isspace((unsigned char)*p))
			p++;
		size_t rest = (size_t)(line + len - p);
		bool venet = false;
		static const char *const keys[] = { "GATEWAYDEV=", "IPV6_DEFAULTDEV=" };
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
			size_t k = strlen(keys[i]);
			if (rest > k && !strncmp(p, keys[i], k)) {
				const char *v = p + k;
				v += (*v == '"' || *v == '\'');
				venet = !strncmp(v, "venet", 5);
			}
		}
		if (venet)
			drop(&t, line, len);
		else
			fprintf(t.f, "%.*s\n", (int)len, line);
	}
	return text_out_finish(&t);
}

/* Whether IPv4 gw lies inside ip ("A/P"). */
static bool gw_on_link(const char *ip, const char *gw)
{
	char addr[64];
	const char *slash = strchr(ip, '/');
	if (!slash || (size_t)(slash - ip) >= sizeof(addr))
		return false;
	snprintf(addr, sizeof(addr), "%.*s", (int)(slash - ip), ip);
	int prefix = atoi(slash + 1);
	struct in_addr a, g;
	if (inet_pton(AF_INET, addr, &a) != 1 || inet_pton(AF_INET, gw, &g) != 1 || prefix < 0 ||
	    prefix > 32)
		return false;
	uint32_t mask = prefix ? htonl(~0u << (32 - prefix)) : 0;
	return (a.s_addr & mask) == (g.s_addr & mask);
}

char *ovz_ifcfg_eth0_text(const struct ct_spec *spec)
{
	struct text_out t;
	if (!text_out_open(&t))
		return NULL;
	t.changed = true;
	fputs("# The container's network device (written by ct-import convert-openvz)\n"
	      "DEVICE=eth0\nTYPE=Ethernet\nONBOOT=yes\n", t.f);
	if (ip_static(spec->ip)) {
		const char *slash = strchr(spec->ip, '/');
		fprintf(t.f, "BOOTPROTO=none\nIPADDR=%.*s\n",
			(int)(slash ? (size_t)(slash - spec->ip) : strlen(spec->ip)), spec->ip);
		if (slash)
			fprintf(t.f, "PREFIX=%s\n", slash + 1);
		if (spec->gw)
			fprintf(t.f, "GATEWAY=%s\n", spec->gw);
	} else {
		fprintf(t.f, "BOOTPROTO=%s\n", spec->ip || !spec->ip6 ? "dhcp" : "none");
	}
	if (ip_static(spec->ip6)) {
		fprintf(t.f, "IPV6INIT=yes\nIPV6ADDR=%s\n", spec->ip6);
		if (spec->gw6)
			fprintf(t.f, "IPV6_DEFAULTGW=%s\n", spec->gw6);
	} else if (spec->ip6) {
		fprintf(t.f, "IPV6INIT=yes\n%s\n", !strcmp(spec->ip6, "dhcp") ? "DHCPV6C=yes" : "IPV6_AUTOCONF=yes");
	}
	return text_out_finish(&t);
}

char *ovz_route_eth0_text(const struct ct_spec *spec)
{
	if (!ip_static(spec->ip) || !spec->gw || gw_on_link(spec->ip, spec->gw))
		return NULL;
	/* As Proxmox does for a gateway outside the subnet: reach it on-link. */
	char *s;
	if (asprintf(&s, "# written by ct-import convert-openvz: the gateway is outside eth0's prefix\n"
			 "%s dev eth0\ndefault via %s dev eth0\n", spec->gw, spec->gw) < 0)
		return NULL;
	return s;
}

/* ---- fstab, inittab ---- */

char *ovz_fstab_text(const char *text)
{
	struct text_out t;
	if (!text_out_open(&t))
		return NULL;
	TEXT_EACH_LINE(text, line, len) {
		char dev[256], type[64];
		text_word(line, len, 0, dev, sizeof(dev));
		text_word(line, len, 2, type, sizeof(type));
		if (dev[0] && dev[0] != '#' && (!strcmp(type, "simfs") || !strcmp(dev, "/dev/simfs")))
			drop(&t, line, len);
		else
			fprintf(t.f, "%.*s\n", (int)len, line);
	}
	return text_out_finish(&t);
}

/* id:runlevels:action:process with a getty on tty1 in process. */
static bool tty1_getty(const char *p, size_t len)
{
	if (!memmem(p, len, "getty", 5))
		return false;
	for (const char *q = p; (q = memmem(q, (size_t)(p + len - q), "tty1", 4)); q += 4) {
		char after = q + 4 < p + len ? q[4] : '\0';
		if (!isdigit((unsigned char)after))
			return true;
	}
	return false;
}

char *ovz_inittab_text(const char *text, const char *getty)
{
	bool active = false;
	TEXT_EACH_LINE(text, line, len) {
		const char *p = line;
		while (p < line + len && isspace((unsigned char)*p))
			p++;
		if (p < line + len && *p != '#' && tty1_getty(p, (size_t)(line + len - p)))
			active = true;
	}
	if (active)
		return NULL;
	struct text_out t;
	if (!text_out_open(&t))
		return NULL;
	bool restored = false;
	TEXT_EACH_LINE(text, line, len) {
		const char *p = line;
		while (p < line + len && (isspace((unsigned char)*p) || *p == '#'))
			p++;
		size_t rest = (size_t)(line + len - p);
		/* "#1:2345:respawn:/sbin/getty 38400 tty1": OpenVZ's templates
		 * comment them out; the first one for tty1 comes back. */
		if (!restored && p > line && rest && tty1_getty(p, rest) && strchr(p, ':') &&
		    (size_t)(strchr(p, ':') - p) < rest) {
			fprintf(t.f, "%.*s\n", (int)rest, p);
			restored = true;
		} else {
			fprintf(t.f, "%.*s\n", (int)len, line);
		}
	}
	if (!restored)
		fprintf(t.f, "# a console for lxc-console / pct console (ct-import convert-openvz)\n"
			     "1:2345:respawn:%s tty1\n", getty);
	t.changed = true;
	return text_out_finish(&t);
}
