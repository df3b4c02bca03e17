/* Front end: matcher and combination rules, refusing a pack whose rule is
 * in error as a whole (its other indicators would otherwise still match). */
#include "cli_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_common.h"

struct refusals {
	struct cli_rules *r;
	bool *drop;
	size_t n;
};

static void on_rule_refused(void *ctx, uint32_t pack_index, const struct cs_diag *d)
{
	struct refusals *rf = ctx;
	cli_on_refused(rf->r, pack_index, d);
	if (!rf->drop[pack_index])
		rf->n++;
	rf->drop[pack_index] = true;
}

static void on_engine_refused(void *ctx, size_t pack_index, const struct cs_diag *d)
{
	on_rule_refused(ctx, (uint32_t)pack_index, d);
}

static void drop_packs(struct cli_rules *r, const bool *drop)
{
	size_t o = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (drop[i])
			pack_destroy(r->packs[i]);
		else
			r->packs[o++] = r->packs[i];
	}
	r->n = o;
}

static int this_year(void)
{
	time_t now = time(NULL);
	struct tm tm;
	return gmtime_r(&now, &tm) ? tm.tm_year + 1900 : 1970;
}

int cli_build_matcher(struct cli_rules *r, bool strict, unsigned flags, struct matcher **m,
		      struct combo_set **combos, struct window_set **windows,
		      const struct window_limits *lim)
{
	*m = NULL;
	*combos = NULL;
	if (windows)
		*windows = NULL;
	for (;;) {
		struct cs_diag d;
		cs_diag_clear(&d);
		struct refusals rf = {r, calloc(r->n ? r->n : 1, sizeof(bool)), 0};
		/* A pack the pattern engine refused is dropped too: its indicators held
		 * in sets and its rules must not match either. */
		enum cs_err e = !rf.drop ? CS_ERR_NOMEM
					 : cli_rules_matcher(r, strict ? NULL : on_engine_refused, &rf,
							     flags, m, &d);
		if (e == CS_OK)
			e = combo_set_create(*m, strict ? NULL : on_rule_refused, &rf, combos, &d);
		if (e == CS_OK && windows)
			e = window_set_create(*m, lim, this_year(), strict ? NULL : on_rule_refused,
					      &rf, windows, &d);
		if (e != CS_OK) {
			combo_set_destroy(*combos);
			*combos = NULL;
			char tmp[1600];
			cs_diag_format(&d, tmp, sizeof(tmp));
			fprintf(stderr, "cybersieve: %s\n", d.msg[0] ? tmp : cs_err_str(e));
			free(rf.drop);
			matcher_destroy(*m);
			*m = NULL;
			return -1;
		}
		if (rf.n == 0) {
			free(rf.drop);
			return 0;
		}
		/* Rules of other packs may have named the dropped ones: judge again. */
		combo_set_destroy(*combos);
		*combos = NULL;
		if (windows) {
			window_set_destroy(*windows);
			*windows = NULL;
		}
		matcher_destroy(*m);
		*m = NULL;
		drop_packs(r, rf.drop);
		free(rf.drop);
	}
}
