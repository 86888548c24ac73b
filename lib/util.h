/* Small helpers shared by both programs: cleanup attributes, full reads and
 * writes, name checks. */
#ifndef UTIL_H
#define UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

void freep(void *p);
void closep(int *fd);
void fclosep(FILE **f);
#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))
#define _cleanup_fclose_ __attribute__((cleanup(fclosep)))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Read or write exactly len bytes, retrying on EINTR and short counts.
 * read_full returns the number of bytes read (less than len only at EOF)
 * or -errno; write_full returns 0 or -errno. */
ssize_t read_full(int fd, void *buf, size_t len);
int write_full(int fd, const void *buf, size_t len);

/* A name that is safe as a single path component we create: 1..128 chars of
 * [A-Za-z0-9._+-], not starting with '.' or '-'. */
bool name_is_safe(const char *name);

/* Big-endian integer encoding for the wire format. */
void put_be32(uint8_t *p, uint32_t v);
void put_be64(uint8_t *p, uint64_t v);
uint32_t get_be32(const uint8_t *p);
uint64_t get_be64(const uint8_t *p);

/* Parse a whole decimal unsigned number in [min, max]; 0 or -EINVAL. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Read a whole (small) file into a NUL-terminated buffer; 0 or -errno. */
int read_file(const char *path, size_t max, char **out, size_t *len);

/* Human-readable byte count ("1.5 GiB") into buf. */
const char *format_bytes(uint64_t bytes, char *buf, size_t size);

#endif
