/* Test driver: stream a raw image through the qcow2 writer the way
 * ct-import receives a disk: holes are skipped (gaps), the data comes in
 * random-sized pieces that start and end anywhere, and pieces that are all
 * zeros are not sent at all. The image is published through atomic_file.
 *
 * usage: qcow2_from_raw [-c none|deflate|zstd] [-l LEVEL] [-s SEED]
 *                       [-m MAXCHUNK] RAW OUT.qcow2 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "log.h"
#include "qcow2.h"
#include "util.h"

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return rng;
}

/* Mostly sizes up to max, sometimes tiny or a few clusters; never above max. */
static size_t chunk_size(size_t max)
{
	size_t n;
	switch (rnd() % 4) {
	case 0: n = 1 + rnd() % 4096; break;
	case 1: n = 1 + rnd() % (3 * QCOW2_CLUSTER_SIZE); break;
	default: n = 1 + rnd() % max; break;
	}
	return n < max ? n : max;
}

static bool zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

int main(int argc, char **argv)
{
	log_init("qcow2_from_raw");
	struct qcow2_opts o = { QCOW2_COMPRESS_NONE, 0 };
	size_t max = 4u << 20;
	int c;
	while ((c = getopt(argc, argv, "c:l:s:m:")) != -1) {
		switch (c) {
		case 'c':
			o.compression = !strcmp(optarg, "zstd") ? QCOW2_COMPRESS_ZSTD :
					!strcmp(optarg, "deflate") ? QCOW2_COMPRESS_DEFLATE :
					QCOW2_COMPRESS_NONE;
			break;
		case 'l': o.level = atoi(optarg); break;
		case 's': rng = strtoull(optarg, NULL, 0) | 1; break;
		case 'm': max = strtoull(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	if (argc - optind != 2 || max == 0 || max > (64u << 20)) {
		fprintf(stderr, "usage: qcow2_from_raw [-c none|deflate|zstd] [-l L] [-s SEED] [-m MAX] RAW OUT\n");
		return 2;
	}
	int in = open(argv[optind], O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (in < 0 || fstat(in, &st) < 0) {
		perror(argv[optind]);
		return 1;
	}
	char *o1 = strdup(argv[optind + 1]), *o2 = strdup(argv[optind + 1]);
	struct atomic_file af;
	if (atomic_file_open(&af, dirname(o1), basename(o2), false) < 0)
		return 1;
	struct qcow2_writer *w;
	if (qcow2_writer_open(af.fd, (uint64_t)st.st_size, &o, &w) < 0)
		return 1;
	uint8_t *buf = malloc(max);
	uint64_t pos = 0, size = (uint64_t)st.st_size;
	while (pos < size) {
		off_t d = lseek(in, (off_t)pos, SEEK_DATA);
		if (d < 0 && errno == ENXIO)
			break;
		off_t h = d < 0 ? -1 : lseek(in, d, SEEK_HOLE);
		if (d < 0 || h < 0) {
			perror("lseek");
			return 1;
		}
		for (pos = (uint64_t)d; pos < (uint64_t)h;) {
			size_t n = chunk_size(max);
			if (n > (uint64_t)h - pos)
				n = (size_t)((uint64_t)h - pos);
			ssize_t got = pread(in, buf, n, (off_t)pos);
			if (got <= 0) {
				perror("pread");
				return 1;
			}
			if (!zero(buf, (size_t)got) && qcow2_writer_write(w, pos, buf, (size_t)got) < 0)
				return 1;
			pos += (uint64_t)got;
		}
	}
	if (qcow2_writer_finish(w) < 0 || atomic_file_commit(&af, false) < 0)
		return 1;
	struct qcow2_stats s;
	qcow2_writer_stats(w, &s);
	printf("data_clusters=%llu compressed_clusters=%llu file_size=%llu\n",
	       (unsigned long long)s.data_clusters, (unsigned long long)s.compressed_clusters,
	       (unsigned long long)s.file_size);
	qcow2_writer_free(w);
	free(buf);
	free(o1);
	free(o2);
	close(in);
	atomic_file_discard(&af);
	return 0;
}
