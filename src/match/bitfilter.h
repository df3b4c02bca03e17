/* Private to match/: a blocked bit filter in front of a set's exact lookup.
 * Each key's 64-bit hash sets three bits of one 64-bit word; with 16 bits
 * per key a lookup reads one word and lets about 0.5 % of absent keys
 * through (one bit per key let 6 % through), so most text that is not
 * listed never reaches the set's own table, whose probes miss the cache.
 * The caller owns the words (bitfilter_words() of them, zeroed). */
#ifndef CS_MATCH_BITFILTER_H
#define CS_MATCH_BITFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* log2 of the bits for n keys: at least 16 bits a key, at least 512 bits. */
static inline unsigned bitfilter_log2(size_t n)
{
	unsigned lg = 9;
	while (lg < 40 && ((size_t)1 << lg) < n * 16)
		lg++;
	return lg;
}

static inline size_t bitfilter_words(unsigned lg)
{
	return (size_t)1 << (lg - 6);
}

static inline size_t bitfilter_word(uint64_t h, unsigned lg)
{
	return (size_t)(h & (bitfilter_words(lg) - 1));
}

static inline uint64_t bitfilter_bits(uint64_t h)
{
	return (uint64_t)1 << ((h >> 40) & 63) | (uint64_t)1 << ((h >> 46) & 63) |
	       (uint64_t)1 << ((h >> 52) & 63);
}

static inline void bitfilter_add(uint64_t *f, unsigned lg, uint64_t h)
{
	f[bitfilter_word(h, lg)] |= bitfilter_bits(h);
}

/* False when the key of hash h is surely absent. */
static inline bool bitfilter_maybe(const uint64_t *f, unsigned lg, uint64_t h)
{
	uint64_t want = bitfilter_bits(h);
	return (f[bitfilter_word(h, lg)] & want) == want;
}

#endif
