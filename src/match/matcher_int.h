/* Private to match/: the matcher's insides, shared by block scanning
 * (matcher.c) and stream scanning of packet payloads (matcher_stream.c). */
#ifndef CS_MATCH_MATCHER_INT_H
#define CS_MATCH_MATCHER_INT_H

#include <hs/hs.h>
#include <stdatomic.h>

#include "cybersieve/matcher.h"
#include "match/shape.h"

struct matcher {
	hs_database_t *db;        /* block mode: log chunks and fields */
	hs_database_t *stream_db; /* stream mode: flow payloads; built on first use */
	struct matcher_ind *ind;
	uint32_t *fixed_len;     /* per indicator; 0 = regex */
	unsigned char *in_set;   /* per indicator: held in a shape set, not compiled */
	struct shapes shapes;    /* engine ids m->n + shape_kind are shape candidates */
	unsigned char *has_som;  /* per indicator: engine reports the start */
	size_t n;
	size_t type_n[IND_TYPE_COUNT]; /* indicators of each type */
	size_t max_fixed;
	struct matcher_stats stats;
	/* Stream database, built by the first thread that needs it (matcher_stream.c),
	 * or loaded ready (savedb.c): enum matcher_stream_state; 0 from calloc. */
	_Atomic int stream_state;
	unsigned char *stream_som; /* per indicator: start tracked in stream mode */
	size_t stream_size;        /* hs_stream_size of stream_db */
	size_t stream_patterns;    /* indicators in stream_db */
};

enum matcher_stream_state { ST_NONE = 0, ST_BUILDING, ST_READY, ST_FAILED };

/* Frees what matcher_stream.c added (called by matcher_destroy). */
void matcher_stream_free(struct matcher *m);

/* A line that a regex hit touched but crossed a newline to reach: re-check. */
struct recheck {
	uint64_t start, end;
	uint32_t ind;
};

struct matcher_scratch {
	hs_scratch_t *hs;
	struct recheck *rc;
	size_t n_rc, cap_rc;
	uint8_t *pad;        /* a copy of a buffer ending near a page end (below) */
	size_t pad_cap;
	struct pdq_batch *pdq; /* PDQ candidates of the scan, answered together */
	uint64_t (*pdq_pos)[2]; /* where each was found */
	size_t pdq_pos_cap;
	struct matcher_hits pdq_hits; /* their hits, put in order under a hit limit */
};

/* True when reading MATCHER_SCAN_SLACK bytes past p + len could cross into
 * another page, which may not be mapped (a capture ring's end, an exact-size
 * allocation): see MATCHER_SCAN_SLACK in matcher.h. */
static inline bool matcher_near_page_end(const void *p, size_t len)
{
	uintptr_t end = (uintptr_t)p + len;
	return len > 0 && ((end - 1) >> 12) != ((end + MATCHER_SCAN_SLACK - 1) >> 12);
}

/* Compile the stream database once (thread-safe; later callers wait). */
enum cs_err matcher_stream_build(struct matcher *m, struct cs_diag *d);

#endif
