/* Front end: from the gathered packs to a matcher and its rules. */
#ifndef CS_CLI_BUILD_H
#define CS_CLI_BUILD_H

#include <stdbool.h>

#include "cli_rules.h"
#include "correlate/combo.h"
#include "correlate/window_set.h"
#include "cybersieve/matcher.h"

/* Build the matcher (flags: MATCHER_BUILD_*), the combination rules and
 * the window rules (windows may be NULL: not wanted; lim NULL: defaults) of
 * r's packs. A pack with a rule in error is refused whole: it is reported,
 * dropped from r, and the matcher is built again without it (with strict,
 * the error is fatal instead). Returns 0, or -1 after printing why. */
int cli_build_matcher(struct cli_rules *r, bool strict, unsigned flags, struct matcher **m,
		      struct combo_set **combos, struct window_set **windows,
		      const struct window_limits *lim);

#endif
