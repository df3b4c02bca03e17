/* Fuzz target: the PDQ index (src/match/pdq_index.c), every way of
 * answering against a plain comparison with each entry. The input holds
 * [u8 max_dist][u8 n][n x 32-byte listed hashes], then query records
 * [u8 source][u8 k][k x u8 bit]: listed hash source % n with the k bits
 * flipped. Queries are answered one at a time and in batches, with plain
 * and AVX-512 walks: each must report exactly the (query, entry, distance)
 * triples within the distance (clamped to PDQ_MAX_DIST), once each. */
#include <stdlib.h>
#include <string.h>

#include "cybersieve/pdq.h"
#include "fuzz.h"

#define MAX_ENTRIES 64
#define MAX_QUERIES 256
#define MAX_PAIRS (MAX_ENTRIES * MAX_QUERIES)

struct pair {
	uint32_t q, id, dist;
};

struct pairs {
	struct pair v[MAX_PAIRS];
	size_t n;
	bool over; /* more than MAX_PAIRS, or a pair not in range */
};

static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	if (x->q != y->q)
		return x->q < y->q ? -1 : 1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return (x->dist > y->dist) - (x->dist < y->dist);
}

static bool on_pair(void *ctx, size_t q, uint32_t id, unsigned dist)
{
	struct pairs *p = ctx;
	if (p->n == MAX_PAIRS || q >= MAX_QUERIES || id >= MAX_ENTRIES) {
		p->over = true;
		return false;
	}
	p->v[p->n++] = (struct pair){(uint32_t)q, id, dist};
	return true;
}

static struct pairs want, got;
static uint8_t hs[MAX_ENTRIES][PDQ_HASH_BYTES], qs[MAX_QUERIES][PDQ_HASH_BYTES];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_cur c = {data, size};
	unsigned max_dist = fuzz_u8(&c);
	size_t n = fuzz_u8(&c) % MAX_ENTRIES + 1, nq = 0, got_bytes;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = fuzz_take(&c, PDQ_HASH_BYTES, &got_bytes);
		memset(hs[i], (int)i, PDQ_HASH_BYTES);
		memcpy(hs[i], p, got_bytes);
	}
	while (c.n > 0 && nq < MAX_QUERIES) {
		size_t src = fuzz_u8(&c) % n;
		unsigned k = fuzz_u8(&c) % 64;
		memcpy(qs[nq], hs[src], PDQ_HASH_BYTES);
		for (unsigned j = 0; j < k; j++) {
			unsigned bit = fuzz_u8(&c);
			qs[nq][bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		nq++;
	}
	struct pdq_index *idx = NULL;
	struct cs_diag d;
	FUZZ_CHECK(pdq_index_create((const uint8_t(*)[PDQ_HASH_BYTES])hs, n, &idx, &d) == CS_OK);
	unsigned cut = max_dist > PDQ_MAX_DIST ? PDQ_MAX_DIST : max_dist;
	want.n = 0;
	for (size_t q = 0; q < nq; q++)
		for (uint32_t e = 0; e < n; e++) {
			unsigned dist = pdq_distance(qs[q], hs[e]);
			if (dist <= cut)
				want.v[want.n++] = (struct pair){(uint32_t)q, e, dist};
		}
	struct pdq_batch *b = NULL;
	FUZZ_CHECK(pdq_batch_create(&b) == CS_OK);
	static const enum pdq_batch_mode modes[] = {PDQ_BATCH_AUTO, PDQ_BATCH_EACH, PDQ_BATCH_WALK,
						    PDQ_BATCH_WALK_AVX2, PDQ_BATCH_WALK_AVX512};
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		pdq_batch_set_mode(b, modes[m]);
		for (size_t q = 0; q < nq; q++)
			FUZZ_CHECK(pdq_batch_add(b, qs[q]) == CS_OK);
		got.n = 0;
		got.over = false;
		size_t r = pdq_index_query_batch(idx, b, max_dist, on_pair, &got);
		FUZZ_CHECK(!got.over);
		FUZZ_CHECK(r == got.n);
		FUZZ_CHECK(pdq_batch_count(b) == 0);
		FUZZ_CHECK(got.n == want.n);
		qsort(got.v, got.n, sizeof(got.v[0]), pair_cmp);
		for (size_t i = 0; i < got.n; i++)
			FUZZ_CHECK(pair_cmp(&got.v[i], &want.v[i]) == 0);
	}
	pdq_batch_destroy(b);
	pdq_index_destroy(idx);
	return 0;
}
