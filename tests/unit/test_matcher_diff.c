/* Differential tests of block scans: for every indicator type, the set of
 * (line, indicator) pairs that matcher_scan() reports over generated lines
 * must equal the set found by a naive reference written here from the
 * documented semantics (rules/README.md): a plain per-line search with the
 * type's case folding and boundary rules. Lines mix fragments of the real
 * Apache log in tests/data, planted indicators, near misses and noise; a last
 * case scans that whole log for indicators drawn from its own content.
 *
 * Everything a case builds (pack, matcher, scratch, hits, text) is owned by
 * that case and freed before it returns; no state is shared between cases. */
#include <arpa/inet.h>
#include <ctype.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cybersieve/matcher.h"
#include "cybersieve/pack.h"

#define MAX_IND 64
#define MAX_LINE 1024
#define LINES_PER_CHUNK 500
#define CHUNKS_PER_SEED 3
#define N_SEEDS 3


/* ------------------------------------------------------------ helpers --- */

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static size_t rng_below(uint64_t *s, size_t n)
{
	return n ? (size_t)(rng_next(s) % n) : 0;
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hexc(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_label(unsigned char c)
{
	return is_alnum(c) || c == '-' || c == '_';
}

/* RFC 5322 atext plus the dot: what may belong to the local part. */
static bool is_atext(unsigned char c)
{
	return is_alnum(c) || (c && strchr(".!#$%&'*+/=?^_`{|}~-", c));
}

/* RFC 3986 unreserved characters and '%': what continues a URL path. */
static bool is_url_cont(unsigned char c)
{
	return is_alnum(c) || (c && strchr("-._~%", c));
}

static bool same_bytes(const char *a, const char *b, size_t n, bool caseless)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (caseless ? tolower(x) != tolower(y) : x != y)
			return false;
	}
	return true;
}

/* A growing text buffer; the tests' inputs are small, so a failed
 * allocation simply fails the test. */
struct text {
	char *p;
	size_t n, cap;
};

static void text_put(struct text *t, const char *s, size_t n)
{
	if (t->n + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		while (t->n + n + 1 > cap)
			cap *= 2;
		t->p = realloc(t->p, cap);
		assert_non_null(t->p);
		t->cap = cap;
	}
	memcpy(t->p + t->n, s, n);
	t->n += n;
	t->p[t->n] = '\0';
}

static void text_puts(struct text *t, const char *s)
{
	text_put(t, s, strlen(s));
}

/* The Apache log of tests/data, split into lines (owned by the caller). */
struct corpus {
	char *buf;
	size_t len;
	const char **line;
	size_t *line_len;
	size_t n;
};

static void corpus_load(struct corpus *c)
{
	const char *dir = getenv("CS_SOURCE_DIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/tests/data/apache_logs", dir ? dir : ".");
	memset(c, 0, sizeof(*c));
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (set CS_SOURCE_DIR)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long sz = ftell(f);
	assert_true(sz > 0);
	rewind(f);
	c->buf = malloc((size_t)sz + 1);
	assert_non_null(c->buf);
	assert_int_equal(fread(c->buf, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	c->len = (size_t)sz;
	c->buf[c->len] = '\0';
	size_t cap = 16384;
	c->line = malloc(cap * sizeof(*c->line));
	c->line_len = malloc(cap * sizeof(*c->line_len));
	assert_true(c->line && c->line_len);
	for (size_t s = 0; s < c->len && c->n < cap;) {
		const char *nl = memchr(c->buf + s, '\n', c->len - s);
		size_t e = nl ? (size_t)(nl - c->buf) : c->len;
		c->line[c->n] = c->buf + s;
		c->line_len[c->n++] = e - s;
		s = e + 1;
	}
	assert_true(c->n >= 1000);
}

static void corpus_free(struct corpus *c)
{
	free(c->buf);
	free(c->line);
	free(c->line_len);
}

/* ------------------------------------------------- indicator table --- */

struct spec {
	enum ind_type type;
	unsigned flags;
	char value[160];     /* as given to pack_add */
	char alt[160];       /* wallet: the EIP-55 spelling when known */
	/* ip: parsed range */
	uint32_t ip_base;
	unsigned ip_plen;
	regex_t re;          /* regex: the POSIX reference */
	bool re_ok;
};

struct set {
	struct spec s[MAX_IND];
	size_t n;
	struct pack *pack;
	struct matcher *m;
	struct matcher_scratch *scr;
	unsigned build_flags; /* MATCHER_BUILD_* */
};

static struct spec *set_add(struct set *st, enum ind_type t, unsigned flags, const char *v)
{
	assert_true(st->n < MAX_IND);
	assert_true(strlen(v) < sizeof(st->s[0].value));
	struct spec *sp = &st->s[st->n++];
	memset(sp, 0, sizeof(*sp));
	sp->type = t;
	sp->flags = flags;
	snprintf(sp->value, sizeof(sp->value), "%s", v);
	return sp;
}

static bool set_has(const struct set *st, enum ind_type t, const char *v)
{
	for (size_t i = 0; i < st->n; i++)
		if (st->s[i].type == t && strcmp(st->s[i].value, v) == 0)
			return true;
	return false;
}

static void set_build(struct set *st)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(pack_create_adhoc("-e", &st->pack), CS_OK);
	for (size_t i = 0; i < st->n; i++) {
		char id[32];
		snprintf(id, sizeof(id), "d%zu", i);
		const struct spec *sp = &st->s[i];
		if (pack_add(st->pack, id, sp->type, sp->flags, sp->value, strlen(sp->value), 0, &d) !=
		    CS_OK)
			fail_msg("pack_add %s '%s': %s", ind_type_name(sp->type), sp->value, d.msg);
	}
	pack_seal(st->pack);
	if (matcher_build_ex(&st->pack, 1, NULL, NULL, st->build_flags, &st->m, &d) != CS_OK)
		fail_msg("matcher_build: %s", d.msg);
	assert_int_equal(matcher_count(st->m), st->n);
	for (size_t i = 0; i < st->n; i++)
		assert_ptr_equal(matcher_get(st->m, (uint32_t)i)->ind, &st->pack->ind[i]);
	assert_int_equal(matcher_scratch_create(st->m, &st->scr), CS_OK);
}

static void set_free(struct set *st)
{
	for (size_t i = 0; i < st->n; i++)
		if (st->s[i].re_ok)
			regfree(&st->s[i].re);
	matcher_scratch_destroy(st->scr);
	matcher_destroy(st->m);
	pack_destroy(st->pack);
	st->scr = NULL;
	st->m = NULL;
	st->pack = NULL;
}

/* ------------------------------------------------------- references --- */

static bool ref_literal(const struct spec *sp, const char *l, size_t n)
{
	size_t vl = strlen(sp->value);
	for (size_t p = 0; p + vl <= n; p++)
		if (same_bytes(l + p, sp->value, vl, sp->flags & IND_F_CASELESS))
			return true;
	return false;
}

static bool ref_regex(const struct spec *sp, const char *l, size_t n)
{
	char buf[MAX_LINE + 1];
	assert_true(n <= MAX_LINE);
	memcpy(buf, l, n);
	buf[n] = '\0';
	return regexec(&sp->re, buf, 0, NULL, 0) == 0;
}

/* After a host name: no label character, and no dot going on into a label. */
static bool host_end(const char *l, size_t n, size_t e)
{
	if (e == n)
		return true;
	if (is_label((unsigned char)l[e]))
		return false;
	return !(l[e] == '.' && e + 1 < n && is_label((unsigned char)l[e + 1]));
}

static bool ref_domain(const struct spec *sp, const char *l, size_t n)
{
	size_t vl = strlen(sp->value);
	for (size_t p = 0; p + vl <= n; p++) {
		if (!same_bytes(l + p, sp->value, vl, true))
			continue;
		/* a dot before is a subdomain, any other label byte extends the label */
		if (p > 0 && is_label((unsigned char)l[p - 1]))
			continue;
		if (host_end(l, n, p + vl))
			return true;
	}
	return false;
}

static bool ref_email(const struct spec *sp, const char *l, size_t n)
{
	size_t vl = strlen(sp->value);
	for (size_t p = 0; p + vl <= n; p++) {
		if (!same_bytes(l + p, sp->value, vl, true))
			continue;
		if (p > 0 && is_atext((unsigned char)l[p - 1]))
			continue;
		if (host_end(l, n, p + vl))
			return true;
	}
	return false;
}

/* Scheme and host caseless, the rest exact, ended by a non-path byte or by
 * one period before one (a sentence's end) or before the line's end. */
static bool ref_url(const struct spec *sp, const char *l, size_t n)
{
	const char *v = sp->value;
	size_t vl = strlen(v);
	const char *host = strstr(v, "://");
	assert_non_null(host);
	const char *path = strchr(host + 3, '/');
	size_t head = path ? (size_t)(path - v) : vl;
	for (size_t p = 0; p + vl <= n; p++) {
		if (!same_bytes(l + p, v, head, true) ||
		    !same_bytes(l + p + head, v + head, vl - head, false))
			continue;
		size_t e = p + vl;
		if (e == n || !is_url_cont((unsigned char)l[e]))
			return true;
		if (l[e] == '.' && (e + 1 == n || !is_url_cont((unsigned char)l[e + 1])))
			return true;
	}
	return false;
}

static bool ref_hex(const struct spec *sp, const char *l, size_t n)
{
	size_t vl = strlen(sp->value);
	for (size_t p = 0; p + vl <= n; p++) {
		if (!same_bytes(l + p, sp->value, vl, true))
			continue;
		if (p > 0 && is_hexc((unsigned char)l[p - 1]))
			continue;
		if (p + vl == n || !is_hexc((unsigned char)l[p + vl]))
			return true;
	}
	return false;
}

/* One decimal octet: 1-3 digits, at most 255, no leading zero. */
static bool ip_octet(const char *l, size_t n, size_t *q, uint32_t *val)
{
	size_t s = *q, e = s;
	while (e < n && is_digit((unsigned char)l[e]))
		e++;
	if (e == s || e - s > 3 || (e - s > 1 && l[s] == '0'))
		return false;
	unsigned v = 0;
	for (size_t i = s; i < e; i++)
		v = v * 10 + (unsigned)(l[i] - '0');
	if (v > 255)
		return false;
	*val = v;
	*q = e;
	return true;
}

/* A dotted quad starting at p, with the documented boundaries: not preceded
 * by a digit or a dot, not continued by a digit or by ".digit" (so
 * "::ffff:192.0.2.1", "A192.0.2.1" and "192.0.2.7." at a sentence end match). */
static bool ip_at(const char *l, size_t n, size_t p, uint32_t *addr)
{
	if (p > 0 && (is_digit((unsigned char)l[p - 1]) || l[p - 1] == '.'))
		return false;
	uint32_t a = 0;
	size_t q = p;
	for (int k = 0; k < 4; k++) {
		uint32_t o;
		if (k > 0) {
			if (q >= n || l[q] != '.')
				return false;
			q++;
		}
		if (!ip_octet(l, n, &q, &o))
			return false;
		a = a << 8 | o;
	}
	if (q < n && (is_digit((unsigned char)l[q]) ||
		      (l[q] == '.' && q + 1 < n && is_digit((unsigned char)l[q + 1]))))
		return false;
	*addr = a;
	return true;
}

static bool ip_in(const struct spec *sp, uint32_t a)
{
	uint32_t mask = sp->ip_plen ? ~0u << (32 - sp->ip_plen) : 0;
	return ((a ^ sp->ip_base) & mask) == 0;
}

/* ip: every address of the line goes to the longest listed range holding it. */
static void ref_ip_line(const struct set *st, const char *l, size_t n, uint8_t *row)
{
	for (size_t p = 0; p < n; p++) {
		uint32_t a;
		if (!ip_at(l, n, p, &a))
			continue;
		int best = -1;
		for (size_t i = 0; i < st->n; i++)
			if (st->s[i].type == IND_IP && ip_in(&st->s[i], a) &&
			    (int)st->s[i].ip_plen > best)
				best = (int)st->s[i].ip_plen;
		for (size_t i = 0; best >= 0 && i < st->n; i++)
			if (st->s[i].type == IND_IP && ip_in(&st->s[i], a) &&
			    (int)st->s[i].ip_plen == best)
				row[i] = 1;
	}
}

static bool all_case(const char *s, size_t n, bool upper)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (upper ? (c >= 'a' && c <= 'z') : (c >= 'A' && c <= 'Z'))
			return false;
	}
	return true;
}

/* The address part of a listed wallet value (after an optional CUR:). */
static const char *wallet_addr(const struct spec *sp)
{
	const char *c = strchr(sp->value, ':');
	return c ? c + 1 : sp->value;
}

/* Is token t (a whole alnum run) a spelling of the listed address? */
static bool wallet_token_is(const struct spec *sp, const char *t, size_t n)
{
	const char *a = wallet_addr(sp);
	size_t an = strlen(a);
	if (n != an)
		return false;
	if (a[0] == '0' && a[1] == 'x') {
		if (t[0] != '0' || t[1] != 'x' || !same_bytes(t, a, n, true))
			return false;
		return all_case(t + 2, n - 2, false) || all_case(t + 2, n - 2, true) ||
		       (sp->alt[0] && memcmp(t, sp->alt, n) == 0);
	}
	bool folds = strncmp(a, "bc1", 3) == 0 || strncmp(a, "ltc1", 4) == 0 ||
		     strncmp(a, "btg1", 4) == 0 || (an == 42 && (a[0] == 'q' || a[0] == 'p'));
	if (!folds)
		return memcmp(t, a, n) == 0;
	return same_bytes(t, a, n, true) && (all_case(t, n, false) || all_case(t, n, true));
}

static bool ref_wallet(const struct spec *sp, const char *l, size_t n)
{
	for (size_t p = 0; p < n;) {
		if (!is_alnum((unsigned char)l[p])) {
			p++;
			continue;
		}
		size_t e = p;
		while (e < n && is_alnum((unsigned char)l[e]))
			e++;
		if (wallet_token_is(sp, l + p, e - p))
			return true;
		p = e;
	}
	return false;
}

/* iban: the listed characters with at most one space between any two,
 * bounded by non-alphanumerics. */
static bool ref_iban(const struct spec *sp, const char *l, size_t n)
{
	char c[64];
	size_t cn = 0;
	for (const char *v = sp->value; *v && cn < sizeof(c); v++)
		if (*v != ' ')
			c[cn++] = *v;
	/* The country code and check digits are written together (CCdd). */
	for (size_t p = 0; p + 4 <= n; p++) {
		if (memcmp(l + p, c, 4) != 0 || (p > 0 && is_alnum((unsigned char)l[p - 1])))
			continue;
		size_t q = p + 4, i = 4;
		for (; i < cn; i++) {
			if (q < n && l[q] == c[i])
				q++;
			else if (q + 1 < n && l[q] == ' ' && l[q + 1] == c[i])
				q += 2;
			else
				break;
		}
		if (i == cn && (q == n || !is_alnum((unsigned char)l[q])))
			return true;
	}
	return false;
}

static void ref_line(const struct set *st, const char *l, size_t n, uint8_t *row)
{
	memset(row, 0, st->n);
	ref_ip_line(st, l, n, row);
	for (size_t i = 0; i < st->n; i++) {
		const struct spec *sp = &st->s[i];
		bool hit = false;
		switch (sp->type) {
		case IND_LITERAL: hit = ref_literal(sp, l, n); break;
		case IND_REGEX: hit = ref_regex(sp, l, n); break;
		case IND_DOMAIN: hit = ref_domain(sp, l, n); break;
		case IND_URL: hit = ref_url(sp, l, n); break;
		case IND_EMAIL: hit = ref_email(sp, l, n); break;
		case IND_MD5:
		case IND_SHA1:
		case IND_SHA256: hit = ref_hex(sp, l, n); break;
		case IND_WALLET: hit = ref_wallet(sp, l, n); break;
		case IND_IBAN: hit = ref_iban(sp, l, n); break;
		default: break;
		}
		if (hit)
			row[i] = 1;
	}
}

/* ------------------------------------------------------- comparison --- */

/* Scan text (lines joined by '\n') and compare every (line, indicator)
 * pair with the reference. Returns the number of differing pairs and
 * adds the number of agreeing hits to *agreed. */
static size_t diff_chunk(struct set *st, const struct text *t, const char *what, size_t *agreed)
{
	struct matcher_hits hits = {0};
	struct cs_diag d;
	cs_diag_clear(&d);
	if (matcher_scan(st->m, st->scr, (const uint8_t *)t->p, t->n, 0, &hits, &d) != CS_OK)
		fail_msg("scan: %s", d.msg);
	size_t lines = 1;
	for (size_t i = 0; i < t->n; i++)
		lines += t->p[i] == '\n';
	uint8_t *got = calloc(lines * st->n + 1, 1);
	assert_non_null(got);
	for (size_t i = 0; i < hits.n; i++) {
		const struct matcher_hit *h = &hits.v[i];
		assert_true(h->line < lines && h->ind < st->n);
		assert_true(h->start < h->end && h->end <= t->n);
		assert_null(memchr(t->p + h->start, '\n', h->end - h->start));
		uint8_t *cell = &got[h->line * st->n + h->ind];
		assert_int_equal(*cell, 0); /* one hit per indicator and line */
		*cell = 1;
	}
	assert_int_equal(hits.dropped, 0);
	uint8_t row[MAX_IND];
	size_t bad = 0, ln = 0;
	for (size_t s = 0; s <= t->n; ln++) {
		const char *nl = memchr(t->p + s, '\n', t->n - s);
		size_t e = nl ? (size_t)(nl - t->p) : t->n;
		ref_line(st, t->p + s, e - s, row);
		for (size_t i = 0; i < st->n; i++) {
			bool g = got[ln * st->n + i], w = row[i];
			*agreed += g && w;
			if (g == w)
				continue;
			if (bad++ < 8)
				print_error("%s: line %zu \"%.*s\"\n  %s '%s': matcher %s, reference %s\n",
					    what, ln, (int)(e - s), t->p + s,
					    ind_type_name(st->s[i].type), st->s[i].value,
					    g ? "hit" : "no hit", w ? "hit" : "no hit");
		}
		if (!nl)
			break;
		s = e + 1;
	}
	free(got);
	matcher_hits_fini(&hits);
	return bad;
}

/* -------------------------------------------------------- generator --- */

/* What a type contributes to a line: a planted indicator as it may be
 * written, a near miss, and noise of the type's alphabet. */
struct gen {
	enum ind_type type;
	void (*indicators)(struct set *st, uint64_t *r, const struct corpus *c);
	void (*plant)(const struct spec *sp, uint64_t *r, char *out, size_t cap);
	void (*miss)(const struct spec *sp, uint64_t *r, char *out, size_t cap);
	const char *noise;
};

static const char *const sep_tab[] = {
	" ", " ", " ", ",", ";", "\"", "(", ")", "<", ">", "/", ":", "@", ".", "-", "_", "=", "?",
	"#", "x", "0", "A", "\t", "[", "]", "'", "+", "", "", ". ", "%", "~",
};

static void put_sep(struct text *t, uint64_t *r)
{
	text_puts(t, sep_tab[rng_below(r, sizeof(sep_tab) / sizeof(sep_tab[0]))]);
}

static void put_fragment(struct text *t, uint64_t *r, const struct corpus *c)
{
	size_t li = rng_below(r, c->n);
	size_t n = c->line_len[li];
	if (!n)
		return;
	size_t a = rng_below(r, n), len = 1 + rng_below(r, 60);
	if (a + len > n)
		len = n - a;
	text_put(t, c->line[li] + a, len);
}

static void put_noise(struct text *t, uint64_t *r, const char *alpha)
{
	size_t n = 1 + rng_below(r, 24), an = strlen(alpha);
	char buf[32];
	for (size_t i = 0; i < n; i++)
		buf[i] = alpha[rng_below(r, an)];
	text_put(t, buf, n);
}

static void gen_line(const struct gen *g, const struct set *st, uint64_t *r,
		     const struct corpus *c, struct text *t)
{
	size_t parts = rng_below(r, 7), line_start = t->n;
	char buf[512];
	for (size_t k = 0; k < parts && t->n - line_start < MAX_LINE / 2; k++) {
		size_t pick = rng_below(r, 10);
		const struct spec *sp = &st->s[rng_below(r, st->n)];
		put_sep(t, r);
		if (pick < 3) {
			put_fragment(t, r, c);
		} else if (pick < 6) {
			g->plant(sp, r, buf, sizeof(buf));
			text_puts(t, buf);
		} else if (pick < 8) {
			g->miss(sp, r, buf, sizeof(buf));
			text_puts(t, buf);
		} else {
			put_noise(t, r, g->noise);
		}
		put_sep(t, r);
	}
}

/* Flip the case of random letters of s. */
static void case_mix(char *s, uint64_t *r)
{
	for (char *p = s; *p; p++)
		if (isalpha((unsigned char)*p) && rng_below(r, 3) == 0)
			*p = (char)(islower((unsigned char)*p) ? toupper((unsigned char)*p)
							       : tolower((unsigned char)*p));
}

static void rand_str(char *out, size_t n, const char *alpha, uint64_t *r)
{
	size_t an = strlen(alpha);
	for (size_t i = 0; i < n; i++)
		out[i] = alpha[rng_below(r, an)];
	out[n] = '\0';
}

static const char *const affix_tab[] = {"x", "0", "-", "_", ".", "a.", "Z", "9", "/", "@", "f", "%", ":"};

/* A generic near miss: the value with a byte changed, cut, or glued to
 * other bytes so that it becomes part of a longer token. */
static void miss_generic(const char *v, uint64_t *r, char *out, size_t cap, const char *alpha)
{
	size_t n = strlen(v);
	const char *af = affix_tab[rng_below(r, sizeof(affix_tab) / sizeof(affix_tab[0]))];
	switch (rng_below(r, 5)) {
	case 0: snprintf(out, cap, "%s%s", af, v); break;
	case 1: snprintf(out, cap, "%s%s", v, af); break;
	case 2:
		snprintf(out, cap, "%s", v);
		if (n)
			out[rng_below(r, n)] = alpha[rng_below(r, strlen(alpha))];
		break;
	case 3: snprintf(out, cap, "%.*s", (int)(n > 1 ? n - 1 - rng_below(r, n / 2) : 0), v); break;
	default: snprintf(out, cap, "%s%s%s", af, v, af); break;
	}
}

/* ------------------------------------------------------------ types --- */

static void lit_indicators(struct set *st, uint64_t *r, const struct corpus *c)
{
	static const char *const fixed[] = {"GET /", "HTTP/1.1\" 200", "Mozilla", "semicomplete",
					    "wire transfer fee", "aa", "a.b", "%20"};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		set_add(st, IND_LITERAL, i % 2 ? IND_F_CASELESS : 0, fixed[i]);
	while (st->n < 30) {
		size_t li = rng_below(r, c->n), n = c->line_len[li];
		size_t len = 2 + rng_below(r, 14);
		if (n < len)
			continue;
		char v[32];
		memcpy(v, c->line[li] + rng_below(r, n - len + 1), len);
		v[len] = '\0';
		if (strchr(v, '\\'))
			continue;
		set_add(st, IND_LITERAL, rng_below(r, 2) ? IND_F_CASELESS : 0, v);
	}
}

static void lit_plant(const struct spec *sp, uint64_t *r, char *out, size_t cap)
{
	snprintf(out, cap, "%s", sp->value);
	if (sp->flags & IND_F_CASELESS)
		case_mix(out, r);
}

static void lit_miss(const struct spec *sp, uint64_t *r, char *out, size_t cap)
{
	snprintf(out, cap, "%s", sp->value);
	if (rng_below(r, 2))
		case_mix(out, r);
	else
		miss_generic(sp->value, r, out, cap, "abcXYZ /.");
}

/* Regexes in the common subset of POSIX ERE and Hyperscan syntax. */
static void re_indicators(struct set *st, uint64_t *r, const struct corpus *c)
{
	(void)r;
	(void)c;
	static const struct {
		unsigned flags;
		const char *v;
	} tab[] = {
		{0, "GET /[a-z]+/"},
		{IND_F_CASELESS, "mozilla/[0-9]+\\.[0-9]"},
		{0, "^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+ -"},
		{0, "(png|jpg|gif) HTTP"},
		{IND_F_CASELESS, "wire (transfer|payment) fee"},
		{0, "\" [45][0-9][0-9] "},
		{0, "ab+c"},
		{IND_F_CASELESS, "x{2,3}y"},
		{0, "[0-9]{4}\\]"},
		{0, "\\)$"},
		{IND_F_CASELESS, "^a"},
		{0, "k[^ ]*s.png"},
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct spec *sp = set_add(st, IND_REGEX, tab[i].flags, tab[i].v);
		int fl = REG_EXTENDED | REG_NOSUB | (tab[i].flags & IND_F_CASELESS ? REG_ICASE : 0);
		assert_int_equal(regcomp(&sp->re, tab[i].v, fl), 0);
		sp->re_ok = true;
	}
}

static void re_plant(const struct spec *sp, uint64_t *r, char *out, size_t cap)
{
	static const char *const samples[] = {
		"GET /images/", "MOZILLA/5.0", "Mozilla/4", "png HTTP", "gif HTTP", "Wire Payment FEE",
		"\" 404 ", "abbbc", "XXy", "xxxY", "2015]", ")", "a", "kibana-search.png", "ks.png",
	};
	(void)sp;
	snprintf(out, cap, "%s", samples[rng_below(r, sizeof(samples) / sizeof(samples[0]))]);
}

static void re_miss(const struct spec *sp, uint64_t *r, char *out, size_t cap)
{
	static const char *const samples[] = {
		"GET //", "mozilla/", "png http", "wire  fee", "\" 200 ", "ac", "xy", "201]",
		") ", "k s.png", "GET /A/", "Mozilla/x.0",
	};
	(void)sp;
	snprintf(out, cap, "%s", samples[rng_below(r, sizeof(samples) / sizeof(samples[0]))]);
}

#define LABEL_ALPHA "abcdefghijklmnopqrstuvwxyz0123456789-_"

static void dom_indicators(struct set *st, uint64_t *r, const struct corpus *c)
{
	(void)c;
	set_add(st, IND_DOMAIN, 0, "semicomplete.com");
	set_add(st, IND_DOMAIN, 0, "google.fr");
	set_add(st, IND_DOMAIN, 0, "evil.com");
	set_add(st, IND_DOMAIN, 0, "pay.evil.com");
	while (st->n < 24) {
		char a[16], b[8], v[40];
		rand_str(a, 1 + rng_below(r, 8), "abcdefghijklmnopqrstuvwxyz0123456789", r);
		rand_str(b, 2 + rng_below(r, 3), "abcdefghijklmnopqrstuvwxyz", r);
		if (rng_below(r, 3) == 0) {
			char s[8];
			rand_str(s, 1 + rng_below(r, 4), "abcdefghijklmnopqrstuvwxyz-_", r);
			snprintf(v, sizeof(v), "x%s.%s.%s", s, a, b);
		} else {
			snprintf(v, sizeof(v), "%s.%s", a, b);
		}
		if (!set_has(st, IND_DOMAIN, v))
			set_add(st, IND_DOMAIN, 0, v);
	}
}

static void dom_plant(const struct spec *sp, uint64_t *r, char *out, size_t cap)
{
	static const char *const pre[] = {"", "", "www.", "a.b.", "under_score.", "x-y.", "http://",
					  "user@", "."};
	static const char *const post[] = {"", "", "/path", ":8080", ".", ". ", "?q=1", "..x", ".-"};
	char v[160];
	snprintf(v, sizeof(v), "%s", sp->value);
	case_mix(v, r);
	snprintf(out, cap, "%s%s%s", pre[rng_below(r, sizeof(pre) / sizeof(pre[0]))], v,
		 post[rng_below(r, sizeof(post) / sizeof(post[0]))]);
}

static void dom_miss(const struct spec *sp, uint64_t *r, char *out, size_t cap)
{
	static const char *const post[] = {".au", "munity", "-x", "_x", ".co", ".c"};
	const char *dot = strchr(sp->value, '.');
	switch (rng_below(r, 4)) {
	case 0: snprintf(out, cap, "%s%s", sp->value, post[rng_below(r, 6)]); break;
	case 1: snprintf(out, cap, "not%s", sp->value); break;
	case 2: snprintf(out, cap, "%s", dot ? dot + 1 : sp->value); break; /* parent only */
	default: miss_generic(sp->value, r, out, cap, LABEL_ALPHA "."); break;
	}
}

static void url_indicators(struct set *st, uint64_t *r, const struct corpus *c)
{
	(void)c;
	set_add(st, IND_URL, 0, "http://semicomplete.com/presentations/logstash-monitorama-2013/");
	set_add(st, IND_URL, 0, "http://www.semicomplete.com/blog/geekery/ssl-latency.html");
	set_add(st, IND_URL, 0, "https://Pay.Example.COM/Claim?ID=AbC");
	set_add(st, IND_URL, 0, "http://evil.com/a.exe");
	set_add(st, IND_URL, 0, "https://evil.com/a.exe");
	set_add(st, IND_URL, 0, "http://evil.com");
	set_add(st, IND_URL, 0, "http://evil.com:8080/gate.php");
	set_add(st, IND_URL, 0, "ftp://files.evil.com/gate.php");
	while (st->n < 20) {
		char h[12], p[16], v[80];
		rand_str(h, 2 + rng_below(r, 8), "abcdefghijklmnopqrstuvwxyz0123456789", r);
		rand_str(p, 1 + rng_below(r, 12), "abcdefABCDEF0123-._~/", r);
		snprintf(v, sizeof(v), "%s://%s.example/%s", rng_below(r, 2) ? "http" : "https", h, p);
		if (!set_has(st, IND_URL, v))
			set_add(st, IND_URL, 0, v);
	}
}

/* The URL with scheme and host in random case, path unchanged. */
static void url_case(const char *v, uint64_t *r, char *out, size_t cap)
{
	snprintf(out, cap, "%s", v);
	char *path = strchr(strstr(out, "://") + 3, '/');
	char saved = 0;
	if (path) {
		saved = *path;
		*path = '\0';
	}
	case_mix(out, r);
	if (path)
		*path = saved;
}

static void url_plant(const struct spec *sp, uint64_t *r, char *out, size_t cap)
{
	static const char *const post[] = {"",  "",  "?x=1", "#top", "/",         ",",
					   ")", "'", ":",    ". ",   " HTTP/1.1", "."};
	/* Also inside a longer scheme and after a redirect URL. */
	static const char *const pre[] = {"", "", "\"", "x", "=", "http://a.example/r?u="};
	char v[200];
	url_case(sp->value, r, v, sizeof(v));
	snprintf(out, cap, "%s%s%s", pre[rng_below(r, sizeof(pre) / sizeof(pre[0]))], v,
		 post[rng_below(r, sizeof(post) / sizeof(post[0]))]);
}

static void url_miss(const struct spec *sp, uint64_t *r, char *out, size_t cap)
{
	static const char *const post[] = {"2", ".bak", "-", "_", "~", "%41", "x", "..", ".-"};
	char v[200];
	url_case(sp->value, r, v, sizeof(v));
	if (rng_below(r, 3) == 0) {
		/* the path in another case */
		char *path = strchr(strstr(v, "://") + 3, '/');
		if (path)
			case_mix(path, r);
		snprintf(out, cap, "%s", v);
	} else if (rng_below(r, 2)) {
		snprintf(out, cap, "%s%s", v, post[rng_below(r, sizeof(post) / sizeof(post[0]))]);
	} else {
		miss_generic(sp->value, r, out, cap, "abcAB/.");
	}
}

static void mail_indicators(struct set *st, uint64_t *r, const struct corpus *c)
{
	(void)c;
	set_add(st, IND_EMAIL, 0, "Agent.Smith@Example.ORG");
	set_add(st, IND_EMAIL, 0, "refunds@pension-refund-service.example");
	set_add(st, IND_EMAIL, 0, "a@b.co");
	while (st->n < 18) {
		char u[12], h[12], v[48];
		rand_str(u, 1 + rng_below(r, 10), "abcdefghijklmnopqrstuvwxyz0123456789._+-", r);
		if (u[0] == '.' || u[strlen(u) - 1] == '.' || strstr(u, ".."))
			continue;
		rand_str(h, 2 + rng_below(r, 9), "abcdefghijklmnopqrstuvwxyz0123456789", r);
		snprintf(v, sizeof(v), "%s@%s.%s", u, h, rng_below(r, 2) ? "org" : "example");
		if (!set_has(st, IND_EMAIL, v))
			set_add(st, IND_EMAIL, 0, v);
	}
}

static void mail_plant(const struct spec *sp, uint64_t *r, char *out, size_t cap)
{
	static const char *const pre[] = {"", "", "<", "mailto:", "To: ", "\"", "(", ",", "["};
	static const char *const post[] = {"", "", ">", ".", ", b", ")", "\"", ";", "?", "..x"};
	char v[160];
	snprintf(v, sizeof(v), "%s", sp->value);
	case_mix(v, r);
	snprintf(out, cap, "%s%s%s", pre[rng_below(r, sizeof(pre) / sizeof(pre[0]))], v,
		 post[rng_below(r, sizeof(post) / sizeof(post[0]))]);
}

static void mail_miss(const struct spec *sp, uint64_t *r, char *out, size_t cap)
{
	static const char *const pre[] = {"x", "x.", "x+", "_", "=", "9", "'", "/", "{"};
	static const char *const post[] = {".uk", "nic", "-x", "_y", "0"};
	if (rng_below(r, 2))
		snprintf(out, cap, "%s%s", pre[rng_below(r, sizeof(pre) / sizeof(pre[0]))], sp->value);
	else if (rng_below(r, 2))
		snprintf(out, cap, "%s%s", sp->value, post[rng_below(r, sizeof(post) / sizeof(post[0]))]);
	else
		miss_generic(sp->value, r, out, cap, "abc.@");
}

static size_t hex_len(enum ind_type t)
{
	return t == IND_MD5 ? 32 : t == IND_SHA1 ? 40 : 64;
}

static void hex_indicators(struct set *st, uint64_t *r, const struct corpus *c)
{
	(void)c;
	static const enum ind_type types[] = {IND_MD5, IND_SHA1, IND_SHA256};
	for (size_t k = 0; k < 3; k++)
		for (size_t i = 0; i < 8; i++) {
			char v[72];
			rand_str(v, hex_len(types[k]), "0123456789abcdef", r);
			if (i == 7 && k > 0) {
				/* the shorter digest is a prefix of this one */
				memcpy(v, st->s[0].value, 32);
			}
			set_add(st, types[k], 0, v);
		}
}

static void hex_plant(const struct spec *sp, uint64_t *r, char *out, size_t cap)
{
	static const char *const pre[] = {"", "md5=", "\"hash\":\"", "x", "g", "-", ":"};
	static const char *const post[] = {"", "  photo.jpg", "\"", ";", "z", "G", ".", "_"};
	char v[160];
	snprintf(v, sizeof(v), "%s", sp->value);
	case_mix(v, r);
	snprintf(out, cap, "%s%s%s", pre[rng_below(r, sizeof(pre) / sizeof(pre[0]))], v,
		 post[rng_below(r, sizeof(post) / sizeof(post[0]))]);
}

static void hex_miss(const struct spec *sp, uint64_t *r, char *out, size_t cap)
{
	static const char *const af[] = {"0", "a", "F", "9", "e"};
	switch (rng_below(r, 4)) {
	case 0: snprintf(out, cap, "%s%s", af[rng_below(r, 5)], sp->value); break;
	case 1: snprintf(out, cap, "%s%s", sp->value, af[rng_below(r, 5)]); break;
	case 2: snprintf(out, cap, "%.*s", (int)strlen(sp->value) - 1, sp->value); break;
	default: miss_generic(sp->value, r, out, cap, "0123456789abcdef"); break;
	}
}

static void ip_parse(struct spec *sp)
{
	char a[160];
	snprintf(a, sizeof(a), "%s", sp->value);
	char *slash = strchr(a, '/');
	sp->ip_plen = 32;
	if (slash) {
		*slash = '\0';
		sp->ip_plen = (unsigned)atoi(slash + 1);
	}
	struct in_addr in;
	assert_int_equal(inet_pton(AF_INET, a, &in), 1);
	sp->ip_base = ntohl(in.s_addr);
	if (sp->ip_plen < 32)
		sp->ip_base &= sp->ip_plen ? ~0u << (32 - sp->ip_plen) : 0;
}

static void ip_indicators(struct set *st, uint64_t *r, const struct corpus *c)
{
	(void)c;
	static const char *const fixed[] = {
		"10.1.0.0/16", "10.1.2.0/24", "10.1.2.3", "10.1.2.3/31", "10.0.0.0/8", "192.0.2.7",
		"198.51.100.0/24", "83.149.9.216", "66.249.73.135", "172.16.5.5/12", "1.2.3.4",
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		ip_parse(set_add(st, IND_IP, 0, fixed[i]));
	while (st->n < 24) {
		char v[40];
		unsigned plen = rng_below(r, 3) ? 32 : 8 + (unsigned)rng_below(r, 24);
		snprintf(v, sizeof(v), "%u.%u.%u.%u", 10 + (unsigned)rng_below(r, 3),
			 (unsigned)rng_below(r, 4), (unsigned)rng_below(r, 256),
			 (unsigned)rng_below(r, 256));
		if (plen < 32)
			snprintf(v + strlen(v), sizeof(v) - strlen(v), "/%u", plen);
		struct spec probe = {0};
		snprintf(probe.value, sizeof(probe.value), "%s", v);
		ip_parse(&probe);
		bool dup = false;
		for (size_t i = 0; i < st->n; i++)
			dup |= st->s[i].ip_base == probe.ip_base && st->s[i].ip_plen == probe.ip_plen;
		if (!dup)
			ip_parse(set_add(st, IND_IP, 0, v));
	}
}

/* An address inside or near a listed range. */
static void ip_addr_near(const struct spec *sp, uint64_t *r, char *out, size_t cap)
{
	uint32_t a = sp->ip_base;
	if (sp->ip_plen < 32)
		a |= (uint32_t)rng_next(r) & (~0u >> sp->ip_plen);
	if (rng_below(r, 4) == 0)
		a ^= 1u << rng_below(r, 32);
	snprintf(out, cap, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
}

static void ip_plant(const struct spec *sp, uint64_t *r, char *out, size_t cap)
{
	/* "::ffff:" and "A" before, "." after: documented hits at the edges of
	 * the IPv4 boundary rules. */
	static const char *const pre[] = {"", "", "[", "ip=", "x", "client ", "(", "/", "-", "g",
					  "::ffff:", "A"};
	static const char *const post[] = {"", "", "]:443", ".", ". ", ":80", "/24", ",", "x", ".a"};
	char a[40];
	ip_addr_near(sp, r, a, sizeof(a));
	snprintf(out, cap, "%s%s%s", pre[rng_below(r, sizeof(pre) / sizeof(pre[0]))], a,
		 post[rng_below(r, sizeof(post) / sizeof(post[0]))]);
}

static void ip_miss(const struct spec *sp, uint64_t *r, char *out, size_t cap)
{
	char a[40];
	ip_addr_near(sp, r, a, sizeof(a));
	switch (rng_below(r, 6)) {
	case 0: snprintf(out, cap, "%s.5", a); break;
	case 1: snprintf(out, cap, "2%s", a); break;
	case 2: snprintf(out, cap, "%s5", a); break;
	case 3: snprintf(out, cap, "1.%s", a); break;
	case 4: snprintf(out, cap, "%s.", a); out[rng_below(r, strlen(a))] = '.'; break;
	default: snprintf(out, cap, "%s", a); out[strlen(a) - 1] = '9'; break;
	}
}

/* Addresses of tests/data/wallets as listed, with the file's currency. */
struct wallet_src {
	const char *file, *cur;
};

static const struct wallet_src wallet_files[] = {
	{"XBT", "xbt"}, {"ETH", "eth"}, {"BCH", "bch"}, {"LTC", "ltc"}, {"TRX", "trx"},
	{"XMR", "xmr"}, {"DASH", "dash"}, {"XRP", "xrp"}, {"BTG", "btg"}, {"ZEC", "zec"},
	{"XVG", "xvg"}, {"BSV", "bsv"},
};

static size_t wallet_read(const char *cur_file, char lines[][128], size_t max)
{
	const char *dir = getenv("CS_SOURCE_DIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/tests/data/wallets/sanctioned_addresses_%s.txt",
		 dir ? dir : ".", cur_file);
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	size_t n = 0;
	char buf[256];
	while (n < max && fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\r\n")] = '\0';
		size_t bl = strlen(buf);
		if (buf[0] && bl < 128)
			memcpy(lines[n++], buf, bl + 1);
	}
	fclose(f);
	return n;
}

static bool wallet_misfit(const char *cur, const char *a)
{
	/* the two lines of the OFAC files that do not fit their currency */
	return (strcmp(cur, "xbt") == 0 && a[0] == 'T') ||
	       (strcmp(cur, "xmr") == 0 && strlen(a) == 64);
}

static void wallet_indicators(struct set *st, uint64_t *r, const struct corpus *c)
{
	(void)c;
	static char lines[256][128];
	for (size_t f = 0; f < sizeof(wallet_files) / sizeof(wallet_files[0]); f++) {
		size_t n = wallet_read(wallet_files[f].file, lines, 256);
		size_t take = f < 2 ? 8 : 3;
		for (size_t k = 0; k < take && n; k++) {
			const char *a = lines[rng_below(r, n)];
			if (wallet_misfit(wallet_files[f].cur, a) || st->n >= MAX_IND - 1)
				continue;
			char v[160], low[128];
			snprintf(low, sizeof(low), "%s", a);
			bool eth = a[0] == '0' && a[1] == 'x';
			if (eth && rng_below(r, 2))
				for (char *p = low; *p; p++)
					*p = (char)tolower((unsigned char)*p);
			if (rng_below(r, 2))
				snprintf(v, sizeof(v), "%s:%s", wallet_files[f].cur, low);
			else
				snprintf(v, sizeof(v), "%s", low);
			bool dup = false;
			for (size_t i = 0; i < st->n; i++)
				dup |= strcasecmp(wallet_addr(&st->s[i]), low) == 0;
			if (dup)
				continue;
			struct spec *sp = set_add(st, IND_WALLET, 0, v);
			/* the file's 0x spellings are EIP-55 when mixed */
			if (eth && !all_case(a + 2, 40, false) && !all_case(a + 2, 40, true))
				snprintf(sp->alt, sizeof(sp->alt), "%s", a);
		}
	}
}

static void wallet_plant(const struct spec *sp, uint64_t *r, char *out, size_t cap)
{
	static const char *const pre[] = {"", "", " ", "addr=", "(", "\"", "send to ", ":", "-"};
	static const char *const post[] = {"", "", ")", ".", "\"", ",", "_", "/x"};
	const char *a = wallet_addr(sp);
	char v[160];
	snprintf(v, sizeof(v), "%s", rng_below(r, 2) && sp->alt[0] ? sp->alt : a);
	size_t pick = rng_below(r, 4);
	bool cash = strlen(a) == 42 && (a[0] == 'q' || a[0] == 'p');
	if (pick == 0 && !(a[0] == '0' && a[1] == 'x'))
		for (char *p = v; *p; p++)
			*p = (char)toupper((unsigned char)*p);
	else if (pick == 0)
		for (char *p = v + 2; *p; p++)
			*p = (char)toupper((unsigned char)*p);
	else if (pick == 1)
		for (char *p = v + 2; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	snprintf(out, cap, "%s%s%s%s", pre[rng_below(r, sizeof(pre) / sizeof(pre[0]))],
		 cash && rng_below(r, 2) ? "bitcoincash:" : "", v,
		 post[rng_below(r, sizeof(post) / sizeof(post[0]))]);
}

static void wallet_miss(const struct spec *sp, uint64_t *r, char *out, size_t cap)
{
	const char *a = wallet_addr(sp);
	static const char *const af[] = {"x", "0", "Z", "9", "a"};
	switch (rng_below(r, 4)) {
	case 0: snprintf(out, cap, "%s%s", af[rng_below(r, 5)], a); break;
	case 1: snprintf(out, cap, "%s%s", a, af[rng_below(r, 5)]); break;
	case 2: snprintf(out, cap, "%s", sp->alt[0] ? sp->alt : a); case_mix(out + 2, r); break;
	default: miss_generic(a, r, out, cap, "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz");
		break;
	}
}

/* Check digits of country cc and bban by ISO 7064 mod 97-10. */
static void iban_make(const char *cc, const char *bban, char *out, size_t cap)
{
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%s%s00", bban, cc);
	unsigned rem = 0;
	for (const char *p = tmp; *p; p++) {
		if (is_digit((unsigned char)*p))
			rem = (rem * 10 + (unsigned)(*p - '0')) % 97;
		else
			rem = (rem * 100 + (unsigned)(*p - 'A' + 10)) % 97;
	}
	snprintf(out, cap, "%s%02u%s", cc, 98 - rem, bban);
}

static void iban_indicators(struct set *st, uint64_t *r, const struct corpus *c)
{
	(void)c;
	static const char *const fixed[] = {
		"GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "FR1420041010050500013M02606",
		"NL91ABNA0417164300", "BE68539007547034", "CH9300762011623852957",
		"MT84MALT011000012345MTLCAST001S",
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		set_add(st, IND_IBAN, 0, fixed[i]);
	while (st->n < 20) {
		char bban[40], v[48];
		if (rng_below(r, 2)) {
			char bank[5], acc[15];
			rand_str(bank, 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", r);
			rand_str(acc, 14, "0123456789", r);
			snprintf(bban, sizeof(bban), "%s%s", bank, acc);
			iban_make("GB", bban, v, sizeof(v));
		} else {
			rand_str(bban, 18, "0123456789", r);
			iban_make("DE", bban, v, sizeof(v));
		}
		if (!set_has(st, IND_IBAN, v))
			set_add(st, IND_IBAN, 0, v);
	}
}

/* The IBAN printed with random single spaces (or in groups of four). */
static void iban_print(const char *v, uint64_t *r, char *out, size_t cap)
{
	size_t k = 0, i = 0;
	bool groups = rng_below(r, 2);
	for (const char *p = v; *p && k + 3 < cap; p++) {
		if (*p == ' ')
			continue;
		if (i > 0 && (groups ? i % 4 == 0 : i >= 4 && rng_below(r, 4) == 0))
			out[k++] = ' ';
		out[k++] = *p;
		i++;
	}
	out[k] = '\0';
}

static void iban_plant(const struct spec *sp, uint64_t *r, char *out, size_t cap)
{
	static const char *const pre[] = {"", "", "IBAN: ", "(", "\"", "-", "to "};
	static const char *const post[] = {"", "", " EUR", ".", ")", ", ", " 7", "-"};
	char v[96];
	iban_print(sp->value, r, v, sizeof(v));
	snprintf(out, cap, "%s%s%s", pre[rng_below(r, sizeof(pre) / sizeof(pre[0]))], v,
		 post[rng_below(r, sizeof(post) / sizeof(post[0]))]);
}

static void iban_miss(const struct spec *sp, uint64_t *r, char *out, size_t cap)
{
	char v[96];
	iban_print(sp->value, r, v, sizeof(v));
	switch (rng_below(r, 5)) {
	case 0: snprintf(out, cap, "X%s", v); break;
	case 1: snprintf(out, cap, "%s7", v); break;
	case 2: snprintf(out, cap, "%s", v); out[0] = (char)tolower((unsigned char)out[0]); break;
	case 3: { /* a double space inside */
		char *sp1 = strchr(v, ' ');
		if (sp1)
			snprintf(out, cap, "%.*s %s", (int)(sp1 - v), v, sp1);
		else
			snprintf(out, cap, "%.4s  %s", v, v + 4);
		break;
	}
	default: miss_generic(v, r, out, cap, "0123456789ABCDEF"); break;
	}
}

/* ------------------------------------------------------------ cases --- */

static const struct gen gens[] = {
	{IND_LITERAL, lit_indicators, lit_plant, lit_miss, "abcABC /.-\"%"},
	{IND_REGEX, re_indicators, re_plant, re_miss, "abcxyXY0123456789 /.()[]\"-"},
	{IND_DOMAIN, dom_indicators, dom_plant, dom_miss, LABEL_ALPHA ".@/:"},
	{IND_URL, url_indicators, url_plant, url_miss, "abcdefABC0123/.:?#%-_~"},
	{IND_EMAIL, mail_indicators, mail_plant, mail_miss, "abcdefg0123.@-_+<>"},
	{IND_MD5, hex_indicators, hex_plant, hex_miss, "0123456789abcdefABCDEF"},
	{IND_IP, ip_indicators, ip_plant, ip_miss, "0123456789.. /[]xg"},
	{IND_WALLET, wallet_indicators, wallet_plant, wallet_miss, "123456789abcXYZ0x: "},
	{IND_IBAN, iban_indicators, iban_plant, iban_miss, "0123456789 ABCDEGW"},
};

static void diff_type_ex(enum ind_type t, unsigned build_flags)
{
	struct corpus c;
	corpus_load(&c);
	const struct gen *g = NULL;
	for (size_t i = 0; i < sizeof(gens) / sizeof(gens[0]); i++)
		if (gens[i].type == t)
			g = &gens[i];
	assert_non_null(g);
	size_t bad = 0, agreed = 0, lines = 0;
	for (uint64_t seed = 1; seed <= N_SEEDS; seed++) {
		uint64_t r = 0x9e3779b97f4a7c15ull * seed + (uint64_t)t;
		struct set st;
		memset(&st, 0, sizeof(st));
		st.build_flags = build_flags;
		g->indicators(&st, &r, &c);
		set_build(&st);
		for (size_t ch = 0; ch < CHUNKS_PER_SEED; ch++) {
			struct text tx = {0};
			for (size_t l = 0; l < LINES_PER_CHUNK; l++) {
				if (l)
					text_puts(&tx, "\n");
				gen_line(g, &st, &r, &c, &tx);
			}
			/* A chunk may or may not end with a newline. */
			if (ch % 2)
				text_puts(&tx, "\n");
			char what[64];
			snprintf(what, sizeof(what), "%s seed %llu chunk %zu", ind_type_name(t),
				 (unsigned long long)seed, ch);
			bad += diff_chunk(&st, &tx, what, &agreed);
			lines += LINES_PER_CHUNK;
			free(tx.p);
		}
		set_free(&st);
	}
	corpus_free(&c);
	print_message("%s: %zu lines, %zu hits agreed, %zu differences\n", ind_type_name(t), lines,
		      agreed, bad);
	assert_int_equal(bad, 0);
	/* The generator must actually plant findable indicators. */
	assert_true(agreed >= lines / 10);
}

static void diff_type(enum ind_type t)
{
	diff_type_ex(t, 0);
}

static void test_diff_literal(void **state) { (void)state; diff_type(IND_LITERAL); }
static void test_diff_regex(void **state) { (void)state; diff_type(IND_REGEX); }
static void test_diff_domain(void **state) { (void)state; diff_type(IND_DOMAIN); }
/* The same few domains held by the suffix set instead of one literal each. */
static void test_diff_domain_set(void **state)
{
	(void)state;
	diff_type_ex(IND_DOMAIN, MATCHER_BUILD_DOMSET);
}
static void test_diff_url(void **state) { (void)state; diff_type(IND_URL); }
/* The same few URLs held by the URL set instead of one pattern each. */
static void test_diff_url_set(void **state)
{
	(void)state;
	diff_type_ex(IND_URL, MATCHER_BUILD_URLSET);
}
static void test_diff_email(void **state) { (void)state; diff_type(IND_EMAIL); }
static void test_diff_hex(void **state) { (void)state; diff_type(IND_MD5); }
static void test_diff_ip(void **state) { (void)state; diff_type(IND_IP); }
static void test_diff_wallet(void **state) { (void)state; diff_type(IND_WALLET); }
static void test_diff_iban(void **state) { (void)state; diff_type(IND_IBAN); }

/* ---------------------------------------------- the real Apache log --- */

/* Client IPs (some as their /24), request paths as literals and referrer
 * host names as domains, all drawn from the log itself. */
static void apache_indicators(struct set *st, const struct corpus *c, uint64_t *r)
{
	size_t ips = 0, paths = 0, hosts = 0, urls = 0;
	for (size_t tries = 0; tries < 100000 && st->n < MAX_IND - 1; tries++) {
		size_t li = rng_below(r, c->n);
		const char *l = c->line[li];
		size_t n = c->line_len[li];
		char v[160];
		const char *sp = memchr(l, ' ', n);
		const char *get = memmem(l, n, "\"GET ", 5);
		const char *ref = memmem(l, n, "\"http://", 8);
		if (ips < 16 && sp && (size_t)(sp - l) < 16) {
			snprintf(v, sizeof(v), "%.*s%s", (int)(sp - l), l, ips % 4 == 3 ? "/24" : "");
			struct in_addr in;
			char a[20];
			snprintf(a, sizeof(a), "%.*s", (int)(sp - l), l);
			if (inet_pton(AF_INET, a, &in) == 1 && !set_has(st, IND_IP, v)) {
				ip_parse(set_add(st, IND_IP, 0, v));
				ips++;
			}
		} else if (paths < 20 && get) {
			const char *p = get + 5, *e = memchr(p, ' ', n - (size_t)(p - l));
			if (e && e - p > 1 && e - p < 100) {
				snprintf(v, sizeof(v), "%.*s", (int)(e - p), p);
				if (!strchr(v, '\\') && !set_has(st, IND_LITERAL, v)) {
					set_add(st, IND_LITERAL, paths % 3 == 0 ? IND_F_CASELESS : 0, v);
					paths++;
				}
			}
		} else if (hosts < 12 && ref) {
			const char *h = ref + 8;
			size_t k = strcspn(h, "/\":");
			snprintf(v, sizeof(v), "%.*s", (int)k, h);
			for (char *q = v; *q; q++)
				*q = (char)tolower((unsigned char)*q);
			if (k > 3 && strchr(v, '.') && !set_has(st, IND_DOMAIN, v) &&
			    strspn(v, LABEL_ALPHA ".") == k) {
				set_add(st, IND_DOMAIN, 0, v);
				hosts++;
			} else if (urls < 12 && strchr(h, '/')) {
				/* The whole referrer URL, when its host was taken already. */
				const char *u = ref + 1;
				size_t un = strcspn(u, "\"");
				snprintf(v, sizeof(v), "%.*s", (int)un, u);
				if (un > 12 && un < sizeof(v) && strcspn(v, " \\") == un &&
				    !set_has(st, IND_URL, v)) {
					set_add(st, IND_URL, 0, v);
					urls++;
				}
			}
		}
	}
	assert_true(ips >= 8 && paths >= 10 && hosts >= 4);
}

static void diff_apache_log(unsigned build_flags)
{
	struct corpus c;
	corpus_load(&c);
	uint64_t r = 0x5eed5eed5eedull;
	struct set st;
	memset(&st, 0, sizeof(st));
	st.build_flags = build_flags;
	apache_indicators(&st, &c, &r);
	set_build(&st);
	size_t bad = 0, agreed = 0;
	/* Chunks of whole lines, as the log reader hands them over. */
	for (size_t first = 0; first < c.n; first += 997) {
		size_t last = first + 997 < c.n ? first + 997 : c.n;
		struct text tx = {0};
		size_t s = (size_t)(c.line[first] - c.buf);
		size_t e = (size_t)(c.line[last - 1] - c.buf) + c.line_len[last - 1];
		if (e < c.len)
			e++; /* keep the newline */
		text_put(&tx, c.buf + s, e - s);
		char what[64];
		snprintf(what, sizeof(what), "apache_logs lines %zu..", first + 1);
		bad += diff_chunk(&st, &tx, what, &agreed);
		free(tx.p);
	}
	print_message("apache_logs: %zu lines, %zu indicators, %zu hits agreed, %zu differences\n",
		      c.n, st.n, agreed, bad);
	assert_int_equal(bad, 0);
	assert_true(agreed >= c.n / 2);
	set_free(&st);
	corpus_free(&c);
}

static void test_diff_apache_log(void **state)
{
	(void)state;
	diff_apache_log(0);
}

static void test_diff_apache_log_domset(void **state)
{
	(void)state;
	diff_apache_log(MATCHER_BUILD_DOMSET);
}

static void test_diff_apache_log_urlset(void **state)
{
	(void)state;
	diff_apache_log(MATCHER_BUILD_URLSET);
}

/* ------------------------------------------------ large domain lists --- */

/* 20,000 domains (parents and their subdomains among them) are held by the
 * suffix set without being asked; the reference looks every host-name
 * substring that sits on label boundaries up in the sorted list. */
#define LARGE_DOMAINS 20000
#define LARGE_LINES 3000

struct big {
	char (*v)[48]; /* sorted, unique */
	size_t n;
	size_t max_len;
};

static int cmp_dom(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static void big_make(struct big *b, uint64_t *r)
{
	static const char *const tld[] = {"com", "net", "org", "xyz", "top", "ru", "io", "co",
					  "info", "shop", "a_b", "x-y", "c0m", "au"};
	size_t cap = LARGE_DOMAINS + LARGE_DOMAINS / 8;
	b->v = calloc(cap, sizeof(*b->v));
	assert_non_null(b->v);
	size_t n = 0;
	while (n < cap) {
		char a[16], s[8];
		rand_str(a, 1 + rng_below(r, 10), "abcdefghijklmnopqrstuvwxyz0123456789", r);
		const char *t = tld[rng_below(r, sizeof(tld) / sizeof(tld[0]))];
		switch (rng_below(r, 4)) {
		case 0:
			rand_str(s, 1 + rng_below(r, 5), "abcdefghijklmnopqrstuvwxyz-_", r);
			snprintf(b->v[n++], sizeof(b->v[0]), "x%sq.%s.%s", s, a, t);
			break;
		case 1: /* a subdomain of a name listed before */
			if (n > 0 && strlen(b->v[n - 1]) <= 40) {
				rand_str(s, 1 + rng_below(r, 4), "abcdefghij", r);
				char tmp[48];
				snprintf(tmp, sizeof(tmp), "%s.%s", s, b->v[n - 1]);
				memcpy(b->v[n++], tmp, sizeof(tmp));
			}
			break;
		default: snprintf(b->v[n++], sizeof(b->v[0]), "%s.%s", a, t); break;
		}
	}
	qsort(b->v, n, sizeof(*b->v), cmp_dom);
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (w == 0 || strcmp(b->v[w - 1], b->v[i]) != 0)
			memmove(b->v[w++], b->v[i], sizeof(b->v[0]));
	assert_true(w >= LARGE_DOMAINS);
	b->n = LARGE_DOMAINS;
	b->max_len = 0;
	for (size_t i = 0; i < b->n; i++)
		if (strlen(b->v[i]) > b->max_len)
			b->max_len = strlen(b->v[i]);
}

/* Reference: row[i] set for each listed name found in l[0..n). */
static void big_ref_line(const struct big *b, const char *l, size_t n, uint8_t *row)
{
	memset(row, 0, b->n);
	for (size_t p = 0; p < n; p++) {
		if ((p > 0 && is_label((unsigned char)l[p - 1])) || !is_label((unsigned char)l[p]))
			continue;
		for (size_t e = p + 1; e <= n && e - p <= b->max_len; e++) {
			if (!host_end(l, n, e))
				continue;
			char key[48];
			for (size_t i = 0; i < e - p; i++)
				key[i] = (char)tolower((unsigned char)l[p + i]);
			key[e - p] = '\0';
			const char (*f)[48] = bsearch(key, b->v, b->n, sizeof(*b->v), cmp_dom);
			if (f)
				row[f - b->v] = 1;
		}
	}
}

/* A matcher of one ad-hoc pack holding val(ctx, i) of type t for i < n
 * (ids x0, x1, ...), every one held by its set, not compiled. */
static void large_build(enum ind_type t, const char *(*val)(const void *ctx, size_t i),
			const void *ctx, size_t n, struct pack **pk, struct matcher **m,
			struct matcher_scratch **scr)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(pack_create_adhoc("-f", pk), CS_OK);
	for (size_t i = 0; i < n; i++) {
		char id[32];
		snprintf(id, sizeof(id), "x%zu", i);
		const char *v = val(ctx, i);
		if (pack_add(*pk, id, t, 0, v, strlen(v), 0, &d) != CS_OK)
			fail_msg("pack_add '%s': %s", v, d.msg);
	}
	pack_seal(*pk);
	if (matcher_build(pk, 1, NULL, NULL, m, &d) != CS_OK)
		fail_msg("matcher_build: %s", d.msg);
	struct matcher_stats ms;
	matcher_get_stats(*m, &ms);
	assert_int_equal(ms.set_entries, n); /* held by the set, not compiled */
	assert_true(ms.patterns < n);
	assert_int_equal(matcher_scratch_create(*m, scr), CS_OK);
}

/* Scan tx and compare, line by line, with ref(ctx, line, len, row), which
 * sets row[i] for each of the n indicators it finds. Prints the first
 * differences; returns their count, agreed hits in *agreed. */
static size_t large_compare(const struct matcher *m, struct matcher_scratch *scr,
			    const struct text *tx, size_t n,
			    void (*ref)(const void *ctx, const char *l, size_t len, uint8_t *row),
			    const char *(*val)(const void *ctx, size_t i), const void *ctx,
			    size_t *agreed)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	struct matcher_hits hits = {0};
	assert_int_equal(matcher_scan(m, scr, (const uint8_t *)tx->p, tx->n, 0, &hits, &d), CS_OK);
	assert_int_equal(hits.dropped, 0);
	uint8_t *row = malloc(n);
	assert_non_null(row);
	size_t bad = 0, hi = 0, ln = 0;
	*agreed = 0;
	for (size_t s = 0; s <= tx->n; ln++) {
		const char *nl = memchr(tx->p + s, '\n', tx->n - s);
		size_t e = nl ? (size_t)(nl - tx->p) : tx->n;
		ref(ctx, tx->p + s, e - s, row);
		for (; hi < hits.n && hits.v[hi].line == ln; hi++) {
			uint32_t id = hits.v[hi].ind;
			if (row[id] == 1) {
				row[id] = 2;
				(*agreed)++;
			} else if (bad++ < 8) { /* not found by the reference, or reported twice */
				print_error("line %zu \"%.*s\": matcher reports '%s'\n", ln, (int)(e - s),
					    tx->p + s, val(ctx, id));
			}
		}
		for (size_t i = 0; i < n; i++)
			if (row[i] == 1 && bad++ < 8)
				print_error("line %zu \"%.*s\": matcher misses '%s'\n", ln, (int)(e - s),
					    tx->p + s, val(ctx, i));
		if (!nl)
			break;
		s = e + 1;
	}
	assert_int_equal(hi, hits.n);
	free(row);
	matcher_hits_fini(&hits);
	return bad;
}

static const char *big_val(const void *ctx, size_t i)
{
	return ((const struct big *)ctx)->v[i];
}

static void big_ref(const void *ctx, const char *l, size_t n, uint8_t *row)
{
	big_ref_line(ctx, l, n, row);
}

static void test_diff_domain_large(void **state)
{
	(void)state;
	struct corpus c;
	corpus_load(&c);
	uint64_t r = 0x20000d0a1ull;
	struct big b;
	big_make(&b, &r);
	struct pack *pk;
	struct matcher *m;
	struct matcher_scratch *scr;
	large_build(IND_DOMAIN, big_val, &b, b.n, &pk, &m, &scr);
	struct matcher_stats ms;
	matcher_get_stats(m, &ms);
	assert_true(ms.patterns < 4);

	struct text tx = {0};
	char buf[512];
	for (size_t l = 0; l < LARGE_LINES; l++) {
		if (l)
			text_puts(&tx, "\n");
		size_t parts = rng_below(&r, 6);
		for (size_t k = 0; k < parts; k++) {
			struct spec sp;
			memset(&sp, 0, sizeof(sp));
			snprintf(sp.value, sizeof(sp.value), "%s", b.v[rng_below(&r, b.n)]);
			size_t pick = rng_below(&r, 10);
			put_sep(&tx, &r);
			if (pick < 2)
				put_fragment(&tx, &r, &c);
			else if (pick < 6)
				dom_plant(&sp, &r, buf, sizeof(buf));
			else
				dom_miss(&sp, &r, buf, sizeof(buf));
			if (pick >= 2)
				text_puts(&tx, buf);
			put_sep(&tx, &r);
		}
	}
	size_t agreed;
	size_t bad = large_compare(m, scr, &tx, b.n, big_ref, big_val, &b, &agreed);
	print_message("domains x%zu: %d lines, %zu hits agreed, %zu differences\n", b.n,
		      LARGE_LINES, agreed, bad);
	assert_int_equal(bad, 0);
	assert_true(agreed >= LARGE_LINES / 2);
	free(tx.p);
	matcher_scratch_destroy(scr);
	matcher_destroy(m);
	pack_destroy(pk);
	free(b.v);
	corpus_free(&c);
}

/* ---------------------------------------------------- large URL lists --- */

/* 2,000 URLs (many sharing their last bytes, as feeds' "/login.php" and
 * ".zip" do) are held by the URL set without being asked; the reference
 * tries every listed URL at every position of every line (ref_url). */
#define LARGE_URLS 2000
#define LARGE_URL_LINES 400

static const char *url_val(const void *ctx, size_t i)
{
	return ((const struct spec *)ctx)[i].value;
}

static void url_ref(const void *ctx, const char *l, size_t n, uint8_t *row)
{
	for (size_t i = 0; i < LARGE_URLS; i++)
		row[i] = ref_url(&((const struct spec *)ctx)[i], l, n);
}

static void test_diff_url_large(void **state)
{
	(void)state;
	static const char *const scheme[] = {"http", "https", "ftp", "hxxp"};
	static const char *const end[] = {"/login.php", "/gate.php", ".zip", "/", "?id=7", ""};
	uint64_t r = 0x0bad0d1ull;
	struct spec *u = calloc(LARGE_URLS, sizeof(*u));
	assert_non_null(u);
	for (size_t i = 0; i < LARGE_URLS; i++) {
		char h[16], p[16];
		rand_str(h, 2 + rng_below(&r, 10), "abcdefghijklmnopqrstuvwxyz0123456789", &r);
		rand_str(p, 1 + rng_below(&r, 10), "abcdefABCDEF0123-._~/", &r);
		/* a unique first path segment keeps every value distinct */
		snprintf(u[i].value, sizeof(u[i].value), "%s://%s.example/u%zu/%s%s",
			 scheme[rng_below(&r, 4)], h, i, p, end[rng_below(&r, 6)]);
		u[i].type = IND_URL;
	}
	struct pack *pk;
	struct matcher *m;
	struct matcher_scratch *scr;
	large_build(IND_URL, url_val, u, LARGE_URLS, &pk, &m, &scr);

	struct text tx = {0};
	char buf[512];
	for (size_t l = 0; l < LARGE_URL_LINES; l++) {
		if (l)
			text_puts(&tx, "\n");
		size_t parts = rng_below(&r, 5);
		for (size_t k = 0; k < parts; k++) {
			const struct spec *sp = &u[rng_below(&r, LARGE_URLS)];
			put_sep(&tx, &r);
			if (rng_below(&r, 2))
				url_plant(sp, &r, buf, sizeof(buf));
			else
				url_miss(sp, &r, buf, sizeof(buf));
			text_puts(&tx, buf);
		}
	}
	size_t agreed;
	size_t bad = large_compare(m, scr, &tx, LARGE_URLS, url_ref, url_val, u, &agreed);
	print_message("URLs x%d: %d lines, %zu hits agreed, %zu differences\n", LARGE_URLS,
		      LARGE_URL_LINES, agreed, bad);
	assert_int_equal(bad, 0);
	assert_true(agreed >= LARGE_URL_LINES / 2);
	free(tx.p);
	free(u);
	matcher_scratch_destroy(scr);
	matcher_destroy(m);
	pack_destroy(pk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff_literal), cmocka_unit_test(test_diff_regex),
		cmocka_unit_test(test_diff_domain),  cmocka_unit_test(test_diff_url),
		cmocka_unit_test(test_diff_email),   cmocka_unit_test(test_diff_hex),
		cmocka_unit_test(test_diff_ip),      cmocka_unit_test(test_diff_wallet),
		cmocka_unit_test(test_diff_iban),    cmocka_unit_test(test_diff_apache_log),
		cmocka_unit_test(test_diff_domain_set),
		cmocka_unit_test(test_diff_apache_log_domset),
		cmocka_unit_test(test_diff_domain_large),
		cmocka_unit_test(test_diff_url_set),
		cmocka_unit_test(test_diff_apache_log_urlset),
		cmocka_unit_test(test_diff_url_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

