/* Dotted-quad IPv4 candidates in text (src/match/ip4scan.h). */
#include "match/ip4scan.h"
#include "match/ipset.h"

static inline bool is_dig(uint8_t c)
{
	return (uint8_t)(c - '0') < 10;
}

static inline bool is_ipc(uint8_t c)
{
	return is_dig(c) || c == '.';
}

/* A dot found by a search loop. A vector loop also leaves the 64-byte
 * window it was found in: bit k of ipc is set when b[base + k] is a digit
 * or a dot, of dots when it is a dot; masks is false after the plain loop. */
struct dd_hit {
	size_t dot;
	size_t base;
	uint64_t ipc, dots;
	bool masks;
};

/* The first i in [from, len - 1) with a dot at i and a digit on each side,
 * or len. from >= 1. The vector loops may pass over such dots that cannot
 * be the first of an address (chain_starts), never over one that can. */
static size_t next_dd_plain(const uint8_t *b, size_t len, size_t from, struct dd_hit *h)
{
	h->masks = false;
	for (size_t i = from; i + 1 < len; i++)
		if (b[i] == '.' && is_dig(b[i - 1]) && is_dig(b[i + 1]))
			return h->dot = i;
	return h->dot = len;
}

#if defined(__x86_64__)
#include <immintrin.h>

/* Dots between digits (bit k: byte k) that begin three such dots each two
 * to four bytes after the one before, as the first dot of every address
 * does ("1.2.3.4" to "123.123.123.123"): version numbers, decimals and
 * times ("HTTP/1.1", "537.36", "1709337600.040") begin none. A first dot
 * from bit 56 on may have the others past bit 63; the next window, 56 bytes
 * on, holds them all. */
static inline uint64_t chain_starts(uint64_t m)
{
	uint64_t two = m & ((m >> 2) | (m >> 3) | (m >> 4));
	return two & ((two >> 2) | (two >> 3) | (two >> 4));
}

/* 56 bytes a step in windows of 64: the dots, and the digits one byte
 * before and after. */
__attribute__((target("avx512bw,bmi"))) static size_t next_dd_avx512(const uint8_t *b, size_t len,
								      size_t from, struct dd_hit *h)
{
	const __m512i dot = _mm512_set1_epi8('.'), zero = _mm512_set1_epi8('0');
	const __m512i nine = _mm512_set1_epi8(9);
	size_t i = from;
	for (; i + 65 <= len; i += 56) {
		__m512i v = _mm512_loadu_si512(b + i);
		__m512i p = _mm512_sub_epi8(_mm512_loadu_si512(b + i - 1), zero);
		__m512i n = _mm512_sub_epi8(_mm512_loadu_si512(b + i + 1), zero);
		uint64_t dots = _mm512_cmpeq_epi8_mask(v, dot);
		uint64_t m = dots & _mm512_cmple_epu8_mask(p, nine) & _mm512_cmple_epu8_mask(n, nine);
		uint64_t c = chain_starts(m);
		if (c) {
			uint64_t digits = _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, zero), nine);
			*h = (struct dd_hit){i + (size_t)_tzcnt_u64(c), i, digits | dots, dots, true};
			return h->dot;
		}
	}
	return next_dd_plain(b, len, i, h);
}

/* The same, 56 bytes a step from two 32-byte halves. */
__attribute__((target("avx2,bmi"))) static uint32_t dd_avx2(const uint8_t *b, __m256i dot,
							    __m256i zero, __m256i nine)
{
	__m256i v = _mm256_loadu_si256((const __m256i *)b);
	__m256i p = _mm256_sub_epi8(_mm256_loadu_si256((const __m256i *)(b - 1)), zero);
	__m256i n = _mm256_sub_epi8(_mm256_loadu_si256((const __m256i *)(b + 1)), zero);
	/* unsigned x <= 9 as min(x, 9) == x */
	__m256i pd = _mm256_cmpeq_epi8(_mm256_min_epu8(p, nine), p);
	__m256i nd = _mm256_cmpeq_epi8(_mm256_min_epu8(n, nine), n);
	return (uint32_t)_mm256_movemask_epi8(
		_mm256_and_si256(_mm256_cmpeq_epi8(v, dot), _mm256_and_si256(pd, nd)));
}

/* Digits or dots (bit k: b[k]) and dots of 32 bytes, the low half and the high one. */
__attribute__((target("avx2,bmi"))) static uint64_t ipc_avx2(const uint8_t *b, __m256i dot,
							     __m256i zero, __m256i nine)
{
	__m256i v = _mm256_loadu_si256((const __m256i *)b);
	__m256i d = _mm256_sub_epi8(v, zero);
	__m256i dig = _mm256_cmpeq_epi8(_mm256_min_epu8(d, nine), d);
	__m256i dt = _mm256_cmpeq_epi8(v, dot);
	return (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(dig, dt)) |
	       (uint64_t)(uint32_t)_mm256_movemask_epi8(dt) << 32;
}

__attribute__((target("avx2,bmi"))) static size_t next_dd_avx2(const uint8_t *b, size_t len,
							       size_t from, struct dd_hit *h)
{
	const __m256i dot = _mm256_set1_epi8('.'), zero = _mm256_set1_epi8('0');
	const __m256i nine = _mm256_set1_epi8(9);
	size_t i = from;
	for (; i + 65 <= len; i += 56) {
		uint64_t m = dd_avx2(b + i, dot, zero, nine) |
			     (uint64_t)dd_avx2(b + i + 32, dot, zero, nine) << 32;
		uint64_t c = chain_starts(m);
		if (c) {
			uint64_t lo = ipc_avx2(b + i, dot, zero, nine);
			uint64_t hi = ipc_avx2(b + i + 32, dot, zero, nine);
			*h = (struct dd_hit){i + (size_t)_tzcnt_u64(c), i,
					     (uint32_t)lo | hi << 32, lo >> 32 | (hi >> 32) << 32,
					     true};
			return h->dot;
		}
	}
	return next_dd_plain(b, len, i, h);
}
#endif

/* isa as vec_pick() gave it. */
static size_t next_dd(const uint8_t *b, size_t len, size_t from, enum vec_isa isa,
		      struct dd_hit *h)
{
#if defined(__x86_64__)
	if (isa == VEC_AVX512)
		return next_dd_avx512(b, len, from, h);
	if (isa == VEC_AVX2)
		return next_dd_avx2(b, len, from, h);
#endif
	return next_dd_plain(b, len, from, h);
}

/* The end of the four groups starting the run b[s, r), or 0 when the run
 * does not start with them or they are followed by more of an address. */
static size_t quad_end(const uint8_t *b, size_t len, size_t s, size_t r)
{
	size_t p = s;
	for (int g = 0; g < 4; g++) {
		size_t d = p;
		while (d < r && is_dig(b[d]))
			d++;
		if (d == p || d - p > 3)
			return 0;
		p = d;
		if (g < 3) {
			if (p == r || b[p] != '.')
				return 0;
			p++;
		}
	}
	/* The fourth group ends at a dot or the run's end: "1.2.3.4.5" is no
	 * address, "1.2.3.4." ends a sentence. */
	if (p + 1 < len && b[p] == '.' && is_dig(b[p + 1]))
		return 0;
	return p;
}

/* quad_end from the window's masks, when the run b[s, r) lies in it (the
 * run holds only digits and dots, so its groups lie between its dots);
 * ge[g] is then where group g ends, as an offset from s. */
static size_t quad_end_masks(const struct dd_hit *h, size_t s, size_t r, size_t ge[4])
{
	size_t n = r - s;
	uint64_t d = (h->dots >> (s - h->base)) & (((uint64_t)1 << n) - 1);
	for (int g = 0; g < 3; g++) {
		if (!d)
			return 0;
		ge[g] = (size_t)__builtin_ctzll(d);
		d &= d - 1;
	}
	ge[3] = d ? (size_t)__builtin_ctzll(d) : n;
	if (ge[0] - 1 > 2 || ge[1] - ge[0] - 2 > 2 || ge[2] - ge[1] - 2 > 2 || ge[3] - ge[2] - 2 > 2)
		return 0; /* a group of no digits or more than three */
	/* "1.2.3.4.5" is no address; "1.2.3.4." and "1.2.3.4.." end one. */
	if (ge[3] + 1 < n && !(d >> (ge[3] + 1) & 1))
		return 0;
	return s + ge[3];
}

/* The address of a candidate at b[s, ...) whose groups (one to three
 * digits each) end at s + ge[g]: false when a group is over 255 or has a
 * leading zero (two or more digits, the first '0'), as ipset_parse4()
 * reads it. Without a loop over the digits: their count per group is as
 * good as random in a log. */
static bool quad_value(const uint8_t *b, size_t s, const size_t ge[4], uint8_t addr[4])
{
	unsigned bad = 0;
	size_t gs = s;
	for (int g = 0; g < 4; g++) {
		size_t e = s + ge[g], n = e - gs;
		unsigned d0 = (unsigned)b[e - 1] - '0';
		unsigned d1 = ((unsigned)b[n >= 2 ? e - 2 : gs] - '0') & -(unsigned)(n >= 2);
		unsigned d2 = ((unsigned)b[n >= 3 ? e - 3 : gs] - '0') & -(unsigned)(n >= 3);
		unsigned v = d2 * 100 + d1 * 10 + d0;
		bad |= (unsigned)(v > 255) | (unsigned)(n > 1 && b[gs] == '0');
		addr[g] = (uint8_t)v;
		gs = e + 1;
	}
	return !bad;
}

bool ip4scan_next(const uint8_t *buf, size_t len, size_t *pos, size_t *start, size_t *end)
{
	return ip4scan_next_isa(buf, len, pos, start, end, VEC_AUTO);
}

bool ip4scan_next_isa(const uint8_t *buf, size_t len, size_t *pos, size_t *start, size_t *end,
		      enum vec_isa isa)
{
	return ip4scan_next_addr(buf, len, pos, start, end, NULL, NULL, isa);
}

bool ip4scan_next_addr(const uint8_t *buf, size_t len, size_t *pos, size_t *start, size_t *end,
		       uint8_t addr[4], bool *parsed, enum vec_isa isa)
{
	if (!vec_choose(&isa))
		return false;
	size_t i = *pos;
	struct dd_hit h;
	while (i < len) {
		i = next_dd(buf, len, i ? i : 1, isa, &h);
		if (i >= len)
			break;
		/* The run around the dot; it cannot reach back past *pos, which
		 * is 0 or the end of an earlier run (not a digit or dot). Read
		 * off the window's masks where they hold its ends. */
		size_t s = i, r = i + 1;
		bool in_window = false;
		if (h.masks) {
			size_t k = i - h.base;
			uint64_t below = ~h.ipc & (((uint64_t)1 << k) - 1);
			uint64_t above = ~h.ipc & ~(((uint64_t)1 << k) - 1);
			if (below)
				s = h.base + 64 - (size_t)__builtin_clzll(below);
			if (above)
				r = h.base + (size_t)__builtin_ctzll(above);
			in_window = below && above;
		}
		if (!in_window) {
			while (s > 0 && is_ipc(buf[s - 1]))
				s--;
			while (r < len && is_ipc(buf[r]))
				r++;
		}
		*pos = r;
		size_t ge[4];
		size_t e = in_window ? quad_end_masks(&h, s, r, ge) : quad_end(buf, len, s, r);
		if (e) {
			*start = s;
			*end = e;
			if (addr)
				*parsed = in_window ? quad_value(buf, s, ge, addr)
						    : ipset_parse4(buf + s, e - s, addr);
			return true;
		}
		i = r;
	}
	*pos = len;
	return false;
}
