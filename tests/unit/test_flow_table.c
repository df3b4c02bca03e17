/* Unit tests for the flow table and the symmetric flow hash: directions and
 * initiators, TCP sessions end to end through the callbacks, idle expiry by
 * packet time, eviction under the memory cap, and a million flows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cybersieve/flow.h"

#define SEC 1000000000ull
#define LOG_CAP (1u << 20)
#define TH 0x02 /* SYN */
#define TA 0x10 /* ACK */
#define TF 0x01 /* FIN */
#define TR 0x04 /* RST */

/* What the consumer keeps inline in each flow. */
struct user_state {
	uint32_t magic;
	uint32_t gaps;
	uint64_t bytes[2];
	uint64_t next_off[2];
};

/* What the consumer saw, over all flows. */
struct events {
	unsigned opens;
	unsigned closes[FLOW_CLOSE_COUNT];
	uint64_t gap_bytes;
	uint8_t *log[2];      /* bytes by direction, of the flow being watched */
	size_t log_len[2];
	struct flow *watch;
	uint64_t last_pkt[2];
};

static void ev_open(struct flow *f, void *ctx)
{
	struct events *e = ctx;
	struct user_state *u = flow_user(f);

	assert_int_equal(u->magic, 0); /* zeroed at open */
	assert_int_equal(u->bytes[0] + u->bytes[1], 0);
	u->magic = 0xF10Fu;
	e->opens++;
}

static void ev_data(struct flow *f, enum flow_dir dir, const uint8_t *data, size_t len,
		    uint64_t off, uint64_t pkt_no, uint64_t ts_ns, void *ctx)
{
	struct events *e = ctx;
	struct user_state *u = flow_user(f);

	(void)ts_ns;
	assert_int_equal(u->magic, 0xF10Fu);
	assert_int_equal(off, u->next_off[dir]);
	u->next_off[dir] = off + len;
	u->bytes[dir] += len;
	if (f == e->watch && e->log[dir]) {
		assert_true(e->log_len[dir] + len <= LOG_CAP);
		memcpy(e->log[dir] + e->log_len[dir], data, len);
		e->log_len[dir] += len;
		e->last_pkt[dir] = pkt_no;
	}
}

static void ev_gap(struct flow *f, enum flow_dir dir, uint64_t bytes, void *ctx)
{
	struct events *e = ctx;
	struct user_state *u = flow_user(f);

	u->gaps++;
	u->next_off[dir] += bytes;
	e->gap_bytes += bytes;
	if (f == e->watch && e->log[dir]) {
		memset(e->log[dir] + e->log_len[dir], 0xEE, bytes);
		e->log_len[dir] += bytes;
	}
}

static void ev_close(struct flow *f, enum flow_close reason, void *ctx)
{
	struct events *e = ctx;
	struct user_state *u = flow_user(f);

	assert_int_equal(u->magic, 0xF10Fu);
	assert_true(flow_is_closed(f));
	u->magic = 0xDEADu; /* a second close would trip the assert above */
	e->closes[reason]++;
}

static struct flow_table *table_new(struct events *e, uint64_t cap, uint32_t max_flows)
{
	struct flow_table_config cfg;
	struct flow_callbacks cb = { ev_open, ev_data, ev_gap, ev_close, e };
	struct flow_table *ft = NULL;
	struct cs_diag d;

	flow_table_config_default(&cfg);
	cfg.mem_cap = cap;
	cfg.max_flows = max_flows;
	cfg.user_size = sizeof(struct user_state);
	cfg.hash_seed = 0x5eed;
	assert_int_equal(flow_table_create(&cfg, &cb, &ft, &d), CS_OK);
	assert_non_null(ft);
	return ft;
}

static struct pkt mk4(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t proto)
{
	struct pkt p;

	memset(&p, 0, sizeof(p));
	p.src.family = p.dst.family = 4;
	for (int i = 0; i < 4; i++) {
		p.src.bytes[i] = (uint8_t)(src >> (24 - 8 * i));
		p.dst.bytes[i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	p.sport = sport;
	p.dport = dport;
	p.ip_proto = proto;
	return p;
}

static struct pkt tcp4(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t flags,
		       uint32_t seq, const void *data, size_t len)
{
	struct pkt p = mk4(src, sport, dst, dport, 6);

	p.tcp_flags = flags;
	p.tcp_seq = seq;
	p.payload = data;
	p.payload_len = len;
	return p;
}

static struct pkt reverse(const struct pkt *p)
{
	struct pkt r = *p;

	r.src = p->dst;
	r.dst = p->src;
	r.sport = p->dport;
	r.dport = p->sport;
	return r;
}

static void assert_under_cap(const struct flow_table *ft)
{
	struct flow_stats st;

	flow_table_stats(ft, &st);
	assert_true(st.mem_in_use <= st.mem_cap);
	assert_true(st.mem_peak <= st.mem_cap);
}

static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* --------------------------------------------------------------- hash --- */

static void test_hash_symmetric(void **state)
{
	uint64_t x = 99;
	unsigned same = 0;
	uint32_t prev = 0;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		struct pkt p = mk4((uint32_t)rng_next(&x), (uint16_t)rng_next(&x),
				   (uint32_t)rng_next(&x), (uint16_t)rng_next(&x), i % 2 ? 6 : 17);
		struct pkt r;
		struct flow_key k1, k2;
		uint32_t h;

		if (i % 3 == 0) {
			p.src.family = p.dst.family = 6;
			for (int j = 0; j < 16; j++) {
				p.src.bytes[j] = (uint8_t)rng_next(&x);
				p.dst.bytes[j] = (uint8_t)rng_next(&x);
			}
		}
		p.vlan[0] = 7;
		r = reverse(&p);
		r.vlan[0] = 9; /* the symmetric hash ignores VLAN */
		h = flow_hash_symmetric(&p, 1234);
		assert_int_equal(h, flow_hash_symmetric(&r, 1234));
		assert_true(flow_hash_spread(h, 6) < 6);
		assert_int_equal(flow_key_from_pkt(&p, true, &k1) ^ flow_key_from_pkt(&r, true, &k2), 1);
		assert_int_not_equal(k1.vlan, k2.vlan);
		flow_key_from_pkt(&r, false, &k2);
		flow_key_from_pkt(&p, false, &k1);
		assert_memory_equal(&k1, &k2, sizeof(k1));
		assert_int_equal(flow_hash_key(&k1, 1234), h);
		same += h == prev;
		prev = h;
	}
	assert_true(same < 3);
	/* Same endpoints, ports swapped between them: a different flow. */
	{
		struct pkt a = mk4(0x0a000001, 1000, 0x0a000002, 2000, 6);
		struct pkt b = mk4(0x0a000001, 2000, 0x0a000002, 1000, 6);
		assert_int_not_equal(flow_hash_symmetric(&a, 0), flow_hash_symmetric(&b, 0));
	}
	/* ICMP echo request and reply (type in sport) are one flow. */
	{
		struct pkt q = mk4(0x0a000001, 8, 0x0a000002, 0, 1);
		struct pkt a = mk4(0x0a000002, 0, 0x0a000001, 0, 1);
		assert_int_equal(flow_hash_symmetric(&q, 5), flow_hash_symmetric(&a, 5));
	}
}

/* -------------------------------------------------------- TCP sessions --- */

static void test_tcp_session(void **state)
{
	struct events e = { 0 };
	struct flow_table *ft = table_new(&e, 64 << 20, 1000);
	uint32_t c = 0xc0a80001, s = 0x08080808;
	struct flow *f;
	struct flow_tuple t;
	struct flow_stats st;
	enum flow_dir dir;
	struct pkt p;

	(void)state;
	e.log[0] = malloc(LOG_CAP);
	e.log[1] = malloc(LOG_CAP);
	p = tcp4(c, 40000, s, 80, TH, 1000, NULL, 0);
	f = flow_table_packet(ft, &p, 1, 10 * SEC, &dir);
	assert_non_null(f);
	assert_int_equal(dir, FLOW_DIR_C2S);
	e.watch = f;
	p = tcp4(s, 80, c, 40000, TH | TA, 5000, NULL, 0);
	assert_ptr_equal(flow_table_packet(ft, &p, 2, 10 * SEC + 1, &dir), f);
	assert_int_equal(dir, FLOW_DIR_S2C);
	p = tcp4(c, 40000, s, 80, TA, 1001, "GET / HTTP/1.1\r\n\r\n", 18);
	flow_table_packet(ft, &p, 3, 11 * SEC, NULL);
	p = tcp4(s, 80, c, 40000, TA, 5001, "HTTP/1.1 200 OK\r\n", 17);
	flow_table_packet(ft, &p, 4, 12 * SEC, NULL);
	p = tcp4(c, 40000, s, 80, TA | TF, 1019, NULL, 0);
	flow_table_packet(ft, &p, 5, 13 * SEC, NULL);
	assert_int_equal(e.closes[FLOW_CLOSE_FIN], 0);
	p = tcp4(s, 80, c, 40000, TA | TF, 5018, NULL, 0);
	flow_table_packet(ft, &p, 6, 13 * SEC, NULL);
	assert_int_equal(e.closes[FLOW_CLOSE_FIN], 1);
	assert_true(flow_is_closed(f));
	/* The last ACK belongs to the closed flow: no new flow. */
	p = tcp4(c, 40000, s, 80, TA, 1020, NULL, 0);
	assert_ptr_equal(flow_table_packet(ft, &p, 7, 13 * SEC, NULL), f);

	assert_int_equal(e.opens, 1);
	assert_int_equal(e.log_len[0], 18);
	assert_memory_equal(e.log[0], "GET / HTTP/1.1\r\n\r\n", 18);
	assert_int_equal(e.log_len[1], 17);
	assert_int_equal(e.last_pkt[0], 3);
	assert_int_equal(e.last_pkt[1], 4);
	flow_get_tuple(f, &t);
	assert_int_equal(t.client_port, 40000);
	assert_int_equal(t.server_port, 80);
	assert_int_equal(t.client.bytes[0], 0xc0);
	assert_int_equal(t.server.bytes[0], 0x08);
	assert_int_equal(t.proto, 6);
	assert_int_equal(flow_proto(f), 6);
	assert_int_equal(flow_first_pkt(f, FLOW_DIR_C2S), 1);
	assert_int_equal(flow_last_pkt(f, FLOW_DIR_C2S), 7);
	assert_int_equal(flow_first_pkt(f, FLOW_DIR_S2C), 2);
	assert_int_equal(flow_last_pkt(f, FLOW_DIR_S2C), 6);
	assert_int_equal(flow_packets(f, FLOW_DIR_C2S), 4);
	assert_int_equal(flow_first_ts(f), 10 * SEC);
	assert_int_equal(flow_last_ts(f), 13 * SEC);
	assert_int_equal(flow_stream_offset(f, FLOW_DIR_C2S), 18);
	flow_table_stats(ft, &st);
	assert_int_equal(st.flows_created, 1);
	assert_int_equal(st.tcp.segs_in_order, 2);
	/* Port reuse after the close: a new SYN opens a new flow. */
	p = tcp4(c, 40000, s, 80, TH, 77, NULL, 0);
	assert_non_null(flow_table_packet(ft, &p, 8, 20 * SEC, NULL));
	flow_table_stats(ft, &st);
	assert_int_equal(st.flows_created, 2);
	assert_int_equal(st.flows_active, 1);
	assert_int_equal(e.opens, 2);
	flow_table_destroy(ft);
	free(e.log[0]);
	free(e.log[1]);
}

static void test_initiator(void **state)
{
	struct events e = { 0 };
	struct flow_table *ft = table_new(&e, 64 << 20, 1000);
	enum flow_dir dir;
	struct flow_tuple t;
	struct flow *f;
	struct pkt p;

	(void)state;
	/* First packet seen is the SYN-ACK: its destination opened. */
	p = tcp4(0x01010101, 8080, 0x02020202, 3333, TH | TA, 1, NULL, 0);
	f = flow_table_packet(ft, &p, 1, SEC, &dir);
	assert_int_equal(dir, FLOW_DIR_S2C);
	flow_get_tuple(f, &t);
	assert_int_equal(t.client_port, 3333);
	/* Mid-stream, from a well-known port to a high one: the server. */
	p = tcp4(0x01010101, 443, 0x02020202, 50000, TA, 1, "x", 1);
	flow_table_packet(ft, &p, 2, SEC, &dir);
	assert_int_equal(dir, FLOW_DIR_S2C);
	p = reverse(&p);
	flow_table_packet(ft, &p, 3, SEC, &dir);
	assert_int_equal(dir, FLOW_DIR_C2S);
	/* Mid-stream, high to well-known: the client. */
	p = tcp4(0x03030303, 50001, 0x01010101, 22, TA, 1, "x", 1);
	flow_table_packet(ft, &p, 4, SEC, &dir);
	assert_int_equal(dir, FLOW_DIR_C2S);
	/* Both high ports, no SYN: the first sender. */
	p = tcp4(0x03030303, 50002, 0x01010101, 6000, TA, 1, "x", 1);
	flow_table_packet(ft, &p, 5, SEC, &dir);
	assert_int_equal(dir, FLOW_DIR_C2S);
	/* UDP: a DNS answer seen before its query. */
	p = mk4(0x08080808, 53, 0x0a000001, 33333, 17);
	f = flow_table_packet(ft, &p, 6, SEC, &dir);
	assert_int_equal(dir, FLOW_DIR_S2C);
	flow_get_tuple(f, &t);
	assert_int_equal(t.server_port, 53);
	/* A stray RST makes no flow; a fragment is ignored. */
	p = tcp4(0x09090909, 1234, 0x0a0a0a0a, 80, TR, 1, NULL, 0);
	assert_null(flow_table_packet(ft, &p, 7, SEC, NULL));
	p = tcp4(0x09090909, 1234, 0x0a0a0a0a, 80, TA, 1, "x", 1);
	p.flags = PKT_F_FRAGMENT;
	assert_null(flow_table_packet(ft, &p, 8, SEC, NULL));
	flow_table_destroy(ft);
}

static void test_rst(void **state)
{
	struct events e = { 0 };
	struct flow_table *ft = table_new(&e, 64 << 20, 1000);
	struct flow_stats st;
	struct flow *f;
	struct pkt p;

	(void)state;
	p = tcp4(1, 40000, 2, 80, TH, 100, NULL, 0);
	f = flow_table_packet(ft, &p, 1, SEC, NULL);
	p = tcp4(1, 40000, 2, 80, TA, 101, "abc", 3);
	flow_table_packet(ft, &p, 2, SEC, NULL);
	/* Data beyond a hole, then a reset far outside the stream: ignored. */
	p = tcp4(1, 40000, 2, 80, TA, 110, "later", 5);
	flow_table_packet(ft, &p, 3, SEC, NULL);
	p = tcp4(1, 40000, 2, 80, TR, 0x80000000u, NULL, 0);
	flow_table_packet(ft, &p, 4, SEC, NULL);
	assert_false(flow_is_closed(f));
	/* A reset where the stream is closes; what waited is delivered after a gap. */
	p = tcp4(1, 40000, 2, 80, TR, 104, NULL, 0);
	flow_table_packet(ft, &p, 5, SEC, NULL);
	assert_true(flow_is_closed(f));
	assert_int_equal(e.closes[FLOW_CLOSE_RST], 1);
	assert_int_equal(e.gap_bytes, 6);
	assert_int_equal(((struct user_state *)flow_user(f))->bytes[0], 8);
	flow_table_stats(ft, &st);
	assert_int_equal(st.closed[FLOW_CLOSE_RST], 1);
	assert_int_equal(st.tcp.gaps, 1);
	assert_int_equal(st.mem_in_use, st.mem_peak - (5 + TCP_STREAM_SEG_OVERHEAD));
	flow_table_destroy(ft);
}

/* 100 segments each way, both directions shuffled and interleaved. */
static void test_shuffled_through_table(void **state)
{
	enum { NSEG = 100, SEGLEN = 97 };
	struct events e = { 0 };
	struct flow_table *ft = table_new(&e, 64 << 20, 1000);
	uint8_t *data[2];
	uint32_t isn[2] = { 0xfffff000u, 12345 }, order[2 * NSEG];
	uint64_t x = 2024;
	struct pkt p;

	(void)state;
	for (int d = 0; d < 2; d++) {
		data[d] = malloc(NSEG * SEGLEN);
		e.log[d] = malloc(LOG_CAP);
		for (int i = 0; i < NSEG * SEGLEN; i++)
			data[d][i] = (uint8_t)rng_next(&x);
	}
	p = tcp4(10, 5555, 20, 25, TH, isn[0], NULL, 0);
	e.watch = flow_table_packet(ft, &p, 1, SEC, NULL);
	p = tcp4(20, 25, 10, 5555, TH | TA, isn[1], NULL, 0);
	flow_table_packet(ft, &p, 2, SEC, NULL);
	for (unsigned i = 0; i < 2 * NSEG; i++)
		order[i] = i;
	for (unsigned i = 2 * NSEG - 1; i > 0; i--) {
		unsigned j = (unsigned)(rng_next(&x) % (i + 1)), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (unsigned i = 0; i < 2 * NSEG; i++) {
		unsigned d = order[i] / NSEG, s = order[i] % NSEG;
		p = tcp4(d ? 20 : 10, d ? 25 : 5555, d ? 10 : 20, d ? 5555 : 25, TA,
			 isn[d] + 1 + s * SEGLEN, data[d] + s * SEGLEN, SEGLEN);
		flow_table_packet(ft, &p, 3 + i, SEC + i, NULL);
	}
	for (int d = 0; d < 2; d++) {
		assert_int_equal(e.log_len[d], NSEG * SEGLEN);
		assert_memory_equal(e.log[d], data[d], NSEG * SEGLEN);
	}
	{
		struct flow_stats st;
		flow_table_stats(ft, &st);
		assert_int_equal(st.tcp.segs_in_order + st.tcp.segs_out_of_order, 2 * NSEG);
		assert_int_equal(st.tcp.gaps, 0);
		/* Nothing left buffered: the buckets and one flow slot. */
		assert_int_equal(st.mem_in_use,
				 1024 * 4 + flow_table_slot_size(sizeof(struct user_state)));
		assert_true(st.mem_peak > st.mem_in_use);
	}
	flow_table_flush(ft);
	assert_int_equal(e.closes[FLOW_CLOSE_END], 1);
	for (int d = 0; d < 2; d++) {
		free(data[d]);
		free(e.log[d]);
	}
	flow_table_destroy(ft);
}

/* ------------------------------------------------------------- expiry --- */

static void test_idle_timeout(void **state)
{
	struct events e = { 0 };
	struct flow_table *ft = table_new(&e, 64 << 20, 1000);
	struct flow_stats st;
	struct pkt p;

	(void)state;
	/* A: SYN only (new, 60 s). B: answered (established, 600 s). C: UDP (120 s). */
	p = tcp4(1, 1111, 2, 80, TH, 1, NULL, 0);
	flow_table_packet(ft, &p, 1, 1000 * SEC, NULL);
	p = tcp4(3, 2222, 2, 80, TH, 1, NULL, 0);
	flow_table_packet(ft, &p, 2, 1000 * SEC, NULL);
	p = tcp4(2, 80, 3, 2222, TH | TA, 1, NULL, 0);
	flow_table_packet(ft, &p, 3, 1000 * SEC, NULL);
	p = mk4(4, 3333, 5, 53, 17);
	flow_table_packet(ft, &p, 4, 1000 * SEC, NULL);
	assert_int_equal(flow_table_expire(ft, 1059 * SEC), 0);
	assert_int_equal(flow_table_expire(ft, 1060 * SEC), 1);
	assert_int_equal(e.closes[FLOW_CLOSE_TIMEOUT], 1);
	assert_int_equal(flow_table_expire(ft, 1119 * SEC), 0);
	assert_int_equal(flow_table_expire(ft, 1120 * SEC), 1);
	assert_int_equal(flow_table_expire(ft, 1599 * SEC), 0);
	/* Packet time drives expiry: the wall clock plays no part. A packet
	 * of another flow 600 s later expires B by itself. */
	p = mk4(6, 4444, 7, 53, 17);
	flow_table_packet(ft, &p, 5, 1600 * SEC, NULL);
	flow_table_stats(ft, &st);
	assert_int_equal(st.evictions_timeout, 3);
	assert_int_equal(st.closed[FLOW_CLOSE_TIMEOUT], 3);
	assert_int_equal(st.flows_active, 1);
	assert_int_equal(e.closes[FLOW_CLOSE_TIMEOUT], 3);
	/* Activity keeps a flow alive. */
	for (uint64_t t = 1700; t < 2000; t += 100) {
		flow_table_packet(ft, &p, 6, t * SEC, NULL);
		assert_int_equal(flow_table_expire(ft, t * SEC + 119 * SEC), 0);
	}
	flow_table_stats(ft, &st);
	assert_int_equal(st.flows_active, 1);
	flow_table_flush(ft);
	assert_int_equal(e.closes[FLOW_CLOSE_END], 1);
	flow_table_stats(ft, &st);
	assert_int_equal(st.flows_active, 0);
	flow_table_destroy(ft);
}

static void test_closed_flow_expires_silently(void **state)
{
	struct events e = { 0 };
	struct flow_table *ft = table_new(&e, 64 << 20, 1000);
	struct flow_stats st;
	struct pkt p;

	(void)state;
	p = tcp4(1, 1111, 2, 80, TH, 1, NULL, 0);
	flow_table_packet(ft, &p, 1, SEC, NULL);
	p = tcp4(1, 1111, 2, 80, TR, 2, NULL, 0);
	flow_table_packet(ft, &p, 2, SEC, NULL);
	assert_int_equal(e.closes[FLOW_CLOSE_RST], 1);
	assert_int_equal(flow_table_expire(ft, 100 * SEC), 1);
	flow_table_stats(ft, &st);
	assert_int_equal(st.flows_active, 0);
	assert_int_equal(e.closes[FLOW_CLOSE_TIMEOUT], 0); /* one close per flow */
	flow_table_destroy(ft);
}

/* ---------------------------------------------------------------- caps --- */

static void test_memory_cap_eviction(void **state)
{
	struct events e = { 0 };
	size_t slot = flow_table_slot_size(sizeof(struct user_state));
	uint64_t cap = 4096 * 4 + 100 * slot; /* about 100 flows after the buckets */
	struct flow_table *ft = table_new(&e, cap, 4096);
	struct flow_stats st;

	(void)state;
	for (uint32_t i = 0; i < 1000; i++) {
		struct pkt p = mk4(0x0a000000 + i, 5000, 0x0b000000, 53, 17);
		assert_non_null(flow_table_packet(ft, &p, i + 1, SEC + i, NULL));
		assert_under_cap(ft);
	}
	flow_table_stats(ft, &st);
	assert_int_equal(st.flows_created, 1000);
	assert_true(st.flows_active <= 100 && st.flows_active >= 90);
	assert_int_equal(st.evictions_cap, 1000 - st.flows_active);
	assert_int_equal(e.closes[FLOW_CLOSE_EVICTED], st.evictions_cap);
	assert_int_equal(st.closed[FLOW_CLOSE_EVICTED], st.evictions_cap);
	assert_true(st.cap_hits > 0);
	/* The least recently used went first: the newest flow is still there
	 * (seeing it again creates nothing), the oldest is gone. */
	{
		struct pkt p = mk4(0x0a000000 + 999, 5000, 0x0b000000, 53, 17);
		flow_table_packet(ft, &p, 2000, 2 * SEC, NULL);
		flow_table_stats(ft, &st);
		assert_int_equal(st.flows_created, 1000);
		p = mk4(0x0a000000, 5000, 0x0b000000, 53, 17);
		flow_table_packet(ft, &p, 2001, 2 * SEC, NULL);
		flow_table_stats(ft, &st);
		assert_int_equal(st.flows_created, 1001);
	}
	flow_table_destroy(ft);
}

/* State a consumer allocates while a packet is handled is counted without
 * evicting; before the next packet the table evicts the least recently used
 * flows until it is under the cap again. */
static void test_soft_charge_enforced(void **state)
{
	struct events e = { 0 };
	size_t slot = flow_table_slot_size(sizeof(struct user_state));
	uint64_t cap = 4096 * 4 + 100 * slot;
	struct flow_table *ft = table_new(&e, cap, 4096);
	struct flow_stats st;

	(void)state;
	for (uint32_t i = 0; i < 10; i++) {
		struct pkt p = mk4(0x0a000000 + i, 5000, 0x0b000000, 53, 17);
		assert_non_null(flow_table_packet(ft, &p, i + 1, SEC + i, NULL));
	}
	flow_table_stats(ft, &st);
	uint64_t before = st.mem_in_use;
	/* Over the cap: nothing is evicted yet, the peak shows it. */
	flow_table_charge_soft(ft, cap);
	flow_table_stats(ft, &st);
	assert_int_equal(st.mem_in_use, before + cap);
	assert_true(st.mem_peak > st.mem_cap);
	assert_int_equal(st.evictions_cap, 0);
	assert_int_equal(st.flows_active, 10);
	/* Under the cap already: enforcing evicts nothing. */
	flow_table_uncharge(ft, cap);
	flow_table_enforce(ft);
	flow_table_stats(ft, &st);
	assert_int_equal(st.evictions_cap, 0);
	/* Over it by a byte more than three flows' slots: the four oldest go. */
	flow_table_charge_soft(ft, cap - before + 3 * slot + 1);
	flow_table_enforce(ft);
	flow_table_stats(ft, &st);
	assert_true(st.mem_in_use <= st.mem_cap);
	assert_int_equal(st.evictions_cap, 4);
	assert_int_equal(st.flows_active, 6);
	assert_int_equal(e.closes[FLOW_CLOSE_EVICTED], 4);
	/* The newest is still held (seeing it creates nothing), the oldest is not. */
	flow_table_uncharge(ft, cap - before + 3 * slot + 1);
	struct pkt p = mk4(0x0a000000 + 9, 5000, 0x0b000000, 53, 17);
	flow_table_packet(ft, &p, 20, 2 * SEC, NULL);
	flow_table_stats(ft, &st);
	assert_int_equal(st.flows_created, 10);
	p = mk4(0x0a000000, 5000, 0x0b000000, 53, 17);
	flow_table_packet(ft, &p, 21, 2 * SEC, NULL);
	flow_table_stats(ft, &st);
	assert_int_equal(st.flows_created, 11);
	flow_table_destroy(ft);
}

static void test_max_flows(void **state)
{
	struct events e = { 0 };
	struct flow_table *ft = table_new(&e, 64 << 20, 10);
	struct flow_stats st;

	(void)state;
	for (uint32_t i = 0; i < 50; i++) {
		struct pkt p = mk4(0x0a000000 + i, 5000, 0x0b000000, 53, 17);
		flow_table_packet(ft, &p, i + 1, SEC, NULL);
		flow_table_stats(ft, &st);
		assert_true(st.flows_active <= 10);
	}
	assert_int_equal(st.evictions_cap, 40);
	assert_int_equal(e.closes[FLOW_CLOSE_EVICTED], 40);
	flow_table_destroy(ft);
}

/* Sixteen buckets for up to 16 flows: chains share buckets, and flows are
 * found through them and unlinked from their middle (evictions), so the
 * table never takes a known flow for a new one nor loses a live one. */
static void test_bucket_chains(void **state)
{
	struct events e = { 0 };
	struct flow_table *ft = table_new(&e, 64 << 20, 16);
	struct flow_stats st;
	uint64_t no = 0;

	(void)state;
	for (uint32_t i = 0; i < 16; i++) {
		struct pkt p = mk4(0x0a000000 + i, 5000, 0x0b000000, 53, 17);
		flow_table_packet(ft, &p, ++no, SEC, NULL);
	}
	for (uint32_t i = 16; i-- > 0;) {
		struct pkt p = mk4(0x0a000000 + i, 5000, 0x0b000000, 53, 17);
		flow_table_packet(ft, &p, ++no, SEC + i, NULL);
	}
	flow_table_stats(ft, &st);
	assert_int_equal(st.flows_created, 16);
	/* Eight new flows evict the eight least recently seen: 15 down to 8. */
	for (uint32_t i = 16; i < 24; i++) {
		struct pkt p = mk4(0x0a000000 + i, 5000, 0x0b000000, 53, 17);
		flow_table_packet(ft, &p, ++no, 2 * SEC, NULL);
	}
	flow_table_stats(ft, &st);
	assert_int_equal(st.flows_created, 24);
	assert_int_equal(st.evictions_cap, 8);
	for (uint32_t i = 0; i < 24; i++) {
		if (i >= 8 && i < 16)
			continue;
		struct pkt p = mk4(0x0a000000 + i, 5000, 0x0b000000, 53, 17);
		flow_table_packet(ft, &p, ++no, 3 * SEC, NULL);
	}
	flow_table_stats(ft, &st);
	assert_int_equal(st.flows_created, 24); /* every one still there was found */
	assert_int_equal(st.flows_active, 16);
	for (uint32_t i = 8; i < 16; i++) {
		struct pkt p = mk4(0x0a000000 + i, 5000, 0x0b000000, 53, 17);
		flow_table_packet(ft, &p, ++no, 4 * SEC, NULL);
	}
	flow_table_stats(ft, &st);
	assert_int_equal(st.flows_created, 32); /* the evicted ones come back as new */
	assert_int_equal(st.evictions_cap, 16);
	flow_table_destroy(ft);
}

/* Many TCP flows each holding out-of-order bytes: the pieces share the cap
 * with the flows, and the budget is never exceeded. */
static void test_memory_cap_with_buffers(void **state)
{
	struct events e = { 0 };
	size_t slot = flow_table_slot_size(sizeof(struct user_state));
	uint64_t cap = 1024 * 4 + 60 * slot + 20 * (1400 + TCP_STREAM_SEG_OVERHEAD);
	struct flow_table *ft = table_new(&e, cap, 1024);
	static uint8_t payload[1400];
	struct flow_stats st, st0;

	(void)state;
	flow_table_stats(ft, &st0);
	memset(payload, 'p', sizeof(payload));
	for (uint32_t i = 0; i < 500; i++) {
		struct pkt p = tcp4(0x0a000000 + i, 40000, 0x0b000000, 80, TH, 0, NULL, 0);
		flow_table_packet(ft, &p, 3 * i + 1, SEC + i, NULL);
		assert_under_cap(ft);
		/* A hole of 1000 bytes, then data that must wait. */
		p = tcp4(0x0a000000 + i, 40000, 0x0b000000, 80, TA, 1001, payload, sizeof(payload));
		flow_table_packet(ft, &p, 3 * i + 2, SEC + i, NULL);
		assert_under_cap(ft);
		p = tcp4(0x0a000000 + i, 40000, 0x0b000000, 80, TA, 2401, payload, sizeof(payload));
		flow_table_packet(ft, &p, 3 * i + 3, SEC + i, NULL);
		assert_under_cap(ft);
	}
	flow_table_stats(ft, &st);
	assert_true(st.evictions_cap > 0);
	assert_true(st.tcp.segs_out_of_order > 0);
	assert_true(st.mem_peak <= cap);
	/* Evicted flows delivered what they held, after the hole. */
	assert_true(e.gap_bytes >= 1000 * st.evictions_cap);
	flow_table_flush(ft);
	flow_table_stats(ft, &st);
	assert_int_equal(st.flows_active, 0);
	assert_int_equal(st.mem_in_use, st0.mem_in_use); /* only the buckets remain */
	flow_table_destroy(ft);
}

/* Room is made from a closed flow before an open one, even a younger one. */
static void test_evict_closed_first(void **state)
{
	struct events e = { 0 };
	struct flow_table *ft = table_new(&e, 64 << 20, 2);
	struct flow_stats st;
	struct pkt p;

	(void)state;
	p = mk4(1, 1000, 2, 53, 17);
	flow_table_packet(ft, &p, 1, 10 * SEC, NULL);                  /* open, older */
	p = tcp4(3, 40000, 4, 80, TH, 1, NULL, 0);
	flow_table_packet(ft, &p, 2, 50 * SEC, NULL);
	p = tcp4(3, 40000, 4, 80, TR, 2, NULL, 0);
	flow_table_packet(ft, &p, 3, 50 * SEC, NULL);                  /* closed, younger */
	p = mk4(5, 1000, 6, 53, 17);
	flow_table_packet(ft, &p, 4, 60 * SEC, NULL);
	flow_table_stats(ft, &st);
	assert_int_equal(st.evictions_cap, 1);
	assert_int_equal(e.closes[FLOW_CLOSE_EVICTED], 0);
	p = mk4(1, 1000, 2, 53, 17);
	flow_table_packet(ft, &p, 5, 61 * SEC, NULL);
	flow_table_stats(ft, &st);
	assert_int_equal(st.flows_created, 3); /* the open one was kept */
	flow_table_destroy(ft);
}

/* Packet times may run backwards (merged captures): the flow being worked on
 * can then be the oldest, and must still not be evicted to make room. */
static void test_current_flow_not_evicted(void **state)
{
	struct events e = { 0 };
	size_t slot = flow_table_slot_size(sizeof(struct user_state));
	uint64_t cap = 4 * 4 + 2 * slot + 100;
	struct flow_table *ft = table_new(&e, cap, 4);
	static uint8_t data[200];
	struct flow_stats st;
	struct flow *a;
	struct pkt p;

	(void)state;
	memset(data, 'd', sizeof(data));
	e.log[0] = malloc(LOG_CAP);
	p = tcp4(1, 40000, 2, 80, TH, 0, NULL, 0);
	a = flow_table_packet(ft, &p, 1, 1 * SEC, NULL);
	e.watch = a;
	p = mk4(3, 1000, 4, 53, 17);
	flow_table_packet(ft, &p, 2, 30 * SEC, NULL);
	/* Out of order, needs a piece beyond the budget, carries an old time. */
	p = tcp4(1, 40000, 2, 80, TA, 101, data, 150);
	flow_table_packet(ft, &p, 3, 2 * SEC, NULL);
	assert_false(flow_is_closed(a));
	flow_table_stats(ft, &st);
	assert_int_equal(st.evictions_cap, 1); /* the UDP flow went */
	assert_int_equal(e.closes[FLOW_CLOSE_EVICTED], 1);
	assert_under_cap(ft);
	p = tcp4(1, 40000, 2, 80, TA, 1, data, 100);
	assert_ptr_equal(flow_table_packet(ft, &p, 4, 3 * SEC, NULL), a);
	assert_int_equal(e.log_len[0], 250);
	flow_table_destroy(ft);
	free(e.log[0]);
}

static void test_cap_too_small(void **state)
{
	struct flow_table_config cfg;
	struct flow_table *ft = (struct flow_table *)&cfg;
	struct cs_diag d;

	(void)state;
	flow_table_config_default(&cfg);
	cfg.mem_cap = 16;
	assert_int_equal(flow_table_create(&cfg, NULL, &ft, &d), CS_ERR_INVALID);
	assert_null(ft);
	assert_true(strlen(d.msg) > 0);
	flow_table_destroy(NULL);
}

/* A million distinct flows through a 64 MiB table: bounded all the way. */
static void test_million_flows_capped(void **state)
{
	struct events e = { 0 };
	struct flow_table *ft = table_new(&e, 64ull << 20, 1u << 20);
	struct flow_stats st;

	(void)state;
	for (uint32_t i = 0; i < 1000000; i++) {
		struct pkt p = mk4(0x0a000000 + (i >> 4), (uint16_t)(1024 + (i & 15)), 0xc0000001, 53,
				   17);
		flow_table_packet(ft, &p, i + 1, SEC + i * 1000ull, NULL);
		if ((i & 1023) == 0)
			assert_under_cap(ft);
	}
	flow_table_stats(ft, &st);
	assert_true(st.mem_peak <= 64ull << 20);
	assert_int_equal(st.flows_created, 1000000);
	assert_int_equal(st.flows_active + st.evictions_cap, 1000000);
	assert_true(st.flows_active > 200000);
	flow_table_destroy(ft);
}

/* A million concurrent flows (with 32 user bytes each) fit in 512 MiB. */
static void test_million_flows_fit(void **state)
{
	struct events e = { 0 };
	struct flow_table *ft = table_new(&e, 512ull << 20, 1u << 20);
	struct flow_stats st;

	(void)state;
	for (uint32_t i = 0; i < 1000000; i++) {
		struct pkt p = tcp4(0x0a000000 + i, 40000, 0xc0000001, 443, TH, i, NULL, 0);
		flow_table_packet(ft, &p, i + 1, SEC, NULL);
	}
	flow_table_stats(ft, &st);
	assert_int_equal(st.flows_active, 1000000);
	assert_int_equal(st.evictions_cap, 0);
	assert_true(st.mem_in_use <= 512ull << 20);
	flow_table_destroy(ft);
}

static void test_udp_offsets_and_vlan(void **state)
{
	struct events e = { 0 };
	struct flow_table *ft = table_new(&e, 64 << 20, 100);
	struct flow *f, *g;
	enum flow_dir dir;
	struct pkt p;

	(void)state;
	e.log[0] = malloc(LOG_CAP);
	e.log[1] = malloc(LOG_CAP);
	p = mk4(1, 5353, 2, 53, 17);
	p.payload = (const uint8_t *)"query";
	p.payload_len = 5;
	f = flow_table_packet(ft, &p, 1, SEC, &dir);
	e.watch = f;
	p.payload = (const uint8_t *)"again";
	flow_table_packet(ft, &p, 2, SEC, NULL);
	p = reverse(&p);
	p.payload = (const uint8_t *)"answer";
	p.payload_len = 6;
	assert_ptr_equal(flow_table_packet(ft, &p, 3, SEC, &dir), f);
	assert_int_equal(dir, FLOW_DIR_S2C);
	assert_int_equal(flow_stream_offset(f, FLOW_DIR_C2S), 10);
	assert_int_equal(flow_stream_offset(f, FLOW_DIR_S2C), 6);
	/* Watched from the second datagram on. */
	assert_int_equal(e.log_len[0], 5);
	assert_memory_equal(e.log[0], "again", 5);
	assert_memory_equal(e.log[1], "answer", 6);
	assert_int_equal(((struct user_state *)flow_user(f))->bytes[0], 10);
	/* Another VLAN is another flow. */
	p.vlan[0] = 100;
	g = flow_table_packet(ft, &p, 4, SEC, NULL);
	assert_non_null(g);
	assert_ptr_not_equal(f, g);
	assert_int_equal(((uintptr_t)flow_user(g)) % 16, 0);
	flow_table_destroy(ft);
	free(e.log[0]);
	free(e.log[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_symmetric),
		cmocka_unit_test(test_tcp_session),
		cmocka_unit_test(test_initiator),
		cmocka_unit_test(test_rst),
		cmocka_unit_test(test_shuffled_through_table),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test(test_closed_flow_expires_silently),
		cmocka_unit_test(test_memory_cap_eviction),
		cmocka_unit_test(test_soft_charge_enforced),
		cmocka_unit_test(test_max_flows),
		cmocka_unit_test(test_bucket_chains),
		cmocka_unit_test(test_memory_cap_with_buffers),
		cmocka_unit_test(test_evict_closed_first),
		cmocka_unit_test(test_current_flow_not_evicted),
		cmocka_unit_test(test_cap_too_small),
		cmocka_unit_test(test_million_flows_capped),
		cmocka_unit_test(test_million_flows_fit),
		cmocka_unit_test(test_udp_offsets_and_vlan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
