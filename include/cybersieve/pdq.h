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

/* A batch of queries answered together: the tables are then read once,
 * in order, instead of at a few hundred scattered places per query. Owned
 * by one thread; reused batch after batch (its memory is kept). */
struct pdq_batch;

/* Most queries a batch holds (its memory: about 52 bytes a query, 13.6 MB
 * full, plus 0.5 MB of sort tables). */
#define PDQ_BATCH_MAX 262144u
/* Below this many queries a batch is answered one query at a time. */
#define PDQ_BATCH_MIN 2048u

/* Errors: CS_ERR_NOMEM. */
enum cs_err pdq_batch_create(struct pdq_batch **out);

/* NULL is a no-op. */
void pdq_batch_destroy(struct pdq_batch *b);

/* Queue h; its number is the count queued before it. CS_ERR_LIMIT when the
 * batch holds PDQ_BATCH_MAX already, CS_ERR_NOMEM. */
enum cs_err pdq_batch_add(struct pdq_batch *b, const uint8_t h[PDQ_HASH_BYTES]);

/* Queries queued. */
size_t pdq_batch_count(const struct pdq_batch *b);

/* Drop the queued queries unanswered. */
void pdq_batch_clear(struct pdq_batch *b);

/* Called once per (query, listed hash) pair within the distance; return
 * false to stop. */
typedef bool (*pdq_batch_fn)(void *ctx, size_t query, uint32_t id, unsigned dist);

/* How a batch is answered: PDQ_BATCH_AUTO picks (one at a time below
 * PDQ_BATCH_MIN, else table walks compared with AVX-512 where the CPU has
 * VPOPCNTQ, or else with AVX2); the others force one way, for tests and
 * benchmarks. */
enum pdq_batch_mode {
	PDQ_BATCH_AUTO = 0,
	PDQ_BATCH_EACH,        /* pdq_index_query() per query */
	PDQ_BATCH_WALK,        /* table walks, plain comparisons */
	PDQ_BATCH_WALK_AVX2,   /* table walks, AVX2 (plain where the CPU lacks it) */
	PDQ_BATCH_WALK_AVX512, /* table walks, AVX-512 (plain where the CPU lacks it) */
};
void pdq_batch_set_mode(struct pdq_batch *b, enum pdq_batch_mode mode);

/* Answer every query queued in b, as pdq_index_query() would answer each
 * (the same pairs, each once, in no set order), then empty b, even when fn
 * stopped it. Returns the number of pairs reported. */
size_t pdq_index_query_batch(const struct pdq_index *idx, struct pdq_batch *b, unsigned max_dist,
			     pdq_batch_fn fn, void *ctx);

/* The same answers as pdq_index_query() by comparing every entry: the
 * reference the tests hold the index to, and the better choice for a few
 * hundred entries. */
size_t pdq_index_query_linear(const struct pdq_index *idx, const uint8_t h[PDQ_HASH_BYTES],
			      unsigned max_dist, pdq_hit_fn fn, void *ctx);

#endif
