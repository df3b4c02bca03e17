/* Evidence: match records as NDJSON, and the file they are written to.
 *
 * struct ev_writer owns the output descriptor (records.ndjson or stdout). A
 * write either lands whole or is rolled back (the file is truncated to the last
 * complete record), so what was written stays valid NDJSON when the disk fills.
 * struct ev_pending holds the records of one input until the input's SHA-256 is
 * known (the digest goes in every record): in memory up to a cap, beyond it in
 * an unlinked spill file. Both are owned by the one thread that emits records. */
#ifndef CYBERSIEVE_EVIDENCE_H
#define CYBERSIEVE_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cybersieve/chain.h"
#include "cybersieve/error.h"
#include "cybersieve/json.h"
#include "cybersieve/matcher.h"

#define EV_TOOL_NAME "cybersieve"
/* Stands in for an input's SHA-256 until the input has been read to the end. */
#define EV_SHA256_PLACEHOLDER "????????????????????????????????????????????????????????????????"

struct pseudo_key;

struct ev_record {
	const char *run_id;
	uint64_t seq;                 /* 1-based number of the record in the run */
	struct timespec detected;
	const struct matcher_ind *mi;
	const char *path;             /* input as named on the command line / walk */
	bool gzip;
	uint64_t line;                /* 1-based */
	uint64_t offset;              /* byte offset in the decompressed stream */
	const uint8_t *text;
	size_t text_len;
	const uint8_t *before;        /* context before the match, within the line */
	size_t before_len;
	const uint8_t *after;
	size_t after_len;
	uint32_t count;               /* occurrences of the indicator on the line */
	bool line_split;              /* the line was longer than the cap and split */
	/* Context addresses replaced by tokens when set (include/cybersieve/pseudo.h);
	 * the cut flags say the window ended inside the line on that side. */
	const struct pseudo_key *pseudo;
	bool before_cut, after_cut;
};

/* True when the category's records must carry no content (csam). */
bool ev_category_withholds_content(const char *category);

/* The article of the UN Convention against Cybercrime a pack's records speak
 * to: the "art. N" its legal heading names, else the category's (scam 13,
 * csam 14, grooming 15, laundering 17); 0 when there is none. */
unsigned ev_legal_article(const struct pack *p);

/* Pieces both record kinds share. ev_kv_text writes a byte string and, when it
 * was not valid UTF-8, a "<key>_b64" field with the exact bytes beside it. */
void ev_kv_text(struct jbuf *j, const char *key, const uint8_t *s, size_t n);
void ev_render_indicator(struct jbuf *j, const struct matcher_ind *mi);
/* For a lookalike indicator: "lookalike": {kind, distance, brand, label} of
 * the host name text; nothing for other indicators. */
void ev_render_lookalike(struct jbuf *j, const struct matcher_ind *mi, const uint8_t *text,
			 size_t len);
/* time_detected, tool, indicator, legal, article, tlp: the keys every record has. */
void ev_render_common(struct jbuf *j, const struct timespec *detected,
		      const struct matcher_ind *mi);

/* Render one record (no trailing newline) into j; source.sha256 holds the
 * placeholder, and so does prev (the first key) until the writer links it. */
void ev_record_render(struct jbuf *j, const struct ev_record *r);

/* One part of an aggregate record: a match that a combination rule joined,
 * or a record that a window rule counted. Enough for the receiver to find
 * the bytes again: the input's path and SHA-256, line, offset and length;
 * for a match in a capture (packet set) the packets and the field instead
 * of gzip and line. */
struct ev_contrib {
	const char *path;     /* input; packet: capture path, or interface when live */
	const char *sha256;   /* hex; NULL: the input is still being read (placeholder);
			       * "": unknown (the input could not be read to its end) */
	bool gzip;
	uint64_t line;        /* 1-based */
	uint64_t offset;      /* byte offset in the decompressed stream; packet: stream
			       * offset, rendered only with has_offset */
	uint64_t length;      /* bytes of the match (combo) or of the record (window) */
	const struct matcher_ind *part; /* combo: the indicator that matched; else NULL */
	const uint8_t *text;  /* combo: the matched text (left out for csam packs) */
	size_t text_len;
	const char *time;     /* window: the record's time, RFC 3339; else NULL */
	/* A match in a capture: rendered with kind, path or interface, sha256
	 * (the placeholder for a capture, null live; the sha256 member is not
	 * read), packet numbers and times, field and direction. */
	bool packet;
	bool live;                    /* source is an interface; sha256 is null */
	uint64_t pkt_first, pkt_last; /* 1-based packet numbers */
	uint64_t ts_first, ts_last;   /* packet times, ns since the epoch */
	const char *field;            /* "payload", "dns.query", "tls.sni", ... */
	bool to_client;               /* direction of the bytes that matched */
	bool has_offset;
};

/* A captured flow as its initiator opened it (packet records and rules). */
struct ev_flow {
	const char *src_ip, *dest_ip; /* text */
	uint16_t src_port, dest_port;
	uint8_t proto;
	const char *community_id;
};

/* "flow": the flow object; direction ("to_server", "to_client") is left out
 * when NULL. */
void ev_render_flow(struct jbuf *j, const struct ev_flow *f, const char *direction);
/* The location keys of a packet source, inside an open object: kind, path or
 * interface, sha256 (placeholder for a capture, null live), packet_first,
 * packet_last, ts_first, ts_last. */
void ev_render_packet_source(struct jbuf *j, bool live, const char *source, uint64_t pkt_first,
			     uint64_t pkt_last, uint64_t ts_first, uint64_t ts_last);

/* A record for a fired rule (combo or window): the rule, where it held, and
 * every contributing part. */
struct ev_aggregate {
	const char *run_id;
	uint64_t seq;
	struct timespec detected;
	const struct matcher_ind *mi; /* the rule */
	const char *scope;            /* "line", "message", "flow", "flow-dir" or "window" */
	const char *key;              /* window: the key's value; else NULL */
	size_t key_len;
	const char *agg;              /* window: count, sum, distinct, passthrough */
	const char *value;            /* window: the aggregate's value when it fired, decimal */
	const char *first_time, *last_time; /* window: times of the first and last part */
	const struct ev_flow *flow;   /* flow and flow-dir rules: the flow; else NULL */
	const char *direction;        /* flow-dir: "to_server" or "to_client"; else NULL */
	const struct ev_contrib *c;
	size_t n_c;
	uint64_t n_omitted;           /* parts beyond those listed (records stay bounded) */
};

/* Most parts an aggregate record lists; the others are counted. */
#define EV_AGGREGATE_MAX_PARTS 1000

/* Render an aggregate record (no trailing newline) into j; sha256 of the
 * parts from an input still being read hold the placeholder. */
void ev_aggregate_render(struct jbuf *j, const struct ev_aggregate *a);
/* The record without its first keys (prev, record_id, run_id, seq), to put
 * after ev_record_render_head() once the record is numbered; seq is unused. */
void ev_aggregate_render_body(struct jbuf *j, const struct ev_aggregate *a);

/* The writer chains every line it writes (include/cybersieve/chain.h): a line
 * that begins with the prev placeholder gets the hash of the line before it.
 * Writes hold whole lines. Calls other than ev_writer_next_seq are made by one
 * thread at a time (the caller's output lock). */
struct ev_writer;

struct ev_writer_opts {
	int dir_fd;             /* the evidence folder (duplicated); -1 = stdout */
	const char *run_id;     /* for each file's genesis */
	uint64_t rotate_bytes;  /* close a file once it holds this many bytes; 0 = never */
	double rotate_seconds;  /* close a file this long after it was opened; 0 = never */
	/* With rotation: called as each file is closed (also the last, at finish). */
	enum cs_err (*on_seal)(void *ctx, const struct ev_chain_file *f, struct cs_diag *d);
	void *seal_ctx;
};

/* Files are records.ndjson, or records-000001.ndjson, -000002 ... with
 * rotation; each is new (mode 0600). On stdout the chain is named records.ndjson. */
enum cs_err ev_writer_create(const struct ev_writer_opts *o, struct ev_writer **out,
			     struct cs_diag *d);
/* path NULL = stdout. A new file is created with mode 0600 and must not exist;
 * its chain is named after the file, with an empty run id. */
enum cs_err ev_writer_open(const char *path, struct ev_writer **out, struct cs_diag *d);
/* Write whole records (len bytes ending with '\n'), each linked into the
 * chain: the writer copies buf and links the copy. */
enum cs_err ev_writer_write(struct ev_writer *w, const char *buf, size_t len, struct cs_diag *d);
/* The same without the copy: each record's chain placeholder in buf is
 * overwritten with its link before the write, so buf holds what was written
 * (or, when the write fails, what would have been). */
enum cs_err ev_writer_write_inplace(struct ev_writer *w, char *buf, size_t len,
				    struct cs_diag *d);
/* Bytes written whole to the current file. */
uint64_t ev_writer_bytes(const struct ev_writer *w);
/* Number the next record of the run (1, 2, ...); thread-safe. */
uint64_t ev_writer_next_seq(struct ev_writer *w);
/* Sync and close the current file (sealing it when rotating); the writer
 * answers the queries below until ev_writer_close. */
enum cs_err ev_writer_finish(struct ev_writer *w, struct cs_diag *d);
/* Every file so far, oldest first; the last may still be open. */
size_t ev_writer_files(const struct ev_writer *w, const struct ev_chain_file **files);
const struct ev_chain_counts *ev_writer_counts(const struct ev_writer *w);
/* True once a write failed: the run stopped short. */
bool ev_writer_failed(const struct ev_writer *w);
/* Finish (when not yet done) and free. */
enum cs_err ev_writer_close(struct ev_writer *w, struct cs_diag *d);

/* Put the input's SHA-256 (64 hex digits) into every `"sha256":"<placeholder>"`
 * of buf[0..len), whole records only; hex NULL (the digest is not known) puts
 * null there, padded with spaces so the records keep their length. */
void ev_sha256_patch(char *buf, size_t len, const char *hex);

struct ev_pending;
/* spill_dir: where the spill file goes once mem_cap bytes are pending. */
enum cs_err ev_pending_create(const char *spill_dir, size_t mem_cap, struct ev_pending **out);
enum cs_err ev_pending_add(struct ev_pending *p, const char *rec, size_t len, struct cs_diag *d);
size_t ev_pending_count(const struct ev_pending *p);
/* Replace the placeholder with sha256_hex in every pending record (NULL: with
 * null, when the input's digest is unknown), write them, empty p. */
enum cs_err ev_pending_flush(struct ev_pending *p, const char *sha256_hex, struct ev_writer *w,
			     struct cs_diag *d);
void ev_pending_destroy(struct ev_pending *p);

/* ----------------------------------------------------- packet records --- */
/* A match in a capture: same top-level keys as a log record, then "flow" and
 * "field". source.kind is "capture" (path, sha256 placeholder) or "live"
 * (interface, sha256 null). */

struct ev_packet_record {
	const char *run_id;
	uint64_t seq;
	struct timespec detected;
	const struct matcher_ind *mi;
	bool live;
	const char *source;           /* capture path, or interface name when live */
	uint64_t pkt_first, pkt_last; /* 1-based packet numbers */
	uint64_t ts_first, ts_last;   /* packet times, ns since the epoch */
	/* flow, as its initiator opened it */
	const char *src_ip, *dest_ip; /* text */
	uint16_t src_port, dest_port;
	uint8_t proto;
	const char *community_id;
	bool to_client;               /* direction of the bytes that matched */
	const char *field;            /* "payload", "dns.query", "tls.sni", ... */
	const uint8_t *text;
	size_t text_len;
	uint64_t length;              /* match length (text may be shorter) */
	const uint8_t *before;
	size_t before_len;
	const uint8_t *after;
	size_t after_len;
	bool has_offset;              /* payload: stream offset of the match */
	uint64_t offset;
	bool has_body;                /* http.body: the object's figures */
	uint64_t body_length;
	const char *content_encoding;
	bool body_as_sent;            /* the digest is of the coded bytes as sent */
	/* Context addresses replaced by tokens when set; the flow keeps its
	 * addresses: they are where the evidence was seen. */
	const struct pseudo_key *pseudo;
};

/* The whole record as one object (no trailing newline). */
void ev_packet_record_render(struct jbuf *j, const struct ev_packet_record *r);
/* The record without its first keys (prev, record_id, run_id, seq): from
 * "time_detected" to the closing brace, for records numbered later. */
void ev_packet_record_render_body(struct jbuf *j, const struct ev_packet_record *r);
/* The opening brace, prev (placeholder) and the three numbering keys, then a comma, to
 * put before a body from ev_packet_record_render_body(). */
void ev_record_render_head(struct jbuf *j, const char *run_id, uint64_t seq);

#endif
