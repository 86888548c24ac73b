/* netplan YAML, read with a small indentation-based reader that covers what
 * netplan files use: nested block mappings, block and flow sequences, and
 * sequences of mappings (routes). Anchors and multi-line scalars are not
 * used by netplan and are not supported. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netconfig.h"

struct np_iface {
	char *name;
	char *addr4, *addr6;
	bool dhcp4, dhcp6;
	char *gw4, *gw6;
	char *dns, *search;
	char *route_to, *route_via;   /* the routes item being read */
};

struct np_level {
	int indent;
	char key[64];     /* "-" for a sequence item */
	bool open;        /* "key:" with its value in the following lines */
};

struct np_state {
	struct np_level stack[16];
	int depth;
	struct np_iface *ifs;
	size_t n;
};

static char *np_trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t l = strlen(s);
	while (l && isspace((unsigned char)s[l - 1]))
		s[--l] = '\0';
	return s;
}

/* Remove surrounding quotes from a scalar in place. */
static char *np_scalar(char *s)
{
	s = np_trim(s);
	size_t l = strlen(s);
	if (l >= 2 && (s[0] == '"' || s[0] == '\'') && s[l - 1] == s[0]) {
		s[l - 1] = '\0';
		s++;
	}
	return s;
}

/* Strip a comment: '#' at the start or after a blank, outside quotes. */
static void np_strip_comment(char *s)
{
	char q = 0;
	for (char *p = s; *p; p++) {
		if (!q && (*p == '"' || *p == '\''))
			q = *p;
		else if (q && *p == q)
			q = 0;
		else if (!q && *p == '#' && (p == s || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			return;
		}
	}
}

static int np_append(char **list, const char *word)
{
	if (!*word)
		return 0;
	char *s;
	if (asprintf(&s, "%s%s%s", *list ? *list : "", *list ? " " : "", word) < 0)
		return -ENOMEM;
	free(*list);
	*list = s;
	return 0;
}

static struct np_iface *np_iface(struct np_state *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->ifs[i].name, name))
			return &st->ifs[i];
	struct np_iface *v = realloc(st->ifs, (st->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	st->ifs = v;
	v[st->n] = (struct np_iface){ .name = strdup(name) };
	if (!v[st->n].name)
		return NULL;
	return &v[st->n++];
}

static bool np_is_default(const char *to)
{
	return !strcmp(to, "default") || !strcmp(to, "0.0.0.0/0") || !strcmp(to, "::/0");
}

static int np_set(char **dst, const char *v)
{
	char *d = strdup(v);
	if (!d)
		return -ENOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

static int np_route_check(struct np_iface *f)
{
	if (!f->route_to || !f->route_via || !np_is_default(f->route_to))
		return 0;
	bool v6 = strchr(f->route_via, ':') != NULL;
	char **dst = v6 ? &f->gw6 : &f->gw4;
	return *dst ? 0 : np_set(dst, f->route_via);
}

/* One scalar value at the current path (stack + key). */
static int np_value(struct np_state *st, const char *key, char *value)
{
	/* network / <device type> / <iface> / ... */
	if (st->depth < 3 || strcmp(st->stack[0].key, "network"))
		return 0;
	const char *type = st->stack[1].key;
	if (strcmp(type, "ethernets") && strcmp(type, "bonds") && strcmp(type, "bridges") &&
	    strcmp(type, "vlans") && strcmp(type, "wifis"))
		return 0;
	struct np_iface *f = np_iface(st, st->stack[2].key);
	if (!f)
		return -ENOMEM;
	value = np_scalar(value);
	const char *k3 = st->depth > 3 ? st->stack[3].key : key;
	int d = st->depth;
	if (d == 3 && !strcmp(key, "dhcp4"))
		f->dhcp4 = !strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "on");
	else if (d == 3 && !strcmp(key, "dhcp6"))
		f->dhcp6 = !strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "on");
	else if (d == 3 && !strcmp(key, "gateway4"))
		return np_set(&f->gw4, value);
	else if (d == 3 && !strcmp(key, "gateway6"))
		return np_set(&f->gw6, value);
	else if (d == 4 && !strcmp(k3, "addresses") && !*key) {
		char **dst = strchr(value, ':') ? &f->addr6 : &f->addr4;
		return *dst ? 0 : np_set(dst, value);
	} else if (d == 5 && !strcmp(k3, "routes") && !strcmp(st->stack[4].key, "-")) {
		if (!strcmp(key, "to"))
			return np_set(&f->route_to, value) ?: np_route_check(f);
		if (!strcmp(key, "via"))
			return np_set(&f->route_via, value) ?: np_route_check(f);
	} else if (d == 5 && !strcmp(k3, "nameservers") && !*key) {
		const char *k4 = st->stack[4].key;
		if (!strcmp(k4, "addresses"))
			return np_append(&f->dns, value);
		if (!strcmp(k4, "search"))
			return np_append(&f->search, value);
	}
	return 0;
}

/* A value that is a scalar or a flow sequence "[a, b]". */
static int np_values(struct np_state *st, const char *key, char *value)
{
	value = np_trim(value);
	size_t l = strlen(value);
	if (value[0] != '[' || value[l - 1] != ']')
		return np_value(st, key, value);
	value[l - 1] = '\0';
	/* Items of a flow sequence are values of key itself. */
	if (st->depth >= 16)
		return 0;
	struct np_level *lv = &st->stack[st->depth++];
	*lv = (struct np_level){ .indent = 1 << 20 };
	snprintf(lv->key, sizeof(lv->key), "%s", key);
	int rc = 0;
	char *save = NULL;
	for (char *it = strtok_r(value + 1, ",", &save); it && rc == 0; it = strtok_r(NULL, ",", &save))
		rc = np_value(st, "", it);
	st->depth--;
	return rc;
}

static int np_push(struct np_state *st, int indent, const char *key, bool open)
{
	if (st->depth >= 16)
		return 0;
	struct np_level *lv = &st->stack[st->depth++];
	*lv = (struct np_level){ .indent = indent, .open = open };
	snprintf(lv->key, sizeof(lv->key), "%s", key);
	return 0;
}

/* The colon that ends a mapping key (followed by a blank or the end,
 * outside quotes), or NULL for a plain scalar such as "fe80::1/64". */
static char *np_key_colon(char *content)
{
	char q = 0;
	for (char *p = content; *p; p++) {
		if (!q && (*p == '"' || *p == '\''))
			q = *p;
		else if (q && *p == q)
			q = 0;
		else if (!q && *p == ':' && (p[1] == '\0' || isspace((unsigned char)p[1])))
			return p;
	}
	return NULL;
}

/* "key: value" or "key:" at column indent. */
static int np_mapping(struct np_state *st, int indent, char *content)
{
	char *colon = np_key_colon(content);
	if (!colon)
		return np_value(st, "", content);
	*colon = '\0';
	char *key = np_scalar(content), *value = np_trim(colon + 1);
	if (!*value)
		return np_push(st, indent, key, true);
	return np_values(st, key, value);
}

static int np_line(struct np_state *st, char *line)
{
	np_strip_comment(line);
	int indent = 0;
	while (line[indent] == ' ')
		indent++;
	char *content = np_trim(line + indent);
	if (!*content || !strcmp(content, "---"))
		return 0;
	bool item = content[0] == '-' && (content[1] == '\0' || content[1] == ' ');
	/* Leave the levels this line is not inside; a sequence may sit at the
	 * same column as the key that owns it. */
	while (st->depth) {
		struct np_level *top = &st->stack[st->depth - 1];
		if (top->indent < indent || (item && top->indent == indent && top->open))
			break;
		st->depth--;
	}
	if (!item)
		return np_mapping(st, indent, content);
	char *rest = content + 1;
	int col = indent + 1;
	while (*rest == ' ')
		rest++, col++;
	np_push(st, indent, "-", false);
	if (st->depth >= 4 && !strcmp(st->stack[st->depth - 2].key, "routes")) {
		/* A new route item: forget the previous item's to/via. */
		struct np_iface *f = st->depth >= 3 ? np_iface(st, st->stack[2].key) : NULL;
		if (f) {
			free(f->route_to); free(f->route_via);
			f->route_to = f->route_via = NULL;
		}
	}
	if (!*rest)
		return 0;
	/* The item's own scalar belongs to the sequence's key, not to "-". */
	if (!np_key_colon(rest)) {
		st->depth--;
		int rc = np_value(st, "", rest);
		np_push(st, indent, "-", false);
		return rc;
	}
	return np_mapping(st, col, rest);
}

static void np_free(struct np_state *st)
{
	for (size_t i = 0; i < st->n; i++) {
		struct np_iface *f = &st->ifs[i];
		free(f->name); free(f->addr4); free(f->addr6); free(f->gw4); free(f->gw6);
		free(f->dns); free(f->search); free(f->route_to); free(f->route_via);
	}
	free(st->ifs);
}

int netcfg_parse_netplan(const char *text, struct net_config *out)
{
	*out = (struct net_config){ 0 };
	struct np_state st = { 0 };
	char *buf = strdup(text);
	if (!buf)
		return -ENOMEM;
	int rc = 0;
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save)) {
		size_t l = strlen(line);
		if (l && line[l - 1] == '\r')
			line[l - 1] = '\0';
		rc = np_line(&st, line);
	}
	free(buf);
	for (size_t i = 0; i < st.n && rc == 0; i++) {
		struct np_iface *f = &st.ifs[i];
		if (!*f->name || !strcmp(f->name, "lo"))   /* an empty key names no interface */
			continue;
		struct net_config c = { 0 };
		/* IPv4 first: a Proxmox net0 carries one ip= (ip6= is separate). */
		const char *ip = f->addr4 ? f->addr4 : f->dhcp4 ? "dhcp" : f->addr6 ? f->addr6 : NULL;
		const char *gw = f->addr4 ? f->gw4 : f->addr6 && !f->dhcp4 ? f->gw6 : NULL;
		c.iface = strdup(f->name);
		c.ip = ip ? strdup(ip) : NULL;
		c.gw = gw ? strdup(gw) : NULL;
		c.nameserver = f->dns ? strdup(f->dns) : NULL;
		c.searchdomain = f->search ? strdup(f->search) : NULL;
		if (!c.iface || (ip && !c.ip) || (gw && !c.gw))
			rc = -ENOMEM;
		netcfg_take_better(out, &c);
	}
	np_free(&st);
	return rc;
}
