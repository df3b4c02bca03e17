/* Packet records (rendering, escaping, csam withholding) and the packet
 * pipeline end to end on a capture built in memory: fields, a literal split
 * across segments, a body digest, a DNS query; the same records whatever the
 * number of worker threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cybersieve/packet.h"
#include "pkt_build.h"

/* ------------------------------------------------------------ render --- */

static struct pack *one_pack(const char *category, enum ind_type t, const char *value)
{
	struct pack *p;
	struct cs_diag d;
	assert_int_equal(pack_create_adhoc("-e", &p), CS_OK);
	assert_int_equal(pack_add(p, "i1", t, 0, value, strlen(value), 1, &d), CS_OK);
	pack_seal(p);
	free(p->category);
	p->category = strdup(category);
	return p;
}

static void render(const struct pack *p, bool live, struct jbuf *j)
{
	struct matcher_ind mi = {&p->ind[0], p, 0, 0, NULL};
	const uint8_t text[] = "a\"b\n\xff";
	struct ev_packet_record r = {
		.run_id = "run", .seq = 3, .mi = &mi, .live = live, .source = "x.pcap",
		.pkt_first = 4, .pkt_last = 5, .ts_first = 1000000000ull, .ts_last = 2000000001ull,
		.src_ip = "10.0.0.1", .dest_ip = "10.0.0.2", .src_port = 1234, .dest_port = 80,
		.proto = 6, .community_id = "1:abc", .to_client = true, .field = "payload",
		.text = text, .text_len = 5, .length = 5, .before = (const uint8_t *)"<", .before_len = 1,
		.after = (const uint8_t *)">", .after_len = 1};
	jbuf_init(j);
	ev_packet_record_render(j, &r);
	assert_false(j->failed);
}

static void test_render_escaping(void **state)
{
	(void)state;
	struct pack *p = one_pack("scam", IND_LITERAL, "x");
	struct jbuf j;
	render(p, false, &j);
	assert_non_null(strstr(j.p, "{\"prev\":\"" EV_PREV_PLACEHOLDER "\",\"record_id\":\"run:3\",\"run_id\":\"run\",\"seq\":3,"
				    "\"time_detected\":"));
	assert_non_null(strstr(j.p, "\"source\":{\"kind\":\"capture\",\"path\":\"x.pcap\","
				    "\"sha256\":\"" EV_SHA256_PLACEHOLDER "\",\"packet_first\":4,"
				    "\"packet_last\":5,\"ts_first\":\"1970-01-01T00:00:01.000000000Z\","
				    "\"ts_last\":\"1970-01-01T00:00:02.000000001Z\"}"));
	assert_non_null(strstr(j.p, "\"text\":\"a\\\"b\\n\xef\xbf\xbd\",\"text_b64\":\"YSJiCv8=\""));
	assert_non_null(strstr(j.p, "\"context\":{\"before\":\"<\",\"after\":\">\"}"));
	assert_non_null(strstr(j.p, "\"flow\":{\"src_ip\":\"10.0.0.1\",\"src_port\":1234,"
				    "\"dest_ip\":\"10.0.0.2\",\"dest_port\":80,\"proto\":\"TCP\","
				    "\"community_id\":\"1:abc\",\"direction\":\"to_client\"},"
				    "\"field\":\"payload\"}"));
	assert_int_equal(j.p[j.len - 1], '}');
	jbuf_fini(&j);
	render(p, true, &j);
	assert_non_null(strstr(j.p, "\"kind\":\"live\",\"interface\":\"x.pcap\",\"sha256\":null"));
	jbuf_fini(&j);
	pack_destroy(p);
}

static void test_render_csam_withheld(void **state)
{
	(void)state;
	struct pack *p = one_pack("csam", IND_MD5, "0123456789abcdef0123456789abcdef");
	struct jbuf j;
	render(p, false, &j);
	assert_non_null(strstr(j.p, "\"content_withheld\":true"));
	assert_null(strstr(j.p, "\"text\""));
	assert_null(strstr(j.p, "\"context\""));
	assert_null(strstr(j.p, "a\\\"b"));
	jbuf_fini(&j);
	pack_destroy(p);
}

/* ---------------------------------------------------------- pipeline --- */

#define CLI 0x0a000001u
#define SRV 0x0a000002u

struct cap_buf {
	uint8_t *b;
	size_t n, cap;
	uint32_t t;
};

static void cap_put(struct cap_buf *c, const void *d, size_t n)
{
	if (c->n + n > c->cap) {
		c->cap = (c->n + n) * 2;
		c->b = realloc(c->b, c->cap);
		assert_non_null(c->b);
	}
	memcpy(c->b + c->n, d, n);
	c->n += n;
}

static void cap_u32(struct cap_buf *c, uint32_t v)
{
	cap_put(c, &v, 4);
}

static void cap_frame(struct cap_buf *c, const struct pb *p)
{
	c->t++;
	cap_u32(c, 1700000000u + c->t);
	cap_u32(c, 0);
	cap_u32(c, (uint32_t)p->n);
	cap_u32(c, (uint32_t)p->n);
	cap_put(c, p->b, p->n);
}

static void tcp_frame(struct cap_buf *c, bool c2s, uint32_t seq, uint8_t flags, const char *data)
{
	struct pb p = {.n = 0};
	pb_eth(&p, 0x0800);
	size_t ip = pb_ipv4(&p, 6, c2s ? CLI : SRV, c2s ? SRV : CLI, 1, 0);
	pb_tcp(&p, c2s ? 40000 : 80, c2s ? 80 : 40000, seq, flags);
	pb_bytes(&p, data, strlen(data));
	pb_ipv4_fix(&p, ip);
	cap_frame(c, &p);
}

static void dns_frame(struct cap_buf *c)
{
	static const uint8_t q[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
				    1, 'a', 4, 'e', 'v', 'i', 'l', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
				    0, 0, 1, 0, 1};
	struct pb p = {.n = 0};
	pb_eth(&p, 0x0800);
	size_t ip = pb_ipv4(&p, 17, CLI, 0x08080808u, 2, 0);
	size_t u = pb_udp(&p, 5353 + 1000, 53);
	pb_bytes(&p, q, sizeof(q));
	pb_udp_fix(&p, u);
	pb_ipv4_fix(&p, ip);
	cap_frame(c, &p);
}

/* Packets: 1-3 handshake, 4-5 request split inside SPLITSECRET, 6 response
 * with body "hello", 7 a DNS query for a.evil.example. */
static struct cap_buf build_capture(void)
{
	struct cap_buf c = {0};
	uint32_t hdr[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 65535, 1};
	cap_put(&c, hdr, sizeof(hdr));
	const char *r1 = "GET /p HTTP/1.1\r\nHost: www.evil.example\r\nX: SPLIT";
	const char *r2 = "SECRET\r\n\r\n";
	const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
	tcp_frame(&c, true, 100, 0x02, "");
	tcp_frame(&c, false, 500, 0x12, "");
	tcp_frame(&c, true, 101, 0x10, "");
	tcp_frame(&c, true, 101, 0x18, r1);
	tcp_frame(&c, true, 101 + (uint32_t)strlen(r1), 0x18, r2);
	tcp_frame(&c, false, 501, 0x18, resp);
	dns_frame(&c);
	return c;
}

/* A pack of n indicators, sealed. */
static struct pack *make_pack(const char *const *ids, const enum ind_type *types,
			      const char *const *vals, int n)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	struct pack *p;
	assert_int_equal(pack_create_adhoc("-e", &p), CS_OK);
	for (int i = 0; i < n; i++)
		assert_int_equal(pack_add(p, ids[i], types[i], 0, vals[i], strlen(vals[i]), 1, &d),
				 CS_OK);
	pack_seal(p);
	return p;
}

/* Held records' memory share and spill folder for run_pack (0, NULL: the defaults). */
static size_t g_held_mem;
static const char *g_spill_dir;

/* The capture through the packet pipeline with pack p: the records file's
 * text (caller frees). st->ind_matches may point at a count per indicator. */
static char *run_pack(struct cap_buf *c, struct pack *p, unsigned threads, struct packet_stats *st)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	struct matcher *m;
	assert_int_equal(matcher_build(&p, 1, NULL, NULL, &m, &d), CS_OK);
	char dir[] = "/tmp/cs-test-packet-XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r.ndjson", dir);
	struct ev_writer *w;
	assert_int_equal(ev_writer_open(path, &w, &d), CS_OK);
	struct capture *cap;
	FILE *f = fmemopen(c->b, c->n, "r");
	assert_int_equal(capture_open_file(f, "mem.pcap", &cap, &d), CS_OK);
	struct packet_opts o;
	packet_opts_default(&o);
	o.threads = threads;
	o.run_id = "run";
	o.source_label = "mem.pcap";
	o.flow.mem_cap = 64u << 20;
	o.flow.max_flows = 1024;
	o.held_mem = g_held_mem;
	o.spill_dir = g_spill_dir;
	assert_int_equal(packet_run(m, cap, w, &o, NULL, NULL, st, &d), CS_OK);
	capture_destroy(cap);
	assert_int_equal(ev_writer_close(w, &d), CS_OK);
	FILE *rf = fopen(path, "r");
	char *out = calloc(1, 1 << 16);
	size_t n = fread(out, 1, (1 << 16) - 1, rf);
	out[n] = '\0';
	fclose(rf);
	unlink(path);
	rmdir(dir);
	matcher_destroy(m);
	return out;
}

static char *run_once(struct cap_buf *c, unsigned threads, struct packet_stats *st)
{
	static const char *const vals[] = {"evil.example", "SPLITSECRET",
					   "5d41402abc4b2a76b9719d911017c592",
					   "http://www.evil.example/p"};
	static const enum ind_type types[] = {IND_DOMAIN, IND_LITERAL, IND_MD5, IND_URL};
	static const char *const ids[] = {"d", "l", "h", "u"};
	struct pack *p = make_pack(ids, types, vals, 4);
	uint64_t per_ind[4] = {0};
	st->ind_matches = per_ind;
	char *out = run_pack(c, p, threads, st);
	/* The domain three times: in the raw bytes of packet 4 (the head was
	 * not complete there, so no field had reported it yet), as the Host,
	 * and as the DNS name. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(per_ind[i], i == 0 ? 3 : 1);
	st->ind_matches = NULL;
	pack_destroy(p);
	return out;
}

/* The n-th line (0-based), with time_detected blanked. */
static char *line(const char *all, int n, char *buf, size_t cap)
{
	const char *s = all;
	for (int i = 0; i < n && s; i++)
		s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL;
	assert_non_null(s);
	size_t len = (size_t)(strchr(s, '\n') - s);
	assert_true(len < cap);
	memcpy(buf, s, len);
	buf[len] = '\0';
	char *t = strstr(buf, "\"time_detected\":\"");
	assert_non_null(t);
	memset(t + 17, 'T', 24);
	/* prev hashes the line before, time included. */
	if (strncmp(buf, EV_CHAIN_LEAD, EV_CHAIN_LEAD_LEN) == 0 && len > EV_CHAIN_LEAD_LEN + 64)
		memset(buf + EV_CHAIN_LEAD_LEN, 'P', 64);
	return buf;
}

static void expect(const char *rec, const char *field, const char *ind, int p0, int p1)
{
	char k[96];
	snprintf(k, sizeof(k), "\"field\":\"%s\"", field);
	assert_non_null(strstr(rec, k));
	snprintf(k, sizeof(k), "\"id\":\"%s\"", ind);
	assert_non_null(strstr(rec, k));
	snprintf(k, sizeof(k), "\"packet_first\":%d,\"packet_last\":%d,", p0, p1);
	assert_non_null(strstr(rec, k));
}

static void test_pipeline(void **state)
{
	(void)state;
	struct cap_buf c = build_capture();
	struct packet_stats st;
	char *one = run_once(&c, 1, &st);
	assert_int_equal(st.packets, 7);
	assert_int_equal(st.matches, 6);
	assert_int_equal(st.http_requests, 1);
	assert_int_equal(st.http_bodies_hashed, 1);
	assert_int_equal(st.dns_names, 1);
	char b[4096];
	expect(line(one, 0, b, sizeof(b)), "payload", "d", 4, 4);
	assert_non_null(strstr(b, "\"text\":\"evil.example\""));
	/* The head (Host, URL) ends in packet 5, read before the literal that
	 * completes there too. */
	expect(line(one, 1, b, sizeof(b)), "http.host", "d", 4, 5);
	assert_non_null(strstr(b, "\"text\":\"evil.example\",\"context\":{\"before\":\"www.\""));
	assert_non_null(strstr(b, "\"direction\":\"to_server\""));
	assert_non_null(strstr(b, "\"src_ip\":\"10.0.0.1\",\"src_port\":40000"));
	expect(line(one, 2, b, sizeof(b)), "http.url", "u", 4, 5);
	expect(line(one, 3, b, sizeof(b)), "payload", "l", 4, 5);
	assert_non_null(strstr(b, "\"offset\":44"));
	assert_non_null(strstr(b, "\"text\":\"SPLITSECRET\""));
	expect(line(one, 4, b, sizeof(b)), "http.body", "h", 6, 6);
	assert_non_null(strstr(b, "\"body\":{\"length\":5,\"content_encoding\":\"identity\"}"));
	assert_non_null(strstr(b, "\"direction\":\"to_client\""));
	expect(line(one, 5, b, sizeof(b)), "dns.query", "d", 7, 7);
	assert_non_null(strstr(b, "\"proto\":\"UDP\""));
	assert_non_null(strstr(one, "\"seq\":6,"));
	/* Same records, same order, whatever the thread count. */
	for (unsigned t = 2; t <= 4; t++) {
		char *more = run_once(&c, t, &st);
		assert_int_equal(st.matches, 6);
		for (int i = 0; i < 6; i++) {
			char x[4096], y[4096];
			assert_string_equal(line(one, i, x, sizeof(x)), line(more, i, y, sizeof(y)));
		}
		free(more);
	}
	/* The same again when every held body goes to the spill file (a memory
	 * share of one byte), and when that file cannot be made (they stay in
	 * memory). */
	static const char *const dirs[] = {"/tmp", "/nonexistent-cs-spill-dir"};
	for (int k = 0; k < 2; k++) {
		g_held_mem = 1;
		g_spill_dir = dirs[k];
		char *more = run_once(&c, 2, &st);
		g_held_mem = 0;
		g_spill_dir = NULL;
		assert_int_equal(st.matches, 6);
		assert_int_equal(st.records_dropped, 0);
		for (int i = 0; i < 6; i++) {
			char x[4096], y[4096];
			assert_string_equal(line(one, i, x, sizeof(x)), line(more, i, y, sizeof(y)));
		}
		free(more);
	}
	free(one);
	free(c.b);
}

/* The records (lines) of `all` whose field and indicator id are these. */
static int count_records(const char *all, const char *field, const char *id, int pkt)
{
	char f[64], i[64], pk[64];
	snprintf(f, sizeof(f), "\"field\":\"%s\"", field);
	snprintf(i, sizeof(i), "\"id\":\"%s\"", id);
	snprintf(pk, sizeof(pk), "\"packet_first\":%d,\"packet_last\":%d,", pkt, pkt);
	int n = 0;
	for (const char *s = all; s && *s;) {
		const char *e = strchr(s, '\n');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		char *l = strndup(s, len);
		n += strstr(l, f) && strstr(l, i) && strstr(l, pk);
		free(l);
		s = e ? e + 1 : NULL;
	}
	return n;
}

/* Literals and regexes meet a DNS name as it reads (a.evil.example), not
 * only as it is sent (1a4evil7example0): what takes in a dot is reported in
 * dns.query; what lies in one label comes from the message's bytes. */
static void test_dns_name_text(void **state)
{
	(void)state;
	struct cap_buf c = build_capture();
	static const char *const vals[] = {"a.evil.example", "evil", "a\\.evil\\.ex", "A.EVIL"};
	static const enum ind_type types[] = {IND_LITERAL, IND_LITERAL, IND_REGEX, IND_LITERAL};
	static const char *const ids[] = {"dotted", "label", "re", "upper"};
	struct pack *p = make_pack(ids, types, vals, 4);
	struct packet_stats st;
	memset(&st, 0, sizeof(st));
	char *out = run_pack(&c, p, 1, &st);
	assert_int_equal(count_records(out, "dns.query", "dotted", 7), 1);
	assert_int_equal(count_records(out, "dns.query", "re", 7), 1);
	assert_non_null(strstr(out, "\"text\":\"a.evil.ex\""));
	/* One label: once, from the datagram's bytes. */
	assert_int_equal(count_records(out, "dns.query", "label", 7), 0);
	assert_int_equal(count_records(out, "payload", "label", 7), 1);
	/* Names are read in lower case: a case-sensitive literal in capitals is not there. */
	assert_int_equal(count_records(out, "dns.query", "upper", 7), 0);
	/* Nothing of the DNS packet from the raw bytes for the dotted ones. */
	assert_int_equal(count_records(out, "payload", "dotted", 7), 0);
	free(out);
	pack_destroy(p);
	free(c.b);
}

/* ------------------------------------------------ host names once --- */

/* A frame of the TCP flow from client port sport to server port 80. */
static void tcp_bin(struct cap_buf *c, uint16_t sport, bool c2s, uint32_t seq, uint8_t flags,
		    const void *data, size_t len)
{
	struct pb p = {.n = 0};
	pb_eth(&p, 0x0800);
	size_t ip = pb_ipv4(&p, 6, c2s ? CLI : SRV, c2s ? SRV : CLI, 1, 0);
	pb_tcp(&p, c2s ? sport : 80, c2s ? 80 : sport, seq, flags);
	pb_bytes(&p, data, len);
	pb_ipv4_fix(&p, ip);
	cap_frame(c, &p);
}

/* Handshake, then each piece from the client (or, with '<' first, from the
 * server) as one segment. */
static void tcp_talk(struct cap_buf *c, uint16_t sport, const void *const *pieces,
		     const size_t *lens, int n)
{
	uint32_t cs = 1000, ss = 5000;
	tcp_bin(c, sport, true, cs++, 0x02, "", 0);
	tcp_bin(c, sport, false, ss++, 0x12, "", 0);
	tcp_bin(c, sport, true, cs, 0x10, "", 0);
	for (int i = 0; i < n; i++) {
		tcp_bin(c, sport, true, cs, 0x18, pieces[i], lens[i]);
		cs += (uint32_t)lens[i];
	}
}

/* A TLS ClientHello naming host, with 300 bytes of padding after the SNI. */
static size_t hello_with_sni(uint8_t *out, const char *host)
{
	uint8_t ext[600];
	size_t n = 0, hl = strlen(host);
	ext[n++] = 0; ext[n++] = 0; /* server_name */
	ext[n++] = (uint8_t)((hl + 5) >> 8); ext[n++] = (uint8_t)(hl + 5);
	ext[n++] = (uint8_t)((hl + 3) >> 8); ext[n++] = (uint8_t)(hl + 3);
	ext[n++] = 0;
	ext[n++] = (uint8_t)(hl >> 8); ext[n++] = (uint8_t)hl;
	memcpy(ext + n, host, hl); n += hl;
	ext[n++] = 0; ext[n++] = 0x15; ext[n++] = 300 >> 8; ext[n++] = 300 & 0xff;
	memset(ext + n, 0, 300); n += 300;
	return pb_tls_hello(out, ext, n);
}

/* Records of a capture as "id field first-last" lines, in order; every
 * indicator a domain. */
static void host_records(struct cap_buf *c, const char *const *ids, const char *const *vals,
			 int n, char *out, size_t out_cap)
{
	enum ind_type types[8];
	assert_true(n <= 8);
	for (int i = 0; i < n; i++)
		types[i] = IND_DOMAIN;
	struct pack *p = make_pack(ids, types, vals, n);
	struct packet_stats st;
	memset(&st, 0, sizeof(st));
	char *all = run_pack(c, p, 1, &st);
	size_t used = 0;
	out[0] = '\0';
	for (const char *line = all; *line; line = strchr(line, '\n') + 1) {
		char id[32], field[32];
		unsigned long long a, b;
		const char *q = strstr(line, "\"indicator\":{\"id\":\"");
		assert_non_null(q);
		sscanf(q + 19, "%31[^\"]", id);
		sscanf(strstr(line, "\"field\":\"") + 9, "%31[^\"]", field);
		sscanf(strstr(line, "\"packet_first\":") + 15, "%llu", &a);
		sscanf(strstr(line, "\"packet_last\":") + 14, "%llu", &b);
		used += (size_t)snprintf(out + used, out_cap - used, "%s %s %llu-%llu\n", id, field, a,
					 b);
	}
	free(all);
	pack_destroy(p);
}

/* A host name a parsed field reports is not reported again from the raw
 * bytes: however many indicators the field gave (the payload scan checks
 * every one of the segment's), when the ClientHello spans two segments, and
 * when requests follow each other in one segment. A body's mention of the
 * next request's Host is its own occurrence, and the head's packets are the
 * head's own. */
static void test_host_fields_once(void **state)
{
	(void)state;
	struct cap_buf c = {0};
	uint32_t hdr[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 65535, 1};
	cap_put(&c, hdr, sizeof(hdr));
	uint8_t hello[1024];
	size_t hn = hello_with_sni(hello, "www.evil.example");
	/* packets 1-3 handshake, 4-5 the hello in two */
	const void *tls[] = {hello, hello + 150};
	size_t tls_len[] = {150, hn - 150};
	tcp_talk(&c, 40001, tls, tls_len, 2);
	/* 6-8 handshake, 9 two requests in one segment */
	const char *two = "GET / HTTP/1.1\r\nHost: www.evil.example\r\n\r\n"
			  "GET /2 HTTP/1.1\r\nHost: h1.example\r\n\r\n";
	const void *http[] = {two};
	size_t http_len[] = {strlen(two)};
	tcp_talk(&c, 40002, http, http_len, 1);
	/* 10-12 handshake, 13 a POST head, 14 its body naming h2.example,
	 * 15 the next request, to h2.example */
	const char *post = "POST /f HTTP/1.1\r\nHost: www.evil.example\r\nContent-Length: 20\r\n\r\n";
	const char *body = "see h2.example now\r\n";
	const char *next = "GET / HTTP/1.1\r\nHost: h2.example\r\n\r\n";
	const void *seq3[] = {post, body, next};
	size_t seq3_len[] = {strlen(post), strlen(body), strlen(next)};
	tcp_talk(&c, 40003, seq3, seq3_len, 3);

	static const char *const ids[] = {"d1", "d2", "d3", "d4", "d5", "h1", "h2"};
	static const char *const vals[] = {"evil.example", "evil.example", "evil.example",
					   "evil.example", "evil.example", "h1.example",
					   "h2.example"};
	char got[4096];
	host_records(&c, ids, vals, 7, got, sizeof(got));
	assert_string_equal(got, "d1 tls.sni 4-5\nd2 tls.sni 4-5\nd3 tls.sni 4-5\n"
				 "d4 tls.sni 4-5\nd5 tls.sni 4-5\n"
				 "d1 http.host 9-9\nd2 http.host 9-9\nd3 http.host 9-9\n"
				 "d4 http.host 9-9\nd5 http.host 9-9\nh1 http.host 9-9\n"
				 "d1 http.host 13-13\nd2 http.host 13-13\nd3 http.host 13-13\n"
				 "d4 http.host 13-13\nd5 http.host 13-13\n"
				 "h2 payload 14-14\nh2 http.host 15-15\n");
	free(c.b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_escaping),
		cmocka_unit_test(test_render_csam_withheld),
		cmocka_unit_test(test_pipeline),
		cmocka_unit_test(test_host_fields_once),
		cmocka_unit_test(test_dns_name_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
