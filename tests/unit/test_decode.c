/* Unit tests for packet decode (src/decode/): each layer with a good frame and
 * each malformed variant (the right event, DECODE_BAD, no read past the end),
 * every prefix and byte flip of good frames, the Community ID against the
 * reference vectors of the Community ID spec's implementation, and decode of
 * every packet in the real captures under tests/data/pcap. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "cybersieve/capture.h"
#include "cybersieve/decode.h"
#include "pkt_build.h"

static const uint8_t v6a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t v6b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

static const char payload[] = "GET / HTTP/1.1\r\n";
#define PAYLOAD_LEN (sizeof(payload) - 1)

/* Decode a frame from a heap copy of exactly len bytes, so that ASan sees any
 * read past the end. */
static enum decode_result dec(int lt, const uint8_t *b, size_t len, struct pkt *p,
			      struct decode_stats *st)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, b, len);
	enum decode_result r = decode_packet(lt, copy, len, p, st);
	/* Pointers into the frame must stay inside it. */
	if (r == DECODE_OK && p->payload) {
		assert_true(p->payload >= copy && p->payload + p->payload_len <= copy + len);
		assert_true(p->l3 >= copy && p->l3 + p->l3_len <= copy + len);
	}
	/* Keep the fields usable by the caller: point them at the caller's bytes. */
	if (p->payload)
		p->payload = b + (p->payload - copy);
	if (p->l3)
		p->l3 = b + (p->l3 - copy);
	p->frame = b;
	free(copy);
	return r;
}

/* Expect DECODE_BAD with exactly one event, ev. */
static void expect_bad(int lt, const uint8_t *b, size_t len, enum decode_event ev)
{
	struct decode_stats st = { 0 };
	struct pkt p;
	assert_int_equal(dec(lt, b, len, &p, &st), DECODE_BAD);
	uint64_t total = 0;
	for (int i = 0; i < DECODE_EV_COUNT; i++)
		total += st.events[i];
	if (st.events[ev] != 1 || total != 1) {
		for (int i = 0; i < DECODE_EV_COUNT; i++)
			if (st.events[i])
				print_error("event %s=%llu\n", decode_event_name(i),
					    (unsigned long long)st.events[i]);
	}
	assert_int_equal(st.events[ev], 1);
	assert_int_equal(total, 1);
}

static void build_eth_ipv4_tcp(struct pb *f, size_t *ip_off)
{
	f->n = 0;
	pb_eth(f, 0x0800);
	size_t ip = pb_ipv4(f, 6, PB_IP4(10, 0, 0, 1), PB_IP4(10, 0, 0, 2), 7, 0x4000);
	pb_tcp(f, 34855, 80, 1000, 0x18);
	pb_bytes(f, payload, PAYLOAD_LEN);
	pb_ipv4_fix(f, ip);
	if (ip_off)
		*ip_off = ip;
}

static void check_tcp_payload(const struct pkt *p)
{
	assert_int_equal(p->payload_len, PAYLOAD_LEN);
	assert_memory_equal(p->payload, payload, PAYLOAD_LEN);
}

static void test_ipv4_tcp(void **state)
{
	(void)state;
	struct pb f;
	build_eth_ipv4_tcp(&f, NULL);
	struct decode_stats st = { 0 };
	struct pkt p;
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_int_equal(st.packets, 1);
	assert_int_equal(st.decoded, 1);
	assert_int_equal(p.src.family, 4);
	const uint8_t s[4] = { 10, 0, 0, 1 }, d[4] = { 10, 0, 0, 2 };
	assert_memory_equal(p.src.bytes, s, 4);
	assert_memory_equal(p.dst.bytes, d, 4);
	assert_int_equal(p.ip_proto, 6);
	assert_int_equal(p.ttl, 64);
	assert_int_equal(p.sport, 34855);
	assert_int_equal(p.dport, 80);
	assert_int_equal(p.tcp_seq, 1000);
	assert_int_equal(p.tcp_ack, 0x01020304u);
	assert_int_equal(p.tcp_flags, 0x18);
	assert_int_equal(p.tcp_win, 8192);
	assert_int_equal(p.l3_hlen, 20);
	assert_int_equal(p.l3_len, 20 + 20 + PAYLOAD_LEN);
	assert_int_equal(p.ip_len, p.l3_len);
	assert_int_equal(p.layers, 1);
	assert_int_equal(p.flags, 0);
	assert_int_equal(p.vlan[0], 0);
	check_tcp_payload(&p);
}

static void test_ipv4_padding_and_snap(void **state)
{
	(void)state;
	struct pb f;
	build_eth_ipv4_tcp(&f, NULL);
	size_t n = f.n;
	pb_zero(&f, 8); /* Ethernet trailer: not payload */
	struct decode_stats st = { 0 };
	struct pkt p;
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	check_tcp_payload(&p);
	assert_int_equal(p.flags & PKT_F_SNAPPED, 0);

	/* Snap length cut the payload: normal, no event, payload is what is there. */
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, n - 5, &p, &st), DECODE_OK);
	assert_int_equal(p.payload_len, PAYLOAD_LEN - 5);
	assert_true(p.flags & PKT_F_SNAPPED);
	for (int i = 0; i < DECODE_EV_COUNT; i++)
		assert_int_equal(st.events[i], 0);
}

static void test_ipv4_malformed(void **state)
{
	(void)state;
	struct pb f;
	size_t ip;
	build_eth_ipv4_tcp(&f, &ip);
	expect_bad(DECODE_LINK_ETHERNET, f.b, ip + 19, DECODE_EV_IPV4_TRUNCATED);
	expect_bad(DECODE_LINK_ETHERNET, f.b, 10, DECODE_EV_TRUNCATED_LINK);

	struct pb g = f;
	g.b[ip] = 0x55; /* version 5 */
	expect_bad(DECODE_LINK_ETHERNET, g.b, g.n, DECODE_EV_IPV4_BAD_VERSION);
	g = f;
	g.b[ip] = 0x44; /* IHL 16 bytes */
	expect_bad(DECODE_LINK_ETHERNET, g.b, g.n, DECODE_EV_IPV4_BAD_HLEN);
	g = f;
	pb_set16(&g, ip + 2, 19); /* total shorter than the header */
	expect_bad(DECODE_LINK_ETHERNET, g.b, g.n, DECODE_EV_IPV4_BAD_LEN);
	g = f;
	g.b[ip] = 0x4f; /* 60-byte header, frame too short for it */
	pb_set16(&g, ip + 2, 100);
	expect_bad(DECODE_LINK_ETHERNET, g.b, ip + 40, DECODE_EV_IPV4_TRUNCATED);
}

static size_t build_ipv4_opts(struct pb *f, const uint8_t *opt, size_t olen)
{
	f->n = 0;
	pb_eth(f, 0x0800);
	size_t ip = pb_ipv4(f, 17, PB_IP4(1, 1, 1, 1), PB_IP4(2, 2, 2, 2), 1, 0);
	pb_bytes(f, opt, olen);
	f->b[ip] = (uint8_t)(0x40 | (20 + olen) / 4);
	size_t u = pb_udp(f, 1000, 53);
	pb_bytes(f, "abcd", 4);
	pb_udp_fix(f, u);
	pb_ipv4_fix(f, ip);
	return ip;
}

static void test_ipv4_options(void **state)
{
	(void)state;
	struct pb f;
	/* NOP, NOP, record route (len 7, pointer 4, one address), end */
	const uint8_t good[12] = { 1, 1, 7, 7, 4, 0, 0, 0, 0, 0, 0, 0 };
	build_ipv4_opts(&f, good, sizeof(good));
	struct decode_stats st = { 0 };
	struct pkt p;
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_int_equal(p.l3_hlen, 32);
	assert_int_equal(p.dport, 53);
	assert_int_equal(p.payload_len, 4);
	assert_memory_equal(p.payload, "abcd", 4);

	const uint8_t runs_past[4] = { 1, 7, 9, 0 }; /* length 9 in a 4-byte area */
	build_ipv4_opts(&f, runs_past, sizeof(runs_past));
	expect_bad(DECODE_LINK_ETHERNET, f.b, f.n, DECODE_EV_IPV4_BAD_OPT);
	const uint8_t too_short[4] = { 7, 1, 0, 0 }; /* length 1 */
	build_ipv4_opts(&f, too_short, sizeof(too_short));
	expect_bad(DECODE_LINK_ETHERNET, f.b, f.n, DECODE_EV_IPV4_BAD_OPT);
	const uint8_t no_len[4] = { 1, 1, 1, 68 }; /* option type with no length byte */
	build_ipv4_opts(&f, no_len, sizeof(no_len));
	expect_bad(DECODE_LINK_ETHERNET, f.b, f.n, DECODE_EV_IPV4_BAD_OPT);
}

static void test_ipv4_fragment(void **state)
{
	(void)state;
	struct pb f = { .n = 0 };
	pb_eth(&f, 0x0800);
	size_t ip = pb_ipv4(&f, 17, PB_IP4(1, 1, 1, 1), PB_IP4(2, 2, 2, 2), 0x1234, 0x2000 | 3);
	pb_zero(&f, 16);
	pb_ipv4_fix(&f, ip);
	struct decode_stats st = { 0 };
	struct pkt p;
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_true(p.flags & PKT_F_FRAGMENT);
	assert_int_equal(p.frag_id, 0x1234);
	assert_int_equal(p.frag_off, 24);
	assert_true(p.frag_more);
	assert_int_equal(p.payload_len, 16);
	assert_int_equal(p.sport, 0); /* transport not read */
	assert_int_equal(p.ip_proto, 17);
	/* The first fragment is a fragment too: its transport header is not trusted. */
	pb_set16(&f, ip + 6, 0x2000);
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_true(p.flags & PKT_F_FRAGMENT);
	assert_int_equal(p.frag_off, 0);
}

static void test_tcp_malformed(void **state)
{
	(void)state;
	struct pb f;
	size_t ip;
	build_eth_ipv4_tcp(&f, &ip);
	size_t tcp = ip + 20;
	struct pb g = f;
	pb_set16(&g, ip + 2, 20 + 19); /* IP says only 19 TCP bytes */
	expect_bad(DECODE_LINK_ETHERNET, g.b, g.n, DECODE_EV_TCP_TRUNCATED);
	g = f;
	g.b[tcp + 12] = 0x40; /* data offset 16 bytes */
	expect_bad(DECODE_LINK_ETHERNET, g.b, g.n, DECODE_EV_TCP_BAD_HLEN);
	g = f;
	g.b[tcp + 12] = 0xf0; /* 60-byte header in a 36-byte segment */
	expect_bad(DECODE_LINK_ETHERNET, g.b, g.n, DECODE_EV_TCP_BAD_HLEN);
	/* 60-byte header the IP length allows, cut off by the capture. */
	g = f;
	g.b[tcp + 12] = 0xf0;
	pb_set16(&g, ip + 2, 20 + 60);
	expect_bad(DECODE_LINK_ETHERNET, g.b, tcp + 30, DECODE_EV_TCP_TRUNCATED);
}

static void build_udp(struct pb *f, uint16_t dport, const void *data, size_t n, size_t *ip,
		      size_t *udp)
{
	f->n = 0;
	pb_eth(f, 0x0800);
	*ip = pb_ipv4(f, 17, PB_IP4(192, 168, 1, 52), PB_IP4(8, 8, 8, 8), 1, 0);
	*udp = pb_udp(f, 54585, dport);
	pb_bytes(f, data, n);
	pb_udp_fix(f, *udp);
	pb_ipv4_fix(f, *ip);
}

static void test_udp(void **state)
{
	(void)state;
	struct pb f;
	size_t ip, udp;
	build_udp(&f, 53, "0123456789", 10, &ip, &udp);
	struct decode_stats st = { 0 };
	struct pkt p;
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_int_equal(p.sport, 54585);
	assert_int_equal(p.dport, 53);
	assert_int_equal(p.payload_len, 10);
	assert_memory_equal(p.payload, "0123456789", 10);

	struct pb g = f;
	pb_set16(&g, udp + 4, 12); /* UDP length shorter than the IP payload */
	assert_int_equal(dec(DECODE_LINK_ETHERNET, g.b, g.n, &p, &st), DECODE_OK);
	assert_int_equal(p.payload_len, 4);
	g = f;
	pb_set16(&g, udp + 4, 7);
	expect_bad(DECODE_LINK_ETHERNET, g.b, g.n, DECODE_EV_UDP_BAD_LEN);
	g = f;
	pb_set16(&g, udp + 4, 19); /* longer than the IP payload (18) */
	expect_bad(DECODE_LINK_ETHERNET, g.b, g.n, DECODE_EV_UDP_BAD_LEN);
	g = f;
	pb_set16(&g, ip + 2, 20 + 7);
	expect_bad(DECODE_LINK_ETHERNET, g.b, g.n, DECODE_EV_UDP_TRUNCATED);
}

static void test_icmp_sctp(void **state)
{
	(void)state;
	struct pb f = { .n = 0 };
	pb_eth(&f, 0x0800);
	size_t ip = pb_ipv4(&f, 1, PB_IP4(192, 168, 0, 89), PB_IP4(192, 168, 0, 1), 1, 0);
	pb_u8(&f, 8);
	pb_u8(&f, 0);
	pb_zero(&f, 6 + 32);
	pb_ipv4_fix(&f, ip);
	struct decode_stats st = { 0 };
	struct pkt p;
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_int_equal(p.ip_proto, 1);
	assert_int_equal(p.sport, 8);
	assert_int_equal(p.dport, 0);
	assert_int_equal(p.payload_len, 32);
	pb_set16(&f, ip + 2, 23);
	expect_bad(DECODE_LINK_ETHERNET, f.b, f.n, DECODE_EV_ICMP_TRUNCATED);

	f.n = 0;
	pb_eth(&f, 0x0800);
	ip = pb_ipv4(&f, 132, PB_IP4(192, 168, 170, 8), PB_IP4(192, 168, 170, 56), 1, 0);
	pb_u16(&f, 7);
	pb_u16(&f, 80);
	pb_zero(&f, 8 + 16);
	pb_ipv4_fix(&f, ip);
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_int_equal(p.sport, 7);
	assert_int_equal(p.dport, 80);
	assert_int_equal(p.payload_len, 16);
	pb_set16(&f, ip + 2, 31);
	expect_bad(DECODE_LINK_ETHERNET, f.b, f.n, DECODE_EV_SCTP_TRUNCATED);
}

/* Ethernet + the given VLAN tag types + IPv4/TCP. */
static void build_vlans(struct pb *f, const uint16_t *tpids, size_t n)
{
	f->n = 0;
	pb_eth(f, n ? tpids[0] : 0x0800);
	for (size_t i = 0; i < n; i++) {
		pb_u16(f, (uint16_t)(0x2000 | (100 + i))); /* PCP 1, VID 100+i */
		pb_u16(f, i + 1 < n ? tpids[i + 1] : 0x0800);
	}
	size_t ip = pb_ipv4(f, 6, PB_IP4(10, 0, 0, 1), PB_IP4(10, 0, 0, 2), 1, 0);
	pb_tcp(f, 1111, 80, 1, 0x02);
	pb_bytes(f, payload, PAYLOAD_LEN);
	pb_ipv4_fix(f, ip);
}

static void test_vlan(void **state)
{
	(void)state;
	struct pb f;
	struct decode_stats st = { 0 };
	struct pkt p;
	const uint16_t one[] = { 0x8100 };
	build_vlans(&f, one, 1);
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_int_equal(p.vlan[0], 100);
	assert_int_equal(p.vlan[1], 0);
	check_tcp_payload(&p);
	const uint16_t qinq[] = { 0x88a8, 0x8100 };
	build_vlans(&f, qinq, 2);
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_int_equal(p.vlan[0], 100);
	assert_int_equal(p.vlan[1], 101);
	assert_int_equal(p.layers, 3);
	const uint16_t three[] = { 0x9100, 0x88a8, 0x8100 };
	build_vlans(&f, three, 3);
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_int_equal(p.vlan[1], 101);
	check_tcp_payload(&p);
	/* Seven tags + IP is eight layers: allowed; eight tags are too many. */
	const uint16_t seven[] = { 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100 };
	build_vlans(&f, seven, 7);
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_int_equal(p.layers, DECODE_MAX_LAYERS);
	build_vlans(&f, seven, 8);
	expect_bad(DECODE_LINK_ETHERNET, f.b, f.n, DECODE_EV_TOO_MANY_LAYERS);
	build_vlans(&f, one, 1);
	expect_bad(DECODE_LINK_ETHERNET, f.b, 14 + 3, DECODE_EV_VLAN_TRUNCATED);
}

static void test_mpls(void **state)
{
	(void)state;
	struct pb f = { .n = 0 };
	pb_eth(&f, 0x8847);
	pb_u32(&f, (16u << 12) | 0x40);          /* label 16, not bottom */
	pb_u32(&f, (17u << 12) | 0x100 | 0x40);  /* label 17, bottom of stack */
	size_t ip = pb_ipv4(&f, 6, PB_IP4(10, 0, 0, 1), PB_IP4(10, 0, 0, 2), 1, 0);
	pb_tcp(&f, 1, 2, 3, 0x10);
	pb_bytes(&f, payload, PAYLOAD_LEN);
	pb_ipv4_fix(&f, ip);
	struct decode_stats st = { 0 };
	struct pkt p;
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	check_tcp_payload(&p);
	assert_int_equal(p.layers, 3);
	/* No bottom-of-stack before the frame ends. */
	expect_bad(DECODE_LINK_ETHERNET, f.b, 14 + 6, DECODE_EV_MPLS_BAD);
	struct pb g = f;
	g.b[14 + 6] &= (uint8_t)~0x01;
	g.b[14 + 4 + 2] &= (uint8_t)~0x01;
	expect_bad(DECODE_LINK_ETHERNET, g.b, 14 + 8, DECODE_EV_MPLS_BAD);

	/* Pseudowire: control word, then a whole Ethernet frame. */
	struct pb inner;
	build_eth_ipv4_tcp(&inner, NULL);
	f.n = 0;
	pb_eth(&f, 0x8847);
	pb_u32(&f, (20u << 12) | 0x100 | 0x40);
	pb_u32(&f, 0); /* control word */
	pb_bytes(&f, inner.b, inner.n);
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_int_equal(p.dport, 80);
	check_tcp_payload(&p);
}

static size_t build_pppoe(struct pb *f, uint16_t ppp_proto)
{
	f->n = 0;
	pb_eth(f, 0x8864);
	size_t ph = f->n;
	pb_u8(f, 0x11);
	pb_u8(f, 0);
	pb_u16(f, 0x0001);
	pb_u16(f, 0);
	pb_u16(f, ppp_proto);
	size_t ip = pb_ipv4(f, 6, PB_IP4(1, 1, 1, 1), PB_IP4(2, 2, 2, 2), 1, 0);
	pb_tcp(f, 20394, 443, 5, 0x10);
	pb_bytes(f, payload, PAYLOAD_LEN);
	pb_ipv4_fix(f, ip);
	pb_set16(f, ph + 4, (uint16_t)(f->n - ph - 6));
	return ph;
}

static void test_pppoe(void **state)
{
	(void)state;
	struct pb f;
	size_t ph = build_pppoe(&f, 0x0021);
	struct decode_stats st = { 0 };
	struct pkt p;
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_int_equal(p.dport, 443);
	check_tcp_payload(&p);
	struct pb g = f;
	g.b[ph] = 0x12;
	expect_bad(DECODE_LINK_ETHERNET, g.b, g.n, DECODE_EV_PPPOE_BAD);
	expect_bad(DECODE_LINK_ETHERNET, f.b, ph + 5, DECODE_EV_PPPOE_BAD);
	build_pppoe(&f, 0xc021); /* LCP */
	memset(&st, 0, sizeof(st));
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_SKIP);
	assert_int_equal(st.events[DECODE_EV_NOT_IP], 1);
}

static void test_ipv6_exthdrs(void **state)
{
	(void)state;
	struct pb f = { .n = 0 };
	pb_eth(&f, 0x86dd);
	size_t ip = pb_ipv6(&f, 0, v6a, v6b);
	pb_u8(&f, 60); /* hop-by-hop -> destination options */
	pb_u8(&f, 0);
	pb_u8(&f, 1); /* PadN */
	pb_u8(&f, 4);
	pb_zero(&f, 4);
	pb_u8(&f, 43); /* destination options (16 bytes) -> routing */
	pb_u8(&f, 1);
	pb_zero(&f, 14);
	pb_u8(&f, 51); /* routing -> AH */
	pb_u8(&f, 0);
	pb_u8(&f, 0);
	pb_u8(&f, 0);
	pb_zero(&f, 4);
	pb_u8(&f, 17); /* AH, 12 bytes ((1 + 2) * 4) -> UDP */
	pb_u8(&f, 1);
	pb_zero(&f, 10);
	size_t u = pb_udp(&f, 5000, 53);
	pb_bytes(&f, "dns!", 4);
	pb_udp_fix(&f, u);
	pb_ipv6_fix(&f, ip);
	struct decode_stats st = { 0 };
	struct pkt p;
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_int_equal(p.src.family, 6);
	assert_memory_equal(p.src.bytes, v6a, 16);
	assert_memory_equal(p.dst.bytes, v6b, 16);
	assert_int_equal(p.ip_proto, 17);
	assert_int_equal(p.l3_hlen, 40 + 8 + 16 + 8 + 12);
	assert_int_equal(p.dport, 53);
	assert_int_equal(p.payload_len, 4);
	assert_memory_equal(p.payload, "dns!", 4);

	struct pb g = f;
	g.b[ip + 40 + 8 + 1] = 40; /* destination options longer than the datagram */
	expect_bad(DECODE_LINK_ETHERNET, g.b, g.n, DECODE_EV_IPV6_BAD_EXTHDR);
	g = f;
	g.b[ip + 40] = 0; /* a second hop-by-hop header, not first */
	expect_bad(DECODE_LINK_ETHERNET, g.b, g.n, DECODE_EV_IPV6_BAD_EXTHDR);
	expect_bad(DECODE_LINK_ETHERNET, f.b, ip + 40 + 8 + 4, DECODE_EV_IPV6_TRUNCATED);
	expect_bad(DECODE_LINK_ETHERNET, f.b, ip + 39, DECODE_EV_IPV6_TRUNCATED);
	g = f;
	g.b[ip] = 0x40;
	expect_bad(DECODE_LINK_ETHERNET, g.b, g.n, DECODE_EV_IPV6_BAD_VERSION);
}

static size_t build_ipv6_frag(struct pb *f, uint16_t offlg)
{
	f->n = 0;
	pb_eth(f, 0x86dd);
	size_t ip = pb_ipv6(f, 0, v6a, v6b);
	pb_u8(f, 44); /* hop-by-hop -> fragment */
	pb_u8(f, 0);
	pb_u8(f, 1);
	pb_u8(f, 4);
	pb_zero(f, 4);
	pb_u8(f, 6); /* fragment -> TCP */
	pb_u8(f, 0);
	pb_u16(f, offlg);
	pb_u32(f, 0xdeadbeef);
	pb_tcp(f, 4000, 80, 9, 0x18);
	pb_bytes(f, payload, PAYLOAD_LEN);
	pb_ipv6_fix(f, ip);
	return ip;
}

static void test_ipv6_fragment(void **state)
{
	(void)state;
	struct pb f;
	build_ipv6_frag(&f, 0x0001); /* offset 0, more fragments */
	struct decode_stats st = { 0 };
	struct pkt p;
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_true(p.flags & PKT_F_FRAGMENT);
	assert_int_equal(p.frag_id, 0xdeadbeef);
	assert_int_equal(p.frag_off, 0);
	assert_true(p.frag_more);
	assert_int_equal(p.ip_proto, 6);
	assert_int_equal(p.l3_hlen, 48);
	assert_int_equal(p.frag_nh_off, 40);
	assert_int_equal(p.payload_len, 20 + PAYLOAD_LEN);
	assert_int_equal(p.sport, 0);
	build_ipv6_frag(&f, 0x0010); /* offset 16, last */
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_int_equal(p.frag_off, 16);
	assert_false(p.frag_more);
	/* Atomic fragment: decoded through to TCP. */
	build_ipv6_frag(&f, 0);
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_int_equal(p.flags & PKT_F_FRAGMENT, 0);
	assert_int_equal(p.sport, 4000);
	check_tcp_payload(&p);
}

static void test_gre(void **state)
{
	(void)state;
	struct pb inner;
	build_eth_ipv4_tcp(&inner, NULL);
	struct pb f = { .n = 0 };
	struct decode_stats st = { 0 };
	struct pkt p;

	/* GRE with key and sequence, IPv4 inside */
	pb_eth(&f, 0x0800);
	size_t ip = pb_ipv4(&f, 47, PB_IP4(172, 16, 0, 1), PB_IP4(172, 16, 0, 2), 1, 0);
	size_t gre = f.n;
	pb_u16(&f, 0x3000);
	pb_u16(&f, 0x0800);
	pb_u32(&f, 42);
	pb_u32(&f, 1);
	pb_bytes(&f, inner.b + 14, inner.n - 14);
	pb_ipv4_fix(&f, ip);
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_true(p.flags & PKT_F_TUNNELLED);
	assert_int_equal(p.src.bytes[0], 10); /* the inner addresses */
	assert_int_equal(p.dport, 80);
	assert_int_equal(st.decoded, 1);
	check_tcp_payload(&p);
	struct pb g = f;
	g.b[gre + 1] = 0x02; /* version 2 */
	expect_bad(DECODE_LINK_ETHERNET, g.b, g.n, DECODE_EV_GRE_BAD);
	g = f;
	g.b[gre] |= 0x40; /* routing present */
	expect_bad(DECODE_LINK_ETHERNET, g.b, g.n, DECODE_EV_GRE_BAD);
	g = f;
	pb_set16(&g, ip + 2, 20 + 10); /* key and sequence cut off */
	expect_bad(DECODE_LINK_ETHERNET, g.b, g.n, DECODE_EV_GRE_BAD);

	/* Transparent Ethernet bridging */
	f.n = 0;
	pb_eth(&f, 0x0800);
	ip = pb_ipv4(&f, 47, PB_IP4(172, 16, 0, 1), PB_IP4(172, 16, 0, 2), 1, 0);
	pb_u16(&f, 0);
	pb_u16(&f, 0x6558);
	pb_bytes(&f, inner.b, inner.n);
	pb_ipv4_fix(&f, ip);
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_true(p.flags & PKT_F_TUNNELLED);
	check_tcp_payload(&p);

	/* Enhanced GRE (PPTP): key = payload length + call id, sequence, PPP */
	f.n = 0;
	pb_eth(&f, 0x0800);
	ip = pb_ipv4(&f, 47, PB_IP4(172, 16, 0, 1), PB_IP4(172, 16, 0, 2), 1, 0);
	pb_u16(&f, 0x3001);
	pb_u16(&f, 0x880b);
	pb_u16(&f, (uint16_t)(4 + inner.n - 14));
	pb_u16(&f, 7);
	pb_u32(&f, 1);
	pb_u8(&f, 0xff);
	pb_u8(&f, 0x03);
	pb_u16(&f, 0x0021);
	pb_bytes(&f, inner.b + 14, inner.n - 14);
	pb_ipv4_fix(&f, ip);
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_true(p.flags & PKT_F_TUNNELLED);
	check_tcp_payload(&p);
}

static void test_vxlan_ipip(void **state)
{
	(void)state;
	struct pb inner;
	build_eth_ipv4_tcp(&inner, NULL);
	struct pb f = { .n = 0 };
	pb_eth(&f, 0x0800);
	size_t ip = pb_ipv4(&f, 17, PB_IP4(172, 16, 0, 1), PB_IP4(172, 16, 0, 2), 1, 0);
	size_t u = pb_udp(&f, 40000, 4789);
	size_t vx = f.n;
	pb_u32(&f, 0x08000000u);
	pb_u32(&f, 0x00123400u);
	pb_bytes(&f, inner.b, inner.n);
	pb_udp_fix(&f, u);
	pb_ipv4_fix(&f, ip);
	struct decode_stats st = { 0 };
	struct pkt p;
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_true(p.flags & PKT_F_TUNNELLED);
	assert_int_equal(p.sport, 34855);
	assert_int_equal(p.src.bytes[0], 10);
	check_tcp_payload(&p);
	struct pb g = f;
	g.b[vx] = 0; /* I flag clear */
	expect_bad(DECODE_LINK_ETHERNET, g.b, g.n, DECODE_EV_VXLAN_BAD);

	/* IPv6 in IPv4 (6in4), ICMPv6 echo inside */
	f.n = 0;
	pb_eth(&f, 0x0800);
	ip = pb_ipv4(&f, 41, PB_IP4(192, 0, 2, 1), PB_IP4(192, 0, 2, 2), 1, 0);
	size_t ip6 = pb_ipv6(&f, 58, v6a, v6b);
	pb_u8(&f, 128);
	pb_u8(&f, 0);
	pb_zero(&f, 6);
	pb_ipv6_fix(&f, ip6);
	pb_ipv4_fix(&f, ip);
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_true(p.flags & PKT_F_TUNNELLED);
	assert_int_equal(p.src.family, 6);
	assert_int_equal(p.ip_proto, 58);
	assert_int_equal(p.sport, 128);
	/* The inner header broken: its own event. */
	g = f;
	g.b[ip6] = 0x70;
	expect_bad(DECODE_LINK_ETHERNET, g.b, g.n, DECODE_EV_IPV6_BAD_VERSION);

	/* IPv4 in IPv4 */
	f.n = 0;
	pb_eth(&f, 0x0800);
	ip = pb_ipv4(&f, 4, PB_IP4(192, 0, 2, 1), PB_IP4(192, 0, 2, 2), 1, 0);
	pb_bytes(&f, inner.b + 14, inner.n - 14);
	pb_ipv4_fix(&f, ip);
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_OK);
	assert_true(p.flags & PKT_F_TUNNELLED);
	assert_int_equal(p.src.bytes[0], 10);
	check_tcp_payload(&p);
}

static void test_link_types(void **state)
{
	(void)state;
	struct pb inner;
	build_eth_ipv4_tcp(&inner, NULL);
	const uint8_t *ip = inner.b + 14;
	size_t iplen = inner.n - 14;
	struct decode_stats st = { 0 };
	struct pkt p;
	struct pb f;

	f.n = 0; /* SLL v1: protocol at offset 14 */
	pb_zero(&f, 14);
	pb_u16(&f, 0x0800);
	pb_bytes(&f, ip, iplen);
	assert_int_equal(dec(DECODE_LINK_SLL, f.b, f.n, &p, &st), DECODE_OK);
	check_tcp_payload(&p);
	expect_bad(DECODE_LINK_SLL, f.b, 15, DECODE_EV_TRUNCATED_LINK);

	f.n = 0; /* SLL v2: protocol first, 20-byte header */
	pb_u16(&f, 0x0800);
	pb_zero(&f, 18);
	pb_bytes(&f, ip, iplen);
	assert_int_equal(dec(DECODE_LINK_SLL2, f.b, f.n, &p, &st), DECODE_OK);
	check_tcp_payload(&p);
	expect_bad(DECODE_LINK_SLL2, f.b, 19, DECODE_EV_TRUNCATED_LINK);

	const uint8_t fam_le[4] = { 2, 0, 0, 0 }, fam_be[4] = { 0, 0, 0, 2 };
	f.n = 0;
	pb_bytes(&f, fam_le, 4);
	pb_bytes(&f, ip, iplen);
	assert_int_equal(dec(DECODE_LINK_NULL, f.b, f.n, &p, &st), DECODE_OK);
	check_tcp_payload(&p);
	f.n = 0;
	pb_bytes(&f, fam_be, 4);
	pb_bytes(&f, ip, iplen);
	assert_int_equal(dec(DECODE_LINK_NULL, f.b, f.n, &p, &st), DECODE_OK);
	assert_int_equal(dec(DECODE_LINK_LOOP, f.b, f.n, &p, &st), DECODE_OK);
	check_tcp_payload(&p);
	expect_bad(DECODE_LINK_NULL, f.b, 3, DECODE_EV_TRUNCATED_LINK);

	assert_int_equal(dec(DECODE_LINK_RAW, ip, iplen, &p, &st), DECODE_OK);
	check_tcp_payload(&p);
	assert_int_equal(dec(DECODE_LINK_IPV4, ip, iplen, &p, &st), DECODE_OK);
	assert_int_equal(dec(DECODE_LINK_DLT_RAW, ip, iplen, &p, &st), DECODE_OK);
	expect_bad(DECODE_LINK_RAW, ip, 0, DECODE_EV_TRUNCATED_LINK);
	expect_bad(147, inner.b, inner.n, DECODE_EV_UNKNOWN_LINKTYPE);

	/* decode_ip starts at an IP header and counts the packet. */
	memset(&st, 0, sizeof(st));
	assert_int_equal(decode_ip(ip, iplen, &p, &st), DECODE_OK);
	assert_int_equal(st.packets, 1);
	assert_int_equal(p.dport, 80);

	/* ARP is not IP, and not unknown either; 0x1234 is both. */
	f.n = 0;
	pb_eth(&f, 0x0806);
	pb_zero(&f, 28);
	memset(&st, 0, sizeof(st));
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_SKIP);
	assert_int_equal(st.events[DECODE_EV_NOT_IP], 1);
	assert_int_equal(st.events[DECODE_EV_UNKNOWN_ETHERTYPE], 0);
	assert_int_equal(st.decoded, 0);
	pb_set16(&f, 12, 0x1234);
	assert_int_equal(dec(DECODE_LINK_ETHERNET, f.b, f.n, &p, &st), DECODE_SKIP);
	assert_int_equal(st.events[DECODE_EV_UNKNOWN_ETHERTYPE], 1);
}

/* Every prefix and every single-byte change of each good frame: a result in
 * range, and DECODE_BAD always with an event counted. ASan checks the reads. */
static void robust_one(int lt, const uint8_t *b, size_t n)
{
	struct pkt p;
	for (size_t len = 0; len <= n; len++) {
		struct decode_stats st = { 0 };
		enum decode_result r = dec(lt, b, len, &p, &st);
		uint64_t ev = 0;
		for (int i = 0; i < DECODE_EV_COUNT; i++)
			ev += st.events[i];
		assert_true(r == DECODE_OK || r == DECODE_SKIP || r == DECODE_BAD);
		if (r != DECODE_OK)
			assert_true(ev >= 1);
	}
	uint8_t m[4096];
	for (size_t i = 0; i < n; i++) {
		for (int v = 0; v < 256; v += 37) {
			memcpy(m, b, n);
			m[i] ^= (uint8_t)(v | 1);
			struct decode_stats st = { 0 };
			enum decode_result r = dec(lt, m, n, &p, &st);
			uint64_t ev = 0;
			for (int k = 0; k < DECODE_EV_COUNT; k++)
				ev += st.events[k];
			if (r == DECODE_BAD)
				assert_true(ev >= 1);
		}
	}
}

static void test_robust(void **state)
{
	(void)state;
	struct pb f;
	build_eth_ipv4_tcp(&f, NULL);
	robust_one(DECODE_LINK_ETHERNET, f.b, f.n);
	const uint16_t qinq[] = { 0x88a8, 0x8100 };
	build_vlans(&f, qinq, 2);
	robust_one(DECODE_LINK_ETHERNET, f.b, f.n);
	build_ipv6_frag(&f, 0);
	robust_one(DECODE_LINK_ETHERNET, f.b, f.n);
	build_pppoe(&f, 0x0021);
	robust_one(DECODE_LINK_ETHERNET, f.b, f.n);
	size_t ip, udp;
	build_udp(&f, 4789, "\x08\0\0\0\0\0\0\0", 8, &ip, &udp);
	robust_one(DECODE_LINK_ETHERNET, f.b, f.n);
}

/* Community ID vectors published with the spec's reference implementation
 * (pycommunityid tests): seed 0 and seed 1. */
struct cid_vec {
	int family;
	const char *src, *dst;
	uint8_t proto;
	uint16_t sport, dport;
	const char *seed0, *seed1;
};

static const struct cid_vec cid_vecs[] = {
	{ 4, "128.232.110.120", "66.35.250.204", 6, 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
	  "1:3V71V58M3Ksw/yuFALMcW0LAHvc=" },
	{ 4, "66.35.250.204", "128.232.110.120", 6, 80, 34855, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
	  "1:3V71V58M3Ksw/yuFALMcW0LAHvc=" },
	{ 4, "10.0.0.1", "10.0.0.2", 6, 10, 11569, "1:SXBGMX1lBOwhhoDrZynfROxnhnM=",
	  "1:HmBRGR+fUyXF4t8WEtal7Y0gEAo=" },
	{ 4, "192.168.1.52", "8.8.8.8", 17, 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=",
	  "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=" },
	{ 4, "8.8.8.8", "192.168.1.52", 17, 53, 54585, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=",
	  "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=" },
	{ 4, "192.168.170.8", "192.168.170.56", 132, 7, 80, "1:jQgCxbku+pNGw8WPbEc/TS/uTpQ=",
	  "1:Y1/0jQg6e+I3ZwZZ9LP65DNbTXU=" },
	{ 4, "192.168.170.56", "192.168.170.8", 132, 80, 7, "1:jQgCxbku+pNGw8WPbEc/TS/uTpQ=",
	  "1:Y1/0jQg6e+I3ZwZZ9LP65DNbTXU=" },
	{ 4, "192.168.0.89", "192.168.0.1", 1, 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=",
	  "1:03g6IloqVBdcZlPyX8r0hgoE7kA=" },
	{ 4, "192.168.0.1", "192.168.0.89", 1, 0, 8, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=",
	  "1:03g6IloqVBdcZlPyX8r0hgoE7kA=" },
	{ 4, "192.168.0.89", "192.168.0.1", 1, 20, 0, "1:3o2RFccXzUgjl7zDpqmY7yJi8rI=",
	  "1:lCXHHxavE1Vq3oX9NH5ladQg02o=" },
	{ 4, "192.168.0.89", "192.168.0.1", 1, 20, 1, "1:tz/fHIDUHs19NkixVVoOZywde+I=",
	  "1:Ie3wmFyxiEyikbsbcO03d2nh+PM=" },
	{ 4, "192.168.0.1", "192.168.0.89", 1, 0, 20, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=",
	  "1:03g6IloqVBdcZlPyX8r0hgoE7kA=" },
	{ 6, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 58, 135, 0,
	  "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=", "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY=" },
	{ 6, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 58, 136, 0,
	  "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=", "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY=" },
	{ 6, "3ffe:507:0:1:260:97ff:fe07:69ea", "3ffe:507:0:1:200:86ff:fe05:80da", 58, 3, 0,
	  "1:NdobDX8PQNJbAyfkWxhtL2Pqp5w=", "1:OlOWx9psIbBFi7lOCw/4MhlKR9M=" },
	{ 6, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:507:0:1:260:97ff:fe07:69ea", 58, 3, 0,
	  "1:/OGBt9BN1ofenrmSPWYicpij2Vc=", "1:Ij4ZxnC87/MXzhOjvH2vHu7LRmE=" },
	{ 4, "10.1.24.4", "10.1.12.1", 46, 0, 0, "1:/nQI4Rh/TtY3mf0R2gJFBkVlgS4=",
	  "1:BK3BVW3U2eemuwVQVN3zd/GULno=" },
	{ 4, "10.1.12.1", "10.1.24.4", 46, 0, 0, "1:/nQI4Rh/TtY3mf0R2gJFBkVlgS4=",
	  "1:BK3BVW3U2eemuwVQVN3zd/GULno=" },
};

static void addr_of(int family, const char *s, struct pkt_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)family;
	assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, s, a->bytes), 1);
}

static void test_community_id(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cid_vecs) / sizeof(cid_vecs[0]); i++) {
		const struct cid_vec *v = &cid_vecs[i];
		struct pkt_addr s, d;
		addr_of(v->family, v->src, &s);
		addr_of(v->family, v->dst, &d);
		char out[DECODE_COMMUNITY_ID_LEN];
		decode_community_id(&s, &d, v->proto, v->sport, v->dport, 0, out, sizeof(out));
		assert_string_equal(out, v->seed0);
		decode_community_id(&s, &d, v->proto, v->sport, v->dport, 1, out, sizeof(out));
		assert_string_equal(out, v->seed1);
	}
	struct pkt_addr s, d;
	addr_of(4, "10.0.0.1", &s);
	addr_of(6, "::1", &d);
	char out[DECODE_COMMUNITY_ID_LEN] = "x";
	decode_community_id(&s, &d, 6, 1, 2, 0, out, sizeof(out));
	assert_string_equal(out, ""); /* families differ */
	addr_of(4, "10.0.0.2", &d);
	decode_community_id(&s, &d, 6, 1, 2, 0, out, 10);
	assert_string_equal(out, ""); /* no room */
}

static void test_event_names(void **state)
{
	(void)state;
	for (int i = 0; i < DECODE_EV_COUNT; i++) {
		const char *n = decode_event_name(i);
		assert_string_not_equal(n, "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(n, decode_event_name(j));
	}
	assert_string_equal(decode_event_name(DECODE_EV_COUNT), "unknown");
	assert_string_equal(decode_event_name(DECODE_EV_IPV4_BAD_HLEN), "ipv4_bad_hlen");
}

/* Real captures: what decode makes of every packet. */
struct real_case {
	const char *file;
	uint64_t packets, ok, skip, bad;
	uint64_t tunnelled, fragments, snapped;
	uint16_t vlan0, vlan1;   /* of the first packet */
	uint8_t first_layers;    /* of the first packet */
	uint64_t skipped_inside; /* not-IP frames found inside an IP tunnel */
};

static const struct real_case real_cases[] = {
	{ "http-vlan-0.pcap", 14, 14, 0, 0, 0, 0, 0, 0, 0, 2, 0 }, /* VLAN id 0: priority tag */
	{ "http-qinq-0.pcap", 14, 14, 0, 0, 0, 0, 0, 0, 0, 3, 0 },
	{ "vlan-qinqinq.pcap", 14, 14, 0, 0, 0, 0, 0, 30, 20, 4, 0 },
	{ "twovlan.pcap", 6, 6, 0, 0, 0, 0, 0, 201, 200, 3, 0 },
	{ "dot1ad.pcap", 2, 2, 0, 0, 0, 0, 0, 1525, 30, 3, 0 },
	{ "mixed-vlan-mpls.pcap", 47, 47, 0, 0, 0, 0, 0, 0, 0, 2, 0 },
	{ "mpls-in-vlan.pcap", 3, 3, 0, 0, 0, 0, 0, 3199, 0, 2, 0 },
	/* 6 packets whose PPPoE length is shorter than their IP length */
	{ "pppoe-over-qinq.pcap", 86, 86, 0, 0, 0, 0, 6, 3704, 2474, 4, 0 },
	{ "gre-sample.pcap", 40, 40, 0, 0, 40, 0, 0, 0, 0, 3, 0 },
	{ "gre-teb-http.pcap", 17, 17, 0, 0, 17, 0, 0, 0, 0, 3, 0 },
	{ "vxlan-encapsulated-http.pcap", 12, 12, 0, 0, 12, 0, 0, 0, 0, 3, 0 },
	{ "6in4.pcap", 1, 1, 0, 0, 1, 0, 0, 0, 0, 2, 0 },
	{ "ping6-in-ipv4.pcap", 10, 10, 0, 0, 10, 0, 0, 0, 0, 2, 0 },
	{ "ipv6-http-atomic-frag.pcap", 38, 38, 0, 0, 0, 0, 0, 0, 0, 1, 0 },
	{ "ipv6-fragmented-dns.pcap", 8, 8, 0, 0, 0, 4, 0, 0, 0, 1, 0 },
	{ "dns-edns-ecs.pcap", 89, 89, 0, 0, 0, 8, 0, 0, 0, 1, 0 },
	{ "pcapng-multi-interface.pcapng", 6, 6, 0, 0, 0, 0, 0, 0, 0, 1, 0 },
	{ "vlan-pcp-dei.pcapng", 9, 9, 0, 0, 0, 0, 0, 10, 20, 3, 0 },
	{ "sll2-http-first7.pcap", 7, 7, 0, 0, 0, 0, 0, 0, 0, 1, 0 },
	{ "dns-svcb.pcap", 2, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0 },
	{ "tls-alpn-h2.pcap", 9, 9, 0, 0, 0, 0, 0, 0, 0, 1, 0 },
	/* GTP-U over UDP is not walked: the outer UDP is the transport */
	{ "ipv6-gtp6.pcap", 1, 1, 0, 0, 0, 0, 0, 2048, 0, 2, 0 },
	/* Deliberately odd traffic: packet 818 is UDP with length 0 (malformed),
	 * 8 frames are not IP (ARP, LLDP, ERSPAN inside GRE, ...), 7 are
	 * tunnels (GRE, AH tunnel mode, IP-in-IP). */
	{ "arkime_synthetic.pcap", 918, 909, 8, 1, 7, 0, 0, 0, 0, 1, 1 },
};

static void test_real_captures(void **state)
{
	(void)state;
	const char *root = getenv("CS_SOURCE_DIR");
	assert_non_null(root);
	for (size_t i = 0; i < sizeof(real_cases) / sizeof(real_cases[0]); i++) {
		const struct real_case *rc = &real_cases[i];
		char path[1024];
		snprintf(path, sizeof(path), "%s/tests/data/pcap/%s", root, rc->file);
		struct capture *c;
		struct cs_diag d;
		cs_diag_clear(&d);
		assert_int_equal(capture_open_path(path, &c, &d), CS_OK);
		struct decode_stats st = { 0 };
		uint64_t res[3] = { 0 }, tun = 0, frag = 0, snap = 0;
		struct capture_packet cp;
		enum capture_status s;
		for (;;) {
			assert_int_equal(capture_next(c, &cp, &s, &d), CS_OK);
			if (s != CAPTURE_PACKET)
				break;
			struct pkt p;
			enum decode_result r = decode_packet(cp.linktype, cp.data, cp.caplen, &p, &st);
			res[r]++;
			if (r == DECODE_BAD && rc->bad == 0)
				print_error("%s: packet %llu bad\n", rc->file,
					    (unsigned long long)cp.number);
			if (r != DECODE_OK)
				continue;
			tun += !!(p.flags & PKT_F_TUNNELLED);
			frag += !!(p.flags & PKT_F_FRAGMENT);
			snap += !!(p.flags & PKT_F_SNAPPED);
			if (cp.number == 1) {
				assert_int_equal(p.vlan[0], rc->vlan0);
				assert_int_equal(p.vlan[1], rc->vlan1);
				assert_int_equal(p.layers, rc->first_layers);
			}
		}
		capture_destroy(c);
		if (st.packets != rc->packets || res[DECODE_OK] != rc->ok ||
		    res[DECODE_SKIP] != rc->skip || res[DECODE_BAD] != rc->bad ||
		    tun != rc->tunnelled || frag != rc->fragments || snap != rc->snapped)
			print_error("%s: n=%llu ok=%llu skip=%llu bad=%llu tun=%llu frag=%llu snap=%llu\n",
				    rc->file, (unsigned long long)st.packets,
				    (unsigned long long)res[0], (unsigned long long)res[1],
				    (unsigned long long)res[2], (unsigned long long)tun,
				    (unsigned long long)frag, (unsigned long long)snap);
		assert_int_equal(st.packets, rc->packets);
		assert_int_equal(res[DECODE_OK], rc->ok);
		assert_int_equal(res[DECODE_SKIP], rc->skip);
		assert_int_equal(res[DECODE_BAD], rc->bad);
		assert_int_equal(tun, rc->tunnelled);
		assert_int_equal(frag, rc->fragments);
		assert_int_equal(snap, rc->snapped);
		/* Every OK packet reached IP, and so did each bad one in these files. */
		assert_int_equal(st.decoded, rc->ok + rc->bad + rc->skipped_inside);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_tcp),
		cmocka_unit_test(test_ipv4_padding_and_snap),
		cmocka_unit_test(test_ipv4_malformed),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_ipv4_fragment),
		cmocka_unit_test(test_tcp_malformed),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_icmp_sctp),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_mpls),
		cmocka_unit_test(test_pppoe),
		cmocka_unit_test(test_ipv6_exthdrs),
		cmocka_unit_test(test_ipv6_fragment),
		cmocka_unit_test(test_gre),
		cmocka_unit_test(test_vxlan_ipip),
		cmocka_unit_test(test_link_types),
		cmocka_unit_test(test_robust),
		cmocka_unit_test(test_community_id),
		cmocka_unit_test(test_event_names),
		cmocka_unit_test(test_real_captures),
	};
	return cmocka_run_group_tests(tests, 0, NULL);
}
