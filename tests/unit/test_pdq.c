/* Unit tests for PDQ hash parsing, distance and the multi-index: every
 * answer is compared with the linear reference, on random queries and on
 * near-hits planted at each distance up to the largest allowed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cybersieve/pdq.h"
#include "pdq_rand.h"

#define N_ENTRIES 70000 /* past PDQ_BUILD_PARALLEL_MIN: the tables are sorted on several threads */
#define MAX_HITS 64

struct hits {
	size_t n;
	uint32_t id[MAX_HITS];
	unsigned dist[MAX_HITS];
	size_t stop_after; /* 0: never stop */
};

static bool collect(void *ctx, uint32_t id, unsigned dist)
{
	struct hits *h = ctx;
	assert_true(h->n < MAX_HITS);
	h->id[h->n] = id;
	h->dist[h->n] = dist;
	h->n++;
	return h->stop_after == 0 || h->n < h->stop_after;
}

static void sort_hits(struct hits *h)
{
	for (size_t i = 1; i < h->n; i++)
		for (size_t j = i; j > 0 && h->id[j - 1] > h->id[j]; j--) {
			uint32_t ti = h->id[j];
			unsigned td = h->dist[j];
			h->id[j] = h->id[j - 1];
			h->dist[j] = h->dist[j - 1];
			h->id[j - 1] = ti;
			h->dist[j - 1] = td;
		}
}

static void test_parse_and_distance(void **state)
{
	(void)state;
	uint8_t a[32], b[32];
	const char *hex = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
	assert_true(pdq_hash_parse(hex, 64, a));
	assert_int_equal(a[0], 0xf8);
	assert_int_equal(a[31], 0x22);
	assert_true(pdq_hash_parse("F8F8F0CEE0F4A84F06370A22038F63F0B36E2ED596621E1D33E6B39C4E9C9B22",
				   64, b));
	assert_int_equal(pdq_distance(a, b), 0);
	b[0] ^= 0x81;
	b[31] ^= 0xff;
	assert_int_equal(pdq_distance(a, b), 10);
	memset(b, 0, 32);
	memset(a, 0xff, 32);
	assert_int_equal(pdq_distance(a, b), 256);
	assert_false(pdq_hash_parse(hex, 63, a));
	assert_false(pdq_hash_parse("g8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
				    64, a));
	assert_false(pdq_hash_parse(NULL, 64, a));
}

struct fixture {
	uint8_t (*hs)[PDQ_HASH_BYTES];
	struct pdq_index *idx;
};

/* Random entries plus a cluster of near neighbours of entry 0, so that some
 * queries have many hits and the once-only reporting is exercised. */
static int setup(void **state)
{
	static struct fixture fx;
	uint64_t rng = 0x1234567887654321ULL;
	struct cs_diag d;
	fx.hs = malloc(N_ENTRIES * PDQ_HASH_BYTES);
	if (!fx.hs)
		return -1;
	rand_entries(&rng, fx.hs, N_ENTRIES);
	if (pdq_index_create(fx.hs, N_ENTRIES, &fx.idx, &d) != CS_OK)
		return -1;
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	pdq_index_destroy(fx->idx);
	free(fx->hs);
	return 0;
}

static void same_as_linear(const struct pdq_index *idx, const uint8_t q[32], unsigned maxd,
			   size_t *total_hits)
{
	struct hits a = { 0 }, b = { 0 };
	size_t na = pdq_index_query(idx, q, maxd, collect, &a, NULL);
	size_t nb = pdq_index_query_linear(idx, q, maxd, collect, &b);
	assert_int_equal(na, a.n);
	assert_int_equal(nb, b.n);
	if (a.n != b.n)
		fail_msg("index %zu hits, linear %zu (max %u)", a.n, b.n, maxd);
	sort_hits(&a);
	sort_hits(&b);
	for (size_t i = 0; i < a.n; i++) {
		assert_int_equal(a.id[i], b.id[i]);
		assert_int_equal(a.dist[i], b.dist[i]);
		assert_true(a.dist[i] <= maxd);
	}
	*total_hits += a.n;
}

static void test_differential(void **state)
{
	struct fixture *fx = *state;
	uint64_t rng = 42;
	uint8_t q[32];
	size_t hits = 0;
	static const unsigned dists[] = { 0, 15, 16, 31, 32, 47, 63 };
	for (size_t k = 0; k < sizeof(dists) / sizeof(dists[0]); k++) {
		unsigned maxd = dists[k];
		for (unsigned planted = 0; planted <= maxd + 2; planted++) {
			memcpy(q, fx->hs[rng_next(&rng) % N_ENTRIES], 32);
			flip_bits(&rng, q, planted);
			size_t before = hits;
			same_as_linear(fx->idx, q, maxd, &hits);
			if (planted <= maxd)
				assert_true(hits > before);
		}
		for (int i = 0; i < 50; i++) {
			rand_hash(&rng, q);
			same_as_linear(fx->idx, q, maxd, &hits);
		}
		/* The cluster around entry 0: many hits at once. */
		same_as_linear(fx->idx, fx->hs[0], maxd, &hits);
	}
	assert_true(hits > 200);
}

static void test_best_and_stop(void **state)
{
	struct fixture *fx = *state;
	uint8_t q[32];
	uint32_t id = 0;
	unsigned dist = 0;
	uint64_t rng = 7;
	memcpy(q, fx->hs[12345], 32);
	flip_bits(&rng, q, 9);
	assert_true(pdq_index_best(fx->idx, q, PDQ_DEFAULT_DIST, &id, &dist));
	assert_int_equal(id, 12345);
	assert_int_equal(dist, 9);
	assert_false(pdq_index_best(fx->idx, q, 8, &id, &dist));
	/* Entry 0 has 40 neighbours planted at 1..40 bits. */
	assert_true(pdq_index_best(fx->idx, fx->hs[0], 31, &id, &dist));
	assert_int_equal(dist, 0);
	assert_int_equal(id, 0);
	struct hits h = { .stop_after = 3 };
	assert_int_equal(pdq_index_query(fx->idx, fx->hs[0], 31, collect, &h, NULL), 3);
	assert_int_equal(h.n, 3);
	struct pdq_query_stats st = { 0 };
	rand_hash(&rng, q);
	struct hits none = { 0 };
	assert_int_equal(pdq_index_query(fx->idx, q, 31, collect, &none, &st), 0);
	assert_int_equal(st.probes, 16 * 17);
	assert_true(st.candidates > 0);
	assert_true(st.verified <= st.candidates);
}

static void test_small_and_empty(void **state)
{
	(void)state;
	struct pdq_index *idx = NULL;
	struct cs_diag d;
	uint8_t one[1][32];
	memset(one[0], 0xab, 32);
	assert_int_equal(pdq_index_create(NULL, 0, &idx, &d), CS_OK);
	assert_int_equal(pdq_index_count(idx), 0);
	struct hits h = { 0 };
	assert_int_equal(pdq_index_query(idx, one[0], 31, collect, &h, NULL), 0);
	pdq_index_destroy(idx);
	assert_int_equal(pdq_index_create(one, 1, &idx, &d), CS_OK);
	assert_int_equal(pdq_index_query(idx, one[0], 31, collect, &h, NULL), 1);
	assert_true(pdq_index_memory(idx) > 300);
	pdq_index_destroy(idx);
	assert_int_equal(pdq_index_create(one, (size_t)PDQ_INDEX_MAX_ENTRIES + 1, &idx, &d),
			 CS_ERR_LIMIT);
	assert_null(idx);
	pdq_index_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_distance),
		cmocka_unit_test(test_small_and_empty),
		cmocka_unit_test_setup_teardown(test_differential, setup, teardown),
		cmocka_unit_test_setup_teardown(test_best_and_stop, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
