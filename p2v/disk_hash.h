/* SHA-256 of a disk's logical content in a thread of its own, so hashing
 * (which includes every gap of zeros) overlaps with reading and compressing.
 * The hasher owns a ring of read buffers: the reader takes the next one,
 * fills it, submits it, and may keep reading from it until it takes the
 * buffer after next-to-last; memory stays nbuf × bufsize. */
#ifndef P2V_DISK_HASH_H
#define P2V_DISK_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

struct disk_hasher;

int disk_hasher_start(struct disk_hasher **out, unsigned nbuf, size_t bufsize);
/* The same, continuing from a saved hash state (sha256_export). */
int disk_hasher_start_at(struct disk_hasher **out, unsigned nbuf, size_t bufsize,
			 const uint8_t state[SHA256_STATE_LEN]);
/* Wait until everything submitted is hashed and save the state: a
 * checkpoint a resumed transfer can continue from. */
void disk_hasher_state(struct disk_hasher *h, uint8_t state[SHA256_STATE_LEN]);
/* The next buffer of the ring, once the hasher is done with its last use. */
uint8_t *disk_hasher_buffer(struct disk_hasher *h);
/* Hash the first len bytes of the buffer last returned by disk_hasher_buffer. */
void disk_hasher_submit(struct disk_hasher *h, size_t len);
/* Hash len zero bytes (no buffer needed). */
void disk_hasher_zeros(struct disk_hasher *h, uint64_t len);
/* Wait for everything submitted, write the digest (if not NULL), free all. */
void disk_hasher_finish(struct disk_hasher *h, uint8_t digest[SHA256_LEN]);

#endif
