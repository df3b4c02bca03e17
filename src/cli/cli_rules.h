/* Front end: gathering indicator packs from --rules, -e and -f. */
#ifndef CS_CLI_RULES_H
#define CS_CLI_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "cybersieve/matcher.h"
#include "cybersieve/pack.h"
#include "cybersieve/summary.h"

struct cli_rules {
	struct pack **packs;
	size_t n, cap;
	struct summary_pack_error *errors;
	size_t n_err, cap_err;
	struct pack *adhoc;     /* -e and -f values; also in packs[] once sealed */
	size_t n_e, n_f;
	/* A compiled rules file (cybersieve rules compile): its matcher covers
	 * packs[loaded_first, +loaded_n), which then held loaded_ind[] indicators. */
	struct matcher *loaded;
	size_t loaded_first, loaded_n;
	size_t *loaded_ind;
	/* A compiled file that did not fit, rebuilt from its packs[rebuild_first,
	 * +rebuild_n): written again once the matcher is built. */
	char *rebuild_path;
	size_t rebuild_first, rebuild_n;
};

/* Each returns false only when --strict makes the error fatal (or on OOM);
 * errors are printed and remembered for the summary. */
bool cli_rules_add_path(struct cli_rules *r, const char *path, bool strict);
bool cli_rules_add_e(struct cli_rules *r, const char *spec, bool strict);
bool cli_rules_add_f(struct cli_rules *r, const char *spec, bool strict);
/* Seal the ad-hoc pack and append it; false on OOM. */
bool cli_rules_finish(struct cli_rules *r);
/* matcher_build_ex() over r's packs, except when a compiled rules file
 * brought a matcher for exactly these packs, unchanged since (no --allow
 * drop, no other pack): that one is handed over. After a build, a compiled
 * file that was stale is written again (a message says so). */
enum cs_err cli_rules_matcher(struct cli_rules *r, matcher_refused_fn refused, void *ctx,
			      unsigned flags, struct matcher **out, struct cs_diag *d);
/* A refused pack (e.g. by the pattern engine): remember and print. */
void cli_rules_error(struct cli_rules *r, const char *text);
void cli_rules_fini(struct cli_rules *r);

#endif
