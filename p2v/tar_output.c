/* The archive's output stage: tar blocks from libarchive are hashed,
 * skipped up to a resume point (checking that they are the bytes sent
 * before), compressed, and sunk; zstd frames end at checkpoints so a
 * transfer can resume there. The compression level follows the sink's
 * pressure when the caller asks for that. */
#include "tar_output.h"

#include <archive.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "zstd_stream.h"

#define DEFAULT_ZSTD_LEVEL 3
#define ADAPT_MIN_LEVEL   1   /* also where adapting starts: on a slow link the */
#define ADAPT_MAX_LEVEL   9   /* climb costs a fraction of a second */

int tar_archive_err(struct archive *a)
{
	int e = archive_errno(a);
	return e > 0 ? -e : -EIO;
}

int tar_output_fail(struct tar_output *out, const char *what)
{
	if (out->sink_rc < 0)
		return out->sink_rc;  /* the sink logged it */
	log_error("writing the archive (%s): %s", what, archive_error_string(out->w));
	return tar_archive_err(out->w);
}

/* Compressed bytes on their way out. */
static int count_and_sink(void *ctx, const void *buf, size_t len)
{
	struct tar_output *out = ctx;
	out->st->compressed_bytes += len;
	return out->sink(out->sink_ctx, buf, len);
}

static int adapt_level(struct tar_output *out)
{
	int step = out->o->pressure(out->o->pressure_ctx);
	int level = zstd_stream_level(out->zs) + step;
	if (!step || level < ADAPT_MIN_LEVEL || level > ADAPT_MAX_LEVEL)
		return 0;
	log_debug("zstd level %d (the %s was the bottleneck)", level,
		  step > 0 ? "network" : "CPU");
	if (level < out->st->level_min)
		out->st->level_min = level;
	if (level > out->st->level_max)
		out->st->level_max = level;
	return zstd_stream_set_level(out->zs, level);
}

/* Resuming: the tar before the checkpoint is only hashed, and must be the
 * tar that was sent (it is regenerated from a read-only source). */
static int skip_block(struct tar_output *out, uint64_t start)
{
	const struct tarball_opts *o = out->o;
	if (out->tar_off < o->skip_to)
		return 0;
	uint8_t mine[SHA256_STATE_LEN];
	sha256_export(&out->tar_sha, mine);
	if (out->tar_off != o->skip_to || memcmp(mine, o->skip_state, sizeof(mine))) {
		log_error("the source is not what it was when the transfer was interrupted "
			  "(the archive differs before byte %llu); start again without --resume",
			  (unsigned long long)(out->tar_off != o->skip_to ? start : o->skip_to));
		return -ESTALE;
	}
	log_info("resuming the archive at its byte %llu", (unsigned long long)o->skip_to);
	out->ck_tar = out->tar_off;
	return 0;
}

/* End the zstd frame here and let the caller record a checkpoint. */
static int maybe_checkpoint(struct tar_output *out)
{
	const struct tarball_opts *o = out->o;
	if (!o->checkpoint || !out->zs ||
	    (out->st->compressed_bytes - out->ck_comp < o->checkpoint_every &&
	     out->tar_off - out->ck_tar < 2 * o->checkpoint_every))
		return 0;
	int rc = zstd_stream_end_frame(out->zs);
	if (rc < 0)
		return rc;
	uint8_t state[SHA256_STATE_LEN];
	sha256_export(&out->tar_sha, state);
	out->ck_tar = out->tar_off;
	out->ck_comp = out->st->compressed_bytes;
	return o->checkpoint(o->checkpoint_ctx, out->tar_off, state, zstd_stream_level(out->zs));
}

static la_ssize_t on_write(struct archive *a, void *ctx, const void *buf, size_t len)
{
	struct tar_output *out = ctx;
	if (out->failed) {
		archive_set_error(a, ECANCELED, "archive abandoned");
		return -1;
	}
	int rc = 0;
	uint64_t start = out->tar_off;
	if (out->tar_sha.ctx)
		sha256_update(&out->tar_sha, buf, len);
	out->tar_off += len;
	if (start < out->o->skip_to) {
		rc = skip_block(out, start);
	} else {
		rc = out->zs ? zstd_stream_write(out->zs, buf, len) : count_and_sink(out, buf, len);
		if (rc == 0 && out->zs && !out->o->level && out->o->pressure)
			rc = adapt_level(out);
		if (rc == 0)
			rc = maybe_checkpoint(out);
	}
	if (rc < 0) {
		out->sink_rc = rc;
		archive_set_error(a, -rc, "sink failed");
		return -1;
	}
	return (la_ssize_t)len;
}

int tar_output_init(struct tar_output *out)
{
	if (out->o->checkpoint || out->o->skip_to)
		return sha256_init(&out->tar_sha);
	return 0;
}

int tar_output_open(struct tar_output *out)
{
	const struct tarball_opts *o = out->o;
	struct archive *w = out->w;
	char val[32];
	if (archive_write_set_format_pax(w) != ARCHIVE_OK ||
	    archive_write_set_format_option(w, "pax", "xattrheader", "SCHILY") != ARCHIVE_OK)
		goto bad;
	if (o->compression == TAR_GZIP) {
		if (archive_write_add_filter_gzip(w) != ARCHIVE_OK)
			goto bad;
		int gz = o->level > 0 ? (o->level > 9 ? 9 : o->level) : 6;
		out->st->level_min = out->st->level_max = gz;
		snprintf(val, sizeof(val), "%d", gz);
		if (archive_write_set_filter_option(w, "gzip", "compression-level", val) != ARCHIVE_OK)
			goto bad;
	} else {
		bool adaptive = !o->level && o->pressure;
		int level = o->level > 0 ? o->level : adaptive ? ADAPT_MIN_LEVEL : DEFAULT_ZSTD_LEVEL;
		if (adaptive && o->start_level >= ADAPT_MIN_LEVEL && o->start_level <= ADAPT_MAX_LEVEL)
			level = o->start_level;
		int rc = zstd_stream_open(&out->zs, level, o->threads, count_and_sink, out);
		if (rc < 0)
			return rc;
		out->st->level_min = out->st->level_max = level;
	}
	if (archive_write_set_bytes_per_block(w, TAR_BLOCK_SIZE) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w, 1) != ARCHIVE_OK)
		goto bad;
	if (archive_write_open2(w, out, NULL, on_write, NULL, NULL) != ARCHIVE_OK)
		return tar_output_fail(out, "open");
	return 0;
bad:
	log_error("setting up the archive writer: %s", archive_error_string(w));
	return tar_archive_err(w);
}

int tar_output_finish(struct tar_output *out)
{
	if (!out->zs)
		return 0;
	int rc = zstd_stream_finish(out->zs);
	out->zs = NULL;
	return rc;
}

int tar_output_check_resumed(const struct tar_output *out)
{
	if (out->tar_off >= out->o->skip_to)
		return 0;
	log_error("the source is not what it was when the transfer was interrupted "
		  "(the archive is shorter now); start again without --resume");
	return -ESTALE;
}

void tar_output_free(struct tar_output *out)
{
	if (out->w)
		archive_write_free(out->w);  /* also closes, if not closed yet */
	out->w = NULL;
	zstd_stream_free(out->zs);        /* an unfinished frame stays unfinished */
	out->zs = NULL;
	sha256_abandon(&out->tar_sha);
}
