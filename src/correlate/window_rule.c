/* The window rule parser (window.h, window_int.h): the spec is cut into
 * blank-separated tokens (double quotes keep blanks and hide operators;
 * inside them \" and \\ are escapes, other backslashes stay), then each
 * token is a setting (name=value), an aggregate or the word passthrough. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/recfield.h"
#include "correlate/window_int.h"

#define MAX_CONDS 32
#define MAX_DURATION_MS (3650LL * 86400000LL)
#define MAX_N 1000000000ULL

struct tok {
	char *s;          /* text with quotes removed, NUL-terminated */
	bool *q;          /* q[i]: s[i] was inside quotes */
	size_t n;
	size_t col;       /* 1-based column of the token in the spec */
	const char *raw;  /* the token as written */
	size_t raw_len;
};

static void tok_fini(struct tok *t)
{
	free(t->s);
	free(t->q);
	t->s = NULL;
	t->q = NULL;
}

/* "column N (`token`): why". */
static enum cs_err bad(struct cs_diag *d, const struct tok *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum cs_err bad(struct cs_diag *d, const struct tok *t, const char *fmt, ...)
{
	char why[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	int show = t->raw_len > 80 ? 80 : (int)t->raw_len;
	cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "column %zu (`%.*s%s`): %s", t->col, show,
		    t->raw, t->raw_len > 80 ? "..." : "", why);
	return CS_ERR_PARSE;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The next token from *pos; *got false at the end of the spec. */
static enum cs_err tok_next(const char *spec, size_t len, size_t *pos, struct tok *t, bool *got,
			    struct cs_diag *d)
{
	size_t i = *pos;
	*got = false;
	while (i < len && is_blank(spec[i]))
		i++;
	if (i == len)
		return CS_OK;
	size_t start = i, end = i;
	bool quoted = false;
	while (end < len && (quoted || !is_blank(spec[end]))) {
		if (spec[end] == '"')
			quoted = !quoted;
		else if (quoted && spec[end] == '\\' && end + 1 < len &&
			 (spec[end + 1] == '"' || spec[end + 1] == '\\'))
			end++;
		end++;
	}
	t->col = start + 1;
	t->raw = spec + start;
	t->raw_len = end - start;
	if (quoted)
		return bad(d, t, "unterminated quote");
	t->s = malloc(end - start + 1);
	t->q = malloc(end - start + 1);
	if (!t->s || !t->q) {
		tok_fini(t);
		return CS_ERR_NOMEM;
	}
	size_t k = 0;
	quoted = false;
	for (i = start; i < end; i++) {
		if (spec[i] == '"') {
			quoted = !quoted;
			continue;
		}
		if (quoted && spec[i] == '\\' && i + 1 < end &&
		    (spec[i + 1] == '"' || spec[i + 1] == '\\'))
			i++;
		t->s[k] = spec[i];
		t->q[k++] = quoted;
	}
	t->s[k] = '\0';
	t->n = k;
	*pos = end;
	*got = true;
	return CS_OK;
}

/* True when word stands unquoted at t->s[at]. */
static bool word_at(const struct tok *t, size_t at, const char *word)
{
	size_t n = strlen(word);
	if (t->n - at < n || memcmp(t->s + at, word, n) != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (t->q[at + i])
			return false;
	return true;
}

static enum cs_err dup_str(const char *s, size_t n, char **out, size_t *out_len)
{
	*out = malloc(n + 1);
	if (!*out)
		return CS_ERR_NOMEM;
	memcpy(*out, s, n);
	(*out)[n] = '\0';
	if (out_len)
		*out_len = n;
	return CS_OK;
}

/* A field spec t->s[at..at+n), checked. */
static enum cs_err field(struct cs_diag *d, const struct tok *t, size_t at, size_t n,
			 const char *what, char **out, size_t *out_len)
{
	if (!n)
		return bad(d, t, "empty %s field", what);
	struct cs_diag sub;
	cs_diag_clear(&sub);
	enum cs_err err = recfield_spec_check(t->s + at, n, &sub);
	if (err == CS_ERR_PARSE)
		return bad(d, t, "%s field: %s", what, sub.msg);
	if (err != CS_OK)
		return err;
	return dup_str(t->s + at, n, out, out_len);
}

/* N with unit s, m, h or d. */
static enum cs_err duration(struct cs_diag *d, const struct tok *t, const char *v, bool positive,
			    int64_t *ms)
{
	size_t i = 0;
	int64_t n = 0;
	for (; v[i] >= '0' && v[i] <= '9'; i++)
		if (n <= MAX_DURATION_MS)
			n = n * 10 + (v[i] - '0'); /* past the cap: "too long" below */
	static const char units[] = "smhd";
	static const int64_t unit_ms[] = { 1000, 60000, 3600000, 86400000 };
	const char *u = v[i] ? strchr(units, v[i]) : NULL;
	if (!i || !u || v[i + 1])
		return bad(d, t, "bad duration `%s`: a whole number and a unit s, m, h or d", v);
	if (n > MAX_DURATION_MS / unit_ms[u - units])
		return bad(d, t, "duration `%s` too long (at most 3650d)", v);
	*ms = n * unit_ms[u - units];
	if (positive && !*ms)
		return bad(d, t, "duration must be more than 0");
	return CS_OK;
}

/* A whole number 1..MAX_N. */
static bool count_value(const char *v, uint64_t *out)
{
	uint64_t n = 0;
	size_t i = 0;
	for (; v[i] >= '0' && v[i] <= '9'; i++) {
		n = n * 10 + (uint64_t)(v[i] - '0');
		if (n > MAX_N)
			return false;
	}
	if (!i || v[i] || !n)
		return false;
	*out = n;
	return true;
}

/* First position at or after `from` where pat stands unquoted, or SIZE_MAX. */
static size_t find_unquoted(const struct tok *t, size_t from, const char *pat)
{
	size_t n = strlen(pat);
	for (size_t i = from; i + n <= t->n; i++)
		if (memcmp(t->s + i, pat, n) == 0 && word_at(t, i, pat))
			return i;
	return SIZE_MAX;
}

static enum cs_err cond_range(struct cs_diag *d, const struct tok *t, size_t at,
			      struct window_cond *c)
{
	size_t dd = find_unquoted(t, at, "..");
	if (dd == SIZE_MAX)
		return bad(d, t, "range must be LO..HI (either bound may be left out)");
	const char *lo = t->s + at, *hi = t->s + dd + 2;
	size_t lo_n = dd - at, hi_n = t->n - dd - 2;
	if (!lo_n && !hi_n)
		return bad(d, t, "range needs at least one bound");
	c->op = WINDOW_OP_RANGE;
	if (lo_n && !(c->has_lo = recfield_decimal(lo, lo_n, &c->lo)))
		return bad(d, t, "bad lower bound `%.*s`", (int)lo_n, lo);
	if (hi_n && !(c->has_hi = recfield_decimal(hi, hi_n, &c->hi)))
		return bad(d, t, "bad upper bound `%.*s`", (int)hi_n, hi);
	if (c->has_lo && c->has_hi && c->lo > c->hi)
		return bad(d, t, "lower bound above upper bound");
	return CS_OK;
}

/* when=COND; `at` is where COND starts in t. */
static enum cs_err cond(struct cs_diag *d, const struct tok *t, size_t at, struct window_cond *c)
{
	static const char forms[] = "FIELD:LO..HI, FIELD=VALUE, FIELD!=VALUE or match:ID";
	if (word_at(t, at, "match:")) {
		size_t id = at + 6;
		if (id == t->n)
			return bad(d, t, "match: needs an indicator id");
		c->op = WINDOW_OP_MATCH;
		return dup_str(t->s + id, t->n - id, &c->value, &c->value_len);
	}
	size_t k = at;
	while (k < t->n && (t->q[k] || (t->s[k] != ':' && t->s[k] != '=' &&
					 !(t->s[k] == '!' && k + 1 < t->n && t->s[k + 1] == '=' &&
					   !t->q[k + 1]))))
		k++;
	if (k == t->n)
		return bad(d, t, "condition must be %s", forms);
	if (k == at)
		return bad(d, t, "condition has no field (%s)", forms);
	if (t->s[k] == ':' && k - at == 2 && word_at(t, at, "re"))
		return bad(d, t, "a regex field in a condition must be quoted: "
				 "when=\"re:N:REGEX\":LO..HI");
	enum cs_err err = field(d, t, at, k - at, "condition", &c->field, &c->field_len);
	if (err != CS_OK)
		return err;
	if (t->s[k] == ':')
		return cond_range(d, t, k + 1, c);
	size_t v = t->s[k] == '!' ? k + 2 : k + 1;
	c->op = t->s[k] == '!' ? WINDOW_OP_NE : WINDOW_OP_EQ;
	if (v == t->n)
		return bad(d, t, "empty value (an absent or empty field never equals anything)");
	return dup_str(t->s + v, t->n - v, &c->value, &c->value_len);
}

/* count>=N, sum(FIELD)>=X, distinct(FIELD)>=N. */
static enum cs_err aggregate(struct cs_diag *d, const struct tok *t, struct window_rule *r)
{
	if (word_at(t, 0, "count>=")) {
		r->agg = WINDOW_COUNT;
		if (!count_value(t->s + 7, &r->min_n))
			return bad(d, t, "count>= needs a whole number from 1 to %llu",
				   (unsigned long long)MAX_N);
		return CS_OK;
	}
	bool sum = word_at(t, 0, "sum(");
	size_t open = sum ? 4 : 9;
	r->agg = sum ? WINDOW_SUM : WINDOW_DISTINCT;
	size_t ge = SIZE_MAX;
	for (size_t i = open; (i = find_unquoted(t, i, ">=")) != SIZE_MAX; i++)
		ge = i;
	if (ge == SIZE_MAX || ge <= open || t->s[ge - 1] != ')' || t->q[ge - 1])
		return bad(d, t, "aggregate must be %s(FIELD)>=%s", sum ? "sum" : "distinct",
			   sum ? "X" : "N");
	enum cs_err err = field(d, t, open, ge - 1 - open, sum ? "sum" : "distinct", &r->field,
				&r->field_len);
	if (err != CS_OK)
		return err;
	const char *v = t->s + ge + 2;
	if (!sum) {
		if (!count_value(v, &r->min_n))
			return bad(d, t, "distinct(...)>= needs a whole number from 1 to %llu",
				   (unsigned long long)MAX_N);
		return CS_OK;
	}
	if (!recfield_decimal(v, strlen(v), &r->min_sum) || r->min_sum <= 0)
		return bad(d, t, "sum(...)>= needs a number above 0");
	return CS_OK;
}

/* A name=value token: a field (key, time, in, out), a condition, within or
 * slack. */
static enum cs_err setting(struct cs_diag *d, const struct tok *t, struct window_rule *r,
			   bool *seen_within, bool *seen_slack)
{
	size_t eq = find_unquoted(t, 0, "=");
	if (eq == SIZE_MAX || eq == 0)
		return bad(d, t, "expected name=value, an aggregate (count>=N, sum(FIELD)>=X, "
				 "distinct(FIELD)>=N) or passthrough");
	const char *name = t->s;
	size_t nlen = eq, at = eq + 1;
	struct {
		const char *name;
		char **spec;
		size_t *len;
	} fields[] = { { "key", &r->key, &r->key_len }, { "time", &r->time, &r->time_len },
		       { "in", &r->in, &r->in_len }, { "out", &r->out, &r->out_len } };
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strlen(fields[i].name) != nlen || memcmp(fields[i].name, name, nlen) != 0)
			continue;
		if (*fields[i].spec)
			return bad(d, t, "%s= given twice", fields[i].name);
		return field(d, t, at, t->n - at, fields[i].name, fields[i].spec, fields[i].len);
	}
	if (nlen == 4 && memcmp(name, "when", 4) == 0) {
		if (r->n_cond == MAX_CONDS)
			return bad(d, t, "more than %d conditions", MAX_CONDS);
		struct window_cond *c = &r->cond[r->n_cond++];
		return cond(d, t, at, c);
	}
	if (nlen == 6 && memcmp(name, "within", 6) == 0) {
		if (*seen_within)
			return bad(d, t, "within= given twice");
		*seen_within = true;
		return duration(d, t, t->s + at, true, &r->within_ms);
	}
	if (nlen == 5 && memcmp(name, "slack", 5) == 0) {
		if (*seen_slack)
			return bad(d, t, "slack= given twice");
		*seen_slack = true;
		return duration(d, t, t->s + at, false, &r->slack_ms);
	}
	return bad(d, t, "unknown setting `%.*s` (key, time, when, within, slack, in, out)",
		   (int)nlen, name);
}

/* The form as a whole: what each kind of rule needs and refuses. */
static enum cs_err complete(struct window_rule *r, bool passthrough, bool seen_agg,
			    bool seen_within, struct cs_diag *d)
{
	const char *why = NULL;
	if (passthrough) {
		if (r->key)
			why = "passthrough takes in= and out=, not key=";
		else if (seen_agg)
			why = "passthrough takes no aggregate";
		else if (!r->in || !r->out)
			why = "passthrough needs in=FIELD and out=FIELD";
	} else if (r->in || r->out) {
		why = "in= and out= belong to passthrough rules";
	} else if (!r->key) {
		why = "missing key=FIELD";
	} else if (!seen_agg) {
		why = "missing aggregate (count>=N, sum(FIELD)>=X or distinct(FIELD)>=N)";
	}
	if (!why && !seen_within)
		why = "missing within=DURATION";
	if (!why)
		return CS_OK;
	cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "%s", why);
	return CS_ERR_PARSE;
}

static enum cs_err parse_tokens(const char *spec, size_t len, struct window_rule *r,
				struct cs_diag *d)
{
	size_t pos = 0;
	bool passthrough = false, seen_agg = false, seen_within = false, seen_slack = false;
	bool first = true;
	for (;;) {
		struct tok t = { 0 };
		bool got;
		enum cs_err err = tok_next(spec, len, &pos, &t, &got, d);
		if (err != CS_OK || !got)
			return err != CS_OK ? err : complete(r, passthrough, seen_agg, seen_within, d);
		if (word_at(&t, 0, "passthrough") && t.n == 11) {
			if (!first)
				err = bad(d, &t, "passthrough must be the first word");
			passthrough = true;
			r->agg = WINDOW_PASSTHROUGH;
		} else if (word_at(&t, 0, "count>=") || word_at(&t, 0, "sum(") ||
			   word_at(&t, 0, "distinct(")) {
			if (seen_agg)
				err = bad(d, &t, "a second aggregate");
			else if (passthrough)
				err = bad(d, &t, "passthrough takes no aggregate");
			else
				err = aggregate(d, &t, r);
			seen_agg = true;
		} else {
			err = setting(d, &t, r, &seen_within, &seen_slack);
		}
		first = false;
		tok_fini(&t);
		if (err != CS_OK)
			return err;
	}
}

enum cs_err window_rule_parse(const char *spec, size_t len, struct window_rule **out,
			      struct cs_diag *d)
{
	if (!spec || !out)
		return CS_ERR_INVALID;
	*out = NULL;
	struct window_rule *r = calloc(1, sizeof(*r));
	if (!r)
		return CS_ERR_NOMEM;
	r->cond = calloc(MAX_CONDS, sizeof(*r->cond));
	if (!r->cond) {
		free(r);
		return CS_ERR_NOMEM;
	}
	if (memchr(spec, '\0', len)) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "window rule holds a NUL byte");
		window_rule_destroy(r);
		return CS_ERR_PARSE;
	}
	enum cs_err err = parse_tokens(spec, len, r, d);
	if (err != CS_OK) {
		window_rule_destroy(r);
		return err;
	}
	*out = r;
	return CS_OK;
}

void window_rule_destroy(struct window_rule *r)
{
	if (!r)
		return;
	free(r->key);
	free(r->time);
	free(r->field);
	free(r->in);
	free(r->out);
	for (size_t i = 0; i < r->n_cond; i++) {
		free(r->cond[i].field);
		free(r->cond[i].value);
	}
	free(r->cond);
	free(r);
}

enum window_agg window_rule_agg(const struct window_rule *r)
{
	return r->agg;
}

int64_t window_rule_within_ms(const struct window_rule *r)
{
	return r->within_ms;
}

int64_t window_rule_slack_ms(const struct window_rule *r)
{
	return r->slack_ms;
}
