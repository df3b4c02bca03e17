/* Private to match/: url indicators with a scheme held in a set instead of
 * compiled one pattern each. The engine looks for the distinct last
 * URLSET_TAIL bytes of the listed URLs (caseless literals, one engine id
 * each); on a hit the text is walked back to every "scheme://" within the
 * longest listed URL, and each candidate is looked up whole: scheme and host
 * lower-cased, the rest byte for byte, as the normalised value holds it. The
 * matches are those of the compiled form: "(?i:scheme://host)rest", found
 * anywhere, not followed by a URL character that would continue it.
 *
 * A hit looks up only the lengths listed URLs with its tail have (kept per
 * tail at seal time), so its cost does not depend on the text before it: a
 * line of many "://" cannot make each hit walk and hash kilobytes.
 *
 * Compiling tens of thousands of URLs one pattern each takes the engine
 * minutes (a pattern caseless in its host and exact in its path is far
 * slower to compile than a caseless literal); their tails compile in
 * seconds, and in milliseconds where many URLs share a tail.
 *
 * A struct urlset belongs to the matcher's shapes: filled while the matcher
 * is built, read-only afterwards and shared by all threads. URL values are
 * borrowed from the indicators, which outlive the matcher. */
#ifndef CS_MATCH_URLSET_H
#define CS_MATCH_URLSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"
#include "match/strset.h"

/* Bytes of a URL's end the engine looks for. */
#define URLSET_TAIL 8
/* Longest URL held; longer ones stay compiled patterns. */
#define URLSET_LEN_MAX 2048

struct urlset {
	struct strset urls; /* normalised value -> first indicator */
	char **tails;       /* engine expressions, one per distinct tail (lower case, escaped) */
	size_t n_tails;
	struct strset tail_map;  /* lower-cased tail -> its index */
	char (*tail_key)[URLSET_TAIL]; /* the distinct tails, lower case, keys of tail_map */
	uint32_t *len_first;     /* n_tails + 1: tail t's lengths are len[len_first[t]..] */
	uint16_t *len;           /* distinct lengths of listed URLs per tail, ascending */
	size_t max_len;     /* longest listed URL */
	size_t max_scheme;  /* longest listed scheme */
};

void urlset_init(struct urlset *u);
void urlset_fini(struct urlset *u);

/* Whether a normalised url value can be held: it has a scheme and a length
 * from URLSET_TAIL to URLSET_LEN_MAX. */
bool urlset_fits(const char *value, size_t len);

/* Hold value[0..len) (normalised, urlset_fits) for indicator idx. When the
 * value is already held nothing changes, *dup is true and *first is the
 * indicator that holds it. */
enum cs_err urlset_add(struct urlset *u, const char *value, size_t len, uint32_t idx, bool *dup,
		       uint32_t *first);

/* After the last urlset_add(): build the tail expressions and the lengths
 * per tail. CS_ERR_NOMEM. */
enum cs_err urlset_seal(struct urlset *u);

/* Restore max_len and max_scheme from the held values (a saved set read back). */
void urlset_measure(struct urlset *u);

/* Bytes held by the table and the expressions. */
size_t urlset_bytes(const struct urlset *u);

/* A listed URL found at buf[start, end); its first indicator. false stops. */
typedef bool (*urlset_fn)(void *ctx, uint32_t first, uint64_t start, uint64_t end);

/* Confirm an engine hit of a tail ending at end in buf[0..len) (bytes
 * outside it count as boundaries): report each listed URL that ends there.
 * Returns false only when fn did. */
bool urlset_confirm(const struct urlset *u, const uint8_t *buf, size_t len, uint64_t end,
		    urlset_fn fn, void *ctx);

#endif
