/* A small open-addressing set of byte strings, each with a 32-bit value.
 *
 * Used where a loader must spot duplicates among many keys in one pass
 * (pack ids). Keys are borrowed: the set stores the pointer, so each key
 * must stay valid and unchanged until strset_fini(). A set belongs to one
 * thread at a time. */
#ifndef CS_MATCH_STRSET_H
#define CS_MATCH_STRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"

/* Upper bound on entries; past it strset_add() returns CS_ERR_LIMIT. */
#define STRSET_MAX_ENTRIES (1u << 26)

struct strset_slot {
	const char *key; /* NULL: empty slot */
	size_t len;
	uint64_t hash;
	uint32_t value;
};

struct strset {
	struct strset_slot *slot;
	size_t cap; /* power of two, or 0 before the first insertion */
	size_t n;
};

void strset_init(struct strset *s);
void strset_fini(struct strset *s);

/* Insert key with value. When the key is already present nothing changes,
 * *dup is set true and *prev receives the stored value (prev may be NULL). */
enum cs_err strset_add(struct strset *s, const char *key, size_t len, uint32_t value,
		       bool *dup, uint32_t *prev);

/* Look a key up; true when present (then *value, if not NULL, is set). */
bool strset_get(const struct strset *s, const char *key, size_t len, uint32_t *value);

#endif
