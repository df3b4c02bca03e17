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

/* The end of the hex run that goes on at r: the first i >= r whose byte is
 * not a hex digit, or len. */
static size_t run_end_plain(const uint8_t *b, size_t len, size_t r)
{
	while (r < len && is_hex(b[r]))
		r++;
	return r;
}

/* The start of the hex run that ends at s: the last i <= s after a byte
 * that is not a hex digit, or 0. */
static size_t run_start_plain(const uint8_t *b, size_t s)
{
	while (s > 0 && is_hex(b[s - 1]))
		s--;
	return s;
}

#if defined(__x86_64__)
#include <immintrin.h>

/* Bit k: b[k] is a hex digit. */
__attribute__((target("avx512bw"), always_inline)) static inline uint64_t
hex_mask_avx512(const uint8_t *b)
{
	const __m512i v = _mm512_loadu_si512(b);
	return _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, _mm512_set1_epi8('0')),
				      _mm512_set1_epi8(9)) |
	       _mm512_cmple_epu8_mask(_mm512_sub_epi8(_mm512_or_si512(v, _mm512_set1_epi8(0x20)),
						      _mm512_set1_epi8('a')),
				      _mm512_set1_epi8(5));
}

/* run_end_plain and run_start_plain, 64 bytes a step: a digest's run
 * reaches past its window by up to 48 bytes one way and 15 the other. */
__attribute__((target("avx512bw,bmi"))) static size_t run_end_avx512(const uint8_t *b,
								      size_t len, size_t r)
{
	for (; r + 64 <= len; r += 64) {
		uint64_t other = ~hex_mask_avx512(b + r);
		if (other)
			return r + (size_t)_tzcnt_u64(other);
	}
	return run_end_plain(b, len, r);
}

__attribute__((target("avx512bw"))) static size_t run_start_avx512(const uint8_t *b, size_t s)
{
	for (; s >= 64; s -= 64) {
		uint64_t other = ~hex_mask_avx512(b + s - 64);
		if (other)
			return s - (size_t)__builtin_clzll(other);
	}
	return run_start_plain(b, s);
}

/* Bit k: b[k] is a hex digit, of 32. */
__attribute__((target("avx2"), always_inline)) static inline uint32_t
hex_mask_avx2(const uint8_t *b)
{
	const __m256i v = _mm256_loadu_si256((const __m256i *)b);
	const __m256i d = _mm256_sub_epi8(v, _mm256_set1_epi8('0'));
	const __m256i l = _mm256_sub_epi8(_mm256_or_si256(v, _mm256_set1_epi8(0x20)),
					  _mm256_set1_epi8('a'));
	/* unsigned x <= k as min(x, k) == x */
	const __m256i nine = _mm256_set1_epi8(9), five = _mm256_set1_epi8(5);
	return (uint32_t)_mm256_movemask_epi8(
		_mm256_or_si256(_mm256_cmpeq_epi8(_mm256_min_epu8(d, nine), d),
				_mm256_cmpeq_epi8(_mm256_min_epu8(l, five), l)));
}

__attribute__((target("avx2,bmi"))) static size_t run_end_avx2(const uint8_t *b, size_t len,
							       size_t r)
{
	for (; r + 32 <= len; r += 32) {
		uint32_t other = ~hex_mask_avx2(b + r);
		if (other)
			return r + (size_t)_tzcnt_u32(other);
	}
	return run_end_plain(b, len, r);
}

__attribute__((target("avx2"))) static size_t run_start_avx2(const uint8_t *b, size_t s)
{
	for (; s >= 32; s -= 32) {
		uint32_t other = ~hex_mask_avx2(b + s - 32);
		if (other)
			return s - (size_t)__builtin_clz(other);
	}
	return run_start_plain(b, s);
}

/* 64 bytes a step: the hex digits as a bit mask, then the four windows. */
__attribute__((target("avx512bw,bmi"))) static size_t next_win_avx512(const uint8_t *b,
								       size_t len, size_t from)
{
	size_t i = from;
	for (; i + 64 <= len; i += 64) {
		uint64_t m = hex_mask_avx512(b + i);
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
	size_t i = from;
	for (; i + 32 <= len; i += 32) {
		uint32_t m = hex_mask_avx2(b + i);
		if ((m & 0xffffu) == 0xffffu)
			return i;
		if ((m >> 16) == 0xffffu)
			return i + 16;
	}
	return next_win_plain(b, len, i);
}
#endif

/* The dispatchers below take isa as vec_pick() gave it. */
static size_t run_end(const uint8_t *b, size_t len, size_t r, enum vec_isa isa)
{
#if defined(__x86_64__)
	if (isa == VEC_AVX512)
		return run_end_avx512(b, len, r);
	if (isa == VEC_AVX2)
		return run_end_avx2(b, len, r);
#endif
	return run_end_plain(b, len, r);
}

static size_t run_start(const uint8_t *b, size_t s, enum vec_isa isa)
{
#if defined(__x86_64__)
	if (isa == VEC_AVX512)
		return run_start_avx512(b, s);
	if (isa == VEC_AVX2)
		return run_start_avx2(b, s);
#endif
	return run_start_plain(b, s);
}

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
		size_t s = run_start(buf, i, isa), r = run_end(buf, len, i + WIN, isa);
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
