/* The end of a run that met bad sectors: each unreadable range of a disk
 * (byte offset, length, the file that owns it where the filesystem can
 * tell) is logged, sent to ct-import as UNREADABLE frames before END and
 * written as JSON beside a local image. */
#ifndef P2V_DISK_REPORT_H
#define P2V_DISK_REPORT_H

#include "disk_layout.h"
#include "disk_send.h"

/* Owners are file names, which may be any bytes: make s valid UTF-8 in
 * place (each byte that does not begin a valid sequence becomes '?'), as
 * JSON and the receiver require. */
void utf8_sanitize(char *s);
/* The longest prefix of valid UTF-8 s, at most max bytes, that does not
 * end inside a character. */
size_t utf8_cut(const char *s, size_t max);

/* The report as JSON text (malloc'd):
 * {"disk": NAME, "source": PATH, "size": N, "sector_size": N,
 *  "policy": "zero"|"fail", "unreadable_bytes": N,
 *  "unreadable": [{"offset": N, "length": N, "owner": TEXT|null}, …]} */
char *unreadable_json(const char *name, const struct disk_source *s, char *const *owners);

/* Log the report for disk name (nothing when s has no unreadable range);
 * when f is given, send one UNREADABLE frame per range through it; when
 * json_path is given, write the JSON there atomically. 0, or the sink's
 * or the file's negative error (logged). */
int unreadable_finish(const char *name, const struct disk_source *s, struct disk_frames *f,
		      const char *json_path);

/* p2v killed and started again with --resume goes on from the receiver's
 * checkpoint without reading what came before: the ranges found before
 * it are kept in RECORD.unreadable (RECORD: the transfer's record, id its
 * transfer id). remember writes them when they changed since *sig (best
 * effort, warned); recall adds those that start before `before` back to
 * s->unreadable when the file belongs to transfer id. */
void unreadable_remember(const struct disk_source *s, const char *record, const char *id,
			 uint64_t *sig);
void unreadable_recall(struct disk_source *s, const char *record, const char *id,
		       uint64_t before);

#endif
