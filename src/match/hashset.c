/* Open-addressing set of fixed-width binary keys (hashset.h). Linear probing
 * over a power-of-two table; the keys are digests, so their own first bytes,
 * mixed once, are a good hash. Single-threaded while built, read-only after. */
#include <stdlib.h>
#include <string.h>

#include "cybersieve/util.h"
#include "match/bitfilter.h"
#include "match/hashset.h"

static uint64_t key_hash(const uint8_t *k, unsigned width)
{
	uint64_t h = 0;
	memcpy(&h, k, width < 8 ? width : 8);
	/* Finaliser of splitmix64: a key set chosen to collide costs more than
	 * listing digests does, and structured keys still spread. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

void hashset_init(struct hashset *s, unsigned width)
{
	memset(s, 0, sizeof(*s));
	s->width = width;
}

void hashset_fini(struct hashset *s)
{
	free(s->keys);
	free(s->val);
	free(s->filter);
	unsigned w = s->width;
	memset(s, 0, sizeof(*s));
	s->width = w;
}

/* Slot holding key, or the empty slot where it would go. */
static size_t probe(const struct hashset *s, const uint8_t *key)
{
	size_t mask = s->cap - 1;
	size_t i = (size_t)key_hash(key, s->width) & mask;
	while (s->val[i] && memcmp(s->keys + i * s->width, key, s->width) != 0)
		i = (i + 1) & mask;
	return i;
}

static enum cs_err rehash(struct hashset *s, size_t cap)
{
	struct hashset t = {.cap = cap, .width = s->width, .filter = s->filter,
			    .filter_log2 = s->filter_log2};
	t.keys = util_alloc_table(cap * s->width);
	t.val = util_calloc_table(cap, sizeof(*t.val));
	if (!t.keys || !t.val) {
		free(t.keys);
		free(t.val);
		return CS_ERR_NOMEM;
	}
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->val[i])
			continue;
		size_t j = probe(&t, s->keys + i * s->width);
		memcpy(t.keys + j * s->width, s->keys + i * s->width, s->width);
		t.val[j] = s->val[i];
	}
	t.n = s->n;
	free(s->keys);
	free(s->val);
	*s = t;
	return CS_OK;
}

enum cs_err hashset_reserve(struct hashset *s, size_t n)
{
	if (n > HASHSET_MAX_ENTRIES)
		return CS_ERR_LIMIT;
	size_t cap = s->cap ? s->cap : 64;
	while (n * 4 > cap * 3)
		cap *= 2;
	return cap > s->cap ? rehash(s, cap) : CS_OK;
}

enum cs_err hashset_put(struct hashset *s, const uint8_t *key, uint32_t value, bool *dup,
			uint32_t *prev)
{
	if (!s->width || s->width > HASHSET_KEY_MAX || value == UINT32_MAX)
		return CS_ERR_INVALID;
	if (dup)
		*dup = false;
	if ((s->n + 1) * 4 > s->cap * 3) {
		if (s->n >= HASHSET_MAX_ENTRIES)
			return CS_ERR_LIMIT;
		enum cs_err e = rehash(s, s->cap ? s->cap * 2 : 64);
		if (e != CS_OK)
			return e;
	}
	size_t i = probe(s, key);
	if (s->val[i]) {
		if (dup)
			*dup = true;
		if (prev)
			*prev = s->val[i] - 1;
		return CS_OK;
	}
	memcpy(s->keys + i * s->width, key, s->width);
	s->val[i] = value + 1;
	s->n++;
	if (s->filter)
		bitfilter_add(s->filter, s->filter_log2, key_hash(key, s->width));
	return CS_OK;
}

enum cs_err hashset_index(struct hashset *s)
{
	free(s->filter);
	s->filter = NULL;
	if (s->n == 0)
		return CS_OK;
	/* Sized for the table's capacity, so that puts up to it keep the rate. */
	unsigned lg = bitfilter_log2(s->cap * 3 / 4);
	uint64_t *f = util_calloc_table(bitfilter_words(lg), sizeof(uint64_t));
	if (!f)
		return CS_ERR_NOMEM;
	for (size_t i = 0; i < s->cap; i++)
		if (s->val[i])
			bitfilter_add(f, lg, key_hash(s->keys + i * s->width, s->width));
	s->filter = f;
	s->filter_log2 = lg;
	return CS_OK;
}

bool hashset_maybe(const struct hashset *s, const uint8_t *head)
{
	return !s->filter || bitfilter_maybe(s->filter, s->filter_log2, key_hash(head, 8));
}

void hashset_prefetch(const struct hashset *s, const uint8_t *head)
{
	if (s->filter)
		__builtin_prefetch(&s->filter[bitfilter_word(key_hash(head, 8), s->filter_log2)]);
}

bool hashset_get(const struct hashset *s, const uint8_t *key, uint32_t *value)
{
	if (!s->cap)
		return false;
	size_t i = probe(s, key);
	if (!s->val[i])
		return false;
	if (value)
		*value = s->val[i] - 1;
	return true;
}

size_t hashset_bytes(const struct hashset *s)
{
	return s->cap * (s->width + sizeof(*s->val)) +
	       (s->filter ? bitfilter_words(s->filter_log2) * sizeof(uint64_t) : 0);
}
