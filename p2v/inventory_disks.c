/* Inventory from sysfs: whole disks with their attributes and transport, md
 * arrays, and which disk the running system booted from. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "inventory.h"
#include "inventory_util.h"
#include "log.h"
#include "util.h"

const char *inv_transport_from_path(const char *p)
{
	if (!p)
		return NULL;
	/* Most specific first: a USB stick shows a SCSI host below its USB port. */
	if (strstr(p, "/usb"))
		return "usb";
	if (strstr(p, "/nvme"))
		return "nvme";
	if (strstr(p, "/ata"))
		return "sata";
	if (strstr(p, "/mmc_host/") || strstr(p, "/mmc"))
		return "mmc";
	if (strstr(p, "/target"))
		return "scsi";   /* SAS, FC, iSCSI, virtio-scsi … */
	if (strstr(p, "/virtio"))
		return "virtio";
	if (strstr(p, "/devices/virtual/"))
		return "virtual";
	return NULL;
}

/* Kernel devices that are not disks unless named on the command line. */
static bool skipped_by_default(const char *name)
{
	static const char *const prefixes[] = { "ram", "loop", "zram", "sr", "fd", "md", "dm-", "nbd", NULL };
	for (size_t i = 0; prefixes[i]; i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static int fill_disk(const char *sysfs, const char *name, struct inv_disk *d)
{
	char dir[PATH_MAX], real[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/block/%s", sysfs, name);
	if (!realpath(dir, real)) {
		int e = errno;
		log_error("disk %s: no %s (%s)", name, dir, strerror(e));
		return -e;
	}
	long long v;
	d->name = strdup(name);
	if (asprintf(&d->path, "/dev/%s", name) < 0)
		d->path = NULL;
	if (!d->name || !d->path)
		return -ENOMEM;
	d->model = inv_read_attr(dir, "device/model", NULL);
	if (!d->model)
		d->model = inv_read_attr(dir, "device/name", NULL);  /* mmc */
	d->serial = inv_read_attr(dir, "device/serial", NULL);
	if (!d->serial)
		d->serial = inv_read_attr(dir, "serial", NULL);      /* virtio, nvme */
	if (!d->serial)
		d->serial = inv_read_attr(dir, "device/vpd_pg80", NULL);
	if (d->serial) {    /* vpd_pg80 starts with a binary header: keep the text */
		char *s = d->serial, *o = s;
		for (; *s; s++)
			if (isprint((unsigned char)*s))
				*o++ = *s;
		*o = '\0';
		char *t = d->serial;
		while (*t == ' ')
			t++;
		memmove(d->serial, t, strlen(t) + 1);
	}
	const char *tr = inv_transport_from_path(real);
	d->transport = tr ? strdup(tr) : NULL;
	if (!strncmp(name, "loop", 4)) {
		free(d->transport);
		d->transport = strdup("loop");
		d->backing_file = inv_read_attr(dir, "loop/backing_file", NULL);
	}
	if (inv_read_ll(dir, "size", &v) == 0)
		d->size = (uint64_t)v * 512;   /* sysfs counts 512-byte units, always */
	d->logical_sector = inv_read_ll(dir, "queue/logical_block_size", &v) == 0 ? (unsigned)v : 512;
	d->physical_sector = inv_read_ll(dir, "queue/physical_block_size", &v) == 0 ? (unsigned)v : d->logical_sector;
	d->rotational = inv_read_ll(dir, "queue/rotational", &v) == 0 && v;
	d->removable = inv_read_ll(dir, "removable", &v) == 0 && v;
	d->read_only = inv_read_ll(dir, "ro", &v) == 0 && v;
	return 0;
}

static int add_disk(const struct inventory_opts *o, struct inventory *inv, const char *name)
{
	struct inv_disk *v = realloc(inv->disks, (inv->n_disks + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	inv->disks = v;
	struct inv_disk *d = &v[inv->n_disks++];
	*d = (struct inv_disk){ 0 };
	return fill_disk(o->sysfs, name, d);
}

/* A --disk argument ("/dev/sda", "sda", a /dev/disk/by-… link) as a kernel name. */
static int disk_name(const char *arg, char *name, size_t size)
{
	if (!strchr(arg, '/')) {
		snprintf(name, size, "%s", arg);
		return 0;
	}
	char real[PATH_MAX];
	if (!realpath(arg, real)) {
		int e = errno;
		log_error("--disk %s: %s", arg, strerror(e));
		return -e;
	}
	struct stat st;
	if (stat(real, &st) < 0 || !S_ISBLK(st.st_mode)) {
		log_error("--disk %s is not a block device", arg);
		return -ENOTBLK;
	}
	snprintf(name, size, "%s", strrchr(real, '/') + 1);
	return 0;
}

int inv_collect_disks(const struct inventory_opts *o, struct inventory *inv)
{
	char name[NAME_MAX + 1];
	int rc = 0;
	if (o->n_disks) {
		for (size_t i = 0; i < o->n_disks && rc == 0; i++) {
			char sys[PATH_MAX];
			if ((rc = disk_name(o->disks[i], name, sizeof(name))) < 0)
				break;
			snprintf(sys, sizeof(sys), "%s/class/block/%s/partition", o->sysfs, name);
			if (access(sys, F_OK) == 0) {
				log_error("--disk %s is a partition: name the whole disk", o->disks[i]);
				return -EINVAL;
			}
			rc = add_disk(o, inv, name);
		}
		return rc;
	}
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/block", o->sysfs);
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		rc = -errno;
		log_error("listing %s: %s", dir, strerror(errno));
		return rc;
	}
	for (int i = 0; i < n; i++) {
		if (rc == 0 && names[i]->d_name[0] != '.' && !skipped_by_default(names[i]->d_name))
			rc = add_disk(o, inv, names[i]->d_name);
		free(names[i]);
	}
	free(names);
	return rc;
}

int inv_collect_md(const char *sysfs, struct inventory *inv)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/block", sysfs);
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return 0;
	int rc = 0;
	for (int i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		char md[PATH_MAX];
		bool fits = snprintf(md, sizeof(md), "%s/%s/md", dir, nm) < (int)sizeof(md);
		if (rc == 0 && fits && !strncmp(nm, "md", 2) && access(md, F_OK) == 0) {
			struct inv_md *v = realloc(inv->mds, (inv->n_mds + 1) * sizeof(*v));
			if (!v) {
				rc = -ENOMEM;
				goto next;
			}
			inv->mds = v;
			struct inv_md *m = &v[inv->n_mds++];
			*m = (struct inv_md){ 0 };
			m->name = strdup(nm);
			m->level = inv_read_attr(md, "level", NULL);
			m->metadata_version = inv_read_attr(md, "metadata_version", NULL);
			m->array_state = inv_read_attr(md, "array_state", NULL);
			long long sz;
			char disk[PATH_MAX];
			if (snprintf(disk, sizeof(disk), "%s/%s", dir, nm) < (int)sizeof(disk) &&
			    inv_read_ll(disk, "size", &sz) == 0)
				m->size = (uint64_t)sz * 512;
			/* Members: the md/dev-* entries' "block" links (also for
			 * inactive containers, which have no slaves yet). */
			struct dirent **mem = NULL;
			int k = scandir(md, &mem, NULL, alphasort);
			for (int j = 0; j < k; j++) {
				char sub[PATH_MAX];
				if (rc == 0 && !strncmp(mem[j]->d_name, "dev-", 4) &&
				    snprintf(sub, sizeof(sub), "%s/%s", md, mem[j]->d_name) < (int)sizeof(sub)) {
					_cleanup_free_ char *b = inv_link_base(sub, "block");
					rc = inv_strv_add(&m->members, b ? b : mem[j]->d_name + 4);
				}
				free(mem[j]);
			}
			free(mem);
			if (!m->name)
				rc = -ENOMEM;
		}
next:
		free(names[i]);
	}
	free(names);
	return rc;
}

/* The whole disk (kernel name) holding device number dev, following loop
 * devices to the disk their backing file is on. */
static bool disk_of_dev(const char *sysfs, dev_t dev, char *out, size_t size, int depth)
{
	char p[PATH_MAX], real[PATH_MAX];
	snprintf(p, sizeof(p), "%s/dev/block/%u:%u", sysfs, major(dev), minor(dev));
	if (major(dev) == 0 || depth > 8 || !realpath(p, real))
		return false;
	char part[PATH_MAX];
	if (snprintf(part, sizeof(part), "%s/partition", real) < (int)sizeof(part) &&
	    access(part, F_OK) == 0)
		*strrchr(real, '/') = '\0';   /* a partition's parent is its disk */
	const char *name = strrchr(real, '/') + 1;
	if (!strncmp(name, "loop", 4)) {
		_cleanup_free_ char *backing = inv_read_attr(real, "loop/backing_file", NULL);
		struct stat st;
		if (backing && stat(backing, &st) == 0 &&
		    disk_of_dev(sysfs, st.st_dev, out, size, depth + 1))
			return true;
	}
	snprintf(out, size, "%s", name);
	return true;
}

int inv_parse_mountinfo_line(const char *line, unsigned *maj, unsigned *min, char *mnt,
			     size_t mnt_size)
{
	char fmt[64];
	snprintf(fmt, sizeof(fmt), "%%*d %%*d %%u:%%u %%*s %%%zus", mnt_size - 1);
	if (sscanf(line, fmt, maj, min, mnt) != 3)
		return -EINVAL;
	/* mountinfo escapes blanks as \040 */
	char *o = mnt;
	for (char *s = mnt; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return 0;
}

void inv_mark_boot_medium(const char *sysfs, const char *proc, struct inventory *inv)
{
	/* Where live systems keep their boot medium mounted (archiso/SystemRescue,
	 * Debian live, dracut live, Ubuntu casper), and "/" itself. */
	static const char *const medium_mounts[] = {
		"/run/archiso/bootmnt", "/lib/live/mount/medium", "/run/live/medium",
		"/run/initramfs/live", "/cdrom", "/", NULL,
	};
	dev_t devs[16];
	size_t n = 0;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/self/mountinfo", proc);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char line[8192];
	while (f && fgets(line, sizeof(line), f) && n < ARRAY_SIZE(devs) - 1) {
		unsigned maj, min;
		char mnt[PATH_MAX];
		if (inv_parse_mountinfo_line(line, &maj, &min, mnt, sizeof(mnt)) < 0)
			continue;
		for (size_t i = 0; medium_mounts[i]; i++)
			if (!strcmp(mnt, medium_mounts[i]) && maj)
				devs[n++] = makedev(maj, min);
	}
	struct stat st;
	snprintf(path, sizeof(path), "%s/self/exe", proc);
	if (stat(path, &st) == 0)
		devs[n++] = st.st_dev;   /* the medium p2v itself runs from */
	for (size_t i = 0; i < n; i++) {
		char name[NAME_MAX + 1];
		if (!disk_of_dev(sysfs, devs[i], name, sizeof(name), 0))
			continue;
		for (size_t k = 0; k < inv->n_disks; k++)
			if (!strcmp(inv->disks[k].name, name))
				inv->disks[k].boot_medium = true;
	}
}
