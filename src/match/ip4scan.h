/* Dotted-quad IPv4 candidates in text, found without the pattern engine.
 *
 * Logs hold an address (and timestamps, versions, sizes) on nearly every
 * line, and the engine's dotted-quad shape ran at half the rate of all the
 * other shapes together (bench/README.md, "Indicators at scale"). Block scans
 * look for addresses here instead: a vector search for a dot between two
 * digits, then the run of digits and dots around it is read once.
 *
 * A candidate is what the engine's shape (shape.c, SHAPE_IP4) reports and
 * confirm_ip() does not refuse on sight: a maximal run of digits and dots
 * that starts with four groups of one to three digits joined by dots, the
 * fourth group ending the run or followed by a dot that no digit follows.
 * The end offset of those four groups is reported, once per run. */
#ifndef CS_MATCH_IP4SCAN_H
#define CS_MATCH_IP4SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "match/vec_isa.h"

/* The start and end of the next candidate in buf[*pos, len) into *start
 * and *end, and *pos past the run that holds it; false (and *pos = len)
 * when there is none. *pos must be 0 or where an earlier call left it. */
bool ip4scan_next(const uint8_t *buf, size_t len, size_t *pos, size_t *start, size_t *end);

/* The same with the search loop chosen (for tests, vec_isa.h); false also
 * when the CPU lacks that one (and then *pos is unchanged). */
bool ip4scan_next_isa(const uint8_t *buf, size_t len, size_t *pos, size_t *start, size_t *end,
		      enum vec_isa isa);

/* ip4scan_next_isa() that also reads the candidate as an address: *parsed
 * tells whether it is one as ipset_parse4() reads it (no group over 255 or
 * with a leading zero), and addr then holds it. The masks of the search
 * give the groups, so most candidates are read without a loop. */
bool ip4scan_next_addr(const uint8_t *buf, size_t len, size_t *pos, size_t *start, size_t *end,
		       uint8_t addr[4], bool *parsed, enum vec_isa isa);

#endif
