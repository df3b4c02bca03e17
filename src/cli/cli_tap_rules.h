/* Front end: the rules of `cybersieve tap`. They are read and compiled once
 * after root is dropped, and again on every SIGHUP on a thread of their own
 * while capture and matching go on with the rules in force; a new set is
 * handed to the pipeline with packet_swap_apply(), which returns once every
 * worker uses it, and the old set is freed then. A reload that fails (a pack
 * error, an engine refusal, no indicators) keeps the rules in force. Every
 * attempt is printed and recorded in the evidence (include/cybersieve/ruleset.h).
 *
 * struct tap_reload is owned by the tap's main thread; between
 * tap_reload_start() and tap_reload_stop() its reload thread alone changes it,
 * and the main thread reads it again only after tap_reload_stop(). */
#ifndef CS_CLI_TAP_RULES_H
#define CS_CLI_TAP_RULES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "cli_rules.h"
#include "correlate/combo.h"
#include "cybersieve/matcher.h"
#include "cybersieve/packet.h"
#include "cybersieve/ruleset.h"

#define TAP_RULES_MAX_ARGS 256

enum tap_src { TAP_SRC_RULES, TAP_SRC_E, TAP_SRC_F, TAP_SRC_ALLOW };

/* Where the rules come from: --rules, -e, -f and --allow in command-line order
 * (strings borrowed from argv). The same list is read at start and at each
 * reload. */
struct tap_rules_src {
	enum tap_src kind[TAP_RULES_MAX_ARGS];
	const char *arg[TAP_RULES_MAX_ARGS];
	size_t n;
	bool strict;
};

/* One set of rules: the packs, the matcher built from them and its
 * combination rules (those of scope flow and flow-dir apply to traffic). */
struct tap_rules {
	struct cli_rules rules;
	struct matcher *m;
	struct combo_set *combos;
	size_t suppressed;      /* indicators the --allow lists dropped */
};

/* Read and compile src into out (zeroed by the caller). At start (reload
 * false) a bad pack (one whose combination rule is in error included) is
 * reported and left out unless src->strict, as scan does; a reload is all or
 * nothing: any error fails it, with the first one (file:line: reason) in why. Errors are printed as they are found. 0, or -1 (out is then
 * for tap_rules_fini only). */
int tap_rules_load(const struct tap_rules_src *src, bool reload, struct tap_rules *out,
		   char *why, size_t why_cap);
void tap_rules_fini(struct tap_rules *r);

#define TAP_RELOAD_MAX_SETS 4096  /* sets the manifest lists; later ones are counted */

struct tap_reload {
	const struct tap_rules_src *src;
	struct packet_swap *sw;
	pthread_mutex_t *print_mu;  /* taken around each message */
	bool quiet;
	struct tap_rules cur;       /* in force */
	struct ev_ruleset **sets;   /* every set in force, oldest first */
	size_t n_sets, cap_sets;
	size_t sets_unlisted;       /* applied beyond TAP_RELOAD_MAX_SETS */
	unsigned applied, failed;
	/* Packs refused during the run: at start (non-strict) and by failed reloads. */
	struct summary_pack_error *errors;
	size_t n_err, cap_err;
	pthread_t th;
	bool started;
	atomic_bool quit;
};

/* Take the rules loaded at start (moved out of `initial`, which is left
 * empty) and the errors they had. 0, or -1 on out of memory (printed). */
int tap_reload_init(struct tap_reload *r, const struct tap_rules_src *src,
		    struct tap_rules *initial, pthread_mutex_t *print_mu, bool quiet);
/* The first set is in force from `from` (RFC 3339); start the thread that
 * waits for SIGHUP, which the caller has blocked in every thread. 0 or -1. */
int tap_reload_start(struct tap_reload *r, struct packet_swap *sw, const char *from);
/* End the thread (a reload under way is finished or given up first). */
void tap_reload_stop(struct tap_reload *r);
void tap_reload_fini(struct tap_reload *r);

#endif
