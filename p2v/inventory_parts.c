/* Partition tables through libparted and libblkid's verdict on every disk
 * and partition — read-only in a way the kernel enforces.
 *
 * libparted has no read-only open: ped_device_open tries O_RDWR first and
 * falls back to O_RDONLY only when that fails, and closing a descriptor that
 * was open for writing makes udev re-probe the disk (which, on a fake-RAID
 * disk, can start mdadm). So libparted gets a private device node of mode
 * 0400 in a 0700 directory, and the calling thread drops CAP_DAC_OVERRIDE
 * while libparted runs: O_RDWR fails with EACCES, libparted opens the disk
 * O_RDONLY, marks it read_only and skips its cache flush. We never call
 * ped_disk_commit* or anything else that writes. */
#include <blkid/blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <parted/parted.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "inventory.h"
#include "inventory_util.h"
#include "log.h"
#include "util.h"

#define P2V_RUN_DIR "/run/p2v"

static char parted_error[512];

/* libparted reports through exceptions; keep the message, answer "cancel"
 * (or "ignore" where that is the read-only choice), never "fix". */
static PedExceptionOption parted_handler(PedException *ex)
{
	snprintf(parted_error, sizeof(parted_error), "%s", ex->message);
	log_debug("libparted: %s", ex->message);
	if (ex->options & PED_EXCEPTION_IGNORE)
		return PED_EXCEPTION_IGNORE;
	if (ex->options & PED_EXCEPTION_CANCEL)
		return PED_EXCEPTION_CANCEL;
	return PED_EXCEPTION_UNHANDLED;
}

/* Set (drop=true) or restore this thread's CAP_DAC_OVERRIDE in its effective
 * set. capset(2) acts on the calling thread only. */
static int cap_dac_override(bool drop)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	if (drop)
		d[0].effective &= ~(1u << CAP_DAC_OVERRIDE);
	else
		d[0].effective |= d[0].permitted & (1u << CAP_DAC_OVERRIDE);
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

static int read_partitions(struct inv_disk *d, PedDisk *disk)
{
	unsigned ss = (unsigned)disk->dev->sector_size;
	bool names = ped_disk_type_check_feature(disk->type, PED_DISK_TYPE_PARTITION_NAME);
	for (PedPartition *p = ped_disk_next_partition(disk, NULL); p;
	     p = ped_disk_next_partition(disk, p)) {
		if (p->num <= 0 || (p->type & (PED_PARTITION_FREESPACE | PED_PARTITION_METADATA)))
			continue;
		struct inv_partition *v = realloc(d->parts, (d->n_parts + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		d->parts = v;
		struct inv_partition *q = &v[d->n_parts++];
		*q = (struct inv_partition){ .number = p->num };
		q->start = (uint64_t)p->geom.start * ss;
		q->size = (uint64_t)p->geom.length * ss;
		q->end = q->start + q->size - 1;
		q->type = strdup(p->type & PED_PARTITION_EXTENDED ? "extended" :
				 p->type & PED_PARTITION_LOGICAL ? "logical" : "primary");
		if (p->fs_type)
			q->fs = strdup(p->fs_type->name);
		if (names) {
			const char *nm = ped_partition_get_name(p);
			if (nm && *nm)
				q->name = strdup(nm);
		}
		for (PedPartitionFlag f = ped_partition_flag_next(0); f; f = ped_partition_flag_next(f))
			if (ped_partition_is_flag_available(p, f) && ped_partition_get_flag(p, f) &&
			    inv_strv_add(&q->flags, ped_partition_flag_get_name(f)) < 0)
				return -ENOMEM;
		if (!q->flags && inv_strv_add(&q->flags, "") == 0) {  /* an empty list, not NULL */
			free(q->flags[0]);
			q->flags[0] = NULL;
		}
		/* The kernel's node, when it has one for this partition. */
		char sys[PATH_MAX], pname[NAME_MAX + 1];
		snprintf(pname, sizeof(pname), "%s%s%d", d->name,
			 d->name[strlen(d->name) - 1] >= '0' && d->name[strlen(d->name) - 1] <= '9' ? "p" : "",
			 p->num);
		snprintf(sys, sizeof(sys), "/sys/block/%s/%s/partition", d->name, pname);
		if (access(sys, F_OK) == 0 && asprintf(&q->path, "/dev/%s", pname) < 0)
			q->path = NULL;
		if (!q->type)
			return -ENOMEM;
	}
	return 0;
}

/* libparted on d through a private read-only node. */
static int read_table(struct inv_disk *d)
{
	struct stat st;
	if (stat(d->path, &st) < 0 || !S_ISBLK(st.st_mode)) {
		d->ptable_error = strdup("no block device node");
		return 0;
	}
	if (mkdir(P2V_RUN_DIR, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		log_error("creating %s: %s", P2V_RUN_DIR, strerror(e));
		return -e;
	}
	char dir[] = P2V_RUN_DIR "/inv-XXXXXX";
	if (!mkdtemp(dir)) {
		int e = errno;
		log_error("creating a directory in %s: %s", P2V_RUN_DIR, strerror(e));
		return -e;
	}
	char node[PATH_MAX];
	snprintf(node, sizeof(node), "%s/%s", dir, d->name);
	int rc = 0;
	if (mknod(node, S_IFBLK | 0400, st.st_rdev) < 0) {
		log_warn("%s: cannot make a read-only node (%s); partition table not read", d->path,
			 strerror(errno));
		d->ptable_error = strdup("needs root to read safely");
		rmdir(dir);
		return 0;
	}
	if (cap_dac_override(true) < 0)
		log_debug("cannot drop CAP_DAC_OVERRIDE; the 0400 node still refuses writes to non-owners");
	parted_error[0] = '\0';
	ped_exception_set_handler(parted_handler);
	PedDevice *dev = ped_device_get(node);
	if (dev && ped_device_open(dev)) {
		if (!dev->read_only) {
			/* Capabilities could not be dropped: read nothing through a
			 * writable descriptor. */
			log_warn("%s: libparted opened it read-write; not reading its partition table",
				 d->path);
			d->ptable_error = strdup("could not open read-only");
		} else {
			PedDiskType *type = ped_disk_probe(dev);
			/* "loop" is libparted's name for a filesystem on the whole
			 * disk, not a partition table: libblkid reports that. */
			if (type && !strcmp(type->name, "loop"))
				type = NULL;
			PedDisk *disk = type ? ped_disk_new(dev) : NULL;
			if (type && !(d->ptable = strdup(type->name)))
				rc = -ENOMEM;
			if (disk) {
				if (rc == 0)
					rc = read_partitions(d, disk);
				ped_disk_destroy(disk);
			} else if (type) {
				d->ptable_error = strdup(parted_error[0] ? parted_error : "unreadable");
			}
		}
		ped_device_close(dev);
	} else {
		d->ptable_error = strdup(parted_error[0] ? parted_error : "libparted cannot open it");
	}
	if (dev)
		ped_device_destroy(dev);
	ped_exception_set_handler(NULL);
	cap_dac_override(false);
	unlink(node);
	rmdir(dir);
	return rc;
}

void inv_blkid_free(struct inv_blkid *b)
{
	free(b->type);
	free(b->uuid);
	free(b->label);
	free(b->usage);
	free(b->pttype);
	free(b->version);
	*b = (struct inv_blkid){ 0 };
}

static char *value(blkid_probe pr, const char *name)
{
	const char *v = NULL;
	return blkid_probe_lookup_value(pr, name, &v, NULL) == 0 && v ? strdup(v) : NULL;
}

/* Probe fd (the whole disk, O_RDONLY) at [off, off+size); size 0 = to the end. */
static void probe(int fd, uint64_t off, uint64_t size, bool whole, struct inv_blkid *b)
{
	blkid_probe pr = blkid_new_probe();
	if (!pr)
		return;
	if (blkid_probe_set_device(pr, fd, (blkid_loff_t)off, (blkid_loff_t)size) == 0) {
		blkid_probe_enable_superblocks(pr, 1);
		blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE |
						  BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL |
						  BLKID_SUBLKS_VERSION);
		blkid_probe_enable_partitions(pr, whole);
		int rc = blkid_do_safeprobe(pr);
		b->probed = rc >= 0 || rc == -2;
		b->ambivalent = rc == -2;
		if (rc == 0) {
			b->type = value(pr, "TYPE");
			b->uuid = value(pr, "UUID");
			b->label = value(pr, "LABEL");
			b->usage = value(pr, "USAGE");
			b->version = value(pr, "VERSION");
			b->pttype = value(pr, "PTTYPE");
		}
	}
	blkid_free_probe(pr);
}

int inv_probe_disk(struct inv_disk *d)
{
	if (!d->size)
		return 0;   /* no medium */
	int rc = read_table(d);
	if (rc < 0)
		return rc;
	_cleanup_close_ int fd = open(d->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		log_warn("%s: %s; not probed", d->path, strerror(errno));
		return 0;
	}
	probe(fd, 0, 0, true, &d->blkid);
	/* Partitions through the whole disk's descriptor at their offsets: this
	 * works whether or not the kernel made nodes for them. */
	for (size_t i = 0; i < d->n_parts; i++)
		if (strcmp(d->parts[i].type, "extended"))
			probe(fd, d->parts[i].start, d->parts[i].size, false, &d->parts[i].blkid);
	return 0;
}
