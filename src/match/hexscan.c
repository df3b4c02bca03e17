/* Hex digest candidates in text (src/match/hexscan.h). */
#include "match/hexscan.h"

/* Bytes in a row that every run of 32 or more hex digits holds at a
 * multiple of WIN from wherever the search starts (2 * WIN - 1 <= 32). */
#define WIN 16

static inline bool is_hex(uint8_t c)
{
	return (uint8_t)(c - '0') < 10 || (uint8_t)((c | 0x20) - 'a') < 6;
}

/* The first i = from + k * WIN with b[i, i + WIN) all hex digits, or len. */
static size_t next_win_plain(const uint8_t *b, size_t len, size_t from)
{
	for (size_t i = from; i + WIN <= len; i += WIN) {
		size_t k = WIN;
		while (k > 0 && is_hex(b[i + k - 1]))
			k--;
		if (k == 0)
			return i;
	}
	return len;
}

#if defined(__x86_64__)
#include <immintrin.h>

/* 64 bytes a step: the hex digits as a bit mask, then the four windows. */
__attribute__((target("avx512bw,bmi"))) static size_t next_win_avx512(const uint8_t *b,
								       size_t len, size_t from)
{
	const __m512i zero = _mm512_set1_epi8('0'), nine = _mm512_set1_epi8(9);
	const __m512i low = _mm512_set1_epi8(0x20), a = _mm512_set1_epi8('a');
	const __m512i five = _mm512_set1_epi8(5);
	size_t i = from;
	for (; i + 64 <= len; i += 64) {
		__m512i v = _mm512_loadu_si512(b + i);
		uint64_t m = _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, zero), nine) |
			     _mm512_cmple_epu8_mask(_mm512_sub_epi8(_mm512_or_si512(v, low), a), five);
		/* bit j of t: bits j..j+15 of m all set */
		uint64_t t = m & (m >> 1);
		t &= t >> 2;
		t &= t >> 4;
		t &= t >> 8;
		t &= 0x0001000100010001ull;
		if (t)
			return i + (size_t)_tzcnt_u64(t);
	}
	return next_win_plain(b, len, i);
}

/* The same, 32 bytes a step. */
__attribute__((target("avx2,bmi"))) static size_t next_win_avx2(const uint8_t *b, size_t len,
								size_t from)
{
	const __m256i zero = _mm256_set1_epi8('0'), nine = _mm256_set1_epi8(9);
	const __m256i low = _mm256_set1_epi8(0x20), a = _mm256_set1_epi8('a');
	const __m256i five = _mm256_set1_epi8(5);
	size_t i = from;
	for (; i + 32 <= len; i += 32) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(b + i));
		__m256i d = _mm256_sub_epi8(v, zero);
		__m256i l = _mm256_sub_epi8(_mm256_or_si256(v, low), a);
		/* unsigned x <= k as min(x, k) == x */
		__m256i hex = _mm256_or_si256(_mm256_cmpeq_epi8(_mm256_min_epu8(d, nine), d),
					      _mm256_cmpeq_epi8(_mm256_min_epu8(l, five), l));
		uint32_t m = (uint32_t)_mm256_movemask_epi8(hex);
		if ((m & 0xffffu) == 0xffffu)
			return i;
		if ((m >> 16) == 0xffffu)
			return i + 16;
	}
	return next_win_plain(b, len, i);
}
#endif

/* isa as vec_pick() gave it. */
static size_t next_win(const uint8_t *b, size_t len, size_t from, enum vec_isa isa)
{
#if defined(__x86_64__)
	if (isa == VEC_AVX512)
		return next_win_avx512(b, len, from);
	if (isa == VEC_AVX2)
		return next_win_avx2(b, len, from);
#endif
	return next_win_plain(b, len, from);
}

static unsigned width_bit(size_t n)
{
	return n == 32 ? HEXSCAN_W32 : n == 40 ? HEXSCAN_W40 : n == 64 ? HEXSCAN_W64 : 0;
}

bool hexscan_next(const uint8_t *buf, size_t len, unsigned widths, size_t *pos, size_t *end,
		  size_t *width)
{
	return hexscan_next_isa(buf, len, widths, pos, end, width, VEC_AUTO);
}

bool hexscan_next_isa(const uint8_t *buf, size_t len, unsigned widths, size_t *pos,
		      size_t *end, size_t *width, enum vec_isa isa)
{
	if (!vec_choose(&isa))
		return false;
	size_t i = *pos;
	while (widths && i < len) {
		i = next_win(buf, len, i, isa);
		if (i >= len)
			break;
		/* The run around the window; it cannot reach back past *pos,
		 * which is 0 or the end of an earlier run (not a hex digit), nor
		 * past the window before, which was not all hex digits. */
		size_t s = i, r = i + WIN;
		while (s > 0 && is_hex(buf[s - 1]))
			s--;
		while (r < len && is_hex(buf[r]))
			r++;
		*pos = r;
		if (width_bit(r - s) & widths) {
			*end = r;
			*width = r - s;
			return true;
		}
		i = r;
	}
	*pos = len;
	return false;
}
