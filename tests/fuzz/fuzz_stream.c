/* ct-import receive on arbitrary bytes: receive_stream (the whole of
 * `ct-import receive` below its command line) reads the input from a memfd
 * into a scratch directory on /dev/shm:
 *
 *   ROOT/sandbox/cache    templates (cfg.cache_dir)
 *   ROOT/sandbox/import   disk images (cfg.import_dir)
 *
 * After each run: nothing but those two directories exists in ROOT and
 * ROOT/sandbox (a name that escaped would land there); on failure both are
 * empty; on success they hold exactly the file the OK line names (plus
 * .p2v/NAME.json and the list of unreadable ranges beside it) and its
 * content hashes to the SHA-256 the OK line gives (a qcow2 image read
 * back through tests/tools/qcow2_read.c). Then the directories are emptied
 * for the next input.
 *
 * Version 2 streams: the READY and ACK lines on the reply must parse; a
 * resumable transfer may leave its hidden staging files (.NAME.partial,
 * .NAME.resume, .NAME.lock: nothing else, nothing outside the directory),
 * and when it left a checkpoint a second stream in the input (from a second
 * "P2VSTRM\n" on), or else the same input again, is run next, so the
 * receiver also resumes from states a stream made it record.
 *
 * Inputs whose HELLO names a target device, or announces a disk between
 * FUZZ_MAX_DISK and the 64 TiB limit (hashing its zeros would take minutes),
 * are not run. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "config.h"
#include "log.h"
#include "qcow2.h"
#include "receive.h"
#include "receive_disk.h"
#include "resume_stage.h"
#include "sha256.h"
#include "stream.h"
#include "util.h"
#include "../tools/qcow2_read.h"

#define FUZZ_MAX_DISK (16ull << 20)

static char root[64], sandbox[96], cache[128], import[128];

static void cleanup_root(void)
{
	rmdir(cache);
	rmdir(import);
	rmdir(sandbox);
	rmdir(root);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	log_init("fuzz_stream");
	snprintf(root, sizeof(root), "/dev/shm/fuzz_stream.XXXXXX");
	if (!mkdtemp(root))
		fuzz_die("mkdtemp: %s", strerror(errno));
	snprintf(sandbox, sizeof(sandbox), "%s/sandbox", root);
	snprintf(cache, sizeof(cache), "%s/cache", sandbox);
	snprintf(import, sizeof(import), "%s/import", sandbox);
	if (mkdir(sandbox, 0700) < 0 || mkdir(cache, 0700) < 0 || mkdir(import, 0700) < 0)
		fuzz_die("mkdir in %s: %s", root, strerror(errno));
	atexit(cleanup_root);
	return 0;
}

/* Whether the input may run: see the top of the file. */
static bool runnable(const uint8_t *data, size_t size)
{
	if (size < STREAM_PREAMBLE_LEN + STREAM_FRAME_HEADER_LEN)
		return true;
	const uint8_t *f = data + STREAM_PREAMBLE_LEN;
	uint32_t type = get_be32(f), len = get_be32(f + 4);
	size_t avail = size - STREAM_PREAMBLE_LEN - STREAM_FRAME_HEADER_LEN;
	if (type != FRAME_HELLO || len > STREAM_MAX_HELLO)
		return true;
	json_t *root_json = json_loadb((const char *)f + STREAM_FRAME_HEADER_LEN,
				       len < avail ? len : avail, 0, NULL);
	bool ok = true;
	json_t *target = json_object_get(root_json, "target");
	json_t *jsize = json_object_get(root_json, "size");
	if (target && !json_is_null(target))
		ok = false;
	if (json_is_integer(jsize) && json_integer_value(jsize) > (json_int_t)FUZZ_MAX_DISK &&
	    (uint64_t)json_integer_value(jsize) <= DISK_MAX_SIZE)
		ok = false;
	json_decref(root_json);
	return ok;
}

/* Names in dir other than . and .., into names (up to max); the count. */
static int list(const char *dir, char names[][256], int max)
{
	DIR *d = opendir(dir);
	if (!d)
		fuzz_die("opendir %s: %s", dir, strerror(errno));
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n < max)
			snprintf(names[n], 256, "%s", e->d_name);
		n++;
	}
	closedir(d);
	return n;
}

static void empty_dir(const char *dir)
{
	char names[16][256];
	int n = list(dir, names, 16);
	if (n > 16)
		fuzz_die("%d entries in %s", n, dir);
	for (int i = 0; i < n; i++) {
		char p[512];
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			empty_dir(p);
			if (rmdir(p) < 0)
				fuzz_die("rmdir %s: %s", p, strerror(errno));
		} else if (unlink(p) < 0) {
			fuzz_die("unlink %s: %s", p, strerror(errno));
		}
	}
}

/* Only "cache" and "import" in ROOT/sandbox, only "sandbox" in ROOT. */
static void check_nothing_escaped(void)
{
	char names[8][256];
	int n = list(root, names, 8);
	if (n != 1 || strcmp(names[0], "sandbox"))
		fuzz_die("something was created beside %s: '%s'", sandbox,
			 n == 0 ? "(sandbox gone)" : strcmp(names[0], "sandbox") ? names[0] : names[1]);
	n = list(sandbox, names, 8);
	for (int i = 0; i < n && i < 8; i++)
		if (strcmp(names[i], "cache") && strcmp(names[i], "import"))
			fuzz_die("'%s' was created in %s", names[i], sandbox);
	if (n > 2)
		fuzz_die("%d entries in %s", n, sandbox);
}

struct hash_ctx { struct sha256 sha; uint64_t left; };

static int hash_cluster(void *ctx, uint64_t g, const uint8_t *data)
{
	(void)g;
	static const uint8_t zeros[QCOW2_CLUSTER_SIZE];
	struct hash_ctx *h = ctx;
	size_t n = h->left < QCOW2_CLUSTER_SIZE ? (size_t)h->left : QCOW2_CLUSTER_SIZE;
	sha256_update(&h->sha, data ? data : zeros, n);
	h->left -= n;
	return 0;
}

/* The published file's logical content must hash to what the OK line says. */
static void check_published(const char *path, uint64_t size, const char *hex)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fuzz_die("OK names %s, which cannot be opened: %s", path, strerror(errno));
	struct hash_ctx h = { .left = size };
	if (sha256_init(&h.sha) < 0)
		abort();
	size_t len = strlen(path);
	if (len > 6 && !strcmp(path + len - 6, ".qcow2")) {
		struct qcow2_image q;
		if (qcow2_read_open(&q, fd) < 0 || q.virtual_size != size ||
		    qcow2_read_all(&q, hash_cluster, &h) != 0)
			fuzz_die("published image %s does not read back: %s", path, q.err);
		qcow2_read_close(&q);
	} else {
		struct stat st;
		if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != size)
			fuzz_die("%s is not the %llu bytes the OK line says", path,
				 (unsigned long long)size);
		uint8_t buf[65536];
		ssize_t n;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			sha256_update(&h.sha, buf, (size_t)n);
	}
	close(fd);
	uint8_t d[SHA256_LEN];
	char got[2 * SHA256_LEN + 1];
	sha256_final(&h.sha, d);
	sha256_hex(d, got);
	if (strcmp(got, hex))
		fuzz_die("%s hashes to %s, the OK line says %s", path, got, hex);
}

/* A resumable transfer's staging file: ".NAME.EXT.partial|resume|lock"
 * with a safe NAME.EXT, a regular file. */
static bool is_staging(const char *dir, const char *name)
{
	static const char *const ends[] = { ".partial", ".resume", ".lock", ".resume.new" };
	size_t len = strlen(name);
	if (name[0] != '.')
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(ends); i++) {
		size_t el = strlen(ends[i]);
		if (len <= el + 1 || strcmp(name + len - el, ends[i]))
			continue;
		char inner[256];
		snprintf(inner, sizeof(inner), "%.*s", (int)(len - el - 1), name + 1);
		char p[512];
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", dir, name);
		if (!name_is_safe(inner) || lstat(p, &st) < 0 || !S_ISREG(st.st_mode))
			return false;
		return true;
	}
	return false;
}

static bool has_checkpoint(const char *dir)
{
	char names[16][256];
	int n = list(dir, names, 16);
	for (int i = 0; i < n && i < 16; i++) {
		size_t l = strlen(names[i]);
		if (l > 7 && !strcmp(names[i] + l - 7, ".resume"))
			return true;
	}
	return false;
}

/* The list of unreadable ranges beside what was published: a template's
 * FILE.unreadable.json, a disk's NAME.unreadable.json (NAME: the file's
 * name before its extension). */
static bool is_unreadable_list(const char *published, const char *name)
{
	static const char suffix[] = ".unreadable.json";
	size_t nl = strlen(name), sl = sizeof(suffix) - 1;
	if (nl <= sl || strcmp(name + nl - sl, suffix))
		return false;
	size_t stem = nl - sl;
	return strlen(published) >= stem && !strncmp(published, name, stem) &&
	       (published[stem] == '\0' || published[stem] == '.');
}

/* What a directory may hold after the run: the published file, when it is
 * there, .p2v/<name>.json and its list of unreadable ranges beside it, and
 * staging files. */
static void check_dir(const char *dir, const char *published)
{
	char names[16][256];
	int n = list(dir, names, 16);
	if (n > 16)
		fuzz_die("%d entries in %s", n, dir);
	for (int i = 0; i < n && i < 16; i++) {
		if (published && !strcmp(names[i], published))
			continue;
		if (published && is_unreadable_list(published, names[i]))
			continue;
		if (is_staging(dir, names[i]))
			continue;
		if (published && !strcmp(names[i], ".p2v")) {
			char sub[512], inv[8][256], want[300];
			snprintf(sub, sizeof(sub), "%s/.p2v", dir);
			/* NAME.json where the file is NAME.tar.zst / NAME.qcow2 … */
			int k = list(sub, inv, 8);
			for (int j = 0; j < k && j < 8; j++) {
				size_t l = strlen(inv[j]);
				snprintf(want, sizeof(want), "%.*s", (int)(l > 5 ? l - 5 : 0), inv[j]);
				if (l <= 5 || strcmp(inv[j] + l - 5, ".json") ||
				    strncmp(published, want, strlen(want)) || published[strlen(want)] != '.')
					fuzz_die("unexpected %s/%s beside %s", sub, inv[j], published);
			}
			continue;
		}
		fuzz_die("%s/%s exists after a %s run", dir, names[i], published ? "successful" : "failed");
	}
}

/* The reply without its READY and ACK lines, each of which must parse. */
static void strip_protocol_lines(char *reply)
{
	char *out = reply;
	for (char *l = reply; *l;) {
		char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l + 1) : strlen(l);
		struct stream_checkpoint c;
		uint64_t a, b;
		if (!strncmp(l, "READY ", 6) || !strncmp(l, "ACK ", 4)) {
			char line[STREAM_READY_MAX + 8];
			snprintf(line, sizeof(line), "%.*s", (int)len, l);
			if (stream_ready_parse(line, &c) < 0 && stream_ack_parse(line, &a, &b) < 0)
				fuzz_die("malformed protocol line '%s'", line);
		} else {
			memmove(out, l, len);
			out += len;
		}
		l += len;
	}
	*out = '\0';
}

static void run_once(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_stream", MFD_CLOEXEC);
	if (fd < 0 || write_full(fd, data, size) < 0 || lseek(fd, 0, SEEK_SET) != 0)
		fuzz_die("memfd: %s", strerror(errno));
	struct cti_config cfg = { .cache_dir = cache, .lxc_path = sandbox, .import_dir = import };
	struct receive_stream_opts o = { 0 };
	char *reply = NULL;
	size_t reply_len = 0;
	FILE *rf = open_memstream(&reply, &reply_len);
	if (!rf)
		abort();
	int rc = receive_stream(fd, rf, &cfg, &o);
	fclose(rf);
	close(fd);
	strip_protocol_lines(reply);
	reply_len = strlen(reply);

	if (getenv("FUZZ_STREAM_PLANT")) {   /* test_fuzz_corpus.sh's control */
		char stray[128];
		snprintf(stray, sizeof(stray), "%s/planted", root);
		close(open(stray, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	}
	check_nothing_escaped();
	const char *published = NULL;
	char path[512] = "", hex[80] = "";
	unsigned long long rsize = 0;
	if (rc == 0) {
		if (sscanf(reply, "OK %511s %llu %79s", path, &rsize, hex) != 3)
			fuzz_die("success without an OK line ('%s')", reply);
		const char *slash = strrchr(path, '/');
		size_t dl = slash ? (size_t)(slash - path) : 0;
		bool in_cache = slash && dl == strlen(cache) && !strncmp(path, cache, dl);
		bool in_import = slash && dl == strlen(import) && !strncmp(path, import, dl);
		if (!in_cache && !in_import)
			fuzz_die("published %s, outside %s and %s", path, cache, import);
		published = slash + 1;
		check_published(path, rsize, hex);
		check_dir(cache, in_cache ? published : NULL);
		check_dir(import, in_import ? published : NULL);
	} else {
		if (reply_len)
			fuzz_die("failure (%d) but a reply line '%s'", rc, reply);
		check_dir(cache, NULL);
		check_dir(import, NULL);
	}
	free(reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!runnable(data, size))
		return -1;
	/* Two streams in one input (a second preamble): the first as cut, the
	 * second as the sender's next attempt. With one, a recorded
	 * checkpoint makes the same input run again, resuming. */
	const uint8_t *second = size > 1 ? memmem(data + 1, size - 1, STREAM_MAGIC, 8) : NULL;
	size_t first = second ? (size_t)(second - data) : size;
	run_once(data, first);
	if (has_checkpoint(cache) || has_checkpoint(import)) {
		if (second)
			run_once(second, size - first);
		else
			run_once(data, size);
	}
	empty_dir(cache);
	empty_dir(import);
	return 0;
}
