/* template_inspect: what a template archive says about its server, read in
 * one streaming pass without unpacking (a second pass only when /bin/sh
 * resolves to a file outside the usual bin directories). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "netconfig.h"
#include "osinfo.h"
#include "template_info.h"
#include "util.h"

enum { HDR_MAX = 64, TEXT_MAX = 256 * 1024, MAX_HOPS = 40 };

/* What we keep of one member: link targets (to resolve paths the way the
 * container will see them), the start of executables, small config texts. */
struct member {
	char *path;       /* normalised: no leading "./" or "/", no trailing "/" */
	char *link;       /* symlink target as stored, or hard link's member path */
	bool hard;
	size_t hdr_len;
	uint8_t hdr[HDR_MAX];
	char *text;
};

struct walk {
	struct member *m;
	size_t n, cap;
	uint64_t used;
};

/* Texts kept for the parsers; matched with fnmatch(FNM_PATHNAME). */
static const char *const text_globs[] = {
	"etc/os-release", "usr/lib/os-release", "etc/hostname", "etc/sysconfig/network",
	"etc/network/*", "etc/network/*/*", "etc/netplan/*.yaml",
	"etc/sysconfig/network-scripts/ifcfg-*", "etc/NetworkManager/system-connections/*",
	"etc/resolv.conf", "etc/devuan_version", "etc/lsb-release", "etc/debian_version",
	"etc/fedora-release", "etc/centos-release", "etc/redhat-release", "etc/SuSE-release",
	"etc/arch-release", "etc/alpine-release", "etc/gentoo-release", NULL,
};

static void normalise(char *p)
{
	char *s = p;
	for (;;) {
		if (s[0] == '.' && s[1] == '/')
			s += 2;
		else if (s[0] == '/')
			s++;
		else
			break;
	}
	if (!strcmp(s, "."))
		s += 1;
	memmove(p, s, strlen(s) + 1);
	size_t l = strlen(p);
	while (l && p[l - 1] == '/')
		p[--l] = '\0';
}

static bool wants_text(const char *path)
{
	for (size_t i = 0; text_globs[i]; i++)
		if (!fnmatch(text_globs[i], path, FNM_PATHNAME))
			return true;
	return false;
}

/* Executables where /bin/sh's target normally lives. */
static bool wants_header(const char *path, mode_t mode)
{
	if (!(mode & 0111))
		return false;
	return !strncmp(path, "bin/", 4) || !strncmp(path, "usr/bin/", 8) ||
	       !strncmp(path, "sbin/", 5) || !strncmp(path, "usr/sbin/", 9) ||
	       !strncmp(path, "usr/libexec/", 12);
}

static struct member *find(const struct walk *w, const char *path)
{
	/* The last member of a name wins, as when the archive is unpacked. */
	for (size_t i = w->n; i-- > 0;)
		if (!strcmp(w->m[i].path, path))
			return &w->m[i];
	return NULL;
}

static struct member *add(struct walk *w, const char *path)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		struct member *m = realloc(w->m, cap * sizeof(*m));
		if (!m)
			return NULL;
		w->m = m;
		w->cap = cap;
	}
	struct member *m = &w->m[w->n];
	*m = (struct member){ .path = strdup(path) };
	if (!m->path)
		return NULL;
	w->n++;
	return m;
}

static void walk_free(struct walk *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->m[i].path);
		free(w->m[i].link);
		free(w->m[i].text);
	}
	free(w->m);
}

static int open_archive(const char *path, struct archive **out)
{
	struct archive *a = archive_read_new();
	if (!a)
		return -ENOMEM;
	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	if (archive_read_open_filename(a, path, 64 * 1024) != ARCHIVE_OK) {
		int e = archive_errno(a);
		log_error("cannot open template %s: %s", path, archive_error_string(a));
		archive_read_free(a);
		return e > 0 ? -e : -EIO;
	}
	*out = a;
	return 0;
}

static ssize_t read_up_to(struct archive *a, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		la_ssize_t r = archive_read_data(a, (char *)buf + done, len - done);
		if (r < 0)
			return -EIO;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

static int read_member(struct archive *a, struct archive_entry *e, struct walk *w, const char *path)
{
	const char *hl = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	if (hl || type == AE_IFLNK) {
		struct member *m = add(w, path);
		if (!m)
			return -ENOMEM;
		m->hard = hl != NULL;
		m->link = strdup(hl ? hl : archive_entry_symlink(e) ? archive_entry_symlink(e) : "");
		if (!m->link)
			return -ENOMEM;
		if (m->hard)
			normalise(m->link);
		return 0;
	}
	if (type != AE_IFREG)
		return 0;
	int64_t size = archive_entry_size(e);
	if (size > 0)
		w->used += ((uint64_t)size + 4095) & ~(uint64_t)4095;
	bool text = wants_text(path) && size <= TEXT_MAX;
	bool hdr = wants_header(path, archive_entry_perm(e));
	if (!text && !hdr)
		return 0;
	struct member *m = add(w, path);
	if (!m)
		return -ENOMEM;
	if (text) {
		m->text = malloc((size_t)(size > 0 ? size : 0) + 1);
		if (!m->text)
			return -ENOMEM;
		ssize_t r = read_up_to(a, m->text, (size_t)(size > 0 ? size : 0));
		if (r < 0)
			return (int)r;
		m->text[r] = '\0';
		m->hdr_len = (size_t)(r < HDR_MAX ? r : HDR_MAX);
		memcpy(m->hdr, m->text, m->hdr_len);
	} else {
		ssize_t r = read_up_to(a, m->hdr, HDR_MAX);
		if (r < 0)
			return (int)r;
		m->hdr_len = (size_t)r;
	}
	return 0;
}

static int walk_archive(const char *path, struct walk *w)
{
	struct archive *a;
	int rc = open_archive(path, &a);
	if (rc < 0)
		return rc;
	struct archive_entry *e;
	for (;;) {
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r == ARCHIVE_WARN) {
			log_debug("%s: %s", path, archive_error_string(a));
		} else if (r != ARCHIVE_OK) {
			log_error("reading template %s: %s", path, archive_error_string(a));
			rc = -EIO;
			break;
		}
		const char *name = archive_entry_pathname(e);
		if (!name)
			continue;
		_cleanup_free_ char *p = strdup(name);
		if (!p) {
			rc = -ENOMEM;
			break;
		}
		normalise(p);
		rc = read_member(a, e, w, p);
		if (rc == -EIO)
			log_error("reading %s in template %s: %s", p, path, archive_error_string(a));
		if (rc < 0)
			break;
	}
	archive_read_free(a);
	return rc;
}

/* Resolve path inside the archive's tree as the container would: symlinks in
 * every component, absolute targets from the archive's root, ".." clamped at
 * the root. The result is malloc'd; NULL on a loop or out of memory. */
static char *resolve(const struct walk *w, const char *path)
{
	char *result = calloc(1, 1);
	char *rest = strdup(path);
	int hops = 0;
	while (result && rest && *rest) {
		char *slash = strchr(rest, '/');
		size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
		char *tail = slash ? slash + 1 : rest + n;
		char comp[256];
		if (n >= sizeof(comp))
			break;
		memcpy(comp, rest, n);
		comp[n] = '\0';
		if (!n || !strcmp(comp, ".")) {
			memmove(rest, tail, strlen(tail) + 1);
			continue;
		}
		if (!strcmp(comp, "..")) {
			char *up = strrchr(result, '/');
			*(up ? up : result) = '\0';
			memmove(rest, tail, strlen(tail) + 1);
			continue;
		}
		char *cand;
		if (asprintf(&cand, "%s%s%s", result, *result ? "/" : "", comp) < 0)
			cand = NULL;
		const struct member *m = cand ? find(w, cand) : NULL;
		char *next = NULL;
		if (m && m->link && !m->hard) {
			if (++hops > MAX_HOPS) {
				free(cand);
				break;
			}
			if (m->link[0] == '/')
				result[0] = '\0';
			if (asprintf(&next, "%s/%s", m->link, tail) < 0)
				next = NULL;
			free(cand);
		} else if (m && m->hard) {
			free(result);
			result = strdup(m->link);
			free(cand);
			next = strdup(tail);
		} else {
			free(result);
			result = cand;
			next = strdup(tail);
		}
		free(rest);
		rest = next;
	}
	bool ok = result && rest && !*rest;
	free(rest);
	if (!ok) {
		free(result);
		return NULL;
	}
	return result;
}

static const struct member *lookup(const struct walk *w, const char *path)
{
	_cleanup_free_ char *r = resolve(w, path);
	return r ? find(w, r) : NULL;
}

static const char *text_of(const struct walk *w, const char *path)
{
	const struct member *m = lookup(w, path);
	return m ? m->text : NULL;
}

/* Second pass: the first bytes of one member (when /bin/sh's target was not
 * where wants_header looked). */
static int header_of(const char *archive_path, const char *member, uint8_t *hdr, size_t *len)
{
	struct archive *a;
	int rc = open_archive(archive_path, &a);
	if (rc < 0)
		return rc;
	struct archive_entry *e;
	rc = -ENOENT;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		_cleanup_free_ char *p = strdup(archive_entry_pathname(e) ?: "");
		if (!p) {
			rc = -ENOMEM;
			break;
		}
		normalise(p);
		if (strcmp(p, member) || archive_entry_filetype(e) != AE_IFREG)
			continue;
		ssize_t r = read_up_to(a, hdr, HDR_MAX);
		rc = r < 0 ? (int)r : 0;
		*len = r < 0 ? 0 : (size_t)r;
		break;
	}
	archive_read_free(a);
	return rc;
}

static int detect_arch(const char *archive_path, const struct walk *w, struct template_info *info)
{
	_cleanup_free_ char *sh = resolve(w, "bin/sh");
	if (!sh)
		return 0;
	const struct member *m = find(w, sh);
	uint8_t buf[HDR_MAX];
	size_t len = 0;
	if (m && m->hdr_len) {
		memcpy(buf, m->hdr, m->hdr_len);
		len = m->hdr_len;
	} else if (header_of(archive_path, sh, buf, &len) < 0) {
		return 0;
	}
	const char *arch = arch_from_elf(buf, len);
	if (arch && !(info->arch = strdup(arch)))
		return -ENOMEM;
	return 0;
}

static int detect_os(const struct walk *w, struct template_info *info)
{
	const char *osr = text_of(w, "etc/os-release");
	if (!osr)
		osr = text_of(w, "usr/lib/os-release");
	const char *type = NULL;
	if (osr) {
		info->os_id = os_release_value(osr, "ID");
		info->os_pretty = os_release_value(osr, "PRETTY_NAME");
		type = ostype_from_os_release(osr);
	}
	for (size_t i = 0; !type && osinfo_release_files[i]; i++) {
		char p[64];
		snprintf(p, sizeof(p), "etc/%s", osinfo_release_files[i]);
		const char *t = text_of(w, p);
		if (t)
			type = ostype_from_release_file(osinfo_release_files[i], t);
	}
	info->ostype = strdup(type ? type : "unmanaged");
	return info->ostype ? 0 : -ENOMEM;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The members (with text) matching one of globs, sorted by path. */
static const char **matching(const struct walk *w, char *const *globs, size_t *count)
{
	const char **v = calloc(w->n + 1, sizeof(*v));
	size_t n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < w->n; i++) {
		if (!w->m[i].text)
			continue;
		for (size_t g = 0; globs[g]; g++) {
			if (!fnmatch(globs[g], w->m[i].path, FNM_PATHNAME)) {
				v[n++] = w->m[i].path;
				break;
			}
		}
	}
	qsort(v, n, sizeof(*v), cmp_str);
	*count = n;
	return v;
}

/* /etc/network/interfaces and the files its source lines name. */
static int parse_ifupdown(const struct walk *w, struct net_config *out)
{
	const char *main_text = text_of(w, "etc/network/interfaces");
	if (!main_text)
		return 0;
	char **src = netcfg_ifupdown_sources(main_text);
	size_t ns = 0;
	while (src && src[ns])
		ns++;
	/* Relative source paths are relative to /etc/network. */
	char **globs = calloc(ns + 1, sizeof(*globs));
	int rc = globs ? 0 : -ENOMEM;
	for (size_t i = 0; i < ns && rc == 0; i++) {
		const char *s = src[i];
		if (s[0] == '/')
			rc = asprintf(&globs[i], "%s", s + 1) < 0 ? -ENOMEM : 0;
		else
			rc = asprintf(&globs[i], "etc/network/%s", s) < 0 ? -ENOMEM : 0;
	}
	char *all = NULL;
	if (rc == 0 && !(all = strdup(main_text)))
		rc = -ENOMEM;
	size_t n = 0;
	const char **files = rc == 0 ? matching(w, globs, &n) : NULL;
	for (size_t i = 0; files && i < n; i++) {
		char *t;
		if (asprintf(&t, "%s\n%s", all, find(w, files[i])->text) < 0) {
			rc = -ENOMEM;
			break;
		}
		free(all);
		all = t;
	}
	if (rc == 0)
		rc = netcfg_parse_ifupdown(all, out);
	free(files);
	free(all);
	netcfg_strv_free(globs);
	netcfg_strv_free(src);
	return rc;
}

typedef int (*file_parser)(const char *name, const char *text, struct net_config *out);

static int p_netplan(const char *name, const char *text, struct net_config *out)
{
	(void)name;
	return netcfg_parse_netplan(text, out);
}

static int p_ifcfg(const char *name, const char *text, struct net_config *out)
{
	const char *base = strrchr(name, '/');
	return netcfg_parse_ifcfg(base ? base + 1 : name, text, out);
}

static int p_nm(const char *name, const char *text, struct net_config *out)
{
	(void)name;
	return netcfg_parse_nmconnection(text, out);
}

static int parse_each(const struct walk *w, const char *glob, file_parser fn, struct net_config *best)
{
	char *globs[] = { (char *)glob, NULL };
	size_t n = 0;
	const char **files = matching(w, globs, &n);
	if (!files)
		return -ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct net_config c = { 0 };
		rc = fn(files[i], find(w, files[i])->text, &c);
		netcfg_take_better(best, &c);
	}
	free(files);
	return rc;
}

static int detect_net(const struct walk *w, struct template_info *info)
{
	struct net_config *net = &info->net;
	struct net_config c = { 0 };
	int rc = parse_ifupdown(w, &c);
	netcfg_take_better(net, &c);
	if (rc == 0)
		rc = parse_each(w, "etc/netplan/*.yaml", p_netplan, net);
	if (rc == 0)
		rc = parse_each(w, "etc/sysconfig/network-scripts/ifcfg-*", p_ifcfg, net);
	if (rc == 0)
		rc = parse_each(w, "etc/NetworkManager/system-connections/*", p_nm, net);
	if (rc < 0)
		return rc;
	return netcfg_fill_fallbacks(net, &info->hostname, text_of(w, "etc/sysconfig/network"),
				     text_of(w, "etc/resolv.conf"), text_of(w, "etc/hostname"));
}

int template_inspect(const char *path, struct template_info *info)
{
	*info = (struct template_info){ 0 };
	struct walk w = { 0 };
	int rc = walk_archive(path, &w);
	if (rc == 0)
		rc = detect_os(&w, info);
	if (rc == 0)
		rc = detect_arch(path, &w, info);
	if (rc == 0)
		rc = detect_net(&w, info);
	info->used_bytes = w.used;
	walk_free(&w);
	if (rc == -ENOMEM)
		log_error("out of memory inspecting %s", path);
	if (rc < 0)
		template_info_free(info);
	return rc;
}

void template_info_free(struct template_info *info)
{
	free(info->os_id);
	free(info->os_pretty);
	free(info->ostype);
	free(info->arch);
	free(info->hostname);
	net_config_free(&info->net);
	*info = (struct template_info){ 0 };
}
