/* The pure text transforms of fixups.h: no file system access, so they are
 * unit-tested on strings. Disabled lines keep their text behind "# p2v: " so
 * an administrator sees what was there and can restore it. */
#include "fixups.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text_edit.h"
#include "util.h"

#define P2V_COMMENT "# p2v: "

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void comment_out(struct text_out *o, const char *line, size_t len)
{
	text_out_comment(o, P2V_COMMENT, line, len);
}

/* ---- fstab ---- */

/* Entries that name the server's disks cannot work in a container: its root
 * is given by the container config, and there are no block devices. */
static bool fstab_entry_is_physical(const char *spec, const char *dir, const char *type)
{
	static const char *const dev_prefixes[] = {
		"/dev/", "UUID=", "LABEL=", "PARTUUID=", "PARTLABEL=", "ID=",
	};
	if (!strcmp(type, "swap") || !strcmp(dir, "/") || !strcmp(dir, "/boot") ||
	    starts_with(dir, "/boot/"))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(dev_prefixes); i++)
		if (starts_with(spec, dev_prefixes[i]))
			return true;
	return false;
}

char *fixup_fstab_text(const char *fstab)
{
	struct text_out o;
	if (!text_out_open(&o))
		return NULL;
	TEXT_EACH_LINE(fstab, line, len) {
		char spec[256], dir[256], type[64];
		text_word(line, len, 0, spec, sizeof(spec));
		text_word(line, len, 1, dir, sizeof(dir));
		text_word(line, len, 2, type, sizeof(type));
		if (spec[0] && spec[0] != '#' && fstab_entry_is_physical(spec, dir, type))
			comment_out(&o, line, len);
		else
			fprintf(o.f, "%.*s\n", (int)len, line);
	}
	return text_out_finish(&o);
}

/* ---- interfaces(5) ---- */

bool ifname_is_physical(const char *name)
{
	static const char *const prefixes[] = {
		"eth", "en", "wl", "ww", "em", "ib", "bond", "team", "br", "vmbr", "vlan",
	};
	/* VLANs (eno1.100) and aliases (eno1:0) follow their base device. */
	size_t base = strcspn(name, ".:");
	if (base == 0)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
		size_t n = strlen(prefixes[i]);
		if (base >= n && !strncmp(name, prefixes[i], n))
			return true;
	}
	/* biosdevname's p<slot>p<port> (p1p1). */
	return name[0] == 'p' && isdigit((unsigned char)name[1]) && strchr(name + 1, 'p');
}

/* Stanza keywords of interfaces(5) (and ifupdown2's rename). */
enum kw { KW_NONE, KW_IFACE, KW_LIST, KW_OTHER };

static enum kw keyword(const char *w)
{
	if (!strcmp(w, "iface") || !strcmp(w, "mapping"))
		return KW_IFACE;
	if (!strcmp(w, "auto") || starts_with(w, "allow-") || !strcmp(w, "no-auto-down") ||
	    !strcmp(w, "no-scripts"))
		return KW_LIST;
	if (!strcmp(w, "source") || !strcmp(w, "source-directory") || !strcmp(w, "source-dir") ||
	    !strcmp(w, "rename"))
		return KW_OTHER;
	return KW_NONE;
}

/* "auto eno1 lo": drop the physical names, keep the others. */
static void filter_list_line(struct text_out *o, const char *line, size_t len)
{
	char kw[64], name[256], kept[1024] = "";
	text_word(line, len, 0, kw, sizeof(kw));
	bool dropped = false;
	for (int i = 1; *text_word(line, len, i, name, sizeof(name)); i++) {
		if (name[0] == '#')
			break;
		if (ifname_is_physical(name))
			dropped = true;
		else if (strlen(kept) + strlen(name) + 2 < sizeof(kept))
			strcat(strcat(kept, " "), name);
	}
	if (!dropped) {
		fprintf(o->f, "%.*s\n", (int)len, line);
		return;
	}
	comment_out(o, line, len);
	if (kept[0])
		fprintf(o->f, "%s%s\n", kw, kept);
}

static char *interfaces_text(const char *text, const struct ct_spec *spec, bool add_eth0)
{
	struct text_out o;
	if (!text_out_open(&o))
		return NULL;
	bool in_physical = false;  /* inside an iface stanza being disabled */
	TEXT_EACH_LINE(text, line, len) {
		char w0[64], w1[256];
		text_word(line, len, 0, w0, sizeof(w0));
		if (!w0[0] || w0[0] == '#') {
			fprintf(o.f, "%.*s\n", (int)len, line);
			continue;
		}
		switch (keyword(w0)) {
		case KW_IFACE:
			in_physical = ifname_is_physical(text_word(line, len, 1, w1, sizeof(w1)));
			break;
		case KW_LIST:
			in_physical = false;
			filter_list_line(&o, line, len);
			continue;
		case KW_OTHER:
			in_physical = false;
			break;
		case KW_NONE:  /* an option line of the current stanza */
			break;
		}
		if (in_physical)
			comment_out(&o, line, len);
		else
			fprintf(o.f, "%.*s\n", (int)len, line);
	}
	if (add_eth0) {
		const char *ip = spec->ip;
		fputs("\n# The container's network device (written by ct-import)\nauto eth0\n", o.f);
		if (!ip || !strcmp(ip, "dhcp"))
			fputs("iface eth0 inet dhcp\n", o.f);
		else if (!strcmp(ip, "manual"))
			fputs("iface eth0 inet manual\n", o.f);
		else {
			fprintf(o.f, "iface eth0 inet static\n\taddress %s\n", ip);
			if (spec->gw)
				fprintf(o.f, "\tgateway %s\n", spec->gw);
		}
		o.changed = true;
	}
	return text_out_finish(&o);
}

char *fixup_interfaces_text(const char *interfaces, const struct ct_spec *spec,
			    enum ct_backend backend)
{
	/* Proxmox writes eth0 at every start; LXC without a bridge has no eth0. */
	return interfaces_text(interfaces, spec, backend == BACKEND_LXC && spec->bridge);
}

char *fixup_interfaces_d_text(const char *interfaces)
{
	return interfaces_text(interfaces, NULL, false);
}

/* ---- inittab, hosts ---- */

char *fixup_inittab_text(const char *inittab)
{
	struct text_out o;
	if (!text_out_open(&o))
		return NULL;
	TEXT_EACH_LINE(inittab, line, len) {
		const char *p = line;
		while (p < line + len && isspace((unsigned char)*p))
			p++;
		/* id:runlevels:action:process: a getty on ttyS in the process field. */
		bool serial = p < line + len && *p != '#' && memmem(line, len, "ttyS", 4);
		if (serial)
			comment_out(&o, line, len);
		else
			fprintf(o.f, "%.*s\n", (int)len, line);
	}
	return text_out_finish(&o);
}

char *fixup_hosts_text(const char *hosts, const char *hostname)
{
	struct text_out o;
	if (!text_out_open(&o))
		return NULL;
	char want[300];
	snprintf(want, sizeof(want), "127.0.1.1\t%s", hostname);
	bool found = false;
	TEXT_EACH_LINE(hosts, line, len) {
		char w0[64];
		text_word(line, len, 0, w0, sizeof(w0));
		if (!strcmp(w0, "127.0.1.1") && !found) {
			found = true;
			if (len != strlen(want) || memcmp(line, want, len))
				o.changed = true;
			fprintf(o.f, "%s\n", want);
		} else {
			fprintf(o.f, "%.*s\n", (int)len, line);
		}
	}
	if (!found) {
		fprintf(o.f, "%s\n", want);
		o.changed = true;
	}
	return text_out_finish(&o);
}

/* ---- eth0 for the LXC backend ---- */

static bool ip_is_static(const char *ip)
{
	return ip && strcmp(ip, "dhcp") && strcmp(ip, "manual");
}

char *eth0_netplan_text(const struct ct_spec *spec)
{
	char *s = NULL;
	int n;
	if (!ip_is_static(spec->ip))
		n = asprintf(&s, "# The container's network device (written by ct-import)\n"
				 "network:\n  version: 2\n  ethernets:\n    eth0:\n"
				 "      dhcp4: true\n");
	else
		n = asprintf(&s, "# The container's network device (written by ct-import)\n"
				 "network:\n  version: 2\n  ethernets:\n    eth0:\n"
				 "      addresses: [\"%s\"]\n%s%s%s",
			     spec->ip, spec->gw ? "      routes:\n        - to: default\n          via: \"" : "",
			     spec->gw ? spec->gw : "", spec->gw ? "\"\n" : "");
	return n < 0 ? NULL : s;
}

char *eth0_ifcfg_text(const struct ct_spec *spec)
{
	char *s = NULL;
	int n;
	if (!ip_is_static(spec->ip)) {
		n = asprintf(&s, "# The container's network device (written by ct-import)\n"
				 "DEVICE=eth0\nNAME=eth0\nTYPE=Ethernet\nONBOOT=yes\nBOOTPROTO=%s\n",
			     spec->ip && !strcmp(spec->ip, "manual") ? "none" : "dhcp");
	} else {
		const char *slash = strchr(spec->ip, '/');
		int alen = slash ? (int)(slash - spec->ip) : (int)strlen(spec->ip);
		n = asprintf(&s, "# The container's network device (written by ct-import)\n"
				 "DEVICE=eth0\nNAME=eth0\nTYPE=Ethernet\nONBOOT=yes\nBOOTPROTO=none\n"
				 "IPADDR=%.*s\n%s%s%s%s%s%s",
			     alen, spec->ip, slash ? "PREFIX=" : "", slash ? slash + 1 : "",
			     slash ? "\n" : "", spec->gw ? "GATEWAY=" : "", spec->gw ? spec->gw : "",
			     spec->gw ? "\n" : "");
	}
	return n < 0 ? NULL : s;
}

char *resolv_conf_text(const struct ct_spec *spec)
{
	if (!spec->nameserver && !spec->searchdomain)
		return NULL;
	struct text_out o;
	if (!text_out_open(&o))
		return NULL;
	o.changed = true;
	fputs("# Written by ct-import\n", o.f);
	if (spec->searchdomain)
		fprintf(o.f, "search %s\n", spec->searchdomain);
	if (spec->nameserver) {
		/* Proxmox takes a space-separated list; accept commas too. */
		_cleanup_free_ char *list = strdup(spec->nameserver);
		char *save = NULL;
		for (char *ns = list ? strtok_r(list, " ,", &save) : NULL; ns;
		     ns = strtok_r(NULL, " ,", &save))
			fprintf(o.f, "nameserver %s\n", ns);
	}
	return text_out_finish(&o);
}
