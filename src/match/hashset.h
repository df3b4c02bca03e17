/* An open-addressing set of fixed-width binary keys (digests of 16, 20 or 32
 * bytes), each mapped to a 32-bit value.
 *
 * Keys are copied into one array, so an entry costs width + 4 bytes per slot
 * and the table stays at most 3/4 full. A bit filter (bitfilter.h, 2 bytes
 * a slot: 3 to 5 an entry) of the keys' first 8 bytes answers first: a text's hex token
 * that lists nothing is mostly turned away after decoding 16 of its hex
 * digits and one read, where the table's probes cost two or three cache
 * misses. Built by one thread, then read-only and shareable;
 * hashset_fini() frees everything. */
#ifndef CS_MATCH_HASHSET_H
#define CS_MATCH_HASHSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"

#define HASHSET_KEY_MAX 32
/* Upper bound on entries; past it hashset_put() returns CS_ERR_LIMIT. */
#define HASHSET_MAX_ENTRIES (1u << 28)

struct hashset {
	uint8_t *keys;  /* cap * width bytes */
	uint32_t *val;  /* value + 1 per slot; 0 = empty */
	size_t cap;     /* power of two, 0 before the first insertion */
	size_t n;
	unsigned width;
	uint64_t *filter; /* of the keys' first 8 bytes, by hashset_index() */
	unsigned filter_log2;
};

void hashset_init(struct hashset *s, unsigned width);
void hashset_fini(struct hashset *s);

/* Size the table for n entries up front (saves re-hashing while filling). */
enum cs_err hashset_reserve(struct hashset *s, size_t n);

/* Insert key -> value (value < UINT32_MAX). When the key is present nothing
 * changes and *prev (if not NULL) receives the stored value, *dup is true. */
enum cs_err hashset_put(struct hashset *s, const uint8_t *key, uint32_t value, bool *dup,
			uint32_t *prev);

/* True when key is present; *value (if not NULL) gets its value. */
bool hashset_get(const struct hashset *s, const uint8_t *key, uint32_t *value);

/* Build the filter once the keys are in (a later hashset_put() keeps it
 * up to date). CS_ERR_NOMEM. */
enum cs_err hashset_index(struct hashset *s);

/* False when no key begins with the 8 bytes at head (width >= 8); true
 * also when there is no filter. */
bool hashset_maybe(const struct hashset *s, const uint8_t *head);

/* Fetch into the cache what hashset_maybe() of head will read. */
void hashset_prefetch(const struct hashset *s, const uint8_t *head);

/* Bytes held by the table and the filter. */
size_t hashset_bytes(const struct hashset *s);

#endif
