/* Templates and vzdump archives from the scratch tree (ovz_output.h). */
#include "ovz_output.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "log.h"
#include "osinfo.h"
#include "ovz_source.h"
#include "pve.h"
#include "rootfs_at.h"
#include "util.h"

/* ---- what the tree holds ---- */

static uint64_t tree_bytes;

static int add_size(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)flag;
	(void)ftw;
	if (S_ISREG(st->st_mode))
		tree_bytes += ((uint64_t)st->st_size + 4095) & ~(uint64_t)4095;
	return 0;
}

static char *read_in_root(int rootfd, const char *rel, size_t max)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };
	long fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
	if (fd < 0)
		return NULL;
	struct stat st;
	char *buf = NULL;
	if (fstat((int)fd, &st) == 0 && S_ISREG(st.st_mode) && (buf = calloc(1, max + 1))) {
		ssize_t n = read_full((int)fd, buf, max);
		if (n < 0) {
			free(buf);
			buf = NULL;
		}
	}
	close((int)fd);
	return buf;
}

int ovz_tree_inspect(const char *root, struct ovz_tree_info *info)
{
	*info = (struct ovz_tree_info){ .ostype = "unmanaged" };
	_cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	const char *type = NULL;
	_cleanup_free_ char *osr = read_in_root(rootfd, "etc/os-release", 64 << 10);
	if (!osr)
		osr = read_in_root(rootfd, "usr/lib/os-release", 64 << 10);
	if (osr)
		type = ostype_from_os_release(osr);
	for (size_t i = 0; !type && osinfo_release_files[i]; i++) {
		char p[256];
		snprintf(p, sizeof(p), "etc/%s", osinfo_release_files[i]);
		_cleanup_free_ char *t = read_in_root(rootfd, p, 64 << 10);
		if (t)
			type = ostype_from_release_file(osinfo_release_files[i], t);
	}
	if (type)
		info->ostype = type;
	static const char *const elves[] = { "bin/sh", "bin/bash", "bin/busybox", "sbin/init" };
	for (size_t i = 0; !info->arch && i < ARRAY_SIZE(elves); i++) {
		_cleanup_free_ char *h = read_in_root(rootfd, elves[i], 64);
		if (h)
			info->arch = arch_from_elf(h, 64);
	}
	tree_bytes = 0;
	if (nftw(root, add_size, 32, FTW_PHYS | FTW_MOUNT) != 0)
		return -EIO;
	info->used_bytes = tree_bytes;
	return 0;
}

/* ---- pct.conf ---- */

struct kv {
	const char *key;
	char *value;
};

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->key, ((const struct kv *)b)->key);
}

/* net0 as pve-common's print_property_string writes it: the required key
 * (name) first, then the others sorted, with the type=veth pve-container
 * adds. The same values as pve_net0_value gives pct create. */
static char *net0_conf_value(const struct ct_spec *s)
{
	_cleanup_free_ char *argv_form = pve_net0_value(s);
	if (!argv_form)
		return NULL;
	struct kv parts[12];
	size_t n = 0;
	char *save = NULL;
	for (char *p = strtok_r(argv_form, ",", &save); p && n < ARRAY_SIZE(parts) - 1;
	     p = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(p, '=');
		if (!eq)
			continue;
		*eq = '\0';
		parts[n].key = p;
		parts[n++].value = eq + 1;
	}
	parts[n].key = "type";
	parts[n++].value = (char *)"veth";
	qsort(parts, n, sizeof(parts[0]), kv_cmp);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fputs("name=eth0", f);
	for (size_t i = 0; i < n; i++)
		if (strcmp(parts[i].key, "name"))
			fprintf(f, ",%s=%s", parts[i].key, parts[i].value);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

char *ovz_pct_conf_text(const struct ct_spec *s, const char *description)
{
	struct kv kv[20];
	size_t n = 0;
	bool oom = false;
#define PUT(k, ...)                                                      \
	do {                                                             \
		kv[n].key = (k);                                         \
		if (asprintf(&kv[n].value, __VA_ARGS__) < 0) {           \
			kv[n].value = NULL;                              \
			oom = true;                                      \
		}                                                        \
		n++;                                                     \
	} while (0)
	if (s->arch)
		PUT("arch", "%s", s->arch);
	if (s->cores)  /* absent: every CPU of the host, as OpenVZ without CPUS */
		PUT("cores", "%u", s->cores);
	if (s->cpulimit)
		PUT("cpulimit", "%s", s->cpulimit);
	if (s->cpuunits)
		PUT("cpuunits", "%u", s->cpuunits);
	if (s->hostname)
		PUT("hostname", "%s", s->hostname);
	PUT("memory", "%u", s->memory_mb);
	if (s->nameserver)
		PUT("nameserver", "%s", s->nameserver);
	if (s->bridge) {
		kv[n].key = "net0";
		if (!(kv[n].value = net0_conf_value(s)))
			oom = true;
		n++;
	}
	PUT("onboot", "%d", s->onboot < 0 ? 0 : 1);
	PUT("ostype", "%s", s->ostype ? s->ostype : "unmanaged");
	PUT("rootfs", "%s:vm-%u-disk-0,size=%uG", s->storage, s->vmid, s->disk_gb);
	if (s->searchdomain)
		PUT("searchdomain", "%s", s->searchdomain);
	if (s->has_swap)
		PUT("swap", "%u", s->swap_mb);
#undef PUT
	char *buf = NULL;
	size_t len = 0;
	FILE *f = oom ? NULL : open_memstream(&buf, &len);
	if (f) {
		qsort(kv, n, sizeof(kv[0]), kv_cmp);
		/* The description: one '#' line per line, as pve-container. */
		for (const char *d = description; d && *d;) {
			size_t l = strcspn(d, "\n");
			fprintf(f, "#%.*s\n", (int)l, d);
			d += l + (d[l] == '\n');
		}
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%s: %s\n", kv[i].key, kv[i].value);
		if (fclose(f) != 0) {
			free(buf);
			buf = NULL;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(kv[i].value);
	return buf;
}

/* ---- archives ---- */

void ovz_vzdump_name(unsigned vmid, char *buf, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	snprintf(buf, size, "vzdump-lxc-%u-%04d_%02d_%02d-%02d_%02d_%02d.tar.zst", vmid,
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int stage_conf(const char *conf_dir, const char *text)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/etc", conf_dir);
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(p, sizeof(p), "%s/etc/vzdump", conf_dir);
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	struct atomic_file af;
	int rc = atomic_file_open(&af, p, "pct.conf", true);
	if (rc < 0)
		return rc;
	rc = write_full(af.fd, text, strlen(text));
	if (rc == 0 && fchmod(af.fd, 0644) < 0)
		rc = -errno;
	if (rc == 0)
		rc = atomic_file_commit(&af, true);
	atomic_file_discard(&af);
	return rc;
}

int ovz_write_archive(const char *root, const char *dir, const char *name, bool overwrite,
		      const char *pct_conf, const char *conf_dir)
{
	if (pct_conf) {
		int rc = stage_conf(conf_dir, pct_conf);
		if (rc < 0) {
			log_error("cannot stage pct.conf in %s: %s", conf_dir, strerror(-rc));
			return rc;
		}
	}
	struct atomic_file af;
	int rc = atomic_file_open(&af, dir, name, overwrite);
	if (rc < 0)
		return rc;
	/* Proxmox's COMMON_TAR_FLAGS, and vzdump's order: the config first. */
	char *argv[40];
	size_t n = 0;
	char *const common[] = { "tar", "--zstd", "-cpf", "-", "--one-file-system", "--sparse",
				 "--numeric-owner", "--acls", "--xattrs", "--xattrs-include=user.*",
				 "--xattrs-include=security.capability", "--warning=no-file-ignored",
				 "--warning=no-xattr-write" };
	for (size_t i = 0; i < ARRAY_SIZE(common); i++)
		argv[n++] = common[i];
	if (pct_conf) {
		argv[n++] = "-C";
		argv[n++] = (char *)conf_dir;
		argv[n++] = "./etc/vzdump/pct.conf";
	}
	argv[n++] = "-C";
	argv[n++] = (char *)root;
	argv[n++] = ".";
	argv[n] = NULL;
	pid_t pid;
	rc = ovz_spawn(argv, -1, af.fd, &pid);
	if (rc == 0)
		rc = ovz_wait(pid, "tar (writing the archive)");
	if (rc == 0 && fchmod(af.fd, 0644) < 0)
		rc = -errno;
	if (rc == 0)
		rc = atomic_file_commit(&af, overwrite);
	atomic_file_discard(&af);
	if (rc == 0)
		log_info("wrote %s/%s", dir, name);
	return rc;
}
