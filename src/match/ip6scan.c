/* Colon-hex IPv6 candidates in text (src/match/ip6scan.h). */
#include "match/ip6scan.h"

/* Longest text the shape matches: H{1,4} (":" H{1,4}){7}. */
#define SHAPE_MAX 39
/* Colons an address without "::" holds. */
#define COLONS_8G 7

static inline bool is_hex(uint8_t c)
{
	return (uint8_t)(c - '0') < 10 || (uint8_t)((c | 0x20) - 'a') < 6;
}

static inline bool is_v6c(uint8_t c)
{
	return c == ':' || is_hex(c);
}

/* Colons in b[s, e), and whether two of them are side by side (one before
 * s counts as a first). */
static unsigned colons(const uint8_t *b, size_t s, size_t e, bool *pair)
{
	unsigned n = 0;
	bool prev = s > 0 && b[s - 1] == ':';
	for (size_t i = s; i < e; i++) {
		bool c = b[i] == ':';
		n += c;
		*pair |= c && prev;
		prev = c;
	}
	return n;
}

/* The first block b[i, i + 64), i = from + k * 64 (the last one cut at len),
 * with a colon pair ending in it or COLONS_8G colons in it and the 64 bytes
 * before; len when none. */
static size_t hot_block_plain(const uint8_t *b, size_t len, size_t from)
{
	bool pair = false;
	unsigned before = colons(b, from >= 64 ? from - 64 : 0, from, &pair);
	for (size_t i = from; i < len; i += 64) {
		size_t e = len - i < 64 ? len : i + 64;
		pair = false;
		unsigned n = colons(b, i, e, &pair);
		if (pair || before + n >= COLONS_8G)
			return i;
		before = n;
	}
	return len;
}

#if defined(__x86_64__)
#include <immintrin.h>

/* The colons of the 64 bytes before from as bits (bit 63 the byte just
 * before), for a start too near the buffer's start for a vector load. */
static uint64_t colons_before(const uint8_t *b, size_t from)
{
	uint64_t m = 0;
	for (size_t k = 0; k < from; k++)
		m |= (uint64_t)(b[from - 1 - k] == ':') << (63 - k);
	return m;
}

__attribute__((target("avx512bw,bmi,popcnt"))) static size_t hot_block_avx512(const uint8_t *b,
									       size_t len,
									       size_t from)
{
	const __m512i colon = _mm512_set1_epi8(':');
	uint64_t prev = from < 64 ? colons_before(b, from)
				  : _mm512_cmpeq_epi8_mask(_mm512_loadu_si512(b + from - 64), colon);
	size_t i = from;
	for (; i + 64 <= len; i += 64) {
		uint64_t c = _mm512_cmpeq_epi8_mask(_mm512_loadu_si512(b + i), colon);
		if ((c & ((c << 1) | (prev >> 63))) ||
		    (unsigned)(_mm_popcnt_u64(prev) + _mm_popcnt_u64(c)) >= COLONS_8G)
			return i;
		prev = c;
	}
	return hot_block_plain(b, len, i);
}

/* The colons of p[0, 64) as bits. */
__attribute__((target("avx2"))) static inline uint64_t colons_avx2(const uint8_t *p,
								   __m256i colon)
{
	uint32_t lo = (uint32_t)_mm256_movemask_epi8(
		_mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)p), colon));
	uint32_t hi = (uint32_t)_mm256_movemask_epi8(
		_mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + 32)), colon));
	return lo | (uint64_t)hi << 32;
}

__attribute__((target("avx2,bmi,popcnt"))) static size_t hot_block_avx2(const uint8_t *b,
									size_t len, size_t from)
{
	const __m256i colon = _mm256_set1_epi8(':');
	uint64_t prev = from < 64 ? colons_before(b, from) : colons_avx2(b + from - 64, colon);
	size_t i = from;
	for (; i + 64 <= len; i += 64) {
		uint64_t c = colons_avx2(b + i, colon);
		if ((c & ((c << 1) | (prev >> 63))) ||
		    (unsigned)(_mm_popcnt_u64(prev) + _mm_popcnt_u64(c)) >= COLONS_8G)
			return i;
		prev = c;
	}
	return hot_block_plain(b, len, i);
}
#endif

/* isa as vec_pick() gave it. */
static size_t hot_block(const uint8_t *b, size_t len, size_t from, enum vec_isa isa)
{
#if defined(__x86_64__)
	if (isa == VEC_AVX512)
		return hot_block_avx512(b, len, from);
	if (isa == VEC_AVX2)
		return hot_block_avx2(b, len, from);
#endif
	return hot_block_plain(b, len, from);
}

/* Hex digits from p on, at most 5 counted. */
static size_t hex_run(const uint8_t *t, size_t p, size_t n)
{
	size_t k = 0;
	while (p + k < n && k < 5 && is_hex(t[p + k]))
		k++;
	return k;
}

/* Whether t[0, n) is all of "::" H{0,4} (":" H{1,4}){0,6} or
 * H{1,4} (":" H{1,4}){7}. */
static bool shape_whole(const uint8_t *t, size_t n)
{
	size_t p, h;
	unsigned groups, most;
	if (n >= 2 && t[0] == ':' && t[1] == ':') {
		h = hex_run(t, 2, n);
		if (h > 4)
			return false;
		p = 2 + h;
		most = 6;
	} else {
		h = hex_run(t, 0, n);
		if (h < 1 || h > 4)
			return false;
		p = h;
		most = 7;
	}
	for (groups = 0; p < n; groups++) {
		if (groups == most || t[p] != ':')
			return false;
		h = hex_run(t, p + 1, n);
		if (h < 1 || h > 4)
			return false;
		p += 1 + h;
	}
	return most == 6 || groups == 7;
}

/* Whether some part of the run b[s, e) ending at e is the shape. */
static bool shape_ends_at(const uint8_t *b, size_t s, size_t e)
{
	for (size_t st = e - s > SHAPE_MAX ? e - SHAPE_MAX : s; st + 2 <= e; st++)
		if (shape_whole(b + st, e - st))
			return true;
	return false;
}

bool ip6scan_next(const uint8_t *buf, size_t len, size_t *pos, size_t *end)
{
	return ip6scan_next_isa(buf, len, pos, end, VEC_AUTO);
}

bool ip6scan_next_isa(const uint8_t *buf, size_t len, size_t *pos, size_t *end,
		      enum vec_isa isa)
{
	if (!vec_choose(&isa))
		return false;
	size_t i = *pos;
	while (i < len) {
		i = hot_block(buf, len, i, isa);
		if (i >= len)
			break;
		size_t block_end = len - i < 64 ? len : i + 64, next = block_end;
		/* Each run through a colon of the block, once. A run may reach
		 * back before the block (and before *pos when that is a block's
		 * end), never to one already read: the search goes on past it. */
		for (size_t q = i; q < block_end; q++) {
			if (buf[q] != ':')
				continue;
			size_t s = q, r = q + 1;
			while (s > 0 && is_v6c(buf[s - 1]))
				s--;
			while (r < len && is_v6c(buf[r]))
				r++;
			q = r; /* the loop's q++ passes the byte that ends the run */
			if (r > next)
				next = r;
			bool pair = false;
			unsigned n = colons(buf, s, r, &pair);
			if ((pair || n >= COLONS_8G) && shape_ends_at(buf, s, r)) {
				*pos = r;
				*end = r;
				return true;
			}
		}
		i = next;
	}
	*pos = len;
	return false;
}
