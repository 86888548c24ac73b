/* A streaming qcow2 version 3 writer: 64 KiB clusters, 16-bit refcounts,
 * unallocated clusters for zeros, optionally deflate- or zstd-compressed
 * clusters. It is fed in increasing offset order (the order a disk stream
 * arrives in); gaps between writes read as zeros and are never allocated.
 *
 * Memory stays bounded whatever the virtual size: one guest cluster being
 * assembled, the current L2 table (each is written out once the stream has
 * passed its 512 MiB span), the current refcount block (written once the
 * host file has passed its 2 GiB span), a 1 MiB output buffer, and the L1
 * and refcount tables (8 bytes per 512 MiB of disk and per 2 GiB of file).
 *
 * Host layout: cluster 0 is the header, written last so an unfinished file
 * is never a valid image; then data clusters, L2 tables and refcount blocks
 * in the order they fill; at the end the L1 table, the last refcount blocks
 * and the refcount table. The caller owns the fd (a fresh, empty file, e.g.
 * an O_TMPFILE from atomic_file.h) and fsyncs it after finish. */
#ifndef QCOW2_H
#define QCOW2_H

#include <stddef.h>
#include <stdint.h>

#define QCOW2_CLUSTER_BITS 16
#define QCOW2_CLUSTER_SIZE (1u << QCOW2_CLUSTER_BITS)
#define QCOW2_HEADER_LENGTH 112

/* L2/L1 entry flags. */
#define QCOW2_OFLAG_COPIED     (1ull << 63)
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)
/* Incompatible feature bit 3: compression_type (byte 104) is not deflate. */
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)

enum qcow2_compression {
	QCOW2_COMPRESS_NONE,
	QCOW2_COMPRESS_DEFLATE,   /* raw deflate, window 2^12 (qemu's zlib type) */
	QCOW2_COMPRESS_ZSTD,      /* one zstd frame per cluster */
};

struct qcow2_opts {
	enum qcow2_compression compression;
	int level;                /* 0: the library's default level */
};

struct qcow2_stats {
	uint64_t data_clusters;        /* guest clusters stored uncompressed */
	uint64_t compressed_clusters;  /* guest clusters stored compressed */
	uint64_t file_size;            /* host bytes, final after finish */
};

struct qcow2_writer;

/* Start an image of virtual_size bytes (a multiple of 512, as qemu counts
 * sectors) on fd; o may be NULL for no compression. 0 or -errno (logged). */
int qcow2_writer_open(int fd, uint64_t virtual_size, const struct qcow2_opts *o,
		      struct qcow2_writer **out);
/* Store len bytes at guest offset. offset must be at or past the end of the
 * previous write and offset + len within the virtual size, else -EINVAL;
 * writes may start and end anywhere inside a cluster. After any error the
 * writer refuses everything but free. */
int qcow2_writer_write(struct qcow2_writer *w, uint64_t offset, const void *buf, size_t len);
/* Store the last partial cluster, the pending L2 table, the L1 table, the
 * refcount blocks and table, then the header. Does not fsync. */
int qcow2_writer_finish(struct qcow2_writer *w);
void qcow2_writer_stats(const struct qcow2_writer *w, struct qcow2_stats *st);
void qcow2_writer_free(struct qcow2_writer *w);

/* Entry encodings (exposed for the unit tests). A standard L2 entry for a
 * cluster at host_offset with refcount 1; a compressed cluster's descriptor
 * for len bytes at host byte offset host_offset (64 KiB clusters: offset in
 * bits 0..53, additional 512-byte sectors in bits 54..61). */
uint64_t qcow2_l2_entry(uint64_t host_offset);
uint64_t qcow2_compressed_entry(uint64_t host_offset, size_t len);

#endif
