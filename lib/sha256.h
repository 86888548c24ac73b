/* SHA-256 through libcrypto, for the end-to-end check of every stream. */
#ifndef SHA256_H
#define SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256 {
	void *ctx;  /* EVP_MD_CTX */
};

int sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *buf, size_t len);
/* Finish into digest and release the context. */
void sha256_final(struct sha256 *s, uint8_t digest[SHA256_LEN]);
/* Release without a digest (error paths); safe on a zeroed struct. */
void sha256_abandon(struct sha256 *s);
void sha256_hex(const uint8_t digest[SHA256_LEN], char hex[2 * SHA256_LEN + 1]);

#endif
