/* Test helper: random PDQ hashes and near copies of them, from a seed, so
 * that the PDQ tests build the same lists run after run. Header-only. */
#ifndef CS_TEST_PDQ_RAND_H
#define CS_TEST_PDQ_RAND_H

#include <stdint.h>

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

#endif
