/* The end of a p2v ct run that met bad sectors: the file ranges that stayed
 * unreadable (zero-filled in the archive, or the reason it failed) are
 * logged, sent to ct-import as UNREADABLE frames before END, and written
 * as JSON beside a local archive. */
#ifndef P2V_CT_REPORT_H
#define P2V_CT_REPORT_H

#include "stream.h"
#include "tarball.h"

/* Log the ranges of st, one line each in a fixed form scripts can pick
 * out: "unreadable file range: PATH offset=N length=N". */
void ct_report_log(const struct tarball_stats *st, enum read_error_policy policy);

/* One UNREADABLE frame per range (offset within the file, the path as
 * owner), at most STREAM_MAX_FILE_RANGES ranges and
 * STREAM_MAX_FILE_RANGE_BYTES of paths (the rest are only logged, with a
 * warning). 0 or the writer's negative error. */
int ct_report_send(struct stream_writer *w, const struct tarball_stats *st);

/* The report as JSON text (malloc'd), the receiver's shape plus where it
 * came from:
 * {"template": NAME, "source": ROOT, "policy": "zero"|"fail",
 *  "unreadable_ranges": N, "unreadable_bytes": N,
 *  "unreadable": [{"file": PATH, "offset": N, "length": N, "owner": PATH}, …]} */
char *ct_report_json(const char *name, const char *root, enum read_error_policy policy,
		     const struct tarball_stats *st);

/* For p2v ct --output FILE: FILE.unreadable.json written atomically when
 * there are ranges, and one left from an earlier archive of that name
 * removed when there are none. 0 or a negative error (logged). */
int ct_report_store(const char *output, const char *name, const char *root,
		    enum read_error_policy policy, const struct tarball_stats *st);

#endif
