/* Unit tests for PDQ batches: every way of answering a batch (one query at a
 * time, table walks with plain comparisons, with AVX-512, and the automatic
 * choice) must report exactly the (query, entry, distance) triples the
 * linear reference finds, at every radius, with duplicated queries that
 * overflow a bucket's list, and must stop and empty as documented. */
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

#define N_ENTRIES 8000
#define N_SHARED 300 /* entries with the same first part: one bucket of many */
#define N_RANDOM 1000
#define N_PLANTED 1300
#define N_SAME 700 /* copies of one query: more than a bucket's list holds */
#define N_QUERIES (N_RANDOM + N_PLANTED + N_SAME)

struct triple {
	uint32_t q, id, dist;
};

struct triples {
	struct triple *v;
	size_t n, cap;
	size_t stop_after; /* 0: never stop */
};

static bool collect(void *ctx, size_t q, uint32_t id, unsigned dist)
{
	struct triples *t = ctx;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->v = realloc(t->v, t->cap * sizeof(*t->v));
		assert_non_null(t->v);
	}
	t->v[t->n++] = (struct triple){(uint32_t)q, id, dist};
	return t->stop_after == 0 || t->n < t->stop_after;
}

static int cmp_triple(const void *a, const void *b)
{
	const struct triple *x = a, *y = b;
	if (x->q != y->q)
		return x->q < y->q ? -1 : 1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return (x->dist > y->dist) - (x->dist < y->dist);
}

struct fixture {
	uint8_t (*hs)[PDQ_HASH_BYTES];
	uint8_t (*qs)[PDQ_HASH_BYTES];
	struct pdq_index *idx;
	struct triples ref; /* every pair within PDQ_MAX_DIST, sorted */
};

/* Random entries with a cluster of near neighbours of entry 0 and a group
 * that shares its first 16 bits (so one bucket holds many entries); queries:
 * random ones, near copies of entries (every third one of the group) at
 * every distance up to the largest, and N_SAME copies of entry 0 (each has
 * the cluster as hits). */
static int setup(void **state)
{
	static struct fixture fx;
	uint64_t rng = 0x0123456789abcdefULL;
	struct cs_diag d;
	memset(&fx, 0, sizeof(fx));
	fx.hs = malloc(N_ENTRIES * PDQ_HASH_BYTES);
	fx.qs = malloc(N_QUERIES * PDQ_HASH_BYTES);
	if (!fx.hs || !fx.qs)
		return -1;
	rand_entries(&rng, fx.hs, N_ENTRIES);
	for (size_t i = N_ENTRIES - N_SHARED; i < N_ENTRIES; i++)
		memcpy(fx.hs[i], "\xa5\x5a", 2);
	size_t q = 0;
	for (size_t i = 0; i < N_RANDOM; i++)
		rand_hash(&rng, fx.qs[q++]);
	for (size_t i = 0; i < N_PLANTED; i++) {
		size_t e = i % 3 ? rng_next(&rng) % N_ENTRIES
				 : N_ENTRIES - N_SHARED + rng_next(&rng) % N_SHARED;
		memcpy(fx.qs[q], fx.hs[e], PDQ_HASH_BYTES);
		flip_bits(&rng, fx.qs[q++], (unsigned)(i % (PDQ_MAX_DIST + 1)));
	}
	for (size_t i = 0; i < N_SAME; i++)
		memcpy(fx.qs[q++], fx.hs[0], PDQ_HASH_BYTES);
	if (pdq_index_create(fx.hs, N_ENTRIES, &fx.idx, &d) != CS_OK)
		return -1;
	/* The reference: every pair, by plain popcounts of the words. */
	uint64_t (*hw)[4] = malloc(N_ENTRIES * sizeof(*hw));
	if (!hw)
		return -1;
	memcpy(hw, fx.hs, N_ENTRIES * sizeof(*hw));
	for (size_t i = 0; i < N_QUERIES; i++) {
		uint64_t qw[4];
		memcpy(qw, fx.qs[i], sizeof(qw));
		for (uint32_t e = 0; e < N_ENTRIES; e++) {
			unsigned dist = 0;
			for (int k = 0; k < 4; k++)
				dist += (unsigned)__builtin_popcountll(qw[k] ^ hw[e][k]);
			if (dist <= PDQ_MAX_DIST)
				collect(&fx.ref, i, e, dist);
		}
	}
	free(hw);
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	pdq_index_destroy(fx->idx);
	free(fx->hs);
	free(fx->qs);
	free(fx->ref.v);
	return 0;
}

/* Answer all queries in one batch the given way; compare with the reference
 * cut at max_dist. Returns the number of pairs. */
static size_t check_batch(struct fixture *fx, enum pdq_batch_mode mode, unsigned max_dist)
{
	struct pdq_batch *b = NULL;
	assert_int_equal(pdq_batch_create(&b), CS_OK);
	pdq_batch_set_mode(b, mode);
	for (size_t i = 0; i < N_QUERIES; i++)
		assert_int_equal(pdq_batch_add(b, fx->qs[i]), CS_OK);
	assert_int_equal(pdq_batch_count(b), N_QUERIES);
	struct triples got = {0};
	size_t n = pdq_index_query_batch(fx->idx, b, max_dist, collect, &got);
	assert_int_equal(n, got.n);
	assert_int_equal(pdq_batch_count(b), 0);
	qsort(got.v, got.n, sizeof(*got.v), cmp_triple);
	size_t k = 0;
	for (size_t i = 0; i < fx->ref.n; i++) {
		if (fx->ref.v[i].dist > max_dist)
			continue;
		if (k >= got.n)
			fail_msg("mode %d, distance %u: missing query %u entry %u", (int)mode,
				 max_dist, fx->ref.v[i].q, fx->ref.v[i].id);
		if (cmp_triple(&got.v[k], &fx->ref.v[i]) != 0)
			fail_msg("mode %d, distance %u: got query %u entry %u at %u, want query %u "
				 "entry %u at %u", (int)mode, max_dist, got.v[k].q, got.v[k].id,
				 got.v[k].dist, fx->ref.v[i].q, fx->ref.v[i].id, fx->ref.v[i].dist);
		k++;
	}
	assert_int_equal(k, got.n);
	free(got.v);
	pdq_batch_destroy(b);
	return k;
}

static void test_every_way_every_radius(void **state)
{
	struct fixture *fx = *state;
	static const unsigned dists[] = {0, 15, 16, 31, 47, 63}; /* radius 0 to 3 */
	static const enum pdq_batch_mode modes[] = {PDQ_BATCH_AUTO, PDQ_BATCH_EACH, PDQ_BATCH_WALK,
						    PDQ_BATCH_WALK_AVX2, PDQ_BATCH_WALK_AVX512};
	for (size_t d = 0; d < sizeof(dists) / sizeof(dists[0]); d++) {
		size_t first = 0;
		for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
			size_t n = check_batch(fx, modes[m], dists[d]);
			if (m == 0)
				first = n;
			assert_int_equal(n, first);
		}
		/* Each copy of entry 0 finds it and the part of the cluster in reach. */
		assert_true(first >= N_SAME);
	}
	/* A larger distance is taken as the largest allowed. */
	assert_int_equal(check_batch(fx, PDQ_BATCH_WALK_AVX512, 200),
			 check_batch(fx, PDQ_BATCH_EACH, 63));
}

static bool collect_hit(void *ctx, uint32_t id, unsigned dist)
{
	struct triples *t = ctx;
	return collect(t, t->stop_after, id, dist); /* stop_after holds the query here */
}

/* Bucket lists of many lengths: for each k from 1 to 72, k queries near
 * entry 5 * k (1 to 31 bits flipped), half of them with the entry's first
 * part kept, so that entry's table 0 bucket gathers at least k / 2 of them.
 * The walks compare a list eight to thirty-two queries at a time; every
 * length must give the linear reference's pairs. */
static void test_every_list_length(void **state)
{
	struct fixture *fx = *state;
	enum { MAX_K = 72 };
	uint64_t rng = 0xfeedfacecafebeefULL;
	size_t nq = MAX_K * (MAX_K + 1) / 2, q = 0;
	uint8_t (*qs)[PDQ_HASH_BYTES] = malloc(nq * PDQ_HASH_BYTES);
	assert_non_null(qs);
	for (size_t k = 1; k <= MAX_K; k++)
		for (size_t i = 0; i < k; i++) {
			memcpy(qs[q], fx->hs[5 * k], PDQ_HASH_BYTES);
			uint8_t keep[2] = {qs[q][0], qs[q][1]};
			flip_bits(&rng, qs[q], 1 + (unsigned)(rng_next(&rng) % 31));
			if (i % 2 == 0) { /* half keep their first part exactly */
				qs[q][0] = keep[0];
				qs[q][1] = keep[1];
			}
			q++;
		}
	struct triples ref = {0};
	for (size_t i = 0; i < nq; i++) {
		ref.stop_after = i;
		pdq_index_query_linear(fx->idx, qs[i], 31, collect_hit, &ref);
	}
	qsort(ref.v, ref.n, sizeof(*ref.v), cmp_triple);
	assert_true(ref.n >= nq / 2); /* the copies that kept their part at least */
	static const enum pdq_batch_mode modes[] = {PDQ_BATCH_WALK, PDQ_BATCH_WALK_AVX2,
						    PDQ_BATCH_WALK_AVX512};
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		struct pdq_batch *b = NULL;
		assert_int_equal(pdq_batch_create(&b), CS_OK);
		pdq_batch_set_mode(b, modes[m]);
		for (size_t i = 0; i < nq; i++)
			assert_int_equal(pdq_batch_add(b, qs[i]), CS_OK);
		struct triples got = {0};
		assert_int_equal(pdq_index_query_batch(fx->idx, b, 31, collect, &got), ref.n);
		qsort(got.v, got.n, sizeof(*got.v), cmp_triple);
		for (size_t i = 0; i < ref.n; i++)
			if (cmp_triple(&got.v[i], &ref.v[i]) != 0)
				fail_msg("mode %d: pair %zu is query %u entry %u, want query %u "
					 "entry %u", (int)modes[m], i, got.v[i].q, got.v[i].id,
					 ref.v[i].q, ref.v[i].id);
		free(got.v);
		pdq_batch_destroy(b);
	}
	free(ref.v);
	free(qs);
}

/* Batches reused: answers stay right after a stop, a clear and a refill. */
static void test_stop_clear_reuse(void **state)
{
	struct fixture *fx = *state;
	struct pdq_batch *b = NULL;
	assert_int_equal(pdq_batch_create(&b), CS_OK);
	for (int mode = PDQ_BATCH_EACH; mode <= PDQ_BATCH_WALK_AVX512; mode++) {
		pdq_batch_set_mode(b, (enum pdq_batch_mode)mode);
		for (size_t i = 0; i < N_QUERIES; i++)
			assert_int_equal(pdq_batch_add(b, fx->qs[i]), CS_OK);
		struct triples got = {.stop_after = 5};
		assert_int_equal(pdq_index_query_batch(fx->idx, b, 31, collect, &got), 5);
		assert_int_equal(got.n, 5);
		assert_int_equal(pdq_batch_count(b), 0);
		for (size_t i = 0; i < got.n; i++)
			assert_true(pdq_distance(fx->qs[got.v[i].q], fx->hs[got.v[i].id]) ==
				    got.v[i].dist && got.v[i].dist <= 31);
		free(got.v);
		/* Queued then cleared: nothing answered. */
		assert_int_equal(pdq_batch_add(b, fx->qs[N_QUERIES - 1]), CS_OK);
		pdq_batch_clear(b);
		struct triples none = {0};
		assert_int_equal(pdq_index_query_batch(fx->idx, b, 31, collect, &none), 0);
		/* One copy of entry 0 again: its numbering starts at 0. */
		assert_int_equal(pdq_batch_add(b, fx->hs[0]), CS_OK);
		struct triples one = {0};
		assert_true(pdq_index_query_batch(fx->idx, b, 0, collect, &one) >= 1);
		assert_int_equal(one.v[0].q, 0);
		assert_int_equal(one.v[0].dist, 0);
		free(one.v);
	}
	pdq_batch_destroy(b);
}

static void test_limits(void **state)
{
	struct fixture *fx = *state;
	struct pdq_batch *b = NULL;
	assert_int_equal(pdq_batch_create(&b), CS_OK);
	for (size_t i = 0; i < PDQ_BATCH_MAX; i++)
		assert_int_equal(pdq_batch_add(b, fx->qs[i % N_RANDOM]), CS_OK);
	assert_int_equal(pdq_batch_add(b, fx->qs[0]), CS_ERR_LIMIT);
	assert_int_equal(pdq_batch_count(b), PDQ_BATCH_MAX);
	/* Random queries only: no hit, and the batch is empty after. */
	struct triples got = {0};
	assert_int_equal(pdq_index_query_batch(fx->idx, b, 31, collect, &got), 0);
	assert_int_equal(pdq_batch_count(b), 0);
	/* An empty index answers nothing and empties the batch too. */
	struct pdq_index *empty = NULL;
	struct cs_diag d;
	assert_int_equal(pdq_index_create(NULL, 0, &empty, &d), CS_OK);
	assert_int_equal(pdq_batch_add(b, fx->hs[0]), CS_OK);
	assert_int_equal(pdq_index_query_batch(empty, b, 31, collect, &got), 0);
	assert_int_equal(pdq_batch_count(b), 0);
	assert_int_equal(got.n, 0);
	pdq_index_destroy(empty);
	pdq_batch_destroy(b);
	pdq_batch_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_way_every_radius),
		cmocka_unit_test(test_every_list_length),
		cmocka_unit_test(test_stop_clear_reuse),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
