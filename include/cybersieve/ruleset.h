/* Rule sets in the evidence: which indicator packs were in force during a
 * live run, and the record of each reload of them (tap on SIGHUP).
 *
 * struct ev_ruleset copies what identifies a set of packs (names, paths,
 * digests, counts) so that it outlives the packs, which are freed once a
 * reload replaces them: the manifest at the end lists every set that was in
 * force. Owner: whoever creates it; it is read-only once made, except its
 * times, which only its owner's thread sets. */
#ifndef CYBERSIEVE_RULESET_H
#define CYBERSIEVE_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cybersieve/error.h"
#include "cybersieve/json.h"
#include "cybersieve/pack.h"

#define EV_RELOAD_EVENT "rules_reload"

struct ev_ruleset_pack {
	char *name, *path, *category, *tlp;
	uint8_t sha256[32];
	uint64_t indicators;    /* in the pack as loaded */
};

struct ev_ruleset {
	struct ev_ruleset_pack *packs;
	size_t n_packs;
	uint64_t indicators;    /* in the matcher built from them (allow-lists applied) */
	char from[40];          /* RFC 3339 UTC: in force from; "" until then */
	char until[40];         /* replaced at; "" while in force */
};

/* Copy the identity of packs[0..n). CS_ERR_NOMEM. */
enum cs_err ev_ruleset_create(struct pack *const *packs, size_t n, uint64_t indicators,
			      struct ev_ruleset **out);
/* NULL is a no-op. */
void ev_ruleset_destroy(struct ev_ruleset *rs);
/* True when both name the same packs (name, path, digest) in the same order. */
bool ev_ruleset_same(const struct ev_ruleset *a, const struct ev_ruleset *b);

/* {"indicators":N,"packs":[{"name","path","sha256","indicators","tlp"},...]}
 * as the value of the key last given to j. No "category" key: the writer and
 * verify count records by the first category key they find, and a reload
 * record must count as a record without one, never as a match. */
void ev_ruleset_render(struct jbuf *j, const struct ev_ruleset *rs);

/* A reload, applied or failed, as one record in the hash chain. */
struct ev_reload_record {
	const char *run_id;
	uint64_t seq;
	struct timespec at;           /* the new rules in force in every worker, or
				       * the failure recorded */
	const char *requested;        /* RFC 3339: when the reload was asked for */
	const char *ready;            /* RFC 3339: the new database was built; NULL
				       * when it never was */
	bool applied;
	const char *reason;           /* why it failed (file:line: reason); NULL if applied */
	const struct ev_ruleset *before; /* in force until `at` (still, when failed) */
	const struct ev_ruleset *after;  /* in force from `at`; NULL when failed */
};

/* The record without a trailing newline; prev holds the placeholder. Keys:
 * prev, record_id, run_id, seq, time, tool, event {type "rules_reload",
 * status "applied"|"failed", requested, ready, reason, rules_before,
 * rules_after}. */
void ev_reload_record_render(struct jbuf *j, const struct ev_reload_record *r);

#endif
