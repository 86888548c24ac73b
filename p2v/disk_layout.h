/* Opening a source disk read-only and learning its layout: the partition
 * table (libblkid on our own O_RDONLY descriptor), ext2/3/4 block bitmaps
 * (libext2fs, opened read-only) and swap headers. */
#ifndef P2V_DISK_LAYOUT_H
#define P2V_DISK_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "disk_extents.h"
#include "disk_read.h"

#define DISK_MAX_PARTS 128

struct disk_source {
	int fd;                     /* O_RDONLY */
	char *path;
	uint64_t size;
	char pttype[16];            /* "dos", "gpt" or "" */
	bool efi;                   /* a GPT EFI system partition exists */
	uint64_t skipped;           /* bytes the layout lets us leave unread */
	struct disk_layout layout;
	void *fs[DISK_MAX_PARTS];   /* open ext2_filsys, for their bitmaps */
	unsigned nfs;
	enum read_error_policy on_read_error;  /* set by the caller; default fail */
	struct bad_list unreadable; /* ranges found unreadable while sending */
};

/* Open path (a block device or an image file) and map it. With skip_free
 * false the layout is empty: every non-zero byte is sent. A filesystem we
 * cannot read safely (needs journal recovery, errors, a bad bitmap) is read
 * whole, with a warning. 0 or a negative errno (logged). */
int disk_source_open(const char *path, bool skip_free, struct disk_source *s);
void disk_source_close(struct disk_source *s);

#endif
