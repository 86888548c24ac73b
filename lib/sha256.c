/* SHA-256 through libcrypto's SHA256_CTX rather than EVP: the same
 * accelerated code, and a context whose state can be saved and restored
 * (sha256_export/import), which a resumed transfer needs so neither side
 * hashes its first terabytes again. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "sha256.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int sha256_init(struct sha256 *s)
{
	SHA256_CTX *ctx = malloc(sizeof(*ctx));
	if (!ctx || SHA256_Init(ctx) != 1) {
		free(ctx);
		return -ENOMEM;
	}
	s->ctx = ctx;
	return 0;
}

void sha256_update(struct sha256 *s, const void *buf, size_t len)
{
	SHA256_Update(s->ctx, buf, len);
}

void sha256_final(struct sha256 *s, uint8_t digest[SHA256_LEN])
{
	SHA256_Final(digest, s->ctx);
	sha256_abandon(s);
}

void sha256_abandon(struct sha256 *s)
{
	if (s->ctx)
		OPENSSL_cleanse(s->ctx, sizeof(SHA256_CTX));
	free(s->ctx);
	s->ctx = NULL;
}

/* Layout: 8 state words, the message length in bytes, the unhashed tail
 * (length % 64 bytes, rest zero); all big-endian. */
void sha256_export(const struct sha256 *s, uint8_t out[SHA256_STATE_LEN])
{
	const SHA256_CTX *c = s->ctx;
	memset(out, 0, SHA256_STATE_LEN);
	for (int i = 0; i < 8; i++)
		put_be32(out + 4 * i, c->h[i]);
	uint64_t bits = ((uint64_t)c->Nh << 32) | c->Nl;
	put_be64(out + 32, bits / 8);
	memcpy(out + 40, c->data, c->num);
}

int sha256_import(struct sha256 *s, const uint8_t in[SHA256_STATE_LEN])
{
	uint64_t bytes = get_be64(in + 32);
	unsigned num = (unsigned)(bytes % 64);
	if (bytes > (UINT64_MAX >> 3))
		return -EINVAL;
	for (unsigned i = 40 + num; i < SHA256_STATE_LEN; i++)
		if (in[i])
			return -EINVAL;  /* not a state sha256_export wrote */
	int rc = sha256_init(s);
	if (rc < 0)
		return rc;
	SHA256_CTX *c = s->ctx;
	for (int i = 0; i < 8; i++)
		c->h[i] = get_be32(in + 4 * i);
	uint64_t bits = bytes * 8;
	c->Nl = (SHA_LONG)(bits & 0xffffffffu);
	c->Nh = (SHA_LONG)(bits >> 32);
	memset(c->data, 0, sizeof(c->data));
	memcpy(c->data, in + 40, num);
	c->num = num;
	return 0;
}

uint64_t sha256_length(const struct sha256 *s)
{
	const SHA256_CTX *c = s->ctx;
	return (((uint64_t)c->Nh << 32) | c->Nl) / 8;
}

void sha256_hex(const uint8_t digest[SHA256_LEN], char hex[2 * SHA256_LEN + 1])
{
	for (int i = 0; i < SHA256_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}
