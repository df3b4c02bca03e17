/* Private to match/: how an indicator becomes a Hyperscan expression and
 * how a raw engine hit is confirmed at the indicator's boundaries. */
#ifndef CS_MATCH_PATTERN_H
#define CS_MATCH_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"
#include "cybersieve/pack.h"

/* Build the expression and engine flags for ind. *expr is malloc'd.
 * *fixed_len is the exact match length for fixed-width types, 0 for regex. */
enum cs_err pattern_expr(const struct indicator *ind, char **expr, unsigned *hs_flags,
			 size_t *fixed_len);

/* True if a match of ind over buf[start, end) sits on the indicator's
 * boundaries (label, hex-token, address boundaries), and for a listed wallet
 * the text is a valid address. buf[0..len) is the whole chunk, which starts
 * and ends at line boundaries; start == end means the match's bytes are not
 * at hand (a stream), and only its boundaries are judged. */
bool pattern_confirm(const struct indicator *ind, const uint8_t *buf, size_t len, uint64_t start,
		     uint64_t end);

/* True if a URL ending at buf[end] ends there in the text: the next byte
 * would not continue its last segment, or it is one period (a sentence's
 * end) followed by such a byte or by the end. Reads at most two bytes. */
bool pattern_url_end_ok(const uint8_t *buf, size_t len, uint64_t end);

#endif
