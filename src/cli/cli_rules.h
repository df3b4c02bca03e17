/* Front end: gathering indicator packs from --rules, -e and -f. */
#ifndef CS_CLI_RULES_H
#define CS_CLI_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "cybersieve/pack.h"
#include "cybersieve/summary.h"

struct cli_rules {
	struct pack **packs;
	size_t n, cap;
	struct summary_pack_error *errors;
	size_t n_err, cap_err;
	struct pack *adhoc;     /* -e and -f values; also in packs[] once sealed */
	size_t n_e, n_f;
};

/* Each returns false only when --strict makes the error fatal (or on OOM);
 * errors are printed and remembered for the summary. */
bool cli_rules_add_path(struct cli_rules *r, const char *path, bool strict);
bool cli_rules_add_e(struct cli_rules *r, const char *spec, bool strict);
bool cli_rules_add_f(struct cli_rules *r, const char *spec, bool strict);
/* Seal the ad-hoc pack and append it; false on OOM. */
bool cli_rules_finish(struct cli_rules *r);
/* A refused pack (e.g. by the pattern engine): remember and print. */
void cli_rules_error(struct cli_rules *r, const char *text);
void cli_rules_fini(struct cli_rules *r);

#endif
