/* Packets: captures (files or a live interface) through decode, flows and TCP
 * ordering, application fields and stream matching, to evidence records.
 *
 * packet_run() reads every packet of an open capture until its end, a stop
 * request, or an output failure. Packets go to worker threads by a symmetric
 * flow hash; each worker owns its flow table, Hyperscan scratch and streams.
 * The caller owns the matcher (shared read-only), the capture and the writer.
 *
 * Combination rules of scope flow and flow-dir (src/correlate/combo.h) are
 * judged when a flow ends (FIN/RST, idle timeout, eviction, end of input):
 * each match their rules use is kept with its flow as a part (at most
 * PACKET_FLOW_PARTS per flow, the first of each indicator and direction), and
 * each rule that holds over the flow, or over one of its directions, writes
 * one record naming every part. Rules of scope line and message are left to
 * text inputs.
 *
 * Live capture can take new rules while it runs (struct packet_swap below):
 * each worker switches to the new matcher at a packet boundary, so the
 * capture itself never waits for a compile. */
#ifndef CYBERSIEVE_PACKET_H
#define CYBERSIEVE_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cybersieve/capture.h"
#include "cybersieve/decode.h"
#include "cybersieve/error.h"
#include "cybersieve/evidence.h"
#include "cybersieve/flow.h"
#include "cybersieve/matcher.h"

#define PACKET_FLOW_PARTS 32      /* parts of flow rules kept per flow */
#define PACKET_PART_TEXT 256      /* bytes of a part's matched text kept */

struct combo_set;

struct packet_stats {
	uint64_t packets;
	uint64_t bytes;              /* captured bytes */
	uint64_t matches;            /* records written (rule records included) */
	uint64_t rule_records;       /* records of flow and flow-dir rules */
	uint64_t parts_dropped;      /* matches flow rules use that were not kept: the
				      * flow held PACKET_FLOW_PARTS, or no room */
	uint64_t rules_held_partial; /* rules with a NOT that held over a flow partly
				      * read (gap, parts dropped, reload): not written */
	uint64_t *ind_matches;       /* optional: records per matcher indicator (caller's array) */
	struct decode_stats decode;  /* summed over workers */
	struct flow_stats flow;      /* summed over workers */
	uint64_t http_bodies_hashed;
	uint64_t http_bodies_truncated;
	uint64_t dns_names, tls_snis, http_requests;
	uint64_t frag_reassembled;
	uint64_t pcap_received, pcap_dropped, pcap_if_dropped; /* live capture */
	uint64_t not_tcp_udp;        /* decoded packets of other protocols: not followed */
	uint64_t records_dropped;    /* matches beyond the held-records cap (files) */
	uint64_t streams_peak;       /* engine streams open at once, summed over workers */
	uint64_t stream_bytes_peak;  /* streams_peak * bytes per engine stream */
	uint64_t stream_errors;
	bool read_error;             /* the capture ended early (cut short, corrupt,
				      * unsupported block): the input is partial */
	bool stopped;                /* *stop was set before the end */
	struct cs_diag read_diag;    /* why, when read_error */
};

struct packet_opts {
	unsigned threads;            /* worker threads, >= 1 */
	struct flow_table_config flow; /* per worker; the memory cap is divided among workers */
	size_t context;              /* bytes of payload context each side of a match */
	const struct pseudo_key *pseudo; /* context addresses as tokens; NULL = as seen */
	const char *run_id;
	const char *source_label;    /* capture path, or interface name for live capture */
	bool live;                   /* tap mode: records written as found, not ordered */
	const volatile int *stop;    /* set by a signal handler: finish cleanly */
	double stats_interval;       /* seconds between on_stats calls (live), 0 = never */
	void (*on_event)(void *ctx, const struct cs_diag *d);
	void (*on_stats)(void *ctx, const struct packet_stats *st);
	void *cb_ctx;
	const char *spill_dir;       /* for records held until the capture's SHA-256 is known */
	uint64_t held_cap;           /* bytes of records held (files), 0: 4 GiB; beyond
				      * it matches are counted in records_dropped */
	size_t held_mem;             /* of those, bytes in memory (0: 64 MiB); the rest
				      * wait in an unlinked file in spill_dir (256 MiB in
				      * memory when the file cannot be made) */
	struct packet_swap *swap;    /* live only: new matchers handed in while the run
				      * goes on (packet_swap_apply); NULL = fixed rules.
				      * Not with st->ind_matches (indices change). */
	const struct combo_set *combos; /* rules built from the matcher given to
				      * packet_run (combo_set_create); NULL = none */
	struct matcher_scratch *const *scratch; /* threads of them, made by the caller
				      * (matcher_scratch_create) for the matcher given
				      * and lent to the workers, one each: a scan of many
				      * captures makes them once. NULL (or a NULL entry):
				      * a worker makes and frees its own. Not with swap. */
};

/* Fill o with defaults: 1 thread, flow table defaults, 64 bytes of context. */
void packet_opts_default(struct packet_opts *o);

/* Process the capture to its end. For a file (live == false) the records are
 * held (ev_pending) and written at the end, ordered by packet number, with the
 * SHA-256 given by sha256_hex_fn called once reading is over (it may be NULL for
 * live capture, where source.sha256 is null; when it returns false the input's
 * digest is not known and the records say null). Errors: CS_ERR_IO when the writer
 * fails (the run must stop), CS_ERR_NOMEM. Bad packets are counted, not errors. */
typedef bool (*packet_sha256_fn)(void *ctx, char hex[65]);
enum cs_err packet_run(const struct matcher *m, struct capture *cap, struct ev_writer *w,
		       const struct packet_opts *o, packet_sha256_fn sha256_hex_fn, void *sha_ctx,
		       struct packet_stats *st, struct cs_diag *d);

/* ------------------------------------------------------- rule reload --- */
/* Handing a new matcher to a running live pipeline (tap on SIGHUP).
 *
 * The caller builds the new matcher (with MATCHER_BUILD_STREAM) on a thread of
 * its own and calls packet_swap_apply(), which prepares one scratch per worker
 * on that thread and publishes the switch. Each worker takes it at its next
 * packet boundary (or idle wake-up, at most 50 ms later): it first ends the
 * engine streams of every flow it holds on the old database (matches at their
 * end are reported with the old rules), then scans with the new one; a flow's
 * next bytes open a new engine stream at their stream offset. An indicator
 * split across the switch in one TCP direction is therefore missed, as across
 * a capture gap, but no stream is ever scanned with state from another
 * database, and the old database is unused once the last worker has switched,
 * instead of lingering for as long as a flow opened under it lives. An HTTP
 * body open at the switch whose digests or decoding the new rules need but
 * the old did not is counted as truncated rather than hashed in part.
 * Addresses are matched when a flow opens: flows already open keep the
 * address matches of the old rules.
 *
 * When the last worker has switched, the pipeline writes the caller's record
 * (render) into the evidence in the same critical section that numbers and
 * links match records, and packet_swap_apply() returns the matcher no longer
 * in use. Records of the old rules therefore all come before that record;
 * records written between the publication and it may come from either set
 * (each names its pack and digest).
 *
 * Owner: the caller creates the swap before packet_run() and destroys it after
 * the run and every packet_swap_apply() caller are done. One swap serves one
 * run. packet_swap_apply() may be called from any thread but the pipeline's;
 * calls are served one at a time. */
struct packet_swap;

/* Render the record of a switch (or of a record-only call) as one JSON object
 * without a newline, first key prev holding the placeholder; called on a
 * pipeline thread under the evidence lock. at: when the switch completed. */
typedef void (*packet_swap_render_fn)(void *ctx, struct jbuf *j, const char *run_id,
				      uint64_t seq, const struct timespec *at);

enum cs_err packet_swap_create(struct packet_swap **out);
/* NULL is a no-op. Call only when no run and no packet_swap_apply() use it. */
void packet_swap_destroy(struct packet_swap *sw);

/* Switch the attached run to m and write the record render gives, then return.
 * Waits for packet_run() to start when it has not yet. m NULL: write the record
 * only (a reload that failed). On CS_OK, or CS_ERR_IO (switched, but the record
 * could not be written: the run stops), *old is the matcher no longer used by
 * any worker (the caller frees it, and m is now in use) and *at the time of the
 * record. Other errors leave the rules as they were and m with the caller:
 * CS_ERR_INVALID (the run has ended or never started: d says so), CS_ERR_NOMEM,
 * CS_ERR_COMPILE (m's stream database is unusable). */
enum cs_err packet_swap_apply(struct packet_swap *sw, struct matcher *m,
			      packet_swap_render_fn render, void *ctx, const struct matcher **old,
			      struct timespec *at, struct cs_diag *d);
/* The same with the combination rules built from m (NULL: none from then on;
 * packet_swap_apply passes NULL). The caller frees the combination rules of
 * the old matcher with it. Parts a flow kept under the old rules are dropped
 * at the switch; such a flow is judged on the parts seen afterwards, and its
 * rules with a NOT do not fire (packet_stats.rules_held_partial). */
enum cs_err packet_swap_apply_rules(struct packet_swap *sw, struct matcher *m,
				    const struct combo_set *combos, packet_swap_render_fn render,
				    void *ctx, const struct matcher **old, struct timespec *at,
				    struct cs_diag *d);

/* Refuse every later packet_swap_apply() and wake those waiting for the run to
 * start. packet_run() calls it as it returns; a caller whose run never
 * started calls it so that waiting threads give up. */
void packet_swap_close(struct packet_swap *sw);

#endif
