/* Bounded edit distance between two short byte strings (domain labels and
 * their confusable skeletons). Stateless and allocation-free: any thread may
 * call it at any time. */
#ifndef CS_CORRELATE_EDIT_DISTANCE_H
#define CS_CORRELATE_EDIT_DISTANCE_H

#include <stddef.h>
#include <stdint.h>

/* Longest string compared cell by cell; longer ones only compare equal or not. */
#define EDIT_DISTANCE_MAX_LEN 255

/* Optimal-string-alignment distance between a and b: insertions, deletions,
 * substitutions and swaps of two adjacent bytes each cost 1 (so "mircosoft"
 * is at distance 1 of "microsoft"). Returns the distance when it is at most
 * max, else max + 1; it stops as soon as the bound is certain to be passed.
 * A string longer than EDIT_DISTANCE_MAX_LEN gives 0 when both are equal,
 * else max + 1. a and b may be NULL when their length is 0. */
unsigned edit_distance_osa(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
			   unsigned max);

#endif
