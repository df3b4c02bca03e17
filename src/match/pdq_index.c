/* PDQ hash index: 16 tables, one per 16-bit part, each a counting-sorted
 * array (bucket offsets by part value) of 128-bit sketches plus entry ids.
 * A query probes, per table, every part value within D/16 bits of its own,
 * refuses candidates on the sketch (most misses end there, in memory read in
 * order), and only then reads the full hash. The index owns all its arrays;
 * it is immutable after pdq_index_create(), so queries need no locking. */
#include "cybersieve/pdq.h"
#include "cybersieve/util.h"

#include <stdlib.h>
#include <string.h>

#define PDQ_PARTS 16
#define PDQ_PART_VALUES 65536u
#define PDQ_MAX_RADIUS (PDQ_MAX_DIST / PDQ_PARTS)
/* 16-bit masks of weight 0..3: 1 + 16 + 120 + 560. */
#define PDQ_MASKS 697

struct pdq_sketch {
	uint64_t a, b;
};

struct pdq_table {
	uint32_t *off;            /* PDQ_PART_VALUES + 1 bucket starts */
	struct pdq_sketch *sk;    /* entries in bucket order */
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
	void *block_off, *block_sk, *block_id;
};

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool pdq_hash_parse(const char *hex, size_t n, uint8_t out[PDQ_HASH_BYTES])
{
	if (!hex || n != PDQ_HEX_LEN)
		return false;
	for (size_t i = 0; i < PDQ_HASH_BYTES; i++) {
		int hi = hex_val(hex[2 * i]), lo = hex_val(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
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

static void pdq_build_table(struct pdq_index *idx, unsigned t, uint32_t *cursor)
{
	struct pdq_table *tab = &idx->tab[t];
	memset(tab->off, 0, (PDQ_PART_VALUES + 1) * sizeof(uint32_t));
	for (size_t i = 0; i < idx->n; i++)
		tab->off[pdq_part(idx->hash[i], t) + 1]++;
	for (unsigned v = 0; v < PDQ_PART_VALUES; v++)
		tab->off[v + 1] += tab->off[v];
	memcpy(cursor, tab->off, PDQ_PART_VALUES * sizeof(uint32_t));
	for (size_t i = 0; i < idx->n; i++) {
		uint32_t pos = cursor[pdq_part(idx->hash[i], t)]++;
		tab->sk[pos] = pdq_sketch_of(idx->hash[i], t);
		tab->id[pos] = (uint32_t)i;
	}
}

enum cs_err pdq_index_create(const uint8_t (*hashes)[PDQ_HASH_BYTES], size_t n,
			     struct pdq_index **out, struct cs_diag *diag)
{
	enum cs_err err = CS_ERR_NOMEM;
	uint32_t *cursor = NULL;
	struct pdq_index *idx = NULL;
	*out = NULL;
	if (n > PDQ_INDEX_MAX_ENTRIES || (n && !hashes)) {
		cs_diag_set(diag, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "pdq index: %zu entries (max %u)",
			    n, PDQ_INDEX_MAX_ENTRIES);
		return n ? CS_ERR_LIMIT : CS_ERR_INVALID;
	}
	idx = calloc(1, sizeof(*idx));
	cursor = malloc(PDQ_PART_VALUES * sizeof(uint32_t));
	if (!idx || !cursor)
		goto out;
	size_t slots = n ? n : 1;
	idx->n = n;
	idx->hash = util_alloc_table(slots * sizeof(idx->hash[0]));
	idx->block_off = util_alloc_table((size_t)PDQ_PARTS * (PDQ_PART_VALUES + 1) * sizeof(uint32_t));
	idx->block_sk = util_alloc_table(PDQ_PARTS * slots * sizeof(struct pdq_sketch));
	idx->block_id = util_alloc_table(PDQ_PARTS * slots * sizeof(uint32_t));
	if (!idx->hash || !idx->block_off || !idx->block_sk || !idx->block_id)
		goto out;
	for (size_t i = 0; i < n; i++)
		pdq_words(hashes[i], idx->hash[i]);
	pdq_fill_masks(idx);
	for (unsigned t = 0; t < PDQ_PARTS; t++) {
		idx->tab[t].off = (uint32_t *)idx->block_off + (size_t)t * (PDQ_PART_VALUES + 1);
		idx->tab[t].sk = (struct pdq_sketch *)idx->block_sk + t * slots;
		idx->tab[t].id = (uint32_t *)idx->block_id + t * slots;
		pdq_build_table(idx, t, cursor);
	}
	__builtin_cpu_init();
	idx->use_popcnt = __builtin_cpu_supports("popcnt");
	*out = idx;
	idx = NULL;
	err = CS_OK;
out:
	if (err)
		cs_diag_set(diag, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "pdq index: out of memory for %zu entries", n);
	pdq_index_destroy(idx);
	free(cursor);
	return err;
}

void pdq_index_destroy(struct pdq_index *idx)
{
	if (!idx)
		return;
	free(idx->hash);
	free(idx->block_off);
	free(idx->block_sk);
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

/* A candidate passed the sketch: compare the full hash, and report it only
 * from the first table whose probe reaches it, so each entry comes once. */
static void pdq_verify(const struct pdq_index *idx, unsigned t, uint32_t id, const uint64_t q[4],
		       unsigned max_dist, unsigned r, struct pdq_scan *s)
{
	const uint64_t *w = idx->hash[id];
	unsigned d = 0;
	s->st.verified++;
	for (int i = 0; i < 4; i++)
		d += (unsigned)__builtin_popcountll(w[i] ^ q[i]);
	if (d > max_dist)
		return;
	for (unsigned j = 0; j < t; j++)
		if ((unsigned)__builtin_popcount(pdq_part(w, j) ^ pdq_part(q, j)) <= r)
			return;
	s->hits++;
	if (!s->fn(s->ctx, id, d))
		s->stop = true;
}

/* Probes are handled in batches of whole tables, in three passes so the
 * memory reads of a batch overlap instead of waiting one after another:
 * prefetch the bucket offsets, then read them and prefetch the sketches,
 * then compare. Tables are still compared in order (pdq_verify relies on
 * it). 1024 probes hold 16 tables at radius 1 (272) and one at radius 3. */
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
				const char *a = (const char *)&tab->sk[p->lo];
				const char *b = (const char *)&tab->sk[p->hi];
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
						     (unsigned)__builtin_popcountll(tab->sk[e].a ^ qs.a) +
						     (unsigned)__builtin_popcountll(tab->sk[e].b ^ qs.b);
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

__attribute__((target("popcnt"))) static void
pdq_query_popcnt(const struct pdq_index *idx, const uint64_t q[4], unsigned max_dist,
		 struct pdq_scan *s)
{
	pdq_query_body(idx, q, max_dist, s);
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
	if (idx->use_popcnt)
		pdq_query_popcnt(idx, q, max_dist, &s);
	else
		pdq_query_generic(idx, q, max_dist, &s);
	if (st) {
		st->probes += s.st.probes;
		st->candidates += s.st.candidates;
		st->verified += s.st.verified;
	}
	return s.hits;
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
