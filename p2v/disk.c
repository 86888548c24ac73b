/* p2v disk: image whole disks, sending only what matters (used blocks of
 * ext2/3/4, swap headers, everything else that is not zeros), each as its
 * own stream to `ct-import receive` (or into a local raw image). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "async_sink.h"
#include "atomic_file.h"
#include "commands.h"
#include "disk_layout.h"
#include "disk_list.h"
#include "disk_output.h"
#include "disk_report.h"
#include "disk_send.h"
#include "gate.h"
#include "inventory.h"
#include "log.h"
#include "options.h"
#include "progress.h"
#include "remote.h"
#include "resume.h"
#include "signals.h"
#include "ssh.h"
#include "ssh_opts.h"
#include "stream.h"
#include "transfer_loop.h"
#include "util.h"
#include "version.h"

#define MAX_DISKS 32

enum {
	OPT_TO = 256, OPT_NAME, OPT_DISK, OPT_FORMAT, OPT_TARGET_DEV, OPT_NO_SKIP_FREE,
	OPT_LEVEL, OPT_OUTPUT, OPT_FORCE, OPT_PROGRESS, OPT_REMOTE_IMPORT, OPT_CREATE,
	OPT_REMOTE_CREATE, OPT_ON_READ_ERROR,
	/* Passed through to create-vm with --create. */
	OPT_C_VMID = 512, OPT_C_MEMORY, OPT_C_CORES, OPT_C_BRIDGE, OPT_C_STORAGE,
	OPT_C_BACKEND, OPT_C_DRY_RUN,
};

/* Also read by p2v run for its kernel command line keys. */
const struct opt_def disk_opts[] = {
	{ "to", OPT_TO, "[USER@]HOST[:PORT]", "hypervisor to send to over SSH", "p2v.server" },
	{ "name", OPT_NAME, "NAME", "VM name; disks become NAME (one disk) or NAME-disk0, NAME-disk1 …", "p2v.name" },
	{ "disk", OPT_DISK, "DEV", "image this disk (repeatable; default: every fixed disk except the boot medium; an image file is accepted)", "p2v.disks," },
	{ "format", OPT_FORMAT, "qcow2|raw", "what the hypervisor writes (default qcow2)", "p2v.format" },
	{ "target-dev", OPT_TARGET_DEV, "PATH", "write the (single) disk onto this block device or LV on the hypervisor" },
	{ "no-skip-free", OPT_NO_SKIP_FREE, NULL, "send free blocks too (everything but zeros): a byte-exact copy" },
	{ "level", OPT_LEVEL, "N", "zstd level per 1 MiB chunk (0 none, 1-19; default 1)" },
	{ "output", OPT_OUTPUT, "FILE", "write the (single) disk as a sparse raw image or onto a block device instead of sending it" },
	{ "force", OPT_FORCE, NULL, "with --output: replace an existing file" },
	{ "on-read-error", OPT_ON_READ_ERROR, "fail|zero", "a sector that stays unreadable after retries in ever smaller pieces: fail cleanly (default), or zero-fill it and list it in the report sent with the disk", "p2v.on_read_error" },
	SSH_OPT_DEFS,
	RESUME_OPT_DEFS,
	{ "remote-import", OPT_REMOTE_IMPORT, "CMD", "remote command that receives each disk (default 'ct-import receive')" },
	{ "progress", OPT_PROGRESS, "auto|json|none", "progress display (default auto: a line on a terminal)" },
	{ "create", OPT_CREATE, NULL, "after every disk is verified, create the VM with 'ct-import create-vm'", "p2v.create" },
	{ "remote-create", OPT_REMOTE_CREATE, "CMD", "remote command for --create (default 'ct-import create-vm')" },
	{ "vmid", OPT_C_VMID, "N", "with --create: VM ID", "p2v.vmid" },
	{ "memory", OPT_C_MEMORY, "MB", "with --create: memory in MiB" },
	{ "cores", OPT_C_CORES, "N", "with --create: CPU cores" },
	{ "bridge", OPT_C_BRIDGE, "BR", "with --create: bridge for the network card" },
	{ "storage", OPT_C_STORAGE, "STORAGE", "with --create: Proxmox storage for the disks" },
	{ "backend", OPT_C_BACKEND, "pve|libvirt", "with --create: Proxmox or libvirt/QEMU" },
	{ "dry-run", OPT_C_DRY_RUN, NULL, "with --create: show what create-vm would do, change nothing" },
	{ "verbose", 'v', NULL, "log more" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 },
};

struct disk_args {
	struct ssh_auth_opts auth;
	struct resume_opts resume;
	const char *to, *name, *format, *target_dev, *output, *remote_import, *remote_create;
	const char *disks[MAX_DISKS];
	size_t n_disks;
	char **create_args;
	size_t n_create_args;
	int level;
	enum progress_mode progress;
	enum read_error_policy on_read_error;
	bool skip_free, force, create, help;
};

static int disk_opt(void *ctx, int key, const char *arg)
{
	struct disk_args *a = ctx;
	uint64_t n;
	if (ssh_opt_handle(&a->auth, key, arg))
		return 0;
	int r = resume_opt_handle(&a->resume, key, arg);
	if (r)
		return r < 0 ? r : 0;
	switch (key) {
	case OPT_TO: a->to = arg; break;
	case OPT_NAME: a->name = arg; break;
	case OPT_TARGET_DEV: a->target_dev = arg; break;
	case OPT_NO_SKIP_FREE: a->skip_free = false; break;
	case OPT_OUTPUT: a->output = arg; break;
	case OPT_FORCE: a->force = true; break;
	case OPT_REMOTE_IMPORT: a->remote_import = arg; break;
	case OPT_REMOTE_CREATE: a->remote_create = arg; break;
	case OPT_CREATE: a->create = true; break;
	case 'v': log_set_level(LOG_DEBUG); break;
	case 'h': a->help = true; break;
	case OPT_DISK:
		if (a->n_disks == MAX_DISKS) {
			log_error("too many --disk options (at most %d)", MAX_DISKS);
			return -EINVAL;
		}
		a->disks[a->n_disks++] = arg;
		break;
	case OPT_FORMAT:
		if (strcmp(arg, "qcow2") && strcmp(arg, "raw")) {
			log_error("--format takes qcow2 or raw, not '%s'", arg);
			return -EINVAL;
		}
		a->format = arg;
		break;
	case OPT_LEVEL:
		if (parse_u64(arg, 0, 19, &n) < 0) {
			log_error("--level takes a number from 0 to 19, not '%s'", arg);
			return -EINVAL;
		}
		a->level = (int)n;
		break;
	case OPT_PROGRESS:
		if (progress_mode_parse(arg, &a->progress) < 0) {
			log_error("--progress takes auto, json or none, not '%s'", arg);
			return -EINVAL;
		}
		break;
	case OPT_ON_READ_ERROR:
		if (read_error_policy_parse(arg, &a->on_read_error) < 0) {
			log_error("--on-read-error takes fail or zero, not '%s'", arg);
			return -EINVAL;
		}
		break;
	default:
		if (key >= OPT_C_VMID)
			return remote_args_add(&a->create_args, &a->n_create_args,
					       opt_name(disk_opts, key), arg);
	}
	return 0;
}

static int check_args(const struct disk_args *a)
{
	if (!a->name || !name_is_safe(a->name) || strlen(a->name) > 100) {
		log_error("--name is required: up to 100 letters, digits, '.', '_', '-', '+' (not starting with '.' or '-')");
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
		log_error("VM options (--vmid, --memory …) need --create");
		return -EINVAL;
	}
	if (a->target_dev && !a->to) {
		log_error("--target-dev names a device on the hypervisor: it needs --to");
		return -EINVAL;
	}
	return 0;
}

/* The stream's name for disk i of n. */
static void disk_stream_name(const struct disk_args *a, size_t i, size_t n, char *buf, size_t cap)
{
	if (n == 1)
		snprintf(buf, cap, "%s", a->name);
	else
		snprintf(buf, cap, "%s-disk%zu", a->name, i);
}

static char *hello_json(const struct disk_args *a, const char *name, const struct disk_source *s,
			const char *transfer_id)
{
	char model[256] = "";
	_cleanup_free_ char *m = NULL;
	const char *base = strrchr(s->path, '/') ? strrchr(s->path, '/') + 1 : s->path;
	char path[512];
	snprintf(path, sizeof(path), "/sys/block/%s/device/model", base);
	if (read_file(path, 255, &m, NULL) == 0) {
		size_t len = strcspn(m, "\n");
		while (len && m[len - 1] == ' ')
			len--;
		snprintf(model, sizeof(model), "%.*s", (int)len, m);
	}
	json_t *o = json_pack("{s:i, s:s, s:s, s:I, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:b}}",
			      "version", STREAM_VERSION, "kind", "disk", "name", name,
			      "size", (json_int_t)s->size, "format", a->format ? a->format : "qcow2",
			      "compression", a->level ? "zstd" : "none", "p2v_version", P2V_VERSION,
			      "source", "device", s->path, "model", model,
			      "partition_table", s->pttype, "efi", s->efi);
	/* Machine facts for create-vm's memory and cores defaults; optional. */
	if (o && transfer_id)
		json_object_set_new(o, "transfer_id", json_string(transfer_id));
	json_t *inv = o ? inventory_hello_json(NULL) : NULL;
	if (inv)
		json_object_set_new(o, "inventory", inv);
	char *str = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return str;
}

/* Resuming without reading everything again: the receiver makes a point
 * durable at least every quarter window of stream bytes, and at least this
 * often through empty stretches, which cost nothing to send. */
#define DISK_CHECKPOINT_SPAN (1ull << 30)

/* One disk's stream, across reconnects. */
struct disk_stream {
	const struct disk_args *a;
	const char *name;
	const char *cmd;            /* the receiver's command line */
	struct disk_source *s;
	struct progress prog;
	struct transfer tr;
	struct stream_writer w;
	struct disk_frames f;
	struct disk_send_stats st;
	uint64_t ck_wire, ck_off;   /* frame bytes and offset at the last checkpoint */
	uint64_t bad_sig;           /* the unreadable ranges last kept for --resume */
	bool have_digest;
	char reply[4096];
};

static bool disk_want_checkpoint(void *ctx, uint64_t off)
{
	struct disk_stream *ds = ctx;
	return ds->f.wire_bytes - ds->ck_wire >= STREAM_CHECKPOINT_EVERY ||
	       off - ds->ck_off >= DISK_CHECKPOINT_SPAN;
}

static int disk_checkpoint(void *ctx, uint64_t off, const uint8_t state[SHA256_STATE_LEN])
{
	struct disk_stream *ds = ctx;
	struct stream_checkpoint c = { .offset = off };
	uint8_t frame[STREAM_FRAME_HEADER_LEN + STREAM_CHECKPOINT_LEN];
	memcpy(c.sha, state, SHA256_STATE_LEN);
	put_be32(frame, FRAME_CHECKPOINT);
	put_be32(frame + 4, STREAM_CHECKPOINT_LEN);
	put_be64(frame + 8, off);
	stream_checkpoint_encode(&c, frame + STREAM_FRAME_HEADER_LEN);
	ds->f.wire_bytes += sizeof(frame);
	ds->ck_wire = ds->f.wire_bytes;
	ds->ck_off = off;
	transfer_checkpoint(&ds->tr, off, ds->w.wire + ds->f.wire_bytes);
	unreadable_remember(ds->s, ds->tr.path, ds->tr.id, &ds->bad_sig);
	return ds->f.sink(ds->f.sink_ctx, frame, sizeof(frame));
}

/* Run the receiver on conn and send the disk from where it stands. 0 with
 * ds->reply holding its OK line, or a negative error. */
static int disk_attempt(void *ctx, struct ssh_conn *conn)
{
	struct disk_stream *ds = ctx;
	const struct disk_args *a = ds->a;
	struct async_sink *sender = NULL;
	_cleanup_free_ char *hello = NULL;
	char line[STREAM_READY_MAX + 64];
	struct stream_checkpoint ck;
	int rc = ssh_conn_exec(conn, ds->cmd);
	if (rc < 0)
		return rc;
	stream_writer_free(&ds->w);
	disk_frames_free(&ds->f);
	if ((rc = stream_writer_init(&ds->w, ssh_conn_write, conn)) < 0)
		return rc;
	if (!(hello = hello_json(a, ds->name, ds->s, ds->tr.id)))
		return -ENOMEM;
	/* The HELLO goes straight out; the receiver answers where to resume. */
	ssh_conn_set_window(conn, STREAM_RESUME_WINDOW);
	if ((rc = stream_write_hello(&ds->w, hello)) < 0 ||
	    (rc = ssh_conn_read_ready(conn, line, sizeof(line))) < 0)
		goto finish;
	if (stream_ready_parse(line, &ck) < 0 || ck.offset > ds->s->size ||
	    (ck.offset % DISK_WINDOW && ck.offset != ds->s->size)) {
		log_error("unexpected answer from ct-import: %s", line);
		rc = -SSH_ERR_REMOTE;
		goto finish;
	}
	transfer_resumed(&ds->tr, ds->name, ck.offset);
	transfer_connection(&ds->tr, ds->w.wire);
	/* Ranges found unreadable from here on are found again; those before
	 * were found by this process or, after a kill, recorded. */
	unreadable_recall(ds->s, ds->tr.path, ds->tr.id, ck.offset);
	while (ds->s->unreadable.n && ds->s->unreadable.v[ds->s->unreadable.n - 1].off >= ck.offset)
		ds->s->unreadable.n--;
	if ((rc = async_sink_start(&sender, ssh_conn_write, conn)) < 0 ||
	    (rc = disk_frames_init(&ds->f, async_sink_write, sender, a->level)) < 0)
		goto stop;
	ds->w.sink = async_sink_write;
	ds->w.sink_ctx = sender;
	ds->ck_wire = 0;
	ds->ck_off = ck.offset;
	struct disk_resume r = { .start = ck.offset, .state = ck.offset ? ck.sha : NULL,
				 .want = disk_want_checkpoint, .checkpoint = disk_checkpoint,
				 .ctx = ds };
	rc = disk_send_from(ds->s, disk_frames_emit, &ds->f, &ds->prog, &ds->f.wire_bytes,
			    &p2v_interrupted, &r, &ds->st);
	/* Bad sectors: reported, and listed to the receiver before END. */
	int urc = unreadable_finish(ds->name, ds->s, rc == 0 ? &ds->f : NULL, NULL);
	if (rc == 0)
		rc = urc;
	if (rc == 0 && (rc = disk_frames_end(&ds->f, ds->s->size, ds->st.digest)) == 0)
		ds->have_digest = true;
	else if (rc != 0 && !ssh_conn_lost(conn))
		stream_write_abort(&ds->w, "p2v failed while reading the disk");
stop:;
	int sent = sender ? async_sink_finish(sender) : 0;
	if (rc == 0)
		rc = sent;
finish:
	return transfer_attempt_end(&ds->tr, conn, rc, ds->reply, sizeof(ds->reply), ds->name);
}

/* Send one disk, reconnecting *connp when the link drops; *remote_path gets
 * the path ct-import stored it under. 0 or a negative error (logged). */
static int send_disk(struct ssh_conn **connp, const struct ssh_target *target,
		     const struct disk_args *a, const char *name, struct disk_source *s,
		     char **remote_path)
{
	_cleanup_free_ char *cmd = NULL;
	char **args = NULL;
	size_t nargs = 0;
	int rc = 0;
	if (a->target_dev)
		rc = remote_args_add(&args, &nargs, "target-dev", a->target_dev);
	cmd = rc == 0 ? remote_command(a->remote_import ? a->remote_import : "ct-import receive",
				       args, nargs) : NULL;
	remote_args_free(args, nargs);
	struct disk_stream *ds = cmd ? calloc(1, sizeof(*ds)) : NULL;
	if (!ds)
		return -ENOMEM;
	ds->a = a;
	ds->name = name;
	ds->cmd = cmd;
	ds->s = s;
	if ((rc = transfer_begin(&ds->tr, &a->resume, "disk", name)) < 0)
		goto out;
	if (ds->tr.done && ds->tr.remote_path[0]) {
		log_info("%s was stored as %s by an earlier run", name, ds->tr.remote_path);
		rc = (*remote_path = strdup(ds->tr.remote_path)) ? 0 : -ENOMEM;
		goto out;
	}
	progress_init(&ds->prog, a->progress, name, s->size);
	rc = transfer_with_retries(&ds->tr, &a->resume, name, &ds->prog, target, &a->auth, connp,
				   disk_attempt, ds);
	progress_finish(&ds->prog);
	if (rc == 0) {
		char path[4096], hex[2 * SHA256_LEN + 1];
		rc = transfer_reply_check(ds->reply, ds->have_digest ? ds->st.digest : NULL, name,
					  path, sizeof(path), hex);
		if (rc == 0 && !(*remote_path = strdup(path)))
			rc = -ENOMEM;
		if (rc == 0) {
			if (ds->have_digest)
				disk_send_report(name, s, &ds->st, ds->f.wire_bytes,
						 progress_elapsed(&ds->prog));
			transfer_report(&ds->tr, name);
			transfer_mark_done(&ds->tr, path);
			log_info("stored as %s (sha256 verified%s)", path,
				 ds->have_digest ? "" : " when received");
		}
	}
out:
	if (rc < 0)
		transfer_failed(&ds->tr);
	disk_frames_free(&ds->f);
	stream_writer_free(&ds->w);
	free(ds);
	return rc;
}

/* ct-import create-vm --name NAME --disk PATH… [user's options]. */
static int remote_create_vm(struct ssh_conn *c, const struct disk_args *a, char **paths, size_t n)
{
	char **args = NULL;
	size_t nargs = 0;
	int rc = remote_args_add(&args, &nargs, "name", a->name);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = remote_args_add(&args, &nargs, "disk", paths[i]);
	rc = rc < 0 ? P2V_EXIT_FAILURE
		    : remote_run_create(c, a->remote_create, "ct-import create-vm", args, nargs,
					a->create_args, a->n_create_args, "the VM");
	remote_args_free(args, nargs);
	return rc;
}

static int send_all(const struct disk_args *a, const char *const *disks, size_t n)
{
	struct ssh_target target = { 0 };
	struct ssh_conn *conn = NULL;
	char *paths[MAX_DISKS] = { 0 };
	int rc = ssh_target_parse(a->to, &target);
	if (rc < 0)
		return P2V_EXIT_USAGE;
	/* One exec channel per disk, one after the other: each disk is
	 * verified and published on its own. */
	for (size_t i = 0; i < n && rc == 0; i++) {
		char name[160];
		struct disk_source s;
		disk_stream_name(a, i, n, name, sizeof(name));
		if ((rc = disk_source_open(disks[i], a->skip_free, &s)) < 0)
			break;
		s.on_read_error = a->on_read_error;
		rc = send_disk(&conn, &target, a, name, &s, &paths[i]);
		disk_source_close(&s);
	}
	/* Every disk is stored: nothing is left to resume. */
	for (size_t i = 0; i < n && rc == 0; i++) {
		char name[160];
		struct transfer t;
		disk_stream_name(a, i, n, name, sizeof(name));
		snprintf(t.path, sizeof(t.path), "%s/%s.disk.json", a->resume.state_dir, name);
		transfer_forget(&t);
	}
	if (rc == 0 && a->create) {
		if (!conn && (rc = ssh_conn_open(&target, &a->auth, &conn)) < 0)
			goto out;
		rc = remote_create_vm(conn, a, paths, n);
		goto done;
	}
out:
	rc = rc < 0 ? ssh_exit_status(rc) : P2V_EXIT_OK;
done:
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	if (conn)
		ssh_conn_close(conn);
	ssh_target_free(&target);
	return rc;
}

int cmd_disk(int argc, char **argv)
{
	struct disk_args a = { .progress = PROGRESS_AUTO, .skip_free = true, .level = 1 };
	resume_opts_init(&a.resume);
	char **found = NULL;
	int nfound = 0;
	int idx = opt_parse(disk_opts, argc, argv, disk_opt, &a);
	int rc = P2V_EXIT_USAGE;
	if (idx < 0)
		goto out;
	if (a.help) {
		opt_print_help(stdout,
			       "p2v disk --name NAME (--to [USER@]HOST[:PORT] | --output FILE) [--disk DEV]... [OPTIONS]",
			       "Image whole disks for a VM, sending only what matters: the used blocks of\n"
			       "ext2/3/4 filesystems, swap headers, and every other non-zero byte. Each\n"
			       "disk travels as its own stream to 'ct-import receive', which writes a qcow2\n"
			       "or raw image and publishes it once its SHA-256 is verified. Sources are\n"
			       "opened read-only and never written.",
			       disk_opts);
		rc = P2V_EXIT_OK;
		goto out;
	}
	if (idx < argc) {
		log_error("unexpected argument '%s' (see p2v disk --help)", argv[idx]);
		goto out;
	}
	if (check_args(&a) < 0)
		goto out;
	const char *const *disks = a.disks;
	size_t n = a.n_disks;
	if (!n) {
		if ((nfound = disk_list_default(&found)) < 0) {
			rc = P2V_EXIT_FAILURE;
			goto out;
		}
		if (!nfound) {
			log_error("no fixed disk found; name one with --disk");
			rc = P2V_EXIT_FAILURE;
			goto out;
		}
		if (nfound > MAX_DISKS)
			nfound = MAX_DISKS;
		disks = (const char *const *)found;
		n = (size_t)nfound;
		for (size_t i = 0; i < n; i++)
			log_info("disk %zu: %s", i, disks[i]);
	}
	if ((a.output || a.target_dev) && n != 1) {
		log_error("--output and --target-dev take exactly one disk (%zu given or found)", n);
		goto out;
	}
	/* Not a block is read before the fake-RAID gate has passed. */
	int gate = fakeraid_gate(disks, n, NULL);
	if (gate < 0) {
		rc = gate == -EPERM ? P2V_EXIT_FAKERAID : P2V_EXIT_FAILURE;
		goto out;
	}
	p2v_install_signals();
	if (a.output) {
		struct disk_output_opts o = { .path = a.output, .force = a.force,
					      .skip_free = a.skip_free, .progress = a.progress,
					      .stop = &p2v_interrupted,
					      .on_read_error = a.on_read_error };
		rc = disk_write_output(disks[0], &o) < 0 ? P2V_EXIT_FAILURE : P2V_EXIT_OK;
	} else {
		rc = send_all(&a, disks, n);
	}
	if (rc != P2V_EXIT_OK)
		log_error("imaging %s failed; nothing was published", a.name);
out:
	for (int i = 0; i < nfound; i++)
		free(found[i]);
	free(found);
	remote_args_free(a.create_args, a.n_create_args);
	return rc;
}
