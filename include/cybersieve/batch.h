/* Batch scan of log inputs: the pipeline from ingest to evidence.
 *
 * The calling thread reads each input (decompressing gzip) into large
 * newline-aligned chunks; worker threads scan chunks with their own scratch
 * against the shared read-only matcher; one emitter thread turns hits into
 * records in input order, so output is deterministic whatever the thread count.
 * The caller owns the matcher, the input list, the writer and the result. */
#ifndef CYBERSIEVE_BATCH_H
#define CYBERSIEVE_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"
#include "cybersieve/evidence.h"
#include "cybersieve/ingest.h"
#include "cybersieve/matcher.h"

struct combo_set;
struct window_set;

enum input_status { INPUT_COMPLETE = 0, INPUT_PARTIAL, INPUT_FAILED };

struct batch_input {
	char *path;
	enum input_status status;
	char *reason;           /* first problem, NULL when complete */
	bool gzip;
	bool binary;            /* NUL bytes seen in the first chunk */
	bool have_sha256;
	uint8_t sha256[32];     /* of the raw bytes as read */
	uint64_t raw_bytes;
	uint64_t bytes;         /* decompressed bytes scanned */
	uint64_t lines;
	uint64_t matches;       /* records written for this input */
	uint64_t lines_split;   /* lines longer than the cap, scanned in pieces */
	uint64_t hits_dropped;  /* hits beyond the per-chunk cap, or a capture's held-records cap */
	uint32_t gz_members;
	uint32_t gz_resyncs;
	bool records_written;      /* its records reached the evidence file */
	/* captures (filled by on_capture) */
	bool capture;
	uint64_t packets;
	uint64_t decode_bad;       /* malformed packets, counted */
	uint64_t flows;
	uint64_t flow_evictions;   /* flows removed to stay under the memory cap */
	uint64_t flow_mem_peak;    /* most flow-state bytes held (summed over workers) */
	uint64_t flow_mem_cap;     /* the cap on them */
	uint64_t tcp_gaps;         /* holes in TCP streams skipped */
	unsigned workers;          /* packet workers it was shared among */
};

struct batch_progress {
	uint64_t raw_done;
	uint64_t raw_total;     /* 0 when unknown (stdin) */
	uint64_t bytes_done;    /* decompressed */
	uint64_t matches;
	double seconds;
};

struct batch_opts {
	unsigned threads;       /* worker threads, >= 1 */
	size_t chunk_size;      /* bytes per chunk */
	size_t max_line;        /* longest line scanned whole; longer ones are split */
	size_t context;         /* bytes of context each side of a match (0 allowed) */
	size_t max_text;        /* longest matched text kept in a record */
	size_t pending_cap;     /* records of one input held in memory before spilling */
	const char *spill_dir;
	const char *run_id;
	/* Context addresses in records replaced by tokens; NULL = kept as read.
	 * Borrowed, read-only, for the whole run. */
	const struct pseudo_key *pseudo;
	/* Combination rules over the matcher's indicators; NULL = none. Borrowed,
	 * read-only, for the whole run (src/correlate/combo.h). */
	const struct combo_set *combos;
	/* Window rules and their engine (src/correlate/window_set.h); NULL = none.
	 * Borrowed; its engine is fed by the emitter thread only. */
	struct window_set *windows;
	/* Set (by a signal handler) to stop reading; the input being read becomes partial. */
	const volatile int *stop;
	/* Called from the reading or emitting thread; may be NULL. */
	void (*on_event)(void *ctx, const struct cs_diag *d);
	void (*on_progress)(void *ctx, const struct batch_progress *p);
	/* An input whose (decompressed) content starts with a capture magic is handed
	 * here instead of being scanned as lines: prefix holds the n bytes already read
	 * from src. Called on the reading thread after every earlier input's records
	 * are written, so the callee may use the writer; it fills in (status, reason,
	 * matches ...) and must not read src past its end. NULL: captures are scanned
	 * as text. The source is closed (and hashed) by the caller afterwards. */
	void (*on_capture)(void *ctx, struct source *src, const uint8_t *prefix, size_t n,
			   struct batch_input *in);
	void *cb_ctx;
	/* inputs->v[0], opened already with source_open_ex() so that its
	 * read-ahead hashes while the caller compiles; NULL = none. batch_run()
	 * owns it from the call on and closes it whatever happens. */
	struct source *first_source;
};

struct batch_result {
	struct batch_input *inputs;
	size_t n_inputs;
	uint64_t *ind_matches;  /* records per matcher indicator index (rules: firings) */
	uint64_t rule_records;  /* records of fired rules (in matches too) */
	uint64_t rules_held_partial; /* rules with NOT that held where matches were lost:
				      * not fired */
	uint64_t matches;
	uint64_t raw_bytes, bytes, lines;
	double seconds;
	bool output_failed;     /* the run stopped: the records file could not be written */
	bool interrupted;       /* a stop left an input unread or read in part */
	size_t long_line_peak;  /* most bytes held at once for lines longer than a chunk */
	struct cs_diag output_diag;
};

enum cs_err batch_run(const struct matcher *m, const struct walk_list *inputs,
		      struct ev_writer *w, const struct batch_opts *opts, struct batch_result *res);

void batch_result_fini(struct batch_result *res);

const char *input_status_name(enum input_status s);

#endif
