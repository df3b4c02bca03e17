/* Fuzz target: the URL set (src/match/urlset.c), against a plain search.
 * The input holds listed URLs, one a line, up to an empty line; the rest is
 * text. Values are normalised as indicator.c leaves them (scheme and host
 * lower case; no space or control byte; a valid scheme). Every end in the
 * text is confirmed; what the set reports must be exactly what a search of
 * every listed URL at every position finds: scheme and host caseless, the
 * rest exact, no URL byte after it. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "match/urlset.h"

#define MAX_URLS 64
#define MAX_URL_LEN 256
#define MAX_TEXT 4096
#define MAX_HITS 1024

struct hit {
	uint32_t ind;
	uint64_t start, end;
};

struct hits {
	struct hit v[MAX_HITS];
	size_t n;
	bool full;
};

static bool on_found(void *ctx, uint32_t first, uint64_t start, uint64_t end)
{
	struct hits *h = ctx;
	if (h->n == MAX_HITS) {
		h->full = true;
		return false;
	}
	h->v[h->n++] = (struct hit){first, start, end};
	return true;
}

static int hit_cmp(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return x->ind < y->ind ? -1 : x->ind > y->ind;
}

static bool alpha(uint8_t c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static bool url_cont(uint8_t c)
{
	return alpha(c) || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~' ||
	       c == '%';
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c;
}

/* Normalise v[0..n) in place as a url indicator value; false when it is
 * not one the set could hold. *auth is the end of scheme://host. */
static bool normalise(uint8_t *v, size_t n, size_t *auth)
{
	const uint8_t *sep = memmem(v, n, "://", 3);
	if (!sep || sep == v || !alpha(v[0]))
		return false;
	size_t sl = (size_t)(sep - v);
	for (size_t i = 0; i < sl; i++)
		if (!(alpha(v[i]) || (v[i] >= '0' && v[i] <= '9') || v[i] == '+' || v[i] == '-' ||
		      v[i] == '.'))
			return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] <= 0x20 || v[i] == 0x7f)
			return false;
	size_t a = sl + 3;
	while (a < n && v[a] != '/' && v[a] != '?' && v[a] != '#')
		a++;
	for (size_t i = 0; i < a; i++)
		v[i] = lower(v[i]);
	*auth = a;
	return urlset_fits((const char *)v, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *split = memmem(data, size, "\n\n", 2);
	size_t list_n = split ? (size_t)(split - data) : size;
	const uint8_t *text = split ? split + 2 : data + size;
	size_t text_n = (size_t)(data + size - text);
	if (text_n > MAX_TEXT)
		text_n = MAX_TEXT;

	uint8_t *val[MAX_URLS];
	size_t len[MAX_URLS], auth[MAX_URLS], n = 0;
	struct urlset u;
	urlset_init(&u);
	const uint8_t *p = data, *end = data + list_n;
	while (p < end && n < MAX_URLS) {
		const uint8_t *q = memchr(p, '\n', (size_t)(end - p));
		size_t k = q ? (size_t)(q - p) : (size_t)(end - p);
		if (k <= MAX_URL_LEN) {
			uint8_t *v = malloc(k ? k : 1);
			FUZZ_CHECK(v != NULL);
			memcpy(v, p, k);
			size_t a;
			bool dup = false;
			uint32_t first = 0;
			if (normalise(v, k, &a) &&
			    urlset_add(&u, (const char *)v, k, (uint32_t)n, &dup, &first) == CS_OK) {
				if (dup) {
					FUZZ_CHECK(first < n && len[first] == k &&
						   memcmp(val[first], v, k) == 0);
					free(v);
				} else {
					val[n] = v;
					len[n] = k;
					auth[n] = a;
					n++;
				}
			} else {
				free(v);
			}
		}
		p += k + 1;
	}
	FUZZ_CHECK(urlset_seal(&u) == CS_OK);
	FUZZ_CHECK(u.n_tails <= n && (n == 0 || u.n_tails > 0));

	static struct hits got, want;
	got.n = want.n = 0;
	got.full = want.full = false;
	for (size_t e = 0; e <= text_n && !got.full; e++)
		(void)urlset_confirm(&u, text, text_n, e, on_found, &got);
	for (size_t i = 0; i < n && !want.full; i++)
		for (size_t s = 0; s + len[i] <= text_n && !want.full; s++) {
			const uint8_t *t = text + s;
			size_t j = 0;
			while (j < len[i] && (j < auth[i] ? lower(t[j]) : t[j]) == val[i][j])
				j++;
			if (j < len[i] || (s + len[i] < text_n && url_cont(t[len[i]])))
				continue;
			(void)on_found(&want, (uint32_t)i, s, s + len[i]);
		}
	if (!got.full && !want.full) {
		qsort(got.v, got.n, sizeof(got.v[0]), hit_cmp);
		qsort(want.v, want.n, sizeof(want.v[0]), hit_cmp);
		FUZZ_CHECK(got.n == want.n);
		for (size_t i = 0; i < got.n; i++)
			FUZZ_CHECK(hit_cmp(&got.v[i], &want.v[i]) == 0);
	}
	urlset_fini(&u);
	for (size_t i = 0; i < n; i++)
		free(val[i]);
	return 0;
}
