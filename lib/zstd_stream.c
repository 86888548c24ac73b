#include "zstd_stream.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>
#include <zstd.h>

#include "log.h"

struct zstd_stream {
	ZSTD_CCtx *cctx;
	stream_sink_fn sink;
	void *ctx;
	int level;
	void *out;
	size_t out_size;
};

static int zstd_err(size_t r, const char *what)
{
	log_error("zstd %s: %s", what, ZSTD_getErrorName(r));
	return -EIO;
}

int zstd_stream_open(struct zstd_stream **out, int level, int threads, stream_sink_fn sink,
		     void *ctx)
{
	struct zstd_stream *zs = calloc(1, sizeof(*zs));
	if (!zs)
		return -ENOMEM;
	zs->sink = sink;
	zs->ctx = ctx;
	zs->level = level;
	zs->out_size = ZSTD_CStreamOutSize();
	zs->cctx = ZSTD_createCCtx();
	zs->out = malloc(zs->out_size);
	if (!zs->cctx || !zs->out) {
		zstd_stream_free(zs);
		return -ENOMEM;
	}
	long n = threads > 0 ? threads : sysconf(_SC_NPROCESSORS_ONLN);
	size_t r = ZSTD_CCtx_setParameter(zs->cctx, ZSTD_c_compressionLevel, level);
	/* Level 3's window whatever the level: a level raised later still finds
	 * matches that far back, and memory stays bounded. */
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(zs->cctx, ZSTD_c_windowLog, 21);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(zs->cctx, ZSTD_c_checksumFlag, 1);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(zs->cctx, ZSTD_c_nbWorkers, (int)(n > 0 ? n : 1));
	if (ZSTD_isError(r)) {
		zstd_stream_free(zs);
		return zstd_err(r, "setup");
	}
	*out = zs;
	return 0;
}

/* Run the compressor over in with the given directive, writing whatever
 * output it has; with ZSTD_e_end until the frame is complete. */
static int drive(struct zstd_stream *zs, ZSTD_inBuffer *in, ZSTD_EndDirective mode)
{
	for (;;) {
		ZSTD_outBuffer o = { zs->out, zs->out_size, 0 };
		size_t left = ZSTD_compressStream2(zs->cctx, &o, in, mode);
		if (ZSTD_isError(left))
			return zstd_err(left, "compression");
		if (o.pos) {
			int rc = zs->sink(zs->ctx, zs->out, o.pos);
			if (rc < 0)
				return rc;
		}
		bool done = mode == ZSTD_e_end ? left == 0 : in->pos == in->size;
		if (done)
			return 0;
	}
}

int zstd_stream_write(void *arg, const void *buf, size_t len)
{
	struct zstd_stream *zs = arg;
	ZSTD_inBuffer in = { buf, len, 0 };
	return drive(zs, &in, ZSTD_e_continue);
}

int zstd_stream_set_level(struct zstd_stream *zs, int level)
{
	if (level == zs->level)
		return 0;
	size_t r = ZSTD_CCtx_setParameter(zs->cctx, ZSTD_c_compressionLevel, level);
	if (ZSTD_isError(r))
		return zstd_err(r, "level change");
	zs->level = level;
	return 0;
}

int zstd_stream_level(const struct zstd_stream *zs) { return zs->level; }

int zstd_stream_end_frame(struct zstd_stream *zs)
{
	ZSTD_inBuffer in = { NULL, 0, 0 };
	return drive(zs, &in, ZSTD_e_end);
}

int zstd_stream_finish(struct zstd_stream *zs)
{
	ZSTD_inBuffer in = { NULL, 0, 0 };
	int rc = drive(zs, &in, ZSTD_e_end);
	zstd_stream_free(zs);
	return rc;
}

void zstd_stream_free(struct zstd_stream *zs)
{
	if (!zs)
		return;
	ZSTD_freeCCtx(zs->cctx);
	free(zs->out);
	free(zs);
}
