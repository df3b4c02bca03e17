/* The window engine (window.h): per rule a table of keys, each holding its
 * qualifying records sorted by (time, arrival); a min-heap of keys by newest
 * record for eviction by age and by cap. A record is evaluated when it is
 * added: only windows that contain it can newly reach the aggregate, since
 * every other window was evaluated when its own records came. The exact
 * semantics are in docs/WINDOW_RULES.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "correlate/recfield.h"
#include "correlate/rectime.h"
#include "correlate/window_int.h"

#define NONE UINT32_MAX
#define ROLE_IN 0
#define ROLE_OUT 1
#define AUTO_TIME_FIELDS 5

static const char *const auto_time_names[AUTO_TIME_FIELDS] = { "ts", "time", "timestamp",
							       "@timestamp", "date" };

struct wrec {
	int64_t t;
	uint64_t seq;       /* arrival order of the line */
	uint64_t line, offset;
	uint32_t input, len;
	union {
		int64_t amount; /* sum: millionths */
		uint64_t vhash; /* distinct: hash of value */
	};
	char *value;        /* distinct: owned copy */
	uint32_t vlen;
	uint8_t role;       /* pass-through: ROLE_IN or ROLE_OUT */
};

struct wkey {
	struct wrec *rec;  /* sorted by (t, seq, role) */
	size_t n, cap;
	uint64_t hash;
	uint64_t ver;      /* version of its one valid heap entry; 0 once dropped */
	struct wkey *next_dead;
	size_t len;
	char key[];        /* NUL-terminated */
};

struct kslot {
	uint64_t hash;
	struct wkey *k;    /* NULL: empty */
};

/* A heap entry: a key's newest record as it was when pushed. The entry is
 * valid while ver equals the key's; older ones are discarded when they come
 * to the top or when the heap is compacted. Pushing the newest key, as in-
 * order input does, costs one comparison. */
struct hent {
	int64_t t;
	uint64_t seq;
	uint64_t ver;
	struct wkey *k;
};

/* Bytes a line must hold for a key field to be in it: "name" (JSON, the
 * last part of a dotted path) and name= (key=value). Lines without them are
 * passed over unparsed; CSV and Zeek records (named by their header) and
 * regex keys have no gate. */
struct gate {
	char json[RECFIELD_MAX_NAME + 3], kv[RECFIELD_MAX_NAME + 2];
	size_t json_len, kv_len; /* 0: no gate */
};

struct erule {
	const struct window_rule *r;
	char *id;
	struct gate gate[2];  /* key, or pass-through's in and out: either opens it */
	uint32_t f_key, f_time, f_field, f_in, f_out;
	uint32_t *f_cond;
	bool has_match;
	struct kslot *slot; /* open addressing, linear probing */
	size_t slot_cap, n_keys;
	struct hent *heap;
	size_t heap_n, heap_cap;
	uint64_t next_ver;
	struct wkey *dead;  /* dropped keys that stale heap entries may still name */
	bool clock_set;
	int64_t clock;
	struct window_rule_stats st;
};

struct dslot {
	uint64_t gen;
	const struct wrec *r;
	uint32_t count;
};

struct window_engine {
	struct erule *rule;
	size_t n_rules;
	struct window_limits lim;
	int syslog_year;
	struct recfield_set *fields;
	struct recfield_reader *reader;
	uint32_t f_auto[AUTO_TIME_FIELDS];
	bool uses_matches, in_input;
	uint64_t sip[2];
	uint64_t seq;
	const char *line;
	size_t len;
	/* Times of the current line, found once per field. */
	uint64_t line_gen;
	uint64_t time_gen[RECFIELD_MAX_FIELDS + 1];
	bool time_ok[RECFIELD_MAX_FIELDS + 1];
	int64_t time_val[RECFIELD_MAX_FIELDS + 1];
	/* Scratch: records of a fire; the multiset of distinct values. */
	struct window_fire_rec *fire;
	size_t fire_cap;
	struct dslot *dtab;
	size_t dcap;
	uint64_t dgen;
	struct window_stats st;
};

/* ---- hashing (SipHash-2-4, keyed per engine so keys cannot be chosen to collide) ---- */

#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                           \
	do {                                                                               \
		v0 += v1, v1 = ROTL(v1, 13), v1 ^= v0, v0 = ROTL(v0, 32);                  \
		v2 += v3, v3 = ROTL(v3, 16), v3 ^= v2;                                     \
		v0 += v3, v3 = ROTL(v3, 21), v3 ^= v0;                                     \
		v2 += v1, v1 = ROTL(v1, 17), v1 ^= v2, v2 = ROTL(v2, 32);                  \
	} while (0)

static uint64_t siphash(const uint64_t k[2], const char *p, size_t n)
{
	uint64_t v0 = k[0] ^ 0x736f6d6570736575ULL, v1 = k[1] ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k[0] ^ 0x6c7967656e657261ULL, v3 = k[1] ^ 0x7465646279746573ULL;
	const unsigned char *s = (const unsigned char *)p;
	size_t full = n & ~(size_t)7;
	for (size_t i = 0; i < full; i += 8) {
		uint64_t m = 0;
		for (int j = 7; j >= 0; j--)
			m = m << 8 | s[i + (size_t)j];
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	uint64_t b = (uint64_t)n << 56;
	for (size_t j = 0; j < (n & 7); j++)
		b |= (uint64_t)s[full + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- byte accounting ---- */

static void bytes_add(struct window_engine *e, size_t n)
{
	e->st.bytes_held += n;
	if (e->st.bytes_held > e->st.bytes_peak)
		e->st.bytes_peak = e->st.bytes_held;
}

static void bytes_sub(struct window_engine *e, size_t n)
{
	e->st.bytes_held -= n;
}

static size_t value_bytes(const struct wrec *x)
{
	return x->value ? x->vlen + 1 : 0;
}

static size_t key_struct_bytes(const struct wkey *k)
{
	return sizeof(*k) + k->len + 1;
}

/* ---- the heap of keys, oldest newest-record first ---- */

static bool hent_before(const struct hent *a, const struct hent *b)
{
	if (a->t != b->t)
		return a->t < b->t;
	if (a->seq != b->seq)
		return a->seq < b->seq;
	return a->ver < b->ver;
}

static void heap_up(struct hent *h, size_t pos)
{
	struct hent x = h[pos];
	while (pos > 0) {
		size_t parent = (pos - 1) / 2;
		if (!hent_before(&x, &h[parent]))
			break;
		h[pos] = h[parent];
		pos = parent;
	}
	h[pos] = x;
}

static void heap_down(struct hent *h, size_t n, size_t pos)
{
	struct hent x = h[pos];
	for (;;) {
		size_t c = 2 * pos + 1;
		if (c >= n)
			break;
		if (c + 1 < n && hent_before(&h[c + 1], &h[c]))
			c++;
		if (!hent_before(&h[c], &x))
			break;
		h[pos] = h[c];
		pos = c;
	}
	h[pos] = x;
}

static void heap_pop(struct erule *er)
{
	er->heap[0] = er->heap[--er->heap_n];
	if (er->heap_n)
		heap_down(er->heap, er->heap_n, 0);
}

static bool hent_valid(const struct hent *x)
{
	return x->ver == x->k->ver;
}

/* Free the dropped keys; only once no heap entry names them. */
static void dead_free(struct erule *er)
{
	while (er->dead) {
		struct wkey *k = er->dead;
		er->dead = k->next_dead;
		free(k);
	}
}

/* Keep only valid entries, re-heapify, free the dropped keys. */
static void heap_compact(struct erule *er)
{
	size_t n = 0;
	for (size_t i = 0; i < er->heap_n; i++)
		if (hent_valid(&er->heap[i]))
			er->heap[n++] = er->heap[i];
	er->heap_n = n;
	for (size_t i = n / 2; i-- > 0;)
		heap_down(er->heap, n, i);
	dead_free(er);
}

/* A new valid entry for k (whose newest record changed); the old one turns
 * stale. */
static enum cs_err heap_push(struct window_engine *e, struct erule *er, struct wkey *k)
{
	if (er->heap_n >= 2 * er->n_keys + 64)
		heap_compact(er);
	if (er->heap_n == er->heap_cap) {
		size_t cap = er->heap_cap ? er->heap_cap * 2 : 64;
		struct hent *h = realloc(er->heap, cap * sizeof(*h));
		if (!h)
			return CS_ERR_NOMEM;
		bytes_add(e, (cap - er->heap_cap) * sizeof(*h));
		er->heap = h;
		er->heap_cap = cap;
	}
	const struct wrec *x = &k->rec[k->n - 1];
	k->ver = ++er->next_ver;
	er->heap[er->heap_n] = (struct hent){ x->t, x->seq, k->ver, k };
	heap_up(er->heap, er->heap_n++);
	return CS_OK;
}

/* The valid top entry (stale ones on the way are discarded), or NULL. */
static const struct hent *heap_top(struct erule *er)
{
	while (er->heap_n && !hent_valid(&er->heap[0]))
		heap_pop(er);
	return er->heap_n ? &er->heap[0] : NULL;
}

/* ---- the key table ---- */

static size_t slot_of(const struct erule *er, const char *key, size_t len, uint64_t h)
{
	size_t mask = er->slot_cap - 1, i = h & mask;
	while (er->slot[i].k && !(er->slot[i].hash == h && er->slot[i].k->len == len &&
				  memcmp(er->slot[i].k->key, key, len) == 0))
		i = (i + 1) & mask;
	return i;
}

static struct wkey *key_find(const struct erule *er, const char *key, size_t len, uint64_t h)
{
	return er->slot_cap ? er->slot[slot_of(er, key, len, h)].k : NULL;
}

/* Room in the table for one more key. */
static enum cs_err slots_reserve(struct window_engine *e, struct erule *er)
{
	if ((er->n_keys + 1) * 4 <= er->slot_cap * 3)
		return CS_OK;
	size_t cap = er->slot_cap ? er->slot_cap * 2 : 64;
	struct kslot *s = calloc(cap, sizeof(*s));
	if (!s)
		return CS_ERR_NOMEM;
	struct kslot *old = er->slot;
	size_t old_cap = er->slot_cap;
	er->slot = s;
	er->slot_cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].k)
			s[slot_of(er, old[i].k->key, old[i].k->len, old[i].hash)] = old[i];
	free(old);
	bytes_add(e, (cap - old_cap) * sizeof(*s));
	return CS_OK;
}

static void slot_remove(struct erule *er, struct wkey *k)
{
	size_t mask = er->slot_cap - 1, i = slot_of(er, k->key, k->len, k->hash);
	/* Backward-shift deletion keeps every probe chain whole. */
	for (size_t j = (i + 1) & mask; er->slot[j].k; j = (j + 1) & mask) {
		size_t home = er->slot[j].hash & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			er->slot[i] = er->slot[j];
			i = j;
		}
	}
	er->slot[i].k = NULL;
}

static void recs_free(struct window_engine *e, struct wkey *k)
{
	for (size_t i = 0; i < k->n; i++) {
		bytes_sub(e, value_bytes(&k->rec[i]));
		free(k->rec[i].value);
	}
	bytes_sub(e, k->cap * sizeof(*k->rec));
	free(k->rec);
	k->rec = NULL;
	k->n = k->cap = 0;
}

/* Remove k from its rule. Its header waits on the dead list until no heap
 * entry can name it (the next compaction): those headers, at most one per
 * live key plus 64, are not counted in bytes_held. */
static void key_drop(struct window_engine *e, struct erule *er, struct wkey *k)
{
	slot_remove(er, k);
	recs_free(e, k);
	bytes_sub(e, key_struct_bytes(k));
	k->ver = 0;
	k->next_dead = er->dead;
	er->dead = k;
	er->n_keys--;
	er->st.keys = er->n_keys;
}

static struct wkey *key_new(struct window_engine *e, struct erule *er, const char *key,
			    size_t len, uint64_t h)
{
	if (slots_reserve(e, er) != CS_OK)
		return NULL;
	struct wkey *k = calloc(1, sizeof(*k) + len + 1);
	if (!k)
		return NULL;
	memcpy(k->key, key, len);
	k->len = len;
	k->hash = h;
	size_t i = slot_of(er, key, len, h);
	er->slot[i].hash = h;
	er->slot[i].k = k;
	er->n_keys++;
	er->st.keys = er->n_keys;
	bytes_add(e, key_struct_bytes(k));
	return k;
}

/* ---- records in a key ---- */

static bool rec_before(const struct wrec *a, const struct wrec *b)
{
	if (a->t != b->t)
		return a->t < b->t;
	if (a->seq != b->seq)
		return a->seq < b->seq;
	return a->role < b->role;
}

/* First index whose time is >= t. */
static size_t lower_bound(const struct wkey *k, int64_t t)
{
	size_t lo = 0, hi = k->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (k->rec[mid].t < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Remove rec[i..j) (their values freed). */
static void recs_remove(struct window_engine *e, struct wkey *k, size_t i, size_t j)
{
	for (size_t x = i; x < j; x++) {
		bytes_sub(e, value_bytes(&k->rec[x]));
		free(k->rec[x].value);
	}
	memmove(k->rec + i, k->rec + j, (k->n - j) * sizeof(*k->rec));
	k->n -= j - i;
}

/* Bytes that adding one record (of vbytes of value) to k may take. */
static size_t insert_need(const struct window_engine *e, const struct wkey *k, size_t klen,
			  size_t vbytes)
{
	size_t need = vbytes;
	if (!k)
		need += sizeof(struct wkey) + klen + 1 + 2 * sizeof(struct wrec);
	else if (k->n == k->cap && k->cap < e->lim.max_records + 1)
		need += k->cap * sizeof(struct wrec);
	return need;
}

static enum cs_err recs_reserve(struct window_engine *e, struct wkey *k)
{
	if (k->n < k->cap)
		return CS_OK;
	size_t cap = k->cap ? k->cap * 2 : 2;
	if (cap > e->lim.max_records + 1)
		cap = e->lim.max_records + 1;
	struct wrec *r = realloc(k->rec, cap * sizeof(*r));
	if (!r)
		return CS_ERR_NOMEM;
	bytes_add(e, (cap - k->cap) * sizeof(*r));
	k->rec = r;
	k->cap = cap;
	return CS_OK;
}

/* The oldest valid entry of er other than keep's, copied to *out (the top
 * is popped and pushed back when it is keep's). */
static bool oldest_of(struct erule *er, const struct wkey *keep, struct hent *out)
{
	const struct hent *top = heap_top(er);
	if (!top)
		return false;
	if (top->k != keep) {
		*out = *top;
		return true;
	}
	struct hent saved = *top;
	heap_pop(er);
	const struct hent *next = heap_top(er);
	if (next)
		*out = *next;
	er->heap[er->heap_n] = saved; /* room: one was just popped */
	heap_up(er->heap, er->heap_n++);
	return next != NULL;
}

/* The key to evict for room: the oldest of every rule other than `keep`;
 * between rules a tie goes to the first rule. */
static struct wkey *oldest_other(struct window_engine *e, const struct wkey *keep,
				 struct erule **owner)
{
	struct hent best = { 0 }, c;
	bool any = false;
	for (size_t r = 0; r < e->n_rules; r++) {
		struct erule *er = &e->rule[r];
		if (oldest_of(er, keep, &c) &&
		    (!any || c.t < best.t || (c.t == best.t && c.seq < best.seq))) {
			best = c;
			any = true;
			*owner = er;
		}
	}
	return any ? best.k : NULL;
}

/* Make room for `need` more bytes by evicting other keys; false when it
 * cannot be made. */
static bool make_room(struct window_engine *e, const struct wkey *keep, size_t need)
{
	while (e->st.bytes_held + need > e->lim.max_bytes) {
		struct erule *owner = NULL;
		struct wkey *victim = oldest_other(e, keep, &owner);
		if (!victim)
			return false;
		owner->st.evicted_cap++;
		key_drop(e, owner, victim);
	}
	return true;
}

static int64_t horizon(const struct erule *er)
{
	return er->clock - er->r->within_ms - er->r->slack_ms;
}

/* After k's records changed: drop it when empty, else give it a new heap
 * entry when its newest record is not the one its entry holds. */
static enum cs_err key_settle(struct window_engine *e, struct erule *er, struct wkey *k,
			      int64_t old_t, uint64_t old_seq)
{
	if (!k->n) {
		key_drop(e, er, k);
		return CS_OK;
	}
	const struct wrec *x = &k->rec[k->n - 1];
	if (k->ver && x->t == old_t && x->seq == old_seq)
		return CS_OK;
	return heap_push(e, er, k);
}

/* Add x to the rule's state under key[0..klen): evict for caps, drop
 * expired records, insert in order, apply max_records. *kout and *ix give
 * where x went; *kout is NULL when x was dropped. x->value is taken over. */
static enum cs_err add_record(struct window_engine *e, struct erule *er, const char *key,
			      size_t klen, struct wrec *x, struct wkey **kout, size_t *ix)
{
	*kout = NULL;
	uint64_t h = siphash(e->sip, key, klen);
	struct wkey *k = key_find(er, key, klen, h);
	if (!k && er->n_keys >= e->lim.max_keys) {
		const struct hent *top = heap_top(er);
		er->st.evicted_cap++;
		key_drop(e, er, top->k);
	}
	if (!make_room(e, k, insert_need(e, k, klen, value_bytes(x)))) {
		er->st.dropped++;
		free(x->value);
		return CS_OK;
	}
	if (!k && !(k = key_new(e, er, key, klen, h)))
		goto nomem;
	if (recs_reserve(e, k) != CS_OK) {
		if (!k->n)
			key_drop(e, er, k);
		goto nomem;
	}
	int64_t old_t = k->n ? k->rec[k->n - 1].t : 0;
	uint64_t old_seq = k->n ? k->rec[k->n - 1].seq : 0;
	recs_remove(e, k, 0, lower_bound(k, horizon(er)));
	size_t i = k->n;
	while (i > 0 && rec_before(x, &k->rec[i - 1]))
		i--;
	memmove(k->rec + i + 1, k->rec + i, (k->n - i) * sizeof(*k->rec));
	k->rec[i] = *x;
	k->n++;
	bytes_add(e, value_bytes(x));
	bool kept = true;
	if (k->n > e->lim.max_records) {
		er->st.dropped++;
		recs_remove(e, k, 0, 1);
		kept = i > 0;
		i -= kept;
	}
	if (key_settle(e, er, k, old_t, old_seq) != CS_OK) {
		e->st.nomem++;
		return CS_ERR_NOMEM;
	}
	if (kept) {
		*kout = k;
		*ix = i;
	}
	return CS_OK;
nomem:
	e->st.nomem++;
	free(x->value);
	return CS_ERR_NOMEM;
}

/* ---- firing ---- */

static enum cs_err fire_reserve(struct window_engine *e, size_t n)
{
	if (n <= e->fire_cap)
		return CS_OK;
	struct window_fire_rec *f = realloc(e->fire, n * sizeof(*f));
	if (!f)
		return CS_ERR_NOMEM;
	e->fire = f;
	e->fire_cap = n;
	return CS_OK;
}

/* Millionths as a decimal without trailing zeros. */
static void micro_text(__int128 v, char *out, size_t cap)
{
	char digits[48];
	size_t n = 0;
	bool neg = v < 0;
	unsigned __int128 u = neg ? (unsigned __int128)-v : (unsigned __int128)v;
	do {
		digits[n++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u || n < 7);
	size_t frac = 6;
	while (frac && digits[6 - frac] == '0')
		frac--;
	size_t k = 0;
	if (neg && k + 1 < cap)
		out[k++] = '-';
	for (size_t i = n; i > 6 && k + 1 < cap; i--)
		out[k++] = digits[i - 1];
	if (frac && k + 1 < cap)
		out[k++] = '.';
	for (size_t i = 0; i < frac && k + 1 < cap; i++)
		out[k++] = digits[5 - i];
	out[k] = '\0';
}

static void fire_put(struct window_engine *e, size_t i, const struct wrec *x)
{
	e->fire[i].ref = (struct window_ref){ x->input, x->line, x->offset, x->len };
	e->fire[i].time_ms = x->t;
}

/* Deliver the fire whose records are e->fire[0..n). */
static void deliver(struct window_engine *e, struct erule *er, const struct wkey *k, size_t n,
		    const char *value, window_fire_fn fire, void *user)
{
	struct window_fire f = {
		.rule = (uint32_t)(er - e->rule), .rule_id = er->id, .key = k->key,
		.key_len = k->len, .agg = er->r->agg, .start_ms = e->fire[0].time_ms,
		.end_ms = e->fire[n - 1].time_ms, .recs = e->fire, .n_recs = n,
	};
	snprintf(f.value, sizeof(f.value), "%s", value);
	er->st.fired++;
	if (fire)
		fire(user, &f);
}

/* ---- aggregates ---- */

static bool dist_same(const struct wrec *a, const struct wrec *b)
{
	return a->vhash == b->vhash && a->vlen == b->vlen && memcmp(a->value, b->value, a->vlen) == 0;
}

static struct dslot *dist_slot(struct window_engine *e, const struct wrec *x)
{
	size_t mask = e->dcap - 1, i = x->vhash & mask;
	while (e->dtab[i].gen == e->dgen && !dist_same(e->dtab[i].r, x))
		i = (i + 1) & mask;
	return &e->dtab[i];
}

/* Adds (+1) or removes (-1) x from the distinct multiset; returns the change
 * in the number of distinct values. */
static int dist_step(struct window_engine *e, const struct wrec *x, int delta)
{
	struct dslot *s = dist_slot(e, x);
	if (s->gen != e->dgen) {
		s->gen = e->dgen;
		s->r = x;
		s->count = 0;
	}
	uint32_t before = s->count;
	s->count = (uint32_t)((int64_t)s->count + delta);
	return (before == 0) - (s->count == 0);
}

static enum cs_err dist_reserve(struct window_engine *e, size_t n)
{
	size_t cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	if (cap > e->dcap) {
		struct dslot *t = calloc(cap, sizeof(*t));
		if (!t)
			return CS_ERR_NOMEM;
		free(e->dtab);
		e->dtab = t;
		e->dcap = cap;
		e->dgen = 0;
	}
	e->dgen++;
	return CS_OK;
}

struct agg_state {
	uint64_t distinct;
	__int128 sum;
	size_t negative; /* records with an amount below 0 in the window */
};

static void agg_step(struct window_engine *e, const struct window_rule *r, struct agg_state *a,
		     const struct wrec *x, int delta)
{
	if (r->agg == WINDOW_SUM) {
		a->sum += delta > 0 ? x->amount : -(__int128)x->amount;
		if (x->amount < 0)
			a->negative += (size_t)delta;
	}
	else if (r->agg == WINDOW_DISTINCT)
		a->distinct = (uint64_t)((int64_t)a->distinct + dist_step(e, x, delta));
}

static bool agg_met(const struct window_rule *r, const struct agg_state *a, size_t count)
{
	switch (r->agg) {
	case WINDOW_COUNT: return count >= r->min_n;
	case WINDOW_SUM: return a->sum >= r->min_sum;
	case WINDOW_DISTINCT: return a->distinct >= r->min_n;
	case WINDOW_PASSTHROUGH: break;
	}
	return false;
}

/* The first window (earliest start) holding rec[ix] that meets the
 * aggregate: rec[*wi..*wj). Windows start at the time of a record in
 * [t - within, t] and hold every record up to start + within. */
static bool agg_window(struct window_engine *e, const struct window_rule *r, struct wkey *k,
		       size_t ix, size_t *wi, size_t *wj, struct agg_state *a)
{
	int64_t t = k->rec[ix].t;
	size_t i = lower_bound(k, t - r->within_ms), j = i;
	while (i <= ix) {
		int64_t end = k->rec[i].t + r->within_ms;
		for (; j < k->n && k->rec[j].t <= end; j++)
			agg_step(e, r, a, &k->rec[j], 1);
		if (agg_met(r, a, j - i)) {
			*wi = i;
			*wj = j;
			return true;
		}
		/* Every later window is a part of this one: with no negative
		 * amount the aggregate can only be smaller there. */
		if (j == k->n && !a->negative)
			return false;
		int64_t start = k->rec[i].t;
		for (; i <= ix && k->rec[i].t == start; i++)
			agg_step(e, r, a, &k->rec[i], -1);
	}
	return false;
}

static enum cs_err agg_evaluate(struct window_engine *e, struct erule *er, struct wkey *k,
				size_t ix, window_fire_fn fire, void *user)
{
	const struct window_rule *r = er->r;
	struct agg_state a = { 0, 0, 0 };
	if (r->agg == WINDOW_DISTINCT && dist_reserve(e, k->n) != CS_OK)
		return CS_ERR_NOMEM;
	size_t wi, wj;
	if (!agg_window(e, r, k, ix, &wi, &wj, &a))
		return CS_OK;
	size_t n = wj - wi;
	if (fire_reserve(e, n) != CS_OK)
		return CS_ERR_NOMEM;
	for (size_t i = 0; i < n; i++)
		fire_put(e, i, &k->rec[wi + i]);
	char value[48];
	if (r->agg == WINDOW_SUM)
		micro_text(a.sum, value, sizeof(value));
	else
		snprintf(value, sizeof(value), "%llu",
			 (unsigned long long)(r->agg == WINDOW_COUNT ? n : a.distinct));
	deliver(e, er, k, n, value, fire, user);
	int64_t old_t = k->rec[k->n - 1].t;
	uint64_t old_seq = k->rec[k->n - 1].seq;
	recs_remove(e, k, wi, wj);
	return key_settle(e, er, k, old_t, old_seq);
}

/* ---- pass-through ---- */

/* A new IN at ix looks for the earliest OUT in [t, t + within]; a new OUT
 * for the earliest IN in [t - within, t]. Never the record itself. */
static enum cs_err pass_evaluate(struct window_engine *e, struct erule *er, struct wkey *k,
				 size_t ix, window_fire_fn fire, void *user)
{
	const struct wrec *x = &k->rec[ix];
	int64_t w = er->r->within_ms;
	bool in = x->role == ROLE_IN;
	size_t j = lower_bound(k, in ? x->t : x->t - w);
	int64_t last = in ? x->t + w : x->t;
	for (; j < k->n && k->rec[j].t <= last; j++)
		if (k->rec[j].role != x->role && k->rec[j].seq != x->seq)
			break;
	if (j == k->n || k->rec[j].t > last)
		return CS_OK;
	if (fire_reserve(e, 2) != CS_OK)
		return CS_ERR_NOMEM;
	fire_put(e, 0, &k->rec[in ? ix : j]);
	fire_put(e, 1, &k->rec[in ? j : ix]);
	deliver(e, er, k, 2, "2", fire, user);
	int64_t old_t = k->rec[k->n - 1].t;
	uint64_t old_seq = k->rec[k->n - 1].seq;
	size_t hi = ix > j ? ix : j, lo = ix > j ? j : ix;
	recs_remove(e, k, hi, hi + 1);
	recs_remove(e, k, lo, lo + 1);
	return key_settle(e, er, k, old_t, old_seq);
}

/* ---- one record, one rule ---- */

static bool get(struct window_engine *e, uint32_t f, const char **v, size_t *n)
{
	return f != NONE && recfield_get(e->reader, f, v, n);
}

static bool matches_hold(const struct window_rule *r, const char *const *matched, size_t n)
{
	for (size_t c = 0; c < r->n_cond; c++) {
		if (r->cond[c].op != WINDOW_OP_MATCH)
			continue;
		size_t i = 0;
		while (i < n && (!matched[i] || strcmp(matched[i], r->cond[c].value) != 0))
			i++;
		if (i == n)
			return false;
	}
	return true;
}

static bool conds_hold(struct window_engine *e, const struct erule *er)
{
	const struct window_rule *r = er->r;
	for (size_t c = 0; c < r->n_cond; c++) {
		const struct window_cond *wc = &r->cond[c];
		const char *v;
		size_t n;
		if (wc->op == WINDOW_OP_MATCH)
			continue;
		if (!get(e, er->f_cond[c], &v, &n))
			return false;
		if (wc->op == WINDOW_OP_RANGE) {
			int64_t x;
			if (!recfield_decimal(v, n, &x) || (wc->has_lo && x < wc->lo) ||
			    (wc->has_hi && x > wc->hi))
				return false;
			continue;
		}
		bool eq = n == wc->value_len && strncasecmp(v, wc->value, n) == 0;
		if (eq != (wc->op == WINDOW_OP_EQ))
			return false;
	}
	return true;
}

/* The record's time for rule er, found once per line and field. */
static bool record_time(struct window_engine *e, const struct erule *er, int64_t *t)
{
	size_t slot = er->f_time == NONE ? RECFIELD_MAX_FIELDS : er->f_time;
	if (e->time_gen[slot] != e->line_gen) {
		e->time_gen[slot] = e->line_gen;
		const char *v;
		size_t n;
		bool ok = false;
		if (er->f_time != NONE) {
			ok = get(e, er->f_time, &v, &n) &&
			     rectime_value(v, n, e->syslog_year, &e->time_val[slot]);
		} else {
			for (size_t i = 0; i < AUTO_TIME_FIELDS && !ok; i++)
				ok = get(e, e->f_auto[i], &v, &n) &&
				     rectime_value(v, n, e->syslog_year, &e->time_val[slot]);
			if (!ok)
				ok = rectime_line(e->line, e->len, e->syslog_year, &e->time_val[slot]);
		}
		e->time_ok[slot] = ok;
	}
	*t = e->time_val[slot];
	return e->time_ok[slot];
}

/* Late check and clock: false when the record is late. */
static bool clock_take(struct window_engine *e, struct erule *er, int64_t t)
{
	if (er->clock_set && t < er->clock - er->r->slack_ms) {
		er->st.late++;
		return false;
	}
	if (er->clock_set && t <= er->clock)
		return true;
	er->clock = t;
	er->clock_set = true;
	int64_t h = horizon(er);
	const struct hent *top;
	while ((top = heap_top(er)) && top->t < h) {
		er->st.evicted_age++;
		key_drop(e, er, top->k);
	}
	return true;
}

/* One role of the record under one key: add it and evaluate. */
static enum cs_err take(struct window_engine *e, struct erule *er, const char *key, size_t klen,
			struct wrec *x, window_fire_fn fire, void *user)
{
	struct wkey *k;
	size_t ix;
	enum cs_err err = add_record(e, er, key, klen, x, &k, &ix);
	if (err != CS_OK || !k)
		return err;
	if (er->r->agg == WINDOW_PASSTHROUGH)
		err = pass_evaluate(e, er, k, ix, fire, user);
	else
		err = agg_evaluate(e, er, k, ix, fire, user);
	if (err == CS_ERR_NOMEM)
		e->st.nomem++;
	return err;
}

static enum cs_err rule_feed(struct window_engine *e, struct erule *er,
			     const struct window_ref *ref, window_fire_fn fire, void *user)
{
	const struct window_rule *r = er->r;
	if (!conds_hold(e, er))
		return CS_OK;
	const char *k1 = NULL, *k2 = NULL, *v = NULL;
	size_t n1 = 0, n2 = 0, vn = 0;
	struct wrec x = { .seq = e->seq, .line = ref->line, .offset = ref->offset,
			  .input = ref->input, .len = ref->len };
	if (r->agg == WINDOW_PASSTHROUGH) {
		bool has_in = get(e, er->f_in, &k1, &n1), has_out = get(e, er->f_out, &k2, &n2);
		if (!has_in && !has_out)
			return CS_OK;
		if ((has_in && n1 > WINDOW_MAX_VALUE) || (has_out && n2 > WINDOW_MAX_VALUE)) {
			er->st.oversize++;
			return CS_OK;
		}
		if (!has_in)
			k1 = NULL;
		if (!has_out)
			k2 = NULL;
	} else {
		if (!get(e, er->f_key, &k1, &n1))
			return CS_OK;
		if (r->agg == WINDOW_SUM &&
		    !(get(e, er->f_field, &v, &vn) && recfield_decimal(v, vn, &x.amount)))
			return CS_OK;
		if (r->agg == WINDOW_DISTINCT && !get(e, er->f_field, &v, &vn))
			return CS_OK;
		if (n1 > WINDOW_MAX_VALUE || (r->agg == WINDOW_DISTINCT && vn > WINDOW_MAX_VALUE)) {
			er->st.oversize++;
			return CS_OK;
		}
	}
	if (!record_time(e, er, &x.t)) {
		er->st.no_time++;
		return CS_OK;
	}
	er->st.qualified++;
	if (!clock_take(e, er, x.t))
		return CS_OK;
	if (r->agg == WINDOW_PASSTHROUGH) {
		enum cs_err err = CS_OK, err2 = CS_OK;
		struct wrec y = x;
		if (k1) {
			x.role = ROLE_IN;
			err = take(e, er, k1, n1, &x, fire, user);
		}
		if (k2) {
			y.role = ROLE_OUT;
			err2 = take(e, er, k2, n2, &y, fire, user);
		}
		return err != CS_OK ? err : err2;
	}
	if (r->agg == WINDOW_DISTINCT) {
		if (!(x.value = malloc(vn + 1))) {
			e->st.nomem++;
			return CS_ERR_NOMEM;
		}
		memcpy(x.value, v, vn);
		x.value[vn] = '\0';
		x.vlen = (uint32_t)vn;
		x.vhash = siphash(e->sip, v, vn);
	}
	return take(e, er, k1, n1, &x, fire, user);
}

static void gate_init(struct gate *g, const char *spec, size_t len)
{
	g->json_len = g->kv_len = 0;
	if (!spec || len == 0 || len > RECFIELD_MAX_NAME || (len > 3 && memcmp(spec, "re:", 3) == 0))
		return;
	/* A dotted name may be one key that holds dots (Zeek's "id.orig_h") or
	 * a path: no gate for it. */
	if (memchr(spec, '.', len))
		return;
	const char *last = spec + len;
	while (last > spec && last[-1] != '.')
		last--;
	size_t ln = (size_t)(spec + len - last);
	g->json[0] = '"';
	memcpy(g->json + 1, last, ln);
	g->json[ln + 1] = '"';
	g->json_len = ln + 2;
	memcpy(g->kv, spec, len);
	g->kv[len] = '=';
	g->kv_len = len + 1;
}

/* Can the current record hold rule er's key? (JSON keys written with escapes
 * are not looked for: such lines are always parsed.) */
static bool gate_open(const struct erule *er, enum recfield_format fmt, const char *line,
		      size_t len, bool escapes)
{
	if (fmt == RECFIELD_CSV || fmt == RECFIELD_ZEEK)
		return true;
	size_t n = er->r->agg == WINDOW_PASSTHROUGH ? 2 : 1;
	for (size_t i = 0; i < n; i++) {
		const struct gate *g = &er->gate[i];
		if (fmt == RECFIELD_JSON ? (g->json_len == 0 || escapes ||
					    memmem(line, len, g->json, g->json_len))
					 : (g->kv_len == 0 || memmem(line, len, g->kv, g->kv_len)))
			return true;
	}
	return false;
}

enum cs_err window_feed(struct window_engine *e, const char *line, size_t len,
			const struct window_ref *ref, const char *const *matched, size_t n_matched,
			window_fire_fn fire, void *user)
{
	if (!e || !e->in_input || !ref || (!line && len))
		return CS_ERR_INVALID;
	e->st.lines++;
	if (recfield_reader_line(e->reader, line, len) != RECFIELD_RECORD)
		return CS_OK;
	e->st.records++;
	e->seq++;
	e->line_gen++;
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	e->line = line;
	e->len = len;
	enum recfield_format fmt = recfield_reader_format(e->reader);
	bool escapes = fmt == RECFIELD_JSON && memchr(line, '\\', len) != NULL;
	enum cs_err result = CS_OK;
	for (size_t i = 0; i < e->n_rules; i++) {
		struct erule *er = &e->rule[i];
		if (er->has_match && !matches_hold(er->r, matched, matched ? n_matched : 0))
			continue;
		if (!gate_open(er, fmt, line, len, escapes))
			continue; /* the key cannot be in this record */
		enum cs_err err = rule_feed(e, er, ref, fire, user);
		if (err != CS_OK)
			result = err;
	}
	return result;
}

/* ---- life cycle ---- */

void window_limits_default(struct window_limits *l)
{
	l->max_keys = WINDOW_DEFAULT_MAX_KEYS;
	l->max_records = WINDOW_DEFAULT_MAX_RECORDS;
	l->max_bytes = WINDOW_DEFAULT_MAX_BYTES;
}

static enum cs_err add_field(struct window_engine *e, const char *spec, size_t len,
			     uint32_t *index, size_t rule, const char *id, struct cs_diag *d)
{
	*index = NONE;
	if (!spec)
		return CS_OK;
	struct cs_diag sub;
	cs_diag_clear(&sub);
	enum cs_err err = recfield_set_add(e->fields, spec, len, index, &sub);
	if (err != CS_OK)
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "window rule %zu (%s): %s", rule,
			    id, sub.msg[0] ? sub.msg : cs_err_str(err));
	return err;
}

static enum cs_err rule_init(struct window_engine *e, size_t i, const struct window_rule *r,
			     const char *id, struct cs_diag *d)
{
	struct erule *er = &e->rule[i];
	er->r = r;
	if (!(er->id = strdup(id ? id : "")))
		return CS_ERR_NOMEM;
	if ((r->agg == WINDOW_COUNT || r->agg == WINDOW_DISTINCT) && r->min_n > e->lim.max_records) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "window rule %zu (%s): threshold %llu above max_records %zu", i, er->id,
			    (unsigned long long)r->min_n, e->lim.max_records);
		return CS_ERR_INVALID;
	}
	if (r->agg == WINDOW_PASSTHROUGH && e->lim.max_records < 2) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "window rule %zu (%s): passthrough needs max_records >= 2", i, er->id);
		return CS_ERR_INVALID;
	}
	enum cs_err err;
	if ((err = add_field(e, r->key, r->key_len, &er->f_key, i, er->id, d)) ||
	    (err = add_field(e, r->time, r->time_len, &er->f_time, i, er->id, d)) ||
	    (err = add_field(e, r->field, r->field_len, &er->f_field, i, er->id, d)) ||
	    (err = add_field(e, r->in, r->in_len, &er->f_in, i, er->id, d)) ||
	    (err = add_field(e, r->out, r->out_len, &er->f_out, i, er->id, d)))
		return err;
	if (r->n_cond && !(er->f_cond = calloc(r->n_cond, sizeof(*er->f_cond))))
		return CS_ERR_NOMEM;
	for (size_t c = 0; c < r->n_cond; c++) {
		if (r->cond[c].op == WINDOW_OP_MATCH)
			er->has_match = true;
		err = add_field(e, r->cond[c].field, r->cond[c].field_len, &er->f_cond[c], i, er->id,
				d);
		if (err != CS_OK)
			return err;
	}
	e->uses_matches |= er->has_match;
	gate_init(&er->gate[0], r->agg == WINDOW_PASSTHROUGH ? r->in : r->key,
		  r->agg == WINDOW_PASSTHROUGH ? r->in_len : r->key_len);
	if (r->agg == WINDOW_PASSTHROUGH)
		gate_init(&er->gate[1], r->out, r->out_len);
	return CS_OK;
}

enum cs_err window_engine_create(const struct window_rule *const *rules, const char *const *ids,
				 size_t n, const struct window_limits *lim, int syslog_year,
				 struct window_engine **out, struct cs_diag *d)
{
	if (!out || (n && !rules))
		return CS_ERR_INVALID;
	*out = NULL;
	struct window_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return CS_ERR_NOMEM;
	if (lim)
		e->lim = *lim;
	else
		window_limits_default(&e->lim);
	e->syslog_year = syslog_year;
	enum cs_err err = CS_ERR_NOMEM;
	if (!e->lim.max_keys || !e->lim.max_records || !e->lim.max_bytes) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "window limits must not be 0");
		err = CS_ERR_INVALID;
		goto fail;
	}
	if (n && !(e->rule = calloc(n, sizeof(*e->rule))))
		goto fail;
	if ((err = recfield_set_create(&e->fields)) != CS_OK)
		goto fail;
	bool auto_time = false;
	for (size_t i = 0; i < n; i++) {
		e->n_rules = i + 1;
		if (!rules[i]) {
			err = CS_ERR_INVALID;
			goto fail;
		}
		if ((err = rule_init(e, i, rules[i], ids ? ids[i] : NULL, d)) != CS_OK)
			goto fail;
		auto_time |= !rules[i]->time;
	}
	for (size_t i = 0; i < AUTO_TIME_FIELDS; i++) {
		e->f_auto[i] = NONE;
		if (auto_time && (err = add_field(e, auto_time_names[i], strlen(auto_time_names[i]),
						  &e->f_auto[i], 0, "time", d)) != CS_OK)
			goto fail;
	}
	if ((err = recfield_reader_create(e->fields, &e->reader)) != CS_OK)
		goto fail;
	while (getrandom(e->sip, sizeof(e->sip), 0) != (ssize_t)sizeof(e->sip))
		;
	*out = e;
	return CS_OK;
fail:
	window_engine_destroy(e);
	return err;
}

void window_engine_destroy(struct window_engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n_rules; i++) {
		struct erule *er = &e->rule[i];
		for (size_t j = 0; j < er->slot_cap; j++)
			if (er->slot[j].k) {
				recs_free(e, er->slot[j].k);
				free(er->slot[j].k);
			}
		dead_free(er);
		free(er->slot);
		free(er->heap);
		free(er->f_cond);
		free(er->id);
	}
	free(e->rule);
	recfield_reader_destroy(e->reader);
	recfield_set_destroy(e->fields);
	free(e->fire);
	free(e->dtab);
	free(e);
}

bool window_engine_uses_matches(const struct window_engine *e)
{
	return e && e->uses_matches;
}

static void input_reset(struct window_engine *e)
{
	recfield_reader_reset(e->reader);
	for (size_t i = 0; i < e->n_rules; i++)
		e->rule[i].clock_set = false;
}

void window_input_begin(struct window_engine *e, uint32_t input)
{
	(void)input;
	input_reset(e);
	e->in_input = true;
}

void window_input_end(struct window_engine *e)
{
	input_reset(e);
	e->in_input = false;
}

void window_engine_stats(const struct window_engine *e, struct window_stats *st)
{
	*st = e->st;
}

void window_engine_rule_stats(const struct window_engine *e, size_t i,
			      struct window_rule_stats *st)
{
	if (i < e->n_rules)
		*st = e->rule[i].st;
	else
		memset(st, 0, sizeof(*st));
}
