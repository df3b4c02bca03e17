/* Private to the packet pipeline: the reader-to-worker rings, the per-flow
 * state kept in the flow table's user area, the workers and their held
 * records, the rule swap. The reading thread owns the run and the rings'
 * producer ends; each worker owns its flow table, scratch, parser states,
 * held records, its ring's consumer end and the matcher it scans with. */
#ifndef CS_PIPELINE_PACKET_INT_H
#define CS_PIPELINE_PACKET_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "correlate/combo.h"
#include "cybersieve/app.h"
#include "cybersieve/packet.h"

/* ------------------------------------------------------------- ring --- */

/* One packet in a ring: this header, then caplen bytes, padded to 8. */
struct pk_ent {
	uint32_t size;          /* header + data, padded; 0 = wrap to the start */
	uint32_t caplen;
	int32_t linktype;       /* PK_LINK_IP: a reassembled IP datagram */
	uint32_t pad_;
	uint64_t number;
	uint64_t ts_ns;
};

#define PK_LINK_IP (-1)
#define PK_RING_BYTES ((size_t)8 << 20)   /* per worker; holds >= 30 largest frames */

/* Single producer (the reader), single consumer (one worker). */
struct pk_ring {
	uint8_t *buf;
	size_t cap;
	/* The reader's line: what it publishes, and the last tail it read. */
	_Alignas(64) _Atomic uint64_t head; /* bytes published */
	uint64_t tail_seen;
	/* The worker's line: what it consumed, and the last head it read. */
	_Alignas(64) _Atomic uint64_t tail; /* bytes consumed */
	uint64_t head_seen;
	_Alignas(64) atomic_bool done;      /* no more entries will come */
	atomic_bool prod_wait, cons_wait;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

enum cs_err pk_ring_init(struct pk_ring *r, size_t cap);
void pk_ring_fini(struct pk_ring *r);
/* Copy one packet in, waiting for room. */
void pk_ring_push(struct pk_ring *r, const uint8_t *data, uint32_t caplen, int32_t linktype,
		  uint64_t number, uint64_t ts_ns);
void pk_ring_close(struct pk_ring *r);
/* Next entry (data follows it), or NULL once closed and empty. Waits at most
 * wait_ms when empty, then returns NULL with *idle set. */
const struct pk_ent *pk_ring_peek(struct pk_ring *r, int wait_ms, bool *idle);
void pk_ring_pop(struct pk_ring *r, const struct pk_ent *e);

/* -------------------------------------------------------- flow state --- */

/* An indicator a parsed field of a direction reported (DNS name, SNI, HTTP
 * Host or URL), with the packets of that field: the same indicator in the
 * raw bytes of those packets is the same occurrence, not reported again as
 * payload. */
struct pk_field_seen {
	uint64_t pkt_first;
	uint32_t ind;
	uint32_t span;                /* pkt_last - pkt_first, capped */
};

#define PK_FIELDS_SEEN 4

#define PK_CHUNK_BOUNDS 8

/* Scan state of an HTTP body's decoded bytes (content coding removed, or
 * chunk framing removed): heap, only while such a body is open in its
 * direction (a flow holds at most two). */
struct pk_body_scan {
	struct matcher_stream ms;
	uint64_t off;                 /* decoded bytes scanned so far */
	/* A chunked body without a content coding: where its latest chunks
	 * ended (offsets in the body, round robin). Only a hit across one of
	 * them is reported from the body: the payload scan has the others. */
	uint64_t bound[PK_CHUNK_BOUNDS];
	unsigned n_bound;
};

struct pk_dir {
	struct matcher_stream ms;
	struct pk_body_scan *body;    /* NULL unless a coded body is being scanned */
	struct app_dns_tcp dns;
	uint64_t head_pkt, head_ts;   /* first packet of the HTTP head being read */
	uint64_t body_pkt, body_ts;   /* first packet of the HTTP body being read */
	uint64_t first_pkt, first_ts; /* first packet with data */
	struct pk_field_seen seen[PK_FIELDS_SEEN]; /* the latest, round robin */
	uint8_t seen_next;
	bool body_skip;               /* this body's scan state could not be had */
};

#define PK_DNS_IDS 8

/* A match that a flow or flow-dir rule uses, kept until its flow ends. */
struct pk_part {
	uint64_t pkt_first, pkt_last, ts_first, ts_last;
	uint64_t length, offset;
	const char *field;            /* a string literal */
	uint32_t ind;
	uint16_t text_len;
	uint8_t dir;                  /* enum flow_dir */
	bool has_offset;
	uint8_t text[PACKET_PART_TEXT];
};

/* A flow's parts, first of each indicator and direction in the order found:
 * heap, grown by doubling up to PACKET_FLOW_PARTS, charged to the flow
 * table's budget (pk_parts_bytes). */
struct pk_parts {
	uint32_t n, cap;
	struct pk_part v[];
};

struct pk_flow {
	struct pk_dir d[2];
	/* The worker's open flows (on_open to on_close), so that a rule switch
	 * can end every engine stream; slots never move, so the links hold. */
	struct flow *self;
	struct pk_flow *prev, *next;
	struct app_tls tls;
	struct app_http http;
	uint64_t http_mem;            /* app_http_mem() charged to the flow table's budget */
	/* Written by pk_flow_texts() when a record or an address indicator
	 * first needs them: most flows never match, and formatting these for
	 * every flow was a tenth of the work of a capture of short flows. */
	bool texts;
	char cid[DECODE_COMMUNITY_ID_LEN];
	char client[48], server[48];  /* addresses as text */
	uint16_t cport, sport;
	uint8_t proto;
	bool dns, tls_on, http_on;
	uint16_t dns_ids[PK_DNS_IDS]; /* queries seen: their responses are not reported again */
	uint8_t dns_next;
	struct pk_parts *parts;       /* NULL until a flow rule wants a match */
	bool rules_partial;           /* bytes or parts were missed: NOT cannot be judged */
};

/* ------------------------------------------------------ held records --- */

struct pk_held {
	uint64_t key;           /* packet number the record is ordered by */
	uint64_t wseq;          /* order within the worker */
	uint64_t off;           /* body bytes in the worker's store */
	uint32_t len;
	uint32_t worker;
};

struct pk_out {
	struct pk_held *v;
	size_t n, cap;
	struct jbuf bytes;      /* record bodies (ev_packet_record_render_body) not spilled */
	uint64_t spilled;       /* bytes of bodies moved to spill_fd; held offsets count them */
	int spill_fd;           /* unlinked file in spill_dir, -1 until memory is full */
	bool spill_failed;      /* no file: bodies stay in memory, up to mem_cap_max */
	const char *spill_dir;
	size_t mem_cap;         /* bodies kept in memory before they go to the file */
	size_t mem_cap_max;     /* in memory when there is no file */
	uint64_t cap_bytes;     /* beyond it (memory and file) records are dropped (counted) */
	uint64_t dropped;
};

/* ------------------------------------------------------------ worker --- */

struct pk_run;
struct pk_swap_slot;

/* The scopes a worker judges one set of flow rules with: [0] flow, [1]
 * flow-dir. Made on any thread, then used by one worker only. */
struct pk_scopes {
	const struct combo_set *cs;
	struct combo_scope sc[2];
	bool on[2];                  /* rules of that scope exist */
};

struct pk_worker {
	struct pk_run *run;
	unsigned index;
	pthread_t th;
	bool started;
	const struct matcher *m;    /* the rules this worker scans with */
	uint64_t swap_gen;          /* last rule switch taken (struct packet_swap) */
	struct flow_table *ft;
	struct pk_flow *flows;      /* open flows, newest first */
	uint64_t stream_cost;       /* bytes charged to the flow budget per open stream */
	uint64_t stream_nomem;      /* streams not opened: no room under the cap */
	bool closing;               /* inside on_close: open no stream, evict nothing */
	struct matcher_scratch *scr;
	bool scr_lent;               /* scr is packet_opts.scratch's: not freed here */
	bool stream_ok;              /* payload stream scanning available */
	bool ip_on;                  /* the rules list addresses (set with the rules) */
	struct matcher_hits hits;
	/* Host-name field hits of the segment being handled (on_data): the
	 * payload scan of that segment checks them all, however many there
	 * are; pk_dir.seen keeps the latest across segments. */
	struct pk_field_seen *seg_seen;
	size_t seg_n, seg_cap;
	const struct pk_flow *seg_flow;
	uint8_t seg_dir;
	struct app_http_env http_env; /* digests: those the current rules need */
	struct app_http_env md_env;   /* owns all three digest algorithms */
	struct app_http_stats http_st;
	struct app_tls_stats tls_st;
	struct app_dns_stats dns_st;
	struct decode_stats dec;     /* re-decode of dispatched frames (not reported) */
	struct pk_ring ring;
	/* the packet being worked on */
	struct flow *cur;
	enum flow_dir cur_dir;
	uint64_t cur_pkt, cur_ts;
	/* output */
	struct pk_out out;
	struct jbuf rec;
	uint64_t wseq;
	uint64_t *ind_matches;      /* NULL unless the caller counts per indicator */
	_Atomic uint64_t matches;   /* read by the reader for live stats */
	uint64_t bodies_hashed, bodies_truncated, dns_names, tls_snis, http_requests;
	uint64_t streams_open, streams_peak, stream_errors;
	/* decoded (gzip/deflate) body scanning: states allocated, allocations
	 * failed, decoded bytes scanned */
	uint64_t body_scans, body_scan_nomem, body_scan_bytes;
	bool failed;                 /* live output failed */
	/* flow rules (packet_rules.c) */
	struct pk_scopes rules;
	uint64_t part_credit;        /* bytes charged to the flow budget, not yet given to parts */
	uint64_t rule_records, parts_dropped, rules_held_partial;
};

struct pk_run {
	const struct matcher *m;     /* the rules the run started with */
	const struct packet_opts *o;
	struct ev_writer *w;
	unsigned n;
	bool count_ind;              /* the caller counts records per indicator */
	struct pk_worker *workers;
	pthread_mutex_t out_mu;      /* live: the writer */
	atomic_bool abort;           /* live output failed: stop */
	struct cs_diag out_diag;
	struct timespec detected;    /* files: one detection time for the run's records */
};

enum cs_err pk_worker_init(struct pk_worker *w, struct pk_run *run, unsigned index,
			   struct cs_diag *d);
void pk_worker_fini(struct pk_worker *w);
/* A decoded TCP/UDP packet of this worker's share. */
void pk_worker_packet(struct pk_worker *w, const struct pkt *p, uint64_t number, uint64_t ts_ns);
/* Thread body: drain the ring, then flush the flow table. */
void *pk_worker_main(void *arg);
/* End of input on this worker's thread: close every flow. */
void pk_worker_finish(struct pk_worker *w);

/* A match: what the emit stage needs besides the flow and worker. */
struct pk_match {
	uint32_t ind;
	const char *field;
	enum flow_dir dir;
	uint64_t pkt_first, pkt_last, ts_first, ts_last;
	const uint8_t *text;
	size_t text_len;
	uint64_t length;
	const uint8_t *before, *after;
	size_t before_len, after_len;
	bool has_offset;
	uint64_t offset;
	bool has_body;
	uint64_t body_length;
	const char *content_encoding;
	bool body_as_sent;
};

/* Write (live) or hold (files) the record of mt; keep it as a part when a
 * flow rule uses its indicator. Part-only indicators (IND_F_QUIET) write no
 * record. */
void pk_emit(struct pk_worker *w, struct pk_flow *pf, const struct pk_match *mt);
/* Fill pf's Community ID and address texts, once (packet_worker.c). */
void pk_flow_texts(struct pk_flow *pf);
/* The record of a fired flow rule (matcher index rule), held under key (the
 * last packet of its parts) for files, written at once live. */
void pk_emit_rule(struct pk_worker *w, const struct ev_aggregate *a, uint32_t rule, uint64_t key);
/* Live: number and write one record that render gives (time at), under the
 * run's output lock, using j as scratch. A failed write stops the run as a
 * failed match record does. CS_ERR_IO (d says why) when nothing was written. */
enum cs_err pk_emit_event(struct pk_run *run, struct jbuf *j, packet_swap_render_fn render,
			  void *ctx, const struct timespec *at, struct cs_diag *d);
/* Files: write every worker's held records ordered by packet number. */
enum cs_err pk_emit_merge(struct pk_run *run, const char *sha256_hex, struct cs_diag *d);
void pk_out_fini(struct pk_out *o);

/* ------------------------------------------------------- flow rules --- */

/* Scopes for cs's flow and flow-dir rules (cs NULL or without such rules:
 * none). CS_ERR_NOMEM. */
enum cs_err pk_scopes_init(struct pk_scopes *s, const struct combo_set *cs);
void pk_scopes_fini(struct pk_scopes *s);
/* True when the worker's rules hold flow or flow-dir rules. */
static inline bool pk_rules_on(const struct pk_worker *w)
{
	return w->rules.on[0] || w->rules.on[1];
}
/* Keep mt with its flow when a flow rule uses its indicator; a part that
 * finds no room is counted and makes the flow partial. Allocates only from
 * the worker's credit, so it never evicts (it runs inside scans). */
void pk_rules_keep(struct pk_worker *w, struct pk_flow *pf, const struct pk_match *mt);
/* The flow ends: judge its rules, write a record per rule that holds, free
 * its parts. */
void pk_rules_flow_end(struct pk_worker *w, struct pk_flow *pf);
/* A rule switch: drop the parts kept under the old rules (their indices are
 * the old matcher's); the flow is partial from then on. */
void pk_rules_forget(struct pk_worker *w, struct pk_flow *pf);
/* Between packets: charge the flow budget so that the credit covers one
 * flow's parts at their largest (evicting other flows if need be). */
void pk_rules_topup(struct pk_worker *w);
/* End of the run: give the credit back to the budget. */
void pk_rules_release(struct pk_worker *w);

/* -------------------------------------------------------- rule swap --- */

/* What one worker needs to scan with a new matcher, made on the caller's
 * thread before the switch is published. */
struct pk_swap_slot {
	struct matcher_scratch *scr; /* taken by the worker (NULL afterwards) */
	bool stream_ok;
	struct pk_scopes rules;      /* for the new rules; the worker's old ones
				      * come back here (freed with the slot) */
};

/* Owner: the caller (packet_swap_create). mu guards every field but gen and
 * pending; next, slots and render are written before gen is raised (release)
 * and read by workers after they see it (acquire), and stay until done. */
struct packet_swap {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pk_run *run;          /* the attached run, NULL before and after */
	bool closed;                 /* no more switches: the run ended (or never ran) */
	bool busy;                   /* a packet_swap_apply() is under way */
	bool done;                   /* the published switch is complete */
	const struct matcher *cur;   /* in use by the attached run */
	const struct matcher *old;   /* replaced by the last switch */
	_Atomic uint64_t gen;        /* raised once per published switch */
	atomic_uint pending;         /* workers still to switch */
	const struct matcher *next;
	struct pk_swap_slot *slots;  /* one per worker */
	unsigned n_slots;
	packet_swap_render_fn render;
	void *render_ctx;
	struct timespec at;          /* the switch completed */
	enum cs_err result;          /* of the record's write */
	struct cs_diag diag;
};

/* packet_run: make sw serve run (its workers are ready), and take it back. */
void pk_swap_attach(struct packet_swap *sw, struct pk_run *run);
void pk_swap_detach(struct packet_swap *sw);
/* On the worker's thread, between packets: take a published switch. */
void pk_swap_poll(struct pk_worker *w);
/* The worker's side of a switch (packet_worker.c): end every engine stream on
 * the old matcher, then scan with m and the slot's scratch. */
void pk_worker_switch(struct pk_worker *w, const struct matcher *m, struct pk_swap_slot *slot);

#endif
