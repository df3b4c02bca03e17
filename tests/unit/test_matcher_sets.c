/* Indicators confirmed by set lookup rather than compiled one each: many
 * md5/sha1/sha256 values share one shape pattern per length. Checks token
 * boundaries (windows inside longer hex runs), values listed twice, a
 * differential against a naive search, split lines, streams and fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cybersieve/matcher.h"
#include "cybersieve/pack.h"

#define N_EACH 3000

struct fx {
	struct pack *pack[2];
	struct matcher *m;
	struct matcher_scratch *s;
	struct matcher_hits hits;
	char (*md5)[33];
	char (*sha1)[41];
	char (*sha256)[65];
};

static uint64_t rng_next(uint64_t *x)
{
	*x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
	return *x >> 33;
}

static void rand_hex(uint64_t *x, char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++)
		out[i] = hex[rng_next(x) & 15];
	out[n] = '\0';
}

static void add(struct pack *p, const char *id, enum ind_type t, const char *v)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	if (pack_add(p, id, t, 0, v, strlen(v), 0, &d) != CS_OK)
		fail_msg("pack_add %s: %s", v, d.msg);
}

/* Pack 0: N_EACH of each digest type plus a literal; pack 1 lists md5[5]
 * again under another id, so one value names two indicators. */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct cs_diag d;
	cs_diag_clear(&d);
	f->md5 = calloc(N_EACH, sizeof(*f->md5));
	f->sha1 = calloc(N_EACH, sizeof(*f->sha1));
	f->sha256 = calloc(N_EACH, sizeof(*f->sha256));
	assert_non_null(f->sha256);
	assert_int_equal(pack_create_adhoc("a", &f->pack[0]), CS_OK);
	assert_int_equal(pack_create_adhoc("b", &f->pack[1]), CS_OK);
	uint64_t x = 42;
	char id[32];
	for (int i = 0; i < N_EACH; i++) {
		rand_hex(&x, f->md5[i], 32);
		rand_hex(&x, f->sha1[i], 40);
		rand_hex(&x, f->sha256[i], 64);
		snprintf(id, sizeof(id), "m%d", i);
		add(f->pack[0], id, IND_MD5, f->md5[i]);
		snprintf(id, sizeof(id), "s%d", i);
		add(f->pack[0], id, IND_SHA1, f->sha1[i]);
		snprintf(id, sizeof(id), "t%d", i);
		add(f->pack[0], id, IND_SHA256, f->sha256[i]);
	}
	add(f->pack[0], "lit", IND_LITERAL, "needle");
	add(f->pack[1], "again", IND_MD5, f->md5[5]);
	pack_seal(f->pack[0]);
	pack_seal(f->pack[1]);
	assert_int_equal(matcher_build_ex(f->pack, 2, NULL, NULL, 0, &f->m, &d), CS_OK);
	struct matcher_stats st;
	matcher_get_stats(f->m, &st);
	/* One literal, not 9001 patterns: block scans find the three digest
	 * shapes beside the engine (hexscan.c). */
	assert_int_equal(st.patterns, 1);
	assert_int_equal(st.set_entries, 3 * N_EACH + 1);
	assert_true(st.set_bytes > 0);
	assert_int_equal(matcher_max_fixed_len(f->m), 64);
	assert_int_equal(matcher_type_count(f->m, IND_SHA1), N_EACH);
	assert_int_equal(matcher_scratch_create(f->m, &f->s), CS_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	matcher_hits_fini(&f->hits);
	matcher_scratch_destroy(f->s);
	matcher_destroy(f->m);
	pack_destroy(f->pack[0]);
	pack_destroy(f->pack[1]);
	free(f->md5);
	free(f->sha1);
	free(f->sha256);
	free(f);
	return 0;
}

static const char *hit_id(struct fx *f, size_t i)
{
	return matcher_get(f->m, f->hits.v[i].ind)->ind->id;
}

static size_t scan(struct fx *f, const char *text)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	f->hits.n = 0;
	assert_int_equal(matcher_scan(f->m, f->s, (const uint8_t *)text, strlen(text), 0, &f->hits,
				      &d), CS_OK);
	return f->hits.n;
}

static void test_boundaries(void **state)
{
	struct fx *f = *state;
	char buf[512];
	snprintf(buf, sizeof(buf), "GET /x?h=%s HTTP/1.1", f->md5[7]);
	assert_int_equal(scan(f, buf), 1);
	assert_string_equal(hit_id(f, 0), "m7");
	assert_int_equal(f->hits.v[0].start, 9);
	assert_int_equal(f->hits.v[0].end, 41);
	/* Upper case is the same digest. */
	for (char *p = buf; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	assert_int_equal(scan(f, buf), 1);
	/* Inside a longer hex run: not a token of its own. */
	snprintf(buf, sizeof(buf), "a%s", f->md5[7]);
	assert_int_equal(scan(f, buf), 0);
	snprintf(buf, sizeof(buf), "%s0", f->md5[7]);
	assert_int_equal(scan(f, buf), 0);
	/* A listed md5 as the first 32 characters of a sha256-long token. */
	snprintf(buf, sizeof(buf), "x %s%.32s y", f->md5[7], f->sha256[1]);
	assert_int_equal(scan(f, buf), 0);
	/* A listed sha256 whose first 40 characters are not listed as sha1. */
	snprintf(buf, sizeof(buf), "sha256:%s\n", f->sha256[9]);
	assert_int_equal(scan(f, buf), 1);
	assert_string_equal(hit_id(f, 0), "t9");
	/* Unlisted digests of each length. */
	assert_int_equal(scan(f, "00000000000000000000000000000000 "
				 "0000000000000000000000000000000000000000"), 0);
	/* Several on one line, with the literal. */
	snprintf(buf, sizeof(buf), "%s needle %s,%s", f->sha1[3], f->sha1[4], f->sha1[3]);
	assert_int_equal(scan(f, buf), 3);
	assert_string_equal(hit_id(f, 0), "s3");
	assert_int_equal(f->hits.v[0].count, 2);
	assert_string_equal(hit_id(f, 1), "lit");
	assert_string_equal(hit_id(f, 2), "s4");
}

static void test_listed_twice(void **state)
{
	struct fx *f = *state;
	char buf[128];
	snprintf(buf, sizeof(buf), "line one\n[%s]\n", f->md5[5]);
	assert_int_equal(scan(f, buf), 2);
	bool a = false, b = false;
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(f->hits.v[i].line, 1);
		a |= strcmp(hit_id(f, i), "m5") == 0;
		b |= strcmp(hit_id(f, i), "again") == 0;
	}
	assert_true(a && b);
	assert_int_equal(matcher_get(f->m, f->hits.v[0].ind)->pack_index +
				 matcher_get(f->m, f->hits.v[1].ind)->pack_index, 1);
}

/* Every planted digest found once, nothing else: against the plan. */
static void test_differential(void **state)
{
	struct fx *f = *state;
	size_t cap = 1 << 20, len = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	uint64_t x = 7;
	size_t want = 0;
	for (int line = 0; line < 5000; line++) {
		int r = (int)(rng_next(&x) % 8);
		int k = (int)(rng_next(&x) % N_EACH);
		char noise[65];
		rand_hex(&x, noise, 32);
		const char *v = r == 0 ? f->md5[k] : r == 1 ? f->sha1[k] : r == 2 ? f->sha256[k] : noise;
		want += r < 3;
		len += (size_t)snprintf(text + len, cap - len, "%d id=%s %s\n", line, v,
					r == 3 ? f->md5[k] : "end");
		if (r == 3) /* a listed md5 glued to hex: no hit */
			text[len - 1 - 32 - 1] = 'a';
	}
	struct cs_diag d;
	cs_diag_clear(&d);
	f->hits.n = 0;
	assert_int_equal(matcher_scan(f->m, f->s, (const uint8_t *)text, len, 0, &f->hits, &d),
			 CS_OK);
	size_t got = 0;
	for (size_t i = 0; i < f->hits.n; i++) {
		const struct matcher_hit *h = &f->hits.v[i];
		const struct indicator *ind = matcher_get(f->m, h->ind)->ind;
		assert_int_equal(h->end - h->start, ind->value_len);
		assert_int_equal(strncmp(text + h->start, ind->value, ind->value_len), 0);
		if (strcmp(ind->id, "again") != 0)
			got++;
	}
	assert_int_equal(got, want);
	free(text);
}

/* A line split in overlapping pieces: a digest across the cut is found by
 * exactly one piece. */
static void test_pieces(void **state)
{
	struct fx *f = *state;
	char line[400];
	memset(line, 'x', sizeof(line));
	memcpy(line + 180, f->sha256[2], 64);
	size_t ov = matcher_max_fixed_len(f->m) + 1;
	struct cs_diag d;
	cs_diag_clear(&d);
	size_t found = 0;
	for (size_t cut = 150; cut < 260; cut += 7) {
		f->hits.n = 0;
		assert_int_equal(matcher_scan_piece(f->m, f->s, (const uint8_t *)line, cut, 0, true,
						    &f->hits, &d), CS_OK);
		size_t a = f->hits.n;
		size_t from = cut - ov;
		assert_int_equal(matcher_scan_piece(f->m, f->s, (const uint8_t *)line + from,
						    sizeof(line) - from, ov - 1, false, &f->hits, &d),
				 CS_OK);
		assert_int_equal(f->hits.n, 1);
		found += a;
	}
	assert_true(found > 0);
}

struct got {
	char id[8][16];
	char text[8][80];
	size_t n;
};

static void collect(void *user, const struct matcher_stream_hit *h);
static struct fx *cur_fx;

static void collect(void *user, const struct matcher_stream_hit *h)
{
	struct got *g = user;
	assert_true(g->n < 8);
	snprintf(g->id[g->n], sizeof(g->id[0]), "%s", matcher_get(cur_fx->m, h->ind)->ind->id);
	snprintf(g->text[g->n], sizeof(g->text[0]), "%.*s", (int)h->text_len, h->text);
	assert_int_equal(h->end - h->start, h->text_len);
	g->n++;
}

static void test_stream(void **state)
{
	struct fx *f = *state;
	cur_fx = f;
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(matcher_stream_prepare(f->m, f->s, &d), CS_OK);
	char data[256];
	int n = snprintf(data, sizeof(data), "body %s tail %s%s!", f->sha1[11], f->md5[1],
			 f->md5[2]);
	/* Every split point: one hit, the sha1, whole. The two glued md5 values
	 * are one 64-character run, also when the cut falls between them: the
	 * first waits for the next segment, whose bytes go on with hex. */
	for (int cut = 1; cut < n; cut++) {
		struct matcher_stream ms;
		struct got g = {0};
		matcher_stream_init(&ms);
		assert_int_equal(matcher_stream_scan(f->m, f->s, &ms, (const uint8_t *)data,
						     (size_t)cut, 0, 1, 1, 8, collect, &g), CS_OK);
		assert_int_equal(matcher_stream_scan(f->m, f->s, &ms, (const uint8_t *)data + cut,
						     (size_t)(n - cut), (uint64_t)cut, 2, 2, 8,
						     collect, &g), CS_OK);
		assert_int_equal(matcher_stream_end(f->m, f->s, &ms, collect, &g), CS_OK);
		if (g.n != 1)
			fail_msg("cut %d: %zu hits, %s %s", cut, g.n, g.id[0], g.id[1]);
		assert_string_equal(g.id[0], "s11");
		assert_string_equal(g.text[0], f->sha1[11]);
	}
}

static void test_field(void **state)
{
	struct fx *f = *state;
	struct cs_diag d;
	cs_diag_clear(&d);
	f->hits.n = 0;
	unsigned mask = 1u << IND_SHA256;
	assert_int_equal(matcher_scan_field(f->m, f->s, (const uint8_t *)f->sha256[0], 64, mask,
					    &f->hits, &d), CS_OK);
	assert_int_equal(f->hits.n, 1);
	assert_string_equal(hit_id(f, 0), "t0");
	f->hits.n = 0;
	assert_int_equal(matcher_scan_field(f->m, f->s, (const uint8_t *)f->sha256[0], 64,
					    1u << IND_MD5, &f->hits, &d), CS_OK);
	assert_int_equal(f->hits.n, 0);
}

/* ---------------------------------------------------------------- ip --- */

struct ipfx {
	struct pack *p;
	struct matcher *m;
	struct matcher_scratch *s;
	struct matcher_hits hits;
};

/* Seal f->p and build its matcher and scratch. */
static void ip_seal(struct ipfx *f)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	pack_seal(f->p);
	assert_int_equal(matcher_build(&f->p, 1, NULL, NULL, &f->m, &d), CS_OK);
	assert_int_equal(matcher_scratch_create(f->m, &f->s), CS_OK);
}

static void ip_build(struct ipfx *f)
{
	static const char *v[][2] = {
		{"net8", "10.0.0.0/8"},      {"net16", "10.1.0.0/16"}, {"host", "10.1.2.3"},
		{"doc", "192.0.2.0/24"},     {"v6net", "2001:db8::/32"}, {"v6host", "2001:db8::1"},
		{"v6b", "2001:db8:1::/48"},  {"low6", "::/96"},
		{"odd12", "172.16.0.0/12"},  {"odd33", "2001:db8:8000::/33"},
	};
	memset(f, 0, sizeof(*f));
	assert_int_equal(pack_create_adhoc("ip", &f->p), CS_OK);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		add(f->p, v[i][0], IND_IP, v[i][1]);
	add(f->p, "lit", IND_LITERAL, "needle");
	ip_seal(f);
}

static void ip_free(struct ipfx *f)
{
	matcher_hits_fini(&f->hits);
	matcher_scratch_destroy(f->s);
	matcher_destroy(f->m);
	pack_destroy(f->p);
}

/* Ids of the hits of one scan, space separated, in hit order. */
static const char *ip_scan(struct ipfx *f, const char *text, char *out, size_t cap)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	f->hits.n = 0;
	assert_int_equal(matcher_scan(f->m, f->s, (const uint8_t *)text, strlen(text), 0, &f->hits,
				      &d), CS_OK);
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < f->hits.n; i++) {
		const struct matcher_hit *h = &f->hits.v[i];
		o += (size_t)snprintf(out + o, cap - o, "%s%s=%.*s", i ? " " : "",
				      matcher_get(f->m, h->ind)->ind->id, (int)(h->end - h->start),
				      text + h->start);
	}
	return out;
}

static void test_ip_text(void **state)
{
	(void)state;
	struct ipfx f;
	char o[512];
	ip_build(&f);
	/* Longest prefix wins: the host, then the /16, then the /8. */
	assert_string_equal(ip_scan(&f, "from 10.1.2.3 to 10.1.9.9 via 10.200.0.1", o, sizeof(o)),
			    "host=10.1.2.3 net16=10.1.9.9 net8=10.200.0.1");
	assert_string_equal(ip_scan(&f, "192.0.2.55:443 and 192.0.3.1", o, sizeof(o)),
			    "doc=192.0.2.55");
	/* Not addresses: longer dotted runs, digits glued on, octets over 255. */
	assert_string_equal(ip_scan(&f, "1.10.1.2.3 10.1.2.3.4 10.1.2.34 110.1.2.3 10.1.2.300",
				    o, sizeof(o)),
			    "net16=10.1.2.34");
	/* Sentence end and brackets are boundaries. */
	assert_string_equal(ip_scan(&f, "[10.1.2.3]. needle", o, sizeof(o)),
			    "host=10.1.2.3 lit=needle");
	assert_string_equal(ip_scan(&f, "src=2001:DB8::1 dst=2001:db8:1:2::5 x=2001:db9::1", o,
				    sizeof(o)),
			    "v6host=2001:DB8::1 v6b=2001:db8:1:2::5");
	/* A scope operator is no address: a letter before or after "::" is no boundary. */
	assert_string_equal(ip_scan(&f, "call Foo::add(x) Bar::bad_ a::9 x=::1 y", o, sizeof(o)),
			    "low6=::1");
	/* Timestamps are colon runs, not addresses. */
	assert_string_equal(ip_scan(&f, "12:34:56 abc::12:34", o, sizeof(o)), "");
	/* Prefixes that end inside a byte (a line each: one hit per line and indicator). */
	assert_string_equal(ip_scan(&f, "172.15.255.255\n172.16.0.0\n172.31.255.255\n172.32.0.0\n"
				    "2001:db8:7fff::1\n2001:db8:8000::1\n2001:db8:ffff::",
				    o, sizeof(o)),
			    "odd12=172.16.0.0 odd12=172.31.255.255 v6net=2001:db8:7fff::1 "
			    "odd33=2001:db8:8000::1 odd33=2001:db8:ffff::");
	/* Eight groups without "::", leading zeros, the end of a line; seven are no address. */
	assert_string_equal(ip_scan(&f, "a 2001:0db8:0000:0000:0000:0000:0000:0001\n"
				    "b 2001:db8:1:0:0:0:0:9\nc 2001:db8:1:0:0:0:9 d 2001:db8::",
				    o, sizeof(o)),
			    "v6host=2001:0db8:0000:0000:0000:0000:0000:0001 v6b=2001:db8:1:0:0:0:0:9 "
			    "v6net=2001:db8::");
	ip_free(&f);
}

/* Under a hit limit the first hits of the text are kept: the addresses,
 * found beside the engine, take their place among the engine's hits. */
static void test_ip_text_limit(void **state)
{
	(void)state;
	struct ipfx f;
	char o[512];
	ip_build(&f);
	f.hits.limit = 3;
	f.hits.dropped = 0;
	assert_string_equal(ip_scan(&f, "a needle\nb 10.1.2.3 needle\nc 10.1.9.9 needle\n", o,
				    sizeof(o)),
			    "lit=needle host=10.1.2.3 lit=needle");
	assert_int_equal(f.hits.dropped, 2);
	f.hits.limit = 0;
	ip_free(&f);

	/* A tie at one end offset: the literal "3.4" ends where the address
	 * does, and comes first, as the engine gave them when it found both. */
	memset(&f, 0, sizeof(f));
	assert_int_equal(pack_create_adhoc("tie", &f.p), CS_OK);
	add(f.p, "lit", IND_LITERAL, "3.4");
	add(f.p, "host", IND_IP, "1.2.3.4");
	ip_seal(&f);
	f.hits.limit = 1;
	assert_string_equal(ip_scan(&f, "x 1.2.3.4 y", o, sizeof(o)), "lit=3.4");
	f.hits.limit = 0;
	assert_string_equal(ip_scan(&f, "x 1.2.3.4 y", o, sizeof(o)), "host=1.2.3.4 lit=3.4");
	ip_free(&f);
}

struct ip_got {
	struct matcher *m;
	char ids[128];
};

static void ip_collect(void *user, uint32_t ind)
{
	struct ip_got *g = user;
	size_t n = strlen(g->ids);
	snprintf(g->ids + n, sizeof(g->ids) - n, "%s%s", n ? " " : "",
		 matcher_get(g->m, ind)->ind->id);
}

static void test_ip_packet(void **state)
{
	(void)state;
	struct ipfx f;
	ip_build(&f);
	struct ip_got g = {.m = f.m};
	const uint8_t a[4] = {10, 1, 2, 3}, b[4] = {10, 9, 9, 9}, c[4] = {11, 0, 0, 1};
	assert_int_equal(matcher_match_ip(f.m, 4, a, ip_collect, &g), 1);
	assert_string_equal(g.ids, "host");
	g.ids[0] = '\0';
	assert_int_equal(matcher_match_ip(f.m, 4, b, ip_collect, &g), 1);
	assert_string_equal(g.ids, "net8");
	assert_int_equal(matcher_match_ip(f.m, 4, c, ip_collect, &g), 0);
	uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0xff};
	g.ids[0] = '\0';
	assert_int_equal(matcher_match_ip(f.m, 6, v6, ip_collect, &g), 1);
	assert_string_equal(g.ids, "v6b");
	v6[5] = 2;
	g.ids[0] = '\0';
	assert_int_equal(matcher_match_ip(f.m, 6, v6, ip_collect, &g), 1);
	assert_string_equal(g.ids, "v6net");
	assert_int_equal(matcher_match_ip(f.m, 5, v6, ip_collect, &g), 0);
	ip_free(&f);
}

/* Many candidates found beside the engine (digests, IPv4, IPv6: more of
 * each than the searches queue ahead) among the engine's hits: all come in
 * text order, and under every hit limit the first hits are kept. */
static void test_side_order(void **state)
{
	(void)state;
	static const char *const md5 = "0123456789abcdef0123456789abcdef";
	struct ipfx f;
	memset(&f, 0, sizeof(f));
	assert_int_equal(pack_create_adhoc("side", &f.p), CS_OK);
	add(f.p, "lit", IND_LITERAL, "needle");
	add(f.p, "v4", IND_IP, "10.0.0.0/8");
	add(f.p, "v6", IND_IP, "2001:db8::/32");
	add(f.p, "md5", IND_MD5, md5);
	ip_seal(&f);

	char text[8192], want[16384];
	size_t t = 0, w = 0;
	for (int line = 0; line < 40; line++) {
		/* the four kinds in a rotating order, with unlisted addresses between */
		for (int k = 0; k < 4; k++) {
			switch ((line + k) % 4) {
			case 0:
				t += (size_t)snprintf(text + t, sizeof(text) - t, "h=%s 11.0.0.%d ",
						      md5, line);
				w += (size_t)snprintf(want + w, sizeof(want) - w, "md5=%s ", md5);
				break;
			case 1:
				t += (size_t)snprintf(text + t, sizeof(text) - t, "10.%d.0.1 ",
						      line);
				w += (size_t)snprintf(want + w, sizeof(want) - w, "v4=10.%d.0.1 ",
						      line);
				break;
			case 2:
				t += (size_t)snprintf(text + t, sizeof(text) - t,
						      "2001:db8::%x 2001:db9::1 ", line);
				w += (size_t)snprintf(want + w, sizeof(want) - w,
						      "v6=2001:db8::%x ", line);
				break;
			default:
				t += (size_t)snprintf(text + t, sizeof(text) - t, "needle ");
				w += (size_t)snprintf(want + w, sizeof(want) - w, "lit=needle ");
			}
		}
		text[t++] = '\n';
		text[t] = '\0';
	}
	assert_true(t < sizeof(text) - 1 && w < sizeof(want) - 1);
	want[w - 1] = '\0'; /* the last space */

	char got[16384];
	assert_string_equal(ip_scan(&f, text, got, sizeof(got)), want);
	size_t total = f.hits.n;
	assert_int_equal(total, 160);
	for (size_t limit = 1; limit < total; limit += 7) {
		f.hits.limit = limit;
		f.hits.dropped = 0;
		ip_scan(&f, text, got, sizeof(got));
		assert_int_equal(f.hits.n, limit);
		assert_int_equal(f.hits.dropped, total - limit);
		/* the first `limit` entries of want */
		size_t cut = 0;
		for (size_t i = 0; i < limit; i++)
			cut += strcspn(want + cut, " ") + 1;
		assert_int_equal(strlen(got), cut - 1);
		assert_memory_equal(got, want, cut - 1);
	}
	f.hits.limit = 0;
	ip_free(&f);
}

int main(void)
{
	const struct CMUnitTest ip_tests[] = {
		cmocka_unit_test(test_ip_text),
		cmocka_unit_test(test_ip_text_limit),
		cmocka_unit_test(test_side_order),
		cmocka_unit_test(test_ip_packet),
	};
	if (cmocka_run_group_tests(ip_tests, NULL, NULL) != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_listed_twice),
		cmocka_unit_test(test_differential),
		cmocka_unit_test(test_pieces),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_field),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
