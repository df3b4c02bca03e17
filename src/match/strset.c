/* Open-addressing string set with linear probing (see strset.h).
 * The set owns its slot array only; keys are borrowed from the caller. */
#include <stdlib.h>
#include <string.h>

#include "cybersieve/util.h"
#include "match/strset.h"

/* FNV-1a, then a final mix: the table index takes the low bits, and those
 * of plain FNV-1a cluster for numbered ids (h1, h2, ...), which made probe
 * runs long in packs of millions. */
static uint64_t strset_hash(const char *key, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

void strset_init(struct strset *s)
{
	s->slot = NULL;
	s->cap = 0;
	s->n = 0;
}

void strset_fini(struct strset *s)
{
	if (!s)
		return;
	free(s->slot);
	strset_init(s);
}

static struct strset_slot *strset_find(struct strset_slot *slot, size_t cap, uint64_t hash,
				       const char *key, size_t len)
{
	size_t mask = cap - 1;
	for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
		struct strset_slot *e = &slot[i];
		if (!e->key)
			return e;
		if (e->hash == hash && e->len == len && memcmp(e->key, key, len) == 0)
			return e;
	}
}

static enum cs_err strset_grow(struct strset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 64;
	struct strset_slot *slot = util_calloc_table(cap, sizeof(*slot));
	if (!slot)
		return CS_ERR_NOMEM;
	for (size_t i = 0; i < s->cap; i++) {
		struct strset_slot *e = &s->slot[i];
		if (e->key)
			*strset_find(slot, cap, e->hash, e->key, e->len) = *e;
	}
	free(s->slot);
	s->slot = slot;
	s->cap = cap;
	return CS_OK;
}

enum cs_err strset_add(struct strset *s, const char *key, size_t len, uint32_t value,
		       bool *dup, uint32_t *prev)
{
	*dup = false;
	/* Keep the load at or under one half so probes stay short. */
	if ((s->n + 1) * 2 > s->cap) {
		if (s->n >= STRSET_MAX_ENTRIES)
			return CS_ERR_LIMIT;
		enum cs_err err = strset_grow(s);
		if (err)
			return err;
	}
	uint64_t hash = strset_hash(key, len);
	struct strset_slot *e = strset_find(s->slot, s->cap, hash, key, len);
	if (e->key) {
		*dup = true;
		if (prev)
			*prev = e->value;
		return CS_OK;
	}
	e->key = key;
	e->len = len;
	e->hash = hash;
	e->value = value;
	s->n++;
	return CS_OK;
}

bool strset_get(const struct strset *s, const char *key, size_t len, uint32_t *value)
{
	if (!s->cap)
		return false;
	struct strset_slot *e = strset_find(s->slot, s->cap, strset_hash(key, len), key, len);
	if (!e->key)
		return false;
	if (value)
		*value = e->value;
	return true;
}
