/* A small qcow2 reader, independent of lib/qcow2.c, for judging what that
 * writer produced: it follows L1/L2, inflates compressed clusters (deflate
 * or zstd) and recounts every host cluster's references against the
 * refcount blocks. Shared by tests/unit/test_qcow2.c and
 * tests/fuzz/fuzz_qcow2.c; errors are returned with a message, never
 * asserted, so each caller reports them its own way. */
#ifndef QCOW2_READ_H
#define QCOW2_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct qcow2_image {
	int fd;
	uint8_t header[120];
	uint64_t virtual_size;
	uint64_t file_size;
	bool zstd;                /* compression type 1 (else deflate) */
	uint64_t l1_offset;
	uint32_t l1_size;
	uint64_t rt_offset;       /* refcount table */
	uint32_t rt_clusters;
	uint8_t *l1;              /* the L1 table */
	uint8_t *l2;              /* the L2 table last read, at l2_offset */
	uint64_t l2_offset;
	uint16_t *refs;           /* references counted so far, per host cluster */
	size_t nrefs;
	char err[256];            /* why the last call failed */
};

/* Read and check the header of the image on fd (version 3, 64 KiB
 * clusters, 16-bit refcounts, no backing file, encryption or snapshots).
 * 0, or -1 with im->err set. */
int qcow2_read_open(struct qcow2_image *im, int fd);

/* Called for each guest cluster in order: data is the cluster's 64 KiB,
 * or NULL for an unallocated cluster (reads as zeros). Non-zero stops. */
typedef int (*qcow2_cluster_fn)(void *ctx, uint64_t index, const uint8_t *data);

/* Read every guest cluster through L1/L2 into fn, then check that every
 * host cluster's refcount equals the references found (header, L1, L2
 * tables, data, refcount table and blocks) and that none is leaked.
 * 0, fn's non-zero return, or -1 with im->err set. */
int qcow2_read_all(struct qcow2_image *im, qcow2_cluster_fn fn, void *ctx);

void qcow2_read_close(struct qcow2_image *im);

#endif
