/* ct-import receive: read a p2v stream on stdin into the template cache.
 * Nothing appears under the final name until the SHA-256 the sender
 * computed matches what was written and the data is on disk. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "commands.h"
#include "config.h"
#include "log.h"
#include "options.h"
#include "receive.h"
#include "receive_disk.h"
#include "resume_stage.h"
#include "stream.h"
#include "unreadable_list.h"
#include "util.h"

enum { OPT_CACHE_DIR = 256, OPT_CONFIG, OPT_FORCE, OPT_IMPORT_DIR, OPT_TARGET_DEV, OPT_FORMAT, OPT_COMPRESS };

static const struct opt_def receive_opts[] = {
	{ "cache-dir", OPT_CACHE_DIR, "DIR", "template cache to write into (default from the config file, else " CTI_DEFAULT_CACHE_DIR ")" },
	{ "config", OPT_CONFIG, "FILE", "config file (default " CTI_CONFIG_FILE ")" },
	{ "force", OPT_FORCE, NULL, "replace an existing template of the same name (disk images are never replaced)" },
	{ "import-dir", OPT_IMPORT_DIR, "DIR", "where disk images are written (default from the config file, else " CTI_DEFAULT_IMPORT_DIR ")" },
	{ "target-dev", OPT_TARGET_DEV, "DEV", "write a disk stream onto this block device or logical volume instead" },
	{ "format", OPT_FORMAT, "FMT", "image format for a disk stream: qcow2 or raw (default: what the sender asks, else qcow2)" },
	{ "compress", OPT_COMPRESS, "ALG", "compress a qcow2 image's clusters: none (default), zstd or deflate" },
	{ "verbose", 'v', NULL, "log more" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 },
};

struct receive_args {
	const char *cache_dir;
	const char *config;
	const char *import_dir;
	const char *target_dev;
	const char *format;
	const char *compress;
	bool force;
	bool help;
};

static int receive_opt(void *ctx, int key, const char *arg)
{
	struct receive_args *a = ctx;
	switch (key) {
	case OPT_CACHE_DIR: a->cache_dir = arg; break;
	case OPT_CONFIG: a->config = arg; break;
	case OPT_FORCE: a->force = true; break;
	case OPT_IMPORT_DIR: a->import_dir = arg; break;
	case OPT_TARGET_DEV: a->target_dev = arg; break;
	case OPT_FORMAT: a->format = arg; break;
	case OPT_COMPRESS: a->compress = arg; break;
	case 'v': log_set_level(LOG_DEBUG); break;
	case 'h': a->help = true; break;
	}
	return 0;
}

/* What the HELLO frame announces. */
struct template_hello {
	char name[160];
	const char *extension;
	char *inventory;  /* p2v's "inventory" object, re-serialised, or NULL */
	char transfer_id[TRANSFER_ID_LEN + 1];  /* "" when not resumable */
};

static int parse_hello(const uint8_t *buf, size_t len, struct template_hello *h)
{
	json_error_t err;
	json_t *root = json_loadb((const char *)buf, len, 0, &err);
	if (!root || !json_is_object(root)) {
		log_error("stream header is not a JSON object: %s", root ? "wrong type" : err.text);
		json_decref(root);
		return -EPROTO;
	}
	int rc = -EPROTO;
	const char *kind = json_string_value(json_object_get(root, "kind"));
	const char *name = json_string_value(json_object_get(root, "name"));
	const char *comp = json_string_value(json_object_get(root, "compression"));
	json_t *jid = json_object_get(root, "transfer_id");
	const char *id = json_string_value(jid);
	if (jid && !transfer_id_valid(id)) {
		log_error("transfer_id must be %d lowercase hex digits", TRANSFER_ID_LEN);
	} else if (!kind || strcmp(kind, "template")) {
		log_error("stream kind '%s' is not supported by this ct-import (expected 'template')",
			  kind ? kind : "(none)");
	} else if (!name || !name_is_safe(name)) {
		log_error("template name '%s' is not allowed: use letters, digits, '.', '_', '-', '+'",
			  name ? name : "(none)");
	} else if (!comp || (strcmp(comp, "zstd") && strcmp(comp, "gzip"))) {
		log_error("unknown compression '%s'", comp ? comp : "(none)");
	} else {
		snprintf(h->name, sizeof(h->name), "%s", name);
		h->extension = !strcmp(comp, "zstd") ? ".tar.zst" : ".tar.gz";
		json_t *inv = json_object_get(root, "inventory");
		h->inventory = json_is_object(inv) ? json_dumps(inv, JSON_COMPACT) : NULL;
		snprintf(h->transfer_id, sizeof(h->transfer_id), "%s", id ? id : "");
		rc = 0;
	}
	json_decref(root);
	return rc;
}

/* Where a template's bytes go and what the link back to the sender is. */
struct template_rx {
	int fd;
	const char *name;          /* for messages */
	struct resume_stage *stage;  /* resumable: checkpoints made durable */
	FILE *reply;
	uint64_t wire;             /* stream bytes read so far */
	struct unreadable_list bad;  /* the sender's unreadable file ranges */
};

/* A CHECKPOINT: the sender's hash state must be ours; when resumable, the
 * bytes so far are synced and the point recorded and acknowledged. */
static int take_checkpoint(struct template_rx *rx, const struct frame_header *h,
			   const uint8_t *buf, uint64_t written, struct sha256 *sha)
{
	struct stream_checkpoint c;
	uint8_t mine[SHA256_STATE_LEN];
	if (h->offset != written) {
		log_error("checkpoint at offset %llu, %llu bytes were received",
			  (unsigned long long)h->offset, (unsigned long long)written);
		return -EPROTO;
	}
	stream_checkpoint_decode(buf, h->offset, &c);
	sha256_export(sha, mine);
	if (memcmp(mine, c.sha, sizeof(mine))) {
		log_error("checkpoint at %llu: the data received is not what was sent",
			  (unsigned long long)h->offset);
		return -EBADMSG;
	}
	if (!rx->stage)
		return 0;
	if (fsync(rx->fd) < 0) {
		log_error("syncing %s: %s", rx->name, strerror(errno));
		return -errno;
	}
	return resume_stage_save(rx->stage, &c, rx->wire, rx->reply);
}

/* Copy DATA frames into rx->fd from *written on until END; verify offsets,
 * total and SHA-256 (sha holds the state of what came before). */
static int receive_body(int in, struct template_rx *rx, uint8_t *buf, struct sha256 *sha,
			uint64_t written, uint64_t *total, uint8_t digest[SHA256_LEN])
{
	int rc;
	for (;;) {
		struct frame_header h;
		rc = stream_read_frame(in, &h, buf, STREAM_MAX_DATA);
		if (rc == 0) {
			log_error("the stream ended before its end frame (connection lost?)");
			rc = -EPROTO;
			break;
		}
		if (rc < 0)
			break;
		rx->wire += STREAM_FRAME_HEADER_LEN + (uint64_t)h.length;
		/* Unreadable ranges come after the data, so no checkpoint
		 * lies past one (a resumed sender sends them all again). */
		if (rx->bad.count && (h.type == FRAME_DATA || h.type == FRAME_CHECKPOINT)) {
			log_error("frame type %u after the unreadable ranges", h.type);
			rc = -EPROTO;
			break;
		}
		if (h.type == FRAME_DATA) {
			if (h.offset != written) {
				log_error("data frame at offset %llu, expected %llu",
					  (unsigned long long)h.offset, (unsigned long long)written);
				rc = -EPROTO;
				break;
			}
			sha256_update(sha, buf, h.length);
			if ((rc = write_full(rx->fd, buf, h.length)) < 0) {
				log_error("writing %s: %s", rx->name, strerror(-rc));
				break;
			}
			written += h.length;
		} else if (h.type == FRAME_CHECKPOINT) {
			if ((rc = take_checkpoint(rx, &h, buf, written, sha)) < 0)
				break;
		} else if (h.type == FRAME_UNREADABLE) {
			if ((rc = unreadable_take_file(&rx->bad, &h, buf)) < 0)
				break;
		} else if (h.type == FRAME_END) {
			if (h.offset != written) {
				log_error("end frame says %llu bytes, %llu were received",
					  (unsigned long long)h.offset, (unsigned long long)written);
				rc = -EPROTO;
				break;
			}
			sha256_final(sha, digest);
			if (memcmp(digest, buf, SHA256_LEN)) {
				log_error("SHA-256 mismatch: the data received is not what was sent");
				return -EBADMSG;
			}
			*total = written;
			return 0;
		} else if (h.type == FRAME_ABORT) {
			log_error("the sender aborted: %.*s", (int)h.length, (const char *)buf);
			rc = -ECANCELED;
			break;
		} else {
			log_error("unexpected frame type %u in a template stream", h.type);
			rc = -EPROTO;
			break;
		}
	}
	sha256_abandon(sha);
	return rc;
}

/* A disk stream: its own receiver, the same reply line. */
static int receive_disk_reply(int in, FILE *reply, uint8_t *buf, size_t len,
			      const struct receive_stream_opts *ro, const struct cti_config *cfg,
			      int version, uint64_t wire)
{
	struct disk_receive_opts o = { .import_dir = cfg->import_dir, .target_dev = ro->target_dev,
				       .format = ro->format, .compress = ro->compress,
				       .version = version, .reply = reply, .wire = wire };
	struct disk_receive_result res = { 0 };
	int rc = receive_disk(in, buf, len, buf, &o, &res);
	if (rc < 0)
		return rc;
	if (res.done_reply) {
		fprintf(reply, "%s\n", res.done_reply);
		free(res.done_reply);
		return 0;
	}
	char hex[2 * SHA256_LEN + 1];
	sha256_hex(res.digest, hex);
	log_info("stored %s (sha256 %s)", res.path, hex);
	fprintf(reply, "OK %s %llu %s\n", res.path, (unsigned long long)res.size, hex);
	free(res.path);
	return 0;
}

/* p2v's inventory (doc/inventory.md) as <cache>/.p2v/NAME.json, where
 * create-ct finds its memory and core defaults. A hidden directory, so
 * Proxmox does not list it as a template; a failure only costs defaults. */
static void store_inventory(const char *cache_dir, const char *name, const char *json)
{
	_cleanup_free_ char *dir = NULL;
	char file[200];
	struct atomic_file f = { .fd = -1, .dirfd = -1 };
	snprintf(file, sizeof(file), "%s.json", name);
	if (asprintf(&dir, "%s/.p2v", cache_dir) < 0 || (mkdir(dir, 0700) < 0 && errno != EEXIST) ||
	    atomic_file_open(&f, dir, file, true) < 0 || write_full(f.fd, json, strlen(json)) < 0 ||
	    atomic_file_commit(&f, true) < 0)
		log_warn("could not store the source's inventory in %s/.p2v: create-ct will use its own defaults",
			 cache_dir);
	atomic_file_discard(&f);
}

/* A resumable template goes into .FINAL.partial (resume_stage.h); fd and
 * sha are set up to continue after the durable checkpoint, if any. */
static int stage_template(struct resume_stage *st, const struct cti_config *cfg,
			  const char *final, const struct template_hello *hello, bool force,
			  struct sha256 *sha, uint64_t *written)
{
	struct stat sb;
	char path[4096], ident[256];
	snprintf(path, sizeof(path), "%s/%s", cfg->cache_dir, final);
	snprintf(ident, sizeof(ident), "template %s", final);
	bool exists = lstat(path, &sb) == 0;
	int rc = resume_stage_open(st, cfg->cache_dir, final, hello->transfer_id, ident);
	if (rc < 0 || (st->done && exists))
		return rc;
	if (exists && !force) {
		log_error("%s already exists (use --force to replace it)", path);
		return -EEXIST;
	}
	if (st->done) {   /* published once, removed since: receive it again */
		unlinkat(st->dirfd, st->state, 0);
		resume_stage_close(st);
		if ((rc = resume_stage_open(st, cfg->cache_dir, final, hello->transfer_id, ident)) < 0)
			return rc;
	}
	*written = st->resumed ? st->ck.offset : 0;
	if (st->resumed) {
		if ((rc = sha256_import(sha, st->ck.sha)) < 0)
			return rc;
		log_info("resuming %s at byte %llu", final, (unsigned long long)*written);
	} else if ((rc = sha256_init(sha)) < 0) {
		return rc;
	}
	/* Whatever arrived after the checkpoint was never made durable. */
	if (ftruncate(st->fd, (off_t)*written) < 0 || lseek(st->fd, (off_t)*written, SEEK_SET) < 0) {
		log_error("%s/%s: %s", cfg->cache_dir, st->partial, strerror(errno));
		return -errno;
	}
	return 0;
}

int receive_stream(int in, FILE *reply, const struct cti_config *cfg,
		   const struct receive_stream_opts *o)
{
	int rc, version;
	_cleanup_free_ uint8_t *buf = malloc(STREAM_MAX_DATA);
	struct atomic_file f = { .fd = -1, .dirfd = -1 };
	struct resume_stage st = { .fd = -1, .dirfd = -1, .lockfd = -1 };
	bool staged = false;
	struct template_hello hello = { 0 };
	struct template_rx rx = { 0 };
	struct frame_header h;
	struct sha256 sha = { 0 };
	uint64_t total = 0, written = 0;
	uint8_t digest[SHA256_LEN];
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = version = stream_read_preamble(in)) < 0)
		goto out;
	rc = stream_read_frame(in, &h, buf, STREAM_MAX_DATA);
	if (rc <= 0 || h.type != FRAME_HELLO) {
		if (rc >= 0)
			log_error("the stream does not start with a header frame");
		rc = -EPROTO;
		goto out;
	}
	uint64_t wire = STREAM_PREAMBLE_LEN + STREAM_FRAME_HEADER_LEN + (uint64_t)h.length;
	if (hello_is_disk(buf, h.length)) {
		rc = receive_disk_reply(in, reply, buf, h.length, o, cfg, version, wire);
		goto out;
	}
	if ((rc = parse_hello(buf, h.length, &hello)) < 0)
		goto out;
	char final[200];
	snprintf(final, sizeof(final), "%s%s", hello.name, hello.extension);
	staged = version >= 2 && hello.transfer_id[0];
	if (staged) {
		if ((rc = stage_template(&st, cfg, final, &hello, o->force, &sha, &written)) < 0)
			goto out;
		if (st.done) {
			/* The sender lost our OK line with its connection. */
			log_info("%s was already received and published", final);
			fprintf(reply, "%s\n", st.done_reply);
			goto out;
		}
	} else if ((rc = atomic_file_open(&f, cfg->cache_dir, final, o->force)) < 0 ||
		   (rc = sha256_init(&sha)) < 0) {
		goto out;
	}
	if (version >= 2)
		resume_stage_ready(reply, staged ? &st : NULL);
	log_info("receiving template %s into %s", final, cfg->cache_dir);
	rx = (struct template_rx){ .fd = staged ? st.fd : f.fd, .name = final,
				   .stage = staged ? &st : NULL, .reply = reply, .wire = wire };
	rc = receive_body(in, &rx, buf, &sha, written, &total, digest);
	if (rc < 0) {
		/* A cut connection keeps what is durable for the next attempt;
		 * an abort or a mismatch does not. */
		if (staged && (rc == -ECANCELED || rc == -EBADMSG))
			resume_stage_discard(&st);
		goto out;
	}
	if ((rc = staged ? resume_stage_publish(&st, final, o->force)
			 : atomic_file_commit(&f, o->force)) < 0)
		goto out;
	if (hello.inventory)
		store_inventory(cfg->cache_dir, hello.name, hello.inventory);
	/* Beside the template (and none left from an earlier one). */
	if (unreadable_store_template(&rx.bad, cfg->cache_dir, final, hello.name) < 0)
		log_warn("the list of %s's unreadable ranges was not kept", final);
	char hex[2 * SHA256_LEN + 1], size[32];
	sha256_hex(digest, hex);
	log_info("stored %s/%s (%s, sha256 %s)", cfg->cache_dir, final,
		 format_bytes(total, size, sizeof(size)), hex);
	char ok[4200];
	snprintf(ok, sizeof(ok), "OK %s/%s %llu %s", cfg->cache_dir, final, (unsigned long long)total, hex);
	if (staged)
		resume_stage_done(&st, ok);
	fprintf(reply, "%s\n", ok);
out:
	sha256_abandon(&sha);
	unreadable_free(&rx.bad);
	free(hello.inventory);
	atomic_file_discard(&f);
	resume_stage_close(&st);
	return rc;
}

static int exit_code_for(int rc)
{
	if (rc == -EEXIST)
		return CTI_EXIT_EXISTS;
	if (rc == -EPROTO || rc == -EBADMSG)
		return CTI_EXIT_VERIFY;
	return CTI_EXIT_FAILURE;
}

int cmd_receive(int argc, char **argv)
{
	struct receive_args a = { 0 };
	int idx = opt_parse(receive_opts, argc, argv, receive_opt, &a);
	if (idx < 0)
		return CTI_EXIT_USAGE;
	if (a.help) {
		opt_print_help(stdout, "ct-import receive [OPTIONS] < STREAM",
			       "Read a p2v stream on standard input and store the template it carries\n"
			       "in the template cache, or the disk it carries in the import directory,\n"
			       "published only after its SHA-256 matches.",
			       receive_opts);
		return 0;
	}
	if (idx < argc) {
		log_error("receive takes no operands ('%s')", argv[idx]);
		return CTI_EXIT_USAGE;
	}
	struct cti_config cfg = { 0 };
	if (cti_config_load(a.config, &cfg) < 0)
		return CTI_EXIT_USAGE;
	if ((a.cache_dir && cti_config_set(&cfg, "cache_dir", a.cache_dir) < 0) ||
	    (a.import_dir && cti_config_set(&cfg, "import_dir", a.import_dir) < 0)) {
		cti_config_free(&cfg);
		return CTI_EXIT_USAGE;
	}

	struct receive_stream_opts o = { .target_dev = a.target_dev, .format = a.format,
				  .compress = a.compress, .force = a.force };
	int rc = receive_stream(STDIN_FILENO, stdout, &cfg, &o);
	cti_config_free(&cfg);
	if (rc < 0) {
		printf("ERR %s\n", strerror(-rc));
		log_error("nothing was published");
		return exit_code_for(rc);
	}
	return CTI_EXIT_OK;
}
