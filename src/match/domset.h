/* Private to match/: domain indicators held in a suffix set instead of
 * compiled one literal each. The engine looks only for the distinct last
 * labels (top-level domains) of the listed names, as one caseless
 * expression; on each hit the host name is walked back label by label and
 * every suffix that starts at a label boundary is looked up, so evil.com is
 * found in x.evil.com and evil.com/path but not in notevil.com,
 * evil.community or evil.com.au (the same boundaries as pattern_confirm()).
 *
 * A struct domset belongs to the matcher's shapes: filled while the matcher
 * is built, read-only afterwards and shared by all threads. Names are
 * borrowed from the indicators, which outlive the matcher. */
#ifndef CS_MATCH_DOMSET_H
#define CS_MATCH_DOMSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"
#include "match/strset.h"
#include "match/vec_isa.h"

/* Longest host name looked up (a domain indicator is at most 253 bytes). */
#define DOMSET_NAME_MAX 253

struct domset {
	struct strset names;  /* lower-case name -> first indicator */
	struct strset tlds;   /* distinct last labels (keys borrowed from names) */
	char *expr;           /* "\.(?:com|net|...)", built by domset_seal() */
	size_t max_len;       /* longest listed name */
	uint64_t *filter;     /* of the names (bitfilter.h) */
	unsigned filter_log2;
};

void domset_init(struct domset *d);
void domset_fini(struct domset *d);

/* Hold name[0..len) (normalised: lower case, at least one dot, labels of
 * [a-z0-9_-]) for indicator idx. When the name is already held nothing
 * changes, *dup is true and *first is the indicator that holds it. */
enum cs_err domset_add(struct domset *d, const char *name, size_t len, uint32_t idx, bool *dup,
		       uint32_t *first);

/* After the last domset_add(): build the expression and the filter.
 * CS_ERR_NOMEM. */
enum cs_err domset_seal(struct domset *d);

/* Build the filter from the names (domset_seal does; names read back from
 * a file need it). CS_ERR_NOMEM. */
enum cs_err domset_index(struct domset *d);

/* The candidate expression (caseless), NULL when no name is held. */
const char *domset_expr(const struct domset *d);

/* Names held. */
size_t domset_count(const struct domset *d);

/* Bytes held by the tables and the expression. */
size_t domset_bytes(const struct domset *d);

/* A listed name found at buf[start, end); its first indicator. false stops. */
typedef bool (*domset_fn)(void *ctx, uint32_t first, uint64_t start, uint64_t end);

/* Confirm an engine hit of a last label ending at end in buf[0..len) (bytes
 * outside it count as boundaries): the host name must end there, then each
 * listed suffix of it, shortest first, is reported. Returns false only when
 * fn did. */
bool domset_confirm(const struct domset *d, const uint8_t *buf, size_t len, uint64_t end,
		    domset_fn fn, void *ctx);

/* The same with the search loop named (vec_isa.h; VEC_AUTO: the widest the
 * CPU has, as domset_confirm() runs): a host name that begins within the 64
 * bytes before end is read with vector steps on AVX2 and up, a byte at a
 * time on VEC_PLAIN. Reports nothing when the CPU lacks isa. */
bool domset_confirm_isa(const struct domset *d, const uint8_t *buf, size_t len, uint64_t end,
			domset_fn fn, void *ctx, enum vec_isa isa);

#endif
