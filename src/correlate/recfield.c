/* Field extraction (recfield.h): the wanted set, the per-stream reader, one
 * scanner per format (JSON, CSV, Zeek TSV, key=value) that fills every wanted
 * plain field in one pass, and regex captures run on demand. The scanners
 * allocate nothing; only unescaping may grow the reader's scratch, once to
 * the length of the longest line. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/recfield.h"
#include "cybersieve/util.h"

#define NO_FIELD (-1)
#define JSON_MAX_DEPTH 64
#define DIRECTIVE_MAX 16

struct rf_field {
	char *spec;
	size_t len;
	int regex;      /* index into rx, or -1 for a plain name */
	unsigned group;
};

struct rf_regex {
	char *pattern;
	regex_t re;
	unsigned groups; /* highest group any field takes from it */
};

struct recfield_set {
	struct rf_field f[RECFIELD_MAX_FIELDS];
	size_t n;
	struct rf_regex rx[RECFIELD_MAX_FIELDS];
	size_t n_rx;
	uint32_t plain[RECFIELD_MAX_FIELDS]; /* indices of the plain fields */
	size_t n_plain;
	bool frozen;
};

struct rf_val {
	const char *p;
	size_t len;
	uint64_t gen; /* == reader gen: set on this line */
};

enum rf_mode { MODE_UNDECIDED, MODE_PLAIN, MODE_CSV, MODE_ZEEK };

struct recfield_reader {
	const struct recfield_set *s;
	enum rf_mode mode;
	int16_t col_field[RECFIELD_MAX_COLUMNS]; /* column -> field index, or NO_FIELD */
	size_t n_col;                            /* columns mapped so far (upper bound) */
	char sep[DIRECTIVE_MAX], unset[DIRECTIVE_MAX], empty[DIRECTIVE_MAX];
	size_t sep_len, unset_len, empty_len;

	const char *line;
	size_t len;
	uint64_t gen;
	bool plain_done;
	size_t n_found;
	enum recfield_format fmt;
	struct rf_val v[RECFIELD_MAX_FIELDS];
	uint64_t rx_gen[RECFIELD_MAX_FIELDS];
	bool rx_hit[RECFIELD_MAX_FIELDS];
	regmatch_t rx_m[RECFIELD_MAX_FIELDS][RECFIELD_MAX_GROUP + 1];
	char *scratch;
	size_t scratch_cap, scratch_used;
	char *zline;     /* the line with a NUL after it, for regexec */
	size_t zline_cap;
	uint64_t nomem;
};

/* ---- the set ---- */

enum cs_err recfield_set_create(struct recfield_set **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? CS_OK : CS_ERR_NOMEM;
}

void recfield_set_destroy(struct recfield_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->f[i].spec);
	for (size_t i = 0; i < s->n_rx; i++) {
		regfree(&s->rx[i].re);
		free(s->rx[i].pattern);
	}
	free(s);
}

size_t recfield_set_count(const struct recfield_set *s)
{
	return s->n;
}

/* "re:N:" prefix: *group and the pattern's offset, or false for a plain name. */
static bool regex_spec(const char *spec, size_t len, unsigned *group, size_t *pat)
{
	if (len < 3 || memcmp(spec, "re:", 3) != 0)
		return false;
	*group = 10; /* invalid unless one digit follows */
	*pat = len;
	if (len >= 5 && spec[3] >= '0' && spec[3] <= '9' && spec[4] == ':') {
		*group = (unsigned)(spec[3] - '0');
		*pat = 5;
	}
	return true;
}

/* Compile the regex part of a spec; CS_ERR_PARSE with the reason. */
static enum cs_err regex_compile(const char *spec, size_t len, regex_t *re, char **pattern,
				 struct cs_diag *d)
{
	unsigned group;
	size_t at;
	regex_spec(spec, len, &group, &at);
	if (group > RECFIELD_MAX_GROUP) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "regex field must be re:N:REGEX with N a digit 0-9");
		return CS_ERR_PARSE;
	}
	if (at == len) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "regex field has an empty REGEX");
		return CS_ERR_PARSE;
	}
	char *p = strndup(spec + at, len - at);
	if (!p)
		return CS_ERR_NOMEM;
	if (strlen(p) != len - at) {
		free(p);
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "regex holds a NUL byte");
		return CS_ERR_PARSE;
	}
	if (!util_regex_tame(p)) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "regex `%.60s` refused: longer than 1024 bytes or stacked repetitions", p);
		free(p);
		return CS_ERR_PARSE;
	}
	int rc = regcomp(re, p, REG_EXTENDED);
	if (rc != 0) {
		char why[200];
		regerror(rc, re, why, sizeof(why));
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "regex `%s` refused: %s", p, why);
		free(p);
		return CS_ERR_PARSE;
	}
	if (re->re_nsub < group) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "regex `%s` has %zu group(s), the field takes group %u", p,
			    (size_t)re->re_nsub, group);
		regfree(re);
		free(p);
		return CS_ERR_PARSE;
	}
	*pattern = p;
	return CS_OK;
}

static enum cs_err plain_check(const char *spec, size_t len, struct cs_diag *d)
{
	if (!len || len > RECFIELD_MAX_NAME) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "field name must have 1 to %d bytes", RECFIELD_MAX_NAME);
		return CS_ERR_PARSE;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)spec[i] < 0x20 || spec[i] == 0x7f) {
			cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
				    "field name holds a control character");
			return CS_ERR_PARSE;
		}
	return CS_OK;
}

enum cs_err recfield_spec_check(const char *spec, size_t len, struct cs_diag *d)
{
	unsigned group;
	size_t at;
	if (!spec)
		return CS_ERR_INVALID;
	if (!regex_spec(spec, len, &group, &at))
		return plain_check(spec, len, d);
	regex_t re;
	char *pattern = NULL;
	enum cs_err err = regex_compile(spec, len, &re, &pattern, d);
	if (err == CS_OK) {
		regfree(&re);
		free(pattern);
	}
	return err;
}

/* Index of the regex with this pattern, compiling it when new. */
static enum cs_err regex_get(struct recfield_set *s, const char *spec, size_t len,
			     unsigned group, size_t at, int *index, struct cs_diag *d)
{
	for (size_t i = 0; i < s->n_rx; i++)
		if (strlen(s->rx[i].pattern) == len - at &&
		    memcmp(s->rx[i].pattern, spec + at, len - at) == 0) {
			if (group > s->rx[i].groups)
				s->rx[i].groups = group;
			*index = (int)i;
			return CS_OK;
		}
	struct rf_regex *x = &s->rx[s->n_rx];
	enum cs_err err = regex_compile(spec, len, &x->re, &x->pattern, d);
	if (err != CS_OK)
		return err;
	x->groups = group;
	*index = (int)s->n_rx++;
	return CS_OK;
}

enum cs_err recfield_set_add(struct recfield_set *s, const char *spec, size_t len,
			     uint32_t *index, struct cs_diag *d)
{
	if (!s || !spec || !index)
		return CS_ERR_INVALID;
	if (s->frozen) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "field set already in use");
		return CS_ERR_INVALID;
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->f[i].len == len && memcmp(s->f[i].spec, spec, len) == 0) {
			*index = (uint32_t)i;
			return CS_OK;
		}
	if (s->n == RECFIELD_MAX_FIELDS) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "more than %d distinct fields",
			    RECFIELD_MAX_FIELDS);
		return CS_ERR_LIMIT;
	}
	struct rf_field *f = &s->f[s->n];
	unsigned group = 0;
	size_t at;
	f->regex = -1;
	enum cs_err err;
	if (regex_spec(spec, len, &group, &at))
		err = regex_get(s, spec, len, group, at, &f->regex, d);
	else
		err = plain_check(spec, len, d);
	if (err != CS_OK)
		return err;
	f->spec = malloc(len + 1);
	if (!f->spec)
		return CS_ERR_NOMEM;
	memcpy(f->spec, spec, len);
	f->spec[len] = '\0';
	f->len = len;
	f->group = group;
	if (f->regex < 0)
		s->plain[s->n_plain++] = (uint32_t)s->n;
	*index = (uint32_t)s->n++;
	return CS_OK;
}

/* ---- the reader ---- */

enum cs_err recfield_reader_create(struct recfield_set *s, struct recfield_reader **out)
{
	struct recfield_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return CS_ERR_NOMEM;
	s->frozen = true;
	r->s = s;
	for (size_t c = 0; c < RECFIELD_MAX_COLUMNS; c++)
		r->col_field[c] = NO_FIELD;
	recfield_reader_reset(r);
	*out = r;
	return CS_OK;
}

void recfield_reader_destroy(struct recfield_reader *r)
{
	if (!r)
		return;
	free(r->scratch);
	free(r->zline);
	free(r);
}

static void columns_clear(struct recfield_reader *r)
{
	for (size_t c = 0; c < r->n_col; c++)
		r->col_field[c] = NO_FIELD;
	r->n_col = 0;
}

void recfield_reader_reset(struct recfield_reader *r)
{
	columns_clear(r);
	r->mode = MODE_UNDECIDED;
	memcpy(r->sep, "\t", 2);
	r->sep_len = 1;
	memcpy(r->unset, "-", 2);
	r->unset_len = 1;
	memcpy(r->empty, "(empty)", 8);
	r->empty_len = 7;
	r->line = NULL;
	r->len = 0;
	r->gen++;
}

uint64_t recfield_reader_nomem(const struct recfield_reader *r)
{
	return r->nomem;
}

enum recfield_format recfield_reader_format(const struct recfield_reader *r)
{
	return r->fmt;
}

/* Room for the unescaped copies of this line's values (never longer than the
 * line); false when memory is short. */
static bool scratch_ready(struct recfield_reader *r)
{
	if (r->scratch_cap >= r->len)
		return true;
	char *p = realloc(r->scratch, r->len);
	if (!p) {
		r->nomem++;
		return false;
	}
	r->scratch = p;
	r->scratch_cap = r->len;
	return true;
}

/* Plain field with this name, or -1. */
static int plain_lookup(const struct recfield_set *s, const char *name, size_t len)
{
	for (size_t i = 0; i < s->n_plain; i++) {
		const struct rf_field *f = &s->f[s->plain[i]];
		if (f->len == len && memcmp(f->spec, name, len) == 0)
			return (int)s->plain[i];
	}
	return -1;
}

/* Record a value unless the field already has one (the first occurrence
 * wins). Returns true when every plain field is now known. */
static bool put(struct recfield_reader *r, int field, const char *p, size_t len)
{
	if (field < 0 || r->v[field].gen == r->gen)
		return r->n_found == r->s->n_plain;
	r->v[field].p = p;
	r->v[field].len = len;
	r->v[field].gen = r->gen;
	r->n_found++;
	return r->n_found == r->s->n_plain;
}

/* ---- JSON ---- */

struct jscan {
	struct recfield_reader *r;
	const char *p, *end;
	char path[RECFIELD_MAX_NAME + 1];
	bool done; /* every field found: stop */
	bool bad;  /* malformed: stop, keep what was found */
};

static void ws(struct jscan *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

/* Past the closing quote of the string whose opening quote is at j->p;
 * *esc tells whether it holds a backslash. */
static bool str_span(struct jscan *j, const char **start, size_t *len, bool *esc)
{
	const char *p = j->p + 1;
	*esc = false;
	while (p < j->end && *p != '"') {
		if (*p == '\\') {
			*esc = true;
			p++;
		}
		p++;
	}
	if (p >= j->end) {
		j->bad = true;
		return false;
	}
	*start = j->p + 1;
	*len = (size_t)(p - *start);
	j->p = p + 1;
	return true;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int hex4(const char *s, const char *end)
{
	if (end - s < 4)
		return -1;
	int v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval(s[i]);
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

static size_t utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Unescape JSON string bytes s[0..n) into o (room for n bytes: every escape
 * is at least as long as what it stands for). Bad escapes become U+FFFD when
 * room allows, else '?'. Returns the length written. */
static size_t json_unescape(const char *s, size_t n, char *o)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *end = s + n;
	size_t k = 0;
	while (s < end) {
		if (*s != '\\' || s + 1 >= end) {
			o[k++] = *s++;
			continue;
		}
		const char *m = memchr(from, s[1], sizeof(from) - 1);
		if (m) {
			o[k++] = to[m - from];
			s += 2;
			continue;
		}
		int cp = s[1] == 'u' ? hex4(s + 2, end) : -1;
		if (cp < 0) {
			o[k++] = '?';
			s += 2;
			continue;
		}
		s += 6;
		if (cp >= 0xD800 && cp < 0xDC00 && end - s >= 6 && s[0] == '\\' && s[1] == 'u') {
			int lo = hex4(s + 2, end);
			if (lo >= 0xDC00 && lo < 0xE000) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				s += 6;
			}
		}
		if (cp >= 0xD800 && cp < 0xE000)
			cp = 0xFFFD; /* lone surrogate: 6 escape bytes, 3 written */
		k += utf8_put(o + k, (unsigned)cp);
	}
	return k;
}

/* A string value's bytes for the caller: the line itself, or its unescaped
 * copy in scratch. */
static bool json_value_str(struct recfield_reader *r, const char *s, size_t n, bool esc,
			   const char **v, size_t *vlen)
{
	if (!esc) {
		*v = s;
		*vlen = n;
		return true;
	}
	if (!scratch_ready(r))
		return false;
	char *o = r->scratch + r->scratch_used;
	*vlen = json_unescape(s, n, o);
	*v = o;
	r->scratch_used += *vlen;
	return true;
}

/* Skip one value of any kind (nesting counted, strings honoured). */
static void json_skip(struct jscan *j)
{
	int depth = 0;
	while (j->p < j->end) {
		char c = *j->p;
		if (c == '"') {
			const char *s;
			size_t n;
			bool esc;
			if (!str_span(j, &s, &n, &esc))
				return;
			if (!depth)
				return;
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (!depth)
				return; /* the end of the enclosing container */
			if (--depth == 0) {
				j->p++;
				return;
			}
		} else if (!depth && (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
			return;
		}
		j->p++;
	}
}

/* Does some wanted plain field lie below the object at path[0..plen)? */
static bool path_wanted_below(const struct recfield_set *s, const char *path, size_t plen)
{
	for (size_t i = 0; i < s->n_plain; i++) {
		const struct rf_field *f = &s->f[s->plain[i]];
		if (f->len > plen && f->spec[plen] == '.' && memcmp(f->spec, path, plen) == 0)
			return true;
	}
	return false;
}

static void json_object(struct jscan *j, size_t plen, int depth);

/* The value at path[0..plen) (a member of an object). */
static void json_member_value(struct jscan *j, size_t plen, bool path_ok, int depth)
{
	struct recfield_reader *r = j->r;
	char c = *j->p;
	if (c == '{') {
		if (path_ok && depth < JSON_MAX_DEPTH && path_wanted_below(r->s, j->path, plen))
			json_object(j, plen, depth + 1);
		else
			json_skip(j);
		return;
	}
	if (c == '[') {
		json_skip(j);
		return;
	}
	int field = path_ok ? plain_lookup(r->s, j->path, plen) : -1;
	if (c == '"') {
		const char *s, *v;
		size_t n, vlen;
		bool esc;
		if (!str_span(j, &s, &n, &esc))
			return;
		if (field >= 0 && r->v[field].gen != r->gen && json_value_str(r, s, n, esc, &v, &vlen))
			j->done = put(r, field, v, vlen);
		return;
	}
	const char *s = j->p;
	json_skip(j);
	size_t n = (size_t)(j->p - s);
	if (!n) {
		j->bad = true;
		return;
	}
	if (field >= 0 && !(n == 4 && memcmp(s, "null", 4) == 0))
		j->done = put(r, field, s, n);
}

/* The object whose '{' is at j->p; members' paths extend path[0..plen). */
static void json_object(struct jscan *j, size_t plen, int depth)
{
	j->p++;
	ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return;
	}
	while (!j->done && !j->bad && j->p < j->end) {
		const char *k;
		size_t klen;
		bool esc;
		if (*j->p != '"' || !str_span(j, &k, &klen, &esc)) {
			j->bad = true;
			return;
		}
		/* The member's path: parent "." key, unescaped; too long cannot be wanted. */
		size_t at = plen ? plen + 1 : 0;
		bool path_ok = at + klen <= RECFIELD_MAX_NAME;
		size_t mlen = 0;
		if (path_ok) {
			if (plen)
				j->path[plen] = '.';
			if (esc)
				klen = json_unescape(k, klen, j->path + at);
			else
				memcpy(j->path + at, k, klen);
			mlen = at + klen;
		}
		ws(j);
		if (j->p >= j->end || *j->p != ':') {
			j->bad = true;
			return;
		}
		j->p++;
		ws(j);
		if (j->p >= j->end) {
			j->bad = true;
			return;
		}
		json_member_value(j, mlen, path_ok, depth);
		if (j->done || j->bad)
			return;
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			ws(j);
			continue;
		}
		if (j->p < j->end && *j->p == '}')
			j->p++;
		else
			j->bad = true;
		return;
	}
}

static void scan_json(struct recfield_reader *r, const char *p, const char *end)
{
	struct jscan j = { .r = r, .p = p, .end = end };
	json_object(&j, 0, 1);
}

/* ---- CSV and Zeek ---- */

/* One CSV cell at *pp: unquoted (blanks around trimmed) or quoted with ""
 * escapes. Unescaped copies go to dst when not NULL (room for the cell).
 * *pp ends past the ',' or at end; returns true when a ',' ended the cell
 * (another cell follows, perhaps empty). */
static bool csv_cell(const char **pp, const char *end, const char **v, size_t *vlen, char *dst,
		     bool *needs_copy)
{
	const char *p = *pp;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	*needs_copy = false;
	if (p < end && *p == '"') {
		const char *s = ++p;
		size_t k = 0;
		while (p < end) {
			if (*p == '"') {
				if (p + 1 < end && p[1] == '"') {
					*needs_copy = true;
					if (dst)
						dst[k] = '"';
					k++;
					p += 2;
					continue;
				}
				break;
			}
			if (dst)
				dst[k] = *p;
			k++;
			p++;
		}
		*v = *needs_copy ? dst : s;
		*vlen = k;
		if (p < end)
			p++; /* closing quote */
		while (p < end && *p != ',')
			p++;
	} else {
		const char *s = p;
		while (p < end && *p != ',')
			p++;
		const char *e = p;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		*v = s;
		*vlen = (size_t)(e - s);
	}
	bool comma = p < end;
	if (comma)
		p++;
	*pp = p;
	return comma;
}

/* Next CSV cell with "" escapes resolved (into scratch when needed; when
 * memory is short the cell counts as empty). Returns csv_cell's "more". */
static bool csv_next(struct recfield_reader *r, const char **pp, const char *end,
		     const char **v, size_t *vlen)
{
	const char *save = *pp;
	bool copy;
	bool more = csv_cell(pp, end, v, vlen, NULL, &copy);
	if (!copy)
		return more;
	if (!scratch_ready(r)) {
		*vlen = 0;
		return more;
	}
	*pp = save;
	more = csv_cell(pp, end, v, vlen, r->scratch + r->scratch_used, &copy);
	r->scratch_used += *vlen;
	return more;
}

/* Next Zeek cell: up to the separator; true when a separator ended it. */
static bool tsv_next(const struct recfield_reader *r, const char **pp, const char *end,
		     const char **v, size_t *vlen)
{
	const char *p = *pp, *s = p;
	while (p < end && !((size_t)(end - p) >= r->sep_len && memcmp(p, r->sep, r->sep_len) == 0))
		p++;
	*v = s;
	*vlen = (size_t)(p - s);
	bool more = p < end;
	*pp = more ? p + r->sep_len : end;
	return more;
}

static void map_column(struct recfield_reader *r, size_t col, const char *name, size_t len)
{
	if (col >= RECFIELD_MAX_COLUMNS)
		return;
	int f = plain_lookup(r->s, name, len);
	if (f < 0)
		return;
	for (size_t c = 0; c < r->n_col; c++)
		if (r->col_field[c] == f)
			return; /* the first column of a name wins */
	r->col_field[col] = (int16_t)f;
	if (col + 1 > r->n_col)
		r->n_col = col + 1;
}

static void csv_header(struct recfield_reader *r, const char *p, const char *end)
{
	columns_clear(r);
	/* Header names are matched right away, so their unescaped copies may
	 * live in scratch only for this line. */
	r->scratch_used = 0;
	bool more = true;
	for (size_t col = 0; more; col++) {
		const char *v;
		size_t vlen;
		more = csv_next(r, &p, end, &v, &vlen);
		map_column(r, col, v, vlen);
	}
	r->mode = MODE_CSV;
}

static void scan_row(struct recfield_reader *r, const char *p, const char *end, bool csv)
{
	bool more = true;
	for (size_t col = 0; more && col < r->n_col; col++) {
		const char *v;
		size_t vlen;
		if (csv) {
			more = csv_next(r, &p, end, &v, &vlen);
		} else {
			more = tsv_next(r, &p, end, &v, &vlen);
			if ((vlen == r->unset_len && memcmp(v, r->unset, vlen) == 0) ||
			    (vlen == r->empty_len && memcmp(v, r->empty, vlen) == 0))
				vlen = 0;
		}
		if (r->col_field[col] != NO_FIELD && vlen && put(r, r->col_field[col], v, vlen))
			return;
	}
}

/* "\x09" style escapes of a Zeek directive value into out (at most cap). */
static size_t zeek_unescape(const char *s, size_t n, char *out, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k < cap; i++) {
		int hi, lo;
		if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x' &&
		    (hi = hexval(s[i + 2])) >= 0 && (lo = hexval(s[i + 3])) >= 0) {
			out[k++] = (char)(hi << 4 | lo);
			i += 3;
		} else {
			out[k++] = s[i];
		}
	}
	return k;
}

static bool directive(const char *p, size_t len, const char *name, size_t *after)
{
	size_t n = strlen(name);
	if (len < n || memcmp(p, name, n) != 0)
		return false;
	*after = n;
	return true;
}

/* A '#' line: Zeek directives change the stream's state. */
static enum recfield_kind zeek_directive(struct recfield_reader *r, const char *p, size_t len)
{
	const char *end = p + len;
	size_t at;
	if (directive(p, len, "#separator ", &at)) {
		size_t k = zeek_unescape(p + at, len - at, r->sep, sizeof(r->sep));
		if (k) {
			r->sep_len = k;
			return RECFIELD_HEADER;
		}
		return RECFIELD_SKIP;
	}
	char *dst;
	size_t *dst_len;
	if (directive(p, len, "#unset_field", &at)) {
		dst = r->unset;
		dst_len = &r->unset_len;
	} else if (directive(p, len, "#empty_field", &at)) {
		dst = r->empty;
		dst_len = &r->empty_len;
	} else if (directive(p, len, "#fields", &at)) {
		const char *q = p + at;
		if ((size_t)(end - q) < r->sep_len || memcmp(q, r->sep, r->sep_len) != 0)
			return RECFIELD_SKIP;
		q += r->sep_len;
		columns_clear(r);
		bool more = true;
		for (size_t col = 0; more; col++) {
			const char *v;
			size_t vlen;
			more = tsv_next(r, &q, end, &v, &vlen);
			map_column(r, col, v, vlen);
		}
		r->mode = MODE_ZEEK;
		return RECFIELD_HEADER;
	} else {
		return RECFIELD_SKIP;
	}
	const char *q = p + at;
	if ((size_t)(end - q) < r->sep_len || memcmp(q, r->sep, r->sep_len) != 0)
		return RECFIELD_SKIP;
	q += r->sep_len;
	size_t n = (size_t)(end - q);
	if (n >= DIRECTIVE_MAX)
		return RECFIELD_SKIP;
	memcpy(dst, q, n);
	*dst_len = n;
	return RECFIELD_HEADER;
}

/* ---- key=value ---- */

static bool kv_sep(char c)
{
	return c == ' ' || c == '\t' || c == ',' || c == ';';
}

/* A quoted value at *pp (quote char q): its bytes with \q and \\ resolved. */
static bool kv_quoted(struct recfield_reader *r, const char **pp, const char *end,
		      const char **v, size_t *vlen)
{
	const char *p = *pp;
	char q = *p++;
	const char *s = p;
	bool esc = false;
	while (p < end && *p != q) {
		if (*p == '\\' && p + 1 < end) {
			esc = true;
			p++;
		}
		p++;
	}
	size_t n = (size_t)(p - s);
	*pp = p < end ? p + 1 : end;
	if (!esc) {
		*v = s;
		*vlen = n;
		return true;
	}
	if (!scratch_ready(r))
		return false;
	char *o = r->scratch + r->scratch_used;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && (s[i + 1] == q || s[i + 1] == '\\'))
			i++;
		o[k++] = s[i];
	}
	*v = o;
	*vlen = k;
	r->scratch_used += k;
	return true;
}

static void scan_kv(struct recfield_reader *r, const char *p, const char *end)
{
	while (p < end) {
		while (p < end && kv_sep(*p))
			p++;
		if (p >= end)
			return;
		if (*p == '"' || *p == '\'') {
			/* A quoted word with no name ("GET /a?b=c HTTP/1.1"): skip it whole. */
			char q = *p++;
			while (p < end && *p != q)
				p += (*p == '\\' && p + 1 < end) ? 2 : 1;
			p = p < end ? p + 1 : end;
			continue;
		}
		const char *name = p;
		while (p < end && *p != '=' && !kv_sep(*p))
			p++;
		if (p >= end || *p != '=' || p == name) {
			while (p < end && !kv_sep(*p))
				p++; /* a word, or "=..." with no name */
			continue;
		}
		size_t nlen = (size_t)(p - name);
		p++;
		const char *v;
		size_t vlen;
		if (p < end && (*p == '"' || *p == '\'')) {
			if (!kv_quoted(r, &p, end, &v, &vlen))
				continue;
		} else {
			v = p;
			while (p < end && !kv_sep(*p))
				p++;
			vlen = (size_t)(p - v);
		}
		if (put(r, plain_lookup(r->s, name, nlen), v, vlen))
			return;
	}
}

/* ---- lines ---- */

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* CSV header test: a ',' and no '=' anywhere in the line. */
static bool looks_like_header(const char *p, size_t len)
{
	return memchr(p, ',', len) && !memchr(p, '=', len);
}

enum recfield_kind recfield_reader_line(struct recfield_reader *r, const char *line, size_t len)
{
	r->gen++;
	r->plain_done = false;
	r->n_found = 0;
	r->scratch_used = 0;
	r->line = NULL;
	r->len = 0;
	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;
	size_t i = 0;
	while (i < len && blank(line[i]))
		i++;
	if (i == len)
		return RECFIELD_SKIP;
	if (line[0] == '#')
		return zeek_directive(r, line, len);
	r->line = line;
	r->len = len;
	if (line[i] == '{') {
		if (r->mode == MODE_UNDECIDED)
			r->mode = MODE_PLAIN;
		r->fmt = RECFIELD_JSON;
		return RECFIELD_RECORD;
	}
	if (r->mode == MODE_UNDECIDED) {
		if (looks_like_header(line, len)) {
			csv_header(r, line, line + len);
			r->line = NULL;
			r->len = 0;
			return RECFIELD_HEADER;
		}
		r->mode = MODE_PLAIN;
	}
	r->fmt = r->mode == MODE_CSV ? RECFIELD_CSV : r->mode == MODE_ZEEK ? RECFIELD_ZEEK
		: RECFIELD_KV;
	return RECFIELD_RECORD;
}

static void scan_plain(struct recfield_reader *r)
{
	r->plain_done = true;
	if (!r->s->n_plain || !r->line)
		return;
	const char *p = r->line, *end = r->line + r->len;
	switch (r->fmt) {
	case RECFIELD_JSON:
		while (p < end && *p != '{')
			p++;
		scan_json(r, p, end);
		break;
	case RECFIELD_CSV:
		scan_row(r, p, end, true);
		break;
	case RECFIELD_ZEEK:
		scan_row(r, p, end, false);
		break;
	case RECFIELD_KV:
		scan_kv(r, p, end);
		break;
	}
}

static bool regex_field(struct recfield_reader *r, const struct rf_field *f, const char **v,
			size_t *len)
{
	int k = f->regex;
	if (r->rx_gen[k] != r->gen) {
		const struct rf_regex *x = &r->s->rx[k];
		regmatch_t *m = r->rx_m[k];
		r->rx_gen[k] = r->gen;
		r->rx_hit[k] = false;
		/* regexec wants a C string (REG_STARTEND is not honoured by every
		 * implementation, nor by the sanitizers' interceptor): a copy. */
		if (r->len + 1 > r->zline_cap) {
			size_t cap = r->len + 1 < 256 ? 256 : r->len + 1;
			char *z = realloc(r->zline, cap);
			if (!z) {
				r->nomem++;
				return false;
			}
			r->zline = z;
			r->zline_cap = cap;
		}
		memcpy(r->zline, r->line, r->len);
		r->zline[r->len] = '\0';
		if (memchr(r->line, '\0', r->len))
			return false; /* a NUL inside: the regex would see a shorter line */
		r->rx_hit[k] = regexec(&x->re, r->zline, x->groups + 1, m, 0) == 0;
	}
	if (!r->rx_hit[k])
		return false;
	const regmatch_t *g = &r->rx_m[k][f->group];
	if (g->rm_so < 0 || g->rm_eo <= g->rm_so)
		return false;
	*v = r->line + g->rm_so;
	*len = (size_t)(g->rm_eo - g->rm_so);
	return true;
}

bool recfield_get(struct recfield_reader *r, uint32_t idx, const char **v, size_t *len)
{
	if (!r->line || idx >= r->s->n)
		return false;
	const struct rf_field *f = &r->s->f[idx];
	if (f->regex >= 0)
		return regex_field(r, f, v, len);
	if (!r->plain_done)
		scan_plain(r);
	const struct rf_val *x = &r->v[idx];
	if (x->gen != r->gen || !x->len)
		return false;
	*v = x->p;
	*len = x->len;
	return true;
}

/* ---- amounts ---- */

bool recfield_decimal(const char *s, size_t n, int64_t *micro)
{
	if (!s)
		return false;
	while (n && blank(*s))
		s++, n--;
	while (n && blank(s[n - 1]))
		n--;
	size_t i = 0;
	bool neg = false;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	/* Digits of the mantissa, the decimal point after `point` of them. */
	char dig[40];
	size_t nd = 0;
	long point;
	bool commas = false, any = false;
	size_t group = 0;
	for (; i < n; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9') {
			group++;
		} else if (c == ',') {
			/* First group 1-3 digits, every later one exactly 3. */
			if (!group || (commas ? group != 3 : group > 3))
				return false;
			commas = true;
			group = 0;
			continue;
		} else {
			break;
		}
		any = true;
		if (nd == 0 && c == '0')
			continue; /* leading zeros carry no value */
		if (nd == sizeof(dig))
			return false;
		dig[nd++] = c;
	}
	if (commas && group != 3)
		return false;
	point = (long)nd;
	if (i < n && s[i] == '.') {
		i++;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			any = true;
			if (nd == 0 && s[i] == '0') {
				point--; /* 0.05: the point moves, no digit stored */
				continue;
			}
			if (nd < sizeof(dig))
				dig[nd++] = s[i];
		}
	}
	if (!any)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		if (commas)
			return false;
		i++;
		bool eneg = false;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		long e = 0;
		size_t start = i;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			if (e < 1000)
				e = e * 10 + (s[i] - '0');
		if (i == start)
			return false;
		point += eneg ? -e : e;
	}
	if (i != n)
		return false;
	/* value = 0.dig * 10^point; millionths = the digits up to point + 6. */
	long keep = point + 6;
	uint64_t v = 0;
	for (long k = 0; k < keep; k++) {
		unsigned d = k < (long)nd ? (unsigned)(dig[k] - '0') : 0;
		if (v > (UINT64_C(0x7fffffffffffffff) - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*micro = neg ? -(int64_t)v : (int64_t)v;
	return true;
}
