/* Private to the batch pipeline: the slot ring and the three stages' shared state. */
#ifndef CS_PIPELINE_BATCH_INT_H
#define CS_PIPELINE_BATCH_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "correlate/combo.h"
#include "cybersieve/batch.h"

enum slot_state { SLOT_FREE = 0, SLOT_FILLED, SLOT_SCANNING, SLOT_SCANNED };

struct slot {
	enum slot_state state;
	uint64_t seq;
	uint8_t *buf;
	size_t cap;
	size_t len;
	size_t skip;          /* overlap carried from the previous piece of a split line */
	uint64_t base_off;    /* decompressed offset of buf[0] in its input */
	size_t input;
	bool first, last;
	bool split;           /* ends inside an over-long line */
	bool break_after;     /* decoding stopped here: the line ends though no newline */
	bool sha_known;       /* the input's SHA-256 became known before its end (the
			       * read-ahead hashed it all): in sha256, on one slot */
	uint8_t sha256[32];
	/* filled by the worker */
	struct matcher_hits hits;
	uint64_t newlines;
	enum cs_err scan_err;
};

struct worker {
	struct batch *b;
	struct matcher_scratch *scratch;
};

struct batch {
	const struct matcher *m;
	struct ev_writer *w;
	struct batch_opts opts;
	struct batch_result *res;
	const struct walk_list *list;
	size_t overlap;
	double t0;

	pthread_mutex_t mu;
	pthread_mutex_t note_mu;  /* batch_note runs on the reader and the emitter */
	pthread_cond_t cv_free, cv_filled, cv_scanned;
	struct slot *ring;
	size_t n_slots;
	uint64_t next_fill, next_scan, next_emit, total_seq;
	bool reader_done;
	unsigned grown;          /* slots holding a buffer grown past chunk_size (at most one
				  * but on abort): a long line waits for the last one's release */
	size_t grown_bytes;      /* their buffers' bytes */
	atomic_bool abort;       /* output failed: stop reading */
	struct worker *workers;

	/* reader-only */
	uint8_t *carry;
	size_t carry_len, carry_cap;
	uint64_t raw_total;
	uint64_t raw_prev;        /* raw bytes of the inputs already read */
	_Atomic uint64_t raw_done;

	/* emitter-only */
	struct ev_pending *pending;
	struct jbuf rec;
	uint64_t lines_before;   /* newlines seen in the current input before this slot */
	bool in_split;           /* previous slot ended inside a split line */
	bool ends_nl;            /* the input's bytes so far end with a newline */
	char early_hex[65];      /* the current input's SHA-256 known early, "" until then:
				  * its records are written as they come */
	uint64_t bytes_done;
	double last_progress;
	/* emitter-only: combination rules (batch_rules.c) */
	struct combo_scope scope[COMBO_SCOPE_COUNT];
	bool scope_on[COMBO_SCOPE_COUNT];
	uint64_t scope_line;      /* line of the line scope being collected */
	uint64_t *seps;           /* message separators (line numbers) in the current slot */
	size_t n_seps, cap_seps, next_sep;
	bool prev_blank;          /* the last slot ended with an empty line */
	bool is_mail;             /* the current input is e-mail: it has message scopes */
	bool slot_partial;        /* the slot being emitted lost matches */
	struct batch_mailq *mailq; /* messages of a mail server log (batch_mailq.c) */
};

struct slot *batch_acquire(struct batch *b);
void batch_publish(struct batch *b, struct slot *s);
bool batch_grow_slot(struct batch *b, struct slot *s, size_t need);
void batch_note_line_mem(struct batch *b);
void batch_drain(struct batch *b);
void batch_read_input(struct batch *b, size_t index);
void batch_emit_slot(struct batch *b, struct slot *s);
/* Rules above single matches (batch_rules.c), on the emitter thread. */
enum cs_err batch_rules_init(struct batch *b);
void batch_rules_fini(struct batch *b);
void batch_rules_slot(struct batch *b, struct slot *s);
void batch_rules_hit(struct batch *b, struct slot *s, struct batch_input *in,
		     const struct matcher_hit *h);
void batch_rules_slot_end(struct batch *b, struct slot *s, struct batch_input *in);
void batch_rules_lines(struct batch *b, struct slot *s, struct batch_input *in);
/* Judge the rules of scope k over what the scope holds, and empty it. */
void batch_rules_scope_end(struct batch *b, struct batch_input *in, enum combo_scope_kind k);
/* Messages of mail server logs, by queue id (batch_mailq.c). */
struct batch_mailq;
void batch_mailq_hit(struct batch *b, struct batch_input *in, const struct slot *s,
		     const struct matcher_hit *h, const struct combo_part *p);
void batch_mailq_input_end(struct batch *b, struct batch_input *in);
void batch_mailq_free(struct batch *b);
void batch_rules_input_end(struct batch *b, struct batch_input *in);
/* Record failure: stop the run (batch_emit.c). */
void batch_output_failed(struct batch *b, const struct cs_diag *d);

/* Hold the record rendered in b->rec among the pending records; on failure
 * report it (naming in's path) through batch_output_failed and return false. */
bool batch_hold_record(struct batch *b, const struct batch_input *in);
void batch_note(struct batch *b, struct batch_input *in, enum input_status st,
		const struct cs_diag *d);
void batch_note_stopped(struct batch *b, struct batch_input *in, enum input_status st,
			const struct cs_diag *d);

#endif
