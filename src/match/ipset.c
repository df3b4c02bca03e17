/* Longest-prefix lookup over sorted prefix runs (ipset.h). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "cybersieve/util.h"
#include "match/bitfilter.h"
#include "match/ipset.h"

/* Bytes of the bitmap of the IPv4 blocks of `bits` prefix bits. */
#define V4_MAP_BYTES(bits) (((size_t)1 << (bits)) / 8)

void ipset_init(struct ipset *s)
{
	memset(s, 0, sizeof(*s));
}

static void filters_free(struct ipset *s)
{
	for (int f = 0; f < 2; f++)
		for (size_t r = 0; r < 129; r++) {
			free(s->run[f][r].filter);
			s->run[f][r].filter = NULL;
		}
	free(s->v4_blocks);
	util_free_zeroed(s->v4_fine, V4_MAP_BYTES(IPSET_V4_FINE_BITS));
	s->v4_blocks = s->v4_fine = NULL;
}

void ipset_fini(struct ipset *s)
{
	filters_free(s);
	free(s->e);
	memset(s, 0, sizeof(*s));
}

/* Clear the bits of a (bits long) past its first plen: whole bytes at once,
 * since a lookup masks a log's address once per listed prefix length. */
static void mask_to(uint8_t *a, unsigned plen, unsigned bits)
{
	unsigned keep = plen / 8;

	if (keep >= bits / 8)
		return;
	if (plen % 8)
		a[keep++] &= (uint8_t)(0xffu << (8 - plen % 8));
	memset(a + keep, 0, bits / 8 - keep);
}

enum cs_err ipset_add(struct ipset *s, const char *value, uint32_t ind)
{
	char a[INET6_ADDRSTRLEN];
	struct ipset_entry e = {.ind = ind};
	const char *slash = strchr(value, '/');
	size_t an = slash ? (size_t)(slash - value) : strlen(value);
	if (an == 0 || an >= sizeof(a))
		return CS_ERR_INVALID;
	memcpy(a, value, an);
	a[an] = '\0';
	e.v6 = strchr(a, ':') != NULL;
	unsigned bits = e.v6 ? 128 : 32;
	if (inet_pton(e.v6 ? AF_INET6 : AF_INET, a, e.addr) != 1)
		return CS_ERR_INVALID;
	unsigned long plen = slash ? strtoul(slash + 1, NULL, 10) : bits;
	if (plen > bits)
		return CS_ERR_INVALID;
	e.plen = (uint8_t)plen;
	mask_to(e.addr, e.plen, bits);
	if (s->n == s->cap) {
		if (s->n >= IPSET_MAX_ENTRIES)
			return CS_ERR_LIMIT;
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct ipset_entry *v = realloc(s->e, cap * sizeof(*v));
		if (!v)
			return CS_ERR_NOMEM;
		s->e = v;
		s->cap = cap;
	}
	s->e[s->n++] = e;
	return CS_OK;
}

/* memcmp order of two 16-byte addresses, as two big-endian words: the
 * lookup's binary search runs once per address seen in a log. */
static inline int addr_cmp(const uint8_t *a, const uint8_t *b)
{
	uint64_t x[2], y[2];
	memcpy(x, a, 16);
	memcpy(y, b, 16);
	for (int i = 0; i < 2; i++) {
		uint64_t p = __builtin_bswap64(x[i]), q = __builtin_bswap64(y[i]);
		if (p != q)
			return p < q ? -1 : 1;
	}
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct ipset_entry *x = a, *y = b;
	if (x->v6 != y->v6)
		return x->v6 < y->v6 ? -1 : 1;
	if (x->plen != y->plen)
		return x->plen > y->plen ? -1 : 1;
	int c = addr_cmp(x->addr, y->addr);
	if (c)
		return c;
	return x->ind < y->ind ? -1 : x->ind > y->ind;
}

/* Hash of a masked 16-byte address. */
static inline uint64_t addr_hash(const uint8_t *a)
{
	uint64_t x[2];
	memcpy(x, a, 16);
	uint64_t h = (x[0] ^ (x[1] * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
	return h ^ (h >> 29);
}

static inline uint32_t be32_of(const uint8_t *a)
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

/* Set in map (zeroed, V4_MAP_BYTES(bits)) the IPv4 blocks of `bits` prefix
 * bits met by an entry: one for a prefix of `bits` or more, 2^(bits - plen)
 * in a row for a shorter one. The row starts at a multiple of its length,
 * so it fills whole words or lies in one. */
static void mark_v4_blocks(const struct ipset *s, unsigned bits, uint64_t *map)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct ipset_entry *e = &s->e[i];
		if (e->v6)
			continue;
		unsigned plen = e->plen < bits ? e->plen : bits;
		size_t n = (size_t)1 << (bits - plen);
		/* masked again: an entry read from a file is not trusted to be */
		size_t b = (be32_of(e->addr) >> (32 - bits)) & ~(n - 1);
		if (n >= 64)
			memset(map + b / 64, 0xff, n / 8);
		else
			map[b / 64] |= (((uint64_t)1 << n) - 1) << (b % 64);
	}
}

enum cs_err ipset_index(struct ipset *s)
{
	filters_free(s);
	if (s->n_run[0] > 0) {
		s->v4_blocks = util_calloc_table(V4_MAP_BYTES(IPSET_V4_BLOCK_BITS), 1);
		/* its pages come in only as entries mark them: a few for a short list */
		s->v4_fine = util_alloc_zeroed(V4_MAP_BYTES(IPSET_V4_FINE_BITS));
		if (!s->v4_blocks || !s->v4_fine) {
			filters_free(s);
			return CS_ERR_NOMEM;
		}
		mark_v4_blocks(s, IPSET_V4_BLOCK_BITS, s->v4_blocks);
		mark_v4_blocks(s, IPSET_V4_FINE_BITS, s->v4_fine);
	}
	for (int f = 0; f < 2; f++)
		for (size_t r = 0; r < s->n_run[f]; r++) {
			struct ipset_run *run = &s->run[f][r];
			unsigned lg = bitfilter_log2(run->n);
			run->filter = util_calloc_table(bitfilter_words(lg), sizeof(uint64_t));
			if (!run->filter)
				return CS_ERR_NOMEM;
			run->filter_log2 = lg;
			for (size_t i = run->first; i < run->first + run->n; i++)
				bitfilter_add(run->filter, lg, addr_hash(s->e[i].addr));
		}
	return CS_OK;
}

size_t ipset_bytes(const struct ipset *s)
{
	size_t b = s->cap * sizeof(*s->e);
	for (int f = 0; f < 2; f++)
		for (size_t r = 0; r < s->n_run[f]; r++)
			if (s->run[f][r].filter)
				b += ((size_t)1 << s->run[f][r].filter_log2) / 8;
	if (s->v4_blocks)
		b += V4_MAP_BYTES(IPSET_V4_BLOCK_BITS);
	if (s->v4_fine)
		b += V4_MAP_BYTES(IPSET_V4_FINE_BITS);
	return b;
}

void ipset_seal(struct ipset *s)
{
	filters_free(s);
	if (s->n)
		qsort(s->e, s->n, sizeof(*s->e), cmp_entry);
	s->n_run[0] = s->n_run[1] = 0;
	for (size_t i = 0; i < s->n; i++) {
		int f = s->e[i].v6;
		size_t k = s->n_run[f];
		if (k > 0 && s->run[f][k - 1].plen == s->e[i].plen) {
			s->run[f][k - 1].n++;
			continue;
		}
		s->run[f][k] = (struct ipset_run){.first = i, .n = 1, .plen = s->e[i].plen};
		s->n_run[f]++;
	}
}

static inline bool dig(uint8_t c)
{
	return (uint8_t)(c - '0') < 10;
}

bool ipset_parse4(const uint8_t *p, size_t n, uint8_t addr[4])
{
	size_t i = 0;
	for (int g = 0; g < 4; g++) {
		if (g > 0 && (i >= n || p[i++] != '.'))
			return false;
		if (i >= n || !dig(p[i]))
			return false;
		unsigned v = p[i++] - '0';
		if (v == 0 && i < n && dig(p[i]))
			return false; /* a leading zero */
		while (i < n && dig(p[i]))
			if ((v = v * 10 + (p[i++] - '0')) > 255)
				return false;
		addr[g] = (uint8_t)v;
	}
	return i == n;
}

bool ipset_has(const struct ipset *s, bool v6)
{
	return s->n_run[v6] > 0;
}

/* Bit a >> (32 - bits) of map, the IPv4 blocks of `bits` prefix bits. */
static inline bool v4_block_set(const uint64_t *map, unsigned bits, uint32_t a)
{
	size_t blk = a >> (32 - bits);
	return map[blk / 64] >> (blk % 64) & 1;
}

bool ipset_v4_maybe(const struct ipset *s, const uint8_t addr[4])
{
	uint32_t a = be32_of(addr);
	return !s->v4_blocks || (v4_block_set(s->v4_blocks, IPSET_V4_BLOCK_BITS, a) &&
				 v4_block_set(s->v4_fine, IPSET_V4_FINE_BITS, a));
}

bool ipset_v4_sift(const struct ipset *s, const uint8_t addr[4])
{
	uint32_t a = be32_of(addr);
	if (!s->v4_blocks)
		return true;
	if (!v4_block_set(s->v4_blocks, IPSET_V4_BLOCK_BITS, a))
		return false;
	__builtin_prefetch(&s->v4_fine[(a >> (32 - IPSET_V4_FINE_BITS)) / 64]);
	return true;
}

size_t ipset_lookup(const struct ipset *s, bool v6, const uint8_t *addr, size_t *first)
{
	unsigned bits = v6 ? 128 : 32;
	if (!v6 && !ipset_v4_maybe(s, addr))
		return 0;
	for (size_t r = 0; r < s->n_run[v6]; r++) {
		const struct ipset_run *run = &s->run[v6][r];
		uint8_t key[16] = {0};
		memcpy(key, addr, bits / 8);
		mask_to(key, run->plen, bits);
		if (run->filter && !bitfilter_maybe(run->filter, run->filter_log2, addr_hash(key)))
			continue;
		/* Lower bound of key within the run. */
		size_t lo = run->first, hi = run->first + run->n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (addr_cmp(s->e[mid].addr, key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		size_t end = lo;
		while (end < run->first + run->n && addr_cmp(s->e[end].addr, key) == 0)
			end++;
		if (end > lo) {
			*first = lo;
			return end - lo;
		}
	}
	return 0;
}
