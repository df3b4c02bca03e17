/* Unit tests for the compiled matcher: boundaries of each indicator type,
 * regexes kept within a line, hit ordering and counting, skip_prefix, and a
 * differential check of literal hits against a naive per-line search. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cybersieve/matcher.h"
#include "cybersieve/pack.h"
#include "match/matcher_int.h"

struct ind_spec {
	enum ind_type type;
	unsigned flags;
	const char *value;
};

struct fixture {
	struct pack *pack;
	struct matcher *m;
	struct matcher_scratch *s;
	struct matcher_hits hits;
};

static void fx_build(struct fixture *fx, const struct ind_spec *spec, size_t n)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	memset(fx, 0, sizeof(*fx));
	assert_int_equal(pack_create_adhoc("-e", &fx->pack), CS_OK);
	for (size_t i = 0; i < n; i++) {
		char id[32];
		snprintf(id, sizeof(id), "i%zu", i);
		enum cs_err e = pack_add(fx->pack, id, spec[i].type, spec[i].flags, spec[i].value,
					 strlen(spec[i].value), 0, &d);
		if (e != CS_OK)
			fail_msg("pack_add %s: %s", spec[i].value, d.msg);
	}
	pack_seal(fx->pack);
	if (matcher_build(&fx->pack, 1, NULL, NULL, &fx->m, &d) != CS_OK)
		fail_msg("matcher_build: %s", d.msg);
	assert_int_equal(matcher_count(fx->m), n);
	assert_int_equal(matcher_scratch_create(fx->m, &fx->s), CS_OK);
}

static void fx_free(struct fixture *fx)
{
	matcher_hits_fini(&fx->hits);
	matcher_scratch_destroy(fx->s);
	matcher_destroy(fx->m);
	pack_destroy(fx->pack);
}

static size_t fx_scan_n(struct fixture *fx, const char *text, size_t len, size_t skip)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	fx->hits.n = 0;
	if (matcher_scan(fx->m, fx->s, (const uint8_t *)text, len, skip, &fx->hits, &d) != CS_OK)
		fail_msg("scan: %s", d.msg);
	/* Ordering and reduction hold for every scan. */
	for (size_t i = 1; i < fx->hits.n; i++) {
		const struct matcher_hit *a = &fx->hits.v[i - 1], *b = &fx->hits.v[i];
		assert_true(a->line < b->line || (a->line == b->line && a->start <= b->start));
		for (size_t k = 0; k < i; k++)
			assert_false(fx->hits.v[k].line == b->line && fx->hits.v[k].ind == b->ind);
	}
	for (size_t i = 0; i < fx->hits.n; i++) {
		const struct matcher_hit *h = &fx->hits.v[i];
		assert_true(h->start < h->end && h->end <= len);
		assert_null(memchr(text + h->start, '\n', h->end - h->start));
		size_t nl = 0;
		for (size_t k = 0; k < h->start; k++)
			nl += text[k] == '\n';
		assert_int_equal(h->line, nl);
		assert_true(h->count >= 1);
	}
	/* The newlines counted for the lines are handed on: exact, and (with
	 * hits) up to the last hit's line, so a caller's total need not count
	 * that part again. */
	size_t nl_before = 0;
	assert_true(fx->hits.nl_pos <= len);
	for (size_t k = 0; k < fx->hits.nl_pos; k++)
		nl_before += text[k] == '\n';
	assert_int_equal(fx->hits.nl_count, nl_before);
	if (fx->hits.n > 0)
		assert_int_equal(fx->hits.nl_count, fx->hits.v[fx->hits.n - 1].line);
	return fx->hits.n;
}

static size_t fx_scan(struct fixture *fx, const char *text)
{
	return fx_scan_n(fx, text, strlen(text), 0);
}

/* One line, one indicator: is there a hit, and where. */
static void expect_one(const struct ind_spec *spec, const char *text, bool hit, size_t start)
{
	struct fixture fx;
	fx_build(&fx, spec, 1);
	size_t n = fx_scan(&fx, text);
	if (n != (hit ? 1u : 0u))
		fail_msg("'%s' on \"%s\": %zu hits, want %d", spec->value, text, n, hit);
	if (hit && fx.hits.v[0].start != start)
		fail_msg("'%s' on \"%s\": start %llu want %zu", spec->value, text,
			 (unsigned long long)fx.hits.v[0].start, start);
	fx_free(&fx);
}

static void test_domain_boundaries(void **state)
{
	(void)state;
	static const struct ind_spec dom = {IND_DOMAIN, 0, "evil.com"};
	expect_one(&dom, "evil.com", true, 0);
	expect_one(&dom, "go to x.evil.com now", true, 8);
	expect_one(&dom, "EVIL.COM", true, 0);
	expect_one(&dom, "Evil.Com/path?q=1", true, 0);
	expect_one(&dom, "http://evil.com:8080/", true, 7);
	expect_one(&dom, "see evil.com.", true, 4);
	expect_one(&dom, "see evil.com.\nnext", true, 4);
	expect_one(&dom, "see evil.com. Next", true, 4);
	expect_one(&dom, "user@evil.com", true, 5);
	expect_one(&dom, "under_score.evil.com", true, 12);
	expect_one(&dom, "(evil.com)", true, 1);
	expect_one(&dom, "notevil.com", false, 0);
	expect_one(&dom, "x_evil.com", false, 0);
	expect_one(&dom, "-evil.com", false, 0);
	expect_one(&dom, "evil.community", false, 0);
	expect_one(&dom, "evil.com.au", false, 0);
	expect_one(&dom, "evil.com-x", false, 0);
	expect_one(&dom, "evil.com_x", false, 0);
	expect_one(&dom, "evil.co", false, 0);
	expect_one(&dom, "evil.comevil.com", false, 0);
	/* A bad occurrence before a good one on the same line must not hide it. */
	expect_one(&dom, "evil.com.au and evil.com", true, 16);
}

static void test_hex_tokens(void **state)
{
	(void)state;
	static const struct ind_spec md5 = {IND_MD5, 0, "d41d8cd98f00b204e9800998ecf8427e"};
	expect_one(&md5, "D41D8CD98F00B204E9800998ECF8427E", true, 0);
	expect_one(&md5, "md5=d41d8cd98f00b204e9800998ecf8427e;", true, 4);
	expect_one(&md5, "0d41d8cd98f00b204e9800998ecf8427e", false, 0);
	expect_one(&md5, "d41d8cd98f00b204e9800998ecf8427e0", false, 0);
	expect_one(&md5, "aaaad41d8cd98f00b204e9800998ecf8427eaaaa", false, 0);
	expect_one(&md5, "gd41d8cd98f00b204e9800998ecf8427ez", true, 1);
	expect_one(&md5, "Fd41d8cd98f00b204e9800998ecf8427e", false, 0);
	static const struct ind_spec sha1 = {IND_SHA1, 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709"};
	expect_one(&sha1, "x:DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", true, 2);
	expect_one(&sha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709a", false, 0);
}

static void test_url_case(void **state)
{
	(void)state;
	static const struct ind_spec url = {IND_URL, 0, "https://Pay.Example.COM/Claim?ID=AbC"};
	expect_one(&url, "get HTTPS://PAY.EXAMPLE.COM/Claim?ID=AbC now", true, 4);
	expect_one(&url, "https://pay.example.com/Claim?ID=AbC", true, 0);
	expect_one(&url, "https://pay.example.com/claim?id=abc", false, 0);
	expect_one(&url, "https://pay.example.com/Claim?ID=ABC", false, 0);
	expect_one(&url, "https://pay.example.com/Claim?ID=AbCd", false, 0);
	expect_one(&url, "https://pay.example.com/Claim?ID=AbC&x=1", true, 0);
	expect_one(&url, "\"https://pay.example.com/Claim?ID=AbC\"", true, 1);
	/* One period after it ends a sentence; a second, or a letter, goes on. */
	expect_one(&url, "see https://pay.example.com/Claim?ID=AbC. Then", true, 4);
	expect_one(&url, "see https://pay.example.com/Claim?ID=AbC.", true, 4);
	expect_one(&url, "see https://pay.example.com/Claim?ID=AbC..", false, 0);
	expect_one(&url, "see https://pay.example.com/Claim?ID=AbC.x", false, 0);
}

static void test_email_boundaries(void **state)
{
	(void)state;
	static const struct ind_spec em = {IND_EMAIL, 0, "Agent.Smith@Example.ORG"};
	expect_one(&em, "agent.smith@example.org", true, 0);
	expect_one(&em, "To: <AGENT.SMITH@EXAMPLE.ORG>", true, 5);
	expect_one(&em, "mailto:agent.smith@example.org", true, 7);
	expect_one(&em, "xagent.smith@example.org", false, 0);
	expect_one(&em, "x.agent.smith@example.org", false, 0);
	expect_one(&em, "x+agent.smith@example.org", false, 0);
	expect_one(&em, "agent.smith@example.org.uk", false, 0);
	expect_one(&em, "agent.smith@example.organic", false, 0);
	expect_one(&em, "agent.smith@example.org.", true, 0);
	expect_one(&em, "agent.smith@example.org, b", true, 0);
}

static void test_literal_case(void **state)
{
	(void)state;
	static const struct ind_spec exact = {IND_LITERAL, 0, "send the fee"};
	static const struct ind_spec nocase = {IND_LITERAL, IND_F_CASELESS, "send the fee"};
	expect_one(&exact, "please send the fee", true, 7);
	expect_one(&exact, "please Send The Fee", false, 0);
	expect_one(&nocase, "please SEND the FEE", true, 7);
	/* Literals have no word boundaries. */
	expect_one(&exact, "xsend the feex", true, 1);
	expect_one(&exact, "send the\nfee", false, 0);
}

static void test_regex_stays_on_line(void **state)
{
	(void)state;
	static const struct ind_spec re = {IND_REGEX, 0, "a\\s+b"};
	struct fixture fx;
	fx_build(&fx, &re, 1);
	assert_int_equal(fx_scan(&fx, "a\nb"), 0);
	assert_int_equal(fx_scan(&fx, "a\n\n\nb\n"), 0);
	assert_int_equal(fx_scan(&fx, "a \nx\na  b"), 1);
	assert_int_equal(fx.hits.v[0].line, 2);
	assert_int_equal(fx.hits.v[0].start, 5);
	assert_int_equal(fx.hits.v[0].end, 9);
	/* A hit that crosses and one that does not, on the same line. */
	assert_int_equal(fx_scan(&fx, "q a\n b a b\n"), 1);
	assert_int_equal(fx.hits.v[0].line, 1);
	assert_int_equal(fx.hits.v[0].start, 7);
	assert_int_equal(fx.hits.v[0].count, 1);
	fx_free(&fx);

	/* '.' with dotall may match anything but still not leave the line. */
	static const struct ind_spec dot = {IND_REGEX, IND_F_DOTALL, "x.+y"};
	fx_build(&fx, &dot, 1);
	assert_int_equal(fx_scan(&fx, "x\ny\n"), 0);
	assert_int_equal(fx_scan(&fx, "x\nxzy\n"), 1);
	assert_int_equal(fx.hits.v[0].line, 1);
	assert_int_equal(fx.hits.v[0].start, 2);
	fx_free(&fx);
}

/* Dotall regexes with an open end ("BEGIN.*") report every end after their
 * start, each crossing a newline, so each asks for a line re-check. Two of
 * them, their reports interleaved, over 4 MiB: the re-check list stays within
 * its cap (it held one entry per report, 8 million, and 600 MB for a 16 MiB
 * chunk), and each still matches on its own line only. */
static void test_regex_recheck_bounded(void **state)
{
	(void)state;
	static const struct ind_spec re[] = {
		{IND_REGEX, IND_F_DOTALL, "BEGIN.*"},
		{IND_REGEX, IND_F_DOTALL, "ZED.*"},
	};
	struct fixture fx;
	fx_build(&fx, re, 2);
	size_t n = (size_t)4 << 20, len = 0;
	char *t = malloc(n);
	assert_non_null(t);
	len += (size_t)snprintf(t, n, "a BEGIN b\nZED c\n");
	while (len + 100 <= n) {
		memset(t + len, 'x', 99);
		t[len + 99] = '\n';
		len += 100;
	}
	assert_int_equal(fx_scan_n(&fx, t, len, 0), 2);
	assert_int_equal(fx.hits.v[0].line, 0);
	assert_int_equal(fx.hits.v[0].start, 2);
	assert_int_equal(fx.hits.v[1].line, 1);
	assert_int_equal(fx.hits.v[1].start, 10);
	if (fx.s->cap_rc > ((size_t)1 << 18))
		fail_msg("re-check list grew to %zu entries", fx.s->cap_rc);
	free(t);
	fx_free(&fx);
}

static void test_regex_line_anchor(void **state)
{
	(void)state;
	static const struct ind_spec re = {IND_REGEX, 0, "^foo"};
	struct fixture fx;
	fx_build(&fx, &re, 1);
	assert_int_equal(fx_scan(&fx, "xfoo\nfoo bar\n foo\nfoo"), 2);
	assert_int_equal(fx.hits.v[0].line, 1);
	assert_int_equal(fx.hits.v[0].start, 5);
	assert_int_equal(fx.hits.v[1].line, 3);
	assert_int_equal(fx.hits.v[1].start, 18);
	fx_free(&fx);
	static const struct ind_spec re2 = {IND_REGEX, IND_F_CASELESS, "bar$"};
	fx_build(&fx, &re2, 1);
	assert_int_equal(fx_scan(&fx, "BAR\nbarx\nxBaR"), 2);
	assert_int_equal(fx.hits.v[0].line, 0);
	assert_int_equal(fx.hits.v[1].line, 2);
	assert_int_equal(fx.hits.v[1].start, 10);
	fx_free(&fx);
}

static void test_order_and_count(void **state)
{
	(void)state;
	static const struct ind_spec spec[] = {
		{IND_DOMAIN, 0, "evil.com"},
		{IND_LITERAL, 0, "fee"},
		{IND_MD5, 0, "d41d8cd98f00b204e9800998ecf8427e"},
	};
	struct fixture fx;
	fx_build(&fx, spec, 3);
	const char *text = "fee evil.com x.evil.com fee evil.com.au EVIL.com\n"
			   "\n"
			   "d41d8cd98f00b204e9800998ecf8427e evil.com\n"
			   "feefee";
	assert_int_equal(fx_scan(&fx, text), 5);
	struct {
		uint64_t line, start;
		uint32_t ind, count;
	} want[] = {
		{0, 0, 1, 2}, {0, 4, 0, 3}, {2, 50, 2, 1}, {2, 83, 0, 1}, {3, 92, 1, 2},
	};
	for (size_t i = 0; i < 5; i++) {
		const struct matcher_hit *h = &fx.hits.v[i];
		if (h->line != want[i].line || h->start != want[i].start || h->ind != want[i].ind ||
		    h->count != want[i].count)
			fail_msg("hit %zu: line %llu start %llu ind %u count %u", i,
				 (unsigned long long)h->line, (unsigned long long)h->start, h->ind,
				 h->count);
	}
	/* Hits are appended: a second scan into the same list keeps the first. */
	size_t before = fx.hits.n;
	struct cs_diag d;
	assert_int_equal(matcher_scan(fx.m, fx.s, (const uint8_t *)"fee", 3, 0, &fx.hits, &d), CS_OK);
	assert_int_equal(fx.hits.n, before + 1);
	assert_int_equal(fx.hits.v[before].start, 0);
	assert_int_equal(fx.hits.v[0].start, 0);
	assert_int_equal(fx.hits.v[1].count, 3);
	assert_int_equal(matcher_max_fixed_len(fx.m), 32);
	assert_ptr_equal(matcher_get(fx.m, 1)->ind, &fx.pack->ind[1]);
	assert_null(matcher_get(fx.m, 3));
	fx_free(&fx);
}

/* An empty chunk has no hits; NULL with length 0 is allowed by the contract. */
static void test_empty_input(void **state)
{
	(void)state;
	static const struct ind_spec spec[] = {{IND_LITERAL, 0, "fee"}};
	struct fixture fx;
	fx_build(&fx, spec, 1);
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(matcher_scan(fx.m, fx.s, (const uint8_t *)"", 0, 0, &fx.hits, &d), CS_OK);
	assert_int_equal(fx.hits.n, 0);
	assert_int_equal(matcher_scan(fx.m, fx.s, NULL, 0, 0, &fx.hits, &d), CS_OK);
	assert_int_equal(fx.hits.n, 0);
	assert_int_equal(matcher_scan(fx.m, fx.s, NULL, 1, 0, &fx.hits, &d), CS_ERR_INVALID);
	fx_free(&fx);
}

static void test_skip_prefix(void **state)
{
	(void)state;
	static const struct ind_spec spec[] = {{IND_DOMAIN, 0, "evil.com"}};
	struct fixture fx;
	fx_build(&fx, spec, 1);
	const char *t = "evil.com and evil.com";
	size_t n = strlen(t);
	assert_int_equal(fx_scan_n(&fx, t, n, 0), 1);
	assert_int_equal(fx.hits.v[0].count, 2);
	assert_int_equal(fx.hits.v[0].start, 0);
	assert_int_equal(fx_scan_n(&fx, t, n, 7), 1);
	assert_int_equal(fx.hits.v[0].count, 2);
	/* The first hit ends at 8: at or before the prefix end it is ignored. */
	assert_int_equal(fx_scan_n(&fx, t, n, 8), 1);
	assert_int_equal(fx.hits.v[0].count, 1);
	assert_int_equal(fx.hits.v[0].start, 13);
	assert_int_equal(fx_scan_n(&fx, t, n, 12), 1);
	assert_int_equal(fx.hits.v[0].start, 13);
	assert_int_equal(fx_scan_n(&fx, t, n, 20), 1);
	assert_int_equal(fx_scan_n(&fx, t, n, 21), 0);
	fx_free(&fx);
}

static void test_hits_limit(void **state)
{
	(void)state;
	static const struct ind_spec spec[] = {{IND_LITERAL, 0, "x"}};
	struct fixture fx;
	fx_build(&fx, spec, 1);
	fx.hits.limit = 3;
	const char *t = "x\nx\nx\nx\nx\n";
	struct cs_diag d;
	assert_int_equal(matcher_scan(fx.m, fx.s, (const uint8_t *)t, strlen(t), 0, &fx.hits, &d),
			 CS_OK);
	assert_int_equal(fx.hits.n, 3);
	assert_int_equal(fx.hits.dropped, 2);
	assert_int_equal(fx.hits.v[2].line, 2);
	fx_free(&fx);
}

/* ---- differential: literals against a naive per-line search ---- */

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct ref_hit {
	uint64_t line, start;
	uint32_t ind, count;
};

static bool eq_at(const char *a, const char *b, size_t n, bool caseless)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (caseless ? tolower(x) != tolower(y) : x != y)
			return false;
	}
	return true;
}

/* Reference: for each line and each literal, first start and number of
 * (possibly overlapping) occurrences. */
static size_t ref_search(const char *t, size_t n, const struct ind_spec *spec, size_t n_spec,
			 struct ref_hit *out)
{
	size_t k = 0;
	uint64_t line = 0;
	for (size_t ls = 0; ls <= n;) {
		const char *nl = memchr(t + ls, '\n', n - ls);
		size_t le = nl ? (size_t)(nl - t) : n;
		size_t first_of_line = k;
		for (size_t ind = 0; ind < n_spec; ind++) {
			size_t vl = strlen(spec[ind].value);
			uint32_t count = 0;
			size_t first = 0;
			for (size_t p = ls; p + vl <= le; p++) {
				if (!eq_at(t + p, spec[ind].value, vl, spec[ind].flags & IND_F_CASELESS))
					continue;
				if (count++ == 0)
					first = p;
			}
			if (count)
				out[k++] = (struct ref_hit){line, first, (uint32_t)ind, count};
		}
		/* Sort this line's hits by start, then indicator. */
		for (size_t i = first_of_line + 1; i < k; i++)
			for (size_t j = i; j > first_of_line &&
			     (out[j - 1].start > out[j].start ||
			      (out[j - 1].start == out[j].start && out[j - 1].ind > out[j].ind)); j--) {
				struct ref_hit tmp = out[j];
				out[j] = out[j - 1];
				out[j - 1] = tmp;
			}
		if (!nl)
			break;
		ls = le + 1;
		line++;
	}
	return k;
}

static void test_differential_literals(void **state)
{
	(void)state;
	static const struct ind_spec spec[] = {
		{IND_LITERAL, 0, "abba"},
		{IND_LITERAL, IND_F_CASELESS, "BaB"},
		{IND_LITERAL, 0, "aaa"},
		{IND_LITERAL, IND_F_CASELESS, "c d"},
		{IND_LITERAL, 0, "Ab"},
		{IND_LITERAL, IND_F_CASELESS, "abcdabcd"},
	};
	const size_t n_spec = sizeof(spec) / sizeof(spec[0]);
	struct fixture fx;
	fx_build(&fx, spec, n_spec);
	static const char alpha[] = "abcdABCD \n";
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	for (int round = 0; round < 300; round++) {
		size_t n = 1 + rng_next(&seed) % 2000;
		char *t = malloc(n + 1);
		assert_non_null(t);
		for (size_t i = 0; i < n; i++)
			t[i] = alpha[rng_next(&seed) % (sizeof(alpha) - 1)];
		/* Plant some indicators, case flipped at random. */
		size_t plants = rng_next(&seed) % 20;
		for (size_t k = 0; k < plants; k++) {
			const char *v = spec[rng_next(&seed) % n_spec].value;
			size_t vl = strlen(v);
			if (vl > n)
				continue;
			size_t at = rng_next(&seed) % (n - vl + 1);
			for (size_t i = 0; i < vl; i++) {
				char c = v[i];
				if (rng_next(&seed) % 4 == 0)
					c = (char)(isupper((unsigned char)c) ? tolower((unsigned char)c)
									     : toupper((unsigned char)c));
				t[at + i] = c;
			}
		}
		t[n] = '\0';
		struct ref_hit *ref = malloc((n + 1) * n_spec * sizeof(*ref));
		assert_non_null(ref);
		size_t nr = ref_search(t, n, spec, n_spec, ref);
		size_t nh = fx_scan_n(&fx, t, n, 0);
		if (nh != nr)
			fail_msg("round %d: %zu hits, reference %zu", round, nh, nr);
		for (size_t i = 0; i < nr; i++) {
			const struct matcher_hit *h = &fx.hits.v[i];
			if (h->line != ref[i].line || h->start != ref[i].start ||
			    h->ind != ref[i].ind || h->count != ref[i].count)
				fail_msg("round %d hit %zu: got (%llu,%llu,%u,%u) want (%llu,%llu,%u,%u)",
					 round, i, (unsigned long long)h->line,
					 (unsigned long long)h->start, h->ind, h->count,
					 (unsigned long long)ref[i].line,
					 (unsigned long long)ref[i].start, ref[i].ind, ref[i].count);
		}
		free(ref);
		free(t);
	}
	fx_free(&fx);
}

static void count_stream_hit(void *user, const struct matcher_stream_hit *h)
{
	(void)h;
	(*(size_t *)user)++;
}

/* Text that ends where its mapping ends (a page that cannot be read comes
 * next), as a capture ring or an exact allocation can place it: scanning it,
 * whole or as a stream, reads nothing past it. The engine's AVX512VBMI
 * literal matcher would (matcher_int.h); on a CPU without AVX512VBMI it is
 * not used and this passes either way. */
static void test_text_at_mapping_end(void **state)
{
	(void)state;
	static const struct ind_spec spec[] = {
		{IND_LITERAL, IND_F_CASELESS, "bat"}, {IND_LITERAL, IND_F_CASELESS, "cat"},
		{IND_LITERAL, IND_F_CASELESS, "mat"}, {IND_LITERAL, IND_F_CASELESS, "rat"},
		{IND_LITERAL, IND_F_CASELESS, "fat"}, {IND_LITERAL, IND_F_CASELESS, "sat"},
		{IND_LITERAL, IND_F_CASELESS, "pat"}, {IND_LITERAL, IND_F_CASELESS, "hat"},
		{IND_LITERAL, IND_F_CASELESS, "vat"},
	};
	static const char text[] = "VAt hat pat sat fat rat mat ca";
	struct fixture fx;
	fx_build(&fx, spec, sizeof(spec) / sizeof(spec[0]));
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *map = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + pg, (size_t)pg, PROT_NONE), 0);
	size_t n = sizeof(text) - 1;
	for (size_t cut = 0; cut <= 3; cut++) {
		uint8_t *at = map + pg - (n - cut);
		memcpy(at, text, n - cut);
		assert_int_equal(fx_scan_n(&fx, (const char *)at, n - cut, 0), 7);
	}
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(matcher_stream_prepare(fx.m, fx.s, &d), CS_OK);
	uint8_t *at = map + pg - n;
	memcpy(at, text, n);
	struct matcher_stream ms;
	matcher_stream_init(&ms);
	size_t got = 0;
	for (size_t cut = 0; cut < n; cut += 7) {
		size_t k = n - cut < 7 ? n - cut : 7;
		assert_int_equal(matcher_stream_scan(fx.m, fx.s, &ms, at + cut, k, cut, 1, 1, 0,
						     count_stream_hit, &got), CS_OK);
	}
	assert_int_equal(matcher_stream_scan(fx.m, fx.s, &ms, at, n, n, 2, 2, 0, count_stream_hit,
					     &got), CS_OK);
	assert_int_equal(matcher_stream_end(fx.m, fx.s, &ms, count_stream_hit, &got), CS_OK);
	assert_int_equal(got, 14);
	munmap(map, (size_t)pg * 2);
	fx_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domain_boundaries),
		cmocka_unit_test(test_hex_tokens),
		cmocka_unit_test(test_url_case),
		cmocka_unit_test(test_email_boundaries),
		cmocka_unit_test(test_literal_case),
		cmocka_unit_test(test_regex_stays_on_line),
		cmocka_unit_test(test_regex_recheck_bounded),
		cmocka_unit_test(test_regex_line_anchor),
		cmocka_unit_test(test_order_and_count),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_skip_prefix),
		cmocka_unit_test(test_hits_limit),
		cmocka_unit_test(test_differential_literals),
		cmocka_unit_test(test_text_at_mapping_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
