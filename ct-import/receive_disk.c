#include "receive_disk.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "atomic_file.h"
#include "disk_out.h"
#include "log.h"
#include "resume_stage.h"
#include "stream.h"
#include "unreadable_list.h"
#include "util.h"

struct disk_hello {
	char name[160];
	uint64_t size;
	enum disk_format format;
	enum qcow2_compression compression;
	char *target;  /* block device to write, or NULL */
	char *inventory;  /* the source's inventory, re-serialised, or NULL */
	char transfer_id[TRANSFER_ID_LEN + 1];  /* "" when not resumable */
};

bool hello_is_disk(const uint8_t *hello, size_t len)
{
	json_t *root = json_loadb((const char *)hello, len, 0, NULL);
	const char *kind = json_string_value(json_object_get(root, "kind"));
	bool disk = kind && !strcmp(kind, "disk");
	json_decref(root);
	return disk;
}

static int parse_format(const char *s, enum disk_format *f)
{
	if (!strcmp(s, "qcow2"))
		*f = DISK_QCOW2;
	else if (!strcmp(s, "raw"))
		*f = DISK_RAW;
	else
		return -EINVAL;
	return 0;
}

static int parse_hello(const uint8_t *buf, size_t len, const struct disk_receive_opts *o,
		       struct disk_hello *h)
{
	json_error_t err;
	json_t *root = json_loadb((const char *)buf, len, 0, &err);
	if (!json_is_object(root)) {
		log_error("stream header is not a JSON object: %s", root ? "wrong type" : err.text);
		json_decref(root);
		return -EPROTO;
	}
	int rc = -EPROTO;
	const char *name = json_string_value(json_object_get(root, "name"));
	json_t *size = json_object_get(root, "size");
	json_t *jfmt = json_object_get(root, "format");
	json_t *jtarget = json_object_get(root, "target");
	const char *fmt = o->format ? o->format : jfmt ? json_string_value(jfmt) : "qcow2";
	/* Which device to overwrite is the receiver's own decision: a stream
	 * may name one (p2v does, for the record) but only the same one that
	 * --target-dev gives on our command line. */
	const char *target = o->target_dev;
	const char *wire_target = jtarget && !json_is_null(jtarget) ? json_string_value(jtarget) : NULL;
	json_t *jid = json_object_get(root, "transfer_id");
	const char *id = json_string_value(jid);
	if (jid && !transfer_id_valid(id)) {
		log_error("transfer_id must be %d lowercase hex digits", TRANSFER_ID_LEN);
	} else if (!name || !name_is_safe(name)) {
		log_error("disk name '%s' is not allowed: use letters, digits, '.', '_', '-', '+'",
			  name ? name : "(none)");
	} else if (!json_is_integer(size) || json_integer_value(size) <= 0 ||
		   (uint64_t)json_integer_value(size) > DISK_MAX_SIZE) {
		log_error("disk size missing or out of range (1 byte to 64 TiB)");
	} else if (!fmt || parse_format(fmt, &h->format) < 0) {
		log_error("unknown disk format '%s' (expected qcow2 or raw)", fmt ? fmt : "(not a string)");
	} else if (o->compress && strcmp(o->compress, "none") && strcmp(o->compress, "zstd") &&
		   strcmp(o->compress, "deflate")) {
		log_error("unknown qcow2 compression '%s' (none, zstd or deflate)", o->compress);
		rc = -EINVAL;
	} else if (jtarget && !json_is_null(jtarget) &&
		   (!wire_target || !o->target_dev || strcmp(wire_target, o->target_dev))) {
		log_error("the stream names target device '%s'; ct-import writes onto a device only "
			  "when its own --target-dev names the same one",
			  wire_target ? wire_target : "(not a string)");
	} else {
		snprintf(h->name, sizeof(h->name), "%s", name);
		h->size = (uint64_t)json_integer_value(size);
		h->compression = !o->compress || !strcmp(o->compress, "none") ? QCOW2_COMPRESS_NONE :
				 !strcmp(o->compress, "zstd") ? QCOW2_COMPRESS_ZSTD : QCOW2_COMPRESS_DEFLATE;
		h->target = target ? strdup(target) : NULL;
		json_t *inv = json_object_get(root, "inventory");
		h->inventory = json_is_object(inv) ? json_dumps(inv, JSON_COMPACT) : NULL;
		snprintf(h->transfer_id, sizeof(h->transfer_id), "%s", id ? id : "");
		rc = target && !h->target ? -ENOMEM : 0;
	}
	json_decref(root);
	return rc;
}

/* The source's inventory as <import_dir>/.p2v/NAME.json, where create-vm
 * finds its memory and core defaults; a failure only costs those. */
static void store_inventory(const char *dir, const char *name, const char *json)
{
	_cleanup_free_ char *sub = NULL;
	char file[200];
	struct atomic_file f = { .fd = -1, .dirfd = -1 };
	snprintf(file, sizeof(file), "%s.json", name);
	if (asprintf(&sub, "%s/.p2v", dir) < 0 || (mkdir(sub, 0700) < 0 && errno != EEXIST) ||
	    atomic_file_open(&f, sub, file, true) < 0 || write_full(f.fd, json, strlen(json)) < 0 ||
	    atomic_file_commit(&f, true) < 0)
		log_warn("could not keep the source's inventory in %s/.p2v", dir);
	atomic_file_discard(&f);
}

/* The logical disk as it arrives: hash everything in order and tell the
 * output about data and about ranges that must read as zeros. */
struct disk_rx {
	struct disk_out *out;
	struct sha256 sha;
	uint64_t size;
	uint64_t pos;   /* everything before pos has been written and hashed */
	struct unreadable_list unreadable;  /* the sender's bad sectors */
	struct resume_stage *stage;  /* resumable: checkpoints made durable */
	FILE *reply;
	uint64_t wire;  /* stream bytes read so far */
};

static void hash_zeros(struct sha256 *sha, uint64_t n)
{
	static const uint8_t zeros[256 << 10];
	while (n) {
		size_t k = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);
		sha256_update(sha, zeros, k);
		n -= k;
	}
}

/* Refuse a range before pos (frames come in increasing order) or beyond
 * the disk; written so no sum can overflow. */
static int check_range(const struct disk_rx *rx, const char *what, uint64_t off, uint64_t len)
{
	if (off < rx->pos) {
		log_error("%s frame at offset %llu goes back before %llu", what,
			  (unsigned long long)off, (unsigned long long)rx->pos);
		return -EPROTO;
	}
	if (off > rx->size || len > rx->size - off) {
		log_error("%s frame at offset %llu, %llu bytes, lies beyond the disk's %llu bytes", what,
			  (unsigned long long)off, (unsigned long long)len, (unsigned long long)rx->size);
		return -EPROTO;
	}
	return 0;
}

static int zeros_until(struct disk_rx *rx, uint64_t end)
{
	if (end == rx->pos)
		return 0;
	int rc = disk_out_zero(rx->out, rx->pos, end - rx->pos);
	if (rc < 0)
		return rc;
	hash_zeros(&rx->sha, end - rx->pos);
	rx->pos = end;
	return 0;
}

static int take_data(struct disk_rx *rx, uint64_t off, const uint8_t *p, size_t len)
{
	int rc = zeros_until(rx, off);
	if (rc < 0)
		return rc;
	if ((rc = disk_out_write(rx->out, off, p, len)) < 0)
		return rc;
	sha256_update(&rx->sha, p, len);
	rx->pos = off + len;
	return 0;
}

/* ZDATA: u32 n, then exactly one zstd frame that decompresses to n bytes. */
static int take_zdata(struct disk_rx *rx, const struct frame_header *h, const uint8_t *buf,
		      uint8_t *dbuf)
{
	if (h->length < 4) {
		log_error("compressed frame at %llu is too short", (unsigned long long)h->offset);
		return -EPROTO;
	}
	uint32_t n = get_be32(buf);
	if (n > STREAM_MAX_DATA) {
		log_error("compressed frame announces %u bytes, more than %u", n, STREAM_MAX_DATA);
		return -EPROTO;
	}
	int rc = check_range(rx, "compressed", h->offset, n);
	if (rc < 0)
		return rc;
	const uint8_t *src = buf + 4;
	size_t srclen = h->length - 4;
	size_t flen = ZSTD_findFrameCompressedSize(src, srclen);
	if (ZSTD_isError(flen) || flen != srclen) {
		log_error("compressed frame at %llu is not one zstd frame", (unsigned long long)h->offset);
		return -EPROTO;
	}
	size_t got = ZSTD_decompress(dbuf, n, src, srclen);
	if (ZSTD_isError(got) || got != n) {
		log_error("compressed frame at %llu does not decompress to its %u bytes (%s)",
			  (unsigned long long)h->offset, n,
			  ZSTD_isError(got) ? ZSTD_getErrorName(got) : "wrong length");
		return -EPROTO;
	}
	return take_data(rx, h->offset, dbuf, n);
}

/* CHECKPOINT at logical offset R: the gap up to R is zeros, the sender's
 * hash state must be ours; when resumable, synced, recorded, acknowledged. */
static int take_checkpoint(struct disk_rx *rx, const struct frame_header *h, const uint8_t *buf)
{
	struct stream_checkpoint c;
	uint8_t mine[SHA256_STATE_LEN];
	int rc = check_range(rx, "checkpoint", h->offset, 0);
	if (rc < 0 || (rc = zeros_until(rx, h->offset)) < 0)
		return rc;
	stream_checkpoint_decode(buf, h->offset, &c);
	sha256_export(&rx->sha, mine);
	if (memcmp(mine, c.sha, sizeof(mine))) {
		log_error("checkpoint at %llu: the disk received is not what was sent",
			  (unsigned long long)h->offset);
		return -EBADMSG;
	}
	if (!rx->stage)
		return 0;
	if ((rc = disk_out_sync(rx->out)) < 0)
		return rc;
	return resume_stage_save(rx->stage, &c, rx->wire, rx->reply);
}

static int receive_frames(int fd, struct disk_rx *rx, uint8_t *buf, uint8_t *dbuf,
			  uint8_t digest[SHA256_LEN])
{
	for (;;) {
		struct frame_header h;
		int rc = stream_read_frame(fd, &h, buf, STREAM_MAX_DATA);
		if (rc == 0) {
			log_error("the stream ended before its end frame (connection lost?)");
			return -EPROTO;
		}
		if (rc < 0)
			return rc;
		rx->wire += STREAM_FRAME_HEADER_LEN + (uint64_t)h.length;
		switch (h.type) {
		case FRAME_CHECKPOINT:
			if ((rc = take_checkpoint(rx, &h, buf)) < 0)
				return rc;
			break;
		case FRAME_DATA:
			if ((rc = check_range(rx, "data", h.offset, h.length)) < 0 ||
			    (rc = take_data(rx, h.offset, buf, h.length)) < 0)
				return rc;
			break;
		case FRAME_ZDATA:
			if ((rc = take_zdata(rx, &h, buf, dbuf)) < 0)
				return rc;
			break;
		case FRAME_ZERO: {
			uint64_t count = get_be64(buf);
			if ((rc = check_range(rx, "zero", h.offset, count)) < 0 ||
			    (rc = zeros_until(rx, h.offset + count)) < 0)
				return rc;
			break;
		}
		case FRAME_END:
			if (h.offset != rx->size) {
				log_error("end frame says %llu bytes, the header announced %llu",
					  (unsigned long long)h.offset, (unsigned long long)rx->size);
				return -EPROTO;
			}
			/* Free blocks after the last frame are zeros too. */
			if ((rc = zeros_until(rx, rx->size)) < 0)
				return rc;
			sha256_final(&rx->sha, digest);
			if (memcmp(digest, buf, SHA256_LEN)) {
				log_error("SHA-256 mismatch: the disk received is not what was sent");
				return -EBADMSG;
			}
			return 0;
		case FRAME_ABORT:
			log_error("the sender aborted: %.*s", (int)h.length, (const char *)buf);
			return -ECANCELED;
		case FRAME_UNREADABLE:
			if ((rc = unreadable_take(&rx->unreadable, &h, buf, rx->size)) < 0)
				return rc;
			break;
		default:
			log_error("unexpected frame type %u in a disk stream", h.type);
			return -EPROTO;
		}
	}
}

/* Where the disk goes: straight into the image or device, or (resumable)
 * through a staging file, continuing after its durable checkpoint. */
static int open_output(struct disk_rx *rx, struct resume_stage *st, const struct disk_hello *h,
		       const struct disk_receive_opts *opts, const char *final)
{
	bool staged = opts->version >= 2 && h->transfer_id[0];
	if (!staged) {
		if (h->target)
			return disk_out_open_device(&rx->out, h->target, h->size);
		return disk_out_open_file(&rx->out, opts->import_dir, final, h->format,
					  h->compression, h->size);
	}
	char path[4096], ident[4096 + 64];
	int rc = mkdir(opts->import_dir, 0755) < 0 && errno != EEXIST ? -errno : 0;
	if (rc < 0) {
		log_error("cannot create the import directory %s: %s", opts->import_dir, strerror(-rc));
		return rc;
	}
	snprintf(path, sizeof(path), "%s/%s", opts->import_dir, final);
	struct stat sb;
	bool exists = !h->target && lstat(path, &sb) == 0;
	snprintf(ident, sizeof(ident), "disk %llu %s %s", (unsigned long long)h->size,
		 h->format == DISK_QCOW2 ? "qcow2" : "raw", h->target ? h->target : "-");
	if ((rc = resume_stage_open(st, opts->import_dir, final, h->transfer_id, ident)) < 0)
		return rc;
	if (st->done && (exists || h->target))
		return 0;   /* the sender lost our OK line with its connection */
	if (exists) {
		log_error("%s already exists; images are never replaced", path);
		return -EEXIST;
	}
	if (st->done) {   /* published once, removed since: receive it again */
		unlinkat(st->dirfd, st->state, 0);
		resume_stage_close(st);
		if ((rc = resume_stage_open(st, opts->import_dir, final, h->transfer_id, ident)) < 0)
			return rc;
	}
	rx->stage = st;
	rx->pos = st->resumed ? st->ck.offset : 0;
	if (rx->pos > h->size || (rx->pos % 512 && rx->pos != h->size)) {
		log_error("the recorded checkpoint %llu does not fit the disk", (unsigned long long)rx->pos);
		return -EPROTO;
	}
	if (st->resumed)
		log_info("resuming %s at offset %llu", h->name, (unsigned long long)rx->pos);
	if (h->target)
		rc = disk_out_open_device(&rx->out, h->target, h->size);
	else
		rc = disk_out_open_staged(&rx->out, st->fd, path, h->size, rx->pos);
	if (rc < 0)
		return rc;
	return st->resumed ? sha256_import(&rx->sha, st->ck.sha) : sha256_init(&rx->sha);
}

/* A staged image becomes the published one: renamed when raw, written out
 * as qcow2 otherwise (then the staging files go). */
static int publish_staged(struct disk_rx *rx, struct resume_stage *st, const struct disk_hello *h,
			  const struct disk_receive_opts *opts, const char *final)
{
	if (h->target)
		return disk_out_commit(rx->out);
	int rc = disk_out_commit(rx->out);
	if (rc < 0)
		return rc;
	if (h->format == DISK_RAW)
		return resume_stage_publish(st, final, false);
	log_info("writing %s as qcow2", final);
	return disk_out_convert_qcow2(st->fd, h->size, opts->import_dir, final, h->compression);
}

int receive_disk(int fd, const uint8_t *hello, size_t hello_len, uint8_t *buf,
		 const struct disk_receive_opts *opts, struct disk_receive_result *res)
{
	struct disk_hello h = { 0 };
	int rc = parse_hello(hello, hello_len, opts, &h);
	if (rc < 0)
		return rc;
	struct disk_rx rx = { .size = h.size, .reply = opts->reply, .wire = opts->wire };
	struct resume_stage st = { .fd = -1, .dirfd = -1, .lockfd = -1 };
	_cleanup_free_ uint8_t *dbuf = malloc(STREAM_MAX_DATA);
	char final[200];
	char sz[32];
	if (!dbuf) {
		rc = -ENOMEM;
		goto out;
	}
	if (h.target)
		snprintf(final, sizeof(final), "%s.target", h.name);
	else
		snprintf(final, sizeof(final), "%s.%s", h.name, h.format == DISK_QCOW2 ? "qcow2" : "raw");
	if ((rc = open_output(&rx, &st, &h, opts, final)) < 0)
		goto out;
	if (st.done) {
		log_info("%s was already received and published", final);
		res->done_reply = strdup(st.done_reply);
		rc = res->done_reply ? 0 : -ENOMEM;
		goto out;
	}
	if (!rx.stage && (rc = sha256_init(&rx.sha)) < 0)
		goto out;
	if (opts->version >= 2 && opts->reply)
		resume_stage_ready(opts->reply, rx.stage);
	log_info("receiving disk %s (%s) into %s", h.name, format_bytes(h.size, sz, sizeof(sz)),
		 h.target ? h.target : disk_out_path(rx.out));
	rc = receive_frames(fd, &rx, buf, dbuf, res->digest);
	if (rc == 0)
		rc = rx.stage ? publish_staged(&rx, &st, &h, opts, final) : disk_out_commit(rx.out);
	else if (rx.stage && (rc == -ECANCELED || rc == -EBADMSG))
		resume_stage_discard(&st);
	if (rc == 0 && !h.target && h.inventory)
		store_inventory(opts->import_dir, h.name, h.inventory);
	/* The image is verified and published: a list that cannot be kept
	 * must not make it look failed (p2v's log has the list too). */
	if (rc == 0 && unreadable_store(&rx.unreadable, opts->import_dir, h.name, h.size) < 0)
		log_warn("the list of %s's unreadable ranges was not kept", h.name);
	if (rc == 0) {
		res->size = h.size;
		if (h.target)
			res->path = strdup(h.target);
		else if (asprintf(&res->path, "%s/%s", opts->import_dir, final) < 0)
			res->path = NULL;
		rc = res->path ? 0 : -ENOMEM;
		if (rc == 0 && rx.stage) {
			char ok[4200], hex[2 * SHA256_LEN + 1];
			sha256_hex(res->digest, hex);
			snprintf(ok, sizeof(ok), "OK %s %llu %s", res->path,
				 (unsigned long long)res->size, hex);
			resume_stage_done(&st, ok);
		}
	} else if (h.target) {
		log_warn("%s now holds an incomplete copy: do not boot from it", h.target);
	}
out:
	sha256_abandon(&rx.sha);
	unreadable_free(&rx.unreadable);
	disk_out_free(rx.out);
	resume_stage_close(&st);
	free(h.target);
	free(h.inventory);
	return rc;
}
