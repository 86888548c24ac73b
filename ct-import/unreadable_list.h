/* The unreadable ranges a disk stream lists (UNREADABLE frames: the
 * sender's bad sectors, zero-filled in the image), checked against the
 * disk's size and kept beside the image as NAME.unreadable.json. */
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
	uint64_t next;        /* ranges come in order: the next starts here or later */
};

/* One UNREADABLE frame (payload in buf): the range must lie within size,
 * after the previous one; the owner must be UTF-8 without NUL. 0, or
 * -EPROTO (logged), or -ENOMEM. */
int unreadable_take(struct unreadable_list *u, const struct frame_header *h, const uint8_t *buf,
		    uint64_t size);

/* After the image is published: dir/NAME.unreadable.json written
 * atomically when ranges were listed, and a stale one from an earlier
 * image of that name removed when none were. 0 or a negative error
 * (logged). */
int unreadable_store(const struct unreadable_list *u, const char *dir, const char *name,
		     uint64_t size);

void unreadable_free(struct unreadable_list *u);

#endif
