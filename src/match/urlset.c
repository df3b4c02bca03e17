/* URL set (urlset.h). Confirmation reads back at most the longest listed
 * URL from the hit, stops at a byte no URL value holds (space, control),
 * and for each "://" on the way tries the scheme starts the listed schemes
 * allow: a few lookups per hit however many URLs are listed. */
#include <stdlib.h>
#include <string.h>

#include "match/urlset.h"

static bool is_alpha(uint8_t c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static bool is_scheme_byte(uint8_t c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

/* After a URL: a byte that would continue its last segment (pattern.c). */
static bool is_url_cont(uint8_t c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~' || c == '%';
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c;
}

/* Length of the scheme before "://", 0 when there is none. */
static size_t scheme_len(const char *v, size_t n)
{
	const char *sep = memmem(v, n, "://", 3);
	return sep ? (size_t)(sep - v) : 0;
}

void urlset_init(struct urlset *u)
{
	memset(u, 0, sizeof(*u));
	strset_init(&u->urls);
}

void urlset_fini(struct urlset *u)
{
	strset_fini(&u->urls);
	for (size_t i = 0; i < u->n_tails; i++)
		free(u->tails[i]);
	free(u->tails);
	urlset_init(u);
}

bool urlset_fits(const char *value, size_t len)
{
	size_t sl = scheme_len(value, len);
	return sl > 0 && sl + 3 < len && len >= URLSET_TAIL && len <= URLSET_LEN_MAX;
}

enum cs_err urlset_add(struct urlset *u, const char *value, size_t len, uint32_t idx, bool *dup,
		       uint32_t *first)
{
	if (!urlset_fits(value, len))
		return CS_ERR_INVALID;
	enum cs_err e = strset_add(&u->urls, value, len, idx, dup, first);
	if (e != CS_OK || *dup)
		return e;
	size_t sl = scheme_len(value, len);
	if (len > u->max_len)
		u->max_len = len;
	if (sl > u->max_scheme)
		u->max_scheme = sl;
	return CS_OK;
}

void urlset_measure(struct urlset *u)
{
	u->max_len = u->max_scheme = 0;
	for (size_t i = 0; i < u->urls.cap; i++) {
		const struct strset_slot *s = &u->urls.slot[i];
		if (!s->key)
			continue;
		size_t sl = scheme_len(s->key, s->len);
		if (s->len > u->max_len)
			u->max_len = s->len;
		if (sl > u->max_scheme)
			u->max_scheme = sl;
	}
}

static int tail_cmp(const void *a, const void *b)
{
	return memcmp(a, b, URLSET_TAIL);
}

/* The tail as a caseless literal expression: letters and digits as they
 * are, every other byte as \xHH. */
static char *tail_expr(const char *t)
{
	static const char hex[] = "0123456789abcdef";
	char *e = malloc(URLSET_TAIL * 4 + 1), *o = e;
	if (!e)
		return NULL;
	for (size_t i = 0; i < URLSET_TAIL; i++) {
		uint8_t c = (uint8_t)t[i];
		if (is_alpha(c) || (c >= '0' && c <= '9')) {
			*o++ = (char)c;
		} else {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 0xf];
		}
	}
	*o = '\0';
	return e;
}

enum cs_err urlset_seal(struct urlset *u)
{
	for (size_t i = 0; i < u->n_tails; i++)
		free(u->tails[i]);
	free(u->tails);
	u->tails = NULL;
	u->n_tails = 0;
	if (u->urls.n == 0)
		return CS_OK;
	char(*t)[URLSET_TAIL] = malloc(u->urls.n * sizeof(*t));
	if (!t)
		return CS_ERR_NOMEM;
	size_t n = 0;
	for (size_t i = 0; i < u->urls.cap; i++) {
		const struct strset_slot *s = &u->urls.slot[i];
		if (!s->key)
			continue;
		for (size_t j = 0; j < URLSET_TAIL; j++)
			t[n][j] = (char)lower((uint8_t)s->key[s->len - URLSET_TAIL + j]);
		n++;
	}
	qsort(t, n, sizeof(*t), tail_cmp);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || memcmp(t[k - 1], t[i], URLSET_TAIL) != 0)
			memmove(t[k++], t[i], URLSET_TAIL);
	enum cs_err err = CS_ERR_NOMEM;
	u->tails = calloc(k, sizeof(*u->tails));
	if (!u->tails)
		goto out;
	for (size_t i = 0; i < k; i++) {
		u->tails[i] = tail_expr(t[i]);
		if (!u->tails[i])
			goto out;
		u->n_tails++;
	}
	err = CS_OK;
out:
	free(t);
	return err;
}

size_t urlset_bytes(const struct urlset *u)
{
	return u->urls.cap * sizeof(struct strset_slot) +
	       u->n_tails * (sizeof(*u->tails) + URLSET_TAIL * 4 + 1);
}

/* Look up the candidates that start with a scheme before the "://" at sep
 * and end at end. key holds buf[lo, end) as a normalised value would:
 * lower case up to the end of the authority, as written after it. */
static bool try_schemes(const struct urlset *u, const uint8_t *buf, uint64_t lo, uint64_t sep,
			uint64_t end, urlset_fn fn, void *ctx)
{
	char key[URLSET_LEN_MAX];
	uint64_t s0 = sep > u->max_scheme ? sep - u->max_scheme : 0;
	if (s0 < lo)
		s0 = lo;
	uint64_t s = sep;
	while (s > s0 && is_scheme_byte(buf[s - 1]))
		s--;
	if (s == sep || end - s > u->max_len)
		return true;
	bool auth = true;
	for (uint64_t p = s; p < end; p++) {
		uint8_t c = buf[p];
		if (p >= sep + 3 && (c == '/' || c == '?' || c == '#'))
			auth = false;
		key[p - s] = (char)(auth ? lower(c) : c);
	}
	/* Every start from the longest scheme to the shortest ("xhttp://" holds "http://"). */
	for (uint64_t p = s; p < sep; p++) {
		uint32_t first;
		if (!is_alpha(buf[p]) || end - p > u->max_len)
			continue;
		if (strset_get(&u->urls, key + (p - s), (size_t)(end - p), &first) &&
		    !fn(ctx, first, p, end))
			return false;
	}
	return true;
}

bool urlset_confirm(const struct urlset *u, const uint8_t *buf, size_t len, uint64_t end,
		    urlset_fn fn, void *ctx)
{
	if (end > len || end < URLSET_TAIL || u->urls.n == 0)
		return true;
	if (end < len && is_url_cont(buf[end]))
		return true;
	uint64_t lo = end > u->max_len ? end - u->max_len : 0;
	/* Back from the end: a "://" needs at least one byte of host after it
	 * and a scheme before it. */
	uint64_t p = end - 4;
	for (;;) {
		if (p < lo + 1)
			return true;
		uint8_t c = buf[p];
		if (c <= 0x20 || c == 0x7f)
			return true;
		if (c == ':' && buf[p + 1] == '/' && buf[p + 2] == '/' && p + 3 < end &&
		    !try_schemes(u, buf, lo, p, end, fn, ctx))
			return false;
		p--;
	}
}
