/* Unit tests for capture reading (src/ingest/capture.c): format detection,
 * packet counts / link types / first timestamps of the real captures under
 * tests/data/pcap (counts as capinfos reports them), a big-endian and a
 * nanosecond rewrite of a file read identically, a FILE* that only gives a
 * few bytes per read (as a decompressing stream does), cut-short and
 * non-capture files, pcapng with a second link type, and live capture on the
 * loopback interface where the machine allows it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "cybersieve/capture.h"
#include "cybersieve/decode.h"

static char *fixture(const char *name)
{
	static char path[1024];
	snprintf(path, sizeof(path), "%s/tests/data/pcap/%s", getenv("CS_SOURCE_DIR"), name);
	return path;
}

static uint8_t *slurp(const char *name, size_t *n)
{
	FILE *f = fopen(fixture(name), "rb");
	assert_non_null(f);
	uint8_t *b = malloc(1 << 20);
	assert_non_null(b);
	*n = fread(b, 1, 1 << 20, f);
	fclose(f);
	return b;
}

static void test_detect(void **state)
{
	(void)state;
	const uint8_t a[] = { 0xa1, 0xb2, 0xc3, 0xd4 }, b[] = { 0xd4, 0xc3, 0xb2, 0xa1 };
	const uint8_t c[] = { 0xa1, 0xb2, 0x3c, 0x4d }, d[] = { 0x4d, 0x3c, 0xb2, 0xa1 };
	const uint8_t e[] = { 0x0a, 0x0d, 0x0d, 0x0a }, g[] = { 0x1f, 0x8b, 0x08, 0x00 };
	assert_int_equal(capture_detect(a, 4), CAPTURE_FMT_PCAP);
	assert_int_equal(capture_detect(b, 4), CAPTURE_FMT_PCAP);
	assert_int_equal(capture_detect(c, 4), CAPTURE_FMT_PCAP_NS);
	assert_int_equal(capture_detect(d, 4), CAPTURE_FMT_PCAP_NS);
	assert_int_equal(capture_detect(e, 4), CAPTURE_FMT_PCAPNG);
	assert_int_equal(capture_detect(g, 4), CAPTURE_FMT_UNKNOWN);
	assert_int_equal(capture_detect(a, 3), CAPTURE_FMT_UNKNOWN);
	assert_int_equal(capture_detect(NULL, 0), CAPTURE_FMT_UNKNOWN);
}

struct file_case {
	const char *file;
	uint64_t packets;         /* capinfos -c */
	int linktype;
	enum capture_format format;
	uint64_t first_ns;        /* tshark frame.time_epoch of packet 1 */
	uint32_t first_len;
};

static const struct file_case file_cases[] = {
	{ "http-vlan-0.pcap", 14, 1, CAPTURE_FMT_PCAP, 1362692526869344000ull, 82 },
	{ "ipv6-gtp6.pcap", 1, 1, CAPTURE_FMT_PCAP, 1513078266494229670ull, 454 }, /* nanosecond */
	{ "pcapng-multi-interface.pcapng", 6, 1, CAPTURE_FMT_PCAPNG, 1767663089500330493ull, 0 },
	{ "vlan-pcp-dei.pcapng", 9, 1, CAPTURE_FMT_PCAPNG, 0, 0 },
	{ "sll2-http-first7.pcap", 7, 276, CAPTURE_FMT_PCAP, 1736381483613927000ull, 0 },
	{ "dns-svcb.pcap", 2, 0, CAPTURE_FMT_PCAP, 0, 0 },
	{ "arkime_synthetic.pcap", 918, 1, CAPTURE_FMT_PCAP, 0, 0 },
	{ "pppoe-over-qinq.pcap", 86, 1, CAPTURE_FMT_PCAP, 0, 0 },
	{ "dns-edns-ecs.pcap", 89, 1, CAPTURE_FMT_PCAP, 0, 0 },
	{ "gre-sample.pcap", 40, 1, CAPTURE_FMT_PCAP, 0, 0 },
	{ "vxlan-encapsulated-http.pcap", 12, 1, CAPTURE_FMT_PCAP, 0, 0 },
	{ "mixed-vlan-mpls.pcap", 47, 1, CAPTURE_FMT_PCAP, 0, 0 },
	{ "ipv6-http-atomic-frag.pcap", 38, 1, CAPTURE_FMT_PCAP, 0, 0 },
};

/* Read every packet after the first `already`; return the count, the sum of caplen, and a running hash
 * of bytes and timestamps so two readings of the same packets can be compared. */
static uint64_t read_rest(struct capture *c, uint64_t already, uint64_t *bytes, uint64_t *hash)
{
	struct capture_packet p;
	enum capture_status s;
	struct cs_diag d;
	uint64_t n = already, h = 1469598103934665603ull;
	*bytes = 0;
	for (;;) {
		assert_int_equal(capture_next(c, &p, &s, &d), CS_OK);
		if (s != CAPTURE_PACKET)
			break;
		n++;
		assert_int_equal(p.number, n);
		assert_true(p.caplen <= p.len);
		*bytes += p.caplen;
		for (uint32_t i = 0; i < p.caplen; i++)
			h = (h ^ p.data[i]) * 1099511628211ull;
		h = (h ^ p.ts_ns) * 1099511628211ull;
	}
	assert_int_equal(s, CAPTURE_END);
	/* The end stays the end. */
	assert_int_equal(capture_next(c, &p, &s, &d), CS_OK);
	assert_int_equal(s, CAPTURE_END);
	*hash = h;
	return n;
}

static uint64_t read_all(struct capture *c, uint64_t *bytes, uint64_t *hash)
{
	return read_rest(c, 0, bytes, hash);
}

static void test_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(file_cases) / sizeof(file_cases[0]); i++) {
		const struct file_case *fc = &file_cases[i];
		struct capture *c;
		struct cs_diag d;
		assert_int_equal(capture_open_path(fixture(fc->file), &c, &d), CS_OK);
		struct capture_info info;
		capture_get_info(c, &info);
		assert_int_equal(info.linktype, fc->linktype);
		assert_int_equal(info.format, fc->format);
		struct capture_packet p;
		enum capture_status s;
		assert_int_equal(capture_next(c, &p, &s, &d), CS_OK);
		assert_int_equal(s, CAPTURE_PACKET);
		assert_int_equal(p.linktype, fc->linktype);
		assert_int_equal(p.number, 1);
		if (fc->first_ns)
			assert_int_equal(p.ts_ns, fc->first_ns);
		if (fc->first_len)
			assert_int_equal(p.len, fc->first_len);
		uint64_t bytes, hash;
		assert_int_equal(read_rest(c, 1, &bytes, &hash), fc->packets);
		struct capture_stats cs;
		assert_int_equal(capture_stats(c, &cs, &d), CS_OK);
		assert_int_equal(cs.packets, fc->packets);
		assert_false(cs.have_kernel);
		capture_destroy(c);
	}
}

/* pcapng whose interfaces have different time resolutions (ns and us):
 * packet 3 is the first on interface 1. */
static void test_pcapng_interfaces(void **state)
{
	(void)state;
	struct capture *c;
	struct cs_diag d;
	assert_int_equal(capture_open_path(fixture("pcapng-multi-interface.pcapng"), &c, &d), CS_OK);
	struct capture_packet p;
	enum capture_status s;
	const uint64_t want[6] = { 1767663089500330493ull, 1767663089514291940ull,
				   1767663437111897000ull, 1767663437126460000ull,
				   1767663437128303000ull, 1767663437140942000ull };
	for (int i = 0; i < 6; i++) {
		assert_int_equal(capture_next(c, &p, &s, &d), CS_OK);
		assert_int_equal(s, CAPTURE_PACKET);
		assert_int_equal(p.ts_ns, want[i]);
	}
	capture_destroy(c);
}

static uint32_t swap32(uint32_t v)
{
	return __builtin_bswap32(v);
}

/* Rewrite a little-endian microsecond pcap: big-endian, and/or nanoseconds. */
static uint8_t *rewrite(const uint8_t *in, size_t n, bool big, bool nano)
{
	uint8_t *o = malloc(n);
	assert_non_null(o);
	memcpy(o, in, n);
	uint32_t *w = (uint32_t *)o;
	w[0] = nano ? 0xa1b23c4d : 0xa1b2c3d4;
	if (big) {
		uint16_t *h = (uint16_t *)(o + 4);
		h[0] = __builtin_bswap16(h[0]);
		h[1] = __builtin_bswap16(h[1]);
		for (int i = 0; i < 5; i++)
			w[1 + i] = i == 0 ? w[1 + i] : swap32(w[1 + i]);
		w[0] = swap32(w[0]);
	}
	size_t off = 24;
	while (off + 16 <= n) {
		uint32_t r[4];
		memcpy(r, in + off, 16);
		uint32_t incl = r[2];
		if (nano)
			r[1] *= 1000;
		if (big)
			for (int i = 0; i < 4; i++)
				r[i] = swap32(r[i]);
		memcpy(o + off, r, 16);
		off += 16 + incl;
	}
	return o;
}

static uint64_t count_mem(const uint8_t *b, size_t n, const char *label, uint64_t *hash,
			  struct capture_info *info)
{
	FILE *f = fmemopen((void *)b, n, "rb");
	assert_non_null(f);
	struct capture *c;
	struct cs_diag d;
	assert_int_equal(capture_open_file(f, label, &c, &d), CS_OK);
	capture_get_info(c, info);
	uint64_t bytes;
	uint64_t got = read_all(c, &bytes, hash);
	capture_destroy(c);
	return got;
}

static void test_byte_order_and_precision(void **state)
{
	(void)state;
	size_t n;
	uint8_t *orig = slurp("http-vlan-0.pcap", &n);
	assert_int_equal(orig[0], 0xd4); /* written little-endian, microseconds */
	struct capture_info info;
	uint64_t h0, h1, h2, h3;
	assert_int_equal(count_mem(orig, n, "orig", &h0, &info), 14);
	assert_false(info.swapped);
	assert_int_equal(info.version_major, 2);
	uint8_t *be = rewrite(orig, n, true, false);
	assert_int_equal(count_mem(be, n, "be", &h1, &info), 14);
	assert_true(info.swapped);
	uint8_t *ns = rewrite(orig, n, false, true);
	assert_int_equal(count_mem(ns, n, "ns", &h2, &info), 14);
	uint8_t *bens = rewrite(orig, n, true, true);
	assert_int_equal(count_mem(bens, n, "bens", &h3, &info), 14);
	assert_true(info.swapped);
	/* Same bytes, same nanosecond timestamps, whichever way it was written. */
	assert_true(h0 == h1 && h0 == h2 && h0 == h3);
	free(orig);
	free(be);
	free(ns);
	free(bens);
}

/* A stream handing out at most 7 bytes a read, like a decompressor might. */
struct trickle {
	const uint8_t *b;
	size_t n, off;
};

static ssize_t trickle_read(void *cookie, char *buf, size_t size)
{
	struct trickle *t = cookie;
	size_t k = t->n - t->off;
	if (k > 7)
		k = 7;
	if (k > size)
		k = size;
	memcpy(buf, t->b + t->off, k);
	t->off += k;
	return (ssize_t)k;
}

static void test_cookie_stream(void **state)
{
	(void)state;
	const char *names[] = { "pppoe-over-qinq.pcap", "pcapng-multi-interface.pcapng" };
	const uint64_t want[] = { 86, 6 };
	for (int i = 0; i < 2; i++) {
		size_t n;
		uint8_t *b = slurp(names[i], &n);
		struct trickle t = { b, n, 0 };
		cookie_io_functions_t io = { .read = trickle_read };
		FILE *f = fopencookie(&t, "rb", io);
		assert_non_null(f);
		struct capture *c;
		struct cs_diag d;
		assert_int_equal(capture_open_file(f, names[i], &c, &d), CS_OK);
		uint64_t bytes, h1, h2;
		assert_int_equal(read_all(c, &bytes, &h1), want[i]);
		capture_destroy(c);
		/* Same as reading the file directly */
		assert_int_equal(capture_open_path(fixture(names[i]), &c, &d), CS_OK);
		uint64_t bytes2;
		assert_int_equal(read_all(c, &bytes2, &h2), want[i]);
		assert_int_equal(bytes, bytes2);
		assert_true(h1 == h2);
		capture_destroy(c);
		free(b);
	}
}

static void test_broken_files(void **state)
{
	(void)state;
	size_t n;
	uint8_t *b = slurp("http-vlan-0.pcap", &n);
	/* Cut inside the 6th record's data. */
	size_t off = 24;
	for (int i = 0; i < 5; i++) {
		uint32_t incl;
		memcpy(&incl, b + off + 8, 4);
		off += 16 + incl;
	}
	FILE *f = fmemopen(b, off + 16 + 10, "rb");
	struct capture *c;
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(capture_open_file(f, "cut.pcap", &c, &d), CS_OK);
	struct capture_packet p;
	enum capture_status s;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(capture_next(c, &p, &s, &d), CS_OK);
		assert_int_equal(s, CAPTURE_PACKET);
	}
	assert_int_equal(capture_next(c, &p, &s, &d), CS_ERR_FORMAT);
	assert_string_equal(d.file, "cut.pcap");
	assert_non_null(strstr(d.msg, "packet 6"));
	assert_int_equal(capture_next(c, &p, &s, &d), CS_OK);
	assert_int_equal(s, CAPTURE_END);
	capture_destroy(c);

	/* Cut inside the file header; not a capture; empty; missing. */
	f = fmemopen(b, 10, "rb");
	assert_int_equal(capture_open_file(f, "head.pcap", &c, &d), CS_ERR_FORMAT);
	assert_null(c);
	assert_string_equal(d.file, "head.pcap");
	static char text[] = "this is a log line, not a capture\n";
	f = fmemopen(text, sizeof(text) - 1, "rb");
	assert_int_equal(capture_open_file(f, "log.txt", &c, &d), CS_ERR_FORMAT);
	assert_string_equal(d.file, "log.txt");
	assert_true(strlen(d.msg) > 0);
	assert_int_equal(capture_open_path("/nonexistent/x.pcap", &c, &d), CS_ERR_IO);
	assert_int_equal(d.sys_errno, ENOENT);
	assert_string_equal(d.file, "/nonexistent/x.pcap");
	assert_int_equal(capture_open_file(NULL, "none", &c, &d), CS_ERR_INVALID);
	free(b);
}

/* pcapng blocks, little-endian */
static size_t ng_put32(uint8_t *o, size_t off, uint32_t v)
{
	memcpy(o + off, &v, 4);
	return off + 4;
}

static size_t ng_idb(uint8_t *o, size_t off, uint16_t linktype)
{
	off = ng_put32(o, off, 1);
	off = ng_put32(o, off, 20);
	off = ng_put32(o, off, linktype);
	off = ng_put32(o, off, 65535);
	return ng_put32(o, off, 20);
}

static size_t ng_epb(uint8_t *o, size_t off, uint32_t ifid, const uint8_t *data, uint32_t n)
{
	uint32_t pad = (n + 3) & ~3u, len = 32 + pad;
	off = ng_put32(o, off, 6);
	off = ng_put32(o, off, len);
	off = ng_put32(o, off, ifid);
	off = ng_put32(o, off, 0);
	off = ng_put32(o, off, 1000000);
	off = ng_put32(o, off, n);
	off = ng_put32(o, off, n);
	memset(o + off, 0, pad);
	memcpy(o + off, data, n);
	off += pad;
	return ng_put32(o, off, len);
}

static void test_pcapng_two_linktypes(void **state)
{
	(void)state;
	uint8_t o[512];
	size_t off = 0;
	off = ng_put32(o, off, 0x0a0d0d0a);
	off = ng_put32(o, off, 28);
	off = ng_put32(o, off, 0x1a2b3c4d);
	off = ng_put32(o, off, 1); /* major 1, minor 0 */
	off = ng_put32(o, off, 0xffffffff);
	off = ng_put32(o, off, 0xffffffff);
	off = ng_put32(o, off, 28);
	off = ng_idb(o, off, 1);
	const uint8_t frame[20] = { 0 };
	off = ng_epb(o, off, 0, frame, sizeof(frame));
	off = ng_idb(o, off, 101);
	off = ng_epb(o, off, 1, frame, sizeof(frame));
	FILE *f = fmemopen(o, off, "rb");
	struct capture *c;
	struct cs_diag d;
	assert_int_equal(capture_open_file(f, "two.pcapng", &c, &d), CS_OK);
	struct capture_packet p;
	enum capture_status s;
	assert_int_equal(capture_next(c, &p, &s, &d), CS_OK);
	assert_int_equal(s, CAPTURE_PACKET);
	assert_int_equal(p.linktype, 1);
	assert_int_equal(p.ts_ns, 1000000ull * 1000); /* default resolution: microseconds */
	/* libpcap 1.10 stops at an interface of another link type. */
	assert_int_equal(capture_next(c, &p, &s, &d), CS_ERR_UNSUPPORTED);
	assert_string_equal(d.file, "two.pcapng");
	assert_int_equal(capture_next(c, &p, &s, &d), CS_OK);
	assert_int_equal(s, CAPTURE_END);
	capture_destroy(c);
}

static void test_breakloop_file(void **state)
{
	(void)state;
	struct capture *c;
	struct cs_diag d;
	assert_int_equal(capture_open_path(fixture("http-vlan-0.pcap"), &c, &d), CS_OK);
	struct capture_packet p;
	enum capture_status s;
	assert_int_equal(capture_next(c, &p, &s, &d), CS_OK);
	assert_int_equal(s, CAPTURE_PACKET);
	capture_breakloop(c);
	assert_int_equal(capture_next(c, &p, &s, &d), CS_OK);
	assert_int_equal(s, CAPTURE_END);
	capture_destroy(c);
	capture_destroy(NULL);
}

static void test_live_errors(void **state)
{
	(void)state;
	struct capture *c;
	struct cs_diag d;
	struct capture_live_opts o = { .iface = "nosuchif0" };
	enum cs_err e = capture_open_live(&o, &c, &d);
	assert_true(e == CS_ERR_INVALID || e == CS_ERR_IO);
	assert_null(c);
	assert_string_equal(d.file, "nosuchif0");
	assert_true(strlen(d.msg) > 0);
	struct capture_live_opts none = { 0 };
	assert_int_equal(capture_open_live(&none, &c, &d), CS_ERR_INVALID);
}

/* Loopback capture: needs the right to capture (root or CAP_NET_RAW). */
static void test_live_loopback(void **state)
{
	(void)state;
	struct capture *c;
	struct cs_diag d;
	struct capture_live_opts bad = { .iface = "lo", .bpf = "udp port ((" };
	enum cs_err e = capture_open_live(&bad, &c, &d);
	if (e == CS_ERR_IO) {
		print_message("loopback capture not permitted here: %s\n", d.msg);
		skip();
	}
	assert_int_equal(e, CS_ERR_PARSE);
	assert_non_null(strstr(d.msg, "udp port (("));

	struct capture_live_opts o = { .iface = "lo", .bpf = "udp and dst port 45999",
				       .timeout_ms = 50, .snaplen = 2048 };
	assert_int_equal(capture_open_live(&o, &c, &d), CS_OK);
	struct capture_info info;
	capture_get_info(c, &info);
	assert_int_equal(info.format, CAPTURE_FMT_LIVE);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(45999) };
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	static const char msg[] = "cybersieve-live-test";
	uint64_t before = (uint64_t)time(NULL) * 1000000000ull;
	bool found = false;
	for (int tries = 0; tries < 40 && !found; tries++) {
		assert_true(sendto(fd, msg, sizeof(msg) - 1, 0, (struct sockaddr *)&to,
				   sizeof(to)) > 0);
		struct capture_packet p;
		enum capture_status s;
		assert_int_equal(capture_next(c, &p, &s, &d), CS_OK);
		if (s != CAPTURE_PACKET)
			continue;
		struct decode_stats st = { 0 };
		struct pkt k;
		assert_int_equal(decode_packet(p.linktype, p.data, p.caplen, &k, &st), DECODE_OK);
		assert_int_equal(k.dport, 45999);
		assert_int_equal(k.payload_len, sizeof(msg) - 1);
		assert_memory_equal(k.payload, msg, sizeof(msg) - 1);
		assert_true(p.ts_ns + 5000000000ull >= before);
		found = true;
	}
	close(fd);
	assert_true(found);
	struct capture_stats cs;
	assert_int_equal(capture_stats(c, &cs, &d), CS_OK);
	assert_true(cs.have_kernel);
	assert_true(cs.kernel_recv >= 1);
	assert_true(cs.packets >= 1);
	capture_breakloop(c);
	struct capture_packet p;
	enum capture_status s;
	assert_int_equal(capture_next(c, &p, &s, &d), CS_OK);
	assert_int_equal(s, CAPTURE_END);
	capture_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_pcapng_interfaces),
		cmocka_unit_test(test_byte_order_and_precision),
		cmocka_unit_test(test_cookie_stream),
		cmocka_unit_test(test_broken_files),
		cmocka_unit_test(test_pcapng_two_linktypes),
		cmocka_unit_test(test_breakloop_file),
		cmocka_unit_test(test_live_errors),
		cmocka_unit_test(test_live_loopback),
	};
	return cmocka_run_group_tests(tests, 0, NULL);
}
