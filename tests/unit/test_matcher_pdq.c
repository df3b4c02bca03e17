/* PDQ indicators in the matcher: 64-hex tokens looked up by Hamming distance
 * within each pack's @pdq-distance, next to sha256 indicators of the same
 * shape. Every scan is compared with a linear reference over the listed
 * hashes; streams and fields; the header's parsing. */
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
#include "cybersieve/pdq.h"

#define N_A 2000
#define DIST_A 10

struct fx {
	struct pack *pack[2];
	struct matcher *m;
	struct matcher_scratch *s;
	struct matcher_hits hits;
	char (*hash)[65];
};

static uint64_t rng_next(uint64_t *x)
{
	*x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
	return *x >> 33;
}

static void rand_hex(uint64_t *x, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < 64; i++)
		out[i] = hex[rng_next(x) & 15];
	out[64] = '\0';
}

/* Flip d distinct bits of a 64-hex hash in place. */
static void flip(uint64_t *x, char *h, unsigned d)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t used[256] = {0};
	for (unsigned k = 0; k < d;) {
		unsigned b = (unsigned)(rng_next(x) % 256);
		if (used[b])
			continue;
		used[b] = 1;
		char *c = &h[b / 4];
		int v = *c <= '9' ? *c - '0' : *c - 'a' + 10;
		*c = hex[v ^ (1 << (b % 4))];
		k++;
	}
}

static unsigned hex_dist(const char *a, const char *b)
{
	uint8_t x[32], y[32];
	assert_true(pdq_hash_parse(a, 64, x));
	assert_true(pdq_hash_parse(b, 64, y));
	return pdq_distance(x, y);
}

static struct pack *parse(const char *text)
{
	struct pack *p = NULL;
	struct cs_diag d;
	cs_diag_clear(&d);
	if (pack_parse("t.pack", text, strlen(text), &p, &d) != CS_OK)
		fail_msg("pack_parse: %s", d.msg);
	return p;
}

/* Pack A: N_A hashes within DIST_A bits, and hash[0] again as a sha256.
 * Pack B (default distance): hash[1] under another id. */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->hash = calloc(N_A, sizeof(*f->hash));
	assert_non_null(f->hash);
	uint64_t x = 77;
	size_t cap = (size_t)N_A * 90 + 1024, n = 0;
	char *a = malloc(cap);
	assert_non_null(a);
	n += (size_t)snprintf(a + n, cap - n, "@name pdq-a\n@category csam\n@source test\n"
			      "@licence CC0-1.0\n@tlp red\n@pdq-distance %d\n", DIST_A);
	for (size_t i = 0; i < N_A; i++) {
		rand_hex(&x, f->hash[i]);
		n += (size_t)snprintf(a + n, cap - n, "p%zu pdq %s\n", i, f->hash[i]);
	}
	n += (size_t)snprintf(a + n, cap - n, "s0 sha256 %s\n", f->hash[0]);
	f->pack[0] = parse(a);
	free(a);
	assert_int_equal(f->pack[0]->pdq_distance, DIST_A);
	char b[256];
	snprintf(b, sizeof(b), "@name pdq-b\n@category csam\n@source test\n@licence CC0-1.0\n"
		 "@tlp red\nb1 pdq %s\n", f->hash[1]);
	f->pack[1] = parse(b);
	assert_int_equal(f->pack[1]->pdq_distance, PDQ_DEFAULT_DIST);
	struct cs_diag d;
	cs_diag_clear(&d);
	if (matcher_build(f->pack, 2, NULL, NULL, &f->m, &d) != CS_OK)
		fail_msg("matcher_build: %s", d.msg);
	assert_int_equal(matcher_type_count(f->m, IND_PDQ), N_A + 1);
	struct matcher_stats st;
	matcher_get_stats(f->m, &st);
	assert_true(st.patterns <= 2); /* the 64-hex shape, not a pattern per hash */
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
	free(f->hash);
	free(f);
	return 0;
}

static size_t scan(struct fx *f, const char *text)
{
	f->hits.n = 0;
	assert_int_equal(matcher_scan(f->m, f->s, (const uint8_t *)text, strlen(text), 0, &f->hits,
				      NULL), CS_OK);
	return f->hits.n;
}

static const struct indicator *hit_ind(struct fx *f, size_t i)
{
	return matcher_get(f->m, f->hits.v[i].ind)->ind;
}

static int hit_dist(struct fx *f, const char *text, size_t i)
{
	const struct matcher_hit *h = &f->hits.v[i];
	return matcher_pdq_distance(matcher_get(f->m, h->ind), (const uint8_t *)text + h->start,
				    h->end - h->start);
}

static void test_exact_and_sha256(void **state)
{
	struct fx *f = *state;
	char t[128];
	snprintf(t, sizeof(t), "img pdq=%s q=1", f->hash[0]);
	assert_int_equal(scan(f, t), 2);
	bool saw_pdq = false, saw_sha = false;
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(f->hits.v[i].start, 8);
		assert_int_equal(f->hits.v[i].end, 72);
		if (hit_ind(f, i)->type == IND_PDQ) {
			saw_pdq = true;
			assert_string_equal(hit_ind(f, i)->id, "p0");
			assert_int_equal(hit_dist(f, t, i), 0);
		} else {
			saw_sha = hit_ind(f, i)->type == IND_SHA256;
			assert_int_equal(hit_dist(f, t, i), -1);
		}
	}
	assert_true(saw_pdq && saw_sha);
}

static void test_distance_per_pack(void **state)
{
	struct fx *f = *state;
	uint64_t x = 5;
	char h[65], t[128];
	/* DIST_A bits away: pack A takes it. */
	memcpy(h, f->hash[2], 65);
	flip(&x, h, DIST_A);
	snprintf(t, sizeof(t), "%s", h);
	assert_int_equal(scan(f, t), 1);
	assert_string_equal(hit_ind(f, 0)->id, "p2");
	assert_int_equal(hit_dist(f, t, 0), DIST_A);
	/* One bit more: not for pack A. */
	memcpy(h, f->hash[3], 65);
	flip(&x, h, DIST_A + 1);
	snprintf(t, sizeof(t), "%s", h);
	assert_int_equal(scan(f, t), 0);
	/* hash[1] 20 bits away: pack B (31) takes it, pack A (10) does not. */
	memcpy(h, f->hash[1], 65);
	flip(&x, h, 20);
	snprintf(t, sizeof(t), "x %s\n", h);
	assert_int_equal(scan(f, t), 1);
	assert_string_equal(hit_ind(f, 0)->id, "b1");
	assert_int_equal(hit_dist(f, t, 0), 20);
	/* Upper case is the same hash; inside a longer hex run it is no token. */
	snprintf(t, sizeof(t), "%s", f->hash[4]);
	for (char *c = t; *c; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 32);
	assert_int_equal(scan(f, t), 1);
	snprintf(t, sizeof(t), "a%s", f->hash[4]);
	assert_int_equal(scan(f, t), 0);
}

/* Random near and far queries, each against every listed hash. */
static void test_differential(void **state)
{
	struct fx *f = *state;
	uint64_t x = 99;
	size_t agreed = 0;
	for (int q = 0; q < 300; q++) {
		char h[65], t[80];
		if (q % 4 == 3) {
			rand_hex(&x, h);
		} else {
			memcpy(h, f->hash[rng_next(&x) % N_A], 65);
			flip(&x, h, (unsigned)(rng_next(&x) % 16));
		}
		snprintf(t, sizeof(t), "[%s]", h);
		scan(f, t);
		size_t want = 0;
		for (size_t i = 0; i < N_A; i++) {
			unsigned dd = hex_dist(h, f->hash[i]);
			want += dd <= DIST_A;
		}
		want += hex_dist(h, f->hash[1]) <= PDQ_DEFAULT_DIST;    /* b1 */
		want += strcmp(h, f->hash[0]) == 0;                     /* s0 */
		assert_int_equal(f->hits.n, want);
		for (size_t i = 0; i < f->hits.n; i++) {
			const struct indicator *ind = hit_ind(f, i);
			if (ind->type != IND_PDQ)
				continue;
			int dd = hit_dist(f, t, i);
			assert_int_equal(dd, (int)hex_dist(h, ind->value));
			assert_true(dd <= (ind->id[0] == 'b' ? PDQ_DEFAULT_DIST : DIST_A));
			agreed++;
		}
	}
	assert_true(agreed >= 100);
}

/* One buffer with more 64-hex tokens than a batch holds, so the scan answers
 * them in batches (one of them full in mid-scan): every planted near hash
 * is reported at its own line and offset, nothing else. Lines of random
 * hashes have no listed hash within 31 bits (the odds are below 1e-15). */
static void test_batches_in_one_buffer(void **state)
{
	struct fx *f = *state;
	size_t lines = PDQ_BATCH_MAX + 3000, line_len = 71; /* "k=", 64 hex, " z=1\n" */
	char *text = malloc(lines * line_len + 1);
	uint32_t *want = calloc(lines, sizeof(*want)); /* planted: 1 + index of the hash */
	assert_non_null(text);
	assert_non_null(want);
	uint64_t x = 2024;
	char *p = text;
	for (size_t i = 0; i < lines; i++) {
		char h[65];
		if (i % 97 == 5) {
			size_t j = 2 + rng_next(&x) % (N_A - 2); /* not hash[0] or [1]: one hit */
			memcpy(h, f->hash[j], 65);
			flip(&x, h, (unsigned)(i % (DIST_A + 1)));
			want[i] = (uint32_t)j + 1;
		} else {
			rand_hex(&x, h);
		}
		p += snprintf(p, line_len + 1, "k=%s z=1\n", h);
	}
	assert_int_equal((size_t)(p - text), lines * line_len);
	assert_int_equal(scan(f, text), lines / 97 + (lines % 97 > 5));
	size_t seen = 0;
	for (size_t i = 0; i < f->hits.n; i++) {
		const struct matcher_hit *h = &f->hits.v[i];
		assert_true(h->line < lines);
		assert_int_not_equal(want[h->line], 0);
		char id[16];
		snprintf(id, sizeof(id), "p%u", want[h->line] - 1);
		assert_string_equal(hit_ind(f, i)->id, id);
		assert_int_equal(h->start, h->line * line_len + 2);
		assert_int_equal(h->end, h->start + 64);
		assert_int_equal(hit_dist(f, text, i), (int)(h->line % (DIST_A + 1)));
		assert_int_equal(h->count, 1); /* reported once */
		assert_true(i == 0 || f->hits.v[i - 1].line < h->line); /* in line order */
		seen++;
	}
	assert_int_equal(seen, f->hits.n);
	free(want);
	free(text);
}

/* Under a hit limit the first hits in the text are kept, PDQ ones too,
 * though PDQ tokens are answered after the others: a PDQ hit on the first
 * line, then lines each with hash[0] (sha256 s0 and pdq p0). */
static void test_limit_keeps_first(void **state)
{
	struct fx *f = *state;
	uint64_t x = 77;
	char h[65], text[800];
	memcpy(h, f->hash[2], 65);
	flip(&x, h, 3);
	size_t n = (size_t)snprintf(text, sizeof(text), "a %s\n", h);
	for (int i = 0; i < 5; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "b %s\n", f->hash[0]);
	f->hits.limit = 3;
	f->hits.dropped = 0;
	scan(f, text);
	f->hits.limit = 0;
	assert_int_equal(f->hits.n, 3);
	assert_int_equal(f->hits.dropped, 11 - 3);
	assert_int_equal(f->hits.v[0].line, 0);
	assert_string_equal(hit_ind(f, 0)->id, "p2");
	for (size_t i = 1; i < 3; i++) {
		assert_int_equal(f->hits.v[i].line, 1);
		const char *id = hit_ind(f, i)->id;
		assert_true(strcmp(id, "p0") == 0 || strcmp(id, "s0") == 0);
	}
	assert_string_not_equal(hit_ind(f, 1)->id, hit_ind(f, 2)->id);
}

/* One token near 50 listed hashes, under a limit of 10: 10 hits kept, 40
 * counted as dropped, none held beyond the limit; a token near none first. */
static void test_limit_caps_one_token(void **state)
{
	(void)state;
	uint64_t x = 3;
	char base[65], h[65], pack[8192], text[80];
	rand_hex(&x, base);
	size_t n = (size_t)snprintf(pack, sizeof(pack), "@name near\n@category csam\n@source t\n"
				    "@licence CC0-1.0\n@tlp red\n");
	for (int i = 0; i < 50; i++) {
		memcpy(h, base, 65);
		flip(&x, h, 1 + (unsigned)i % 20);
		n += (size_t)snprintf(pack + n, sizeof(pack) - n, "n%d pdq %s\n", i, h);
	}
	struct pack *p = parse(pack);
	struct matcher *m = NULL;
	struct matcher_scratch *s = NULL;
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(matcher_build(&p, 1, NULL, NULL, &m, &d), CS_OK);
	assert_int_equal(matcher_scratch_create(m, &s), CS_OK);
	/* First, on the fresh scratch, a token far from every listed hash: no
	 * hit is held, and nothing is sorted (the sanitizer build would stop on
	 * qsort of the still NULL array). */
	char far[65];
	rand_hex(&x, far);
	snprintf(text, sizeof(text), "x %s\n", far);
	struct matcher_hits hits = {.limit = 10};
	assert_int_equal(matcher_scan(m, s, (const uint8_t *)text, strlen(text), 0, &hits, NULL),
			 CS_OK);
	assert_int_equal(hits.n, 0);
	assert_int_equal(hits.dropped, 0);
	snprintf(text, sizeof(text), "x %s\n", base);
	assert_int_equal(matcher_scan(m, s, (const uint8_t *)text, strlen(text), 0, &hits, NULL),
			 CS_OK);
	assert_int_equal(hits.n, 10); /* ten indicators on the line */
	assert_int_equal(hits.dropped, 40);
	hits.n = 0;
	hits.dropped = 0;
	hits.limit = 0;
	assert_int_equal(matcher_scan(m, s, (const uint8_t *)text, strlen(text), 0, &hits, NULL),
			 CS_OK);
	assert_int_equal(hits.n, 50);
	assert_int_equal(hits.dropped, 0);
	matcher_hits_fini(&hits);
	matcher_scratch_destroy(s);
	matcher_destroy(m);
	pack_destroy(p);
}

static void on_stream(void *user, const struct matcher_stream_hit *h)
{
	size_t *n = user;
	(void)h;
	(*n)++;
}

static void test_stream_and_fields(void **state)
{
	struct fx *f = *state;
	assert_int_equal(matcher_stream_prepare(f->m, f->s, NULL), CS_OK);
	uint64_t x = 11;
	char h[65];
	memcpy(h, f->hash[7], 65);
	flip(&x, h, 3);
	struct matcher_stream ms;
	matcher_stream_init(&ms);
	size_t n = 0;
	char seg1[80], seg2[80];
	snprintf(seg1, sizeof(seg1), "GET /img?h=%.30s", h);
	snprintf(seg2, sizeof(seg2), "%s HTTP/1.1\r\n", h + 30);
	assert_int_equal(matcher_stream_scan(f->m, f->s, &ms, (const uint8_t *)seg1, strlen(seg1), 0,
					     1, 1, 16, on_stream, &n), CS_OK);
	assert_int_equal(matcher_stream_scan(f->m, f->s, &ms, (const uint8_t *)seg2, strlen(seg2),
					     strlen(seg1), 2, 2, 16, on_stream, &n), CS_OK);
	assert_int_equal(matcher_stream_end(f->m, f->s, &ms, on_stream, &n), CS_OK);
	assert_int_equal(n, 1);
	/* A field scanned for digests (an HTTP body's sha256) takes no pdq hit. */
	f->hits.n = 0;
	assert_int_equal(matcher_scan_field(f->m, f->s, (const uint8_t *)h, 64, 1u << IND_SHA256,
					    &f->hits, NULL), CS_OK);
	assert_int_equal(f->hits.n, 0);
	assert_int_equal(matcher_scan_field(f->m, f->s, (const uint8_t *)h, 64, 1u << IND_PDQ,
					    &f->hits, NULL), CS_OK);
	assert_int_equal(f->hits.n, 1);
}

static void test_header(void **state)
{
	(void)state;
	static const char *const bad[] = {"64", "256", "x", "-1", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char t[256];
		snprintf(t, sizeof(t), "@name a\n@category scam\n@source s\n@licence l\n@tlp clear\n"
			 "@pdq-distance %s\n", bad[i]);
		struct pack *p = NULL;
		struct cs_diag d;
		cs_diag_clear(&d);
		assert_int_equal(pack_parse("h.pack", t, strlen(t), &p, &d), CS_ERR_PARSE);
		assert_null(p);
		assert_int_equal(d.line, 6);
	}
	struct pack *p = parse("@name a\n@category scam\n@source s\n@licence l\n@tlp clear\n"
			       "@pdq-distance 0\n");
	assert_int_equal(p->pdq_distance, 0);
	pack_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_and_sha256),
		cmocka_unit_test(test_distance_per_pack),
		cmocka_unit_test(test_differential),
		cmocka_unit_test(test_batches_in_one_buffer),
		cmocka_unit_test(test_limit_keeps_first),
		cmocka_unit_test(test_limit_caps_one_token),
		cmocka_unit_test(test_stream_and_fields),
		cmocka_unit_test(test_header),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
