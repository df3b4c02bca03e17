/* TCP stream ordering for one direction of one connection.
 *
 * A struct tcp_stream turns segments as they arrive (any order, repeated,
 * overlapping, with holes) into the byte stream in sequence order, handed to
 * a sink. In-order data is handed over zero-copy (a pointer into the caller's
 * segment); out-of-order data is copied into buffered pieces until the hole
 * before it is filled. Overlaps keep the bytes that arrived first. When a
 * buffer cap is reached, or at close, the stream skips the holes: the sink
 * hears gap(n) for the missing bytes and then the data after them.
 *
 * Stream offsets count payload bytes from the first byte after the SYN (or
 * from the first byte seen when picked up mid-stream); a gap advances the
 * offset by the missing bytes, so an offset is a true position in the stream.
 *
 * Memory: buffered pieces come from malloc, each counted (payload plus a
 * header) against the shared struct tcp_reasm budget, which its owner (the
 * flow table) also uses for its own bytes; a piece is never taken beyond it.
 * Owner: the flow owns its two streams; the flow table owns the tcp_reasm.
 * One thread per stream and reasm; no global state. */
#ifndef CYBERSIEVE_TCP_STREAM_H
#define CYBERSIEVE_TCP_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TCP_FLAG_FIN 0x01u
#define TCP_FLAG_SYN 0x02u
#define TCP_FLAG_RST 0x04u
#define TCP_FLAG_ACK 0x10u

/* Bytes a buffered piece costs beyond its payload (its header). */
#define TCP_STREAM_SEG_OVERHEAD 32u

struct tcp_seg; /* a buffered piece; private to tcp_stream.c */

/* Per-direction ordering state: 32 bytes, lives inline in the flow. */
struct tcp_stream {
	struct tcp_seg *head;   /* buffered pieces, sorted, never overlapping */
	uint64_t offset;        /* stream offset of next_seq (also used by the
				 * flow table as the datagram offset of UDP flows) */
	uint32_t next_seq;      /* next sequence number to deliver */
	uint32_t fin_seq;       /* sequence number of the FIN, once seen */
	uint32_t buffered;      /* bytes of buffered pieces, overhead included */
	uint8_t flags;          /* TCP_STREAM_F_* */
};

#define TCP_STREAM_F_KNOWN 0x01u    /* next_seq is anchored (SYN or first data) */
#define TCP_STREAM_F_FIN_SEEN 0x02u /* fin_seq is valid */
#define TCP_STREAM_F_FIN_DONE 0x04u /* everything up to the FIN delivered */

/* Counters shared by all streams of one owner. A segment with payload
 * counts once: in_order or out_of_order when some of its bytes are new, else
 * retransmitted (all of them delivered or buffered before). overlap: a
 * segment with new bytes that also covers old ones. conflicting: covered
 * bytes that differ from what was kept (checkable only against buffered
 * bytes, since delivered bytes are not kept). */
struct tcp_stream_stats {
	uint64_t segs_in_order;
	uint64_t segs_out_of_order;
	uint64_t segs_retransmitted;
	uint64_t segs_overlap;
	uint64_t overlaps_conflicting;
	uint64_t segs_after_fin;     /* data beyond the FIN: ignored */
	uint64_t gaps;               /* holes skipped */
	uint64_t gap_bytes;
	uint64_t dir_cap_hits;       /* per-direction buffer cap forced a skip */
	uint64_t mem_cap_hits;       /* shared budget (or malloc) forced a skip */
};

/* The shared budget and settings. make_room (may be NULL) is asked to free
 * `bytes` of the budget elsewhere (the flow table evicts idle flows); it
 * returns whether mem_used + bytes now fits mem_cap. */
struct tcp_reasm {
	uint64_t mem_used;
	uint64_t mem_peak;
	uint64_t mem_cap;
	uint32_t dir_buf_max;        /* cap of tcp_stream.buffered */
	struct tcp_stream_stats *st;
	bool (*make_room)(void *arg, uint64_t bytes);
	void *room_arg;
};

/* Where ordered bytes go. data points into the segment (zero-copy) or into a
 * buffered piece; valid only during the call. pkt_no/ts_ns are those of the
 * packet that carried the first byte of data. */
struct tcp_sink {
	void (*data)(void *arg, const uint8_t *data, size_t len, uint64_t offset,
		     uint64_t pkt_no, uint64_t ts_ns);
	void (*gap)(void *arg, uint64_t bytes);
	void *arg;
};

/* One segment of this direction. wire_len is the payload length on the wire
 * when the capture cut the packet short (0: same as len); the bytes beyond
 * len are known missing and become a gap. */
struct tcp_seg_in {
	uint32_t seq;
	uint8_t flags;               /* TCP_FLAG_* as in the header */
	const uint8_t *data;
	size_t len;
	size_t wire_len;
	uint64_t pkt_no;
	uint64_t ts_ns;
};

void tcp_stream_init(struct tcp_stream *s);

/* Take one segment: anchor the stream (SYN, else first data or FIN), deliver
 * what is in order, buffer what is ahead, note the FIN. Never fails: when
 * memory is short the stream skips ahead (counted). */
void tcp_stream_segment(struct tcp_stream *s, struct tcp_reasm *r, const struct tcp_seg_in *in,
			const struct tcp_sink *k);

/* The connection ends: deliver every buffered piece with gaps before them
 * (and a gap up to a FIN not yet reached), then release the buffers. */
void tcp_stream_flush(struct tcp_stream *s, struct tcp_reasm *r, const struct tcp_sink *k);

/* Free buffered pieces without delivering them. */
void tcp_stream_release(struct tcp_stream *s, struct tcp_reasm *r);

/* Everything up to and including the FIN has been delivered. */
bool tcp_stream_fin_done(const struct tcp_stream *s);

#endif
