/* URL set (urlset.h). Confirmation takes the hit's tail, and for each length
 * a listed URL with that tail has, looks up the text of that length ending at
 * the hit when it starts with "scheme://": one lookup per listed length. */
#include <stdlib.h>
#include <string.h>

#include "match/pattern.h"
#include "match/urlset.h"

static bool is_alpha(uint8_t c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static bool is_scheme_byte(uint8_t c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
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
	strset_init(&u->tail_map);
}

static void tails_free(struct urlset *u)
{
	for (size_t i = 0; i < u->n_tails; i++)
		free(u->tails[i]);
	free(u->tails);
	strset_fini(&u->tail_map);
	strset_init(&u->tail_map);
	free(u->tail_key);
	free(u->len_first);
	free(u->len);
	u->tails = NULL;
	u->tail_key = NULL;
	u->len_first = NULL;
	u->len = NULL;
	u->n_tails = 0;
}

void urlset_fini(struct urlset *u)
{
	strset_fini(&u->urls);
	tails_free(u);
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

/* A listed URL's lower-cased tail and its length, sorted to group by tail. */
struct tail_len {
	char tail[URLSET_TAIL];
	uint16_t len;
};

static int tail_len_cmp(const void *a, const void *b)
{
	const struct tail_len *x = a, *y = b;
	int c = memcmp(x->tail, y->tail, URLSET_TAIL);
	return c ? c : (x->len > y->len) - (x->len < y->len);
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

_Static_assert(URLSET_LEN_MAX <= UINT16_MAX, "lengths are held in 16 bits");

enum cs_err urlset_seal(struct urlset *u)
{
	tails_free(u);
	if (u->urls.n == 0)
		return CS_OK;
	struct tail_len *t = malloc(u->urls.n * sizeof(*t));
	if (!t)
		return CS_ERR_NOMEM;
	size_t n = 0;
	for (size_t i = 0; i < u->urls.cap; i++) {
		const struct strset_slot *s = &u->urls.slot[i];
		if (!s->key)
			continue;
		for (size_t j = 0; j < URLSET_TAIL; j++)
			t[n].tail[j] = (char)lower((uint8_t)s->key[s->len - URLSET_TAIL + j]);
		t[n].len = (uint16_t)s->len;
		n++;
	}
	qsort(t, n, sizeof(*t), tail_len_cmp);
	/* Distinct (tail, length) pairs, then the distinct tails among them. */
	size_t m = 0, k = 0;
	for (size_t i = 0; i < n; i++)
		if (m == 0 || tail_len_cmp(&t[m - 1], &t[i]) != 0)
			t[m++] = t[i];
	for (size_t i = 0; i < m; i++)
		k += i == 0 || memcmp(t[i - 1].tail, t[i].tail, URLSET_TAIL) != 0;
	enum cs_err err = CS_ERR_NOMEM;
	u->tails = calloc(k, sizeof(*u->tails));
	u->tail_key = malloc(k * sizeof(*u->tail_key));
	u->len_first = malloc((k + 1) * sizeof(*u->len_first));
	u->len = malloc(m * sizeof(*u->len));
	if (!u->tails || !u->tail_key || !u->len_first || !u->len)
		goto out;
	for (size_t i = 0, ti = 0; i < m; i++) {
		if (i == 0 || memcmp(t[i - 1].tail, t[i].tail, URLSET_TAIL) != 0) {
			memcpy(u->tail_key[ti], t[i].tail, URLSET_TAIL);
			u->len_first[ti] = (uint32_t)i;
			u->tails[ti] = tail_expr(t[i].tail);
			if (!u->tails[ti])
				goto out;
			u->n_tails = ++ti;
		}
		u->len[i] = t[i].len;
	}
	u->len_first[k] = (uint32_t)m;
	for (size_t i = 0; i < k; i++) {
		bool dup;
		uint32_t prev;
		if ((err = strset_add(&u->tail_map, u->tail_key[i], URLSET_TAIL, (uint32_t)i, &dup,
				      &prev)) != CS_OK)
			goto out;
	}
	err = CS_OK;
out:
	free(t);
	return err;
}

size_t urlset_bytes(const struct urlset *u)
{
	size_t lens = u->n_tails ? u->len_first[u->n_tails] : 0;
	return u->urls.cap * sizeof(struct strset_slot) +
	       u->tail_map.cap * sizeof(struct strset_slot) +
	       u->n_tails * (sizeof(*u->tails) + URLSET_TAIL * 4 + 1 + URLSET_TAIL +
			     sizeof(*u->len_first)) +
	       lens * sizeof(*u->len);
}

/* The listed URL of length n ending at end, if buf[end - n, end) is one: it
 * must start with "scheme://" and a byte of host; the lookup key is the text
 * as a normalised value holds it (lower case up to the end of the authority,
 * as written after it). */
static bool try_length(const struct urlset *u, const uint8_t *buf, uint64_t end, size_t n,
		       urlset_fn fn, void *ctx)
{
	uint64_t s = end - n, q = s;
	if (!is_alpha(buf[s]))
		return true;
	while (q < end && q - s <= u->max_scheme && is_scheme_byte(buf[q]))
		q++;
	if (q + 3 >= end || buf[q] != ':' || buf[q + 1] != '/' || buf[q + 2] != '/')
		return true;
	char key[URLSET_LEN_MAX];
	bool auth = true;
	for (uint64_t p = s; p < end; p++) {
		uint8_t c = buf[p];
		if (p >= q + 3 && (c == '/' || c == '?' || c == '#'))
			auth = false;
		key[p - s] = (char)(auth ? lower(c) : c);
	}
	uint32_t first;
	return !strset_get(&u->urls, key, n, &first) || fn(ctx, first, s, end);
}

bool urlset_confirm(const struct urlset *u, const uint8_t *buf, size_t len, uint64_t end,
		    urlset_fn fn, void *ctx)
{
	if (end > len || end < URLSET_TAIL || u->urls.n == 0 || u->n_tails == 0)
		return true;
	if (!pattern_url_end_ok(buf, len, end))
		return true;
	char tk[URLSET_TAIL];
	for (size_t j = 0; j < URLSET_TAIL; j++)
		tk[j] = (char)lower(buf[end - URLSET_TAIL + j]);
	uint32_t t;
	if (!strset_get(&u->tail_map, tk, URLSET_TAIL, &t))
		return true;
	for (uint32_t i = u->len_first[t]; i < u->len_first[t + 1] && u->len[i] <= end; i++)
		if (!try_length(u, buf, end, u->len[i], fn, ctx))
			return false;
	return true;
}
