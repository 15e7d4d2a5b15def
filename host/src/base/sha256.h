/* sha256.h — SHA-256 (FIPS 180-4) of a byte string. Used for content
 * hashes that must not collide in practice (the import's src_hash). */
#ifndef QTS_SHA256_H
#define QTS_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* Hash `n` bytes of `p` (borrowed) into `out`. */
void qts_sha256(const void *p, size_t n, uint8_t out[32]);

#endif
