/* dmraid / external-metadata md teardown: graph, plan, collection, removal.
 * See dmraid_teardown.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libdevmapper.h>
#include <linux/major.h>
#include <linux/raid/md_u.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dmraid_teardown.h"
#include "fakeraid_active.h"
#include "log.h"
#include "util.h"

bool dmt_is_dmraid_map(const char *name, const char *uuid)
{
	/* A uuid is authoritative: LVM-…, CRYPT-…, mpath-… are not dmraid's. */
	if (uuid && *uuid)
		return fr_dm_uuid_is_dmraid(uuid);
	return fr_dm_name_is_dmraid(name);
}

/* Container or volume inside one; with the volume's container name. */
static bool md_classify(const char *metadata, char *container, size_t size)
{
	struct fr_md_array a;
	container[0] = '\0';
	if (!metadata || fr_md_parse_metadata_version(metadata, &a) < 0)
		return false;
	if (a.kind == FR_MD_MEMBER)
		snprintf(container, size, "%s", a.container);
	return fr_md_is_fakeraid(&a);
}

bool dmt_md_is_external(const char *metadata_version)
{
	return metadata_version && !strncmp(metadata_version, "external:", 9);
}

int dmt_graph_add(struct dmt_graph *g, enum dmt_kind kind, const char *name,
		  const char *uuid, const char *metadata, struct dmt_devno dev,
		  const struct dmt_devno *deps, size_t n_deps)
{
	struct dmt_node *nodes = realloc(g->nodes, (g->n + 1) * sizeof(*nodes));
	if (!nodes)
		return -ENOMEM;
	g->nodes = nodes;
	struct dmt_node *nd = &nodes[g->n];
	*nd = (struct dmt_node){ .kind = kind, .dev = dev };
	nd->name = strdup(name);
	nd->uuid = strdup(uuid ? uuid : "");
	nd->metadata = strdup(metadata ? metadata : "");
	nd->deps = calloc(n_deps ? n_deps : 1, sizeof(*nd->deps));
	if (!nd->name || !nd->uuid || !nd->metadata || !nd->deps) {
		free(nd->name); free(nd->uuid); free(nd->metadata); free(nd->deps);
		return -ENOMEM;
	}
	/* Multi-segment tables name a device more than once. */
	for (size_t i = 0; i < n_deps; i++) {
		bool seen = false;
		for (size_t j = 0; j < nd->n_deps; j++)
			if (nd->deps[j].major == deps[i].major && nd->deps[j].minor == deps[i].minor)
				seen = true;
		if (!seen)
			nd->deps[nd->n_deps++] = deps[i];
	}
	char container[32];
	nd->fakeraid = kind == DMT_DM ? dmt_is_dmraid_map(name, uuid)
				      : md_classify(metadata, container, sizeof(container));
	g->n++;
	return 0;
}

void dmt_graph_free(struct dmt_graph *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->nodes[i].name);
		free(g->nodes[i].uuid);
		free(g->nodes[i].metadata);
		free(g->nodes[i].deps);
	}
	free(g->nodes);
	g->nodes = NULL;
	g->n = 0;
}

const struct dmt_node *dmt_graph_find(const struct dmt_graph *g, struct dmt_devno dev)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->nodes[i].dev.major == dev.major && g->nodes[i].dev.minor == dev.minor)
			return &g->nodes[i];
	return NULL;
}

static bool parse_uint(const char *s, size_t len, unsigned *out)
{
	if (!len || len > 9)
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* "8:16" as a whole token. */
static bool parse_devno_token(const char *tok, size_t len, struct dmt_devno *d)
{
	const char *colon = memchr(tok, ':', len);
	return colon && parse_uint(tok, (size_t)(colon - tok), &d->major) &&
	       parse_uint(colon + 1, len - (size_t)(colon - tok) - 1, &d->minor);
}

/* The references on one `dmsetup table` or `dmsetup deps` line after the
 * "name:" prefix, appended to *deps. */
static int line_refs(const char *rest, struct dmt_devno **deps, size_t *n)
{
	bool deps_format = strstr(rest, "dependencies") != NULL;
	const char *p = rest;
	while (*p) {
		struct dmt_devno d;
		bool found = false;
		if (deps_format) {
			/* "(8, 16)" */
			p = strchr(p, '(');
			if (!p)
				break;
			unsigned a, b;
			int used = 0;
			if (sscanf(p, "(%u, %u)%n", &a, &b, &used) == 2 && used > 0) {
				d = (struct dmt_devno){ a, b };
				found = true;
				p += used;
			} else {
				p++;
			}
		} else {
			p += strspn(p, " \t");
			size_t len = strcspn(p, " \t");
			if (!len)
				break;
			found = parse_devno_token(p, len, &d);
			p += len;
		}
		if (found) {
			struct dmt_devno *nd = realloc(*deps, (*n + 1) * sizeof(**deps));
			if (!nd)
				return -ENOMEM;
			*deps = nd;
			(*deps)[(*n)++] = d;
		}
	}
	return 0;
}

int dmt_parse_dmsetup(const char *info, const char *table_or_deps, struct dmt_graph *g)
{
	_cleanup_free_ char *copy = strdup(info);
	if (!copy)
		return -ENOMEM;
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[256], uuid[256] = "";
		unsigned major, minor;
		int n = sscanf(line, "%255s %u %u %255s", name, &major, &minor, uuid);
		if (n < 3) {
			log_error("dmsetup info: cannot parse '%s'", line);
			return -EINVAL;
		}
		/* Every table (or deps) line of this device names what it sits on. */
		_cleanup_free_ struct dmt_devno *deps = NULL;
		size_t n_deps = 0;
		size_t name_len = strlen(name);
		for (const char *l = table_or_deps; l && *l;) {
			size_t len = strcspn(l, "\n");
			if (len > name_len + 1 && !strncmp(l, name, name_len) && l[name_len] == ':') {
				_cleanup_free_ char *rest = strndup(l + name_len + 1, len - name_len - 1);
				if (!rest)
					return -ENOMEM;
				/* Skip a table line's start, length and target type. */
				char *args = rest;
				if (!strstr(rest, "dependencies"))
					for (int field = 0; field < 3 && args; field++) {
						args += strspn(args, " \t");
						args += strcspn(args, " \t");
					}
				int rc = line_refs(args, &deps, &n_deps);
				if (rc < 0)
					return rc;
			}
			l += len;
			if (*l)
				l++;
		}
		int rc = dmt_graph_add(g, DMT_DM, name, uuid, NULL,
				       (struct dmt_devno){ major, minor }, deps, n_deps);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int dmt_plan(const struct dmt_graph *g, size_t **order, size_t *n_order)
{
	*order = NULL;
	*n_order = 0;
	if (!g->n)
		return 0;
	_cleanup_free_ bool *in = calloc(g->n, sizeof(*in));
	_cleanup_free_ bool *done = calloc(g->n, sizeof(*done));
	_cleanup_free_ size_t *holders = calloc(g->n, sizeof(*holders));
	_cleanup_free_ size_t *out = calloc(g->n, sizeof(*out));
	if (!in || !done || !holders || !out)
		return -ENOMEM;
	for (size_t i = 0; i < g->n; i++)
		in[i] = g->nodes[i].fakeraid;
	/* Whatever is stacked on a removed device must go first, transitively. */
	for (bool grew = true; grew;) {
		grew = false;
		for (size_t i = 0; i < g->n; i++) {
			if (in[i])
				continue;
			for (size_t k = 0; k < g->nodes[i].n_deps; k++) {
				const struct dmt_node *d = dmt_graph_find(g, g->nodes[i].deps[k]);
				if (d && in[d - g->nodes]) {
					in[i] = grew = true;
					break;
				}
			}
		}
	}
	for (size_t i = 0; i < g->n; i++) {
		const struct dmt_node *nd = &g->nodes[i];
		if (in[i] && nd->kind == DMT_MD && !dmt_md_is_external(nd->metadata)) {
			log_error("md array %s (metadata %s) is built on a BIOS RAID device; stopping it "
				  "would write its superblock: stop it yourself if that is intended",
				  nd->name, *nd->metadata ? nd->metadata : "unknown");
			return -EPERM;
		}
		if (!in[i])
			continue;
		for (size_t k = 0; k < nd->n_deps; k++) {
			const struct dmt_node *d = dmt_graph_find(g, nd->deps[k]);
			if (d && in[d - g->nodes])
				holders[d - g->nodes]++;
		}
	}
	/* Kahn's algorithm from the top of the stack down; ties in input order. */
	size_t n = 0, want = 0;
	for (size_t i = 0; i < g->n; i++)
		want += in[i];
	while (n < want) {
		size_t pick = g->n;
		for (size_t i = 0; i < g->n && pick == g->n; i++)
			if (in[i] && !done[i] && !holders[i])
				pick = i;
		if (pick == g->n) {
			log_error("device stack has a cycle; not removing anything");
			return -ELOOP;
		}
		done[pick] = true;
		out[n++] = pick;
		const struct dmt_node *nd = &g->nodes[pick];
		for (size_t k = 0; k < nd->n_deps; k++) {
			const struct dmt_node *d = dmt_graph_find(g, nd->deps[k]);
			if (d && in[d - g->nodes])
				holders[d - g->nodes]--;
		}
	}
	*order = out;
	out = NULL;
	*n_order = n;
	return 0;
}

/* libdevmapper's own messages are detail: our caller logs the failure. */
__attribute__((format(printf, 5, 6)))
static void dmt_libdm_log(int level, const char *file, int line, int dm_errno_or_class,
		      const char *fmt, ...)
{
	(void)level; (void)file; (void)line; (void)dm_errno_or_class;
	if (log_get_level() < LOG_DEBUG)
		return;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_debug("libdevmapper: %s", buf);
}

static bool dm_present(void)
{
	_cleanup_free_ char *misc = NULL;
	size_t len;
	if (read_file("/proc/misc", 1 << 16, &misc, &len) < 0)
		return false;
	return strstr(misc, " device-mapper\n") != NULL;
}

static int dm_errno(struct dm_task *dmt)
{
	int e = dm_task_get_errno(dmt);
	return e > 0 ? e : EIO;
}

/* Name, uuid, open count and deps of one dm device. */
static int dm_collect_one(struct dmt_graph *g, const char *name, dev_t dev)
{
	struct dm_task *info = dm_task_create(DM_DEVICE_INFO);
	struct dm_task *deps = dm_task_create(DM_DEVICE_DEPS);
	/* Declared before the first goto: its cleanup runs at every exit. */
	_cleanup_free_ struct dmt_devno *refs = NULL;
	int rc = 0;
	if (!info || !deps) {
		rc = -ENOMEM;
		goto out;
	}
	struct dm_info di;
	if (!dm_task_set_name(info, name) || !dm_task_run(info) || !dm_task_get_info(info, &di) ||
	    !dm_task_set_name(deps, name) || !dm_task_run(deps)) {
		rc = -dm_errno(info);
		log_error("device-mapper: cannot query %s: %s", name, strerror(-rc));
		goto out;
	}
	if (!di.exists)
		goto out;   /* removed meanwhile */
	struct dm_deps *dd = dm_task_get_deps(deps);
	size_t n = dd ? dd->count : 0;
	refs = calloc(n ? n : 1, sizeof(*refs));
	if (!refs) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		refs[i] = (struct dmt_devno){ major(dd->device[i]), minor(dd->device[i]) };
	rc = dmt_graph_add(g, DMT_DM, name, dm_task_get_uuid(info), NULL,
			   (struct dmt_devno){ major(dev), minor(dev) }, refs, n);
	if (rc == 0)
		g->nodes[g->n - 1].open_count = (unsigned)di.open_count;
out:
	if (info)
		dm_task_destroy(info);
	if (deps)
		dm_task_destroy(deps);
	return rc;
}

int dmt_collect_dm(struct dmt_graph *g)
{
	if (!dm_present())
		return -ENODEV;
	dm_log_with_errno_init(dmt_libdm_log);
	struct dm_task *dmt = dm_task_create(DM_DEVICE_LIST);
	if (!dmt)
		return -ENOMEM;
	int rc = 0;
	if (!dm_task_run(dmt)) {
		rc = -dm_errno(dmt);
		log_error("device-mapper: cannot list devices: %s", strerror(-rc));
		goto out;
	}
	struct dm_names *names = dm_task_get_names(dmt);
	if (!names || !names->dev)
		goto out;
	for (;;) {
		rc = dm_collect_one(g, names->name, (dev_t)names->dev);
		if (rc < 0 || !names->next)
			break;
		names = (struct dm_names *)((char *)names + names->next);
	}
out:
	dm_task_destroy(dmt);
	return rc;
}

/* snprintf for paths: -ENAMETOOLONG instead of a silently cut name. */
__attribute__((format(printf, 3, 4)))
static int pathf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* "9:126\n" in a sysfs dev file. */
static int read_devno(const char *path, struct dmt_devno *d)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int rc = read_file(path, 64, &text, &len);
	if (rc < 0)
		return rc;
	return sscanf(text, "%u:%u", &d->major, &d->minor) == 2 ? 0 : -EINVAL;
}

static int devno_push(struct dmt_devno **deps, size_t *n, struct dmt_devno d)
{
	struct dmt_devno *nd = realloc(*deps, (*n + 1) * sizeof(**deps));
	if (!nd)
		return -ENOMEM;
	*deps = nd;
	nd[(*n)++] = d;
	return 0;
}

static int md_collect_one(const char *sysfs, const char *name, struct dmt_graph *g)
{
	char path[4096], dpath[4096];
	_cleanup_free_ char *metadata = NULL;
	size_t len;
	struct dmt_devno dev, d;
	if (pathf(path, sizeof(path), "%s/block/%s/dev", sysfs, name) < 0 ||
	    read_devno(path, &dev) < 0)
		return 0;
	if (pathf(path, sizeof(path), "%s/block/%s/md/metadata_version", sysfs, name) < 0 ||
	    read_file(path, 256, &metadata, &len) < 0)
		return 0;   /* not (or no longer) an md array */
	metadata[strcspn(metadata, "\n")] = '\0';

	_cleanup_free_ struct dmt_devno *deps = NULL;
	size_t n = 0;
	int rc = 0;
	if (pathf(path, sizeof(path), "%s/block/%s/slaves", sysfs, name) < 0)
		return -ENAMETOOLONG;
	DIR *dir = opendir(path);
	for (struct dirent *e; dir && rc == 0 && (e = readdir(dir));)
		if (e->d_name[0] != '.' &&
		    pathf(dpath, sizeof(dpath), "%s/%s/dev", path, e->d_name) == 0 &&
		    read_devno(dpath, &d) == 0)
			rc = devno_push(&deps, &n, d);
	if (dir)
		closedir(dir);
	/* A volume depends on its container as well as on the disks. */
	char container[32];
	md_classify(metadata, container, sizeof(container));
	if (rc == 0 && container[0] &&
	    pathf(path, sizeof(path), "%s/block/%s/dev", sysfs, container) == 0 &&
	    read_devno(path, &d) == 0)
		rc = devno_push(&deps, &n, d);
	if (rc < 0)
		return rc;
	return dmt_graph_add(g, DMT_MD, name, NULL, metadata, dev, deps, n);
}

int dmt_collect_md(const char *sysfs, struct dmt_graph *g)
{
	char path[4096];
	if (pathf(path, sizeof(path), "%s/block", sysfs) < 0)
		return -ENAMETOOLONG;
	DIR *dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	int rc = 0;
	for (struct dirent *e; (e = readdir(dir));)
		if (!strncmp(e->d_name, "md", 2) && (rc = md_collect_one(sysfs, e->d_name, g)) < 0)
			break;
	closedir(dir);
	return rc;
}

int dmt_remove_dm(const char *name)
{
	dm_log_with_errno_init(dmt_libdm_log);
	/* Without udev (a rescue system), nobody would answer a cookie:
	 * libdevmapper then removes the /dev/mapper node itself. */
	bool udev = access("/run/udev/control", F_OK) == 0;
	if (!udev)
		dm_udev_set_sync_support(0);
	struct dm_task *dmt = dm_task_create(DM_DEVICE_REMOVE);
	if (!dmt)
		return -ENOMEM;
	uint32_t cookie = 0;
	bool wait = false;
	int rc = 0;
	if (!dm_task_set_name(dmt, name)) {
		rc = -ENOMEM;
		goto out;
	}
	if (udev) {
		/* udev's probes may hold the device open for a moment. */
		dm_task_retry_remove(dmt);
		if (dm_udev_get_sync_support())
			wait = dm_task_set_cookie(dmt, &cookie, 0);
	}
	if (!dm_task_run(dmt)) {
		rc = -dm_errno(dmt);
		log_error("device-mapper: cannot remove %s: %s%s", name, strerror(-rc),
			  rc == -EBUSY ? " (still open: mounted, or in use by a program)" : "");
	}
	if (wait)
		dm_udev_wait(cookie);
	dm_task_update_nodes();
out:
	dm_task_destroy(dmt);
	return rc;
}

int dmt_stop_md(const char *devdir, const char *name)
{
	char path[4096];
	if (pathf(path, sizeof(path), "%s/%s", devdir, name) < 0)
		return -ENAMETOOLONG;
	/* Read-only: stopping needs no write access to the array. */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		log_error("md: cannot open %s: %s", path, strerror(e));
		return -e;
	}
	if (ioctl(fd, STOP_ARRAY, NULL) < 0) {
		int e = errno;
		log_error("md: cannot stop %s: %s%s", path, strerror(e),
			  e == EBUSY ? " (still open: mounted, or a volume of this container runs)" : "");
		return -e;
	}
	return 0;
}

int dmt_execute(const struct dmt_graph *g, const size_t *order, size_t n_order,
		const char *devdir, FILE *out)
{
	for (size_t i = 0; i < n_order; i++) {
		const struct dmt_node *nd = &g->nodes[order[i]];
		int rc = nd->kind == DMT_DM ? dmt_remove_dm(nd->name) : dmt_stop_md(devdir, nd->name);
		if (rc < 0) {
			fprintf(out, "failed  %s %s\n", nd->kind == DMT_DM ? "dm" : "md", nd->name);
			return rc;
		}
		fprintf(out, "%s %s %s\n", nd->kind == DMT_DM ? "removed" : "stopped",
			nd->kind == DMT_DM ? "dm" : "md", nd->name);
	}
	return 0;
}
