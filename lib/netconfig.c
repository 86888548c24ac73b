#include "netconfig.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void net_config_free(struct net_config *n)
{
	free(n->iface);
	free(n->ip);
	free(n->gw);
	free(n->nameserver);
	free(n->searchdomain);
	*n = (struct net_config){ 0 };
}

void netcfg_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static int score(const struct net_config *n)
{
	return (n->gw ? 2 : 0) + (n->ip ? 1 : 0);
}

void netcfg_take_better(struct net_config *best, struct net_config *cand)
{
	if (!best->iface && !best->ip && !best->gw && score(cand) >= score(best)) {
		/* best is empty, but it may carry DNS found elsewhere */
		if (!cand->nameserver) { cand->nameserver = best->nameserver; best->nameserver = NULL; }
		if (!cand->searchdomain) { cand->searchdomain = best->searchdomain; best->searchdomain = NULL; }
		net_config_free(best);
		*best = *cand;
		*cand = (struct net_config){ 0 };
		return;
	}
	if (score(cand) > score(best)) {
		struct net_config t = *best;
		*best = *cand;
		*cand = t;
	}
	/* DNS is system-wide: keep it even when it came with the other interface. */
	if (!best->nameserver) { best->nameserver = cand->nameserver; cand->nameserver = NULL; }
	if (!best->searchdomain) { best->searchdomain = cand->searchdomain; cand->searchdomain = NULL; }
	net_config_free(cand);
}

/* Append n bytes of word to a space-separated list unless already there. */
static int append_word(char **list, const char *word, size_t n)
{
	if (n == 0)
		return 0;
	if (*list) {
		for (const char *p = *list; *p;) {
			size_t l = strcspn(p, " ");
			if (l == n && !strncmp(p, word, n))
				return 0;
			p += l;
			while (*p == ' ')
				p++;
		}
	}
	char *s;
	if (asprintf(&s, "%s%s%.*s", *list ? *list : "", *list ? " " : "", (int)n, word) < 0)
		return -ENOMEM;
	free(*list);
	*list = s;
	return 0;
}

/* Append every word of words (separated by blanks, commas or semicolons). */
static int append_words(char **list, const char *words)
{
	for (const char *p = words; *p;) {
		p += strspn(p, " \t,;");
		size_t n = strcspn(p, " \t,;");
		if (append_word(list, p, n) < 0)
			return -ENOMEM;
		p += n;
	}
	return 0;
}

static int set_str(char **dst, const char *s)
{
	char *d = strdup(s);
	if (!d)
		return -ENOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

int netmask_to_prefix(const char *mask)
{
	uint64_t v;
	if (!strchr(mask, '.'))
		return parse_u64(mask, 0, 128, &v) == 0 ? (int)v : -1;
	struct in_addr a;
	if (inet_pton(AF_INET, mask, &a) != 1)
		return -1;
	uint32_t m = ntohl(a.s_addr);
	int bits = 0;
	while (bits < 32 && (m & (0x80000000u >> bits)))
		bits++;
	/* A netmask's ones must be contiguous. */
	if (bits < 32 && (m << bits))
		return -1;
	return bits;
}

/* "ADDR/PREFIX" from an address that may carry its prefix and a separate
 * netmask; IPv4 without either gets the classful default, as ifconfig did. */
static char *make_cidr(const char *addr, const char *mask)
{
	char *s = NULL;
	if (strchr(addr, '/'))
		return strdup(addr);
	int prefix = mask ? netmask_to_prefix(mask) : -1;
	if (prefix < 0) {
		struct in_addr a;
		if (inet_pton(AF_INET, addr, &a) == 1) {
			unsigned first = ntohl(a.s_addr) >> 24;
			prefix = first < 128 ? 8 : first < 192 ? 16 : 24;
		} else {
			prefix = 64;
		}
	}
	if (asprintf(&s, "%s/%d", addr, prefix) < 0)
		return NULL;
	return s;
}

/* Split text into lines in a modifiable copy; callers walk with next_line. */
static char *next_line(char **cursor)
{
	char *line = *cursor;
	if (!line || !*line)
		return NULL;
	char *nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		*cursor = nl + 1;
	} else {
		*cursor = line + strlen(line);
	}
	size_t l = strlen(line);
	if (l && line[l - 1] == '\r')
		line[l - 1] = '\0';
	return line;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t l = strlen(s);
	while (l && isspace((unsigned char)s[l - 1]))
		s[--l] = '\0';
	return s;
}

/* ---- ifupdown ---- */

struct ifu_iface {
	char *name;
	char *method;
	bool inet6;
	char *address, *netmask, *gw, *dns, *search;
};

static void ifu_free(struct ifu_iface *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name); free(v[i].method); free(v[i].address); free(v[i].netmask);
		free(v[i].gw); free(v[i].dns); free(v[i].search);
	}
	free(v);
}

static bool is_stanza_word(const char *w)
{
	return !strcmp(w, "iface") || !strcmp(w, "auto") || !strcmp(w, "mapping") ||
	       !strncmp(w, "allow-", 6) || !strcmp(w, "source") ||
	       !strcmp(w, "source-directory") || !strcmp(w, "rename") || !strcmp(w, "no-auto-down") ||
	       !strcmp(w, "no-scripts");
}

/* Join continuation lines ("\" at the end) and drop comments in place. */
static void ifu_logical_lines(char *buf)
{
	char *w = buf;
	for (char *r = buf; *r; r++) {
		if (*r == '\\' && r[1] == '\n') {
			r++;
			*w++ = ' ';
			continue;
		}
		*w++ = *r;
	}
	*w = '\0';
}

static int ifu_collect(const char *text, struct ifu_iface **out, size_t *count)
{
	_cleanup_free_ char *buf = strdup(text);
	if (!buf)
		return -ENOMEM;
	ifu_logical_lines(buf);
	struct ifu_iface *v = NULL, *cur = NULL;
	size_t n = 0;
	char *cursor = buf, *line;
	int rc = 0;
	while ((line = next_line(&cursor))) {
		line = trim(line);
		if (!*line || *line == '#')
			continue;
		char *save = NULL;
		char *word = strtok_r(line, " \t", &save);
		char *rest = save ? trim(save) : (char *)"";
		if (is_stanza_word(word)) {
			cur = NULL;
			if (strcmp(word, "iface"))
				continue;
			char *name = strtok_r(NULL, " \t", &save);
			char *fam = strtok_r(NULL, " \t", &save);
			char *method = strtok_r(NULL, " \t", &save);
			if (!name || !fam || !method)
				continue;
			if (strcmp(fam, "inet") && strcmp(fam, "inet6"))
				continue;
			struct ifu_iface *nv = realloc(v, (n + 1) * sizeof(*v));
			if (!nv) { rc = -ENOMEM; break; }
			v = nv;
			cur = &v[n++];
			*cur = (struct ifu_iface){ .name = strdup(name), .method = strdup(method),
						   .inet6 = !strcmp(fam, "inet6") };
			if (!cur->name || !cur->method) { rc = -ENOMEM; break; }
			continue;
		}
		if (!cur)
			continue;
		char **dst = NULL;
		bool list = false;
		if (!strcmp(word, "address"))
			dst = &cur->address;
		else if (!strcmp(word, "netmask"))
			dst = &cur->netmask;
		else if (!strcmp(word, "gateway"))
			dst = &cur->gw;
		else if (!strcmp(word, "dns-nameservers") || !strcmp(word, "dns-nameserver"))
			dst = &cur->dns, list = true;
		else if (!strcmp(word, "dns-search") || !strcmp(word, "dns-domain"))
			dst = &cur->search, list = true;
		if (!dst || !*rest)
			continue;
		if (list) {
			rc = append_words(dst, rest);
		} else if (!*dst) {
			/* Only the first address of a stanza is the primary one. */
			char *first = strtok_r(rest, " \t", &save);
			rc = set_str(dst, first);
		}
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		ifu_free(v, n);
		return rc;
	}
	*out = v;
	*count = n;
	return 0;
}

static int ifu_to_net(const struct ifu_iface *f, struct net_config *out)
{
	*out = (struct net_config){ 0 };
	if (!(out->iface = strdup(f->name)))
		return -ENOMEM;
	if (!strcmp(f->method, "dhcp") || !strcmp(f->method, "auto"))
		out->ip = strdup("dhcp");
	else if (!strcmp(f->method, "static") && f->address) {
		out->ip = make_cidr(f->address, f->netmask);
		if (f->gw)
			out->gw = strdup(f->gw);
	}
	if (f->dns)
		out->nameserver = strdup(f->dns);
	if (f->search)
		out->searchdomain = strdup(f->search);
	return 0;
}

int netcfg_parse_ifupdown(const char *text, struct net_config *out)
{
	struct ifu_iface *v = NULL;
	size_t n = 0;
	int rc = ifu_collect(text, &v, &n);
	if (rc < 0)
		return rc;
	*out = (struct net_config){ 0 };
	/* IPv4 stanzas first; IPv6 only when there is no IPv4 configuration. */
	for (int pass = 0; pass < 2 && !out->ip; pass++) {
		for (size_t i = 0; i < n; i++) {
			if (v[i].inet6 != (pass == 1) || !strcmp(v[i].name, "lo") ||
			    !strcmp(v[i].method, "loopback") || !strcmp(v[i].method, "manual"))
				continue;
			struct net_config cand;
			if (ifu_to_net(&v[i], &cand) < 0) {
				net_config_free(&cand);
				rc = -ENOMEM;
				break;
			}
			netcfg_take_better(out, &cand);
		}
	}
	/* DNS options may sit in any stanza, including loopback or manual ones. */
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!out->nameserver && v[i].dns)
			rc = set_str(&out->nameserver, v[i].dns);
		if (!out->searchdomain && v[i].search && rc == 0)
			rc = set_str(&out->searchdomain, v[i].search);
	}
	ifu_free(v, n);
	return rc;
}

char **netcfg_ifupdown_sources(const char *text)
{
	_cleanup_free_ char *buf = strdup(text);
	if (!buf)
		return NULL;
	ifu_logical_lines(buf);
	char **v = NULL;
	size_t n = 0;
	char *cursor = buf, *line;
	while ((line = next_line(&cursor))) {
		line = trim(line);
		char *save = NULL;
		char *word = strtok_r(line, " \t", &save);
		if (!word || (strcmp(word, "source") && strcmp(word, "source-directory")))
			continue;
		bool dir = !strcmp(word, "source-directory");
		for (char *arg; (arg = strtok_r(NULL, " \t", &save));) {
			char **nv = realloc(v, (n + 2) * sizeof(*v));
			if (!nv)
				break;
			v = nv;
			if (asprintf(&v[n], "%s%s", arg, dir ? "/*" : "") < 0)
				break;
			v[++n] = NULL;
		}
	}
	return v;
}

/* ---- shell-style KEY=value files (ifcfg, sysconfig/network) ---- */

static char *shell_value(const char *text, const char *key)
{
	/* os-release has the same syntax; reuse its reader via a local copy. */
	size_t klen = strlen(key);
	char *found = NULL;
	_cleanup_free_ char *buf = strdup(text);
	if (!buf)
		return NULL;
	char *cursor = buf, *line;
	while ((line = next_line(&cursor))) {
		line = trim(line);
		if (!strncmp(line, "export ", 7))
			line = trim(line + 7);
		if (strncmp(line, key, klen) || line[klen] != '=')
			continue;
		char *v = line + klen + 1, *o = v;
		char q = 0;
		for (char *r = v; *r; r++) {
			if (!q && (*r == '"' || *r == '\'')) { q = *r; continue; }
			if (q && *r == q) { q = 0; continue; }
			if (!q && (*r == '#' || *r == ' ' || *r == '\t'))
				break;
			*o++ = *r;
		}
		*o = '\0';
		free(found);
		found = strdup(v);
	}
	if (found && !*found) {
		free(found);
		found = NULL;
	}
	return found;
}

char *hostname_from_sysconfig(const char *text) { return shell_value(text, "HOSTNAME"); }
char *gateway_from_sysconfig(const char *text) { return shell_value(text, "GATEWAY"); }

char *hostname_from_etc_hostname(const char *text)
{
	_cleanup_free_ char *buf = strdup(text);
	if (!buf)
		return NULL;
	char *cursor = buf, *line;
	while ((line = next_line(&cursor))) {
		line = trim(line);
		if (*line && *line != '#') {
			line[strcspn(line, " \t#")] = '\0';
			return strdup(line);
		}
	}
	return NULL;
}

static bool truthy(const char *v)
{
	return v && (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on") ||
		     !strcmp(v, "1"));
}

int netcfg_parse_ifcfg(const char *file_name, const char *text, struct net_config *out)
{
	*out = (struct net_config){ 0 };
	_cleanup_free_ char *dev = shell_value(text, "DEVICE");
	_cleanup_free_ char *boot = shell_value(text, "BOOTPROTO");
	_cleanup_free_ char *onboot = shell_value(text, "ONBOOT");
	_cleanup_free_ char *addr = shell_value(text, "IPADDR");
	_cleanup_free_ char *prefix = shell_value(text, "PREFIX");
	_cleanup_free_ char *mask = shell_value(text, "NETMASK");
	_cleanup_free_ char *gw = shell_value(text, "GATEWAY");
	_cleanup_free_ char *domain = shell_value(text, "DOMAIN");
	if (!addr) {
		addr = shell_value(text, "IPADDR0");
		free(prefix); prefix = shell_value(text, "PREFIX0");
		free(mask); mask = shell_value(text, "NETMASK0");
	}
	if (!gw)
		gw = shell_value(text, "GATEWAY0");
	/* An empty DEVICE= names nothing: fall back to the file name as when absent. */
	const char *name = dev && *dev ? dev : NULL;
	if (!name && file_name)
		name = strncmp(file_name, "ifcfg-", 6) ? file_name : file_name + 6;
	if (!name || !*name || !strcmp(name, "lo"))
		return 0;
	/* An interface that is not brought up at boot is not the primary one. */
	if (onboot && !truthy(onboot))
		return 0;
	if (!(out->iface = strdup(name)))
		return -ENOMEM;
	if (boot && (!strcasecmp(boot, "dhcp") || !strcasecmp(boot, "bootp"))) {
		out->ip = strdup("dhcp");
	} else if (addr) {
		out->ip = make_cidr(addr, prefix ? prefix : mask);
		if (gw)
			out->gw = strdup(gw);
	}
	static const char *const dns_keys[] = { "DNS1", "DNS2", "DNS3" };
	for (size_t i = 0; i < ARRAY_SIZE(dns_keys); i++) {
		_cleanup_free_ char *d = shell_value(text, dns_keys[i]);
		if (d && append_words(&out->nameserver, d) < 0)
			return -ENOMEM;
	}
	if (domain && append_words(&out->searchdomain, domain) < 0)
		return -ENOMEM;
	return 0;
}

/* ---- NetworkManager keyfile (INI) ---- */

int netcfg_parse_nmconnection(const char *text, struct net_config *out)
{
	*out = (struct net_config){ 0 };
	_cleanup_free_ char *buf = strdup(text);
	if (!buf)
		return -ENOMEM;
	char section[32] = "";
	char *id = NULL, *ifname = NULL, *type = NULL, *method = NULL, *addr = NULL, *gw = NULL;
	int rc = 0;
	char *cursor = buf, *line;
	while ((line = next_line(&cursor)) && rc == 0) {
		line = trim(line);
		if (!*line || *line == '#' || *line == ';')
			continue;
		if (*line == '[') {
			snprintf(section, sizeof(section), "%.*s", (int)strcspn(line + 1, "]"), line + 1);
			continue;
		}
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		char *key = trim(line), *val = trim(eq + 1);
		if (!strcmp(section, "connection")) {
			if (!strcmp(key, "id")) id = val;
			else if (!strcmp(key, "interface-name")) ifname = val;
			else if (!strcmp(key, "type")) type = val;
		} else if (!strcmp(section, "ipv4")) {
			if (!strcmp(key, "method")) method = val;
			else if (!strcmp(key, "gateway")) gw = val;
			else if (!strcmp(key, "dns")) rc = append_words(&out->nameserver, val);
			else if (!strcmp(key, "dns-search")) rc = append_words(&out->searchdomain, val);
			else if ((!strcmp(key, "address1") || !strcmp(key, "addresses1") ||
				  !strcmp(key, "address") || !strcmp(key, "addresses")) && !addr)
				addr = val;
		}
	}
	if (rc < 0)
		return rc;
	/* An empty interface-name binds no interface: as if it were absent. */
	const char *name = ifname && *ifname ? ifname : id;
	if (!name || !*name || (type && !strcmp(type, "loopback")) || !strcmp(name, "lo"))
		return 0;
	if (!(out->iface = strdup(name)))
		return -ENOMEM;
	if (method && !strcmp(method, "auto")) {
		out->ip = strdup("dhcp");
	} else if (method && !strcmp(method, "manual") && addr) {
		/* "ADDR/PREFIX,GATEWAY" or "ADDR/PREFIX;" (older keyfiles). */
		char *a = strtok_r(addr, ",;", &cursor);
		char *g = strtok_r(NULL, ",;", &cursor);
		if (a)
			out->ip = make_cidr(trim(a), NULL);
		if (!gw && g && *trim(g))
			gw = trim(g);
		if (gw)
			out->gw = strdup(gw);
	}
	return 0;
}

/* ---- resolv.conf ---- */

int netcfg_parse_resolv(const char *text, char **nameserver, char **search)
{
	*nameserver = *search = NULL;
	_cleanup_free_ char *buf = strdup(text);
	if (!buf)
		return -ENOMEM;
	char *cursor = buf, *line;
	while ((line = next_line(&cursor))) {
		line = trim(line);
		char *save = NULL;
		char *word = strtok_r(line, " \t", &save);
		if (!word || *word == '#' || *word == ';')
			continue;
		char *rest = save ? trim(save) : (char *)"";
		rest[strcspn(rest, "#;")] = '\0';
		if (!strcmp(word, "nameserver")) {
			char *addr = strtok_r(rest, " \t", &save);
			if (addr && append_word(nameserver, addr, strlen(addr)) < 0)
				return -ENOMEM;
		} else if (!strcmp(word, "search") || !strcmp(word, "domain")) {
			/* The last search or domain line wins, as in the resolver. */
			free(*search);
			*search = NULL;
			if (append_words(search, rest) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

int netcfg_fill_fallbacks(struct net_config *net, char **hostname, const char *sysnet,
			  const char *resolv, const char *etc_hostname)
{
	int rc = 0;
	if (sysnet && net->ip && strcmp(net->ip, "dhcp") && !net->gw)
		net->gw = gateway_from_sysconfig(sysnet);
	if (resolv && (!net->nameserver || !net->searchdomain)) {
		char *ns = NULL, *search = NULL;
		rc = netcfg_parse_resolv(resolv, &ns, &search);
		if (!net->nameserver) { net->nameserver = ns; ns = NULL; }
		if (!net->searchdomain) { net->searchdomain = search; search = NULL; }
		free(ns);
		free(search);
	}
	if (!*hostname && etc_hostname)
		*hostname = hostname_from_etc_hostname(etc_hostname);
	if (!*hostname && sysnet)
		*hostname = hostname_from_sysconfig(sysnet);
	return rc;
}
