/* Match: the compiled indicator database and block scanning of line-aligned chunks.
 *
 * struct matcher is built once from the loaded packs and never changed; all
 * threads share it read-only. Each thread owns one struct matcher_scratch.
 * A scan reports confirmed hits only: boundaries of domains, e-mails, URLs and
 * hex tokens are checked, and regex matches never cross a line, so the lines
 * reported are the lines grep would report. */
#ifndef CYBERSIEVE_MATCHER_H
#define CYBERSIEVE_MATCHER_H

#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"
#include "cybersieve/pack.h"

struct matcher;
struct matcher_scratch;

/* One indicator as the matcher knows it: borrowed from its pack. */
struct matcher_ind {
	const struct indicator *ind;
	const struct pack *pack;
	uint32_t pack_index;
};

/* A confirmed hit in a chunk, offsets relative to the chunk start. */
struct matcher_hit {
	uint64_t start;     /* first byte of the match */
	uint64_t end;       /* one past the last byte */
	uint64_t line;      /* 0-based line within the chunk (newlines before start) */
	uint32_t ind;       /* index into the matcher's indicator table */
	uint32_t count;     /* occurrences of this indicator on this line */
};

struct matcher_hits {
	struct matcher_hit *v;
	size_t n;
	size_t cap;
	size_t limit;       /* most hits kept per chunk; more are counted in dropped */
	uint64_t dropped;
};

struct matcher_stats {
	size_t patterns;
	size_t regex_without_som; /* regexes whose start could not be tracked */
	double compile_seconds;
	size_t db_bytes;
};

/* Compile every indicator of every pack into one block-mode database.
 * A pack whose pattern the engine refuses is reported through refused(), with
 * the pack index and a diag naming file:line, and left out; the rest compile.
 * refused may be NULL (then any refusal fails the build with CS_ERR_COMPILE). */
typedef void (*matcher_refused_fn)(void *ctx, size_t pack_index, const struct cs_diag *d);
enum cs_err matcher_build(struct pack *const *packs, size_t n_packs, matcher_refused_fn refused,
			  void *ctx, struct matcher **out, struct cs_diag *d);

size_t matcher_count(const struct matcher *m);
const struct matcher_ind *matcher_get(const struct matcher *m, uint32_t index);
void matcher_get_stats(const struct matcher *m, struct matcher_stats *st);
/* Longest fixed-width indicator in bytes (regexes not counted). */
size_t matcher_max_fixed_len(const struct matcher *m);

enum cs_err matcher_scratch_create(const struct matcher *m, struct matcher_scratch **out);
void matcher_scratch_destroy(struct matcher_scratch *s);

/* Scan buf (whole lines; the last may lack its newline). Hits are appended to
 * out sorted by (line, start), one per indicator and line (count says how many
 * times). Hits ending at or before skip_prefix are ignored (used for the overlap
 * carried over when an over-long line is split). */
enum cs_err matcher_scan(const struct matcher *m, struct matcher_scratch *s, const uint8_t *buf,
			 size_t len, size_t skip_prefix, struct matcher_hits *out, struct cs_diag *d);

void matcher_hits_fini(struct matcher_hits *h);

void matcher_destroy(struct matcher *m);

#endif
