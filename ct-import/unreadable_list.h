/* The unreadable ranges a stream lists (UNREADABLE frames: the sender's
 * bad sectors, zero-filled in the content): a disk's, checked against its
 * size and kept beside the image as NAME.unreadable.json; a template's
 * (ranges within files), bounded in number and kept beside the archive as
 * FILE.unreadable.json. */
#ifndef CTI_UNREADABLE_LIST_H
#define CTI_UNREADABLE_LIST_H

#include <jansson.h>
#include <stdint.h>

#include "stream.h"

/* At most this many ranges are listed; the rest are counted. */
#define UNREADABLE_MAX_LISTED 100000

struct unreadable_list {
	json_t *ranges;       /* [{"offset", "length", "owner"}], or NULL */
	uint64_t count, bytes;
	uint64_t next;        /* a disk's ranges come in order: the next starts here
				 or later */
	uint64_t owner_bytes; /* a template's: file paths in all */
};

/* One UNREADABLE frame (payload in buf): the range must lie within size,
 * after the previous one; the owner must be UTF-8 without NUL. 0, or
 * -EPROTO (logged), or -ENOMEM. */
int unreadable_take(struct unreadable_list *u, const struct frame_header *h, const uint8_t *buf,
		    uint64_t size);

/* One UNREADABLE frame of a template stream: offset + length within a
 * file (no sum past INT64_MAX), the file's path as owner (not empty,
 * UTF-8 without NUL), at most STREAM_MAX_FILE_RANGES ranges and
 * STREAM_MAX_FILE_RANGE_BYTES of paths. No order is required: paths made
 * UTF-8 by the sender ('?' for a stray byte) need not be distinct. 0, or
 * -EPROTO (logged), or -ENOMEM. */
int unreadable_take_file(struct unreadable_list *u, const struct frame_header *h,
			 const uint8_t *buf);

/* After the image is published: dir/NAME.unreadable.json written
 * atomically when ranges were listed, and a stale one from an earlier
 * image of that name removed when none were. 0 or a negative error
 * (logged). */
int unreadable_store(const struct unreadable_list *u, const char *dir, const char *name,
		     uint64_t size);

/* After a template is published as dir/FILE (NAME its template name):
 * dir/FILE.unreadable.json like unreadable_store's, with "template" and
 * "file" (FILE) in place of "disk" and "size", and each range's path as
 * "file" besides "owner". */
int unreadable_store_template(const struct unreadable_list *u, const char *dir,
			      const char *file, const char *name);

void unreadable_free(struct unreadable_list *u);

#endif
