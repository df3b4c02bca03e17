/* Window rules: aggregates over time per key (structuring, fan-out, fan-in)
 * and pass-through (money in and out of one account within minutes), read
 * from log records of any format recfield.h knows, timed by the records
 * themselves (rectime.h). docs/WINDOW_RULES.md is the exact definition.
 *
 * A struct window_rule is parsed once from the text of a pack line and is
 * read-only afterwards; its parser owns it until window_rule_destroy().
 * A struct window_engine holds the state of a set of rules (per key, capped)
 * and borrows the rules, which must outlive it. An engine belongs to one
 * thread, which feeds it the lines of its inputs in order, one input after
 * another; fires are delivered synchronously from window_feed(). */
#ifndef CS_CORRELATE_WINDOW_H
#define CS_CORRELATE_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"

/* Keys and values of distinct(FIELD) longer than this do not qualify. */
#define WINDOW_MAX_VALUE 1024

enum window_agg {
	WINDOW_COUNT,       /* count>=N */
	WINDOW_SUM,         /* sum(FIELD)>=X */
	WINDOW_DISTINCT,    /* distinct(FIELD)>=N */
	WINDOW_PASSTHROUGH, /* passthrough in=FIELD out=FIELD */
};

struct window_rule;

/* Parse the spec of a `<id> window <spec>` pack line (spec[0..len), not
 * NUL-terminated):
 *   key=FIELD [time=FIELD] [when=COND]... AGG within=DURATION [slack=DURATION]
 *   passthrough in=FIELD out=FIELD [time=FIELD] [when=COND]... within=DURATION
 *               [slack=DURATION]
 * On error returns CS_ERR_PARSE (or CS_ERR_NOMEM) and d->msg names the
 * 1-based column and the token at fault; file and line are left for the
 * caller to fill. */
enum cs_err window_rule_parse(const char *spec, size_t len, struct window_rule **out,
			      struct cs_diag *d);
void window_rule_destroy(struct window_rule *r);

enum window_agg window_rule_agg(const struct window_rule *r);
int64_t window_rule_within_ms(const struct window_rule *r);
int64_t window_rule_slack_ms(const struct window_rule *r);

/* State caps, all per engine. */
struct window_limits {
	size_t max_keys;    /* keys held per rule */
	size_t max_records; /* records held per key */
	size_t max_bytes;   /* bytes of state of all rules together */
};

#define WINDOW_DEFAULT_MAX_KEYS 1000000
#define WINDOW_DEFAULT_MAX_RECORDS 10000
#define WINDOW_DEFAULT_MAX_BYTES ((size_t)256 << 20)

void window_limits_default(struct window_limits *l);

/* Where a record is; copied into the engine's state and handed back in fires. */
struct window_ref {
	uint32_t input;  /* caller's input index */
	uint64_t line;   /* 1-based */
	uint64_t offset; /* byte offset of the line in its input */
	uint32_t len;    /* bytes of the line */
};

struct window_fire_rec {
	struct window_ref ref;
	int64_t time_ms; /* the record's time, ms since the epoch (UTC) */
};

/* One fired rule. Every pointer is valid during the callback only. */
struct window_fire {
	uint32_t rule;       /* index in the engine's rule array */
	const char *rule_id; /* id given to window_engine_create() */
	const char *key;     /* the key (the account for pass-through); not NUL-terminated */
	size_t key_len;
	enum window_agg agg;
	char value[48];      /* aggregate reached, decimal: count, sum, distinct values; 2 for
			      * pass-through */
	int64_t start_ms;    /* time of the first contributing record */
	int64_t end_ms;      /* time of the last */
	const struct window_fire_rec *recs; /* contributing records in time order (ties: arrival
					     * order; pass-through: IN then OUT) */
	size_t n_recs;
};

typedef void (*window_fire_fn)(void *user, const struct window_fire *f);

struct window_rule_stats {
	uint64_t qualified;   /* conditions held, key and time found (late ones included) */
	uint64_t late;        /* qualified but older than the input's clock - slack: ignored */
	uint64_t no_time;     /* conditions held and key found, but no time */
	uint64_t oversize;    /* key or distinct value longer than WINDOW_MAX_VALUE */
	uint64_t fired;
	uint64_t evicted_cap; /* keys dropped for max_keys or max_bytes */
	uint64_t evicted_age; /* keys dropped because their newest record aged out */
	uint64_t dropped;     /* records dropped for max_records or max_bytes */
	uint64_t keys;        /* keys held now */
};

struct window_stats {
	uint64_t lines;      /* lines fed */
	uint64_t records;    /* lines that were records (not headers, comments, empty) */
	uint64_t nomem;      /* records lost for want of memory */
	uint64_t bytes_held; /* state bytes now */
	uint64_t bytes_peak;
};

struct window_engine;

/* An engine for rules[0..n) with ids[0..n) (ids are copied, rules borrowed).
 * lim NULL: the defaults. syslog_year: year given to syslog time stamps
 * (the caller passes the current year unless told otherwise).
 * CS_ERR_INVALID (a limit of 0, a count>=N or distinct>=N above
 * max_records), CS_ERR_LIMIT (more distinct fields than recfield.h takes),
 * CS_ERR_NOMEM; d->msg says which rule. */
enum cs_err window_engine_create(const struct window_rule *const *rules, const char *const *ids,
				 size_t n, const struct window_limits *lim, int syslog_year,
				 struct window_engine **out, struct cs_diag *d);
void window_engine_destroy(struct window_engine *e);

/* True when some rule has a match:ID condition: only then does window_feed()
 * need the ids of the indicators that matched the line. */
bool window_engine_uses_matches(const struct window_engine *e);

/* An input begins or ends. Per-input state is reset at both: the CSV header,
 * Zeek columns, and each rule's clock (lateness is judged within one input).
 * Keys and their records are kept across inputs. */
void window_input_begin(struct window_engine *e, uint32_t input);
void window_input_end(struct window_engine *e);

/* Feed one line (without or with its '\n'); ref says where it is.
 * matched[0..n_matched) are the ids of the indicators that matched on this
 * line (NUL-terminated; compared byte for byte with match:ID), NULL when
 * none. fire is called for each rule that fires, in rule order.
 * CS_ERR_INVALID outside window_input_begin/end; CS_ERR_NOMEM when state
 * could not grow (the record is dropped and counted; the engine stays
 * usable). */
enum cs_err window_feed(struct window_engine *e, const char *line, size_t len,
			const struct window_ref *ref, const char *const *matched, size_t n_matched,
			window_fire_fn fire, void *user);

void window_engine_stats(const struct window_engine *e, struct window_stats *st);
/* Statistics of rule i (i < the n given to create). */
void window_engine_rule_stats(const struct window_engine *e, size_t i,
			      struct window_rule_stats *st);

#endif
