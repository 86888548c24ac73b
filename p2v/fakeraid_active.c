/* Assembled fake-RAID sets: dmraid maps through libdevmapper, imsm/ddf
 * containers through sysfs. The classifiers and the table parser are pure
 * so they are tested on canned text; this host has neither dm nor md. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libdevmapper.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fakeraid_active.h"
#include "log.h"
#include "util.h"

static const char *const dmraid_prefixes[] = {
	"isw_", "pdc_", "nvidia_", "sil_", "via_", "jmicron_", "asr_", "ddf1_",
	"hpt37x_", "hpt45x_", "lsi_",
};

bool fr_dm_name_is_dmraid(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(dmraid_prefixes); i++) {
		size_t n = strlen(dmraid_prefixes[i]);
		if (!strncmp(name, dmraid_prefixes[i], n) && isalnum((unsigned char)name[n]))
			return true;
	}
	return false;
}

bool fr_dm_uuid_is_dmraid(const char *uuid)
{
	if (!uuid)
		return false;
	/* kpartx names partition maps "partN-" + the parent's uuid */
	if (!strncmp(uuid, "part", 4) && isdigit((unsigned char)uuid[4])) {
		const char *p = uuid + 4;
		while (isdigit((unsigned char)*p))
			p++;
		if (*p == '-')
			uuid = p + 1;
	}
	return !strncmp(uuid, "DMRAID-", 7) && uuid[7];
}

bool fr_dm_map_is_dmraid(const struct fr_dm_map *m)
{
	return m->uuid[0] ? fr_dm_uuid_is_dmraid(m->uuid) : fr_dm_name_is_dmraid(m->name);
}

static void add_target(struct fr_dm_map *m, const char *type, size_t len)
{
	for (size_t i = 0; i < m->n_targets; i++)
		if (strlen(m->targets[i]) == len && !strncmp(m->targets[i], type, len))
			return;
	if (m->n_targets < FR_DM_MAX_TARGETS && len < sizeof(m->targets[0])) {
		memcpy(m->targets[m->n_targets], type, len);
		m->targets[m->n_targets++][len] = '\0';
	}
}

int fr_dm_parse_table(const char *text, struct fr_dm_map **out)
{
	struct fr_dm_map *maps = NULL;
	size_t n = 0;
	*out = NULL;
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *next = end ? end + 1 : NULL;
		if (len == 0 || !strncmp(line, "No devices found", 16)) {
			line = next;
			continue;
		}
		/* "NAME: START LENGTH TARGET [ARGS]"; a name may hold spaces, the
		 * separator is the last ": " before the numbers. */
		const char *colon = NULL;
		for (const char *p = line; p + 1 < line + len; p++)
			if (p[0] == ':' && p[1] == ' ' && isdigit((unsigned char)p[2]))
				colon = p;
		unsigned long long start, length;
		char target[32];
		int used = 0;
		if (!colon || colon == line || (size_t)(colon - line) >= sizeof(maps->name) ||
		    sscanf(colon + 1, " %llu %llu %31s%n", &start, &length, target, &used) != 3 ||
		    colon + 1 + used > line + len) {
			log_warn("dmsetup table: cannot parse '%.*s'", (int)len, line);
			free(maps);
			return -EINVAL;
		}
		size_t nlen = (size_t)(colon - line);
		if (!n || strlen(maps[n - 1].name) != nlen || strncmp(maps[n - 1].name, line, nlen)) {
			struct fr_dm_map *more = realloc(maps, (n + 1) * sizeof(*maps));
			if (!more) {
				free(maps);
				return -ENOMEM;
			}
			maps = more;
			memset(&maps[n], 0, sizeof(maps[n]));
			memcpy(maps[n].name, line, nlen);
			n++;
		}
		add_target(&maps[n - 1], target, strlen(target));
		line = next;
	}
	*out = maps;
	return (int)n;
}

int fr_md_parse_metadata_version(const char *text, struct fr_md_array *a)
{
	size_t len = strcspn(text, "\r\n");
	a->kind = FR_MD_NATIVE;
	a->format[0] = a->container[0] = a->subarray[0] = '\0';
	if (!len)
		return -EINVAL;
	if (strncmp(text, "external:", 9))
		return 0;
	const char *v = text + 9;
	size_t vlen = len - 9;
	/* A member array: "external:/md127/0"; '-' instead of '/' while mdmon
	 * has it blocked. */
	if (vlen > 1 && (v[0] == '/' || v[0] == '-')) {
		const char *slash = memchr(v + 1, '/', vlen - 1);
		size_t clen = slash ? (size_t)(slash - v - 1) : 0;
		size_t slen = slash ? vlen - (size_t)(slash - v) - 1 : 0;
		if (!slash || !clen || clen >= sizeof(a->container) || !slen ||
		    slen >= sizeof(a->subarray)) {
			a->kind = FR_MD_OTHER_EXTERNAL;
			return 0;
		}
		a->kind = FR_MD_MEMBER;
		memcpy(a->container, v + 1, clen);
		a->container[clen] = '\0';
		memcpy(a->subarray, slash + 1, slen);
		a->subarray[slen] = '\0';
		return 0;
	}
	if ((vlen == 4 && !strncmp(v, "imsm", 4)) || (vlen == 3 && !strncmp(v, "ddf", 3))) {
		a->kind = FR_MD_CONTAINER;
		memcpy(a->format, v, vlen);
		a->format[vlen] = '\0';
		return 0;
	}
	a->kind = FR_MD_OTHER_EXTERNAL;
	return 0;
}

bool fr_md_is_fakeraid(const struct fr_md_array *a)
{
	return a->kind == FR_MD_CONTAINER || a->kind == FR_MD_MEMBER;
}

void fr_active_free(struct fr_active *a)
{
	free(a->dm);
	free(a->md);
	memset(a, 0, sizeof(*a));
}

static int scan_md(const char *sysfs, struct fr_active *out)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/block", sysfs);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "md", 2) || strlen(e->d_name) >= sizeof(out->md->name))
			continue;
		_cleanup_free_ char *text = NULL;
		snprintf(path, sizeof(path), "%s/block/%s/md/metadata_version", sysfs, e->d_name);
		if (read_file(path, 256, &text, NULL) < 0)
			continue;
		struct fr_md_array a = { 0 };
		if (fr_md_parse_metadata_version(text, &a) < 0 || !fr_md_is_fakeraid(&a))
			continue;
		memcpy(a.name, e->d_name, strlen(e->d_name) + 1);  /* length checked above */
		struct fr_md_array *more = realloc(out->md, (out->n_md + 1) * sizeof(*more));
		if (!more) {
			rc = -ENOMEM;
			break;
		}
		out->md = more;
		out->md[out->n_md++] = a;
	}
	closedir(d);
	return rc;
}

static void dm_quiet(int level, const char *file, int line, int dm_errno, const char *f, ...)
{
	(void)level, (void)file, (void)line, (void)dm_errno, (void)f;
}

/* Fill uuid, targets and deps of one named map. */
static void dm_describe(struct fr_dm_map *m)
{
	struct dm_task *t = dm_task_create(DM_DEVICE_TABLE);
	if (t && dm_task_set_name(t, m->name) && dm_task_run(t)) {
		const char *uuid = dm_task_get_uuid(t);
		snprintf(m->uuid, sizeof(m->uuid), "%s", uuid ? uuid : "");
		void *next = NULL;
		do {
			uint64_t start, length;
			char *type = NULL, *params = NULL;
			next = dm_get_next_target(t, next, &start, &length, &type, &params);
			if (type)
				add_target(m, type, strlen(type));
		} while (next);
	}
	if (t)
		dm_task_destroy(t);
	t = dm_task_create(DM_DEVICE_DEPS);
	if (t && dm_task_set_name(t, m->name) && dm_task_run(t)) {
		struct dm_deps *deps = dm_task_get_deps(t);
		for (uint32_t i = 0; deps && i < deps->count && m->n_deps < FR_DM_MAX_DEPS; i++)
			m->deps[m->n_deps++] = (dev_t)deps->device[i];
	}
	if (t)
		dm_task_destroy(t);
}

static int scan_dm(const char *sysfs, struct fr_active *out)
{
	/* Without the driver there are no maps, and asking libdevmapper would
	 * make it try to load dm-mod. */
	char path[4096];
	snprintf(path, sizeof(path), "%s/class/misc/device-mapper", sysfs);
	if (access(path, F_OK) < 0)
		return 0;
	dm_log_with_errno_init(dm_quiet);
	struct dm_task *t = dm_task_create(DM_DEVICE_LIST);
	int rc = 0;
	if (!t || !dm_task_run(t)) {
		log_warn("device-mapper: cannot list maps; assuming none are active");
		goto out;
	}
	struct dm_names *names = dm_task_get_names(t);
	if (!names || !names->dev)
		goto out;
	for (unsigned next = 0;; next = names->next) {
		names = (struct dm_names *)((char *)names + next);
		struct fr_dm_map m = { .dev = (dev_t)names->dev };
		snprintf(m.name, sizeof(m.name), "%s", names->name);
		dm_describe(&m);
		if (fr_dm_map_is_dmraid(&m)) {
			struct fr_dm_map *more = realloc(out->dm, (out->n_dm + 1) * sizeof(*more));
			if (!more) {
				rc = -ENOMEM;
				goto out;
			}
			out->dm = more;
			out->dm[out->n_dm++] = m;
		}
		if (!names->next)
			break;
	}
out:
	if (t)
		dm_task_destroy(t);
	dm_log_with_errno_init(NULL);
	return rc;
}

int fr_active_scan(const char *sysfs, struct fr_active *out)
{
	memset(out, 0, sizeof(*out));
	int rc = scan_dm(sysfs, out);
	if (rc == 0)
		rc = scan_md(sysfs, out);
	if (rc < 0) {
		log_error("scanning active RAID sets: %s", strerror(-rc));
		fr_active_free(out);
	}
	return rc;
}

static bool block_is_assembled_one(const char *sysfs, const char *name)
{
	char path[4096];
	_cleanup_free_ char *text = NULL;
	snprintf(path, sizeof(path), "%s/class/block/%s/dm/uuid", sysfs, name);
	if (read_file(path, 512, &text, NULL) == 0) {
		text[strcspn(text, "\n")] = '\0';
		if (fr_dm_uuid_is_dmraid(text))
			return true;
		if (!text[0]) {
			free(text);
			text = NULL;
			snprintf(path, sizeof(path), "%s/class/block/%s/dm/name", sysfs, name);
			if (read_file(path, 512, &text, NULL) == 0) {
				text[strcspn(text, "\n")] = '\0';
				return fr_dm_name_is_dmraid(text);
			}
		}
		return false;
	}
	snprintf(path, sizeof(path), "%s/class/block/%s/md/metadata_version", sysfs, name);
	struct fr_md_array a;
	/* A member array holds the data; the container itself has none. */
	return read_file(path, 256, &text, NULL) == 0 &&
	       fr_md_parse_metadata_version(text, &a) == 0 && a.kind == FR_MD_MEMBER;
}

bool fr_block_is_assembled(const char *sysfs, const char *name)
{
	if (block_is_assembled_one(sysfs, name))
		return true;
	/* A partition of an assembled set: ask its parent. */
	char path[4096], parent[4096];
	snprintf(path, sizeof(path), "%s/class/block/%s/partition", sysfs, name);
	if (access(path, F_OK) < 0)
		return false;
	snprintf(path, sizeof(path), "%s/class/block/%s/..", sysfs, name);
	if (!realpath(path, parent))
		return false;
	const char *base = strrchr(parent, '/');
	return base && block_is_assembled_one(sysfs, base + 1);
}
