/* MD5 (RFC 1321) of up to sixteen messages side by side (md5_lanes.h).
 * Each slot holds a message's state and up to MD5_LANES_SLOT_BYTES of its
 * bytes not yet compressed, at off .. off + have of its part of buf. The
 * vector code runs on x86-64 only, chosen at run time. */
#include "flow/md5_lanes.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define ML_X86 1
#else
#define ML_X86 0
#endif

#define ML_LANES 16
#define ML_BLOCK 64
/* The lanes are taken when they compress at least this many times the
 * blocks of the slot that asked. */
#define ML_LANES_WORTH 3

struct md5_slot {
	uint32_t h[4];
	uint64_t total; /* bytes given */
	uint32_t off, have;
	bool used;
};

struct md5_lanes {
	struct md5_slot s[MD5_LANES_SLOTS];
	uint8_t *buf; /* MD5_LANES_SLOTS * MD5_LANES_SLOT_BYTES */
	unsigned open; /* slots in use */
	uint64_t vector_steps, scalar_blocks;
};

bool md5_lanes_supported(void)
{
#if ML_X86
	return __builtin_cpu_supports("avx512f");
#else
	return false;
#endif
}

enum cs_err md5_lanes_create(struct md5_lanes **out)
{
	*out = NULL;
	if (!md5_lanes_supported())
		return CS_ERR_UNSUPPORTED;
	struct md5_lanes *ml = calloc(1, sizeof(*ml));
	if (!ml)
		return CS_ERR_NOMEM;
	ml->buf = aligned_alloc(64, (size_t)MD5_LANES_SLOTS * MD5_LANES_SLOT_BYTES);
	if (!ml->buf) {
		free(ml);
		return CS_ERR_NOMEM;
	}
	*out = ml;
	return CS_OK;
}

void md5_lanes_destroy(struct md5_lanes *ml)
{
	if (!ml)
		return;
	free(ml->buf);
	free(ml);
}

int md5_lanes_open(struct md5_lanes *ml)
{
	if (!ml || ml->open == MD5_LANES_SLOTS)
		return -1;
	for (int i = 0; i < MD5_LANES_SLOTS; i++) {
		struct md5_slot *s = &ml->s[i];
		if (s->used)
			continue;
		*s = (struct md5_slot){.h = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u},
				       .used = true};
		ml->open++;
		return i;
	}
	return -1;
}

void md5_lanes_close(struct md5_lanes *ml, int slot)
{
	if (!ml || slot < 0 || !ml->s[slot].used)
		return;
	ml->s[slot].used = false;
	ml->open--;
}

/* The sine table of RFC 1321 and each step's rotation. */
static const uint32_t ml_k[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
	0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
	0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
	0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
	0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
	0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
	0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
	0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
	0xeb86d391,
};
static const unsigned char ml_r[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23},
					 {6, 10, 15, 21}};

/* The round functions as VPTERNLOGD tables over (b, c, d): F = b ? c : d,
 * G = d ? b : c, H = b ^ c ^ d, I = c ^ (b | ~d). */
#define ML_F 0xca
#define ML_G 0xe4
#define ML_H 0x96
#define ML_I 0x39

/* The message word step i of a block reads (RFC 1321, one order a round). */
static inline int ml_word(int i)
{
	return i < 16 ? i : i < 32 ? (5 * i + 1) % 16 : i < 48 ? (3 * i + 5) % 16 : (7 * i) % 16;
}

static inline uint32_t ml_rol(uint32_t x, unsigned r)
{
	return x << r | x >> (32 - r);
}

/* One slot's whole blocks, one after another, without vectors: for a slot
 * that would have too few others beside it in the lanes. */
static void ml_scalar(struct md5_lanes *ml, int slot)
{
	struct md5_slot *s = &ml->s[slot];
	const uint8_t *p = ml->buf + (size_t)slot * MD5_LANES_SLOT_BYTES + s->off;
	uint32_t h0 = s->h[0], h1 = s->h[1], h2 = s->h[2], h3 = s->h[3];
	ml->scalar_blocks += s->have / ML_BLOCK;
	for (; s->have >= ML_BLOCK; p += ML_BLOCK, s->have -= ML_BLOCK, s->off += ML_BLOCK) {
		uint32_t w[16];
		memcpy(w, p, sizeof(w));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		for (int j = 0; j < 16; j++)
			w[j] = __builtin_bswap32(w[j]);
#endif
		uint32_t a = h0, b = h1, c = h2, d = h3;
#pragma GCC unroll 64
		for (int i = 0; i < 64; i++) {
			uint32_t f = i < 16   ? (b & c) | (~b & d)
				     : i < 32 ? (d & b) | (~d & c)
				     : i < 48 ? b ^ c ^ d
					      : c ^ (b | ~d);
			uint32_t t = ml_rol(a + f + ml_k[i] + w[ml_word(i)], ml_r[i / 16][i % 4]);
			a = d;
			d = c;
			c = b;
			b += t;
		}
		h0 += a;
		h1 += b;
		h2 += c;
		h3 += d;
	}
	s->h[0] = h0;
	s->h[1] = h1;
	s->h[2] = h2;
	s->h[3] = h3;
}

#if ML_X86

/* Word j of block k of each lane into w[j], lane l's in element l: the
 * sixteen blocks loaded and transposed (16 x 16 words). A lane without a
 * block k (n[l] <= k) reads lane 0's, which has the most. */
__attribute__((target("avx512f"))) static inline void ml_load_words(const uint8_t *buf,
								      const uint32_t *at,
								      const uint32_t *n, unsigned k,
								      __m512i w[16])
{
	__m512i r[16], t[16], u[16];
	for (int l = 0; l < 16; l++)
		r[l] = _mm512_loadu_si512(buf + (n[l] > k ? at[l] : at[0]) + (size_t)k * ML_BLOCK);
	for (int i = 0; i < 8; i++) {
		t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
		t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
	}
	/* u[4i + k], 128-bit lane q: word 4q + k of rows 4i .. 4i + 3 */
	for (int i = 0; i < 4; i++) {
		u[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
		u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
		u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
		u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
	}
	for (int j = 0; j < 4; j++) {
		__m512i v0 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0x44);
		__m512i v1 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0xee);
		__m512i v2 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0x44);
		__m512i v3 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0xee);
		w[j] = _mm512_shuffle_i32x4(v0, v2, 0x88);
		w[4 + j] = _mm512_shuffle_i32x4(v0, v2, 0xdd);
		w[8 + j] = _mm512_shuffle_i32x4(v1, v3, 0x88);
		w[12 + j] = _mm512_shuffle_i32x4(v1, v3, 0xdd);
	}
}

/* Compress blocks of up to sixteen slots (lane l: slot lane[l], for l below
 * nl), cnt[l] blocks of lane l from its slot's off on; a lane whose blocks
 * are done sits the remaining steps out. */
__attribute__((target("avx512f"))) static void ml_steps(struct md5_lanes *ml, const int *lane,
							  const unsigned *cnt, unsigned nl)
{
	uint32_t at[ML_LANES], n[ML_LANES], h[4][ML_LANES];
	unsigned steps = 0;
	for (unsigned l = 0; l < ML_LANES; l++) {
		const struct md5_slot *s = &ml->s[lane[l < nl ? l : 0]];
		at[l] = (uint32_t)(lane[l < nl ? l : 0] * MD5_LANES_SLOT_BYTES) + s->off;
		n[l] = l < nl ? cnt[l] : 0;
		if (n[l] > steps)
			steps = n[l];
		for (int i = 0; i < 4; i++)
			h[i][l] = s->h[i];
	}
	ml->vector_steps += steps;
	__m512i vn = _mm512_loadu_si512(n);
	__m512i a = _mm512_loadu_si512(h[0]), b = _mm512_loadu_si512(h[1]);
	__m512i c = _mm512_loadu_si512(h[2]), d = _mm512_loadu_si512(h[3]);
	for (unsigned k = 0; k < steps; k++) {
		__mmask16 live = _mm512_cmpgt_epu32_mask(vn, _mm512_set1_epi32((int)k));
		__m512i w[16];
		ml_load_words(ml->buf, at, n, k, w);
		__m512i a0 = a, b0 = b, c0 = c, d0 = d;
#pragma GCC unroll 64
		for (int i = 0; i < 64; i++) {
			__m512i f = i < 16   ? _mm512_ternarylogic_epi32(b, c, d, ML_F)
				    : i < 32 ? _mm512_ternarylogic_epi32(b, c, d, ML_G)
				    : i < 48 ? _mm512_ternarylogic_epi32(b, c, d, ML_H)
					     : _mm512_ternarylogic_epi32(b, c, d, ML_I);
			__m512i t = _mm512_add_epi32(_mm512_add_epi32(a, f),
						     _mm512_add_epi32(w[ml_word(i)],
								      _mm512_set1_epi32((int)ml_k[i])));
			t = _mm512_rolv_epi32(t, _mm512_set1_epi32(ml_r[i / 16][i % 4]));
			a = d;
			d = c;
			c = b;
			b = _mm512_add_epi32(b, t);
		}
		/* a lane past its blocks keeps its state */
		a = _mm512_mask_add_epi32(a0, live, a, a0);
		b = _mm512_mask_add_epi32(b0, live, b, b0);
		c = _mm512_mask_add_epi32(c0, live, c, c0);
		d = _mm512_mask_add_epi32(d0, live, d, d0);
	}
	_mm512_storeu_si512(h[0], a);
	_mm512_storeu_si512(h[1], b);
	_mm512_storeu_si512(h[2], c);
	_mm512_storeu_si512(h[3], d);
	for (unsigned l = 0; l < nl; l++) {
		struct md5_slot *s = &ml->s[lane[l]];
		for (int i = 0; i < 4; i++)
			s->h[i] = h[i][l];
		s->off += cnt[l] * ML_BLOCK;
		s->have -= cnt[l] * ML_BLOCK;
	}
}
#endif

/* Compress slot's whole blocks, beside those of the fifteen other slots
 * with the most whole blocks (each up to as many as slot has). */
static void ml_drain(struct md5_lanes *ml, int slot)
{
#if ML_X86
	unsigned want = ml->s[slot].have / ML_BLOCK;
	if (!want)
		return;
	int lane[ML_LANES];
	unsigned cnt[ML_LANES], nl = 1;
	lane[0] = slot;
	cnt[0] = want;
	for (int i = 0; i < MD5_LANES_SLOTS; i++) {
		const struct md5_slot *s = &ml->s[i];
		unsigned c = s->have / ML_BLOCK;
		if (i == slot || !s->used || !c)
			continue;
		if (c > want)
			c = want;
		/* keep lanes 1.. in decreasing order of blocks: insert c */
		unsigned at = nl;
		while (at > 1 && cnt[at - 1] < c)
			at--;
		if (at == ML_LANES)
			continue;
		unsigned last = nl < ML_LANES ? nl : ML_LANES - 1;
		for (unsigned k = last; k > at; k--) {
			lane[k] = lane[k - 1];
			cnt[k] = cnt[k - 1];
		}
		lane[at] = i;
		cnt[at] = c;
		if (nl < ML_LANES)
			nl++;
	}
	/* A vector step costs about three blocks done alone: take the lanes
	 * only when they do more than that. */
	unsigned sum = 0;
	for (unsigned l = 0; l < nl; l++)
		sum += cnt[l];
	if (sum < ML_LANES_WORTH * want)
		ml_scalar(ml, slot);
	else
		ml_steps(ml, lane, cnt, nl);
#else
	ml_scalar(ml, slot);
#endif
}

/* Append bytes to slot's buffer, compressing when it is full. */
static void ml_put(struct md5_lanes *ml, int slot, const uint8_t *p, size_t n)
{
	struct md5_slot *s = &ml->s[slot];
	uint8_t *base = ml->buf + (size_t)slot * MD5_LANES_SLOT_BYTES;
	while (n) {
		if (s->off + s->have == MD5_LANES_SLOT_BYTES) {
			if (s->have >= ML_BLOCK)
				ml_drain(ml, slot);
			memmove(base, base + s->off, s->have); /* under one block */
			s->off = 0;
		}
		size_t room = MD5_LANES_SLOT_BYTES - s->off - s->have;
		size_t take = n < room ? n : room;
		memcpy(base + s->off + s->have, p, take);
		s->have += (uint32_t)take;
		p += take;
		n -= take;
	}
}

void md5_lanes_update(struct md5_lanes *ml, int slot, const uint8_t *p, size_t n)
{
	if (!ml || slot < 0 || !ml->s[slot].used || !n)
		return;
	ml->s[slot].total += n;
	ml_put(ml, slot, p, n);
}

void md5_lanes_final(struct md5_lanes *ml, int slot, uint8_t out[16])
{
	if (!ml || slot < 0 || !ml->s[slot].used)
		return;
	struct md5_slot *s = &ml->s[slot];
	/* 0x80, zeros to 56 mod 64, the length in bits (little-endian). */
	uint8_t pad[ML_BLOCK + 8] = {0x80};
	size_t zeros = (size_t)((55 - s->total % ML_BLOCK + ML_BLOCK) % ML_BLOCK);
	uint64_t bits = s->total * 8;
	for (int i = 0; i < 8; i++)
		pad[1 + zeros + (size_t)i] = (uint8_t)(bits >> (8 * i));
	ml_put(ml, slot, pad, 1 + zeros + 8);
	ml_drain(ml, slot);
	for (int i = 0; i < 4; i++)
		for (int k = 0; k < 4; k++)
			out[4 * i + k] = (uint8_t)(s->h[i] >> (8 * k));
	md5_lanes_close(ml, slot);
}

void md5_lanes_counts(const struct md5_lanes *ml, uint64_t *vector_steps,
		      uint64_t *scalar_blocks)
{
	*vector_steps = ml ? ml->vector_steps : 0;
	*scalar_blocks = ml ? ml->scalar_blocks : 0;
}
