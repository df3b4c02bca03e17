/* Colon-hex IPv6 candidates in text, found without the pattern engine.
 *
 * The engine's IPv6 shape starts a match at every hex digit, so it cost a
 * block scan of logs about as much as all the digest shapes together, even
 * on logs that hold no IPv6 address at all (bench/README.md, "Indicators at
 * scale"). Block scans look for addresses here instead: a vector search for
 * a 64-byte block with "::" in it, or with seven colons in it and the block
 * before (every address without "::" has eight groups); the runs of hex
 * digits and colons through that block's colons are then read once.
 *
 * A candidate is what the engine's shape (shape.c, SHAPE_IP6) reports and
 * confirm_ip() does not refuse on sight: the end of a maximal run of hex
 * digits and colons where some part of the run ending there is written as
 * "::" H{0,4} (":" H{1,4}){0,6} or H{1,4} (":" H{1,4}){7}, H a hex digit. The
 * end is reported once per run. */
#ifndef CS_MATCH_IP6SCAN_H
#define CS_MATCH_IP6SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "match/vec_isa.h"

/* The end of the next candidate in buf[*pos, len) into *end, and *pos past
 * the run that holds it; false (and *pos = len) when there is none. *pos must
 * be 0 or where an earlier call left it. */
bool ip6scan_next(const uint8_t *buf, size_t len, size_t *pos, size_t *end);

/* The same with the search loop chosen (for tests, vec_isa.h); false also
 * when the CPU lacks that one (and then *pos is unchanged). */
bool ip6scan_next_isa(const uint8_t *buf, size_t len, size_t *pos, size_t *end,
		      enum vec_isa isa);

#endif
