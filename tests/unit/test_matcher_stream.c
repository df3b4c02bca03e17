/* Stream matching across segment boundaries, and field matching (domains
 * with subdomain semantics, URLs, digests), against a small ad-hoc pack. */
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

enum { I_LIT = 0, I_DOM, I_URL, I_MD5, I_RE, I_LONGURL, I_COUNT };

/* Longer than the tail a stream keeps (MATCHER_STREAM_TAIL). */
#define LONG_URL                                                                               \
	"https://files.bad.test/d/0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab" \
	"cdef0123456789abcdef0123456789abcdef/Invoice_2026.zip"


struct fx {
	struct pack *pack;
	struct matcher *m;
	struct matcher_scratch *s;
};

struct got {
	struct matcher_stream_hit h[16];
	char text[16][MATCHER_STREAM_TEXT + 1];
	char before[16][64]; /* h[i].before may point into the stream's tail */
	char after[16][64];  /* h[i].after into a buffer of the callback's */
	size_t n;
};

static int setup_flags(void **state, unsigned build_flags)
{
	static const char *ids[] = {"lit", "dom", "url", "md5", "re", "longurl"};
	static const enum ind_type types[] = {IND_LITERAL, IND_DOMAIN, IND_URL,
					      IND_MD5,     IND_REGEX,  IND_URL};
	static const char *vals[] = {"SPLITSECRET", "evil.example", "http://bad.test/x/y",
				     "0123456789abcdef0123456789abcdef", "wal+et[0-9]{3}", LONG_URL};
	struct fx *f = calloc(1, sizeof(*f));
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(pack_create_adhoc("-e", &f->pack), CS_OK);
	for (int i = 0; i < I_COUNT; i++)
		assert_int_equal(pack_add(f->pack, ids[i], types[i], 0, vals[i], strlen(vals[i]),
					  (uint32_t)i + 1, &d), CS_OK);
	pack_seal(f->pack);
	assert_int_equal(matcher_build_ex(&f->pack, 1, NULL, NULL, build_flags, &f->m, &d), CS_OK);
	assert_int_equal(matcher_scratch_create(f->m, &f->s), CS_OK);
	assert_int_equal(matcher_stream_prepare(f->m, f->s, &d), CS_OK);
	assert_true(matcher_stream_size(f->m) > 0);
	assert_int_equal(matcher_stream_patterns(f->m), I_COUNT);
	if (build_flags & MATCHER_BUILD_URLSET) {
		struct matcher_stats st;
		matcher_get_stats(f->m, &st);
		assert_int_equal(st.set_entries, 3); /* both URLs and the md5 */
	}
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_flags(state, 0);
}

/* The domain held by the suffix set: the same answers in streams and fields. */
static int setup_domset(void **state)
{
	return setup_flags(state, MATCHER_BUILD_DOMSET);
}

/* The URLs held by the URL set: found from their last bytes in streams too. */
static int setup_urlset(void **state)
{
	return setup_flags(state, MATCHER_BUILD_URLSET);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	matcher_scratch_destroy(f->s);
	matcher_destroy(f->m);
	pack_destroy(f->pack);
	free(f);
	return 0;
}

static void collect(void *user, const struct matcher_stream_hit *h)
{
	struct got *g = user;
	assert_true(g->n < 16);
	g->h[g->n] = *h;
	memcpy(g->text[g->n], h->text, h->text_len);
	g->text[g->n][h->text_len] = '\0';
	assert_true(h->before_len < sizeof(g->before[0]));
	if (h->before_len)
		memcpy(g->before[g->n], h->before, h->before_len);
	g->before[g->n][h->before_len] = '\0';
	assert_true(h->after_len < sizeof(g->after[0]));
	if (h->after_len)
		memcpy(g->after[g->n], h->after, h->after_len);
	g->after[g->n][h->after_len] = '\0';
	g->n++;
}

/* Feed pieces as packets numbered from first_pkt; end the stream. */
static void feed(struct fx *f, struct got *g, const char *const *pieces, size_t n,
		 uint64_t first_pkt)
{
	struct matcher_stream ms;
	matcher_stream_init(&ms);
	uint64_t off = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(pieces[i]);
		assert_int_equal(matcher_stream_scan(f->m, f->s, &ms, (const uint8_t *)pieces[i], len,
						     off, first_pkt + i, 1000 * (first_pkt + i), 8,
						     collect, g),
				 CS_OK);
		off += len;
	}
	assert_int_equal(matcher_stream_end(f->m, f->s, &ms, collect, g), CS_OK);
	assert_false(matcher_stream_open(&ms));
}

static void test_split_two(void **state)
{
	struct fx *f = *state;
	struct got g = {0};
	const char *p[] = {"GET /a HTTP/1.1\r\nX: SPLIT", "SECRET tail\r\n"};
	feed(f, &g, p, 2, 7);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.h[0].ind, I_LIT);
	assert_int_equal(g.h[0].start, 20);
	assert_int_equal(g.h[0].end, 31);
	assert_int_equal(g.h[0].pkt_first, 7);
	assert_int_equal(g.h[0].pkt_last, 8);
	assert_int_equal(g.h[0].ts_first, 7000);
	assert_string_equal(g.text[0], "SPLITSECRET");
	/* Context before from the tail of the first segment, after from the second. */
	assert_int_equal(g.h[0].before_len, 8);
	assert_string_equal(g.before[0], "1.1\r\nX: ");
	assert_int_equal(g.h[0].after_len, 7);
	assert_memory_equal(g.h[0].after, " tail\r\n", 7);
}

static void test_split_three(void **state)
{
	struct fx *f = *state;
	struct got g = {0};
	const char *p[] = {"xxSPL", "ITSEC", "RETyy", "and again SPLITSECRET"};
	feed(f, &g, p, 4, 1);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.h[0].pkt_first, 1);
	assert_int_equal(g.h[0].pkt_last, 3);
	assert_string_equal(g.text[0], "SPLITSECRET");
	assert_int_equal(g.h[1].pkt_first, 4);
	assert_int_equal(g.h[1].pkt_last, 4);
	assert_int_equal(g.h[1].start, 15 + 10);
}

static void test_gap_restarts(void **state)
{
	struct fx *f = *state;
	struct got g = {0};
	struct matcher_stream ms;
	matcher_stream_init(&ms);
	assert_int_equal(matcher_stream_scan(f->m, f->s, &ms, (const uint8_t *)"SPLIT", 5, 0, 1, 1,
					     8, collect, &g), CS_OK);
	/* Bytes 5..99 missing: the halves must not be joined. */
	assert_int_equal(matcher_stream_scan(f->m, f->s, &ms, (const uint8_t *)"SECRET", 6, 100, 2,
					     2, 8, collect, &g), CS_OK);
	assert_int_equal(matcher_stream_end(f->m, f->s, &ms, collect, &g), CS_OK);
	assert_int_equal(g.n, 0);
}

static void test_domain_boundary_in_stream(void **state)
{
	struct fx *f = *state;
	struct got g = {0};
	const char *p[] = {"see www.evil.exa", "mple now; notevil.example; evil.example.org"};
	feed(f, &g, p, 2, 1);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.h[0].ind, I_DOM);
	assert_int_equal(g.h[0].start, 8);
	/* A match ending exactly at the end of what has arrived is accepted. */
	struct got g2 = {0};
	const char *q[] = {"host evil.example"};
	feed(f, &g2, q, 1, 1);
	assert_int_equal(g2.n, 1);
	/* Judged at the stream's end, it keeps its context before. */
	assert_string_equal(g2.before[0], "host ");
}

/* Up to four segments and the number of hits they must give. */
struct split_case {
	const char *p[4];
	size_t hits;
};

static void expect_split_cases(struct fx *f, const struct split_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct got g = {0};
		size_t k = 0;
		while (k < 4 && cases[i].p[k])
			k++;
		feed(f, &g, cases[i].p, k, 1);
		if (g.n != cases[i].hits)
			fail_msg("case %zu (%s|%s...): %zu hits, want %zu", i, cases[i].p[0],
				 cases[i].p[1], g.n, cases[i].hits);
	}
}

/* A candidate ending in the last bytes of a segment is judged with the next
 * segment's bytes: a continuation there is no boundary. At the stream's end
 * it is one. A hit judged late keeps its context from the tail. */
static void test_boundary_after_segment_end(void **state)
{
	struct fx *f = *state;
	static const struct split_case cases[] = {
		{{"see evil.example", ".org then"}, 0},
		{{"see evil.example", "munity"}, 0},
		{{"see evil.exampl", "e.org"}, 0},
		{{"see evil.example", " now"}, 1},
		{{"see evil.exampl", "e/x"}, 1},
		{{"h=0123456789abcdef0123456789abcdef", "0 tail"}, 0},
		{{"h=0123456789abcdef0123456789abcde", "f0 tail"}, 0},
		{{"h=0123456789abcdef0123456789abcdef", "; tail"}, 1},
		/* A one-byte segment after it: it waits for the byte after that. */
		{{"see evil.example", ".", "au", " ok"}, 0},
		{{"see evil.example", ".", " ", "ok"}, 1},
	};
	expect_split_cases(f, cases, sizeof(cases) / sizeof(cases[0]));
	/* Judged a segment later after ending one byte before the cut: its
	 * context after runs from the tail into the next segment. */
	struct got ga = {0};
	const char *pa[] = {"see evil.example,", " now"};
	feed(f, &ga, pa, 2, 1);
	assert_int_equal(ga.n, 1);
	assert_string_equal(ga.after[0], ", now");
	struct got g = {0};
	const char *p[] = {"see evil.example", " now"};
	feed(f, &g, p, 2, 5);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.h[0].ind, I_DOM);
	assert_string_equal(g.text[0], "evil.example");
	assert_int_equal(g.h[0].start, 4);
	assert_int_equal(g.h[0].pkt_first, 5);
	assert_int_equal(g.h[0].before_len, 4);
	assert_string_equal(g.before[0], "see ");
	assert_int_equal(g.h[0].after_len, 4);
	assert_memory_equal(g.h[0].after, " now", 4);
}

/* The same for addresses, which the address set confirms. */
static void test_ip_after_segment_end(void **state)
{
	(void)state;
	struct pack *pack;
	struct matcher *m;
	struct matcher_scratch *scr;
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(pack_create_adhoc("-e", &pack), CS_OK);
	assert_int_equal(pack_add(pack, "ip", IND_IP, 0, "10.0.0.1", 8, 1, &d), CS_OK);
	pack_seal(pack);
	assert_int_equal(matcher_build_ex(&pack, 1, NULL, NULL, 0, &m, &d), CS_OK);
	assert_int_equal(matcher_scratch_create(m, &scr), CS_OK);
	assert_int_equal(matcher_stream_prepare(m, scr, &d), CS_OK);
	struct fx fx = {pack, m, scr};
	static const struct split_case cases[] = {
		{{"to 10.0.0.1", "23 ok"}, 0},
		{{"to 10.0.0.", "12 ok"}, 0},
		{{"to 10.0.0.1", ".5 ok"}, 0},
		{{"to 10.0.0.1", " ok"}, 1},
		{{"to 10.0.0.1", ":443"}, 1},
		{{"to 10.0.0.", "1"}, 1},
		/* One-byte segments after it. */
		{{"to 10.0.0.1", "2", "3", " ok"}, 0},
		{{"to 10.0.0.1", " ", "2", "3"}, 1},
	};
	expect_split_cases(&fx, cases, sizeof(cases) / sizeof(cases[0]));
	matcher_scratch_destroy(scr);
	matcher_destroy(m);
	pack_destroy(pack);
}

static void test_regex_som(void **state)
{
	struct fx *f = *state;
	struct got g = {0};
	const char *p[] = {"pay to wal", "lllet123 now"};
	feed(f, &g, p, 2, 3);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.h[0].ind, I_RE);
	assert_string_equal(g.text[0], "wallllet123");
	assert_int_equal(g.h[0].pkt_first, 3);
	assert_int_equal(g.h[0].pkt_last, 4);
}

static void test_url_split(void **state)
{
	struct fx *f = *state;
	struct got g = {0};
	/* Host in another case, split twice; then one that goes on ("/y2"). */
	const char *p[] = {"<a href=\"HTTP://Bad.", "Test/x", "/y\">x</a> http://bad.test/x/y2 "};
	feed(f, &g, p, 3, 4);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.h[0].ind, I_URL);
	assert_int_equal(g.h[0].start, 9);
	assert_int_equal(g.h[0].end, 28);
	assert_int_equal(g.h[0].pkt_first, 4);
	assert_int_equal(g.h[0].pkt_last, 6);
	assert_string_equal(g.text[0], "HTTP://Bad.Test/x/y");
	/* The path is exact. */
	struct got g2 = {0};
	const char *q[] = {"http://bad.test/X/y "};
	feed(f, &g2, q, 1, 1);
	assert_int_equal(g2.n, 0);
}

static void test_long_url_split(void **state)
{
	struct fx *f = *state;
	/* Split after 132 of its bytes: more than the kept tail lies before the cut. */
	assert_true(strlen(LONG_URL) > 132 && 132 > MATCHER_STREAM_TAIL);
	char a[256], b[128];
	snprintf(a, sizeof(a), "GET x <%.132s", LONG_URL);
	snprintf(b, sizeof(b), "%s> done", LONG_URL + 132);
	for (int pass = 0; pass < 2; pass++) {
		struct got g = {0};
		const char *p[] = {a, b};
		if (pass == 0) {
			feed(f, &g, p, 2, 1);
		} else {
			/* Whole in one segment, after a first one. */
			char c[320];
			snprintf(c, sizeof(c), "<%s>", LONG_URL);
			const char *q[] = {"first packet ", c};
			feed(f, &g, q, 2, 1);
		}
		assert_int_equal(g.n, 1);
		assert_int_equal(g.h[0].ind, I_LONGURL);
		assert_int_equal(g.h[0].end - g.h[0].start, strlen(LONG_URL));
		assert_int_equal(g.h[0].pkt_first, 1 + (uint64_t)pass);
		assert_int_equal(g.h[0].pkt_last, 2);
	}
}

static size_t field(struct fx *f, const char *text, unsigned mask, struct matcher_hits *h)
{
	h->n = 0;
	assert_int_equal(matcher_scan_field(f->m, f->s, (const uint8_t *)text, strlen(text), mask, h,
					    NULL), CS_OK);
	return h->n;
}

static void test_fields(void **state)
{
	struct fx *f = *state;
	struct matcher_hits h = {0};
	unsigned dom = 1u << IND_DOMAIN;
	assert_int_equal(field(f, "evil.example", dom, &h), 1);
	assert_int_equal(field(f, "cdn.x.evil.example", dom, &h), 1);
	assert_int_equal(h.v[0].start, 6);
	assert_int_equal(field(f, "evil.example:8080", dom, &h), 1);
	assert_int_equal(field(f, "notevil.example", dom, &h), 0);
	assert_int_equal(field(f, "evil.example.org", dom, &h), 0);
	/* The type mask drops other kinds of hit in the same text. */
	assert_int_equal(field(f, "http://bad.test/x/y", dom, &h), 0);
	assert_int_equal(field(f, "http://bad.test/x/y", 1u << IND_URL, &h), 1);
	assert_int_equal(field(f, "http://bad.test/x/yz", 1u << IND_URL, &h), 0);
	assert_int_equal(field(f, "hxxp:http://BAD.test/x/y?q=1", 1u << IND_URL, &h), 1);
	assert_int_equal(h.v[0].start, 5);
	assert_int_equal(field(f, LONG_URL, 1u << IND_URL, &h), 1);
	assert_int_equal(h.v[0].ind, I_LONGURL);
	assert_int_equal(field(f, "0123456789abcdef0123456789abcdef", 1u << IND_MD5, &h), 1);
	assert_int_equal(field(f, "0123456789abcdef0123456789abcdef", 1u << IND_SHA256, &h), 0);
	matcher_hits_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_two),
		cmocka_unit_test(test_split_three),
		cmocka_unit_test(test_gap_restarts),
		cmocka_unit_test(test_domain_boundary_in_stream),
		cmocka_unit_test(test_boundary_after_segment_end),
		cmocka_unit_test(test_ip_after_segment_end),
		cmocka_unit_test(test_regex_som),
		cmocka_unit_test(test_url_split),
		cmocka_unit_test(test_long_url_split),
		cmocka_unit_test(test_fields),
	};
	return cmocka_run_group_tests_name("literal domains", tests, setup, teardown) +
	       cmocka_run_group_tests_name("domain suffix set", tests, setup_domset, teardown) +
	       cmocka_run_group_tests_name("URL set", tests, setup_urlset, teardown);
}
