/* Combination rules: AND, OR and NOT of indicator matches within one scope.
 *
 * A pack line `<id> combo [scope=line|message] EXPR` names a rule. EXPR is
 * made of atoms joined by `&` (or `and`), `|` (or `or`), `!` (or `not`) and
 * parentheses; NOT binds tighter than AND, AND tighter than OR. An atom is
 *   ID          an indicator of the same pack,
 *   PACK/ID     an indicator of another loaded pack,
 *   type:TYPE   any indicator of that type (wallet, iban, domain, ...).
 * The rule fires once per scope in which EXPR holds over the set of
 * indicators that matched there. A rule must hold a positive atom: one that
 * would fire on a scope with no match at all is refused.
 *
 * Scopes: `line` (the default) is one log record; `message` is one e-mail
 * message: a whole input, or the part of an mbox between two "From " lines;
 * `flow` is both directions of one captured flow, `flow-dir` one direction.
 *
 * struct combo_set is built from a matcher and belongs to the caller; it is
 * read-only afterwards and may be shared by threads. struct combo_scope is
 * caller storage used by one thread: it collects the matches of the scope
 * being read. */
#ifndef CS_CORRELATE_COMBO_H
#define CS_CORRELATE_COMBO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"
#include "cybersieve/matcher.h"

enum combo_scope_kind {
	COMBO_SCOPE_LINE = 0,
	COMBO_SCOPE_MESSAGE,
	COMBO_SCOPE_FLOW,      /* both directions of one flow of a capture */
	COMBO_SCOPE_FLOW_DIR,  /* one direction of one flow */
	COMBO_SCOPE_COUNT
};

/* The word a pack writes after "scope=" for k ("line", "message", "flow",
 * "flow-dir"). */
const char *combo_scope_name(enum combo_scope_kind k);

struct combo_set;

/* A rule that cannot be used: its pack is refused (the caller decides). */
typedef void (*combo_refused_fn)(void *ctx, uint32_t pack_index, const struct cs_diag *d);

/* Parse every combo indicator of m. A rule in error calls refused (when not
 * NULL) and is left out, or fails the build with CS_ERR_PARSE and d set when
 * refused is NULL. *out is NULL-free even when m holds no rule. */
enum cs_err combo_set_create(const struct matcher *m, combo_refused_fn refused, void *ctx,
			     struct combo_set **out, struct cs_diag *d);
void combo_set_destroy(struct combo_set *cs);

/* Rules held for scope k (0 when none). */
size_t combo_count(const struct combo_set *cs, enum combo_scope_kind k);

/* True when indicator ind appears in a rule of scope k: its matches must be
 * passed to combo_scope_add. */
bool combo_wants(const struct combo_set *cs, enum combo_scope_kind k, uint32_t ind);

/* Where an indicator matched in the scope (the first time). text is copied. */
struct combo_part {
	uint32_t ind;      /* matcher index */
	uint32_t input;    /* caller's input number */
	uint64_t line;     /* 1-based */
	uint64_t offset;   /* byte offset in the decompressed input */
	uint32_t length;
	const uint8_t *text; /* copy held by the scope; length bytes (may be cut) */
	uint32_t text_len;
};

struct combo_fire {
	uint32_t rule;                 /* matcher index of the combo indicator */
	const struct combo_part *parts; /* the matches of its positive atoms that hold */
	size_t n_parts;
};

typedef bool (*combo_fire_fn)(void *user, const struct combo_fire *f);

struct combo_scope {
	const struct combo_set *cs;
	enum combo_scope_kind kind;
	uint32_t *slot;          /* per matcher indicator: part index + 1, 0 = not seen */
	struct combo_part *parts;
	size_t n_parts, cap_parts;
	uint8_t *text;           /* copies of matched text, max_text bytes a part */
	size_t max_text;
	size_t cap_text_parts;   /* parts the text buffer has room for */
	uint32_t *touched;       /* rules to evaluate at the scope's end */
	size_t n_touched;
	unsigned char *rule_mark;
	struct combo_part *fire_parts;
	/* Set by the caller before combo_scope_end when part of the scope could
	 * not be read (bytes lost, parts not kept): a rule with a NOT atom then
	 * does not fire, since what it excludes may be in what was missed; each
	 * such rule that held over what was seen is counted in held_partial.
	 * combo_scope_end clears partial; held_partial only grows. */
	bool partial;
	uint64_t held_partial;
};

/* Ready to collect the matches of one scope of kind k at a time. */
enum cs_err combo_scope_init(struct combo_scope *sc, const struct combo_set *cs,
			     enum combo_scope_kind k, size_t max_text);
void combo_scope_fini(struct combo_scope *sc);

/* A match inside the current scope. Only the first match of an indicator is
 * kept; indicators no rule of this scope uses are ignored. */
enum cs_err combo_scope_add(struct combo_scope *sc, const struct combo_part *p);

/* True when nothing has been added since the last end. */
bool combo_scope_empty(const struct combo_scope *sc);

/* The scope is over: fire(user, f) for every rule that holds, in matcher
 * order (with partial set: only rules without NOT), then forget the scope.
 * Returns false when fire did (it stops). */
bool combo_scope_end(struct combo_scope *sc, combo_fire_fn fire, void *user);

#endif
