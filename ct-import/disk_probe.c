#include "disk_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "log.h"
#include "util.h"

/* An image open for reading: raw, or qcow2 through its L1/L2 tables. */
struct image {
	int fd;
	bool qcow2;
	uint64_t size;
	unsigned cluster_bits;
	uint64_t l1_offset;
	uint32_t l1_size;
	int compression;     /* qcow2 compression_type: 0 deflate, 1 zstd */
	uint8_t *cluster;    /* scratch: one cluster */
	uint8_t *cbuf;       /* scratch: compressed cluster */
};

#define L2E_OFFSET_MASK 0x00fffffffffffe00ull
#define QCOW2_COMPRESSED (1ull << 62)
#define QCOW2_ZERO 1ull

static int pread_exact(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread(fd, buf, len, (off_t)off);
	if (n < 0)
		return -errno;
	if ((size_t)n < len)
		memset((uint8_t *)buf + n, 0, len - (size_t)n);  /* past EOF: zeros */
	return 0;
}

static int be64_at(int fd, uint64_t off, uint64_t *v)
{
	uint8_t b[8];
	int rc = pread_exact(fd, b, 8, off);
	*v = get_be64(b);
	return rc;
}

static int open_qcow2(struct image *im, const uint8_t *h)
{
	uint32_t version = get_be32(h + 4);
	im->cluster_bits = get_be32(h + 20);
	im->size = get_be64(h + 24);
	im->l1_size = get_be32(h + 36);
	im->l1_offset = get_be64(h + 40);
	uint64_t incompat = version >= 3 ? get_be64(h + 72) : 0;
	uint32_t hlen = version >= 3 ? get_be32(h + 100) : 72;
	if ((version != 2 && version != 3) || im->cluster_bits < 9 || im->cluster_bits > 21 ||
	    get_be64(h + 8) != 0 || get_be32(h + 32) != 0) {
		log_error("unsupported qcow2 image (version %u, backing file or encryption)", version);
		return -ENOTSUP;
	}
	if (incompat & ~(1ull << 3 | 1ull)) {  /* dirty and compression type only */
		log_error("qcow2 image uses incompatible features 0x%llx", (unsigned long long)incompat);
		return -ENOTSUP;
	}
	im->compression = (incompat & (1ull << 3)) && hlen > 104 ? h[104] : 0;
	size_t cs = (size_t)1 << im->cluster_bits;
	im->cluster = malloc(cs);
	im->cbuf = malloc(2 * cs);
	return im->cluster && im->cbuf ? 0 : -ENOMEM;
}

static int inflate_cluster(const struct image *im, size_t clen, size_t cs)
{
	if (im->compression == 1) {
		/* A zstd cluster is one frame; the padding after it is ignored. */
		size_t flen = ZSTD_findFrameCompressedSize(im->cbuf, clen);
		size_t n = ZSTD_isError(flen) ? flen : ZSTD_decompress(im->cluster, cs, im->cbuf, flen);
		return !ZSTD_isError(n) && n == cs ? 0 : -EBADMSG;
	}
	z_stream z = { 0 };
	if (inflateInit2(&z, -12) != Z_OK)
		return -ENOMEM;
	z.next_in = im->cbuf;
	z.avail_in = (uInt)clen;
	z.next_out = im->cluster;
	z.avail_out = (uInt)cs;
	int r = inflate(&z, Z_FINISH);
	bool ok = (r == Z_STREAM_END || r == Z_OK || r == Z_BUF_ERROR) && z.avail_out == 0;
	inflateEnd(&z);
	return ok ? 0 : -EBADMSG;
}

/* The guest cluster holding guest offset off into im->cluster. */
static int read_cluster(struct image *im, uint64_t off)
{
	unsigned cb = im->cluster_bits, l2_bits = cb - 3;
	size_t cs = (size_t)1 << cb;
	uint64_t l1_index = off >> (cb + l2_bits);
	uint64_t l2_index = (off >> cb) & ((1ull << l2_bits) - 1);
	uint64_t l1e = 0, l2e = 0;
	int rc;
	if (l1_index >= im->l1_size)
		goto zeros;
	if ((rc = be64_at(im->fd, im->l1_offset + 8 * l1_index, &l1e)) < 0)
		return rc;
	if (!(l1e & L2E_OFFSET_MASK))
		goto zeros;
	if ((rc = be64_at(im->fd, (l1e & L2E_OFFSET_MASK) + 8 * l2_index, &l2e)) < 0)
		return rc;
	if (l2e & QCOW2_COMPRESSED) {
		unsigned x = 62 - (cb - 8);
		uint64_t host = l2e & ((1ull << x) - 1);
		uint64_t sectors = ((l2e >> x) & ((1ull << (cb - 8)) - 1)) + 1;
		size_t clen = (size_t)(sectors * 512 - (host & 511));
		if (clen > 2 * cs)
			return -EBADMSG;
		if ((rc = pread_exact(im->fd, im->cbuf, clen, host)) < 0)
			return rc;
		return inflate_cluster(im, clen, cs);
	}
	if ((l2e & QCOW2_ZERO) || !(l2e & L2E_OFFSET_MASK))
		goto zeros;
	return pread_exact(im->fd, im->cluster, cs, l2e & L2E_OFFSET_MASK);
zeros:
	memset(im->cluster, 0, cs);
	return 0;
}

/* Guest bytes [off, off+len); beyond the disk reads as zeros. */
static int image_read(struct image *im, uint64_t off, void *buf, size_t len)
{
	if (!im->qcow2)
		return pread_exact(im->fd, buf, len, off);
	uint8_t *p = buf;
	size_t cs = (size_t)1 << im->cluster_bits;
	while (len) {
		size_t in = (size_t)(off & (cs - 1)), n = cs - in < len ? cs - in : len;
		int rc = off >= im->size ? (memset(im->cluster, 0, cs), 0) : read_cluster(im, off);
		if (rc < 0)
			return rc;
		memcpy(p, im->cluster + in, n);
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

static const uint8_t ESP_GUID[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
				      0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
static const uint8_t MSR_GUID[16] = { 0x16, 0xe3, 0xc9, 0xe3, 0x5c, 0x0b, 0xb8, 0x4d,
				      0x81, 0x7d, 0xf9, 0x2d, 0xf0, 0x02, 0x15, 0xae };
static const uint8_t BIOS_BOOT_GUID[16] = { 0x48, 0x61, 0x68, 0x21, 0x49, 0x64, 0x6f, 0x6e,
					    0x74, 0x4e, 0x65, 0x65, 0x64, 0x45, 0x46, 0x49 };

static uint32_t le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

static int is_ntfs(struct image *im, uint64_t off, bool *ntfs)
{
	uint8_t bs[512];
	int rc = image_read(im, off, bs, sizeof(bs));
	*ntfs = rc == 0 && !memcmp(bs + 3, "NTFS    ", 8) && bs[510] == 0x55 && bs[511] == 0xaa;
	return rc;
}

/* GPT at sector size ss: ESP anywhere means UEFI; the first partition that
 * is not ESP/MSR/BIOS boot decides Windows. 1 if a GPT was found. */
static int probe_gpt(struct image *im, unsigned ss, struct disk_info *info)
{
	uint8_t hdr[92];
	int rc = image_read(im, ss, hdr, sizeof(hdr));
	if (rc < 0)
		return rc;
	if (memcmp(hdr, "EFI PART", 8))
		return 0;
	uint64_t entries = le64(hdr + 72);
	uint32_t count = le32(hdr + 80), esize = le32(hdr + 84);
	if (esize < 128 || esize > 4096 || count > 4096 || (uint64_t)count * esize > (1u << 20))
		return 0;
	_cleanup_free_ uint8_t *tab = malloc((size_t)count * esize);
	if (!tab)
		return -ENOMEM;
	if ((rc = image_read(im, entries * ss, tab, (size_t)count * esize)) < 0)
		return rc;
	bool first_seen = false;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = tab + (size_t)i * esize;
		static const uint8_t unused[16];
		if (!memcmp(e, unused, 16))
			continue;
		if (!memcmp(e, ESP_GUID, 16)) {
			info->uefi = true;
			continue;
		}
		if (first_seen || !memcmp(e, MSR_GUID, 16) || !memcmp(e, BIOS_BOOT_GUID, 16))
			continue;
		first_seen = true;
		if ((rc = is_ntfs(im, le64(e + 32) * ss, &info->windows)) < 0)
			return rc;
	}
	info->gpt = info->partitioned = true;
	return 1;
}

static int probe_tables(struct image *im, struct disk_info *info)
{
	uint8_t mbr[512];
	int rc = image_read(im, 0, mbr, sizeof(mbr));
	if (rc < 0 || mbr[510] != 0x55 || mbr[511] != 0xaa)
		return rc;
	bool protective = false;
	for (int i = 0; i < 4; i++)
		protective |= mbr[446 + 16 * i + 4] == 0xee;
	if (protective) {
		if ((rc = probe_gpt(im, 512, info)) != 0)
			return rc < 0 ? rc : 0;
		rc = probe_gpt(im, 4096, info);
		return rc < 0 ? rc : 0;
	}
	bool first_seen = false;
	for (int i = 0; i < 4; i++) {
		const uint8_t *e = mbr + 446 + 16 * i;
		uint8_t type = e[4];
		uint32_t start = le32(e + 8);
		if (!type || !start)
			continue;
		info->partitioned = true;
		if (type == 0xef) {
			info->uefi = true;
			continue;
		}
		if (first_seen)
			continue;
		first_seen = true;
		if ((rc = is_ntfs(im, (uint64_t)start * 512, &info->windows)) < 0)
			return rc;
	}
	return 0;
}

int disk_probe(const char *path, struct disk_info *info)
{
	*info = (struct disk_info){ 0 };
	struct image im = { .fd = open(path, O_RDONLY | O_CLOEXEC) };
	if (im.fd < 0) {
		int e = errno;
		log_error("cannot open disk %s: %s", path, strerror(e));
		return -e;
	}
	int rc;
	struct stat st;
	uint8_t h[112];
	if (fstat(im.fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		log_error("%s is neither a disk image file nor a block device", path);
		rc = -EINVAL;
		goto out;
	}
	info->block_device = S_ISBLK(st.st_mode);
	im.size = (uint64_t)st.st_size;
	if (info->block_device && ioctl(im.fd, BLKGETSIZE64, &im.size) < 0) {
		rc = -errno;
		log_error("cannot read the size of %s: %s", path, strerror(-rc));
		goto out;
	}
	if ((rc = pread_exact(im.fd, h, sizeof(h), 0)) < 0) {
		log_error("reading %s: %s", path, strerror(-rc));
		goto out;
	}
	if (!memcmp(h, "QFI\xfb", 4)) {
		im.qcow2 = info->qcow2 = true;
		if ((rc = open_qcow2(&im, h)) < 0)
			goto out;
	}
	info->size = im.size;
	if ((rc = probe_tables(&im, info)) < 0)
		log_error("reading the partition table of %s: %s", path, strerror(-rc));
out:
	free(im.cluster);
	free(im.cbuf);
	close(im.fd);
	return rc;
}
