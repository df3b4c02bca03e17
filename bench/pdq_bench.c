/* PDQ index throughput: builds an index of N random hashes, then times
 * random queries (nearly all misses) and planted near-hits at each distance
 * 0..D, printing queries per second, work per query and memory per entry.
 * Usage: pdq_bench [entries=1000000] [queries=200000] [max_dist=31] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cybersieve/pdq.h"

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void rand_hash(uint64_t *rng, uint8_t h[PDQ_HASH_BYTES])
{
	for (int i = 0; i < 4; i++) {
		uint64_t w = rng_next(rng);
		memcpy(h + 8 * i, &w, 8);
	}
}

/* Flip d distinct random bits. */
static void flip_bits(uint64_t *rng, uint8_t h[PDQ_HASH_BYTES], unsigned d)
{
	uint8_t used[256] = { 0 };
	for (unsigned k = 0; k < d;) {
		unsigned b = (unsigned)(rng_next(rng) % 256);
		if (used[b])
			continue;
		used[b] = 1;
		h[b / 8] ^= (uint8_t)(1u << (b % 8));
		k++;
	}
}

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

	size_t per = nq / (maxd + 1) ? nq / (maxd + 1) : 1;
	size_t found = 0, total = 0;
	for (size_t i = 0; i < nq; i++) {
		memcpy(qs[i], hs[rng_next(&rng) % n], PDQ_HASH_BYTES);
		flip_bits(&rng, qs[i], (unsigned)((i / per) % (maxd + 1)));
	}
	memset(&st, 0, sizeof(st));
	t0 = now();
	for (size_t i = 0; i < nq; i++) {
		size_t h = 0;
		pdq_index_query(idx, qs[i], maxd, count_hit, &h, &st);
		found += h > 0;
		total++;
	}
	t1 = now();
	printf("planted d=0..%u: %.0f q/s  %.0f candidates %.2f verified per query, found %zu/%zu\n",
	       maxd, nq / (t1 - t0), (double)st.candidates / nq, (double)st.verified / nq, found,
	       total);

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
