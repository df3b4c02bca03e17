/* Domain suffix set (domset.h). The expression finds ".tld" for every listed
 * last label; confirmation walks back from the hit at most the longest
 * listed name, lower-casing as it goes, and asks the filter, then the set,
 * for each suffix that begins a label: a handful of filter reads per hit
 * however many names are listed. With AVX2 a name that begins within the
 * 64 bytes before the hit is read from two vector steps (label bytes, dots,
 * lower case) instead of a byte at a time. */
#include <stdlib.h>
#include <string.h>

#include "cybersieve/util.h"
#include "match/bitfilter.h"
#include "match/domset.h"

/* The filter's hash of a lower-case name, eight bytes at a time: a byte at
 * a time from the end (one multiply per byte, each waiting for the last)
 * was a third of a confirmation's time on logs full of host names. */
static uint64_t name_hash(const char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	for (; n >= 8; p += 8, n -= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	if (n) {
		uint64_t w = 0;
		memcpy(&w, p, n);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
	}
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

static bool is_label(uint8_t c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '-' ||
	       c == '_';
}

void domset_init(struct domset *d)
{
	memset(d, 0, sizeof(*d));
	strset_init(&d->names);
	strset_init(&d->tlds);
}

void domset_fini(struct domset *d)
{
	strset_fini(&d->names);
	strset_fini(&d->tlds);
	free(d->expr);
	free(d->filter);
	domset_init(d);
}

enum cs_err domset_index(struct domset *d)
{
	free(d->filter);
	d->filter = NULL;
	if (d->names.n == 0)
		return CS_OK;
	d->filter_log2 = bitfilter_log2(d->names.n);
	d->filter = util_calloc_table(bitfilter_words(d->filter_log2), sizeof(uint64_t));
	if (!d->filter)
		return CS_ERR_NOMEM;
	for (size_t i = 0; i < d->names.cap; i++) {
		const struct strset_slot *e = &d->names.slot[i];
		if (!e->key)
			continue;
		bitfilter_add(d->filter, d->filter_log2, name_hash(e->key, e->len));
	}
	return CS_OK;
}

enum cs_err domset_add(struct domset *d, const char *name, size_t len, uint32_t idx, bool *dup,
		       uint32_t *first)
{
	const char *dot = len ? memrchr(name, '.', len) : NULL;
	if (!dot || len > DOMSET_NAME_MAX || dot + 1 == name + len)
		return CS_ERR_INVALID;
	enum cs_err e = strset_add(&d->names, name, len, idx, dup, first);
	if (e != CS_OK || *dup)
		return e;
	bool tdup;
	e = strset_add(&d->tlds, dot + 1, (size_t)(name + len - dot - 1), 0, &tdup, NULL);
	if (e == CS_OK && len > d->max_len)
		d->max_len = len;
	return e;
}

enum cs_err domset_seal(struct domset *d)
{
	free(d->expr);
	d->expr = NULL;
	if (domset_index(d) != CS_OK)
		return CS_ERR_NOMEM;
	if (d->tlds.n == 0)
		return CS_OK;
	size_t n = 8;
	for (size_t i = 0; i < d->tlds.cap; i++)
		if (d->tlds.slot[i].key)
			n += d->tlds.slot[i].len + 1;
	char *e = malloc(n);
	if (!e)
		return CS_ERR_NOMEM;
	/* Labels hold only [a-z0-9_-], none special outside a class. */
	size_t k = 0;
	memcpy(e, "\\.(?:", 5);
	k = 5;
	for (size_t i = 0; i < d->tlds.cap; i++) {
		const struct strset_slot *s = &d->tlds.slot[i];
		if (!s->key)
			continue;
		if (k > 5)
			e[k++] = '|';
		memcpy(e + k, s->key, s->len);
		k += s->len;
	}
	e[k++] = ')';
	e[k] = '\0';
	d->expr = e;
	return CS_OK;
}

const char *domset_expr(const struct domset *d)
{
	return d->expr;
}

size_t domset_count(const struct domset *d)
{
	return d->names.n;
}

size_t domset_bytes(const struct domset *d)
{
	return (d->names.cap + d->tlds.cap) * sizeof(struct strset_slot) +
	       (d->expr ? strlen(d->expr) + 1 : 0) +
	       (d->filter ? bitfilter_words(d->filter_log2) * sizeof(uint64_t) : 0);
}

#if defined(__x86_64__)
#include <immintrin.h>

/* Bytes of 32 that are label characters ([0-9A-Za-z_-]), and dots; and
 * the 32 bytes lower-cased into low. */
__attribute__((target("avx2"), always_inline)) static inline void
classify32(const uint8_t *p, uint8_t *low, uint32_t *lab, uint32_t *dot)
{
	const __m256i v = _mm256_loadu_si256((const __m256i *)p);
	/* unsigned x <= k as min(x, k) == x */
	const __m256i d = _mm256_sub_epi8(v, _mm256_set1_epi8('0'));
	const __m256i is_d = _mm256_cmpeq_epi8(_mm256_min_epu8(d, _mm256_set1_epi8(9)), d);
	const __m256i a = _mm256_sub_epi8(_mm256_or_si256(v, _mm256_set1_epi8(0x20)),
					  _mm256_set1_epi8('a'));
	const __m256i is_a = _mm256_cmpeq_epi8(_mm256_min_epu8(a, _mm256_set1_epi8(25)), a);
	const __m256i u = _mm256_sub_epi8(v, _mm256_set1_epi8('A'));
	const __m256i is_u = _mm256_cmpeq_epi8(_mm256_min_epu8(u, _mm256_set1_epi8(25)), u);
	const __m256i is_x = _mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('-')),
					     _mm256_cmpeq_epi8(v, _mm256_set1_epi8('_')));
	*lab = (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(_mm256_or_si256(is_d, is_a), is_x));
	*dot = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('.')));
	_mm256_storeu_si256((__m256i *)low,
			    _mm256_add_epi8(v, _mm256_and_si256(is_u, _mm256_set1_epi8(0x20))));
}

/* domset_confirm() for a host name that begins inside the 64 bytes before
 * end (end >= 64): the label ends and the lower case of the whole window
 * come from two vector steps instead of a loop over each byte. Returns as
 * domset_confirm() does (false when fn stopped). *done is false, and
 * nothing is reported, when every byte of the window is a label byte or a
 * dot: the name may begin before it, and the caller walks it a byte at a
 * time. */
__attribute__((target("avx2"))) static bool
confirm_window(const struct domset *d, const uint8_t *buf, uint64_t end, uint64_t lo,
	       domset_fn fn, void *ctx, bool *done)
{
	const uint8_t *w = buf + end - 64;
	char low[64];
	uint32_t l0, l1, d0, d1;
	classify32(w, (uint8_t *)low, &l0, &d0);
	classify32(w + 32, (uint8_t *)low + 32, &l1, &d1);
	const uint64_t lab = l0 | (uint64_t)l1 << 32, dot = d0 | (uint64_t)d1 << 32;
	*done = (lab | dot) != ~(uint64_t)0;
	if (!*done)
		return true;
	/* lo in the window: 0 when it lies at or before the window's start */
	const uint64_t lo_i = lo > end - 64 ? lo - (end - 64) : 0;
	uint64_t pos = 64;
	bool first_label = true;
	for (;;) {
		/* the label ends at pos and starts past the last non-label byte before it */
		uint64_t below = ~lab & (pos == 64 ? ~(uint64_t)0 : ((uint64_t)1 << pos) - 1);
		uint64_t s = below ? 64 - (uint64_t)__builtin_clzll(below) : 0;
		if (s < lo_i)
			s = lo_i;
		if (s == pos)
			return true; /* empty label */
		if (s == lo_i && lo_i > 0 && (lab >> (lo_i - 1) & 1))
			return true; /* this label runs on past the longest listed name */
		if (!first_label &&
		    bitfilter_maybe(d->filter, d->filter_log2, name_hash(low + s, 64 - s))) {
			uint32_t first;
			if (strset_get(&d->names, low + s, 64 - s, &first) &&
			    !fn(ctx, first, end - 64 + s, end))
				return false;
		}
		first_label = false;
		/* s >= 1 here: the byte before the name is in the window */
		if (s == lo_i || !(dot >> (s - 1) & 1) || s - 1 == lo_i)
			return true;
		pos = s - 1;
	}
}
#endif

bool domset_confirm(const struct domset *d, const uint8_t *buf, size_t len, uint64_t end,
		    domset_fn fn, void *ctx)
{
	return domset_confirm_isa(d, buf, len, end, fn, ctx, VEC_AUTO);
}

bool domset_confirm_isa(const struct domset *d, const uint8_t *buf, size_t len, uint64_t end,
			domset_fn fn, void *ctx, enum vec_isa isa)
{
	if (!vec_choose(&isa))
		return true;
	if (end > len || end == 0 || d->names.n == 0)
		return true;
	/* The host name ends here: no label byte after it, no dot going on into a label. */
	if (end < len && (is_label(buf[end]) ||
			  (buf[end] == '.' && end + 1 < len && is_label(buf[end + 1]))))
		return true;
	uint64_t lo = end > d->max_len ? end - d->max_len : 0;
#if defined(__x86_64__)
	if (end >= 64 && isa != VEC_PLAIN) { /* AVX2 or more */
		bool done;
		bool ok = confirm_window(d, buf, end, lo, fn, ctx, &done);
		if (done)
			return ok;
	}
#endif
	char low[DOMSET_NAME_MAX]; /* low[i]: buf[lo + i] lower-cased, filled from the end */
	/* Walk back one label at a time; the last label alone is no name. */
	uint64_t pos = end;
	bool first_label = true;
	for (;;) {
		uint64_t s = pos;
		while (s > lo && is_label(buf[s - 1])) {
			uint8_t c = buf[--s];
			c = c >= 'A' && c <= 'Z' ? c | 0x20 : c;
			low[s - lo] = (char)c;
		}
		if (s == pos)
			return true; /* empty label: a.. is no host name */
		if (s == lo && lo > 0 && is_label(buf[lo - 1]))
			return true; /* this label runs on past the longest listed name */
		if (!first_label && bitfilter_maybe(d->filter, d->filter_log2,
						    name_hash(low + (s - lo), (size_t)(end - s)))) {
			uint32_t first;
			if (strset_get(&d->names, low + (s - lo), (size_t)(end - s), &first) &&
			    !fn(ctx, first, s, end))
				return false;
		}
		first_label = false;
		if (s == lo || buf[s - 1] != '.' || s - 1 == lo)
			return true;
		pos = s - 1;
		low[pos - lo] = '.';
	}
}
