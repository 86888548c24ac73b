/* ct-import create-vm: a VM from received disk images, through Proxmox's qm
 * where it exists, else a libvirt domain XML and a QEMU run.sh beside the
 * disks. Whether the guest boots by UEFI and whether it is Windows is read
 * from the first disk's partition table (disk_probe.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "commands.h"
#include "config.h"
#include "create_spec.h"
#include "disk_probe.h"
#include "libvirt_xml.h"
#include "log.h"
#include "options.h"
#include "pve.h"
#include "qm.h"
#include "run.h"
#include "util.h"
#include "validate.h"
#include "vm_spec.h"

#define MAX_DISKS 30

enum {
	OPT_DISK = 256, OPT_VMID, OPT_NAME, OPT_MEMORY, OPT_CORES, OPT_BRIDGE, OPT_STORAGE,
	OPT_BACKEND, OPT_DRY_RUN, OPT_IMPORT_DIR, OPT_CONFIG,
};

static const struct opt_def vm_opts[] = {
	{ "disk", OPT_DISK, "FILE", "disk image or block device, repeatable; the first one boots (a bare name is looked up in the import directory)" },
	{ "vmid", OPT_VMID, "N", "Proxmox VMID (default: the next free one)" },
	{ "name", OPT_NAME, "NAME", "VM name, a DNS name (default: from the first disk's file name)" },
	{ "memory", OPT_MEMORY, "MB", "memory in MiB (default 2048)" },
	{ "cores", OPT_CORES, "N", "CPU cores (default 2)" },
	{ "bridge", OPT_BRIDGE, "BR", "bridge for the network interface, or none (default vmbr0)" },
	{ "storage", OPT_STORAGE, "S", "Proxmox storage the disks are imported into (default local-lvm)" },
	{ "backend", OPT_BACKEND, "pve|libvirt", "how to define it (default pve when qm is installed)" },
	{ "dry-run", OPT_DRY_RUN, NULL, "print what would be run or written and change nothing" },
	{ "import-dir", OPT_IMPORT_DIR, "DIR", "where bare disk names are found (default from the config file, else " CTI_DEFAULT_IMPORT_DIR ")" },
	{ "config", OPT_CONFIG, "FILE", "config file (default " CTI_CONFIG_FILE ")" },
	{ "verbose", 'v', NULL, "log more" },
	{ "help", 'h', NULL, "show this help" },
	{ 0 },
};

struct vm_args {
	const char *disks[MAX_DISKS];
	size_t ndisks;
	bool too_many;
	const char *vmid, *name, *memory, *cores, *bridge, *storage, *backend, *import_dir, *config;
	bool dry_run, help;
};

static int vm_opt(void *ctx, int key, const char *arg)
{
	struct vm_args *a = ctx;
	switch (key) {
	case OPT_DISK:
		if (a->ndisks < MAX_DISKS)
			a->disks[a->ndisks++] = arg;
		else
			a->too_many = true;
		break;
	case OPT_VMID: a->vmid = arg; break;
	case OPT_NAME: a->name = arg; break;
	case OPT_MEMORY: a->memory = arg; break;
	case OPT_CORES: a->cores = arg; break;
	case OPT_BRIDGE: a->bridge = arg; break;
	case OPT_STORAGE: a->storage = arg; break;
	case OPT_BACKEND: a->backend = arg; break;
	case OPT_DRY_RUN: a->dry_run = true; break;
	case OPT_IMPORT_DIR: a->import_dir = arg; break;
	case OPT_CONFIG: a->config = arg; break;
	case 'v': log_set_level(LOG_DEBUG); break;
	case 'h': a->help = true; break;
	}
	return 0;
}

/* pve-storage-id and pve-bridge-id, as Proxmox checks them. */
static bool valid_id(const char *s, bool storage)
{
	size_t n = strlen(s);
	if (!n || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && c != '-' && c != '_' && c != '.')
			return false;
		if (storage && (i == 0 || i == n - 1) && !alnum)
			return false;
	}
	return !storage || !((s[0] >= '0' && s[0] <= '9'));
}

/* The VM name from a disk's file name: "web01-disk0.qcow2" -> "web01-disk0". */
static char *name_from_disk(const char *path)
{
	const char *base = strrchr(path, '/');
	char *s = strdup(base ? base + 1 : path);
	if (!s)
		return NULL;
	char *dot = strrchr(s, '.');
	if (dot && dot != s)
		*dot = '\0';
	for (char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.'))
			*p = '-';
	/* Labels may not start or end with '-' nor be empty. */
	char *p = s;
	while (*p == '-' || *p == '.')
		p++;
	memmove(s, p, strlen(p) + 1);
	size_t n = strlen(s);
	while (n && (s[n - 1] == '-' || s[n - 1] == '.'))
		s[--n] = '\0';
	for (char *q; (q = strstr(s, ".-")) || (q = strstr(s, "-.")) || (q = strstr(s, ".."));)
		memmove(q, q + 1, strlen(q));
	if (!*s || !valid_dns_name(s)) {
		free(s);
		return strdup("p2v-vm");
	}
	return s;
}

/* An absolute path for --disk: as given, else NAME in the import directory. */
static char *resolve_disk(const char *arg, const char *import_dir)
{
	char *p = realpath(arg, NULL);
	if (!p && errno == ENOENT && arg[0] != '/' && name_is_safe(arg)) {
		_cleanup_free_ char *in = NULL;
		if (asprintf(&in, "%s/%s", import_dir, arg) < 0)
			return NULL;
		p = realpath(in, NULL);
	}
	if (!p)
		log_error("disk %s: %s", arg, strerror(errno));
	else if (strchr(p, ',') || strpbrk(p, " \t\n")) {
		log_error("disk path %s holds a comma or blank, which qm and QEMU options cannot carry", p);
		free(p);
		return NULL;
	}
	return p;
}

static int parse_uint(const char *opt, const char *s, unsigned min, unsigned max, unsigned *out)
{
	uint64_t v;
	if (parse_u64(s, min, max, &v) < 0) {
		log_error("--%s must be a number from %u to %u", opt, min, max);
		return -EINVAL;
	}
	*out = (unsigned)v;
	return 0;
}

static int create_pve(struct vm_spec *spec, bool vmid_given, bool dry_run)
{
	int rc;
	if (!vmid_given && (rc = pve_next_vmid(dry_run, &spec->vmid)) < 0)
		return rc;
	if (pve_vmid_exists(spec->vmid)) {
		log_error("VMID %u already exists; not overwriting it", spec->vmid);
		return -EEXIST;
	}
	if (dry_run) {
		char **argv = qm_create_argv(spec);
		if (!argv)
			return -ENOMEM;
		print_argv_quoted(stdout, argv);
		pve_argv_free(argv);
		return 0;
	}
	rc = qm_create_vm(spec);
	if (rc == 0)
		printf("created VM %u (%s)\n", spec->vmid, spec->name);
	return rc;
}

static int write_new(const char *dir, const char *name, const char *text, mode_t mode)
{
	struct atomic_file f;
	int rc = atomic_file_open(&f, dir, name, false);
	if (rc < 0)
		return rc;
	rc = write_full(f.fd, text, strlen(text));
	if (rc == 0 && fchmod(f.fd, mode) < 0)
		rc = -errno;
	if (rc < 0)
		log_error("writing %s/%s: %s", dir, name, strerror(-rc));
	else
		rc = atomic_file_commit(&f, false);
	atomic_file_discard(&f);
	return rc;
}

/* NAME.xml and NAME.run.sh in the first disk's directory. */
static int create_libvirt(const struct vm_spec *spec, bool dry_run)
{
	_cleanup_free_ char *dir = strdup(spec->disks[0].path);
	if (!dir)
		return -ENOMEM;
	*strrchr(dir, '/') = '\0';
	if (!*dir)
		strcpy(dir, "/");
	char xml_name[300], sh_name[300], vars[PATH_MAX + 300];
	snprintf(xml_name, sizeof(xml_name), "%s.xml", spec->name);
	snprintf(sh_name, sizeof(sh_name), "%s.run.sh", spec->name);
	snprintf(vars, sizeof(vars), "%s/%s.OVMF_VARS.fd", strcmp(dir, "/") ? dir : "", spec->name);
	_cleanup_free_ char *xml = libvirt_domain_xml(spec);
	_cleanup_free_ char *sh = qemu_run_script(spec, vars);
	if (!xml || !sh)
		return -ENOMEM;
	if (dry_run) {
		printf("# %s/%s\n%s# %s/%s\n%s", dir, xml_name, xml, dir, sh_name, sh);
		return 0;
	}
	int rc = write_new(dir, xml_name, xml, 0644);
	if (rc == 0 && (rc = write_new(dir, sh_name, sh, 0755)) < 0) {
		/* Both or neither: a VM defined by half its files is no use. */
		_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0)
			unlinkat(dfd, xml_name, 0);
	}
	if (rc < 0)
		return rc;
	printf("wrote %s/%s and %s/%s\n", dir, xml_name, dir, sh_name);
	log_info("define it with 'virsh define %s/%s', or run %s/%s", dir, xml_name, dir, sh_name);
	return 0;
}

/* Memory and cores from the inventory receive kept beside the first disk
 * (<dir>/.p2v/<disk name>.json), for whatever the options leave open. */
static void inventory_defaults(const char *disk, const struct vm_args *a, struct vm_spec *s)
{
	const char *slash = strrchr(disk, '/');
	_cleanup_free_ char *base = strdup(slash + 1), *path = NULL, *json = NULL;
	if (!base)
		return;
	char *dot = strrchr(base, '.');
	if (dot && dot != base)
		*dot = '\0';
	if (asprintf(&path, "%.*s/.p2v/%s.json", (int)(slash - disk), disk, base) < 0) {
		path = NULL;
		return;
	}
	if (read_file(path, 1 << 20, &json, NULL) < 0)
		return;
	unsigned mem = 0, cores = 0;
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (inventory_hw_defaults(json, pages > 0 && psz > 0 ? (unsigned long long)pages * (unsigned long long)psz : 0,
				  cpus > 0 ? (unsigned)cpus : 1, &mem, &cores) < 0)
		return;
	bool used = false;
	if (!a->memory && mem)
		s->memory_mb = mem, used = true;
	if (!a->cores && cores)
		s->cores = cores, used = true;
	if (used)
		log_info("from the source's inventory (%s): %u MiB, %u core(s)", path, s->memory_mb, s->cores);
}

static int exit_status(int rc)
{
	return rc == -EEXIST ? CTI_EXIT_EXISTS : rc == -EINVAL ? CTI_EXIT_USAGE : CTI_EXIT_FAILURE;
}

static int build_spec(const struct vm_args *a, const struct cti_config *cfg, struct vm_spec *s,
		      struct vm_disk *disks, char **paths, char **name)
{
	*s = (struct vm_spec){ .memory_mb = 2048, .cores = 2, .bridge = "vmbr0", .storage = "local-lvm",
			       .disks = disks, .ndisks = a->ndisks };
	if (!a->ndisks || a->too_many) {
		log_error(a->too_many ? "at most %d disks" : "give at least one --disk", MAX_DISKS);
		return -EINVAL;
	}
	if ((a->vmid && parse_uint("vmid", a->vmid, 100, 999999999, &s->vmid) < 0) ||
	    (a->memory && parse_uint("memory", a->memory, 16, 4u << 20, &s->memory_mb) < 0) ||
	    (a->cores && parse_uint("cores", a->cores, 1, 8192, &s->cores) < 0))
		return -EINVAL;
	if (a->bridge)
		s->bridge = strcmp(a->bridge, "none") ? a->bridge : NULL;
	if (s->bridge && !valid_id(s->bridge, false)) {
		log_error("--bridge '%s' is not a bridge name", s->bridge);
		return -EINVAL;
	}
	if (a->storage)
		s->storage = a->storage;
	if (!valid_id(s->storage, true)) {
		log_error("--storage '%s' is not a Proxmox storage ID", s->storage);
		return -EINVAL;
	}
	for (size_t i = 0; i < a->ndisks; i++) {
		if (!(paths[i] = resolve_disk(a->disks[i], cfg->import_dir)))
			return -ENOENT;
		struct disk_info info;
		int rc = disk_probe(paths[i], &info);
		if (rc < 0)
			return rc;
		disks[i] = (struct vm_disk){ .path = paths[i], .qcow2 = info.qcow2,
					     .block_device = info.block_device };
		if (i == 0) {
			inventory_defaults(paths[i], a, s);
			s->uefi = info.uefi;
			s->windows = info.windows;
			char sz[32];
			log_info("boot disk %s: %s, %s, %s%s", paths[i], info.qcow2 ? "qcow2" : "raw",
				 format_bytes(info.size, sz, sizeof(sz)),
				 !info.partitioned ? "no partition table" : info.gpt ? "GPT" : "MBR",
				 info.uefi ? ", boots by UEFI" : info.partitioned ? ", boots by BIOS" : "");
			if (info.windows)
				log_info("the first partition holds NTFS: a Windows guest (SATA disks, e1000)");
		}
	}
	*name = a->name ? strdup(a->name) : name_from_disk(paths[0]);
	if (!*name)
		return -ENOMEM;
	if (!valid_dns_name(*name) || !name_is_safe(*name)) {
		log_error("--name '%s' is not a DNS name", *name);
		return -EINVAL;
	}
	s->name = *name;
	return 0;
}

int cmd_create_vm(int argc, char **argv)
{
	struct vm_args a = { 0 };
	int idx = opt_parse(vm_opts, argc, argv, vm_opt, &a);
	if (idx < 0)
		return CTI_EXIT_USAGE;
	if (a.help) {
		opt_print_help(stdout, "ct-import create-vm --disk FILE... [OPTIONS]",
			       "Define a VM from received disk images: qm create on Proxmox, else a\n"
			       "libvirt domain XML and a QEMU run.sh beside the first disk.", vm_opts);
		return CTI_EXIT_OK;
	}
	if (idx < argc) {
		log_error("create-vm: unexpected argument '%s' (see --help)", argv[idx]);
		return CTI_EXIT_USAGE;
	}
	bool pve = a.backend ? !strcmp(a.backend, "pve") : program_on_path("qm");
	if (a.backend && !pve && strcmp(a.backend, "libvirt")) {
		log_error("--backend must be pve or libvirt");
		return CTI_EXIT_USAGE;
	}
	struct cti_config cfg = { 0 };
	if (cti_config_load(a.config, &cfg) < 0)
		return CTI_EXIT_USAGE;
	if (a.import_dir && cti_config_set(&cfg, "import_dir", a.import_dir) < 0) {
		cti_config_free(&cfg);
		return CTI_EXIT_USAGE;
	}
	struct vm_disk disks[MAX_DISKS];
	char *paths[MAX_DISKS] = { 0 };
	_cleanup_free_ char *name = NULL;
	struct vm_spec spec;
	int rc = build_spec(&a, &cfg, &spec, disks, paths, &name);
	if (rc == 0)
		rc = pve ? create_pve(&spec, a.vmid != NULL, a.dry_run) : create_libvirt(&spec, a.dry_run);
	for (size_t i = 0; i < MAX_DISKS; i++)
		free(paths[i]);
	cti_config_free(&cfg);
	return rc < 0 ? exit_status(rc) : CTI_EXIT_OK;
}
