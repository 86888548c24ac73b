/* One zstd frame produced incrementally on worker threads, written to a
 * sink as it comes out. The level may change while compressing (zstd
 * applies it from the next job on), which lets a sender follow its link:
 * compress harder while the network is the bottleneck, lighter while the
 * CPU is. */
#ifndef ZSTD_STREAM_H
#define ZSTD_STREAM_H

#include <stddef.h>

#include "stream.h"

struct zstd_stream;

/* threads: worker threads (0: one per online CPU). */
int zstd_stream_open(struct zstd_stream **out, int level, int threads, stream_sink_fn sink,
		     void *ctx);
/* Compress bytes (a stream_sink_fn). */
int zstd_stream_write(void *zs, const void *buf, size_t len);
int zstd_stream_set_level(struct zstd_stream *zs, int level);
int zstd_stream_level(const struct zstd_stream *zs);
/* End the current frame and flush it to the sink; what is written next
 * starts a new, independent frame (a point a transfer can resume from). */
int zstd_stream_end_frame(struct zstd_stream *zs);
/* End the frame, flush it to the sink and free. */
int zstd_stream_finish(struct zstd_stream *zs);
/* Free without ending the frame (the output stays incomplete). */
void zstd_stream_free(struct zstd_stream *zs);

#endif
