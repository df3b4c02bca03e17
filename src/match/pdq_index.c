/* PDQ hash index: 16 tables, one per 16-bit part, each a counting-sorted
 * array (bucket offsets by part value) of 128-bit sketches plus entry ids.
 * A query probes, per table, every part value within D/16 bits of its own,
 * refuses candidates on the sketch (most misses end there, in memory read in
 * order), and only then reads the full hash. A batch of queries sorts its
 * queries by part value and walks each table once, bucket by bucket, in the
 * order the table lies in memory (pdq_index_query_batch). The index owns all
 * its arrays; it is immutable after pdq_index_create(), so queries need no
 * locking. */
#include "cybersieve/pdq.h"
#include "cybersieve/util.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The popcnt and AVX-512 variants exist on x86-64 only, chosen at run time;
 * elsewhere the plain loops are the only ones (and popcounts are native). */
#if defined(__x86_64__)
#include <immintrin.h>
#define PDQ_X86 1
#define PDQ_TARGET_POPCNT __attribute__((target("popcnt")))
#else
#define PDQ_X86 0
#define PDQ_TARGET_POPCNT
#endif

#define PDQ_PARTS 16
#define PDQ_PART_VALUES 65536u
#define PDQ_MAX_RADIUS (PDQ_MAX_DIST / PDQ_PARTS)
/* 16-bit masks of weight 0..3: 1 + 16 + 120 + 560. */
#define PDQ_MASKS 697

struct pdq_sketch {
	uint64_t a, b;
};

/* The sketches are kept as two arrays (first and second word), so a batch
 * compares eight entries at once. */
struct pdq_table {
	uint32_t *off;            /* PDQ_PART_VALUES + 1 bucket starts */
	uint64_t *ska, *skb;      /* entries' sketches in bucket order */
	uint32_t *id;             /* the same order */
};

struct pdq_scan {
	pdq_hit_fn fn;
	void *ctx;
	size_t hits;
	bool stop;
	struct pdq_query_stats st;
};

struct pdq_index {
	size_t n;
	uint64_t (*hash)[4]; /* id order */
	struct pdq_table tab[PDQ_PARTS];
	uint16_t masks[PDQ_MASKS]; /* by increasing weight */
	unsigned mask_count[PDQ_MAX_RADIUS + 1];
	bool use_popcnt;
	bool use_avx512;          /* batches compare with AVX-512 VPOPCNTQ */
	bool use_avx2;            /* or with AVX2 byte lookups */
	void *block_off, *block_ska, *block_skb, *block_id;
};

bool pdq_hash_parse(const char *hex, size_t n, uint8_t out[PDQ_HASH_BYTES])
{
	if (!hex || n != PDQ_HEX_LEN)
		return false;
	return util_hex_decode(hex, PDQ_HASH_BYTES, out);
}

static void pdq_words(const uint8_t h[PDQ_HASH_BYTES], uint64_t w[4])
{
	memcpy(w, h, PDQ_HASH_BYTES);
}

unsigned pdq_distance(const uint8_t a[PDQ_HASH_BYTES], const uint8_t b[PDQ_HASH_BYTES])
{
	uint64_t x[4], y[4];
	unsigned d = 0;
	pdq_words(a, x);
	pdq_words(b, y);
	for (int i = 0; i < 4; i++)
		d += (unsigned)__builtin_popcountll(x[i] ^ y[i]);
	return d;
}

static unsigned pdq_part(const uint64_t w[4], unsigned t)
{
	return (unsigned)(w[t / 4] >> (16 * (t % 4))) & 0xffffu;
}

/* The sketch of table t: the two words after the one holding part t. */
static struct pdq_sketch pdq_sketch_of(const uint64_t w[4], unsigned t)
{
	unsigned word = t / 4;
	return (struct pdq_sketch){ w[(word + 1) & 3], w[(word + 2) & 3] };
}

static void pdq_fill_masks(struct pdq_index *idx)
{
	unsigned k = 0;
	for (unsigned weight = 0; weight <= PDQ_MAX_RADIUS; weight++) {
		for (unsigned m = 0; m < PDQ_PART_VALUES; m++)
			if ((unsigned)__builtin_popcount(m) == weight)
				idx->masks[k++] = (uint16_t)m;
		idx->mask_count[weight] = k;
	}
}

/* Counting-sort hashes w[0..n) by their part t: off[] gets the bucket starts
 * (PDQ_PART_VALUES + 1), and a[], b[], id[] each hash's sketch and number in
 * bucket order. cursor is room for PDQ_PART_VALUES counters. The index's
 * tables and a batch's sorted queries are both made this way. */
static void pdq_sort_by_part(const uint64_t (*w)[4], size_t n, unsigned t, uint32_t *off,
			     uint32_t *cursor, uint64_t *a, uint64_t *b, uint32_t *id)
{
	memset(off, 0, (PDQ_PART_VALUES + 1) * sizeof(uint32_t));
	for (size_t i = 0; i < n; i++)
		off[pdq_part(w[i], t) + 1]++;
	for (unsigned v = 0; v < PDQ_PART_VALUES; v++)
		off[v + 1] += off[v];
	memcpy(cursor, off, PDQ_PART_VALUES * sizeof(uint32_t));
	for (size_t i = 0; i < n; i++) {
		uint32_t pos = cursor[pdq_part(w[i], t)]++;
		struct pdq_sketch sk = pdq_sketch_of(w[i], t);
		a[pos] = sk.a;
		b[pos] = sk.b;
		id[pos] = (uint32_t)i;
	}
}

/* The sixteen tables are sorted on up to this many threads at once: each
 * thread fills (and so first touches) its own tables' memory, and on virtual
 * machines that first touch, not the sort, is most of a build. */
#define PDQ_BUILD_THREADS 4
/* Below this many entries one thread builds the index. */
#define PDQ_BUILD_PARALLEL_MIN 65536

struct pdq_build {
	struct pdq_index *idx;
	unsigned first, step; /* tables first, first + step, ... */
	uint32_t *cursor;     /* PDQ_PART_VALUES counters */
	pthread_t th;
	bool started;
};

static void *pdq_build_tables(void *arg)
{
	struct pdq_build *b = arg;
	struct pdq_index *idx = b->idx;
	for (unsigned t = b->first; t < PDQ_PARTS; t += b->step)
		pdq_sort_by_part((const uint64_t(*)[4])idx->hash, idx->n, t, idx->tab[t].off,
				 b->cursor, idx->tab[t].ska, idx->tab[t].skb, idx->tab[t].id);
	return NULL;
}

/* Threads for n entries: the CPUs this process may run on, at least two (so
 * that the threaded build is the one every large index takes, tests too),
 * at most PDQ_BUILD_THREADS; one below PDQ_BUILD_PARALLEL_MIN entries. */
static unsigned pdq_build_threads(size_t n)
{
	if (n < PDQ_BUILD_PARALLEL_MIN)
		return 1;
	int cpus = 0;
#ifdef CPU_COUNT
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		cpus = CPU_COUNT(&set);
#endif
	if (cpus < 1) {
		long online = sysconf(_SC_NPROCESSORS_ONLN);
		cpus = online > 0 && online < PDQ_BUILD_THREADS ? (int)online : PDQ_BUILD_THREADS;
	}
	return cpus < 2 ? 2 : cpus > PDQ_BUILD_THREADS ? PDQ_BUILD_THREADS : (unsigned)cpus;
}

/* Sort every table, sharing them out over threads (fewer when memory for
 * their counters runs short); a share whose thread cannot be started is
 * sorted here. False when not even one thread's counters fit. */
static bool pdq_build_all(struct pdq_index *idx)
{
	struct pdq_build b[PDQ_BUILD_THREADS];
	unsigned want = pdq_build_threads(idx->n), k = 0;
	while (k < want) {
		uint32_t *cursor = malloc(PDQ_PART_VALUES * sizeof(uint32_t));
		if (!cursor)
			break;
		b[k++] = (struct pdq_build){ .idx = idx, .cursor = cursor };
	}
	if (k == 0)
		return false;
	for (unsigned i = 0; i < k; i++) {
		b[i].first = i;
		b[i].step = k;
	}
	for (unsigned i = 1; i < k; i++)
		b[i].started = util_thread_start_quiet(&b[i].th, pdq_build_tables, &b[i]) == 0;
	pdq_build_tables(&b[0]);
	for (unsigned i = 1; i < k; i++) {
		if (b[i].started)
			pthread_join(b[i].th, NULL);
		else
			pdq_build_tables(&b[i]);
	}
	for (unsigned i = 0; i < k; i++)
		free(b[i].cursor);
	return true;
}

enum cs_err pdq_index_create(const uint8_t (*hashes)[PDQ_HASH_BYTES], size_t n,
			     struct pdq_index **out, struct cs_diag *diag)
{
	enum cs_err err = CS_ERR_NOMEM;
	struct pdq_index *idx = NULL;
	*out = NULL;
	if (n > PDQ_INDEX_MAX_ENTRIES || (n && !hashes)) {
		cs_diag_set(diag, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "pdq index: %zu entries (max %u)",
			    n, PDQ_INDEX_MAX_ENTRIES);
		return n ? CS_ERR_LIMIT : CS_ERR_INVALID;
	}
	idx = calloc(1, sizeof(*idx));
	if (!idx)
		goto out;
	size_t slots = n ? n : 1;
	idx->n = n;
	idx->hash = util_alloc_table(slots * sizeof(idx->hash[0]));
	idx->block_off = util_alloc_table((size_t)PDQ_PARTS * (PDQ_PART_VALUES + 1) * sizeof(uint32_t));
	idx->block_ska = util_alloc_table(PDQ_PARTS * slots * sizeof(uint64_t));
	idx->block_skb = util_alloc_table(PDQ_PARTS * slots * sizeof(uint64_t));
	idx->block_id = util_alloc_table(PDQ_PARTS * slots * sizeof(uint32_t));
	if (!idx->hash || !idx->block_off || !idx->block_ska || !idx->block_skb || !idx->block_id)
		goto out;
	for (size_t i = 0; i < n; i++)
		pdq_words(hashes[i], idx->hash[i]);
	pdq_fill_masks(idx);
	for (unsigned t = 0; t < PDQ_PARTS; t++) {
		idx->tab[t].off = (uint32_t *)idx->block_off + (size_t)t * (PDQ_PART_VALUES + 1);
		idx->tab[t].ska = (uint64_t *)idx->block_ska + t * slots;
		idx->tab[t].skb = (uint64_t *)idx->block_skb + t * slots;
		idx->tab[t].id = (uint32_t *)idx->block_id + t * slots;
	}
	if (!pdq_build_all(idx))
		goto out;
#if PDQ_X86
	__builtin_cpu_init();
	idx->use_popcnt = __builtin_cpu_supports("popcnt");
	idx->use_avx512 = __builtin_cpu_supports("avx512f") &&
			  __builtin_cpu_supports("avx512vpopcntdq");
	idx->use_avx2 = __builtin_cpu_supports("avx2");
#endif
	*out = idx;
	idx = NULL;
	err = CS_OK;
out:
	if (err)
		cs_diag_set(diag, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "pdq index: out of memory for %zu entries", n);
	pdq_index_destroy(idx);
	return err;
}

void pdq_index_destroy(struct pdq_index *idx)
{
	if (!idx)
		return;
	free(idx->hash);
	free(idx->block_off);
	free(idx->block_ska);
	free(idx->block_skb);
	free(idx->block_id);
	free(idx);
}

size_t pdq_index_count(const struct pdq_index *idx)
{
	return idx->n;
}

size_t pdq_index_memory(const struct pdq_index *idx)
{
	size_t per = sizeof(idx->hash[0]) + PDQ_PARTS * (sizeof(struct pdq_sketch) + sizeof(uint32_t));
	return sizeof(*idx) + idx->n * per +
	       (size_t)PDQ_PARTS * (PDQ_PART_VALUES + 1) * sizeof(uint32_t);
}

/* A candidate passed the sketch of table t: its full distance from q when
 * within max_dist and t is the first table whose probe reaches it (so each
 * entry comes once, whatever order the tables are walked in); -1 otherwise. */
static int pdq_first_dist(const struct pdq_index *idx, unsigned t, uint32_t id, const uint64_t q[4],
			  unsigned max_dist, unsigned r)
{
	const uint64_t *w = idx->hash[id];
	unsigned d = 0;
	for (int i = 0; i < 4; i++)
		d += (unsigned)__builtin_popcountll(w[i] ^ q[i]);
	if (d > max_dist)
		return -1;
	for (unsigned j = 0; j < t; j++)
		if ((unsigned)__builtin_popcount(pdq_part(w, j) ^ pdq_part(q, j)) <= r)
			return -1;
	return (int)d;
}

static void pdq_verify(const struct pdq_index *idx, unsigned t, uint32_t id, const uint64_t q[4],
		       unsigned max_dist, unsigned r, struct pdq_scan *s)
{
	s->st.verified++;
	int d = pdq_first_dist(idx, t, id, q, max_dist, r);
	if (d < 0)
		return;
	s->hits++;
	if (!s->fn(s->ctx, id, (unsigned)d))
		s->stop = true;
}

/* Probes are handled in batches of whole tables, in three passes so the
 * memory reads of a batch overlap instead of waiting one after another:
 * prefetch the bucket offsets, then read them and prefetch the sketches,
 * then compare. 1024 probes hold 16 tables at radius 1 (272) and one at radius 3. */
#define PDQ_BATCH_PROBES 1024
_Static_assert(PDQ_MASKS <= PDQ_BATCH_PROBES, "one table must fit a batch");

struct pdq_probe {
	uint32_t lo, hi;
	unsigned base;
};

/* The probe loop; compiled twice (with and without the popcnt instruction). */
static inline __attribute__((always_inline)) void
pdq_query_body(const struct pdq_index *idx, const uint64_t q[4], unsigned max_dist,
	       struct pdq_scan *s)
{
	unsigned r = max_dist / PDQ_PARTS;
	unsigned nmask = idx->mask_count[r];
	unsigned per_batch = PDQ_BATCH_PROBES / nmask;
	struct pdq_probe pr[PDQ_BATCH_PROBES];
	for (unsigned t0 = 0; t0 < PDQ_PARTS && !s->stop; t0 += per_batch) {
		unsigned t1 = t0 + per_batch < PDQ_PARTS ? t0 + per_batch : PDQ_PARTS;
		for (unsigned t = t0; t < t1; t++) {
			const uint32_t *off = idx->tab[t].off;
			unsigned v = pdq_part(q, t);
			for (unsigned k = 0; k < nmask; k++)
				__builtin_prefetch(&off[v ^ idx->masks[k]]);
		}
		struct pdq_probe *p = pr;
		for (unsigned t = t0; t < t1; t++) {
			const struct pdq_table *tab = &idx->tab[t];
			unsigned v = pdq_part(q, t);
			for (unsigned k = 0; k < nmask; k++, p++) {
				unsigned m = idx->masks[k];
				p->lo = tab->off[v ^ m];
				p->hi = tab->off[(v ^ m) + 1];
				p->base = (unsigned)__builtin_popcount(m);
				const char *a = (const char *)&tab->ska[p->lo];
				const char *b = (const char *)&tab->ska[p->hi];
				for (; a < b; a += 64)
					__builtin_prefetch(a);
				a = (const char *)&tab->skb[p->lo];
				b = (const char *)&tab->skb[p->hi];
				for (; a < b; a += 64)
					__builtin_prefetch(a);
			}
		}
		p = pr;
		for (unsigned t = t0; t < t1 && !s->stop; t++) {
			const struct pdq_table *tab = &idx->tab[t];
			struct pdq_sketch qs = pdq_sketch_of(q, t);
			for (unsigned k = 0; k < nmask && !s->stop; k++, p++) {
				s->st.probes++;
				s->st.candidates += p->hi - p->lo;
				for (uint32_t e = p->lo; e < p->hi && !s->stop; e++) {
					unsigned d = p->base +
						     (unsigned)__builtin_popcountll(tab->ska[e] ^ qs.a) +
						     (unsigned)__builtin_popcountll(tab->skb[e] ^ qs.b);
					if (d <= max_dist)
						pdq_verify(idx, t, tab->id[e], q, max_dist, r, s);
				}
			}
		}
	}
}

static void pdq_query_generic(const struct pdq_index *idx, const uint64_t q[4], unsigned max_dist,
			      struct pdq_scan *s)
{
	pdq_query_body(idx, q, max_dist, s);
}

PDQ_TARGET_POPCNT static void
pdq_query_popcnt(const struct pdq_index *idx, const uint64_t q[4], unsigned max_dist,
		 struct pdq_scan *s)
{
	pdq_query_body(idx, q, max_dist, s);
}

/* One query, with the popcnt instruction where the CPU has it. */
static void pdq_query_words(const struct pdq_index *idx, const uint64_t q[4], unsigned max_dist,
			    struct pdq_scan *s)
{
	if (idx->use_popcnt)
		pdq_query_popcnt(idx, q, max_dist, s);
	else
		pdq_query_generic(idx, q, max_dist, s);
}

size_t pdq_index_query(const struct pdq_index *idx, const uint8_t h[PDQ_HASH_BYTES],
		       unsigned max_dist, pdq_hit_fn fn, void *ctx, struct pdq_query_stats *st)
{
	struct pdq_scan s = { .fn = fn, .ctx = ctx };
	uint64_t q[4];
	if (!idx || !h || !fn || idx->n == 0)
		return 0;
	if (max_dist > PDQ_MAX_DIST)
		max_dist = PDQ_MAX_DIST;
	pdq_words(h, q);
	pdq_query_words(idx, q, max_dist, &s);
	if (st) {
		st->probes += s.st.probes;
		st->candidates += s.st.candidates;
		st->verified += s.st.verified;
	}
	return s.hits;
}

/* A bucket's probing queries for the AVX-512 walk, gathered from the
 * buckets of every mask (the room past PDQ_WALK_LIST takes a last group of
 * up to eight). */
#define PDQ_WALK_LIST 512

struct pdq_walk_list {
	uint64_t a[PDQ_WALK_LIST + 8], b[PDQ_WALK_LIST + 8];
	uint64_t lim[PDQ_WALK_LIST + 8];
	uint64_t j[PDQ_WALK_LIST + 8];
};

/* Batches: the queries are counting-sorted by the part of the table being
 * walked, then each bucket of the table, in memory order, is compared with
 * the queries whose part is within the radius of the bucket's value. The
 * table is read once per batch and the queries' side (a few MB) stays in
 * cache, where one query at a time reads about 1,400 scattered cache lines. */
struct pdq_batch {
	uint64_t (*q)[4];         /* queued queries, in the order added */
	size_t n, cap;
	enum pdq_batch_mode mode;
	/* the walk of one table: queries sorted by that table's part */
	uint32_t *qoff;           /* PDQ_PART_VALUES + 1 starts */
	uint32_t *cur;            /* PDQ_PART_VALUES cursors */
	uint64_t *qa, *qb;        /* their sketches */
	uint32_t *qid;            /* their numbers */
	size_t wcap;
	struct pdq_walk_list list;
};

enum cs_err pdq_batch_create(struct pdq_batch **out)
{
	struct pdq_batch *b = calloc(1, sizeof(*b));
	*out = NULL;
	if (!b)
		return CS_ERR_NOMEM;
	b->qoff = malloc((PDQ_PART_VALUES + 1) * sizeof(uint32_t));
	b->cur = malloc(PDQ_PART_VALUES * sizeof(uint32_t));
	if (!b->qoff || !b->cur) {
		pdq_batch_destroy(b);
		return CS_ERR_NOMEM;
	}
	*out = b;
	return CS_OK;
}

void pdq_batch_destroy(struct pdq_batch *b)
{
	if (!b)
		return;
	free(b->q);
	free(b->qoff);
	free(b->cur);
	free(b->qa);
	free(b->qb);
	free(b->qid);
	free(b);
}

void pdq_batch_set_mode(struct pdq_batch *b, enum pdq_batch_mode mode)
{
	b->mode = mode;
}

size_t pdq_batch_count(const struct pdq_batch *b)
{
	return b->n;
}

void pdq_batch_clear(struct pdq_batch *b)
{
	b->n = 0;
}

enum cs_err pdq_batch_add(struct pdq_batch *b, const uint8_t h[PDQ_HASH_BYTES])
{
	if (b->n >= PDQ_BATCH_MAX)
		return CS_ERR_LIMIT;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		if (cap > PDQ_BATCH_MAX)
			cap = PDQ_BATCH_MAX;
		void *q = realloc(b->q, cap * sizeof(b->q[0]));
		if (!q)
			return CS_ERR_NOMEM;
		b->q = q;
		b->cap = cap;
	}
	pdq_words(h, b->q[b->n++]);
	return CS_OK;
}

/* Room for the sorted side of b->n queries. */
static bool pdq_batch_reserve(struct pdq_batch *b)
{
	if (b->wcap >= b->n)
		return true;
	uint64_t *qa = realloc(b->qa, b->cap * sizeof(uint64_t));
	if (qa)
		b->qa = qa;
	uint64_t *qb = realloc(b->qb, b->cap * sizeof(uint64_t));
	if (qb)
		b->qb = qb;
	uint32_t *qid = realloc(b->qid, b->cap * sizeof(uint32_t));
	if (qid)
		b->qid = qid;
	if (!qa || !qb || !qid)
		return false;
	b->wcap = b->cap;
	return true;
}

/* Sort the queries by their part in table t, with their sketches of it. */
static void pdq_batch_sort(struct pdq_batch *b, unsigned t)
{
	pdq_sort_by_part((const uint64_t(*)[4])b->q, b->n, t, b->qoff, b->cur, b->qa, b->qb, b->qid);
}

struct pdq_walk {
	const struct pdq_index *idx;
	struct pdq_batch *b;
	unsigned max_dist, r, nmask;
	unsigned lim[PDQ_MASKS];  /* per mask: the most bits the sketches may differ by */
	pdq_batch_fn fn;
	void *ctx;
	size_t hits;
	bool stop;
};

/* Query qi and entry id passed a sketch of table t: reported when within
 * the distance and t is the first table to reach the pair. False once fn
 * asked to stop. */
static bool pdq_walk_pair(struct pdq_walk *w, unsigned t, uint32_t qi, uint32_t id)
{
	int d = pdq_first_dist(w->idx, t, id, w->b->q[qi], w->max_dist, w->r);
	if (d < 0)
		return true;
	w->hits++;
	if (!w->fn(w->ctx, qi, id, (unsigned)d)) {
		w->stop = true;
		return false;
	}
	return true;
}

/* Entries e + i of table t, for each bit i of ok, passed query j's sketch.
 * False once fn asked to stop. */
static __attribute__((noinline)) bool pdq_walk_verify(struct pdq_walk *w, unsigned t, uint32_t e,
						       unsigned ok, uint32_t j)
{
	uint32_t qi = w->b->qid[j];
	for (; ok; ok &= ok - 1)
		if (!pdq_walk_pair(w, t, qi, w->idx->tab[t].id[e + (unsigned)__builtin_ctz(ok)]))
			return false;
	return true;
}

/* Walk table t: each bucket in memory order against the queries whose part
 * is within the radius of its value, one mask after another. Compiled
 * twice, as pdq_query_body is. */
static inline __attribute__((always_inline)) void pdq_walk_table(struct pdq_walk *w, unsigned t)
{
	const struct pdq_table *tab = &w->idx->tab[t];
	const uint32_t *off = tab->off, *qoff = w->b->qoff;
	const uint64_t *ska = tab->ska, *skb = tab->skb, *qa = w->b->qa, *qb = w->b->qb;
	const uint16_t *masks = w->idx->masks;
	for (unsigned v = 0; v < PDQ_PART_VALUES; v++) {
		uint32_t lo = off[v], hi = off[v + 1];
		if (lo == hi)
			continue;
		for (unsigned k = 0; k < w->nmask; k++) {
			unsigned u = v ^ masks[k], lim = w->lim[k];
			for (uint32_t j = qoff[u]; j < qoff[u + 1]; j++)
				for (uint32_t e = lo; e < hi; e++)
					if ((unsigned)__builtin_popcountll(ska[e] ^ qa[j]) +
						    (unsigned)__builtin_popcountll(skb[e] ^ qb[j]) <=
						    lim &&
					    !pdq_walk_verify(w, t, e, 1, j))
						return;
		}
	}
}

static void pdq_walk_generic(struct pdq_walk *w, unsigned t)
{
	pdq_walk_table(w, t);
}

PDQ_TARGET_POPCNT static void pdq_walk_table_popcnt(struct pdq_walk *w, unsigned t)
{
	pdq_walk_table(w, t);
}

#if PDQ_X86
/* Query l->j[p + i], for each bit i of ok, passed entry e's sketch in table
 * t. False once fn asked to stop. */
static __attribute__((noinline)) bool pdq_walk_verify_queries(struct pdq_walk *w, unsigned t,
								uint32_t e, unsigned ok,
								const struct pdq_walk_list *l,
								size_t p)
{
	uint32_t id = w->idx->tab[t].id[e];
	for (; ok; ok &= ok - 1)
		if (!pdq_walk_pair(w, t, w->b->qid[l->j[p + (unsigned)__builtin_ctz(ok)]], id))
			return false;
	return true;
}

/* Entries lo..hi of table t against the gathered queries l[p .. p + 8 * nv)
 * (of which the first `n` exist): each entry's sketch against eight queries
 * a vector, nv vectors held in registers. A sketch may differ from its
 * query's by at most the distance asked (the tighter limit of a mask of
 * weight w, distance - w, only refuses in verification the rare random pair
 * the looser one lets through: under 1e-8 of them at distance 31). Inlined
 * for each nv of 1..4. False once fn asked to stop. */
__attribute__((target("avx512f,avx512vpopcntdq,popcnt"))) static inline
	__attribute__((always_inline)) bool
	pdq_walk_block_avx512(struct pdq_walk *w, unsigned t, uint32_t lo, uint32_t hi,
			      const uint64_t *ska, const uint64_t *skb,
			      const struct pdq_walk_list *l, size_t p, size_t n, unsigned nv)
{
	const __m512i lim = _mm512_set1_epi64((long long)w->max_dist);
	__m512i qa[4], qb[4];
	__mmask8 live[4];
	_Pragma("GCC unroll 4")
	for (unsigned i = 0; i < nv; i++) {
		size_t left = n > 8 * i ? n - 8 * i : 0;
		live[i] = left >= 8 ? 0xff : (__mmask8)((1u << left) - 1);
		qa[i] = _mm512_maskz_loadu_epi64(live[i], l->a + p + 8 * i);
		qb[i] = _mm512_maskz_loadu_epi64(live[i], l->b + p + 8 * i);
	}
	for (uint32_t e = lo; e < hi; e++) {
		__m512i ea = _mm512_set1_epi64((long long)ska[e]);
		__m512i eb = _mm512_set1_epi64((long long)skb[e]);
		unsigned any = 0, ok[4];
		_Pragma("GCC unroll 4")
		for (unsigned i = 0; i < nv; i++) {
			__m512i d = _mm512_add_epi64(_mm512_popcnt_epi64(_mm512_xor_si512(qa[i], ea)),
						     _mm512_popcnt_epi64(_mm512_xor_si512(qb[i], eb)));
			ok[i] = _mm512_mask_cmple_epu64_mask(live[i], d, lim);
			any |= ok[i];
		}
		if (__builtin_expect(any == 0, 1))
			continue;
		for (unsigned i = 0; i < nv; i++)
			if (ok[i] && !pdq_walk_verify_queries(w, t, e, ok[i], l, p + 8 * i))
				return false;
	}
	return true;
}

/* Every entry of a bucket against the n gathered queries, four vectors of
 * queries at a time. False once fn asked to stop. */
__attribute__((target("avx512f,avx512vpopcntdq,popcnt"))) static bool
pdq_walk_bucket_avx512(struct pdq_walk *w, unsigned t, uint32_t lo, uint32_t hi,
		       const uint64_t *ska, const uint64_t *skb, const struct pdq_walk_list *l,
		       size_t n)
{
	for (size_t p = 0; p < n; p += 32) {
		size_t left = n - p;
		bool go;
		if (left > 24)
			go = pdq_walk_block_avx512(w, t, lo, hi, ska, skb, l, p, left, 4);
		else if (left > 16)
			go = pdq_walk_block_avx512(w, t, lo, hi, ska, skb, l, p, left, 3);
		else if (left > 8)
			go = pdq_walk_block_avx512(w, t, lo, hi, ska, skb, l, p, left, 2);
		else
			go = pdq_walk_block_avx512(w, t, lo, hi, ska, skb, l, p, left, 1);
		if (!go)
			return false;
	}
	return true;
}

/* The same walk with AVX-512: a bucket's queries from every mask are first
 * gathered into one list, eight at a time, so the compare loop runs long
 * (a loop per mask runs about twice, and mispredicts); each of the
 * bucket's entries is then compared with up to 32 queries of the list at a
 * time (pdq_walk_bucket_avx512). */
__attribute__((target("avx512f,avx512vpopcntdq,popcnt"))) static void
pdq_walk_table_avx512(struct pdq_walk *w, unsigned t, struct pdq_walk_list *l)
{
	const struct pdq_table *tab = &w->idx->tab[t];
	const uint32_t *off = tab->off, *qoff = w->b->qoff;
	const uint64_t *ska = tab->ska, *skb = tab->skb, *qa = w->b->qa, *qb = w->b->qb;
	const uint16_t *masks = w->idx->masks;
	const __m512i iota = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
	for (unsigned v = 0; v < PDQ_PART_VALUES; v++) {
		uint32_t lo = off[v], hi = off[v + 1];
		if (lo == hi)
			continue;
		size_t n = 0;
		bool last = false;
		unsigned k = 0;
		uint32_t j = qoff[v ^ masks[0]];
		while (!last) {
			/* Gather until the list is full or every mask is done. */
			while (n < PDQ_WALK_LIST) {
				unsigned u = v ^ masks[k];
				uint32_t qh = qoff[u + 1];
				if (j < qh) {
					uint32_t take = qh - j < 8 ? qh - j : 8;
					__mmask8 m = (__mmask8)((1u << take) - 1);
					__m512i va = _mm512_maskz_loadu_epi64(m, qa + j);
					__m512i vb = _mm512_maskz_loadu_epi64(m, qb + j);
					__m512i vj = _mm512_add_epi64(_mm512_set1_epi64(j), iota);
					_mm512_storeu_si512(l->a + n, va);
					_mm512_storeu_si512(l->b + n, vb);
					_mm512_storeu_si512(l->j + n, vj);
					n += take;
					j += take;
					continue;
				}
				if (++k == w->nmask) {
					last = true;
					break;
				}
				j = qoff[v ^ masks[k]];
			}
			if (!pdq_walk_bucket_avx512(w, t, lo, hi, ska, skb, l, n))
				return;
			n = 0;
		}
	}
}

/* Per byte of x, its count of set bits (VPSHUFB on each half-byte). */
__attribute__((target("avx2"))) static inline __m256i pdq_bytes_avx2(__m256i x, __m256i bits,
								     __m256i nib)
{
	__m256i lo = _mm256_shuffle_epi8(bits, _mm256_and_si256(x, nib));
	__m256i hi = _mm256_shuffle_epi8(bits, _mm256_and_si256(_mm256_srli_epi16(x, 4), nib));
	return _mm256_add_epi8(lo, hi);
}

/* The same walk with AVX2, where the CPU has no VPOPCNTQ: the queries of a
 * bucket gathered into one list as above, each compared with four entries
 * at once; the bits of the two sketches' differences are counted four at a
 * time with a byte lookup (VPSHUFB) and summed per entry (VPSADBW). */
__attribute__((target("avx2"))) static void
pdq_walk_table_avx2(struct pdq_walk *w, unsigned t, struct pdq_walk_list *l)
{
	const struct pdq_table *tab = &w->idx->tab[t];
	const uint32_t *off = tab->off, *qoff = w->b->qoff;
	const uint64_t *ska = tab->ska, *skb = tab->skb, *qa = w->b->qa, *qb = w->b->qb;
	const uint16_t *masks = w->idx->masks;
	const __m256i bits = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1,
					      1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
	const __m256i nib = _mm256_set1_epi8(0x0f), zero = _mm256_setzero_si256();
	const __m256i lane = _mm256_setr_epi64x(0, 1, 2, 3);
	for (unsigned v = 0; v < PDQ_PART_VALUES; v++) {
		uint32_t lo = off[v], hi = off[v + 1];
		if (lo == hi)
			continue;
		bool last = false;
		unsigned k = 0;
		uint32_t j = qoff[v ^ masks[0]];
		while (!last) {
			size_t n = 0;
			while (n < PDQ_WALK_LIST) {
				uint32_t qh = qoff[(v ^ masks[k]) + 1];
				if (j < qh) {
					l->a[n] = qa[j];
					l->b[n] = qb[j];
					l->lim[n] = w->lim[k];
					l->j[n++] = j++;
					continue;
				}
				if (++k == w->nmask) {
					last = true;
					break;
				}
				j = qoff[v ^ masks[k]];
			}
			for (uint32_t e = lo; e < hi; e += 4) {
				unsigned left = hi - e < 4 ? hi - e : 4;
				__m256i live = _mm256_cmpgt_epi64(_mm256_set1_epi64x(left), lane);
				unsigned live_bits = (1u << left) - 1;
				__m256i ea = _mm256_maskload_epi64((const long long *)(ska + e), live);
				__m256i eb = _mm256_maskload_epi64((const long long *)(skb + e), live);
				for (size_t i = 0; i < n; i++) {
					__m256i xa = _mm256_xor_si256(
						ea, _mm256_set1_epi64x((long long)l->a[i]));
					__m256i xb = _mm256_xor_si256(
						eb, _mm256_set1_epi64x((long long)l->b[i]));
					__m256i c = _mm256_add_epi8(pdq_bytes_avx2(xa, bits, nib),
								    pdq_bytes_avx2(xb, bits, nib));
					__m256i d = _mm256_sad_epu8(c, zero); /* 0 to 128 per entry */
					__m256i over = _mm256_cmpgt_epi64(
						d, _mm256_set1_epi64x((long long)l->lim[i]));
					unsigned ok = ~(unsigned)_mm256_movemask_pd(
							      _mm256_castsi256_pd(over)) &
						      live_bits;
					if (ok && !pdq_walk_verify(w, t, e, ok, (uint32_t)l->j[i]))
						return;
				}
			}
		}
	}
}
#endif

struct pdq_each {
	pdq_batch_fn fn;
	void *ctx;
	size_t query;
};

static bool pdq_each_hit(void *vctx, uint32_t id, unsigned dist)
{
	struct pdq_each *e = vctx;
	return e->fn(e->ctx, e->query, id, dist);
}

size_t pdq_index_query_batch(const struct pdq_index *idx, struct pdq_batch *b, unsigned max_dist,
			     pdq_batch_fn fn, void *ctx)
{
	size_t hits = 0;
	if (!idx || !b || !fn || idx->n == 0 || b->n == 0) {
		if (b)
			b->n = 0;
		return 0;
	}
	if (max_dist > PDQ_MAX_DIST)
		max_dist = PDQ_MAX_DIST;
	enum pdq_batch_mode mode = b->mode;
	if (mode == PDQ_BATCH_AUTO)
		mode = b->n < PDQ_BATCH_MIN ? PDQ_BATCH_EACH
		       : idx->use_avx512    ? PDQ_BATCH_WALK_AVX512
					    : PDQ_BATCH_WALK_AVX2;
	if (mode != PDQ_BATCH_EACH && !pdq_batch_reserve(b))
		mode = PDQ_BATCH_EACH; /* no room to sort: the slower way needs none */
	if (mode == PDQ_BATCH_EACH) {
		struct pdq_each e = {fn, ctx, 0};
		for (size_t i = 0; i < b->n; i++) {
			e.query = i;
			struct pdq_scan s = {.fn = pdq_each_hit, .ctx = &e};
			pdq_query_words(idx, b->q[i], max_dist, &s);
			hits += s.hits;
			if (s.stop)
				break;
		}
		b->n = 0;
		return hits;
	}
	struct pdq_walk w = {.idx = idx, .b = b, .max_dist = max_dist, .r = max_dist / PDQ_PARTS,
			     .fn = fn, .ctx = ctx};
	w.nmask = idx->mask_count[w.r];
	for (unsigned k = 0; k < w.nmask; k++)
		w.lim[k] = max_dist - (unsigned)__builtin_popcount(idx->masks[k]);
	bool avx512 = mode == PDQ_BATCH_WALK_AVX512 && idx->use_avx512;
	bool avx2 = mode == PDQ_BATCH_WALK_AVX2 && idx->use_avx2;
	for (unsigned t = 0; t < PDQ_PARTS && !w.stop; t++) {
		pdq_batch_sort(b, t);
#if PDQ_X86
		if (avx512)
			pdq_walk_table_avx512(&w, t, &b->list);
		else if (avx2)
			pdq_walk_table_avx2(&w, t, &b->list);
		else
#else
		(void)avx512; /* both false: no x86 */
		(void)avx2;
#endif
		if (idx->use_popcnt)
			pdq_walk_table_popcnt(&w, t);
		else
			pdq_walk_generic(&w, t);
	}
	b->n = 0;
	return w.hits;
}

size_t pdq_index_query_linear(const struct pdq_index *idx, const uint8_t h[PDQ_HASH_BYTES],
			      unsigned max_dist, pdq_hit_fn fn, void *ctx)
{
	uint64_t q[4];
	size_t hits = 0;
	if (!idx || !h || !fn)
		return 0;
	if (max_dist > PDQ_MAX_DIST)
		max_dist = PDQ_MAX_DIST;
	pdq_words(h, q);
	for (size_t i = 0; i < idx->n; i++) {
		unsigned d = 0;
		for (int k = 0; k < 4; k++)
			d += (unsigned)__builtin_popcountll(idx->hash[i][k] ^ q[k]);
		if (d > max_dist)
			continue;
		hits++;
		if (!fn(ctx, (uint32_t)i, d))
			break;
	}
	return hits;
}

struct pdq_best {
	bool found;
	uint32_t id;
	unsigned dist;
};

static bool pdq_keep_best(void *ctx, uint32_t id, unsigned dist)
{
	struct pdq_best *b = ctx;
	if (!b->found || dist < b->dist || (dist == b->dist && id < b->id))
		*b = (struct pdq_best){ true, id, dist };
	return true;
}

bool pdq_index_best(const struct pdq_index *idx, const uint8_t h[PDQ_HASH_BYTES], unsigned max_dist,
		    uint32_t *id, unsigned *dist)
{
	struct pdq_best b = { 0 };
	pdq_index_query(idx, h, max_dist, pdq_keep_best, &b, NULL);
	if (b.found) {
		*id = b.id;
		*dist = b.dist;
	}
	return b.found;
}
