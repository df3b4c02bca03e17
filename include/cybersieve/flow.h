/* Flows: the table of connections a worker tracks, and the symmetric hash
 * that sends both directions of a connection to the same worker.
 *
 * flow_table_packet() finds or creates the flow of a decoded packet, orders
 * TCP bytes per direction (cybersieve/tcp_stream.h) and hands them, or each
 * UDP datagram, to the consumer's callbacks; idle flows expire by packet
 * time; when the memory cap or the flow count is reached the least recently
 * used flow is evicted, after its consumer heard on_close.
 *
 * Memory: one pool of flow slots (sizeof(struct flow) plus the consumer's
 * user_size bytes each), reserved at create time as virtual memory and
 * touched as flows are first used, so no allocation happens per packet once
 * the slots are warm; out-of-order bytes are malloc'd pieces. The cap counts
 * the bucket array, every live flow slot and every buffered piece.
 * Owner: the caller owns the table; the table owns its flows and their
 * buffered bytes; the consumer owns what it keeps in a flow's user area.
 * Thread rules: one table per worker thread; callbacks run on the calling
 * thread and must not call back into the table (accessors are fine). */
#ifndef CYBERSIEVE_FLOW_H
#define CYBERSIEVE_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/decode.h"
#include "cybersieve/error.h"
#include "cybersieve/tcp_stream.h"

/* ------------------------------------------------------------- hash --- */

/* A connection's identity with its two endpoints in a fixed order: side a is
 * the endpoint whose (address, port) compares lower, so both directions of a
 * connection give the same key. IPv4 addresses use the first 4 bytes, the
 * rest zero. 40 bytes, no padding: compared with memcmp. */
struct flow_key {
	uint8_t addr_a[16];
	uint8_t addr_b[16];
	uint16_t port_a;
	uint16_t port_b;
	uint16_t vlan;          /* outermost VLAN id, or 0 when not used */
	uint8_t proto;
	uint8_t family;         /* 4 or 6 */
};

/* Fill k from p (the outer VLAN id only when use_vlan). Returns the side of
 * p's source in k: 0 (a) or 1 (b). */
unsigned flow_key_from_pkt(const struct pkt *p, bool use_vlan, struct flow_key *k);

/* 32-bit hash of a key, seeded. The key is read as five 64-bit words, each
 * folded in with a multiply and xor-shift, and the result is finished with
 * a full 64-bit avalanche; every input bit affects every output bit. */
uint32_t flow_hash_key(const struct flow_key *k, uint32_t seed);

/* flow_hash_key() of p's key without VLAN: the same value for both
 * directions (endpoints are ordered first), so it can pick a worker thread
 * for a packet. VLAN is left out because taps may tag the two directions
 * differently. With the same seed everywhere, every worker agrees; a secret
 * random seed per run keeps crafted traffic from piling onto one worker. */
uint32_t flow_hash_symmetric(const struct pkt *p, uint32_t seed);

/* Worker (0..n-1) for hash h. Uses the high bits (multiply-shift), while the
 * flow table's buckets use the low bits, so the flows of one worker still
 * spread over all of its buckets. */
static inline uint32_t flow_hash_spread(uint32_t h, uint32_t n)
{
	return (uint32_t)(((uint64_t)h * n) >> 32);
}

/* ------------------------------------------------------------ table --- */

/* Direction of a packet within its flow (same numbering as enum app_dir):
 * from the initiator (client) or towards it. */
enum flow_dir { FLOW_DIR_C2S = 0, FLOW_DIR_S2C = 1 };

enum flow_close {
	FLOW_CLOSE_FIN = 0,     /* both directions finished with FIN */
	FLOW_CLOSE_RST,
	FLOW_CLOSE_TIMEOUT,     /* idle longer than its timeout (packet time) */
	FLOW_CLOSE_EVICTED,     /* removed to make room (memory cap or max_flows) */
	FLOW_CLOSE_END,         /* end of input: flow_table_flush() */
	FLOW_CLOSE_COUNT
};

struct flow; /* opaque: read it through the accessors below */

/* The consumer. ctx is passed back to every call. stream_offset is the
 * position of data[0] in its direction's stream (gaps included, see
 * tcp_stream.h; for UDP the sum of earlier datagram lengths); pkt_no and
 * ts_ns are those given to flow_table_packet() with the packet that carried
 * data[0]. data is valid only during the call. Any pointer may be NULL. */
struct flow_callbacks {
	void (*on_open)(struct flow *f, void *ctx);
	void (*on_data)(struct flow *f, enum flow_dir dir, const uint8_t *data, size_t len,
			uint64_t stream_offset, uint64_t pkt_no, uint64_t ts_ns, void *ctx);
	void (*on_gap)(struct flow *f, enum flow_dir dir, uint64_t bytes_missing, void *ctx);
	/* Called once per flow; afterwards no more data comes and the table
	 * will not touch the user area again (the slot is reused later). */
	void (*on_close)(struct flow *f, enum flow_close reason, void *ctx);
	void *ctx;
};

struct flow_table_config {
	uint64_t mem_cap;           /* bytes: buckets + flow slots + buffered bytes */
	uint32_t max_flows;         /* flows at once (also bounded by mem_cap) */
	uint32_t user_size;         /* consumer bytes inline in each flow, zeroed at open */
	uint32_t dir_buf_max;       /* out-of-order bytes buffered per direction */
	uint32_t hash_seed;
	bool use_vlan;              /* outer VLAN id is part of the key */
	uint64_t timeout_tcp_new_ns;    /* until the responder answers: 60 s */
	uint64_t timeout_tcp_est_ns;    /* 600 s */
	uint64_t timeout_closed_ns;     /* after on_close (FIN/RST), for late packets: 60 s */
	uint64_t timeout_udp_ns;        /* UDP and other protocols: 120 s */
	uint64_t expire_every_ns;       /* flow_table_packet() expires this often: 1 s */
};

struct flow_stats {
	uint64_t packets;           /* given to flow_table_packet() */
	uint64_t packets_ignored;   /* fragments, RST without a flow, packets of closed flows */
	uint64_t packets_no_room;   /* no flow could be made (cap smaller than one flow) */
	uint64_t flows_created;
	uint64_t flows_active;      /* slots in use, closed flows awaiting expiry included */
	uint64_t flows_peak;
	uint64_t closed[FLOW_CLOSE_COUNT]; /* on_close calls by reason */
	uint64_t evictions_cap;     /* flows removed to make room */
	uint64_t evictions_timeout; /* flows removed because idle */
	uint64_t cap_hits;          /* times a new flow or piece found the cap reached */
	uint64_t datagrams;         /* UDP/other payloads delivered */
	struct tcp_stream_stats tcp;
	uint64_t mem_in_use;        /* bytes counted against mem_cap */
	uint64_t mem_peak;
	uint64_t mem_cap;
};

struct flow_table;

/* Defaults: 512 MiB, 1M flows, no user bytes, 1 MiB per direction, the
 * timeouts above, VLAN in the key. */
void flow_table_config_default(struct flow_table_config *c);

/* Bytes one flow costs against the cap for a given user_size. */
size_t flow_table_slot_size(uint32_t user_size);

/* Errors: CS_ERR_INVALID (cap too small for the buckets and one flow, a
 * zero max_flows/dir_buf_max, user_size above 1 MiB; d says which),
 * CS_ERR_NOMEM. */
enum cs_err flow_table_create(const struct flow_table_config *cfg, const struct flow_callbacks *cb,
			      struct flow_table **out, struct cs_diag *d);

/* Frees everything without callbacks; call flow_table_flush() first to let
 * the consumer finish. NULL is a no-op. */
void flow_table_destroy(struct flow_table *ft);

/* Account one decoded packet: pkt_no is the caller's packet number (as it
 * will appear in evidence), ts_ns its capture time. Returns its flow (and
 * direction in *dir when dir is not NULL), valid until the next call into the
 * table, or NULL when the packet was ignored. p's bytes are only borrowed. */
struct flow *flow_table_packet(struct flow_table *ft, const struct pkt *p, uint64_t pkt_no,
			       uint64_t ts_ns, enum flow_dir *dir);

/* Close and remove every flow idle for its timeout at packet time now_ns;
 * returns how many were removed. flow_table_packet() calls it by itself every
 * expire_every_ns of packet time; call it when the input goes quiet. */
size_t flow_table_expire(struct flow_table *ft, uint64_t now_ns);

/* Close (FLOW_CLOSE_END) and remove every flow: end of input. */
void flow_table_flush(struct flow_table *ft);

void flow_table_stats(const struct flow_table *ft, struct flow_stats *out);

/* ------------------------------------------------------- accessors --- */

/* The connection as its initiator opened it. */
struct flow_tuple {
	struct pkt_addr client, server;
	uint16_t client_port, server_port;
	uint8_t proto;
	uint16_t vlan;
};

void flow_get_tuple(const struct flow *f, struct flow_tuple *out);
uint8_t flow_proto(const struct flow *f);
/* The consumer's user_size bytes (16-byte aligned), zeroed at open. */
void *flow_user(struct flow *f);
/* flow_hash_key() of the flow's key under the table's seed. */
uint32_t flow_hash(const struct flow *f);
uint64_t flow_first_ts(const struct flow *f);
uint64_t flow_last_ts(const struct flow *f);
/* Packets seen in a direction; first/last packet numbers are 0 when none. */
uint64_t flow_packets(const struct flow *f, enum flow_dir dir);
uint64_t flow_first_pkt(const struct flow *f, enum flow_dir dir);
uint64_t flow_last_pkt(const struct flow *f, enum flow_dir dir);
/* Stream offset of the next byte the direction will deliver. */
uint64_t flow_stream_offset(const struct flow *f, enum flow_dir dir);
bool flow_is_closed(const struct flow *f);

/* Count bytes the consumer keeps for a flow outside the table (e.g. engine
 * stream state) against mem_cap, evicting least-recently-used flows other than
 * the one being processed to make room (their on_close runs first). false: no
 * room; the consumer must not allocate. May be called from inside callbacks. */
bool flow_table_charge(struct flow_table *ft, uint64_t bytes);
void flow_table_uncharge(struct flow_table *ft, uint64_t bytes);

/* Count bytes the consumer has already allocated for a flow (state that grows
 * while a packet is handled, such as an application parser's buffers)
 * without evicting anything: mem_used may pass mem_cap until the next
 * flow_table_enforce(). Safe inside callbacks. */
void flow_table_charge_soft(struct flow_table *ft, uint64_t bytes);

/* Between packets: evict least-recently-used flows until mem_used is back
 * under mem_cap (their on_close runs; evictions are counted as for any
 * other charge). */
void flow_table_enforce(struct flow_table *ft);

#endif
