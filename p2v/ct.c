/* p2v ct: archive a root filesystem losslessly and stream it to
 * `ct-import receive` on the hypervisor (or into a local file). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "async_sink.h"
#include "atomic_file.h"
#include "commands.h"
#include "ct_report.h"
#include "inventory.h"
#include "gate.h"
#include "log.h"
#include "options.h"
#include "progress.h"
#include "remote.h"
#include "resume.h"
#include "signals.h"
#include "source.h"
#include "ssh.h"
#include "ssh_opts.h"
#include "stream.h"
#include "tarball.h"
#include "transfer_loop.h"
#include "util.h"
#include "version.h"

enum {
	OPT_TO = 256, OPT_NAME, OPT_ROOT, OPT_DEVICE, OPT_REMOTE_IMPORT, OPT_COMPRESS,
	OPT_LEVEL, OPT_THREADS, OPT_EXCLUDE, OPT_OUTPUT, OPT_FORCE, OPT_PROGRESS,
	OPT_CREATE, OPT_REMOTE_CREATE, OPT_ON_READ_ERROR,
	/* Options passed through to create-ct with --create. */
	OPT_C_VMID = 512, OPT_C_HOSTNAME, OPT_C_STORAGE, OPT_C_DISK_GB, OPT_C_MEMORY,
	OPT_C_CORES, OPT_C_BRIDGE, OPT_C_IP, OPT_C_GW, OPT_C_BACKEND, OPT_C_START,
};

/* Also read by p2v run for its kernel command line keys. */
const struct opt_def ct_opts[] = {
	{ "to", OPT_TO, "[USER@]HOST[:PORT]", "hypervisor to send to over SSH", "p2v.server" },
	{ "name", OPT_NAME, "NAME", "template name; the file becomes NAME.tar.zst (or .tar.gz)", "p2v.name" },
	{ "root", OPT_ROOT, "DIR", "archive this already-mounted root directory", "p2v.root" },
	{ "device", OPT_DEVICE, "DEV", "mount DEV read-only (no journal replay) with the filesystems its fstab lists, and archive that", "p2v.device" },
	{ "output", OPT_OUTPUT, "FILE", "write the compressed tarball to FILE instead of sending it" },
	SSH_OPT_DEFS,
	RESUME_OPT_DEFS,
	{ "remote-import", OPT_REMOTE_IMPORT, "CMD", "remote command that receives the stream (default 'ct-import receive')" },
	{ "compress", OPT_COMPRESS, "zstd|gzip", "compression (default zstd, multi-threaded)" },
	{ "level", OPT_LEVEL, "N", "compression level (zstd 1-19, default: adapts within 1-9 to the link, 3 with --output; gzip 1-9, default 6)" },
	{ "threads", OPT_THREADS, "N", "zstd worker threads (default: one per CPU)" },
	{ "exclude", OPT_EXCLUDE, "PATTERN", "leave out paths matching PATTERN (relative to the root; repeatable)" },
	{ "force", OPT_FORCE, NULL, "with --output: replace an existing file" },
	{ "on-read-error", OPT_ON_READ_ERROR, "fail|zero", "file data that stays unreadable after retries in ever smaller pieces (bad sectors): fail cleanly (default), or archive zeros there and list the file and range", "p2v.on_read_error" },
	{ "progress", OPT_PROGRESS, "auto|json|none", "progress display (default auto: a line on a terminal)" },
	{ "create", OPT_CREATE, NULL, "after a verified transfer, create the container with 'ct-import create-ct'", "p2v.create" },
	{ "remote-create", OPT_REMOTE_CREATE, "CMD", "remote command for --create (default 'ct-import create-ct')" },
	{ "vmid", OPT_C_VMID, "N", "with --create: container ID (passed to create-ct)", "p2v.vmid" },
	{ "hostname", OPT_C_HOSTNAME, "NAME", "with --create: container hostname" },
	{ "storage", OPT_C_STORAGE, "STORAGE", "with --create: Proxmox storage for the root disk" },
	{ "disk-gb", OPT_C_DISK_GB, "N", "with --create: root disk size in GiB" },
	{ "memory", OPT_C_MEMORY, "MB", "with --create: memory in MiB" },
	{ "cores", OPT_C_CORES, "N", "with --create: CPU cores" },
	{ "bridge", OPT_C_BRIDGE, "BR", "with --create: bridge for eth0" },
	{ "ip", OPT_C_IP, "CIDR|dhcp", "with --create: eth0 address" },
	{ "gw", OPT_C_GW, "IP", "with --create: default gateway" },
	{ "backend", OPT_C_BACKEND, "pve|lxc", "with --create: Proxmox or plain LXC" },
	{ "start", OPT_C_START, NULL, "with --create: start the container" },
	{ "verbose", 'v', NULL, "log more" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 },
};

struct ct_args {
	struct ssh_auth_opts auth;
	struct resume_opts resume;
	const char *to, *name, *root, *device, *output, *remote_import, *remote_create;
	struct tarball_opts tar;
	const char *excludes[64];
	char **create_args;  /* "--opt" "value" pairs for create-ct */
	size_t n_create_args;
	enum progress_mode progress;
	bool force, create, help;
};

static int ct_opt(void *ctx, int key, const char *arg)
{
	struct ct_args *a = ctx;
	uint64_t n;
	if (ssh_opt_handle(&a->auth, key, arg))
		return 0;
	int r = resume_opt_handle(&a->resume, key, arg);
	if (r)
		return r < 0 ? r : 0;
	switch (key) {
	case OPT_TO: a->to = arg; break;
	case OPT_NAME: a->name = arg; break;
	case OPT_ROOT: a->root = arg; break;
	case OPT_DEVICE: a->device = arg; break;
	case OPT_OUTPUT: a->output = arg; break;
	case OPT_REMOTE_IMPORT: a->remote_import = arg; break;
	case OPT_REMOTE_CREATE: a->remote_create = arg; break;
	case OPT_FORCE: a->force = true; break;
	case OPT_CREATE: a->create = true; break;
	case 'v': log_set_level(LOG_DEBUG); break;
	case 'h': a->help = true; break;
	case OPT_COMPRESS:
		if (!strcmp(arg, "zstd"))
			a->tar.compression = TAR_ZSTD;
		else if (!strcmp(arg, "gzip"))
			a->tar.compression = TAR_GZIP;
		else {
			log_error("--compress takes zstd or gzip, not '%s'", arg);
			return -EINVAL;
		}
		break;
	case OPT_LEVEL:
		if (parse_u64(arg, 1, 19, &n) < 0) {
			log_error("--level takes a number from 1 to 19, not '%s'", arg);
			return -EINVAL;
		}
		a->tar.level = (int)n;
		break;
	case OPT_THREADS:
		if (parse_u64(arg, 1, 256, &n) < 0) {
			log_error("--threads takes a number from 1 to 256, not '%s'", arg);
			return -EINVAL;
		}
		a->tar.threads = (int)n;
		break;
	case OPT_EXCLUDE:
		if (a->tar.n_excludes == ARRAY_SIZE(a->excludes)) {
			log_error("too many --exclude patterns (at most %zu)", ARRAY_SIZE(a->excludes));
			return -EINVAL;
		}
		a->excludes[a->tar.n_excludes++] = arg;
		break;
	case OPT_ON_READ_ERROR:
		if (read_error_policy_parse(arg, &a->tar.on_read_error) < 0) {
			log_error("--on-read-error takes fail or zero, not '%s'", arg);
			return -EINVAL;
		}
		break;
	case OPT_PROGRESS:
		if (progress_mode_parse(arg, &a->progress) < 0) {
			log_error("--progress takes auto, json or none, not '%s'", arg);
			return -EINVAL;
		}
		break;
	default:
		if (key >= OPT_C_VMID)
			return remote_args_add(&a->create_args, &a->n_create_args,
					       opt_name(ct_opts, key), arg);
	}
	return 0;
}

/* The tarball's bytes go either into stream frames or straight into a file. */
struct ct_sink {
	struct stream_writer *stream;
	int fd;
	struct progress *progress;
};

static int ct_sink_write(void *ctx, const void *buf, size_t len)
{
	struct ct_sink *s = ctx;
	if (p2v_interrupted) {
		log_error("interrupted by signal %d", (int)p2v_interrupted);
		return -EINTR;
	}
	if (s->stream)
		return stream_write_data(s->stream, buf, len);
	int rc = write_full(s->fd, buf, len);
	if (rc < 0)
		log_error("writing the output: %s", strerror(-rc));
	return rc;
}

static void ct_progress(void *ctx, uint64_t source_bytes, uint64_t compressed_bytes)
{
	progress_update(ctx, source_bytes, compressed_bytes);
}

/* Bytes in use on the filesystem holding root: the ETA's yardstick, when
 * root is that filesystem's top (a mount point, as after --device); for a
 * directory inside a bigger filesystem there is no cheap estimate: 0. */
static uint64_t used_bytes_estimate(const char *root)
{
	struct stat here, parent;
	char up[4096];
	snprintf(up, sizeof(up), "%s/..", root);
	if (stat(root, &here) < 0 || stat(up, &parent) < 0)
		return 0;
	bool top = here.st_dev != parent.st_dev || here.st_ino == parent.st_ino;
	struct statvfs vfs;
	if (!top || statvfs(root, &vfs) < 0)
		return 0;
	return (uint64_t)(vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
}

static char *hello_json(const struct ct_args *a, const char *root, const char *transfer_id)
{
	char host[256] = "";
	/* The source's own etc/hostname: a symlink in it must not lead to the
	 * rescue system's. */
	_cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int fd = rootfd < 0 ? -1 : source_open_in_root(rootfd, "etc/hostname",
								       O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read_full(fd, host, sizeof(host) - 1);
	host[n > 0 ? strcspn(host, "\r\n") : 0] = '\0';
	json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:{s:s, s:s}}",
			      "version", STREAM_VERSION, "kind", "template", "name", a->name,
			      "compression", a->tar.compression == TAR_ZSTD ? "zstd" : "gzip",
			      "p2v_version", P2V_VERSION, "source", "hostname", host,
			      "root", a->device ? a->device : root);
	if (o && transfer_id)
		json_object_set_new(o, "transfer_id", json_string(transfer_id));
	/* Machine facts for create-ct's defaults (doc/inventory.md); optional. */
	json_t *inv = o ? inventory_hello_json(root) : NULL;
	if (inv)
		json_object_set_new(o, "inventory", inv);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

static int check_args(const struct ct_args *a)
{
	if (!a->name) {
		log_error("--name is required (the template's name on the hypervisor)");
		return -EINVAL;
	}
	if (!name_is_safe(a->name)) {
		log_error("--name '%s': use letters, digits, '.', '_', '-', '+' (not starting with '.' or '-')",
			  a->name);
		return -EINVAL;
	}
	if (!a->root == !a->device) {
		log_error("give exactly one of --root DIR or --device DEV");
		return -EINVAL;
	}
	if (!a->to == !a->output) {
		log_error("give exactly one of --to HOST or --output FILE");
		return -EINVAL;
	}
	if (a->create && !a->to) {
		log_error("--create needs --to");
		return -EINVAL;
	}
	if (a->n_create_args && !a->create) {
		log_error("container options (--vmid, --memory …) need --create");
		return -EINVAL;
	}
	return 0;
}

static int archive_to_file(struct ct_args *a, struct progress *prog,
			   struct tarball_stats *stats)
{
	struct atomic_file f;
	int rc = atomic_file_open_path(&f, a->output, a->force);
	if (rc < 0)
		return rc;
	struct ct_sink sink = { .fd = f.fd, .progress = prog };
	rc = tarball_write(&a->tar, ct_sink_write, &sink, stats);
	if (rc == 0)
		rc = atomic_file_commit(&f, a->force);
	atomic_file_discard(&f);
	/* The bad-sector list beside the archive, as ct-import keeps it. */
	if (rc == 0 && ct_report_store(a->output, a->name, a->tar.root, a->tar.on_read_error,
				       stats) < 0)
		log_warn("the list of unreadable ranges was not written beside %s", a->output);
	return rc;
}

/* Run the remote command given, with the reply of its stdout; returns the
 * exit code p2v should end with. */
static int remote_create(struct ssh_conn *c, const struct ct_args *a, const char *template_file)
{
	char **args = NULL;
	size_t n = 0;
	int rc = remote_args_add(&args, &n, "template", template_file) < 0
			 ? P2V_EXIT_FAILURE
			 : remote_run_create(c, a->remote_create, "ct-import create-ct", args, n,
					     a->create_args, a->n_create_args, "the container");
	remote_args_free(args, n);
	return rc;
}

static int pressure_of_sender(void *sender) { return async_sink_pressure(sender); }

/* One connection's worth of a resumable ct stream. */
struct ct_send {
	struct ct_args *a;
	const char *root;
	struct progress *prog;
	struct tarball_stats *stats;
	struct transfer tr;
	struct stream_writer w;
	uint8_t digest[SHA256_LEN];
	bool have_digest;
	char reply[4096];
};

/* The zstd frame just ended at tar offset tar_off: tell the receiver. */
static int ct_checkpoint(void *ctx, uint64_t tar_off, const uint8_t tar_state[SHA256_STATE_LEN],
			 int level)
{
	struct ct_send *cs = ctx;
	struct stream_checkpoint c = { .aux = tar_off, .level = (uint32_t)level };
	memcpy(c.aux_sha, tar_state, SHA256_STATE_LEN);
	int rc = stream_write_checkpoint(&cs->w, &c);
	if (rc == 0)
		transfer_checkpoint(&cs->tr, c.offset, cs->w.wire);
	return rc;
}

/* Run the receiver on conn and send the archive from where it stands.
 * Returns 0 with cs->reply holding its OK line, or a negative error. */
static int ct_attempt(void *ctx, struct ssh_conn *conn)
{
	struct ct_send *cs = ctx;
	struct ct_args *a = cs->a;
	struct async_sink *sender = NULL;
	_cleanup_free_ char *hello = NULL;
	char line[STREAM_READY_MAX + 64];
	struct stream_checkpoint ck;
	bool zstd = a->tar.compression == TAR_ZSTD;
	int rc = ssh_conn_exec(conn, a->remote_import ? a->remote_import : "ct-import receive");
	if (rc < 0)
		return rc;
	stream_writer_free(&cs->w);
	if ((rc = stream_writer_init(&cs->w, ssh_conn_write, conn)) < 0)
		return rc;
	if (!(hello = hello_json(a, cs->root, cs->tr.id)))
		return -ENOMEM;
	/* The HELLO goes straight out; the receiver answers where to resume. */
	ssh_conn_set_window(conn, zstd ? STREAM_RESUME_WINDOW : 0);
	if ((rc = stream_write_hello(&cs->w, hello)) < 0 ||
	    (rc = ssh_conn_read_ready(conn, line, sizeof(line))) < 0)
		goto finish;
	if (stream_ready_parse(line, &ck) < 0 || (ck.offset && !zstd)) {
		log_error("unexpected answer from ct-import: %s", line);
		rc = -SSH_ERR_REMOTE;
		goto finish;
	}
	if (ck.offset && (rc = stream_writer_resume(&cs->w, ck.offset, ck.sha)) < 0) {
		log_error("ct-import's resume point is not usable");
		rc = -SSH_ERR_REMOTE;
		goto finish;
	}
	transfer_resumed(&cs->tr, a->name, ck.offset);
	transfer_connection(&cs->tr, cs->w.wire);
	a->tar.skip_to = ck.aux;
	a->tar.skip_state = ck.offset ? ck.aux_sha : NULL;
	a->tar.start_level = (int)ck.level;
	/* Encryption and socket writes run in their own thread, overlapping
	 * with reading and compressing. */
	if ((rc = async_sink_start(&sender, ssh_conn_write, conn)) < 0)
		goto finish;
	cs->w.sink = async_sink_write;
	cs->w.sink_ctx = sender;
	struct ct_sink sink = { .stream = &cs->w, .progress = cs->prog };
	/* Without --level, zstd follows the link: harder while the network is
	 * the bottleneck, lighter while the CPU is. */
	a->tar.pressure = pressure_of_sender;
	a->tar.pressure_ctx = sender;
	if (zstd) {
		a->tar.checkpoint = ct_checkpoint;
		a->tar.checkpoint_ctx = cs;
		a->tar.checkpoint_every = STREAM_CHECKPOINT_EVERY;
	}
	/* Archiving again from the start (resuming skips what was sent, but
	 * reads it) finds the same unreadable ranges again, so the list is
	 * whole after a reconnect or a --resume. */
	tarball_stats_free(cs->stats);
	rc = tarball_write(&a->tar, ct_sink_write, &sink, cs->stats);
	/* The unreadable ranges go after the last data, before END. */
	if (rc == 0)
		rc = ct_report_send(&cs->w, cs->stats);
	if (rc == 0 && (rc = stream_write_end(&cs->w, cs->digest)) == 0)
		cs->have_digest = true;
	else if (rc != 0 && !ssh_conn_lost(conn))
		stream_write_abort(&cs->w, "p2v failed while reading the source");
	int sent = async_sink_finish(sender);
	if (rc == 0)
		rc = sent;
finish:
	return transfer_attempt_end(&cs->tr, conn, rc, cs->reply, sizeof(cs->reply), NULL);
}

static int send_over_ssh(struct ct_args *a, const char *root, struct progress *prog,
			 struct tarball_stats *stats)
{
	struct ssh_target target = { 0 };
	struct ssh_conn *conn = NULL;
	struct ct_send *cs = calloc(1, sizeof(*cs));
	if (!cs)
		return P2V_EXIT_FAILURE;
	*cs = (struct ct_send){ .a = a, .root = root, .prog = prog, .stats = stats };
	int rc = ssh_target_parse(a->to, &target);
	if (rc < 0) {
		free(cs);
		return P2V_EXIT_USAGE;
	}
	if ((rc = transfer_begin(&cs->tr, &a->resume, "template", a->name)) < 0)
		goto out;
	rc = transfer_with_retries(&cs->tr, &a->resume, a->name, prog, &target, &a->auth, &conn,
				   ct_attempt, cs);
	if (rc < 0)
		goto out;
	/* Reply: "OK PATH SIZE SHA256". */
	char path[4096] = "", hex[2 * SHA256_LEN + 1];
	if ((rc = transfer_reply_check(cs->reply, cs->have_digest ? cs->digest : NULL, NULL, path,
				       sizeof(path), hex)) < 0)
		goto out;
	if (cs->have_digest)
		log_info("stored on %s as %s (sha256 %s, verified)", target.host, path, hex);
	else   /* a run before this one sent it all; the receiver verified it */
		log_info("stored on %s as %s (sha256 %s, verified when received)", target.host,
			 path, hex);
	transfer_report(&cs->tr, a->name);
	transfer_forget(&cs->tr);
	if (a->create) {
		const char *file = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		rc = remote_create(conn, a, file);
		goto done;
	}
out:
	if (rc < 0)
		transfer_failed(&cs->tr);
	rc = rc < 0 ? ssh_exit_status(rc) : P2V_EXIT_OK;
done:
	stream_writer_free(&cs->w);
	free(cs);
	if (conn)
		ssh_conn_close(conn);
	ssh_target_free(&target);
	return rc;
}

int cmd_ct(int argc, char **argv)
{
	struct ct_args a = { .progress = PROGRESS_AUTO };
	resume_opts_init(&a.resume);
	a.tar.excludes = a.excludes;
	int idx = opt_parse(ct_opts, argc, argv, ct_opt, &a);
	int rc = P2V_EXIT_USAGE;
	if (idx < 0)
		goto out;
	if (a.help) {
		opt_print_help(stdout,
			       "p2v ct --name NAME (--root DIR | --device DEV) (--to [USER@]HOST[:PORT] | --output FILE) [OPTIONS]",
			       "Archive a Linux root filesystem losslessly (owners, modes, ACLs, xattrs,\n"
			       "file capabilities, hard links, device nodes, sparse files) as a compressed\n"
			       "pax tarball and stream it over SSH to 'ct-import receive' on the hypervisor,\n"
			       "which stores it in the template cache once its SHA-256 is verified.",
			       ct_opts);
		rc = P2V_EXIT_OK;
		goto out;
	}
	if (idx < argc) {
		log_error("unexpected argument '%s' (see p2v ct --help)", argv[idx]);
		goto out;
	}
	if (check_args(&a) < 0)
		goto out;

	p2v_install_signals();
	struct source_mounts *mounts = NULL;
	const char *root = a.root;
	if (a.device) {
		/* Not a block is read before the fake-RAID gate has passed. */
		int gate = fakeraid_gate(&a.device, 1, NULL);
		if (gate < 0) {
			rc = gate == -EPERM ? P2V_EXIT_FAKERAID : P2V_EXIT_FAILURE;
			goto out;
		}
		if (source_mount(a.device, &mounts, &root) < 0) {
			rc = P2V_EXIT_FAILURE;
			goto out;
		}
	} else {
		struct stat st;
		if (stat(root, &st) < 0) {
			log_error("source root %s: %s", root, strerror(errno));
			goto out;
		}
		if (!S_ISDIR(st.st_mode)) {
			log_error("source root %s is not a directory", root);
			goto out;
		}
	}
	a.tar.root = root;
	struct progress prog;
	progress_init(&prog, a.progress, "archiving", used_bytes_estimate(root));
	a.tar.progress = ct_progress;
	a.tar.progress_ctx = &prog;
	struct tarball_stats stats = { 0 };
	if (a.output)
		rc = archive_to_file(&a, &prog, &stats) < 0 ? P2V_EXIT_FAILURE : P2V_EXIT_OK;
	else
		rc = send_over_ssh(&a, root, &prog, &stats);
	progress_finish(&prog);
	if (rc == P2V_EXIT_OK && a.output)
		log_info("wrote %s", a.output);
	if (mounts)
		source_unmount(mounts);
	char src[32], out[32];
	/* The bad-sector report, whole, at the end of the run. */
	ct_report_log(&stats, a.tar.on_read_error);
	tarball_stats_free(&stats);
	if (rc == P2V_EXIT_OK)
		log_info("%llu entries, %s read, %s sent in %.1f s (%s level %d-%d)%s",
			 (unsigned long long)stats.entries,
			 format_bytes(stats.source_bytes, src, sizeof(src)),
			 format_bytes(stats.compressed_bytes, out, sizeof(out)), progress_elapsed(&prog),
			 a.tar.compression == TAR_ZSTD ? "zstd" : "gzip", stats.level_min, stats.level_max,
			 stats.warnings ? " (with warnings: see above)" : "");
	else
		log_error("migration of %s failed; nothing was published", a.name);
out:
	remote_args_free(a.create_args, a.n_create_args);
	return rc;
}
