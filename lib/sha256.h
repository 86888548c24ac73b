/* SHA-256 through libcrypto, for the end-to-end check of every stream. The
 * state can be saved and restored, so a resumed transfer continues the hash
 * of what came before instead of reading it again. */
#ifndef SHA256_H
#define SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
/* A saved state: 8 words, the length hashed, the unhashed tail (< 64 bytes). */
#define SHA256_STATE_LEN 104

struct sha256 {
	void *ctx;  /* SHA256_CTX */
};

int sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *buf, size_t len);
/* Finish into digest and release the context. */
void sha256_final(struct sha256 *s, uint8_t digest[SHA256_LEN]);
/* Release without a digest (error paths); safe on a zeroed struct. */
void sha256_abandon(struct sha256 *s);
/* Save the state of an initialised context (after any number of updates). */
void sha256_export(const struct sha256 *s, uint8_t out[SHA256_STATE_LEN]);
/* Initialise s to continue from a saved state; -EINVAL for a malformed one. */
int sha256_import(struct sha256 *s, const uint8_t in[SHA256_STATE_LEN]);
/* Bytes hashed so far. */
uint64_t sha256_length(const struct sha256 *s);
void sha256_hex(const uint8_t digest[SHA256_LEN], char hex[2 * SHA256_LEN + 1]);

#endif
