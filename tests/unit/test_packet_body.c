/* Decoded HTTP bodies in the packet pipeline: one keep-alive flow whose
 * responses carry the same 40000-byte text gzip-coded (Content-Length),
 * x-gzip-coded and chunked, raw-deflate-coded, and plain. A literal lies at
 * decoded offset 16380, across the 16 KiB inflate output step and across the
 * packets (the coded stream is flushed in the middle of it). It must be found
 * once per coded body as "http.body" with the body's first packet and the
 * packet completing it, and once as payload in the plain body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "cybersieve/packet.h"
#include "pipeline/packet_int.h"
#include "pkt_build.h"

#define CLI 0x0a000001u
#define SRV 0x0a000002u
#define LIT "BODYSECRETLITERAL"
#define LIT_OFF 16380u
#define HOST "www.lazy-dog.example"  /* a link in the page, in the last coded piece */
#define HOST_OFF 30000u
#define BODY_LEN 40000u
#define MAX_FRAMES 64

struct frames {
	struct pb f[MAX_FRAMES];
	size_t n;
	uint32_t seq[2];  /* next sequence number per direction (0 = c2s) */
};

static void tcp_frame(struct frames *fs, bool c2s, uint8_t flags, const void *data, size_t len)
{
	assert_true(fs->n < MAX_FRAMES);
	struct pb *p = &fs->f[fs->n++];
	p->n = 0;
	pb_eth(p, 0x0800);
	size_t ip = pb_ipv4(p, 6, c2s ? CLI : SRV, c2s ? SRV : CLI, 1, 0);
	pb_tcp(p, c2s ? 40000 : 80, c2s ? 80 : 40000, fs->seq[c2s ? 0 : 1], flags);
	assert_true(p->n + len <= sizeof(p->b));
	pb_bytes(p, data, len);
	pb_ipv4_fix(p, ip);
	fs->seq[c2s ? 0 : 1] += (uint32_t)len + ((flags & 0x02) ? 1 : 0);
}

static void tcp_text(struct frames *fs, bool c2s, const char *s)
{
	tcp_frame(fs, c2s, 0x18, s, strlen(s));
}

static void body_text(uint8_t *b)
{
	static const char words[] = "the quick brown fox jumps over the lazy dog ";
	for (size_t i = 0; i < BODY_LEN; i++)
		b[i] = (uint8_t)words[i % (sizeof(words) - 1)];
	memcpy(b + LIT_OFF, LIT, strlen(LIT));
	memcpy(b + HOST_OFF, " " HOST " ", strlen(HOST) + 2);
}

/* Three coded pieces: decoded [0, LIT_OFF + 6), [.., LIT_OFF + 4000), rest;
 * a sync flush after each makes a piece decodable on its own. */
struct coded {
	uint8_t p[3][4096];
	size_t n[3];
};

static void code_body(const uint8_t *body, int wbits, struct coded *c)
{
	const size_t cut[4] = {0, LIT_OFF + 6, LIT_OFF + 4000, BODY_LEN};
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY), Z_OK);
	for (int i = 0; i < 3; i++) {
		zs.next_in = (Bytef *)(uintptr_t)(body + cut[i]);
		zs.avail_in = (uInt)(cut[i + 1] - cut[i]);
		zs.next_out = c->p[i];
		zs.avail_out = sizeof(c->p[i]);
		int rc = deflate(&zs, i == 2 ? Z_FINISH : Z_SYNC_FLUSH);
		assert_int_equal(rc, i == 2 ? Z_STREAM_END : Z_OK);
		assert_int_equal(zs.avail_in, 0);
		c->n[i] = sizeof(c->p[i]) - zs.avail_out;
		assert_true(c->n[i] > 0 && c->n[i] < 2000);
	}
	deflateEnd(&zs);
}

static void head(struct frames *fs, const char *enc, const struct coded *c, bool chunked)
{
	char h[256];
	if (chunked)
		snprintf(h, sizeof(h), "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\n"
			 "Transfer-Encoding: chunked\r\n\r\n", enc);
	else
		snprintf(h, sizeof(h), "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\n"
			 "Content-Length: %zu\r\n\r\n", enc, c->n[0] + c->n[1] + c->n[2]);
	tcp_text(fs, false, h);
}

/* One chunk per piece (the first piece as two chunks), the last chunk with
 * the terminating zero chunk in the same packet. */
static void chunked_piece(struct frames *fs, const struct coded *c, int i)
{
	uint8_t b[4096];
	size_t n = 0, at = 0, cut = i == 0 ? c->n[0] / 2 : c->n[i];
	while (at < c->n[i]) {
		size_t k = (at == 0 ? cut : c->n[i]) - at;
		n += (size_t)snprintf((char *)b + n, 16, "%zx\r\n", k);
		memcpy(b + n, c->p[i] + at, k);
		n += k;
		memcpy(b + n, "\r\n", 2);
		n += 2;
		at += k;
	}
	if (i == 2) {
		memcpy(b + n, "0\r\n\r\n", 5);
		n += 5;
	}
	tcp_frame(fs, false, 0x18, b, n);
}

/* Packets: 1-3 handshake; 4 GET, 5 gzip head, 6-8 body; 9 GET, 10 x-gzip
 * chunked head, 11-13 body; 14 GET, 15 raw deflate head, 16-18 body;
 * 19 GET, 20 plain response with the literal in its body. */
static void build(struct frames *fs)
{
	static uint8_t body[BODY_LEN];
	struct coded gz, raw;
	body_text(body);
	code_body(body, 15 + 16, &gz);
	code_body(body, -15, &raw);
	memset(fs, 0, sizeof(*fs));
	fs->seq[0] = 100;
	fs->seq[1] = 500;
	tcp_frame(fs, true, 0x02, "", 0);
	tcp_frame(fs, false, 0x12, "", 0);
	tcp_frame(fs, true, 0x10, "", 0);
	tcp_text(fs, true, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
	head(fs, "gzip", &gz, false);
	for (int i = 0; i < 3; i++)
		tcp_frame(fs, false, 0x18, gz.p[i], gz.n[i]);
	tcp_text(fs, true, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
	head(fs, "x-gzip", &gz, true);
	for (int i = 0; i < 3; i++)
		chunked_piece(fs, &gz, i);
	tcp_text(fs, true, "GET /c HTTP/1.1\r\nHost: h\r\n\r\n");
	head(fs, "deflate", &raw, false);
	for (int i = 0; i < 3; i++)
		tcp_frame(fs, false, 0x18, raw.p[i], raw.n[i]);
	tcp_text(fs, true, "GET /d HTTP/1.1\r\nHost: h\r\n\r\n");
	tcp_text(fs, false, "HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\nplain " LIT " body!!");
	assert_int_equal(fs->n, 20);
}

static struct matcher *make_matcher(struct pack **pk, bool with_md5)
{
	static uint8_t body[BODY_LEN];
	char md5[33];
	uint8_t dg[16];
	unsigned dl;
	body_text(body);
	assert_int_equal(EVP_Digest(body, BODY_LEN, dg, &dl, EVP_md5(), NULL), 1);
	for (int i = 0; i < 16; i++)
		snprintf(md5 + 2 * i, 3, "%02x", dg[i]);
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(pack_create_adhoc("-e", pk), CS_OK);
	assert_int_equal(pack_add(*pk, "l", IND_LITERAL, 0, LIT, strlen(LIT), 1, &d), CS_OK);
	if (with_md5)
		assert_int_equal(pack_add(*pk, "h", IND_MD5, 0, md5, 32, 2, &d), CS_OK);
	pack_seal(*pk);
	struct matcher *m;
	assert_int_equal(matcher_build(pk, 1, NULL, NULL, &m, &d), CS_OK);
	return m;
}

static char *run_capture(const struct frames *fs, const struct matcher *m, unsigned threads,
			 struct packet_stats *st)
{
	size_t cap = 24 + fs->n * (16 + sizeof(fs->f[0].b)), n = 0;
	uint8_t *b = malloc(cap);
	assert_non_null(b);
	uint32_t hdr[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 65535, 1};
	memcpy(b, hdr, sizeof(hdr));
	n = sizeof(hdr);
	for (size_t i = 0; i < fs->n; i++) {
		uint32_t rh[4] = {1700000000u + (uint32_t)i, 0, (uint32_t)fs->f[i].n,
				  (uint32_t)fs->f[i].n};
		memcpy(b + n, rh, sizeof(rh));
		memcpy(b + n + sizeof(rh), fs->f[i].b, fs->f[i].n);
		n += sizeof(rh) + fs->f[i].n;
	}
	struct cs_diag d;
	cs_diag_clear(&d);
	char dir[] = "/tmp/cs-test-pbody-XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r.ndjson", dir);
	struct ev_writer *w;
	assert_int_equal(ev_writer_open(path, &w, &d), CS_OK);
	struct capture *c;
	FILE *f = fmemopen(b, n, "r");
	assert_int_equal(capture_open_file(f, "mem.pcap", &c, &d), CS_OK);
	struct packet_opts o;
	packet_opts_default(&o);
	o.threads = threads;
	o.run_id = "run";
	o.source_label = "mem.pcap";
	o.flow.mem_cap = 64u << 20;
	o.flow.max_flows = 1024;
	assert_int_equal(packet_run(m, c, w, &o, NULL, NULL, st, &d), CS_OK);
	capture_destroy(c);
	assert_int_equal(ev_writer_close(w, &d), CS_OK);
	FILE *rf = fopen(path, "r");
	assert_non_null(rf);
	char *out = calloc(1, 1 << 17);
	size_t got = fread(out, 1, (1 << 17) - 1, rf);
	out[got] = '\0';
	fclose(rf);
	unlink(path);
	rmdir(dir);
	free(b);
	return out;
}

/* The record (one line) holding all of the given keys, and how many do. */
static int find(const char *all, const char *k1, const char *k2, const char *k3, char *buf,
		size_t cap)
{
	int hits = 0;
	for (const char *s = all; *s;) {
		const char *e = strchr(s, '\n');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		assert_true(len < cap);
		char tmp[8192];
		memcpy(tmp, s, len);
		tmp[len] = '\0';
		if (strstr(tmp, k1) && (!k2 || strstr(tmp, k2)) && (!k3 || strstr(tmp, k3))) {
			memcpy(buf, tmp, len + 1);
			hits++;
		}
		s += len + (e ? 1 : 0);
	}
	return hits;
}

static void expect_body_hit(const char *out, int p0, int p1)
{
	char k[96], b[8192];
	snprintf(k, sizeof(k), "\"packet_first\":%d,\"packet_last\":%d,", p0, p1);
	assert_int_equal(find(out, k, "\"field\":\"http.body\"", "\"id\":\"l\"", b, sizeof(b)), 1);
	assert_non_null(strstr(b, "\"offset\":16380"));
	assert_non_null(strstr(b, "\"text\":\"" LIT "\""));
	assert_non_null(strstr(b, "\"direction\":\"to_client\""));
	/* context comes from the decoded bytes */
	assert_non_null(strstr(b, "\"after\":\""));
	assert_non_null(strstr(b, "lazy dog"));
}

static void test_coded_bodies_scanned(void **state)
{
	(void)state;
	static struct frames fs;
	build(&fs);
	struct pack *pk;
	struct matcher *m = make_matcher(&pk, false);
	for (unsigned t = 1; t <= 2; t++) {
		struct packet_stats st;
		uint64_t per[1] = {0};
		memset(&st, 0, sizeof(st));
		st.ind_matches = per;
		char *out = run_capture(&fs, m, t, &st);
		assert_int_equal(st.packets, 20);
		assert_int_equal(st.http_requests, 4);
		/* three coded bodies, one plain: each literal once, nothing twice */
		assert_int_equal(st.matches, 4);
		assert_int_equal(per[0], 4);
		char b[8192];
		assert_int_equal(find(out, "\"field\":\"http.body\"", NULL, NULL, b, sizeof(b)), 3);
		expect_body_hit(out, 6, 7);
		expect_body_hit(out, 11, 12);
		expect_body_hit(out, 16, 17);
		assert_int_equal(find(out, "\"field\":\"payload\"", NULL, NULL, b, sizeof(b)), 1);
		assert_non_null(strstr(b, "\"packet_first\":20,\"packet_last\":20,"));
		assert_non_null(strstr(b, "\"text\":\"" LIT "\""));
		free(out);
	}
	matcher_destroy(m);
	pack_destroy(pk);
}

/* Digests and decoded scanning together: the digest of the decoded object is
 * still reported per coded body, with its coding. */
static void test_digest_and_scan(void **state)
{
	(void)state;
	static struct frames fs;
	build(&fs);
	struct pack *pk;
	struct matcher *m = make_matcher(&pk, true);
	struct packet_stats st;
	memset(&st, 0, sizeof(st));
	char *out = run_capture(&fs, m, 1, &st);
	char b[8192];
	assert_int_equal(find(out, "\"id\":\"h\"", NULL, NULL, b, sizeof(b)), 3);
	assert_int_equal(find(out, "\"id\":\"h\"", "\"content_encoding\":\"gzip\"", NULL, b,
			      sizeof(b)), 2);
	assert_int_equal(find(out, "\"id\":\"h\"", "\"content_encoding\":\"deflate\"",
			      "\"packet_first\":16,\"packet_last\":18,", b, sizeof(b)), 1);
	assert_int_equal(find(out, "\"id\":\"l\"", NULL, NULL, b, sizeof(b)), 4);
	assert_int_equal(st.matches, 7);
	free(out);
	matcher_destroy(m);
	pack_destroy(pk);
}

/* The worker's own view: one scan state per coded body, all freed, every
 * decoded byte scanned once. */
static void test_worker_counters(void **state)
{
	(void)state;
	static struct frames fs;
	build(&fs);
	struct pack *pk;
	struct matcher *m = make_matcher(&pk, false);
	struct packet_opts o;
	packet_opts_default(&o);
	o.run_id = "run";
	o.source_label = "mem.pcap";
	o.flow.mem_cap = 64u << 20;
	o.flow.max_flows = 1024;
	struct pk_worker wk;
	memset(&wk, 0, sizeof(wk));
	struct pk_run run = {.m = m, .o = &o, .n = 1, .workers = &wk};
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(pk_worker_init(&wk, &run, 0, &d), CS_OK);
	assert_true(wk.http_env.flags & APP_HTTP_DECODE_BODIES);
	wk.out.cap_bytes = 1u << 20;
	struct decode_stats ds;
	memset(&ds, 0, sizeof(ds));
	for (size_t i = 0; i < fs.n; i++) {
		struct pkt p;
		assert_int_equal(decode_packet(1, fs.f[i].b, fs.f[i].n, &p, &ds), DECODE_OK);
		pk_worker_packet(&wk, &p, i + 1, 1000 * (i + 1));
		/* Engine streams: the two payload ones once each side has sent
		 * data, and a body's only from its first decoded bytes to its end. */
		size_t k = i + 1;
		bool body = (k >= 6 && k <= 7) || (k >= 11 && k <= 12) || (k >= 16 && k <= 17);
		assert_int_equal(wk.streams_open, (k >= 4) + (k >= 5) + body);
	}
	pk_worker_finish(&wk);
	assert_int_equal(wk.body_scans, 3);
	assert_int_equal(wk.body_scan_nomem, 0);
	assert_int_equal(wk.body_scan_bytes, 3 * BODY_LEN);
	assert_int_equal(wk.streams_open, 0);
	assert_int_equal(wk.stream_errors, 0);
	assert_int_equal(wk.matches, 4);
	pk_worker_fini(&wk);
	matcher_destroy(m);
	pack_destroy(pk);
}

/* Domains are found in page bodies too, coded or not: with only a domain
 * listed, coded bodies are still inflated and scanned. */
static void test_hosts_in_coded_bodies(void **state)
{
	(void)state;
	static struct frames fs;
	build(&fs);
	struct pack *pk;
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(pack_create_adhoc("-e", &pk), CS_OK);
	assert_int_equal(pack_add(pk, "d", IND_DOMAIN, 0, "lazy-dog.example", 16, 1, &d), CS_OK);
	pack_seal(pk);
	struct matcher *m;
	assert_int_equal(matcher_build(&pk, 1, NULL, NULL, &m, &d), CS_OK);
	struct packet_opts o;
	packet_opts_default(&o);
	struct pk_worker wk;
	memset(&wk, 0, sizeof(wk));
	struct pk_run run = {.m = m, .o = &o, .n = 1, .workers = &wk};
	assert_int_equal(pk_worker_init(&wk, &run, 0, &d), CS_OK);
	assert_true(wk.stream_ok);
	assert_true(wk.http_env.flags & APP_HTTP_DECODE_BODIES);
	pk_worker_fini(&wk);
	struct packet_stats st;
	memset(&st, 0, sizeof(st));
	char *out = run_capture(&fs, m, 1, &st);
	char b[8192];
	assert_int_equal(find(out, "\"field\":\"http.body\"", "\"text\":\"lazy-dog.example\"",
			      NULL, b, sizeof(b)), 3);
	assert_int_equal(st.matches, 3);
	free(out);
	matcher_destroy(m);
	pack_destroy(pk);
}

/* A chunked body without a content coding: a literal cut by the chunk
 * framing is found in the body with the framing removed (http.body), once;
 * one inside a single chunk is found once too, in the raw bytes (payload),
 * not again from the body. */
static void test_chunks_joined(void **state)
{
	(void)state;
	static struct frames fs;
	memset(&fs, 0, sizeof(fs));
	fs.seq[0] = 100;
	fs.seq[1] = 500;
	tcp_frame(&fs, true, 0x02, "", 0);
	tcp_frame(&fs, false, 0x12, "", 0);
	tcp_frame(&fs, true, 0x10, "", 0);
	tcp_text(&fs, true, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
	tcp_text(&fs, false, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	tcp_text(&fs, false, "7\r\nBODYSEC\r\na\r\nRETLITERAL\r\n");
	tcp_text(&fs, false, "13\r\n INSIDEONECHUNK ok \r\n1\r\nB\r\n");
	tcp_text(&fs, false, "3\r\nODY\r\n0\r\n\r\n");
	struct pack *pk;
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(pack_create_adhoc("-e", &pk), CS_OK);
	assert_int_equal(pack_add(pk, "l", IND_LITERAL, 0, LIT, strlen(LIT), 1, &d), CS_OK);
	assert_int_equal(pack_add(pk, "w", IND_LITERAL, 0, "INSIDEONECHUNK", 14, 1, &d), CS_OK);
	assert_int_equal(pack_add(pk, "b", IND_LITERAL, 0, "ok BODY", 7, 1, &d), CS_OK);
	pack_seal(pk);
	struct matcher *m;
	assert_int_equal(matcher_build(&pk, 1, NULL, NULL, &m, &d), CS_OK);
	for (unsigned t = 1; t <= 2; t++) {
		struct packet_stats st;
		memset(&st, 0, sizeof(st));
		char *out = run_capture(&fs, m, t, &st);
		char b[8192];
		assert_int_equal(find(out, "\"id\":\"l\"", NULL, NULL, b, sizeof(b)), 1);
		assert_non_null(strstr(b, "\"field\":\"http.body\""));
		assert_non_null(strstr(b, "\"text\":\"" LIT "\""));
		assert_non_null(strstr(b, "\"offset\":0,"));
		assert_int_equal(find(out, "\"id\":\"w\"", NULL, NULL, b, sizeof(b)), 1);
		assert_non_null(strstr(b, "\"field\":\"payload\""));
		/* across two boundaries, the middle chunk one byte long */
		assert_int_equal(find(out, "\"id\":\"b\"", NULL, NULL, b, sizeof(b)), 1);
		assert_non_null(strstr(b, "\"field\":\"http.body\""));
		assert_int_equal(st.matches, 3);
		free(out);
	}
	matcher_destroy(m);
	pack_destroy(pk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_coded_bodies_scanned),
		cmocka_unit_test(test_digest_and_scan),
		cmocka_unit_test(test_worker_counters),
		cmocka_unit_test(test_hosts_in_coded_bodies),
		cmocka_unit_test(test_chunks_joined),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
