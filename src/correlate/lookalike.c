/* Lookalike domains of protected brands (lookalike.h): brand values become
 * a label, a skeleton and a list of own domains; a host is split, folded
 * (ICU only for IDN labels) and compared in four passes over buckets of
 * brands indexed at seal time. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/uidna.h>
#include <unicode/uspoof.h>
#include <unicode/utf8.h>

#include "correlate/edit_distance.h"
#include "correlate/lookalike.h"

#define LK_HOST_MAX 253   /* bytes of a host name in xn-- form */
#define LK_UHOST_MAX 1024 /* bytes of a host name as UTF-8 */
#define LK_LABELS_MAX 127
#define LK_FORM_MAX 255 /* bytes of a label's plain form or skeleton */
#define LK_BRAND_SKEL_MAX (2 * LOOKALIKE_LABEL_MAX)
#define LK_OTHER 0x80 /* any non-ASCII character, in plain forms and skeletons */
#define LK_CODES 64
#define LK_SEEN_MAX (2 * LOOKALIKE_MAX_HITS)
#define LK_NEAR_SKEL (LK_BRAND_SKEL_MAX + LOOKALIKE_DISTANCE_MAX + 1)
#define LK_NEAR_LABEL (LOOKALIKE_LABEL_MAX + LOOKALIKE_DISTANCE_MAX + 1)

struct lk_brand {
	uint32_t ind;
	uint8_t label_len, skel_len;
	uint8_t maxd, min;
	bool plain; /* label and skeleton are the same string */
	bool any_tld; /* tld=own: the label under every suffix is the brand's */
	uint64_t label_mask, skel_mask;
	char label[LOOKALIKE_LABEL_MAX + 1];
	uint8_t skel[LK_BRAND_SKEL_MAX];
	char *own; /* n_own NUL-terminated domains in xn-- form, back to back */
	uint32_t n_own;
};

/* Brand indexes in buckets: bucket k holds idx[start[k] .. start[k+1]). */
struct lk_buckets {
	uint32_t *idx;
	uint32_t *start;
};

struct lookalike {
	UIDNA *idna;
	USpoofChecker *spoof;
	struct lk_brand *brand;
	size_t n, cap;
	bool sealed;
	struct lk_buckets by_skel;    /* by skeleton length */
	struct lk_buckets near_skel;  /* by skeleton lengths within the brand's distance */
	struct lk_buckets near_label; /* by label lengths within the brand's distance */
	struct lk_buckets by_bigram; /* COMBO brands, by first two skeleton bytes */
};

/* One host, in xn-- form (a) and decoded (u, the same bytes when no label
 * needed ICU), with matching label spans. */
struct lk_host {
	char a[LK_HOST_MAX + 1];
	char u[LK_UHOST_MAX];
	const char *ub;
	size_t alen, n, r; /* r: index of the registrable label */
	uint16_t a_off[LK_LABELS_MAX], a_len[LK_LABELS_MAX];
	uint16_t u_off[LK_LABELS_MAX], u_len[LK_LABELS_MAX];
};

/* A label or token as compared: plain (lower case, one LK_OTHER per
 * non-ASCII character) and skeleton, with their character sets. */
struct lk_forms {
	uint8_t raw[LK_FORM_MAX], skel[LK_FORM_MAX];
	size_t raw_len, skel_len;
	uint64_t raw_mask, skel_mask;
	bool plain; /* raw and skel are the same string */
};

/* One lookalike_check() call. */
struct lk_run {
	const struct lookalike *l;
	const struct lk_host *h;
	struct lookalike_hit *out;
	size_t cap, hits, n_seen;
	uint32_t seen[LK_SEEN_MAX]; /* brands already decided, hit or own */
};

/* ---- characters ---- */

static bool is_lower_alnum(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* 1..38 for the bytes of host names, 0 for anything else. */
static unsigned char_code(uint8_t c)
{
	if (c >= 'a' && c <= 'z')
		return 1u + (c - 'a');
	if (c >= '0' && c <= '9')
		return 27u + (c - '0');
	if (c == '-')
		return 37;
	if (c == '_')
		return 38;
	return 0;
}

static uint64_t char_mask(const uint8_t *s, size_t n)
{
	uint64_t m = 0;
	for (size_t i = 0; i < n; i++)
		m |= 1ull << char_code(s[i]);
	return m;
}

/* The ASCII skeleton of one byte into out; returns 1 or 2. */
static size_t fold_byte(uint8_t c, uint8_t out[2])
{
	c = lower(c);
	switch (c) {
	case 'm': out[0] = 'r'; out[1] = 'n'; return 2; /* TR39 */
	case 'w': out[0] = 'v'; out[1] = 'v'; return 2;
	case 'd': out[0] = 'c'; out[1] = 'l'; return 2;
	case '0': out[0] = 'o'; return 1; /* TR39: 0 -> O, then lower case */
	case '1': out[0] = 'l'; return 1; /* TR39 */
	}
	out[0] = is_lower_alnum(c) || c == '-' || c == '_' ? c : LK_OTHER;
	return 1;
}

/* Append the fold of c to out[0..cap); returns false when it does not fit. */
static bool put_fold(uint8_t c, uint8_t *out, size_t *n, size_t cap)
{
	uint8_t f[2];
	size_t k = fold_byte(c, f);
	if (*n + k > cap)
		return false;
	memcpy(out + *n, f, k);
	*n += k;
	return true;
}

size_t lookalike_fold(const char *s, size_t len, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t f[2];
		size_t k = fold_byte((uint8_t)s[i], f);
		for (size_t j = 0; j < k; j++, n++)
			if (n < cap)
				out[n] = (char)f[j];
	}
	return n;
}

const char *lookalike_kind_name(enum lookalike_kind kind)
{
	switch (kind) {
	case LOOKALIKE_TLD: return "tld";
	case LOOKALIKE_HOMOGLYPH: return "homoglyph";
	case LOOKALIKE_EDIT: return "edit";
	case LOOKALIKE_HYPHEN: return "hyphen";
	case LOOKALIKE_COMBO: return "combo";
	}
	return "?";
}

/* ---- labels, suffixes, forms ---- */

/* Split s[0..n) at dots. With check, every label must be non-empty, at most
 * 63 bytes of [a-z0-9-_]. False when it cannot be split. */
static bool split_labels(const char *s, size_t n, bool check, uint16_t *off, uint16_t *len,
			 size_t *count)
{
	size_t k = 0, start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			uint8_t c = (uint8_t)s[i];
			if (check && !is_lower_alnum(c) && c != '-' && c != '_')
				return false;
			continue;
		}
		size_t ln = i - start;
		if (k == LK_LABELS_MAX || (check && (ln == 0 || ln > LOOKALIKE_LABEL_MAX)))
			return false;
		off[k] = (uint16_t)start;
		len[k] = (uint16_t)ln;
		k++;
		start = i + 1;
	}
	*count = k;
	return true;
}

static bool label_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

static bool in_list(const char *s, size_t n, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (label_is(s, n, list[i]))
			return true;
	return false;
}

static bool all_letters(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 'a' || s[i] > 'z')
			return false;
	return n > 0;
}

/* Labels in the public suffix (see lookalike.h): 1 or 2. */
static size_t suffix_labels(const char *a, const uint16_t *off, const uint16_t *len, size_t n)
{
	static const char *const second[] = { "com", "net", "org", "co", "ac", "gov", "edu",
					      "or", "ne", "go", "gob", "mil", "nic", "ltd",
					      "plc", "sch", "me", "nom", NULL };
	if (n >= 2 && len[n - 1] == 2 && all_letters(a + off[n - 1], 2) &&
	    in_list(a + off[n - 2], len[n - 2], second))
		return 2;
	return 1;
}

/* Forms of a piece given as UTF-8 (ASCII when no byte is >= 0x80); false
 * when it is too long or ICU fails on it. */
static bool forms_of(const struct lookalike *l, const char *s, size_t n, struct lk_forms *f)
{
	bool ascii = true;
	for (size_t i = 0; i < n; i++)
		if ((uint8_t)s[i] >= 0x80)
			ascii = false;
	f->raw_len = f->skel_len = 0;
	if (ascii) {
		if (n > LK_FORM_MAX)
			return false;
		for (size_t i = 0; i < n; i++) {
			f->raw[i] = lower((uint8_t)s[i]);
			if (!put_fold((uint8_t)s[i], f->skel, &f->skel_len, LK_FORM_MAX))
				return false;
		}
		f->raw_len = n;
	} else {
		int32_t i = 0, un = (int32_t)n;
		while (i < un) {
			UChar32 c;
			U8_NEXT(s, i, un, c);
			if (f->raw_len == LK_FORM_MAX)
				return false;
			f->raw[f->raw_len++] = c >= 0 && c < 0x80 ? lower((uint8_t)c) : LK_OTHER;
		}
		char sk[LK_UHOST_MAX];
		UErrorCode st = U_ZERO_ERROR;
		int32_t k = uspoof_getSkeletonUTF8(l->spoof, 0, s, un, sk, (int32_t)sizeof(sk), &st);
		if (U_FAILURE(st) || k < 0 || (size_t)k > sizeof(sk))
			return false;
		for (i = 0; i < k;) {
			UChar32 c;
			U8_NEXT(sk, i, k, c);
			if (c >= 0 && c < 0x80) {
				if (!put_fold((uint8_t)c, f->skel, &f->skel_len, LK_FORM_MAX))
					return false;
			} else if (c < 0 || u_charType(c) != U_NON_SPACING_MARK) {
				if (f->skel_len == LK_FORM_MAX)
					return false;
				f->skel[f->skel_len++] = LK_OTHER;
			}
		}
	}
	f->plain = f->raw_len == f->skel_len && memcmp(f->raw, f->skel, f->raw_len) == 0;
	f->raw_mask = char_mask(f->raw, f->raw_len);
	f->skel_mask = char_mask(f->skel, f->skel_len);
	return true;
}

/* ---- hosts ---- */

static bool has_ace_label(const char *a, const uint16_t *off, const uint16_t *len, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (len[i] >= 4 && memcmp(a + off[i], "xn--", 4) == 0)
			return true;
	return false;
}

/* host -> h: lower case xn-- form, decoded form, labels, registrable label.
 * False when it is not a host name that can be compared. */
static bool host_prepare(const struct lookalike *l, const char *s, size_t n, struct lk_host *h)
{
	if (n > 0 && s[n - 1] == '.')
		n--;
	bool high = false;
	for (size_t i = 0; i < n; i++)
		high |= (uint8_t)s[i] >= 0x80;
	if (n == 0 || n >= (high ? LK_UHOST_MAX : LK_HOST_MAX + 1))
		return false;
	if (high) {
		UIDNAInfo info = UIDNA_INFO_INITIALIZER;
		UErrorCode st = U_ZERO_ERROR;
		int32_t k = uidna_nameToASCII_UTF8(l->idna, s, (int32_t)n, h->a, LK_HOST_MAX + 1,
						   &info, &st);
		if (U_FAILURE(st) || info.errors || k <= 0 || k > LK_HOST_MAX)
			return false;
		h->alen = (size_t)k;
	} else {
		for (size_t i = 0; i < n; i++)
			h->a[i] = (char)lower((uint8_t)s[i]);
		h->alen = n;
	}
	h->a[h->alen] = '\0';
	if (!split_labels(h->a, h->alen, true, h->a_off, h->a_len, &h->n) || h->n < 2)
		return false;
	const char *last = h->a + h->a_off[h->n - 1];
	bool digits = true;
	for (size_t i = 0; i < h->a_len[h->n - 1]; i++)
		digits &= last[i] >= '0' && last[i] <= '9';
	if (digits)
		return false;
	size_t suffix = suffix_labels(h->a, h->a_off, h->a_len, h->n);
	if (h->n <= suffix)
		return false;
	h->r = h->n - suffix - 1;
	if (!high && !has_ace_label(h->a, h->a_off, h->a_len, h->n)) {
		h->ub = h->a;
		memcpy(h->u_off, h->a_off, h->n * sizeof(h->a_off[0]));
		memcpy(h->u_len, h->a_len, h->n * sizeof(h->a_len[0]));
		return true;
	}
	UIDNAInfo info = UIDNA_INFO_INITIALIZER;
	UErrorCode st = U_ZERO_ERROR;
	int32_t k = uidna_nameToUnicodeUTF8(l->idna, h->a, (int32_t)h->alen, h->u,
					    (int32_t)sizeof(h->u), &info, &st);
	if (U_FAILURE(st) || info.errors || k <= 0 || (size_t)k >= sizeof(h->u))
		return false;
	size_t un;
	if (!split_labels(h->u, (size_t)k, false, h->u_off, h->u_len, &un) || un != h->n)
		return false;
	h->ub = h->u;
	return true;
}

static bool is_own(const struct lk_brand *b, const struct lk_host *h)
{
	const char *o = b->own;
	for (uint32_t i = 0; i < b->n_own; i++) {
		size_t ol = strlen(o);
		if (h->alen == ol && memcmp(h->a, o, ol) == 0)
			return true;
		if (h->alen > ol && h->a[h->alen - ol - 1] == '.' &&
		    memcmp(h->a + h->alen - ol, o, ol) == 0)
			return true;
		o += ol + 1;
	}
	return false;
}

/* ---- hits ---- */

static void add_hit(struct lk_run *run, uint32_t bi, enum lookalike_kind kind, unsigned dist,
		    size_t label)
{
	for (size_t k = 0; k < run->n_seen; k++)
		if (run->seen[k] == bi)
			return;
	if (run->n_seen == LK_SEEN_MAX || run->hits == LOOKALIKE_MAX_HITS)
		return;
	run->seen[run->n_seen++] = bi;
	const struct lk_brand *b = &run->l->brand[bi];
	if (is_own(b, run->h))
		return;
	if (run->hits < run->cap) {
		struct lookalike_hit *o = &run->out[run->hits];
		o->ind = b->ind;
		o->kind = kind;
		o->distance = dist;
		o->brand = b->label;
		size_t n = run->h->u_len[label];
		if (n > LOOKALIKE_HIT_LABEL_MAX)
			n = LOOKALIKE_HIT_LABEL_MAX;
		memcpy(o->label, run->h->ub + run->h->u_off[label], n);
		o->label[n] = '\0';
	}
	run->hits++;
}

static size_t len_diff(size_t a, size_t b)
{
	return a > b ? a - b : b - a;
}

/* True when x has at most max bits set. */
static bool bits_at_most(uint64_t x, unsigned max)
{
	for (unsigned i = 0; i < max && x; i++)
		x &= x - 1;
	return x == 0;
}

/* Each character missing from the other string costs at least one edit,
 * and so does each byte of length difference. */
static bool sets_close(size_t alen, uint64_t am, size_t blen, uint64_t bm, unsigned max)
{
	return len_diff(alen, blen) <= max && bits_at_most(am & ~bm, max) &&
	       bits_at_most(bm & ~am, max);
}

/* The registrable label against one brand: TLD when the labels are equal,
 * HOMOGLYPH when only the skeletons are, EDIT when the skeletons or the
 * plain labels are within the brand's distance (the smaller counts). */
static void try_label(struct lk_run *run, uint32_t bi, const struct lk_forms *f)
{
	const struct lk_brand *b = &run->l->brand[bi];
	unsigned max = b->maxd, d = max + 1;
	bool skel_near = sets_close(f->skel_len, f->skel_mask, b->skel_len, b->skel_mask, max);
	bool raw_near = !(f->plain && b->plain) &&
			sets_close(f->raw_len, f->raw_mask, b->label_len, b->label_mask, max);
	if (!skel_near && !raw_near)
		return;
	if (skel_near && f->skel_len == b->skel_len && memcmp(f->skel, b->skel, b->skel_len) == 0) {
		bool same = f->raw_len == b->label_len && memcmp(f->raw, b->label, b->label_len) == 0;
		if (same && b->any_tld)
			return; /* google.co.in for a brand that holds its name everywhere */
		add_hit(run, bi, same ? LOOKALIKE_TLD : LOOKALIKE_HOMOGLYPH, 0, run->h->r);
		return;
	}
	if (max == 0)
		return;
	if (skel_near)
		d = edit_distance_osa(f->skel, f->skel_len, b->skel, b->skel_len, max);
	if (d > max && raw_near) {
		unsigned e = edit_distance_osa(f->raw, f->raw_len, (const uint8_t *)b->label,
					       b->label_len, max);
		if (e < d)
			d = e;
	}
	if (d <= max)
		add_hit(run, bi, LOOKALIKE_EDIT, d, run->h->r);
}

/* ---- passes ---- */

/* Pass 1: the registrable label against the brands whose skeleton length
 * is within their distance of its skeleton's, then those whose label length
 * is within their distance of its plain form's (their plain forms may be
 * close where the skeletons are not). */
static void pass_label(struct lk_run *run, const struct lk_forms *f)
{
	const struct lookalike *l = run->l;
	const struct lk_buckets *bk = &l->near_skel;
	if (f->skel_len < LK_NEAR_SKEL)
		for (uint32_t k = bk->start[f->skel_len]; k < bk->start[f->skel_len + 1]; k++)
			try_label(run, bk->idx[k], f);
	bk = &l->near_label;
	if (f->raw_len < LK_NEAR_LABEL)
		for (uint32_t k = bk->start[f->raw_len]; k < bk->start[f->raw_len + 1]; k++) {
			uint32_t bi = bk->idx[k];
			const struct lk_brand *b = &l->brand[bi];
			/* plain against plain, or skeleton near enough: tried above */
			if (!(f->plain && b->plain) && len_diff(b->skel_len, f->skel_len) > b->maxd)
				try_label(run, bi, f);
		}
}

/* Brands whose skeleton equals f's and whose label has at least min_len bytes. */
static void each_equal(struct lk_run *run, const struct lk_forms *f, size_t min_len,
		       enum lookalike_kind kind, size_t label)
{
	const struct lookalike *l = run->l;
	if (f->skel_len > LK_BRAND_SKEL_MAX)
		return;
	for (uint32_t k = l->by_skel.start[f->skel_len]; k < l->by_skel.start[f->skel_len + 1];
	     k++) {
		uint32_t bi = l->by_skel.idx[k];
		const struct lk_brand *b = &l->brand[bi];
		if (b->skel_mask == f->skel_mask && b->label_len >= min_len &&
		    memcmp(b->skel, f->skel, f->skel_len) == 0)
			add_hit(run, bi, kind, 0, label);
	}
}

/* Pass 2: hyphen tokens of the registrable label, and the label without
 * its hyphens. */
static void pass_hyphen(struct lk_run *run)
{
	const struct lk_host *h = run->h;
	const char *s = h->ub + h->u_off[h->r];
	size_t n = h->u_len[h->r];
	if (!memchr(s, '-', n))
		return;
	struct lk_forms f;
	char joined[LK_UHOST_MAX];
	size_t jn = 0;
	for (size_t i = 0, start = 0; i <= n; i++) {
		if (i < n && s[i] != '-') {
			joined[jn++] = s[i];
			continue;
		}
		if (i > start && forms_of(run->l, s + start, i - start, &f))
			each_equal(run, &f, LOOKALIKE_TOKEN_MIN, LOOKALIKE_HYPHEN, h->r);
		start = i + 1;
	}
	if (jn > 0 && forms_of(run->l, joined, jn, &f))
		each_equal(run, &f, 0, LOOKALIKE_HYPHEN, h->r);
}

/* Pass 3: brand skeletons inside the registrable label's skeleton. */
static void pass_combo(struct lk_run *run, const struct lk_forms *f)
{
	const struct lookalike *l = run->l;
	for (size_t p = 0; p + 1 < f->skel_len; p++) {
		unsigned c0 = char_code(f->skel[p]), c1 = char_code(f->skel[p + 1]);
		if (!c0 || !c1)
			continue;
		unsigned key = c0 * LK_CODES + c1;
		for (uint32_t k = l->by_bigram.start[key]; k < l->by_bigram.start[key + 1]; k++) {
			uint32_t bi = l->by_bigram.idx[k];
			const struct lk_brand *b = &l->brand[bi];
			if (b->skel_len < f->skel_len && p + b->skel_len <= f->skel_len &&
			    memcmp(f->skel + p, b->skel, b->skel_len) == 0)
				add_hit(run, bi, LOOKALIKE_COMBO, 0, run->h->r);
		}
	}
}

/* A token that names a TLD, for brand b (see lookalike.h). */
static bool tld_like(const struct lk_brand *b, const char *s, size_t n)
{
	static const char *const generic[] = {
		"com", "net", "org", "info", "biz", "gov", "edu", "mil", "int", "mobi", "name",
		"pro", "app", "dev", "xyz", "online", "site", "top", "shop", "store", "club",
		"live", "tech", "website", "space", "cloud", "link", "vip", "icu", NULL
	};
	if (!all_letters(s, n))
		return false;
	if (n == 2 || in_list(s, n, generic))
		return true;
	const char *o = b->own;
	for (uint32_t i = 0; i < b->n_own; i++) {
		size_t ol = strlen(o);
		size_t tl = 0;
		while (tl < ol && o[ol - 1 - tl] != '.')
			tl++;
		if (tl == n && tl < ol && memcmp(o + ol - tl, s, n) == 0)
			return true;
		o += ol + 1;
	}
	return false;
}

/* The token of host labels 0..r that follows the token ending at end in
 * label i: the rest of label i up to '-', or the first token of label i+1. */
static void next_token(const struct lk_host *h, size_t i, size_t end, const char **s, size_t *n)
{
	const char *lab = h->ub + h->u_off[i];
	size_t ln = h->u_len[i], from = end + 1;
	if (end >= ln) {
		if (i + 1 > h->r) {
			*n = 0;
			return;
		}
		lab = h->ub + h->u_off[i + 1];
		ln = h->u_len[i + 1];
		from = 0;
	}
	const char *e = memchr(lab + from, '-', ln - from);
	*s = lab + from;
	*n = e ? (size_t)(e - *s) : ln - from;
}

/* Pass 4: the brand as a token left of the registrable label, followed by a
 * TLD token (paypal.com.evil.net, paypal.com-login.net). */
static void pass_subdomain(struct lk_run *run)
{
	const struct lookalike *l = run->l;
	const struct lk_host *h = run->h;
	struct lk_forms f;
	for (size_t i = 0; i < h->r; i++) {
		const char *s = h->ub + h->u_off[i];
		size_t n = h->u_len[i];
		for (size_t j = 0, start = 0; j <= n; j++) {
			if (j < n && s[j] != '-')
				continue;
			size_t tn = j - start;
			const char *t = s + start;
			start = j + 1;
			if (tn == 0 || !forms_of(l, t, tn, &f) || f.skel_len > LK_BRAND_SKEL_MAX)
				continue;
			const char *nx = NULL;
			size_t nn = 0;
			for (uint32_t k = l->by_skel.start[f.skel_len];
			     k < l->by_skel.start[f.skel_len + 1]; k++) {
				uint32_t bi = l->by_skel.idx[k];
				const struct lk_brand *b = &l->brand[bi];
				if (b->skel_mask != f.skel_mask ||
				    memcmp(b->skel, f.skel, f.skel_len) != 0)
					continue;
				if (!nx)
					next_token(h, i, j, &nx, &nn);
				if (nn && tld_like(b, nx, nn))
					add_hit(run, bi, LOOKALIKE_TLD, 0, i);
			}
		}
	}
}

size_t lookalike_check(const struct lookalike *l, const char *host, size_t len,
		       struct lookalike_hit *out, size_t cap)
{
	if (!l || !l->sealed || !host || l->n == 0 || (!out && cap))
		return 0;
	struct lk_host h;
	if (!host_prepare(l, host, len, &h))
		return 0;
	struct lk_run run = { .l = l, .h = &h, .out = out, .cap = cap };
	struct lk_forms f;
	if (forms_of(l, h.ub + h.u_off[h.r], h.u_len[h.r], &f)) {
		pass_hyphen(&run);
		pass_label(&run, &f);
		pass_combo(&run, &f);
	}
	pass_subdomain(&run);
	return run.hits;
}

/* ---- building ---- */

enum cs_err lookalike_create(struct lookalike **out)
{
	if (!out)
		return CS_ERR_INVALID;
	*out = NULL;
	struct lookalike *l = calloc(1, sizeof(*l));
	if (!l)
		return CS_ERR_NOMEM;
	UErrorCode st = U_ZERO_ERROR;
	l->idna = uidna_openUTS46(UIDNA_NONTRANSITIONAL_TO_ASCII | UIDNA_NONTRANSITIONAL_TO_UNICODE,
				  &st);
	if (U_SUCCESS(st))
		l->spoof = uspoof_open(&st);
	if (U_FAILURE(st)) {
		lookalike_destroy(l);
		return st == U_MEMORY_ALLOCATION_ERROR ? CS_ERR_NOMEM : CS_ERR_UNSUPPORTED;
	}
	*out = l;
	return CS_OK;
}

static void buckets_fini(struct lk_buckets *b)
{
	free(b->idx);
	free(b->start);
	b->idx = b->start = NULL;
}

static void buckets_fini_all(struct lookalike *l)
{
	buckets_fini(&l->by_skel);
	buckets_fini(&l->near_skel);
	buckets_fini(&l->near_label);
	buckets_fini(&l->by_bigram);
}

void lookalike_destroy(struct lookalike *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->brand[i].own);
	free(l->brand);
	buckets_fini_all(l);
	if (l->spoof)
		uspoof_close(l->spoof);
	if (l->idna)
		uidna_close(l->idna);
	free(l);
}

size_t lookalike_brand_count(const struct lookalike *l)
{
	return l ? l->n : 0;
}

/* The bucket keys of brand b, into keys[]; returns how many. */
typedef size_t (*lk_keys_fn)(const struct lk_brand *b, size_t *keys);

static size_t keys_skel(const struct lk_brand *b, size_t *keys)
{
	keys[0] = b->skel_len;
	return 1;
}

/* Every length within maxd of len. */
static size_t keys_near(size_t len, unsigned maxd, size_t *keys)
{
	size_t n = 0;
	for (size_t k = len > maxd ? len - maxd : 0; k <= len + maxd; k++)
		keys[n++] = k;
	return n;
}

static size_t keys_near_skel(const struct lk_brand *b, size_t *keys)
{
	return keys_near(b->skel_len, b->maxd, keys);
}

static size_t keys_near_label(const struct lk_brand *b, size_t *keys)
{
	return keys_near(b->label_len, b->maxd, keys);
}

static size_t keys_bigram(const struct lk_brand *b, size_t *keys)
{
	if (b->label_len < b->min)
		return 0;
	keys[0] = char_code(b->skel[0]) * LK_CODES + char_code(b->skel[1]);
	return 1;
}

#define LK_KEYS_MAX (2 * LOOKALIKE_DISTANCE_MAX + 1)

/* Counting sort of brands into nkeys buckets (a brand may be in several). */
static enum cs_err buckets_build(struct lk_buckets *bk, const struct lookalike *l, size_t nkeys,
				 lk_keys_fn keys_of)
{
	size_t keys[LK_KEYS_MAX], total = 0;
	bk->start = calloc(nkeys + 1, sizeof(*bk->start));
	if (!bk->start)
		return CS_ERR_NOMEM;
	for (size_t i = 0; i < l->n; i++) {
		size_t nk = keys_of(&l->brand[i], keys);
		for (size_t k = 0; k < nk; k++)
			bk->start[keys[k] + 1]++;
		total += nk;
	}
	for (size_t k = 0; k < nkeys; k++)
		bk->start[k + 1] += bk->start[k];
	bk->idx = malloc((total ? total : 1) * sizeof(*bk->idx));
	uint32_t *fill = malloc(nkeys * sizeof(*fill));
	if (!bk->idx || !fill) {
		free(fill);
		return CS_ERR_NOMEM;
	}
	memcpy(fill, bk->start, nkeys * sizeof(*fill));
	for (size_t i = 0; i < l->n; i++) {
		size_t nk = keys_of(&l->brand[i], keys);
		for (size_t k = 0; k < nk; k++)
			bk->idx[fill[keys[k]]++] = (uint32_t)i;
	}
	free(fill);
	return CS_OK;
}

enum cs_err lookalike_seal(struct lookalike *l)
{
	if (!l)
		return CS_ERR_INVALID;
	if (l->sealed)
		return CS_OK;
	enum cs_err err = buckets_build(&l->by_skel, l, LK_BRAND_SKEL_MAX + 1, keys_skel);
	if (!err)
		err = buckets_build(&l->near_skel, l, LK_NEAR_SKEL, keys_near_skel);
	if (!err)
		err = buckets_build(&l->near_label, l, LK_NEAR_LABEL, keys_near_label);
	if (!err)
		err = buckets_build(&l->by_bigram, l, LK_CODES * LK_CODES, keys_bigram);
	if (err) {
		buckets_fini_all(l);
		return err;
	}
	l->sealed = true;
	return CS_OK;
}

/* ---- brand values ---- */

#define LK_SHOW 80 /* bytes of a refused token quoted in a message */

/* One domain of a brand value into h (xn-- form, labels, registrable label). */
static enum cs_err domain_parse(const struct lookalike *l, const char *s, size_t n,
				struct lk_host *h, struct cs_diag *d)
{
	int show = (int)(n < LK_SHOW ? n : LK_SHOW);
	const char *t = s;
	if (n > 0 && s[n - 1] == '.')
		n--;
	bool high = false;
	for (size_t i = 0; i < n; i++)
		high |= (uint8_t)s[i] >= 0x80;
	if (n == 0 || n >= LK_UHOST_MAX || (!high && n > LK_HOST_MAX)) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "brand domain '%.*s': empty or longer than %d bytes", show, t,
			    LK_HOST_MAX);
		return CS_ERR_PARSE;
	}
	if (high) {
		UIDNAInfo info = UIDNA_INFO_INITIALIZER;
		UErrorCode st = U_ZERO_ERROR;
		int32_t k = uidna_nameToASCII_UTF8(l->idna, s, (int32_t)n, h->a, LK_HOST_MAX + 1,
						   &info, &st);
		if (U_FAILURE(st) || info.errors || k <= 0 || k > LK_HOST_MAX) {
			cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
				    "brand domain '%.*s': not a valid internationalised domain name",
				    show, t);
			return CS_ERR_PARSE;
		}
		h->alen = (size_t)k;
	} else {
		for (size_t i = 0; i < n; i++)
			h->a[i] = (char)lower((uint8_t)s[i]);
		h->alen = n;
	}
	h->a[h->alen] = '\0';
	if (!split_labels(h->a, h->alen, true, h->a_off, h->a_len, &h->n)) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "brand domain '%.*s': labels must be 1 to 63 letters, digits, '-' or '_'",
			    show, t);
		return CS_ERR_PARSE;
	}
	if (has_ace_label(h->a, h->a_off, h->a_len, h->n)) {
		UIDNAInfo info = UIDNA_INFO_INITIALIZER;
		UErrorCode st = U_ZERO_ERROR;
		uidna_nameToUnicodeUTF8(l->idna, h->a, (int32_t)h->alen, h->u,
					(int32_t)sizeof(h->u), &info, &st);
		if (U_FAILURE(st) || info.errors) {
			cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
				    "brand domain '%.*s': bad xn-- label", show, t);
			return CS_ERR_PARSE;
		}
	}
	size_t suffix = suffix_labels(h->a, h->a_off, h->a_len, h->n);
	if (h->n <= suffix) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "brand domain '%.*s': no label left of the public suffix", show, t);
		return CS_ERR_PARSE;
	}
	h->r = h->n - suffix - 1;
	return CS_OK;
}

/* The brand label, skeleton and default options from the first domain. */
static enum cs_err brand_label(struct lk_brand *b, const struct lk_host *h, struct cs_diag *d)
{
	const char *s = h->a + h->a_off[h->r];
	size_t n = h->a_len[h->r];
	bool ldh = n >= 2 && s[0] != '-' && s[n - 1] != '-' && !(n >= 4 && !memcmp(s, "xn--", 4));
	for (size_t i = 0; i < n; i++)
		ldh &= is_lower_alnum((uint8_t)s[i]) || s[i] == '-';
	if (!ldh) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "brand label '%.*s' (from '%s'): must be 2 to 63 ASCII letters, digits "
			    "and inner hyphens; give the brand's ASCII domain first",
			    (int)n, s, h->a);
		return CS_ERR_PARSE;
	}
	memcpy(b->label, s, n);
	b->label[n] = '\0';
	b->label_len = (uint8_t)n;
	size_t sl = 0;
	for (size_t i = 0; i < n; i++)
		put_fold((uint8_t)s[i], b->skel, &sl, sizeof(b->skel));
	b->skel_len = (uint8_t)sl;
	b->plain = sl == n && memcmp(b->skel, s, n) == 0;
	b->label_mask = char_mask((const uint8_t *)b->label, n);
	b->skel_mask = char_mask(b->skel, sl);
	b->maxd = n <= 4 ? 0 : n <= 8 ? 1 : 2;
	b->min = LOOKALIKE_COMBO_MIN;
	return CS_OK;
}

/* "distance=N" or "min=N" into b; each at most once (*given tracks that). */
static enum cs_err option_parse(struct lk_brand *b, unsigned *given, const char *s, size_t n,
				struct cs_diag *d)
{
	int show = (int)(n < LK_SHOW ? n : LK_SHOW);
	const char *eq = memchr(s, '=', n);
	size_t kn = (size_t)(eq - s), vn = n - kn - 1;
	unsigned bit, lo, hi;
	if (label_is(s, kn, "tld")) {
		if (!label_is(eq + 1, vn, "own")) {
			cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
				    "brand option '%.*s': the only value is tld=own", show, s);
			return CS_ERR_PARSE;
		}
		if (*given & 4) {
			cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
				    "brand option '%.*s' given twice", (int)kn, s);
			return CS_ERR_PARSE;
		}
		*given |= 4;
		b->any_tld = true;
		return CS_OK;
	}
	if (label_is(s, kn, "distance")) {
		bit = 1, lo = 0, hi = LOOKALIKE_DISTANCE_MAX;
	} else if (label_is(s, kn, "min")) {
		bit = 2, lo = 1, hi = LOOKALIKE_LABEL_MAX;
	} else {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "unknown brand option '%.*s' (known: distance=N, min=N, tld=own)", show, s);
		return CS_ERR_PARSE;
	}
	if (*given & bit) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "brand option '%.*s' given twice",
			    (int)kn, s);
		return CS_ERR_PARSE;
	}
	unsigned v = 0;
	bool ok = vn >= 1 && vn <= 2;
	for (size_t i = 0; ok && i < vn; i++) {
		ok = eq[1 + i] >= '0' && eq[1 + i] <= '9';
		v = v * 10 + (unsigned)(eq[1 + i] - '0');
	}
	if (!ok || v < lo || v > hi) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "brand option '%.*s': N must be a whole number from %u to %u", show, s,
			    lo, hi);
		return CS_ERR_PARSE;
	}
	*given |= bit;
	if (bit == 1)
		b->maxd = (uint8_t)v;
	else
		b->min = (uint8_t)v;
	return CS_OK;
}

/* Append a NUL-terminated domain to b->own. */
static enum cs_err own_append(struct lk_brand *b, size_t *used, size_t *cap, const char *s,
			      size_t n)
{
	if (*used + n + 1 > *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		while (nc < *used + n + 1)
			nc *= 2;
		char *p = realloc(b->own, nc);
		if (!p)
			return CS_ERR_NOMEM;
		b->own = p;
		*cap = nc;
	}
	memcpy(b->own + *used, s, n);
	b->own[*used + n] = '\0';
	*used += n + 1;
	b->n_own++;
	return CS_OK;
}

/* Tokens of a brand value: domains, then options (which may come anywhere). */
static enum cs_err brand_parse(const struct lookalike *l, struct lk_brand *b, const char *value,
			       size_t len, struct cs_diag *d)
{
	struct lk_host h;
	size_t used = 0, cap = 0;
	unsigned given = 0;
	struct lk_brand opts = { 0 };
	enum cs_err err = CS_OK;
	for (size_t i = 0; i < len && !err;) {
		if (value[i] == ' ' || value[i] == '\t') {
			i++;
			continue;
		}
		size_t j = i;
		while (j < len && value[j] != ' ' && value[j] != '\t')
			j++;
		const char *t = value + i;
		size_t tn = j - i;
		i = j;
		if (memchr(t, '=', tn)) {
			err = option_parse(&opts, &given, t, tn, d);
			continue;
		}
		if (b->n_own == LOOKALIKE_MAX_DOMAINS) {
			cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
				    "brand value lists more than %d domains", LOOKALIKE_MAX_DOMAINS);
			err = CS_ERR_LIMIT;
			break;
		}
		err = domain_parse(l, t, tn, &h, d);
		if (!err && b->n_own == 0)
			err = brand_label(b, &h, d);
		if (!err)
			err = own_append(b, &used, &cap, h.a, h.alen);
	}
	if (!err && b->n_own == 0) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "brand value names no domain (expected e.g. 'paypal.com paypal.me')");
		err = CS_ERR_PARSE;
	}
	if (!err && (given & 1))
		b->maxd = opts.maxd;
	if (!err && (given & 2))
		b->min = opts.min;
	if (!err && (given & 4))
		b->any_tld = true;
	return err;
}

enum cs_err lookalike_add_brand(struct lookalike *l, uint32_t ind, const char *value, size_t len,
				struct cs_diag *d)
{
	if (!l || (!value && len))
		return CS_ERR_INVALID;
	if (l->sealed) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "brand added after sealing");
		return CS_ERR_INVALID;
	}
	if (l->n >= LOOKALIKE_MAX_BRANDS) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "more than %u brands",
			    LOOKALIKE_MAX_BRANDS);
		return CS_ERR_LIMIT;
	}
	struct lk_brand b = { .ind = ind };
	enum cs_err err = brand_parse(l, &b, value, len, d);
	if (!err && l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		struct lk_brand *p = realloc(l->brand, nc * sizeof(*p));
		if (!p)
			err = CS_ERR_NOMEM;
		else {
			l->brand = p;
			l->cap = nc;
		}
	}
	if (err) {
		free(b.own);
		return err;
	}
	l->brand[l->n++] = b;
	return CS_OK;
}
