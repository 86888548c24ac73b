/* A sink that hands bytes to another thread, so the slow consumer (SSH
 * encryption and socket writes) overlaps with the producer (reading files
 * and feeding the compressor) instead of taking turns with it. Memory is
 * bounded: a few fixed buffers cycle between the two threads. */
#ifndef ASYNC_SINK_H
#define ASYNC_SINK_H

#include <stddef.h>

#include "stream.h"

struct async_sink;

/* Start the consumer thread, which calls sink(ctx, …) with each filled
 * buffer in order. 0 or a negative error. */
int async_sink_start(struct async_sink **out, stream_sink_fn sink, void *ctx);
/* Copy bytes in (a stream_sink_fn). Returns the consumer's error, if it
 * failed, so the producer stops early. */
int async_sink_write(void *as, const void *buf, size_t len);
/* Which side held the other up since the last call (at most every quarter
 * second; 0 in between): +1 the consumer (the producer waited for free
 * buffers), -1 the producer (the consumer waited for data), 0 neither. */
int async_sink_pressure(struct async_sink *as);
/* Hand over what is buffered, wait for the consumer to finish, free
 * everything. Returns 0 or the first error of either side. */
int async_sink_finish(struct async_sink *as);

#endif
