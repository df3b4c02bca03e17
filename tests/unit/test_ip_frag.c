/* Unit tests for IP fragment reassembly (src/decode/ip_frag.c): IPv4 and IPv6
 * in and out of order, overlaps (IPv4 first copy wins, IPv6 discarded),
 * timeouts, the memory and count caps, refused fragments, and the fragmented
 * DNS answers in two real captures. Fragments go through decode_packet as the
 * pipeline sends them. */
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

#include <cmocka.h>

#include "cybersieve/capture.h"
#include "cybersieve/decode.h"
#include "cybersieve/ip_frag.h"
#include "pkt_build.h"

#define SEC 1000000000ull

static const uint8_t v6a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t v6b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

/* The datagram's transport part: UDP header + n bytes of a pattern. */
static size_t make_udp(uint8_t *o, size_t n, uint8_t seed)
{
	struct pb b = { .n = 0 };
	size_t u = pb_udp(&b, 5353, 53);
	for (size_t i = 0; i < n; i++)
		pb_u8(&b, (uint8_t)(seed + i * 7));
	pb_udp_fix(&b, u);
	memcpy(o, b.b, b.n);
	return b.n;
}

/* Raw IPv4 fragment carrying data[off, off+len). */
static void v4_frag(struct pb *f, uint16_t id, const uint8_t *data, size_t off, size_t len,
		    bool more)
{
	f->n = 0;
	size_t ip = pb_ipv4(f, 17, PB_IP4(10, 1, 1, 1), PB_IP4(10, 2, 2, 2), id,
			    (uint16_t)((more ? 0x2000 : 0) | off / 8));
	pb_bytes(f, data + off, len);
	pb_ipv4_fix(f, ip);
}

static void v6_frag(struct pb *f, uint32_t id, const uint8_t *data, size_t off, size_t len,
		    bool more)
{
	f->n = 0;
	size_t ip = pb_ipv6(f, 44, v6a, v6b);
	pb_u8(f, 17);
	pb_u8(f, 0);
	pb_u16(f, (uint16_t)(off | (more ? 1 : 0)));
	pb_u32(f, id);
	pb_bytes(f, data + off, len);
	pb_ipv6_fix(f, ip);
}

static enum ip_frag_result feed(struct ip_frag *fr, const struct pb *f, size_t caplen,
				uint64_t now, const uint8_t **dg, size_t *dl)
{
	struct decode_stats st = { 0 };
	struct pkt p;
	assert_int_equal(decode_packet(DECODE_LINK_RAW, f->b, caplen, &p, &st), DECODE_OK);
	assert_true(p.flags & PKT_F_FRAGMENT);
	return ip_frag_add(fr, &p, now, dg, dl);
}

static struct ip_frag *mk(const struct ip_frag_config *cfg)
{
	struct ip_frag *fr;
	struct cs_diag d;
	assert_int_equal(ip_frag_create(cfg, &fr, &d), CS_OK);
	return fr;
}

/* Decode the reassembled datagram and compare its UDP payload with the original. */
static void check_udp_datagram(const uint8_t *dg, size_t dl, const uint8_t *udp, size_t ulen)
{
	struct decode_stats st = { 0 };
	struct pkt p;
	assert_int_equal(decode_ip(dg, dl, &p, &st), DECODE_OK);
	assert_int_equal(p.flags & PKT_F_FRAGMENT, 0);
	assert_int_equal(p.ip_proto, 17);
	assert_int_equal(p.sport, 5353);
	assert_int_equal(p.dport, 53);
	assert_int_equal(p.payload_len, ulen - 8);
	assert_memory_equal(p.payload, udp + 8, ulen - 8);
	assert_int_equal(p.l3_len, dl);
	assert_int_equal(p.ip_len, dl);
}

static uint16_t ipv4_hdr_sum(const uint8_t *h, size_t hlen)
{
	uint32_t s = 0;
	for (size_t i = 0; i < hlen; i += 2)
		s += (uint32_t)h[i] << 8 | h[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void test_v4_in_order_and_reverse(void **state)
{
	(void)state;
	uint8_t udp[2048];
	size_t ulen = make_udp(udp, 1000, 3); /* 1008 bytes: 400 + 400 + 208 */
	struct ip_frag *fr = mk(NULL);
	struct pb f;
	const uint8_t *dg;
	size_t dl;
	v4_frag(&f, 77, udp, 0, 400, true);
	assert_int_equal(feed(fr, &f, f.n, 1, &dg, &dl), IP_FRAG_HELD);
	v4_frag(&f, 77, udp, 400, 400, true);
	assert_int_equal(feed(fr, &f, f.n, 2, &dg, &dl), IP_FRAG_HELD);
	v4_frag(&f, 77, udp, 800, ulen - 800, false);
	assert_int_equal(feed(fr, &f, f.n, 3, &dg, &dl), IP_FRAG_DONE);
	assert_int_equal(dl, 20 + ulen);
	assert_int_equal(dg[6] & 0x3f, 0);
	assert_int_equal(dg[7], 0);
	assert_int_equal(ipv4_hdr_sum(dg, 20), 0xffff);
	check_udp_datagram(dg, dl, udp, ulen);

	/* Reverse order, another id: completes when the first piece comes. */
	v4_frag(&f, 78, udp, 800, ulen - 800, false);
	assert_int_equal(feed(fr, &f, f.n, 4, &dg, &dl), IP_FRAG_HELD);
	v4_frag(&f, 78, udp, 400, 400, true);
	assert_int_equal(feed(fr, &f, f.n, 5, &dg, &dl), IP_FRAG_HELD);
	v4_frag(&f, 78, udp, 0, 400, true);
	assert_int_equal(feed(fr, &f, f.n, 6, &dg, &dl), IP_FRAG_DONE);
	check_udp_datagram(dg, dl, udp, ulen);

	struct ip_frag_stats s;
	ip_frag_get_stats(fr, &s);
	assert_int_equal(s.fragments, 6);
	assert_int_equal(s.reassembled, 2);
	assert_int_equal(s.in_progress, 0);
	assert_int_equal(s.mem_used, 0);
	assert_int_equal(s.overlaps + s.invalid + s.evicted + s.timeouts, 0);
	ip_frag_destroy(fr);
}

static void test_v4_overlap_first_wins(void **state)
{
	(void)state;
	uint8_t a[64], b[64];
	size_t ulen = make_udp(a, 40, 1); /* 48 bytes */
	make_udp(b, 40, 99);              /* same length, other data */
	struct ip_frag *fr = mk(NULL);
	struct pb f;
	const uint8_t *dg;
	size_t dl;
	v4_frag(&f, 5, a, 0, 24, true);
	assert_int_equal(feed(fr, &f, f.n, 1, &dg, &dl), IP_FRAG_HELD);
	v4_frag(&f, 5, b, 16, 16, true); /* overlaps [16,24) */
	assert_int_equal(feed(fr, &f, f.n, 1, &dg, &dl), IP_FRAG_HELD);
	v4_frag(&f, 5, a, 32, ulen - 32, false);
	assert_int_equal(feed(fr, &f, f.n, 1, &dg, &dl), IP_FRAG_DONE);
	assert_memory_equal(dg + 20, a, 24);          /* first copy kept */
	assert_memory_equal(dg + 20 + 24, b + 24, 8);  /* the new part taken */
	struct ip_frag_stats s;
	ip_frag_get_stats(fr, &s);
	assert_int_equal(s.overlaps, 1);
	assert_int_equal(s.reassembled, 1);
	ip_frag_destroy(fr);
}

static void test_v6(void **state)
{
	(void)state;
	uint8_t udp[2048];
	size_t ulen = make_udp(udp, 1500, 9);
	struct ip_frag *fr = mk(NULL);
	struct pb f;
	const uint8_t *dg;
	size_t dl;
	v6_frag(&f, 0xabcdef01, udp, 1232, ulen - 1232, false);
	assert_int_equal(feed(fr, &f, f.n, 1, &dg, &dl), IP_FRAG_HELD);
	v6_frag(&f, 0xabcdef01, udp, 0, 1232, true);
	assert_int_equal(feed(fr, &f, f.n, 2, &dg, &dl), IP_FRAG_DONE);
	assert_int_equal(dl, 40 + ulen);
	assert_int_equal(dg[6], 17); /* next header no longer names the fragment header */
	check_udp_datagram(dg, dl, udp, ulen);

	/* Overlap: the whole datagram goes (RFC 5722). */
	v6_frag(&f, 2, udp, 0, 64, true);
	assert_int_equal(feed(fr, &f, f.n, 3, &dg, &dl), IP_FRAG_HELD);
	v6_frag(&f, 2, udp, 56, 64, true);
	assert_int_equal(feed(fr, &f, f.n, 3, &dg, &dl), IP_FRAG_DROPPED);
	struct ip_frag_stats s;
	ip_frag_get_stats(fr, &s);
	assert_int_equal(s.overlaps, 1);
	assert_int_equal(s.in_progress, 0);
	ip_frag_destroy(fr);
}

static void test_timeout(void **state)
{
	(void)state;
	uint8_t udp[256];
	make_udp(udp, 100, 1);
	struct ip_frag_config cfg = { .timeout_ns = 30 * SEC };
	struct ip_frag *fr = mk(&cfg);
	struct pb f;
	const uint8_t *dg;
	size_t dl;
	v4_frag(&f, 1, udp, 0, 48, true);
	assert_int_equal(feed(fr, &f, f.n, 10 * SEC, &dg, &dl), IP_FRAG_HELD);
	v4_frag(&f, 2, udp, 0, 48, true);
	assert_int_equal(feed(fr, &f, f.n, 20 * SEC, &dg, &dl), IP_FRAG_HELD);
	/* 41 s: the first is 31 s old and goes; the rest of it starts anew. */
	v4_frag(&f, 1, udp, 48, 60, false);
	assert_int_equal(feed(fr, &f, f.n, 41 * SEC, &dg, &dl), IP_FRAG_HELD);
	struct ip_frag_stats s;
	ip_frag_get_stats(fr, &s);
	assert_int_equal(s.timeouts, 1);
	assert_int_equal(s.in_progress, 2);
	ip_frag_expire(fr, 100 * SEC);
	ip_frag_get_stats(fr, &s);
	assert_int_equal(s.timeouts, 3);
	assert_int_equal(s.in_progress, 0);
	assert_int_equal(s.mem_used, 0);
	ip_frag_destroy(fr);
}

static void test_caps(void **state)
{
	(void)state;
	uint8_t udp[4096];
	make_udp(udp, 3000, 1);
	struct pb f;
	const uint8_t *dg;
	size_t dl;
	struct ip_frag_stats s;

	struct ip_frag_config cnt = { .max_datagrams = 2 };
	struct ip_frag *fr = mk(&cnt);
	for (uint16_t id = 1; id <= 3; id++) {
		v4_frag(&f, id, udp, 0, 64, true);
		assert_int_equal(feed(fr, &f, f.n, id, &dg, &dl), IP_FRAG_HELD);
	}
	ip_frag_get_stats(fr, &s);
	assert_int_equal(s.in_progress, 2);
	assert_int_equal(s.evicted, 1);
	/* The oldest (id 1) went: its last piece now starts a new datagram. */
	v4_frag(&f, 2, udp, 64, 64, false);
	assert_int_equal(feed(fr, &f, f.n, 4, &dg, &dl), IP_FRAG_DONE);
	ip_frag_destroy(fr);

	/* Memory: room for about two datagrams of 2 KiB data plus bookkeeping. */
	struct ip_frag_config mem = { .mem_cap = 8 * 1024 };
	fr = mk(&mem);
	for (uint16_t id = 1; id <= 6; id++) {
		v4_frag(&f, id, udp, 0, 1024, true);
		feed(fr, &f, f.n, id, &dg, &dl);
		ip_frag_get_stats(fr, &s);
		assert_true(s.mem_used <= mem.mem_cap);
	}
	ip_frag_get_stats(fr, &s);
	assert_true(s.evicted >= 3);
	assert_true(s.in_progress >= 1 && s.in_progress <= 3);
	ip_frag_destroy(fr);
}

static void test_refused(void **state)
{
	(void)state;
	uint8_t udp[256];
	make_udp(udp, 100, 1);
	struct ip_frag *fr = mk(NULL);
	struct pb f;
	const uint8_t *dg;
	size_t dl;
	struct ip_frag_stats s;
	v4_frag(&f, 1, udp, 0, 50, true); /* not a multiple of 8 */
	assert_int_equal(feed(fr, &f, f.n, 1, &dg, &dl), IP_FRAG_DROPPED);
	v4_frag(&f, 2, udp, 0, 48, true); /* cut short by the snap length */
	assert_int_equal(feed(fr, &f, f.n - 8, 1, &dg, &dl), IP_FRAG_DROPPED);
	/* Past 65535 bytes: offset 65528 + 16 */
	f.n = 0;
	size_t ip = pb_ipv4(&f, 17, PB_IP4(10, 1, 1, 1), PB_IP4(10, 2, 2, 2), 3, 0x1fff);
	pb_zero(&f, 16);
	pb_ipv4_fix(&f, ip);
	assert_int_equal(feed(fr, &f, f.n, 1, &dg, &dl), IP_FRAG_DROPPED);
	ip_frag_get_stats(fr, &s);
	assert_int_equal(s.invalid, 3);
	assert_int_equal(s.in_progress, 0);
	/* Two last fragments that disagree on the end: the datagram goes. */
	v4_frag(&f, 4, udp, 8, 16, false);
	assert_int_equal(feed(fr, &f, f.n, 1, &dg, &dl), IP_FRAG_HELD);
	v4_frag(&f, 4, udp, 8, 24, false);
	assert_int_equal(feed(fr, &f, f.n, 1, &dg, &dl), IP_FRAG_DROPPED);
	/* Data beyond a known end */
	v4_frag(&f, 5, udp, 8, 16, false);
	assert_int_equal(feed(fr, &f, f.n, 1, &dg, &dl), IP_FRAG_HELD);
	v4_frag(&f, 5, udp, 32, 16, true);
	assert_int_equal(feed(fr, &f, f.n, 1, &dg, &dl), IP_FRAG_DROPPED);
	ip_frag_get_stats(fr, &s);
	assert_int_equal(s.invalid, 5);
	assert_int_equal(s.in_progress, 0);
	ip_frag_destroy(fr);
}

/* Reassemble every fragment of a real capture; return the stats and check
 * each datagram decodes as DNS over UDP from port 53. */
static void run_capture(const char *name, struct ip_frag_stats *out, uint64_t *last_ns)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/tests/data/pcap/%s", getenv("CS_SOURCE_DIR"), name);
	struct capture *c;
	struct cs_diag d;
	assert_int_equal(capture_open_path(path, &c, &d), CS_OK);
	struct ip_frag *fr = mk(NULL);
	struct decode_stats st = { 0 };
	struct capture_packet cp;
	enum capture_status s;
	while (capture_next(c, &cp, &s, &d) == CS_OK && s == CAPTURE_PACKET) {
		struct pkt p;
		if (decode_packet(cp.linktype, cp.data, cp.caplen, &p, &st) != DECODE_OK ||
		    !(p.flags & PKT_F_FRAGMENT))
			continue;
		const uint8_t *dg;
		size_t dl;
		if (ip_frag_add(fr, &p, cp.ts_ns, &dg, &dl) != IP_FRAG_DONE)
			continue;
		struct pkt q;
		assert_int_equal(decode_ip(dg, dl, &q, &st), DECODE_OK);
		assert_int_equal(q.ip_proto, 17);
		assert_int_equal(q.sport, 53);
		assert_int_equal(q.l3_len, dl);
		assert_int_equal(q.payload_len, ((size_t)q.payload[-4] << 8 | q.payload[-3]) - 8);
		assert_true(q.payload_len > 1400); /* a DNS answer too big for one packet */
		*last_ns = cp.ts_ns;
	}
	ip_frag_get_stats(fr, out);
	ip_frag_destroy(fr);
	capture_destroy(c);
}

static void test_real(void **state)
{
	(void)state;
	struct ip_frag_stats s;
	uint64_t last = 0;
	/* Four DNSSEC answers, each in two IPv4 fragments. */
	run_capture("dns-edns-ecs.pcap", &s, &last);
	assert_int_equal(s.fragments, 8);
	assert_int_equal(s.reassembled, 4);
	assert_int_equal(s.in_progress, 0);
	/* One answer in three IPv6 fragments (packets 6-8), and packet 4, the
	 * last piece of an answer whose other pieces were never captured. */
	run_capture("ipv6-fragmented-dns.pcap", &s, &last);
	assert_int_equal(s.fragments, 4);
	assert_int_equal(s.reassembled, 1);
	assert_int_equal(s.in_progress, 1);
	assert_int_equal(s.overlaps + s.invalid + s.evicted + s.timeouts, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_in_order_and_reverse),
		cmocka_unit_test(test_v4_overlap_first_wins),
		cmocka_unit_test(test_v6),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_real),
	};
	return cmocka_run_group_tests(tests, 0, NULL);
}
