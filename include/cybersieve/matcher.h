/* Match: the compiled indicator database and block scanning of line-aligned chunks.
 *
 * struct matcher is built once from the loaded packs and never changed; all
 * threads share it read-only. Each thread owns one struct matcher_scratch.
 * A scan reports confirmed hits only: boundaries of domains, e-mails, URLs and
 * hex tokens are checked, and regex matches never cross a line, so the lines
 * reported are the lines grep would report. */
#ifndef CYBERSIEVE_MATCHER_H
#define CYBERSIEVE_MATCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"
#include "cybersieve/pack.h"

struct matcher;
struct matcher_scratch;

/* One indicator as the matcher knows it: borrowed from its pack. */
struct lookalike;
struct lookalike_hit;

struct matcher_ind {
	const struct indicator *ind;
	const struct pack *pack;
	uint32_t pack_index;
	uint32_t index;                /* its own index in the matcher */
	const struct lookalike *look;  /* lookalike indicators: the brands it belongs to */
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
	/* Set by each scan: buf[0, nl_pos) holds nl_count newlines (counted anyway
	 * to give the hits their lines), so a caller that wants the buffer's
	 * total goes on from there instead of counting it all again. */
	size_t nl_pos;
	uint64_t nl_count;
};

struct matcher_stats {
	size_t patterns;
	size_t regex_without_som; /* regexes whose start could not be tracked */
	double compile_seconds;
	size_t db_bytes;
	size_t set_entries;       /* indicators confirmed by set lookup, not compiled */
	size_t set_bytes;         /* memory of those sets */
};

/* Compile every indicator of every pack into one block-mode database.
 * A pack whose pattern the engine refuses is reported through refused(), with
 * the pack index and a diag naming file:line, and left out; the rest compile.
 * refused may be NULL (then any refusal fails the build with CS_ERR_COMPILE). */
typedef void (*matcher_refused_fn)(void *ctx, size_t pack_index, const struct cs_diag *d);
enum cs_err matcher_build(struct pack *const *packs, size_t n_packs, matcher_refused_fn refused,
			  void *ctx, struct matcher **out, struct cs_diag *d);

/* As matcher_build; with MATCHER_BUILD_STREAM the stream-mode database (for
 * packet payloads) is compiled at the same time on another thread. */
#define MATCHER_BUILD_STREAM 0x1u
/* Hold domains in the suffix set however few are listed (by default from
 * 256 on; fewer are compiled one literal each). */
#define MATCHER_BUILD_DOMSET 0x2u
/* Hold URLs with a scheme in the URL set however few are listed (by default
 * from 256 on). */
#define MATCHER_BUILD_URLSET 0x4u
enum cs_err matcher_build_ex(struct pack *const *packs, size_t n_packs,
			     matcher_refused_fn refused, void *ctx, unsigned flags,
			     struct matcher **out, struct cs_diag *d);

size_t matcher_count(const struct matcher *m);
const struct matcher_ind *matcher_get(const struct matcher *m, uint32_t index);
void matcher_get_stats(const struct matcher *m, struct matcher_stats *st);
/* How many indicators of type t the matcher holds (counted at build). */
size_t matcher_type_count(const struct matcher *m, enum ind_type t);
/* How the host name text[0..len) imitates the brand of lookalike indicator
 * mi (kind, distance, brand and compared label); false when mi is not a
 * lookalike indicator or the text does not imitate its brand. */
bool matcher_lookalike_describe(const struct matcher_ind *mi, const uint8_t *text, size_t len,
				struct lookalike_hit *out);

/* Hamming distance between a pdq indicator and the 64 hex characters it
 * matched (what a record reports as "distance"); -1 when mi is not a pdq
 * indicator or text is not a PDQ hash. */
int matcher_pdq_distance(const struct matcher_ind *mi, const uint8_t *text, size_t len);

/* Longest fixed-width indicator in bytes (regexes not counted). */
size_t matcher_max_fixed_len(const struct matcher *m);

/* Listed ip indicators covering a packet address (family 4 with 4 bytes, or
 * 6 with 16), by longest prefix: fn(user, index) for each indicator of the
 * longest listed range that holds it. Returns how many; no engine scan, so
 * it is cheap enough to call once per flow and side. */
typedef void (*matcher_ip_fn)(void *user, uint32_t ind);
size_t matcher_match_ip(const struct matcher *m, int family, const uint8_t *addr,
			matcher_ip_fn fn, void *user);

enum cs_err matcher_scratch_create(const struct matcher *m, struct matcher_scratch **out);
void matcher_scratch_destroy(struct matcher_scratch *s);

/* The engine's AVX512VBMI literal matcher (Hyperscan 5.4; fixed later in
 * Vectorscan) reads up to this many bytes past the end of what it scans. A
 * buffer of up to MATCHER_SCAN_COPY_MAX bytes that ends this close to a page
 * end is scanned from a copy; a stream's last bytes near a page end are fed
 * from one. A caller scanning more than that in one call leaves this many
 * readable bytes after it (the batch ring allocates them). */
#define MATCHER_SCAN_SLACK 64
#define MATCHER_SCAN_COPY_MAX ((size_t)1 << 16)

/* Scan buf (whole lines; the last may lack its newline). Hits are appended to
 * out sorted by (line, start), one per indicator and line (count says how many
 * times). Hits ending at or before skip_prefix are ignored (used for the overlap
 * carried over when an over-long line is split). */
enum cs_err matcher_scan(const struct matcher *m, struct matcher_scratch *s, const uint8_t *buf,
			 size_t len, size_t skip_prefix, struct matcher_hits *out, struct cs_diag *d);

/* As matcher_scan, for one piece of a line too long to scan whole. The pieces
 * overlap by matcher_max_fixed_len() + 2 bytes; skip_prefix = overlap - 2 drops
 * what the previous piece decided, and cut_end leaves hits that end in the
 * piece's last two bytes (a boundary check reads up to two bytes after a hit)
 * to the next piece, which sees the byte before them and both after. */
enum cs_err matcher_scan_piece(const struct matcher *m, struct matcher_scratch *s,
			       const uint8_t *buf, size_t len, size_t skip_prefix, bool cut_end,
			       struct matcher_hits *out, struct cs_diag *d);

void matcher_hits_fini(struct matcher_hits *h);

void matcher_destroy(struct matcher *m);

/* ------------------------------------------- stream and field matching --- */
/* Flow payloads are scanned in stream mode, one engine stream per flow
 * direction, so a match split across TCP segments is found once. The stream
 * database is compiled by the first thread calling matcher_stream_prepare()
 * (the others wait); it is then read-only like the block one. A struct
 * matcher_stream lives inline in its flow (one thread); the engine stream it
 * holds costs matcher_stream_size() bytes from open to close.
 * Boundaries are confirmed with the bytes at hand: the current segment and a
 * tail of MATCHER_STREAM_TAIL bytes of earlier ones. A candidate whose end
 * lies in the last two bytes of a segment, whose type has a boundary after it
 * (domain, e-mail, URL, digest, address, host, wallet, IBAN), is judged once
 * two bytes after it have come (or at the stream's end, which is a boundary), so
 * `10.0.0.1` | `23` is not taken for 10.0.0.1; up to MATCHER_STREAM_DEFER
 * wait at once, each short enough to stay in the tail. Any other byte not at
 * hand (before a long match, after the stream's end or a gap, or with the
 * waiting list full) counts as a boundary: the match is accepted, not lost. */

#define MATCHER_STREAM_TAIL 128  /* earlier bytes kept per direction */
#define MATCHER_STREAM_DEFER 2   /* candidates waiting for the next segment */
#define MATCHER_STREAM_RING 16   /* segments remembered to map offsets to packets */
#define MATCHER_STREAM_TEXT 256  /* longest matched text handed to the callback */

struct matcher_stream_seg {
	uint64_t off;       /* stream offset of the segment's first byte */
	uint64_t pkt;
	uint64_t ts;
};

struct matcher_stream {
	void *hs;           /* engine stream; NULL until the first payload */
	uint64_t base;      /* stream offset where the engine stream began */
	uint64_t fed;       /* bytes fed since base */
	uint64_t last_start;
	uint32_t last_ind;  /* last hit: an unbounded regex repeats its start */
	uint32_t tail_len;
	uint32_t seg_n, seg_next;
	uint32_t defer_n;
	uint32_t context;   /* context bytes asked for by the last scan, for the end */
	struct matcher_stream_defer {
		uint64_t to;    /* fed position where the candidate ends */
		uint32_t id;    /* indicator, or shape kind when shape is set */
		uint8_t len;    /* to - start (a shape's earliest token start) */
		bool shape;
	} defer[MATCHER_STREAM_DEFER];
	uint8_t tail[MATCHER_STREAM_TAIL];
	struct matcher_stream_seg seg[MATCHER_STREAM_RING];
};

/* A confirmed hit in a stream; pointers valid during the callback only. */
struct matcher_stream_hit {
	uint32_t ind;
	uint64_t start, end;        /* stream offsets; start == end when the engine
				     * cannot track a regex's start */
	uint64_t pkt_first, pkt_last;
	uint64_t ts_first, ts_last;
	const uint8_t *text;        /* the match bytes still at hand, at most MATCHER_STREAM_TEXT */
	size_t text_len;
	const uint8_t *before;      /* context before the match: current segment or tail */
	size_t before_len;
	const uint8_t *after;
	size_t after_len;
};

typedef void (*matcher_stream_fn)(void *user, const struct matcher_stream_hit *h);

/* Build the stream database if no thread did yet, and make s usable with it.
 * CS_ERR_COMPILE (d says why), CS_ERR_NOMEM. */
enum cs_err matcher_stream_prepare(const struct matcher *m, struct matcher_scratch *s,
				   struct cs_diag *d);
/* Bytes of engine state per open stream (after prepare). */
size_t matcher_stream_size(const struct matcher *m);
/* Indicators compiled into the stream database (after prepare). */
size_t matcher_stream_patterns(const struct matcher *m);

void matcher_stream_init(struct matcher_stream *ms);
/* Feed data (stream offset `offset`, carried by packet pkt_no at ts_ns).
 * An offset that does not follow the bytes fed so far starts a new engine
 * stream (as after a gap). context: bytes each side in the hit. */
enum cs_err matcher_stream_scan(const struct matcher *m, struct matcher_scratch *s,
				struct matcher_stream *ms, const uint8_t *data, size_t len,
				uint64_t offset, uint64_t pkt_no, uint64_t ts_ns, size_t context,
				matcher_stream_fn fn, void *user);
/* End the engine stream (matches at end of data are reported); the next scan
 * opens a new one. Used at a gap and at flow close. No-op when none is open. */
enum cs_err matcher_stream_end(const struct matcher *m, struct matcher_scratch *s,
			       struct matcher_stream *ms, matcher_stream_fn fn, void *user);
/* True while an engine stream is open. */
bool matcher_stream_open(const struct matcher_stream *ms);

/* Scan a field value (DNS name, SNI, Host, URL, hex digest) with the block
 * database and keep, in out from its current n on, the hits whose indicator
 * type is in type_mask (bit 1u << IND_*). Boundaries as in text: a domain
 * matches its subdomains. */
enum cs_err matcher_scan_field(const struct matcher *m, struct matcher_scratch *s,
			       const uint8_t *text, size_t len, unsigned type_mask,
			       struct matcher_hits *out, struct cs_diag *d);

#endif
