/* Indicator packs: parse the text format of rules/README.md in one pass over
 * a buffer, load a pack file whole, build ad-hoc packs, compute digests.
 * A struct pack owns every string it points to and its indicator array; a
 * pack with an error is destroyed before the caller sees it. Building a
 * pack is single-threaded; a finished pack is read-only and shareable. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cybersieve/pack.h"
#include "cybersieve/pdq.h"
#include "cybersieve/util.h"
#include "match/indicator_int.h"
#include "match/strset.h"

#define PACK_LINE_MAX (64u * 1024u)        /* bytes per line, terminator excluded */
#define PACK_FILE_MAX ((size_t)1 << 30)    /* bytes per pack file */
#define PACK_IND_MAX ((size_t)1 << 24)     /* indicators per pack */
#define PACK_ID_MAX 128
#define PACK_DEFAULT_CONFIDENCE 50

enum pack_hdr {
	HDR_NAME,
	HDR_CATEGORY,
	HDR_SOURCE,
	HDR_LICENCE,
	HDR_TLP,
	HDR_CONFIDENCE,
	HDR_LEGAL,
	HDR_DATE,
	HDR_DESCRIPTION,
	HDR_PDQ_DISTANCE,
	HDR_COUNT
};

static const struct {
	const char *key;
	bool required;
} pack_hdrs[HDR_COUNT] = {
	[HDR_NAME] = {"name", true},          [HDR_CATEGORY] = {"category", true},
	[HDR_SOURCE] = {"source", true},      [HDR_LICENCE] = {"licence", true},
	[HDR_TLP] = {"tlp", true},            [HDR_CONFIDENCE] = {"confidence", false},
	[HDR_LEGAL] = {"legal", false},       [HDR_DATE] = {"date", false},
	[HDR_DESCRIPTION] = {"description", false},
	[HDR_PDQ_DISTANCE] = {"pdq-distance", false},
};

/* State of one pack_parse() call. */
struct pack_parser {
	struct pack *p;
	struct strset ids;            /* id -> line; keys borrowed from p->ind[].id */
	uint32_t hdr_line[HDR_COUNT]; /* line a header was set on, 0 = not yet */
	uint32_t first_ind_line;      /* 0 until the first indicator */
	struct cs_diag *d;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Bytes at the start of s[0..n) that are (in) or are not (!in) blanks. */
static size_t blank_span(const char *s, size_t n, bool in)
{
	size_t i = 0;
	while (i < n && is_blank(s[i]) == in)
		i++;
	return i;
}

static bool in_charset(const char *s, size_t n, size_t max, bool upper, const char *extra)
{
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (upper && c >= 'A' && c <= 'Z') || (c && strchr(extra, c)))
			continue;
		return false;
	}
	return true;
}

static bool id_valid(const char *s, size_t n)
{
	return in_charset(s, n, PACK_ID_MAX, true, "._:-");
}

/* 0-max written as 1-3 decimal digits. */
static bool small_parse(const char *s, size_t n, unsigned max, uint8_t *out)
{
	unsigned v = 0;
	if (n == 0 || n > 3)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = (uint8_t)v;
	return true;
}

static bool confidence_parse(const char *s, size_t n, uint8_t *out)
{
	return small_parse(s, n, 100, out);
}

static bool date_valid(const char *s, size_t n)
{
	static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (n != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	int y = atoi(s), m = (s[5] - '0') * 10 + (s[6] - '0'), day = (s[8] - '0') * 10 + (s[9] - '0');
	if (m < 1 || m > 12 || day < 1 || day > mdays[m - 1])
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return !(m == 2 && day == 29 && !leap);
}

static char *pack_strndup(const char *s, size_t n)
{
	char *o = malloc(n + 1);
	if (o) {
		memcpy(o, s, n);
		o[n] = '\0';
	}
	return o;
}

/* Point an already written diag at file:line, keeping its message. */
static void diag_locate(struct cs_diag *d, const char *file, uint32_t line)
{
	if (!d)
		return;
	snprintf(d->file, sizeof(d->file), "%s", file ? file : "");
	d->line = line ? line : CS_DIAG_NONE;
	d->offset = CS_DIAG_NONE;
}

static enum cs_err pack_fail(struct pack_parser *ps, uint32_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum cs_err pack_fail(struct pack_parser *ps, uint32_t line, const char *fmt, ...)
{
	char msg[sizeof(ps->d->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cs_diag_set(ps->d, ps->p->path, line ? line : CS_DIAG_NONE, CS_DIAG_NONE, "%s", msg);
	return CS_ERR_PARSE;
}

static enum cs_err pack_alloc(const char *label, struct pack **out)
{
	struct pack *p = calloc(1, sizeof(*p));
	if (!p)
		return CS_ERR_NOMEM;
	p->confidence = PACK_DEFAULT_CONFIDENCE;
	p->pdq_distance = PDQ_DEFAULT_DIST;
	p->path = strdup(label ? label : "-");
	if (!p->path) {
		free(p);
		return CS_ERR_NOMEM;
	}
	*out = p;
	return CS_OK;
}

/* Whether s lies in p's block of strings. */
static bool in_strings(const struct pack *p, const char *s)
{
	uintptr_t a = (uintptr_t)p->strings, x = (uintptr_t)s;
	return p->strings && x >= a && x < a + p->strings_len;
}

void pack_ind_release(struct pack *p, struct indicator *ind)
{
	if (!in_strings(p, ind->id))
		free(ind->id);
	if (!in_strings(p, ind->value))
		free(ind->value);
	ind->id = ind->value = NULL;
}

void pack_destroy(struct pack *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_ind; i++)
		pack_ind_release(p, &p->ind[i]);
	free(p->ind);
	free(p->strings);
	free(p->path);
	free(p->name);
	free(p->category);
	free(p->source);
	free(p->licence);
	free(p->tlp);
	free(p->legal);
	free(p->date);
	free(p);
}

/* Normalise and append one indicator; the id is copied. On error the pack
 * is unchanged and d names p->path and line. */
static enum cs_err pack_append(struct pack *p, const char *id, size_t id_len, enum ind_type t,
			       unsigned flags, const char *value, size_t len, uint32_t line,
			       struct cs_diag *d)
{
	if (p->n_ind >= PACK_IND_MAX) {
		cs_diag_set(d, p->path, line ? line : CS_DIAG_NONE, CS_DIAG_NONE,
			    "more than %zu indicators in one pack", PACK_IND_MAX);
		return CS_ERR_LIMIT;
	}
	if (p->n_ind == p->cap_ind) {
		size_t cap = p->cap_ind ? p->cap_ind * 2 : 64;
		struct indicator *ind = realloc(p->ind, cap * sizeof(*ind));
		if (!ind)
			return CS_ERR_NOMEM;
		p->ind = ind;
		p->cap_ind = cap;
	}
	struct indicator *ind = &p->ind[p->n_ind];
	enum cs_err err = ind_normalise(t, flags, value, len, &ind->value, &ind->value_len, d);
	if (err) {
		diag_locate(d, p->path, line);
		return err;
	}
	ind->id = pack_strndup(id, id_len);
	if (!ind->id) {
		free(ind->value);
		return CS_ERR_NOMEM;
	}
	ind->type = t;
	ind->flags = flags;
	ind->confidence = p->confidence;
	ind->line = line;
	p->n_ind++;
	return CS_OK;
}

enum cs_err pack_add(struct pack *p, const char *id, enum ind_type t, unsigned flags,
		     const char *value, size_t len, uint32_t line, struct cs_diag *d)
{
	if (!p || !id || (!value && len))
		return CS_ERR_INVALID;
	size_t id_len = strlen(id);
	if (!id_valid(id, id_len)) {
		char q[IND_QUOTE_MAX * 4 + 8];
		ind_quote(q, sizeof(q), id, id_len);
		cs_diag_set(d, p->path, line ? line : CS_DIAG_NONE, CS_DIAG_NONE,
			    "invalid id '%s': 1-%d characters of A-Z a-z 0-9 . _ : -", q,
			    PACK_ID_MAX);
		return CS_ERR_PARSE;
	}
	return pack_append(p, id, id_len, t, flags, value, len, line, d);
}

/* Check one header value and store it in the pack. */
static enum cs_err header_store(struct pack_parser *ps, uint32_t line, enum pack_hdr h,
				const char *v, size_t n)
{
	struct pack *p = ps->p;
	char **slot = NULL;
	char q[IND_QUOTE_MAX * 4 + 8];
	ind_quote(q, sizeof(q), v, n);
	switch (h) {
	case HDR_NAME:
		if (!in_charset(v, n, 64, true, "._-"))
			return pack_fail(ps, line, "invalid @name '%s': 1-64 characters of "
						   "A-Z a-z 0-9 . _ -", q);
		slot = &p->name;
		break;
	case HDR_CATEGORY:
		if (!in_charset(v, n, 32, false, "_-"))
			return pack_fail(ps, line, "invalid @category '%s': 1-32 characters of "
						   "a-z 0-9 _ -", q);
		slot = &p->category;
		break;
	case HDR_TLP:
		if (n == 5 && memcmp(v, "white", 5) == 0) {
			v = "clear"; /* TLP 1.0 name of the same level */
		} else if (!(n == 5 && !memcmp(v, "clear", 5)) && !(n == 5 && !memcmp(v, "green", 5)) &&
			   !(n == 5 && !memcmp(v, "amber", 5)) && !(n == 3 && !memcmp(v, "red", 3)) &&
			   !(n == 12 && !memcmp(v, "amber+strict", 12))) {
			return pack_fail(ps, line, "invalid @tlp '%s': one of clear, green, amber, "
						   "amber+strict, red", q);
		}
		slot = &p->tlp;
		break;
	case HDR_CONFIDENCE:
		if (!confidence_parse(v, n, &p->confidence))
			return pack_fail(ps, line, "invalid @confidence '%s': a number 0-100", q);
		return CS_OK;
	case HDR_PDQ_DISTANCE:
		if (!small_parse(v, n, PDQ_MAX_DIST, &p->pdq_distance))
			return pack_fail(ps, line, "invalid @pdq-distance '%s': a number 0-%d (bits "
						   "of 256 that may differ)", q, PDQ_MAX_DIST);
		return CS_OK;
	case HDR_DATE:
		if (!date_valid(v, n))
			return pack_fail(ps, line, "invalid @date '%s': a date YYYY-MM-DD", q);
		slot = &p->date;
		break;
	case HDR_SOURCE: slot = &p->source; break;
	case HDR_LICENCE: slot = &p->licence; break;
	case HDR_LEGAL: slot = &p->legal; break;
	case HDR_DESCRIPTION: return CS_OK; /* free text for readers; not kept */
	case HDR_COUNT: return CS_ERR_INVALID;
	}
	*slot = pack_strndup(v, n);
	return *slot ? CS_OK : CS_ERR_NOMEM;
}

/* "@key value", s already trimmed and starting with '@'. */
static enum cs_err parse_header(struct pack_parser *ps, uint32_t line, const char *s, size_t n)
{
	size_t kn = blank_span(s + 1, n - 1, false);
	const char *v = s + 1 + kn;
	size_t vn = n - 1 - kn;
	size_t skip = blank_span(v, vn, true);
	v += skip;
	vn -= skip;
	char q[IND_QUOTE_MAX * 4 + 8];
	ind_quote(q, sizeof(q), s + 1, kn);
	if (ps->first_ind_line)
		return pack_fail(ps, line, "header @%s after the first indicator (line %u)", q,
				 (unsigned)ps->first_ind_line);
	int h = -1;
	if (kn == 7 && memcmp(s + 1, "license", 7) == 0)
		h = HDR_LICENCE; /* the US spelling is common in feeds */
	for (int i = 0; i < HDR_COUNT && h < 0; i++)
		if (strlen(pack_hdrs[i].key) == kn && memcmp(pack_hdrs[i].key, s + 1, kn) == 0)
			h = i;
	if (h < 0)
		return pack_fail(ps, line, "unknown header @%s", q);
	if (ps->hdr_line[h])
		return pack_fail(ps, line, "repeated header @%s (first on line %u)", q,
				 (unsigned)ps->hdr_line[h]);
	if (vn == 0)
		return pack_fail(ps, line, "empty value for header @%s", q);
	ps->hdr_line[h] = line;
	return header_store(ps, line, (enum pack_hdr)h, v, vn);
}

/* "<type>[/<mods>][@<confidence>]" */
static enum cs_err parse_type(struct pack_parser *ps, uint32_t line, const char *s, size_t n,
			      enum ind_type *t, unsigned *flags, int *conf)
{
	char q[IND_QUOTE_MAX * 4 + 8];
	const char *at = memchr(s, '@', n);
	size_t tn = at ? (size_t)(at - s) : n;
	const char *slash = memchr(s, '/', tn);
	size_t name_n = slash ? (size_t)(slash - s) : tn;
	*flags = 0;
	*conf = -1;
	if (!ind_type_parse(s, name_n, t)) {
		ind_quote(q, sizeof(q), s, name_n);
		return pack_fail(ps, line, "unknown indicator type '%s'", q);
	}
	if (slash && slash + 1 == s + tn)
		return pack_fail(ps, line, "empty modifier list after '/'");
	for (const char *m = slash ? slash + 1 : s + tn; m < s + tn; m++) {
		unsigned f = *m == 'i'   ? IND_F_CASELESS
			     : *m == 's' ? IND_F_DOTALL
			     : *m == 'q' ? IND_F_QUIET
					 : 0;
		ind_quote(q, sizeof(q), m, 1);
		if (!f)
			return pack_fail(ps, line, "unknown modifier '%s' (i, s or q)", q);
		if (*flags & f)
			return pack_fail(ps, line, "repeated modifier '%s'", q);
		*flags |= f;
	}
	if (at) {
		uint8_t c;
		if (!confidence_parse(at + 1, n - tn - 1, &c)) {
			ind_quote(q, sizeof(q), at + 1, n - tn - 1);
			return pack_fail(ps, line, "invalid confidence '%s': a number 0-100", q);
		}
		*conf = c;
	}
	return CS_OK;
}

/* "<id> <type>[/<mods>][@<confidence>] <value>", s trimmed. */
static enum cs_err parse_indicator(struct pack_parser *ps, uint32_t line, const char *s,
				   size_t n)
{
	char q[IND_QUOTE_MAX * 4 + 8];
	size_t id_n = blank_span(s, n, false);
	size_t type_at = id_n + blank_span(s + id_n, n - id_n, true);
	size_t type_n = blank_span(s + type_at, n - type_at, false);
	size_t val_at = type_at + type_n + blank_span(s + type_at + type_n, n - type_at - type_n, true);
	uint32_t first;
	if (!ps->first_ind_line)
		ps->first_ind_line = line;
	if (!id_valid(s, id_n)) {
		ind_quote(q, sizeof(q), s, id_n);
		return pack_fail(ps, line, "invalid id '%s': 1-%d characters of A-Z a-z 0-9 . _ : -",
				 q, PACK_ID_MAX);
	}
	if (strset_get(&ps->ids, s, id_n, &first))
		return pack_fail(ps, line, "duplicate id '%.*s' (first used on line %u)", (int)id_n,
				 s, (unsigned)first);
	if (type_n == 0)
		return pack_fail(ps, line, "missing type and value (expected '<id> <type> <value>')");
	enum ind_type t;
	unsigned flags;
	int conf;
	enum cs_err err = parse_type(ps, line, s + type_at, type_n, &t, &flags, &conf);
	if (err)
		return err;
	if (val_at == n)
		return pack_fail(ps, line, "empty value");
	err = pack_append(ps->p, s, id_n, t, flags, s + val_at, n - val_at, line, ps->d);
	if (err)
		return err;
	struct indicator *ind = &ps->p->ind[ps->p->n_ind - 1];
	if (conf >= 0)
		ind->confidence = (uint8_t)conf;
	bool dup;
	err = strset_add(&ps->ids, ind->id, id_n, line, &dup, NULL);
	if (err)
		cs_diag_set(ps->d, ps->p->path, line, CS_DIAG_NONE, "too many ids");
	return err;
}

static enum cs_err parse_line(struct pack_parser *ps, uint32_t line, const char *s, size_t n)
{
	size_t lead = blank_span(s, n, true);
	s += lead;
	n -= lead;
	while (n > 0 && is_blank(s[n - 1]))
		n--;
	if (n == 0 || s[0] == '#')
		return CS_OK;
	if (s[0] == '@')
		return parse_header(ps, line, s, n);
	return parse_indicator(ps, line, s, n);
}

/* After the last line: required headers, and defaults that depend on them. */
static enum cs_err pack_finish(struct pack_parser *ps)
{
	struct pack *p = ps->p;
	for (int h = 0; h < HDR_COUNT; h++)
		if (pack_hdrs[h].required && !ps->hdr_line[h])
			return pack_fail(ps, ps->first_ind_line, "missing required header @%s",
					 pack_hdrs[h].key);
	if (!p->legal) {
		const char *legal = pack_legal_default(p->category);
		if (legal && !(p->legal = strdup(legal)))
			return CS_ERR_NOMEM;
	}
	return CS_OK;
}

static enum cs_err pack_parse_lines(struct pack_parser *ps, const char *buf, size_t len)
{
	const char *pos = buf, *end = buf + len;
	const char *nul = memchr(buf, '\0', len);
	uint32_t line = 0;
	if (nul) {
		line = 1;
		for (const char *c = buf; (c = memchr(c, '\n', (size_t)(nul - c))) != NULL; c++)
			line++;
		return pack_fail(ps, line, "binary data (NUL byte) in a text pack");
	}
	while (pos < end) {
		const char *nl = memchr(pos, '\n', (size_t)(end - pos));
		size_t n = (size_t)((nl ? nl : end) - pos);
		line++;
		if (n > 0 && pos[n - 1] == '\r')
			n--;
		if (n > PACK_LINE_MAX)
			return pack_fail(ps, line, "line longer than %u bytes", PACK_LINE_MAX);
		enum cs_err err = parse_line(ps, line, pos, n);
		if (err)
			return err;
		pos = nl ? nl + 1 : end;
	}
	return pack_finish(ps);
}

enum cs_err pack_parse(const char *label, const char *buf, size_t len, struct pack **out,
		       struct cs_diag *d)
{
	struct pack_parser ps = {.d = d};
	enum cs_err err;
	if (!out || (!buf && len))
		return CS_ERR_INVALID;
	*out = NULL;
	if (len > PACK_FILE_MAX) {
		cs_diag_set(d, label, CS_DIAG_NONE, CS_DIAG_NONE, "pack larger than %zu bytes",
			    PACK_FILE_MAX);
		return CS_ERR_LIMIT;
	}
	err = pack_alloc(label, &ps.p);
	if (err)
		return err;
	strset_init(&ps.ids);
	err = pack_parse_lines(&ps, buf ? buf : "", len);
	if (!err && !EVP_Digest(buf ? buf : "", len, ps.p->digest, NULL, EVP_sha256(), NULL)) {
		cs_diag_set(d, label, CS_DIAG_NONE, CS_DIAG_NONE, "SHA-256 of the pack failed");
		err = CS_ERR_NOMEM;
	}
	strset_fini(&ps.ids);
	if (err) {
		pack_destroy(ps.p);
		return err;
	}
	*out = ps.p;
	return CS_OK;
}

enum cs_err pack_load_file(const char *path, struct pack **out, struct cs_diag *d)
{
	char *buf = NULL;
	size_t len = 0;
	if (!path || !out)
		return CS_ERR_INVALID;
	*out = NULL;
	enum cs_err err = util_read_file(path, PACK_FILE_MAX, "pack", &buf, &len, d);
	if (err)
		return err;
	err = pack_parse(path, buf, len, out, d);
	free(buf);
	return err;
}

enum cs_err pack_create_adhoc(const char *label, struct pack **out)
{
	struct pack *p = NULL;
	if (!out)
		return CS_ERR_INVALID;
	*out = NULL;
	enum cs_err err = pack_alloc(label, &p);
	if (err)
		return err;
	p->name = strdup(p->path);
	p->category = strdup("adhoc");
	p->source = strdup("command line");
	p->licence = strdup("n/a");
	p->tlp = strdup("clear");
	if (!p->name || !p->category || !p->source || !p->licence || !p->tlp) {
		pack_destroy(p);
		return CS_ERR_NOMEM;
	}
	*out = p;
	return CS_OK;
}

void pack_seal(struct pack *p)
{
	if (!p)
		return;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (size_t i = 0; ok && i < p->n_ind; i++) {
		const struct indicator *ind = &p->ind[i];
		const char *type = ind_type_name(ind->type);
		char fl[4];
		size_t fn = 0;
		if (ind->flags & IND_F_CASELESS)
			fl[fn++] = 'i';
		if (ind->flags & IND_F_DOTALL)
			fl[fn++] = 's';
		ok = EVP_DigestUpdate(ctx, type, strlen(type)) && EVP_DigestUpdate(ctx, "\t", 1) &&
		     EVP_DigestUpdate(ctx, fl, fn) && EVP_DigestUpdate(ctx, "\t", 1) &&
		     EVP_DigestUpdate(ctx, ind->value, ind->value_len) &&
		     EVP_DigestUpdate(ctx, "\n", 1);
	}
	/* No error channel here: a failed digest reads as all zeros, never as a
	 * plausible value. */
	if (!ok || !EVP_DigestFinal_ex(ctx, p->digest, NULL))
		memset(p->digest, 0, sizeof(p->digest));
	EVP_MD_CTX_free(ctx);
}
