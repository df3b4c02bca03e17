/* The window rules of a matcher's packs, parsed, with the engine that holds
 * their state for one run.
 *
 * Built by the front end from the `window` indicators of the matcher; owned
 * by its creator. The engine inside belongs to the one thread that feeds it
 * (the batch emitter); the rest is read-only. */
#ifndef CS_CORRELATE_WINDOW_SET_H
#define CS_CORRELATE_WINDOW_SET_H

#include <stddef.h>
#include <stdint.h>

#include "correlate/combo.h"
#include "correlate/window.h"
#include "cybersieve/matcher.h"

struct window_set {
	struct window_rule **rules;
	char **ids;           /* the rules' indicator ids */
	uint32_t *ind;        /* per rule: matcher index of its indicator */
	size_t n;
	/* Per matcher indicator that a match:ID condition names: "pack/id", the
	 * name window_feed is given when it matched; NULL for the others (and
	 * the whole array NULL when no rule has such a condition). */
	char **match_name;
	size_t n_ind;         /* indicators of the matcher */
	struct window_engine *eng;
};

/* Parse every window indicator of m and make the engine. A match:ID
 * condition names an indicator of the rule's own pack, or PACK/ID of
 * another; an id that no loaded pack has refuses the rule's pack. (lim NULL: the
 * defaults; syslog_year as in window_engine_create). A rule in error calls
 * refused (pack refused, rule left out), or fails with CS_ERR_PARSE and d set
 * (file:line) when refused is NULL. *out stays NULL when m holds no window
 * rule. */
enum cs_err window_set_create(const struct matcher *m, const struct window_limits *lim,
			      int syslog_year, combo_refused_fn refused, void *ctx,
			      struct window_set **out, struct cs_diag *d);
void window_set_destroy(struct window_set *ws);

#endif
