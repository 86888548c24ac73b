#include "disk_report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "disk_owner.h"
#include "log.h"
#include "util.h"

/* Length of the valid UTF-8 sequence at p (1-4), or 0. */
static size_t utf8_seq(const unsigned char *p)
{
	unsigned c = p[0];
	size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
		   c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	if (n <= 1)
		return n;
	uint32_t cp = c & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* No overlong forms, surrogates or code points past U+10FFFF. */
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

void utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;
	while (*p) {
		size_t n = utf8_seq(p);
		if (!n)
			*p++ = '?';
		else
			p += n;
	}
}

size_t utf8_cut(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = 0;
	while (p[len]) {
		size_t n = utf8_seq(p + len);
		if (!n || len + n > max)
			break;
		len += n;
	}
	return len;
}

char *unreadable_json(const char *name, const struct disk_source *s, char *const *owners)
{
	const struct bad_list *l = &s->unreadable;
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < l->n; i++)
		json_array_append_new(arr, json_pack("{s:I, s:I, s:o}", "offset", (json_int_t)l->v[i].off,
						     "length", (json_int_t)l->v[i].len, "owner",
						     owners[i] ? json_string(owners[i]) : json_null()));
	json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:s, s:I, s:o}", "disk", name, "source", s->path,
			      "size", (json_int_t)s->size,
			      "sector_size", (json_int_t)sector_size_of(s->fd),
			      "policy", read_error_policy_name(s->on_read_error),
			      "unreadable_bytes", (json_int_t)bad_list_bytes(l), "unreadable", arr);
	char *str = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
	json_decref(o);
	return str;
}

/* UNREADABLE: offset of the range; payload u64 length, then the owner. */
static int send_range(struct disk_frames *f, const struct bad_range *r, const char *owner)
{
	uint8_t frame[STREAM_FRAME_HEADER_LEN + STREAM_MAX_UNREADABLE];
	size_t olen = owner ? utf8_cut(owner, STREAM_MAX_OWNER) : 0;
	uint32_t len = (uint32_t)(8 + olen);
	put_be32(frame, FRAME_UNREADABLE);
	put_be32(frame + 4, len);
	put_be64(frame + 8, r->off);
	put_be64(frame + STREAM_FRAME_HEADER_LEN, r->len);
	if (olen)
		memcpy(frame + STREAM_FRAME_HEADER_LEN + 8, owner, olen);
	f->wire_bytes += STREAM_FRAME_HEADER_LEN + len;
	return f->sink(f->sink_ctx, frame, STREAM_FRAME_HEADER_LEN + len);
}

static int write_json(const char *path, const char *json)
{
	struct atomic_file af;
	int rc = atomic_file_open_path(&af, path, true);
	if (rc < 0)
		return rc;
	if ((rc = write_full(af.fd, json, strlen(json))) < 0 ||
	    (rc = write_full(af.fd, "\n", 1)) < 0)
		log_error("writing %s: %s", path, strerror(-rc));
	else
		rc = atomic_file_commit(&af, true);
	atomic_file_discard(&af);
	return rc;
}

int unreadable_finish(const char *name, const struct disk_source *s, struct disk_frames *f,
		      const char *json_path)
{
	const struct bad_list *l = &s->unreadable;
	if (!l->n)
		return 0;
	char **owners = calloc(l->n, sizeof(*owners));
	if (!owners || disk_owners(s, owners) < 0) {
		free(owners);
		return -ENOMEM;
	}
	for (size_t i = 0; i < l->n; i++)
		if (owners[i])
			utf8_sanitize(owners[i]);
	char total[32];
	log_warn("%s: %zu unreadable range%s, %s (%s):", name, l->n, l->n == 1 ? "" : "s",
		 format_bytes(bad_list_bytes(l), total, sizeof(total)),
		 s->on_read_error == READ_ERROR_ZERO ? "zero-filled in the copy" : "the copy failed");
	/* One line per range, in a fixed form scripts can pick out. */
	for (size_t i = 0; i < l->n; i++)
		log_warn("unreadable: disk=%s offset=%llu length=%llu owner=%s", s->path,
			 (unsigned long long)l->v[i].off, (unsigned long long)l->v[i].len,
			 owners[i] ? owners[i] : "unknown");
	int rc = 0;
	for (size_t i = 0; f && i < l->n && rc == 0; i++)
		rc = send_range(f, &l->v[i], owners[i]);
	if (rc == 0 && json_path) {
		char *json = unreadable_json(name, s, owners);
		rc = json ? write_json(json_path, json) : -ENOMEM;
		if (rc == 0)
			log_info("the list of unreadable ranges is in %s", json_path);
		free(json);
	}
	for (size_t i = 0; i < l->n; i++)
		free(owners[i]);
	free(owners);
	return rc;
}

void unreadable_remember(const struct disk_source *s, const char *record, const char *id,
			 uint64_t *sig)
{
	const struct bad_list *l = &s->unreadable;
	uint64_t now = bad_list_bytes(l) * 131 + l->n;
	if (!record || !*record || now == *sig)
		return;
	char path[4200], tmp[4220];
	snprintf(path, sizeof(path), "%s.unreadable", record);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "we");
	bool ok = f && fprintf(f, "%s\n", id) > 0;
	for (size_t i = 0; ok && i < l->n; i++)
		ok = fprintf(f, "%llu %llu\n", (unsigned long long)l->v[i].off,
			     (unsigned long long)l->v[i].len) > 0;
	ok = f && fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
	if (f)
		fclose(f);
	if (ok && rename(tmp, path) == 0) {
		*sig = now;
		return;
	}
	unlink(tmp);
	log_warn("cannot keep the unreadable ranges in %s: a --resume after a kill would not "
		 "list them", path);
}

void unreadable_recall(struct disk_source *s, const char *record, const char *id,
		       uint64_t before)
{
	char path[4200], line[128];
	if (!record || !*record || !before)
		return;
	snprintf(path, sizeof(path), "%s.unreadable", record);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(line, sizeof(line), f) && !strncmp(line, id, strlen(id)) &&
	    line[strlen(id)] == '\n') {
		unsigned long long off, len;
		size_t n = 0;
		while (fgets(line, sizeof(line), f) && sscanf(line, "%llu %llu", &off, &len) == 2)
			if (off < before && len && bad_list_add(&s->unreadable, off, len) == 0)
				n++;
		if (n)
			log_info("%zu unreadable range%s found before the resume point, as an earlier "
				 "run recorded", n, n == 1 ? "" : "s");
	}
	fclose(f);
}
