/* PDQ index throughput: builds an index of N random hashes, then times
 * random queries (nearly all misses) and planted near-hits at each distance
 * 0..D, printing queries per second, work per query and memory per entry.
 * Usage: pdq_bench [entries=1000000] [queries=200000] [max_dist=31] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cybersieve/pdq.h"
#include "pdq_rand.h" /* tests/unit: random hashes and near copies */

static bool count_pair(void *ctx, size_t q, uint32_t id, unsigned dist)
{
	(void)q;
	(void)id;
	(void)dist;
	++*(size_t *)ctx;
	return true;
}

/* Time the queries qs[0..nq) in batches of PDQ_BATCH_MAX answered one way;
 * returns queries per second and sets *hits. */
static double time_batches(const struct pdq_index *idx, uint8_t (*qs)[PDQ_HASH_BYTES], size_t nq,
			   unsigned maxd, enum pdq_batch_mode mode, size_t *hits);

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static bool count_hit(void *ctx, uint32_t id, unsigned dist)
{
	(void)id;
	(void)dist;
	++*(size_t *)ctx;
	return true;
}

static double time_batches(const struct pdq_index *idx, uint8_t (*qs)[PDQ_HASH_BYTES], size_t nq,
			   unsigned maxd, enum pdq_batch_mode mode, size_t *hits)
{
	struct pdq_batch *b = NULL;
	*hits = 0;
	if (pdq_batch_create(&b) != CS_OK)
		return 0;
	pdq_batch_set_mode(b, mode);
	double t0 = now();
	for (size_t i = 0; i < nq; i++) {
		if (pdq_batch_count(b) == PDQ_BATCH_MAX)
			pdq_index_query_batch(idx, b, maxd, count_pair, hits);
		pdq_batch_add(b, qs[i]);
	}
	pdq_index_query_batch(idx, b, maxd, count_pair, hits);
	double t1 = now();
	pdq_batch_destroy(b);
	return nq / (t1 - t0);
}

static const char *const mode_name[] = {"auto", "each", "walk", "walk-avx2", "walk-avx512"};

/* Batched answers: rates of each way, and the same hit count as one by one. */
static void report_batches(const struct pdq_index *idx, uint8_t (*qs)[PDQ_HASH_BYTES], size_t nq,
			   unsigned maxd, const char *what, size_t want)
{
	for (int mode = PDQ_BATCH_WALK; mode <= PDQ_BATCH_WALK_AVX512; mode++) {
		size_t hits;
		double qps = time_batches(idx, qs, nq, maxd, (enum pdq_batch_mode)mode, &hits);
		printf("%s batched (%s): %.0f q/s, hits %zu%s\n", what, mode_name[mode], qps, hits,
		       hits == want ? "" : "  MISMATCH");
	}
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	size_t nq = argc > 2 ? strtoull(argv[2], NULL, 10) : 200000;
	unsigned maxd = argc > 3 ? (unsigned)atoi(argv[3]) : PDQ_DEFAULT_DIST;
	uint64_t rng = 0x2545f4914f6cdd1dULL;
	uint8_t (*hs)[PDQ_HASH_BYTES] = malloc(n * PDQ_HASH_BYTES);
	uint8_t (*qs)[PDQ_HASH_BYTES] = malloc(nq * PDQ_HASH_BYTES);
	struct pdq_index *idx = NULL;
	struct cs_diag diag;
	if (!hs || !qs)
		return 1;
	for (size_t i = 0; i < n; i++)
		rand_hash(&rng, hs[i]);
	double t0 = now();
	if (pdq_index_create(hs, n, &idx, &diag) != CS_OK) {
		fprintf(stderr, "pdq_bench: %s\n", diag.msg);
		return 1;
	}
	double t1 = now();
	printf("entries %zu  build %.2f s  memory %.1f MiB (%.0f B/entry)\n", n, t1 - t0,
	       pdq_index_memory(idx) / 1048576.0, (double)pdq_index_memory(idx) / (double)n);

	for (size_t i = 0; i < nq; i++)
		rand_hash(&rng, qs[i]);
	struct pdq_query_stats st = { 0 };
	size_t hits = 0;
	t0 = now();
	for (size_t i = 0; i < nq; i++)
		pdq_index_query(idx, qs[i], maxd, count_hit, &hits, &st);
	t1 = now();
	printf("random  d<=%u: %.0f q/s  %.0f probes %.0f candidates %.2f verified per query, hits %zu\n",
	       maxd, nq / (t1 - t0), (double)st.probes / nq, (double)st.candidates / nq,
	       (double)st.verified / nq, hits);
	report_batches(idx, qs, nq, maxd, "random ", hits);

	size_t per = nq / (maxd + 1) ? nq / (maxd + 1) : 1;
	size_t found = 0, total = 0;
	for (size_t i = 0; i < nq; i++) {
		memcpy(qs[i], hs[rng_next(&rng) % n], PDQ_HASH_BYTES);
		flip_bits(&rng, qs[i], (unsigned)((i / per) % (maxd + 1)));
	}
	memset(&st, 0, sizeof(st));
	size_t all = 0;
	t0 = now();
	for (size_t i = 0; i < nq; i++) {
		size_t h = 0;
		pdq_index_query(idx, qs[i], maxd, count_hit, &h, &st);
		found += h > 0;
		all += h;
		total++;
	}
	t1 = now();
	printf("planted d=0..%u: %.0f q/s  %.0f candidates %.2f verified per query, found %zu/%zu\n",
	       maxd, nq / (t1 - t0), (double)st.candidates / nq, (double)st.verified / nq, found,
	       total);
	report_batches(idx, qs, nq, maxd, "planted", all);

	size_t lq = nq < 2000 ? nq : 2000;
	t0 = now();
	for (size_t i = 0; i < lq; i++) {
		size_t h = 0;
		pdq_index_query_linear(idx, qs[i], maxd, count_hit, &h);
	}
	t1 = now();
	printf("linear reference: %.0f q/s\n", lq / (t1 - t0));
	pdq_index_destroy(idx);
	free(hs);
	free(qs);
	return 0;
}
