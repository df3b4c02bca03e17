/* Fuzz target: stream matching (src/match/matcher_stream.c) against block
 * matching of the same bytes. The input is [u8 n][n x u16 cut][text]: the
 * text is fed as TCP segments cut at those offsets, then scanned whole. Both
 * must report the same hits (indicator, start, end) for a fixed set of
 * bounded types - a literal, domains, an e-mail, addresses and a range, an
 * md5, any IBAN - as long as no token is longer than the stream keeps at hand
 * (MATCHER_STREAM_TAIL): a boundary judged at a segment's end, or a token
 * split over segments, must come out as it does whole. The matcher is built
 * once, on the first input. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "cybersieve/matcher.h"
#include "cybersieve/pack.h"

#define MAX_TEXT 2048
#define MAX_CUTS 16
#define MAX_HITS 512

struct hit {
	uint64_t line;  /* first: block mode reports one hit per indicator and line */
	uint64_t start, end;
	uint32_t ind;
	uint32_t count;
};

struct hits {
	struct hit v[MAX_HITS];
	size_t n;
	bool full;
};

static struct pack *fz_pack;
static struct matcher *fz_m;
static struct matcher_scratch *fz_s;

static void build(void)
{
	static const struct {
		enum ind_type t;
		const char *v;
	} ind[] = {
		{IND_LITERAL, "SPLITSECRET"},
		{IND_DOMAIN, "evil.example"},
		{IND_DOMAIN, "b.io"},
		{IND_EMAIL, "bob@evil.example"},
		{IND_IP, "10.0.0.1"},
		{IND_IP, "192.168.0.0/16"},
		{IND_IP, "2001:db8::/32"},
		{IND_MD5, "0123456789abcdef0123456789abcdef"},
		{IND_IBAN, "any"},
		{IND_URL, "http://bad.test/x"},
	};
	struct cs_diag d;
	cs_diag_clear(&d);
	FUZZ_CHECK(pack_create_adhoc("-e", &fz_pack) == CS_OK);
	for (size_t i = 0; i < sizeof(ind) / sizeof(ind[0]); i++) {
		char id[8];
		snprintf(id, sizeof(id), "i%zu", i);
		FUZZ_CHECK(pack_add(fz_pack, id, ind[i].t, 0, ind[i].v, strlen(ind[i].v),
				    (uint32_t)i + 1, &d) == CS_OK);
	}
	pack_seal(fz_pack);
	FUZZ_CHECK(matcher_build_ex(&fz_pack, 1, NULL, NULL, 0, &fz_m, &d) == CS_OK);
	FUZZ_CHECK(matcher_scratch_create(fz_m, &fz_s) == CS_OK);
	FUZZ_CHECK(matcher_stream_prepare(fz_m, fz_s, &d) == CS_OK);
}

static void add(struct hits *h, uint32_t ind, uint64_t start, uint64_t end, uint64_t line,
		uint32_t count)
{
	if (h->n == MAX_HITS) {
		h->full = true;
		return;
	}
	h->v[h->n++] = (struct hit){line, start, end, ind, count};
}

static void on_stream(void *user, const struct matcher_stream_hit *h)
{
	FUZZ_CHECK(h->start <= h->end);
	add(user, h->ind, h->start, h->end, 0, 1);
}

/* By indicator, line, start, end: block mode's one hit per indicator and
 * line is the first of its run. */
static int hit_cmp(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;
	if (x->ind != y->ind)
		return x->ind < y->ind ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

/* Stream hits as block mode gives them: sorted, repeats dropped, then one
 * per indicator and line (the first, with the count of that line's). */
static void per_line(struct hits *h, const uint8_t *text)
{
	for (size_t i = 0; i < h->n; i++) {
		uint64_t nl = 0;
		for (uint64_t p = 0; p < h->v[i].start; p++)
			nl += text[p] == '\n';
		h->v[i].line = nl;
	}
	qsort(h->v, h->n, sizeof(h->v[0]), hit_cmp);
	size_t w = 0;
	for (size_t i = 0; i < h->n; i++) {
		if (i > 0 && hit_cmp(&h->v[i - 1], &h->v[i]) == 0)
			continue; /* the same hit twice */
		if (w > 0 && h->v[w - 1].ind == h->v[i].ind && h->v[w - 1].line == h->v[i].line) {
			h->v[w - 1].count++;
			continue;
		}
		h->v[w++] = h->v[i];
	}
	h->n = w;
}

/* A run of bytes that could belong to one token (host, address, e-mail, URL,
 * IBAN with its spaces) longer than the stream keeps at hand. */
static bool long_token(const uint8_t *t, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = t[i];
		bool sep = c == '\n' || c == '\r' || c == '\t' || c == ',' || c == ';' ||
			   c == '"' || c == '\'' || c == '<' || c == '>' || c == '(' || c == ')' ||
			   c == '|' || c == 0;
		run = sep ? 0 : run + 1;
		if (run > MATCHER_STREAM_TAIL - 16)
			return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fz_m)
		build();
	struct fuzz_cur c = {data, size};
	size_t n_cuts = fuzz_u8(&c) % (MAX_CUTS + 1);
	size_t cuts[MAX_CUTS + 2];
	for (size_t i = 0; i < n_cuts; i++)
		cuts[i] = fuzz_u16(&c);
	const uint8_t *text = c.p;
	size_t len = c.n > MAX_TEXT ? MAX_TEXT : c.n;
	for (size_t i = 0; i < n_cuts; i++)
		cuts[i] = len ? cuts[i] % (len + 1) : 0;
	cuts[n_cuts++] = len;
	/* Ascending segment ends. */
	for (size_t i = 1; i < n_cuts; i++)
		for (size_t k = i; k > 0 && cuts[k - 1] > cuts[k]; k--) {
			size_t t = cuts[k];
			cuts[k] = cuts[k - 1];
			cuts[k - 1] = t;
		}

	static struct hits got, want;
	got.n = want.n = 0;
	got.full = want.full = false;
	struct matcher_stream ms;
	matcher_stream_init(&ms);
	size_t at = 0;
	for (size_t i = 0; i < n_cuts; i++) {
		if (cuts[i] == at)
			continue;
		FUZZ_CHECK(matcher_stream_scan(fz_m, fz_s, &ms, text + at, cuts[i] - at, at, i, i, 8,
					       on_stream, &got) == CS_OK);
		at = cuts[i];
	}
	FUZZ_CHECK(matcher_stream_end(fz_m, fz_s, &ms, on_stream, &got) == CS_OK);
	FUZZ_CHECK(!matcher_stream_open(&ms));

	struct matcher_hits bh = {0};
	struct cs_diag d;
	cs_diag_clear(&d);
	if (len > 0) {
		FUZZ_CHECK(matcher_scan(fz_m, fz_s, text, len, 0, &bh, &d) == CS_OK);
		for (size_t i = 0; i < bh.n; i++)
			add(&want, bh.v[i].ind, bh.v[i].start, bh.v[i].end, bh.v[i].line,
			    bh.v[i].count);
	}
	matcher_hits_fini(&bh);
	if (got.full || want.full || long_token(text, len))
		return 0;
	per_line(&got, text);
	qsort(want.v, want.n, sizeof(want.v[0]), hit_cmp);
	if (got.n != want.n || memcmp(got.v, want.v, got.n * sizeof(got.v[0])) != 0) {
		for (size_t i = 0; i < want.n; i++)
			fprintf(stderr, "block  %u [%llu,%llu) line %llu x%u\n", want.v[i].ind,
				(unsigned long long)want.v[i].start, (unsigned long long)want.v[i].end,
				(unsigned long long)want.v[i].line, want.v[i].count);
		for (size_t i = 0; i < got.n; i++)
			fprintf(stderr, "stream %u [%llu,%llu) line %llu x%u\n", got.v[i].ind,
				(unsigned long long)got.v[i].start, (unsigned long long)got.v[i].end,
				(unsigned long long)got.v[i].line, got.v[i].count);
		FUZZ_CHECK(!"stream and block hits differ");
	}
	return 0;
}
