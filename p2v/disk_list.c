#include "disk_list.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* Where live and rescue systems mount the medium they booted from. */
static const char *const boot_mounts[] = {
	"/", "/run/live/medium", "/lib/live/mount/medium", "/run/initramfs/live",
	"/run/archiso/bootmnt", "/cdrom", "/media/cdrom", NULL,
};

static const char *const skip_prefixes[] = {
	"loop", "ram", "zram", "sr", "dm-", "md", "nbd", "fd", "zd", NULL,
};

/* The /sys/block name of the disk holding block device dev ("" if none). */
static void disk_of_dev(dev_t dev, char *name, size_t cap, int depth)
{
	char link[64], real[PATH_MAX], path[PATH_MAX + 32];
	name[0] = '\0';
	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(dev), minor(dev));
	if (!realpath(link, real))
		return;
	snprintf(path, sizeof(path), "%s/partition", real);
	if (access(path, F_OK) == 0)
		*strrchr(real, '/') = '\0';   /* a partition: its parent is the disk */
	const char *base = strrchr(real, '/') + 1;
	/* A loop device (a live system's squashfs): the disk holding its file. */
	snprintf(path, sizeof(path), "%s/loop/backing_file", real);
	_cleanup_free_ char *backing = NULL;
	struct stat st;
	if (depth < 2 && read_file(path, PATH_MAX, &backing, NULL) == 0) {
		backing[strcspn(backing, "\n")] = '\0';
		if (stat(backing, &st) == 0)
			disk_of_dev(st.st_dev, name, cap, depth + 1);
		return;
	}
	snprintf(name, cap, "%s", base);
}

/* Names of the disks the boot medium lives on, space-separated. */
static void boot_disks(char *out, size_t cap)
{
	out[0] = '\0';
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	while (f && fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		char mnt[2048];
		if (sscanf(line, "%*u %*u %u:%u %*s %2047s", &maj, &min, mnt) != 3)
			continue;
		for (const char *const *m = boot_mounts; *m; m++) {
			char disk[256];
			if (strcmp(mnt, *m))
				continue;
			disk_of_dev(makedev(maj, min), disk, sizeof(disk), 0);
			if (disk[0] && strlen(out) + strlen(disk) + 2 < cap) {
				strcat(out, " ");
				strcat(out, disk);
			}
		}
	}
	if (out[0])
		strcat(out, " ");
}

static int sys_u64(const char *name, const char *attr, unsigned long long *v)
{
	char path[512];
	_cleanup_free_ char *s = NULL;
	snprintf(path, sizeof(path), "/sys/block/%s/%s", name, attr);
	if (read_file(path, 64, &s, NULL) < 0)
		return -1;
	return sscanf(s, "%llu", v) == 1 ? 0 : -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int disk_list_default(char ***paths)
{
	char booted[1024];
	boot_disks(booted, sizeof(booted));
	DIR *d = opendir("/sys/block");
	if (!d) {
		log_error("cannot list /sys/block: %s", strerror(errno));
		return -errno;
	}
	char **v = NULL;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *name = e->d_name;
		unsigned long long removable = 0, size = 0;
		char key[300];
		bool skip = name[0] == '.';
		for (const char *const *p = skip_prefixes; *p && !skip; p++)
			skip = !strncmp(name, *p, strlen(*p));
		if (skip || sys_u64(name, "removable", &removable) < 0 || removable ||
		    sys_u64(name, "size", &size) < 0 || size == 0)
			continue;
		snprintf(key, sizeof(key), " %s ", name);
		if (strstr(booted, key)) {
			log_info("leaving out %s: p2v booted from it", name);
			continue;
		}
		char **nv = realloc(v, (size_t)(n + 1) * sizeof(*v));
		if (!nv || asprintf(&nv[n], "/dev/%s", name) < 0) {
			v = nv ? nv : v;
			while (n--)
				free(v[n]);
			free(v);
			closedir(d);
			return -ENOMEM;
		}
		v = nv;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, (size_t)n, sizeof(*v), cmp_str);
	*paths = v;
	return n;
}
