/* Optimal-string-alignment distance with an early stop (edit_distance.h).
 * Three rows of the dynamic programme live on the stack. */
#include <string.h>

#include "correlate/edit_distance.h"

static unsigned min3(unsigned a, unsigned b, unsigned c)
{
	unsigned m = a < b ? a : b;
	return m < c ? m : c;
}

unsigned edit_distance_osa(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
			   unsigned max)
{
	size_t diff = alen > blen ? alen - blen : blen - alen;
	if (diff > max)
		return max + 1;
	if (alen > EDIT_DISTANCE_MAX_LEN || blen > EDIT_DISTANCE_MAX_LEN)
		return alen == blen && memcmp(a, b, alen) == 0 ? 0 : max + 1;
	if (alen == 0 || blen == 0)
		return (unsigned)(alen + blen);

	uint16_t rows[3][EDIT_DISTANCE_MAX_LEN + 1];
	uint16_t *two = rows[0], *prev = rows[1], *cur = rows[2];
	for (size_t j = 0; j <= blen; j++)
		prev[j] = (uint16_t)j;
	/* A cell of row i+1 comes from row i or, by a swap, row i-1: once both
	 * rows exceed max, every later one does too. */
	unsigned prev_min = 0;
	for (size_t i = 1; i <= alen; i++) {
		cur[0] = (uint16_t)i;
		unsigned row_min = i;
		for (size_t j = 1; j <= blen; j++) {
			unsigned cost = a[i - 1] != b[j - 1];
			unsigned v = min3(prev[j] + 1u, cur[j - 1] + 1u, prev[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    two[j - 2] + 1u < v)
				v = two[j - 2] + 1u;
			cur[j] = (uint16_t)v;
			if (v < row_min)
				row_min = v;
		}
		if (row_min > max && prev_min > max)
			return max + 1;
		prev_min = row_min;
		uint16_t *t = two;
		two = prev;
		prev = cur;
		cur = t;
	}
	return prev[blen] <= max ? prev[blen] : max + 1;
}
