/* PDQ perceptual hashes (256 bits, written as 64 hex digits) and an index
 * that finds every listed hash within a Hamming distance of a query.
 *
 * The index is multi-index hashing: the hash is cut into 16 parts of 16
 * bits; if two hashes differ in at most D bits, one part differs in at most
 * D/16 bits (pigeonhole), so each part's table is probed at the query's part
 * and its neighbours within D/16 bits. Each table keeps, next to an entry, the
 * 128 bits of the hash outside that part's 64-bit word, so nearly every
 * candidate is refused without touching the full hash.
 * Memory: 352 bytes per entry plus 4 MiB. Built once by pdq_index_create(),
 * never changed after: any number of threads may query it at once. */
#ifndef CYBERSIEVE_PDQ_H
#define CYBERSIEVE_PDQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"

#define PDQ_HASH_BYTES 32
#define PDQ_HEX_LEN 64
#define PDQ_DEFAULT_DIST 31
/* Largest distance a query may ask for (probing grows as C(16, D/16)). */
#define PDQ_MAX_DIST 63
/* Most entries one index takes (ids are 32-bit, the memory ~45 GB). */
#define PDQ_INDEX_MAX_ENTRIES (1u << 27)

struct pdq_index;

/* Parse 64 hex digits (either case) into 32 bytes; false on any other input. */
bool pdq_hash_parse(const char *hex, size_t n, uint8_t out[PDQ_HASH_BYTES]);

/* Number of differing bits. */
unsigned pdq_distance(const uint8_t a[PDQ_HASH_BYTES], const uint8_t b[PDQ_HASH_BYTES]);

/* Build an index over n hashes; an entry's id is its position in `hashes`,
 * which is copied (the caller keeps its array). CS_ERR_LIMIT past
 * PDQ_INDEX_MAX_ENTRIES, CS_ERR_NOMEM when an allocation fails. */
enum cs_err pdq_index_create(const uint8_t (*hashes)[PDQ_HASH_BYTES], size_t n,
			     struct pdq_index **out, struct cs_diag *diag);

/* NULL is a no-op. */
void pdq_index_destroy(struct pdq_index *idx);

size_t pdq_index_count(const struct pdq_index *idx);

/* Bytes the index holds. */
size_t pdq_index_memory(const struct pdq_index *idx);

/* Called once per listed hash within the distance; return false to stop. */
typedef bool (*pdq_hit_fn)(void *ctx, uint32_t id, unsigned dist);

/* Work one query did, for tuning and benchmarks. */
struct pdq_query_stats {
	uint64_t probes;     /* buckets looked at */
	uint64_t candidates; /* entries in those buckets */
	uint64_t verified;   /* full hashes compared */
};

/* Report every entry within max_dist (<= PDQ_MAX_DIST, larger is clamped)
 * of h, each once, in no set order. Returns the number reported. st may be
 * NULL; when given, its counters are increased. */
size_t pdq_index_query(const struct pdq_index *idx, const uint8_t h[PDQ_HASH_BYTES],
		       unsigned max_dist, pdq_hit_fn fn, void *ctx, struct pdq_query_stats *st);

/* The nearest entry within max_dist (lowest id among equals): true and
 * *id, *dist set, or false when there is none. */
bool pdq_index_best(const struct pdq_index *idx, const uint8_t h[PDQ_HASH_BYTES], unsigned max_dist,
		    uint32_t *id, unsigned *dist);

/* The same answers as pdq_index_query() by comparing every entry: the
 * reference the tests hold the index to, and the better choice for a few
 * hundred entries. */
size_t pdq_index_query_linear(const struct pdq_index *idx, const uint8_t h[PDQ_HASH_BYTES],
			      unsigned max_dist, pdq_hit_fn fn, void *ctx);

#endif
