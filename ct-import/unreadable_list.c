#include "unreadable_list.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "log.h"
#include "util.h"

int unreadable_take(struct unreadable_list *u, const struct frame_header *h, const uint8_t *buf,
		    uint64_t size)
{
	if (h->length < 8) {
		log_error("unreadable-range frame too short (%u bytes)", h->length);
		return -EPROTO;
	}
	uint64_t off = h->offset, len = get_be64(buf);
	/* Written so that no sum can overflow. */
	if (!len || off > size || len > size - off) {
		log_error("unreadable range at offset %llu, %llu bytes, lies outside the disk's %llu "
			  "bytes", (unsigned long long)off, (unsigned long long)len,
			  (unsigned long long)size);
		return -EPROTO;
	}
	if (off < u->next) {
		log_error("unreadable range at offset %llu overlaps or precedes the previous one",
			  (unsigned long long)off);
		return -EPROTO;
	}
	const char *owner = (const char *)buf + 8;
	size_t olen = h->length - 8;
	json_t *jowner = olen ? json_stringn(owner, olen) : json_null();
	if (!jowner || memchr(owner, 0, olen)) {
		log_error("unreadable range at offset %llu: its owner is not UTF-8 text",
			  (unsigned long long)off);
		json_decref(jowner);
		return -EPROTO;
	}
	u->next = off + len;
	u->count++;
	u->bytes += len;
	if (u->count > UNREADABLE_MAX_LISTED) {
		json_decref(jowner);
		return 0;
	}
	if (!u->ranges && !(u->ranges = json_array())) {
		json_decref(jowner);
		return -ENOMEM;
	}
	json_t *r = json_pack("{s:I, s:I, s:o}", "offset", (json_int_t)off, "length",
			      (json_int_t)len, "owner", jowner);
	if (!r || json_array_append_new(u->ranges, r) < 0)
		return -ENOMEM;
	return 0;
}

int unreadable_take_file(struct unreadable_list *u, const struct frame_header *h,
			 const uint8_t *buf)
{
	if (h->length < 8) {
		log_error("unreadable-range frame too short (%u bytes)", h->length);
		return -EPROTO;
	}
	uint64_t off = h->offset, len = get_be64(buf);
	const char *file = (const char *)buf + 8;
	size_t flen = h->length - 8;
	/* A file offset is an off_t; written so that no sum can overflow. */
	if (!len || off > INT64_MAX || len > INT64_MAX - off) {
		log_error("unreadable file range at offset %llu, %llu bytes, is not a range of "
			  "a file", (unsigned long long)off, (unsigned long long)len);
		return -EPROTO;
	}
	if (u->count >= STREAM_MAX_FILE_RANGES ||
	    u->owner_bytes + flen > STREAM_MAX_FILE_RANGE_BYTES) {
		log_error("more unreadable file ranges than a template stream may list (%u, "
			  "%u bytes of paths)", STREAM_MAX_FILE_RANGES, STREAM_MAX_FILE_RANGE_BYTES);
		return -EPROTO;
	}
	json_t *jfile = flen && !memchr(file, 0, flen) ? json_stringn(file, flen) : NULL;
	if (!jfile) {
		log_error("unreadable file range at offset %llu: its file is %s",
			  (unsigned long long)off, flen ? "not UTF-8 text" : "not named");
		return -EPROTO;
	}
	if (!u->ranges && !(u->ranges = json_array())) {
		json_decref(jfile);
		return -ENOMEM;
	}
	json_t *r = json_pack("{s:O, s:I, s:I, s:o}", "file", jfile, "offset", (json_int_t)off,
			      "length", (json_int_t)len, "owner", jfile);
	if (!r || json_array_append_new(u->ranges, r) < 0)
		return -ENOMEM;
	u->count++;
	u->bytes += len;
	u->owner_bytes += flen;
	return 0;
}

/* dir/file from head (a JSON object; its reference is taken) and the
 * list, written atomically; or removed when the list is empty. */
static int store(const struct unreadable_list *u, const char *dir, const char *file,
		 const char *name, json_t *head)
{
	if (!u->count) {
		json_decref(head);
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0 && unlinkat(dfd, file, 0) == 0)
			log_info("removed %s/%s, left from an earlier one of that name", dir, file);
		if (dfd >= 0)
			close(dfd);
		return 0;
	}
	json_t *tail = json_pack("{s:I, s:I, s:I, s:O}", "unreadable_ranges", (json_int_t)u->count,
				 "unreadable_bytes", (json_int_t)u->bytes, "listed",
				 (json_int_t)(u->count < UNREADABLE_MAX_LISTED ? u->count
									       : UNREADABLE_MAX_LISTED),
				 "unreadable", u->ranges);
	char *text = head && tail && json_object_update(head, tail) == 0
			     ? json_dumps(head, JSON_INDENT(2)) : NULL;
	json_decref(head);
	json_decref(tail);
	if (!text)
		return -ENOMEM;
	struct atomic_file f = { .fd = -1, .dirfd = -1 };
	int rc = atomic_file_open(&f, dir, file, true);
	if (rc == 0 && ((rc = write_full(f.fd, text, strlen(text))) < 0 ||
			(rc = write_full(f.fd, "\n", 1)) < 0))
		log_error("writing %s/%s: %s", dir, file, strerror(-rc));
	if (rc == 0)
		rc = atomic_file_commit(&f, true);
	atomic_file_discard(&f);
	free(text);
	if (rc == 0)
		log_warn("%s: %llu unreadable range%s (%llu bytes, zero-filled by the sender) listed "
			 "in %s/%s", name, (unsigned long long)u->count, u->count == 1 ? "" : "s",
			 (unsigned long long)u->bytes, dir, file);
	return rc;
}

int unreadable_store(const struct unreadable_list *u, const char *dir, const char *name,
		     uint64_t size)
{
	char file[256];
	snprintf(file, sizeof(file), "%s.unreadable.json", name);
	return store(u, dir, file, name,
		     json_pack("{s:s, s:I}", "disk", name, "size", (json_int_t)size));
}

int unreadable_store_template(const struct unreadable_list *u, const char *dir,
			      const char *file, const char *name)
{
	char json[300];
	snprintf(json, sizeof(json), "%s.unreadable.json", file);
	return store(u, dir, json, name,
		     json_pack("{s:s, s:s}", "template", name, "file", file));
}

void unreadable_free(struct unreadable_list *u)
{
	json_decref(u->ranges);
	*u = (struct unreadable_list){ 0 };
}
