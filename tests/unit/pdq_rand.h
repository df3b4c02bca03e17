/* Test helper: random PDQ hashes and near copies of them, from a seed, so
 * that the PDQ tests build the same lists run after run. Header-only. */
#ifndef CS_TEST_PDQ_RAND_H
#define CS_TEST_PDQ_RAND_H

#include <stdint.h>
#include <string.h>

#include "cybersieve/pdq.h"

static inline uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static inline void rand_hash(uint64_t *rng, uint8_t h[PDQ_HASH_BYTES])
{
	for (int i = 0; i < PDQ_HASH_BYTES; i++)
		h[i] = (uint8_t)rng_next(rng);
}

/* Flip d distinct bits of h. */
static inline void flip_bits(uint64_t *rng, uint8_t h[PDQ_HASH_BYTES], unsigned d)
{
	uint8_t used[256] = {0};
	for (unsigned k = 0; k < d;) {
		unsigned b = (unsigned)(rng_next(rng) % 256);
		if (used[b])
			continue;
		used[b] = 1;
		h[b / 8] ^= (uint8_t)(1u << (b % 8));
		k++;
	}
}

/* n random entries (n > 40 * 97), entries 97, 194, ..., 3880 copies of
 * entry 0 with 1 to 40 bits (modulo 48) flipped: a crowd of near hashes. */
static inline void rand_entries(uint64_t *rng, uint8_t (*hs)[PDQ_HASH_BYTES], size_t n)
{
	for (size_t i = 0; i < n; i++)
		rand_hash(rng, hs[i]);
	for (size_t i = 1; i <= 40; i++) {
		memcpy(hs[i * 97], hs[0], PDQ_HASH_BYTES);
		flip_bits(rng, hs[i * 97], (unsigned)(i % 48));
	}
}

#endif
