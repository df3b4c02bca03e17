/* Packets: captures (files or a live interface) through decode, flows and TCP
 * ordering, application fields and stream matching, to evidence records.
 *
 * packet_run() reads every packet of an open capture until its end, a stop
 * request, or an output failure. Packets go to worker threads by a symmetric
 * flow hash; each worker owns its flow table, Hyperscan scratch and streams.
 * The caller owns the matcher (shared read-only), the capture and the writer. */
#ifndef CYBERSIEVE_PACKET_H
#define CYBERSIEVE_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/capture.h"
#include "cybersieve/decode.h"
#include "cybersieve/error.h"
#include "cybersieve/evidence.h"
#include "cybersieve/flow.h"
#include "cybersieve/matcher.h"

struct packet_stats {
	uint64_t packets;
	uint64_t bytes;              /* captured bytes */
	uint64_t matches;            /* records written */
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
	size_t held_cap;             /* bytes of records held (files), 0: 256 MiB; beyond
				      * it matches are counted in records_dropped */
};

/* Fill o with defaults: 1 thread, flow table defaults, 64 bytes of context. */
void packet_opts_default(struct packet_opts *o);

/* Process the capture to its end. For a file (live == false) the records are
 * held (ev_pending) and written at the end, ordered by packet number, with the
 * SHA-256 given by sha256_hex_fn called once reading is over (it may be NULL for
 * live capture, where source.sha256 is null). Errors: CS_ERR_IO when the writer
 * fails (the run must stop), CS_ERR_NOMEM. Bad packets are counted, not errors. */
typedef void (*packet_sha256_fn)(void *ctx, char hex[65]);
enum cs_err packet_run(const struct matcher *m, struct capture *cap, struct ev_writer *w,
		       const struct packet_opts *o, packet_sha256_fn sha256_hex_fn, void *sha_ctx,
		       struct packet_stats *st, struct cs_diag *d);

#endif
