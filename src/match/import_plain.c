/* Plain lists (one value a line) and CSV lists with a header row.
 * Plain: leading comment lines may say "# type: TYPE", "# category: NAME",
 * "# tlp: MARKING"; any other '#' line is a comment. The type is the
 * caller's, else the header's, else guessed per value (hash by length, url,
 * email, ip, domain). Hosts-file lines ("0.0.0.0 name") give the name.
 * CSV: the header names a url column, a host column (with an optional path
 * column: url when the path is not empty), a domain column, or a
 * md5/sha1/sha256 column. Ids are "L<line>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cybersieve/util.h"
#include "match/import_int.h"

#define CSV_COLS 32
#define CSV_LINE_MAX (64u * 1024u)

/* "# key: value" in the leading comment block. */
bool import_comment_kv(const char *s, size_t n, const char **key, size_t *kn, const char **v,
		       size_t *vn)
{
	s++;
	n--;
	util_trim_blanks(&s, &n);
	const char *colon = memchr(s, ':', n);
	if (!colon)
		return false;
	*key = s;
	*kn = (size_t)(colon - s);
	*v = colon + 1;
	*vn = n - *kn - 1;
	util_trim_blanks(v, vn);
	return true;
}

static enum cs_err plain_header(struct import_ctx *c, const char *line, size_t n,
				bool *has_type, enum ind_type *type)
{
	const char *s, *v;
	size_t kn, vn;
	if (!import_comment_kv(line, n, &s, &kn, &v, &vn))
		return CS_OK;
	if (kn == 4 && memcmp(s, "type", 4) == 0 && !c->o->has_type) {
		if (!ind_type_parse(v, vn, type)) {
			cs_diag_set(c->d, c->p->path, CS_DIAG_NONE, CS_DIAG_NONE,
				    "plain list: unknown type '%.*s' in '# type:'", (int)vn, v);
			return CS_ERR_PARSE;
		}
		*has_type = true;
	} else if (kn == 8 && memcmp(s, "category", 8) == 0 && !c->category_set && vn) {
		c->category_set = true;
		return import_set_str(&c->p->category, v, vn);
	} else if (kn == 3 && memcmp(s, "tlp", 3) == 0 && !c->tlp_set && vn) {
		c->tlp_set = true;
		return import_set_str(&c->p->tlp, v, vn);
	}
	return CS_OK;
}

/* Hosts-file form: "0.0.0.0 name" / "127.0.0.1 name" -> name. */
static void hosts_form(const char **s, size_t *n)
{
	static const char *const pfx[] = {"0.0.0.0", "127.0.0.1", "::"};
	for (size_t i = 0; i < 3; i++) {
		size_t l = strlen(pfx[i]);
		if (*n > l + 1 && memcmp(*s, pfx[i], l) == 0 && (s[0][l] == ' ' || s[0][l] == '\t')) {
			*s += l;
			*n -= l;
			util_trim_blanks(s, n);
			return;
		}
	}
}

static enum cs_err plain_value(struct import_ctx *c, const char *s, size_t n, uint32_t line,
			       bool has_type, enum ind_type type)
{
	char id[32];
	snprintf(id, sizeof(id), "L%u", line);
	const char *hash = memchr(s, '#', n);
	if (hash && (!has_type || type != IND_LITERAL)) {
		n = (size_t)(hash - s); /* trailing comment */
		util_trim_blanks(&s, &n);
	}
	if (!has_type) {
		hosts_form(&s, &n);
		const char *name;
		if (!import_guess_type(s, n, &type, &name)) {
			char reason[112];
			snprintf(reason, sizeof(reason), "list lines unsupported (type %s)", name);
			import_note(c, IMPORT_K_UNSUPPORTED, reason, id);
			return CS_OK;
		}
	}
	return import_add(c, id, type, 0, s, n, line, "list lines");
}

enum cs_err import_plain(struct import_ctx *c, const char *buf, size_t len)
{
	size_t pos = 0, n;
	const char *s;
	uint32_t line = 0;
	bool has_type = c->o->has_type, leading = true;
	enum ind_type type = c->o->type;
	enum cs_err e = CS_OK;
	while (!e && import_next_line(buf, len, &pos, &s, &n)) {
		line++;
		util_trim_blanks(&s, &n);
		if (n == 0)
			continue;
		if (s[0] == '#' || (s[0] == '!' && leading)) {
			if (leading && s[0] == '#')
				e = plain_header(c, s, n, &has_type, &type);
			continue;
		}
		leading = false;
		e = plain_value(c, s, n, line, has_type, type);
	}
	return e;
}

struct csv_cols {
	int url, host, path, domain, hash;
};

static int col_of(const char **f, const size_t *fl, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strlen(name) == fl[i] && strncasecmp(f[i], name, fl[i]) == 0)
			return i;
	return -1;
}

static bool csv_header(const char **f, const size_t *fl, int k, struct csv_cols *cc)
{
	cc->url = col_of(f, fl, k, "url");
	cc->host = col_of(f, fl, k, "host");
	cc->path = col_of(f, fl, k, "path");
	cc->domain = col_of(f, fl, k, "domain");
	cc->hash = col_of(f, fl, k, "sha256");
	if (cc->hash < 0)
		cc->hash = col_of(f, fl, k, "sha1");
	if (cc->hash < 0)
		cc->hash = col_of(f, fl, k, "md5");
	return cc->url >= 0 || cc->host >= 0 || cc->domain >= 0 || cc->hash >= 0;
}

static enum cs_err csv_record(struct import_ctx *c, const struct csv_cols *cc, const char **f,
			      const size_t *fl, int k, uint32_t line)
{
	char id[32], url[CSV_LINE_MAX];
	snprintf(id, sizeof(id), "L%u", line);
	int col = cc->url >= 0 ? cc->url : cc->host >= 0 ? cc->host
				   : cc->domain >= 0 ? cc->domain : cc->hash;
	if (col >= k || fl[col] == 0) {
		import_note(c, IMPORT_K_INVALID, "CSV lines malformed (empty value)", id);
		return CS_OK;
	}
	if (col == cc->host && cc->path >= 0 && cc->path < k && fl[cc->path] > 0 &&
	    fl[col] + fl[cc->path] < sizeof(url)) {
		memcpy(url, f[col], fl[col]);
		memcpy(url + fl[col], f[cc->path], fl[cc->path]);
		return import_add(c, id, IND_URL, 0, url, fl[col] + fl[cc->path], line,
				  "CSV lines");
	}
	enum ind_type t = col == cc->url ? IND_URL : IND_DOMAIN;
	const char *name = NULL;
	if ((col == cc->host || col == cc->hash) && !import_guess_type(f[col], fl[col], &t, &name)) {
		char reason[112];
		snprintf(reason, sizeof(reason), "CSV lines unsupported (type %s)", name);
		import_note(c, IMPORT_K_UNSUPPORTED, reason, id);
		return CS_OK;
	}
	return import_add(c, id, t, 0, f[col], fl[col], line, "CSV lines");
}

enum cs_err import_csv(struct import_ctx *c, const char *buf, size_t len)
{
	const char *f[CSV_COLS];
	size_t fl[CSV_COLS], pos = 0, n;
	const char *s;
	uint32_t line = 0;
	bool header = false;
	struct csv_cols cc;
	enum cs_err e = CS_OK;
	char *scratch = malloc(CSV_LINE_MAX);
	if (!scratch)
		return CS_ERR_NOMEM;
	while (!e && import_next_line(buf, len, &pos, &s, &n)) {
		line++;
		if (n == 0 || s[0] == '#')
			continue;
		int k = import_csv_split(s, n, scratch, CSV_LINE_MAX, f, fl, CSV_COLS);
		if (k < 0) {
			import_note(c, IMPORT_K_INVALID, "CSV lines malformed (too long)", NULL);
			continue;
		}
		if (!header) {
			header = true;
			if (!csv_header(f, fl, k, &cc)) {
				cs_diag_set(c->d, c->p->path, line, CS_DIAG_NONE,
					    "CSV: no url, host, domain or hash column in the header");
				e = CS_ERR_PARSE;
			}
			continue;
		}
		e = csv_record(c, &cc, f, fl, k, line);
	}
	free(scratch);
	return e;
}
