/* Zeek intel files: tab-separated, a "#fields" line naming the columns
 * (indicator, indicator_type, meta.source, ...), "-" for an empty field.
 * Each line becomes one indicator with id "L<line>". */
#include <stdio.h>
#include <string.h>

#include "match/import_int.h"

#define ZEEK_COLS 32

/* Split a line at tabs into at most ZEEK_COLS fields. */
static int zeek_split(const char *s, size_t n, const char **f, size_t *fl)
{
	int k = 0;
	size_t start = 0;
	for (size_t i = 0; i <= n && k < ZEEK_COLS; i++) {
		if (i == n || s[i] == '\t') {
			f[k] = s + start;
			fl[k++] = i - start;
			start = i + 1;
		}
	}
	return k;
}

static bool field_is(const char *f, size_t n, const char *name)
{
	return strlen(name) == n && memcmp(f, name, n) == 0;
}

/* Intel::TYPE -> indicator type; false (with the reason) when not matchable. */
static bool zeek_type(const char *s, size_t n, const char *v, size_t vn, enum ind_type *t)
{
	if (field_is(s, n, "Intel::DOMAIN"))
		*t = IND_DOMAIN;
	else if (field_is(s, n, "Intel::URL"))
		*t = IND_URL;
	else if (field_is(s, n, "Intel::EMAIL"))
		*t = IND_EMAIL;
	else if (field_is(s, n, "Intel::FILE_HASH") || field_is(s, n, "Intel::CERT_HASH"))
		return import_hash_type(v, vn, t);
	else if (field_is(s, n, "Intel::ADDR"))
		return import_type_by_name("ip", t);
	else if (field_is(s, n, "Intel::SUBNET"))
		return import_type_by_name("cidr", t) || import_type_by_name("ip", t);
	else
		return false;
	return true;
}

static enum cs_err zeek_line(struct import_ctx *c, const char *s, size_t n, uint32_t line,
			     int ci, int ct, int cs)
{
	const char *f[ZEEK_COLS];
	size_t fl[ZEEK_COLS];
	int k = zeek_split(s, n, f, fl);
	char id[32];
	snprintf(id, sizeof(id), "L%u", line);
	if (k <= ci || k <= ct || (fl[ci] == 1 && f[ci][0] == '-') || fl[ci] == 0) {
		import_note(c, IMPORT_K_INVALID, "Zeek intel lines malformed (missing field)", id);
		return CS_OK;
	}
	if (cs >= 0 && k > cs && line && c->p->source && strstr(c->p->source, "imported from")) {
		char src[200];
		snprintf(src, sizeof(src), "%.*s (Zeek intel meta.source)", (int)fl[cs], f[cs]);
		enum cs_err e = import_set_str(&c->p->source, src, strlen(src));
		if (e)
			return e;
	}
	enum ind_type t;
	if (!zeek_type(f[ct], fl[ct], f[ci], fl[ci], &t)) {
		char reason[112];
		snprintf(reason, sizeof(reason), "Zeek intel lines unsupported (type %.*s)",
			 (int)(fl[ct] > 40 ? 40 : fl[ct]), f[ct]);
		import_note(c, IMPORT_K_UNSUPPORTED, reason, id);
		return CS_OK;
	}
	return import_add(c, id, t, 0, f[ci], fl[ci], line, "Zeek intel lines");
}

enum cs_err import_zeek(struct import_ctx *c, const char *buf, size_t len)
{
	size_t pos = 0, n;
	const char *s;
	uint32_t line = 0;
	int ci = -1, ct = -1, cs = -1;
	bool fields = false;
	while (import_next_line(buf, len, &pos, &s, &n)) {
		line++;
		if (n == 0)
			continue;
		if (n > 8 && memcmp(s, "#fields\t", 8) == 0) {
			const char *f[ZEEK_COLS];
			size_t fl[ZEEK_COLS];
			int k = zeek_split(s + 8, n - 8, f, fl);
			ci = ct = cs = -1;
			for (int i = 0; i < k; i++) {
				if (field_is(f[i], fl[i], "indicator"))
					ci = i;
				else if (field_is(f[i], fl[i], "indicator_type"))
					ct = i;
				else if (field_is(f[i], fl[i], "meta.source"))
					cs = i;
			}
			fields = ci >= 0 && ct >= 0;
			continue;
		}
		if (s[0] == '#')
			continue;
		if (!fields) {
			cs_diag_set(c->d, c->p->path, line, CS_DIAG_NONE,
				    "Zeek intel: no '#fields' line naming indicator and indicator_type");
			return CS_ERR_PARSE;
		}
		enum cs_err e = zeek_line(c, s, n, line, ci, ct, cs);
		if (e)
			return e;
	}
	return CS_OK;
}
