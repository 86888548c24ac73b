/* Where a received disk goes: a qcow2 image or a sparse raw file in the
 * import directory (unnamed until committed, never replacing a file), or a
 * block device / logical volume written in place.
 *
 * Writes come in increasing offset order. disk_out_zero marks a range that
 * must read as zeros; the caller reports every gap and zero run so a device's
 * old content never shows through. */
#ifndef CTI_DISK_OUT_H
#define CTI_DISK_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "qcow2.h"

enum disk_format { DISK_QCOW2, DISK_RAW };

struct disk_out;

/* dir/name becomes the image (compression: qcow2 clusters only); refuses an existing name (-EEXIST, logged). */
int disk_out_open_file(struct disk_out **out, const char *dir, const char *name,
		       enum disk_format format, enum qcow2_compression compression, uint64_t size);
/* An existing block device, opened exclusively (so not while mounted);
 * refused (-ENOSPC, logged) when smaller than size. */
int disk_out_open_device(struct disk_out **out, const char *dev, uint64_t size);

/* A resumable transfer's raw staging file (resume_stage.h), fd borrowed:
 * everything from resume_at on is cleared (made a hole) so nothing written
 * after the last durable checkpoint survives; path is for messages. */
int disk_out_open_staged(struct disk_out **out, int fd, const char *path, uint64_t size,
			 uint64_t resume_at);
/* Make everything written so far durable (a checkpoint). */
int disk_out_sync(struct disk_out *o);
/* Write the sparse raw file rawfd (size bytes) as the qcow2 image
 * dir/name, published when complete (never replacing a file). */
int disk_out_convert_qcow2(int rawfd, uint64_t size, const char *dir, const char *name,
			   enum qcow2_compression compression);

int disk_out_write(struct disk_out *o, uint64_t offset, const void *buf, size_t len);
int disk_out_zero(struct disk_out *o, uint64_t offset, uint64_t len);

/* Finish the image, sync it and publish it under its final name. */
int disk_out_commit(struct disk_out *o);
/* The published path (the device for a device). */
const char *disk_out_path(const struct disk_out *o);
/* Discard anything not committed and free; NULL is fine. */
void disk_out_free(struct disk_out *o);

#endif
