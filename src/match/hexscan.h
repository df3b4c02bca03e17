/* Hex digest candidates in text, found without the pattern engine.
 *
 * The engine's digest shapes ([0-9A-Fa-f]{32}, {40}, {64}) report every end
 * inside a long hex run, and together they held a block scan to about half
 * its rate on logs (bench/README.md, "Indicators at scale"). Block scans
 * look for digests here instead: a vector search for 16 hex digits in a
 * row (a run of 32 or more holds such a block wherever it starts), then the
 * run around it is read once.
 *
 * A candidate is what shapes_confirm() looks up: a maximal run of hex digits
 * (0-9, a-f, A-F; the buffer's ends bound a run) whose length is one of the
 * widths asked for. Its end offset is reported, once per run. */
#ifndef CS_MATCH_HEXSCAN_H
#define CS_MATCH_HEXSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "match/vec_isa.h"

/* Widths asked for, as bits. */
#define HEXSCAN_W32 0x1u /* md5 */
#define HEXSCAN_W40 0x2u /* sha1 */
#define HEXSCAN_W64 0x4u /* sha256, pdq */

/* The end and width of the next candidate in buf[*pos, len) into *end and
 * *width, and *pos past the run that holds it; false (and *pos = len) when
 * there is none. *pos must be 0 or where an earlier call left it. */
bool hexscan_next(const uint8_t *buf, size_t len, unsigned widths, size_t *pos, size_t *end,
		  size_t *width);

/* The same with the search loop chosen (for tests, vec_isa.h); false also
 * when the CPU lacks that one (and then *pos is unchanged). */
bool hexscan_next_isa(const uint8_t *buf, size_t len, unsigned widths, size_t *pos,
		      size_t *end, size_t *width, enum vec_isa isa);

#endif
