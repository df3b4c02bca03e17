/* STIX 2.1 bundles: each indicator object whose pattern is an equality
 * comparison, or an OR of them (within one observation or across
 * observations), on domain-name, url, email-addr, ipv4-addr, ipv6-addr values
 * or file hashes. One indicator per comparison, id = the STIX indicator id
 * (":N" appended when the pattern holds several). Any other pattern (AND,
 * MATCHES, LIKE, qualifiers, other pattern languages) is counted as
 * unsupported under its id, never dropped silently. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cybersieve/json_read.h"
#include "match/import_int.h"

#define STIX_CMP_MAX 64
#define STIX_VALUE_MAX 4096

struct stix_cmp {
	char path[96];
	char value[STIX_VALUE_MAX];
	size_t value_len;
};

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

/* object-type:property.path, quoted path steps ('SHA-256') unquoted. */
static const char *parse_path(const char *p, char *out, size_t cap)
{
	size_t o = 0;
	bool colon = false;
	while (*p && *p != ' ' && *p != '=' && *p != '!' && *p != ']' && *p != '\t') {
		if (*p == '\'') {
			const char *q = strchr(p + 1, '\'');
			if (!q)
				return NULL;
			for (p++; p < q; p++) {
				if (o + 1 >= cap)
					return NULL;
				out[o++] = *p;
			}
			p++;
			continue;
		}
		if (*p == ':')
			colon = true;
		if (o + 1 >= cap)
			return NULL;
		out[o++] = *p++;
	}
	out[o] = '\0';
	return colon && o ? p : NULL;
}

static const char *parse_string(const char *p, char *out, size_t cap, size_t *len)
{
	if (*p != '\'')
		return NULL;
	size_t o = 0;
	for (p++; *p && *p != '\''; p++) {
		if (*p == '\\') {
			if (p[1] != '\'' && p[1] != '\\')
				return NULL;
			p++;
		}
		if (o + 1 >= cap)
			return NULL;
		out[o++] = *p;
	}
	if (*p != '\'')
		return NULL;
	out[o] = '\0';
	*len = o;
	return p + 1;
}

static bool keyword(const char **pp, const char *kw)
{
	size_t n = strlen(kw);
	const char *p = *pp;
	if (strncmp(p, kw, n) != 0 || (p[n] && p[n] != ' ' && p[n] != '\t' && p[n] != '[' &&
				       p[n] != '\n' && p[n] != '\r'))
		return false;
	*pp = p + n;
	return true;
}

/* Pattern := Obs (OR Obs)*; Obs := '[' Cmp (OR Cmp)* ']'; Cmp := path = 'str'.
 * Returns the number of comparisons, or -1 when the pattern is anything else. */
static int stix_pattern(const char *p, struct stix_cmp *cmp, int max)
{
	int n = 0;
	for (;;) {
		p = skip_ws(p);
		if (*p++ != '[')
			return -1;
		for (;;) {
			if (n == max)
				return -1;
			p = skip_ws(p);
			p = parse_path(p, cmp[n].path, sizeof(cmp[n].path));
			if (!p)
				return -1;
			p = skip_ws(p);
			if (*p++ != '=')
				return -1;
			p = skip_ws(p);
			p = parse_string(p, cmp[n].value, sizeof(cmp[n].value), &cmp[n].value_len);
			if (!p)
				return -1;
			n++;
			p = skip_ws(p);
			if (*p == ']')
				break;
			if (!keyword(&p, "OR"))
				return -1;
		}
		p = skip_ws(p + 1);
		if (!*p)
			return n;
		if (!keyword(&p, "OR"))
			return -1;
	}
}

static bool stix_type(const struct stix_cmp *c, enum ind_type *t)
{
	const char *p = c->path;
	if (strcmp(p, "domain-name:value") == 0)
		*t = IND_DOMAIN;
	else if (strcmp(p, "url:value") == 0)
		*t = IND_URL;
	else if (strcmp(p, "email-addr:value") == 0)
		*t = IND_EMAIL;
	else if (strcmp(p, "ipv4-addr:value") == 0 || strcmp(p, "ipv6-addr:value") == 0)
		return import_type_by_name("ip", t);
	else if (strncmp(p, "file:hashes.", 12) == 0 || strncmp(p, "artifact:hashes.", 16) == 0) {
		const char *h = strchr(p, '.') + 1;
		if (strcasecmp(h, "MD5") == 0)
			*t = IND_MD5;
		else if (strcasecmp(h, "SHA-1") == 0 || strcasecmp(h, "SHA1") == 0)
			*t = IND_SHA1;
		else if (strcasecmp(h, "SHA-256") == 0 || strcasecmp(h, "SHA256") == 0)
			*t = IND_SHA256;
		else
			return false;
	} else
		return false;
	return true;
}

static enum cs_err stix_indicator(struct import_ctx *c, const struct json_read_val *o,
				  struct stix_cmp *cmp)
{
	const char *id = json_read_str(o, "id");
	const char *pattern = json_read_str(o, "pattern");
	const char *ptype = json_read_str(o, "pattern_type");
	const struct json_read_val *rev = json_read_get(o, "revoked");
	char reason[112];
	if (!id || !pattern) {
		import_note(c, IMPORT_K_INVALID, "STIX indicators invalid (no id or pattern)", id);
		return CS_OK;
	}
	if (rev && rev->type == JSON_READ_BOOL && rev->b) {
		import_note(c, IMPORT_K_IGNORED, "STIX indicators ignored (revoked)", id);
		return CS_OK;
	}
	if (ptype && strcmp(ptype, "stix") != 0) {
		snprintf(reason, sizeof(reason), "STIX indicators unsupported (pattern_type %.40s)",
			 ptype);
		import_note(c, IMPORT_K_UNSUPPORTED, reason, id);
		return CS_OK;
	}
	int n = stix_pattern(pattern, cmp, STIX_CMP_MAX);
	if (n < 0) {
		import_note(c, IMPORT_K_UNSUPPORTED,
			    "STIX indicators unsupported (pattern not an equality)", id);
		return CS_OK;
	}
	for (int i = 0; i < n; i++) {
		char iid[IMPORT_ID_MAX + 1];
		if (n == 1)
			snprintf(iid, sizeof(iid), "%s", id);
		else
			snprintf(iid, sizeof(iid), "%s:%d", id, i + 1);
		enum ind_type t;
		if (!stix_type(&cmp[i], &t)) {
			snprintf(reason, sizeof(reason), "STIX indicators unsupported (%.80s)",
				 cmp[i].path);
			import_note(c, IMPORT_K_UNSUPPORTED, reason, iid);
			continue;
		}
		enum cs_err e = import_add(c, iid, t, 0, cmp[i].value, cmp[i].value_len, 0,
					   "STIX indicators");
		if (e)
			return e;
	}
	return CS_OK;
}

enum cs_err import_stix(struct import_ctx *c, const char *buf, size_t len)
{
	struct json_read_val *root = NULL;
	struct stix_cmp *cmp = NULL;
	enum cs_err e = json_read_parse(buf, len, &root, c->d);
	if (e) {
		if (c->d && !c->d->file[0])
			snprintf(c->d->file, sizeof(c->d->file), "%s", c->p->path);
		return e == CS_ERR_NOMEM ? e : CS_ERR_PARSE;
	}
	const char *type = json_read_str(root, "type");
	const struct json_read_val *objs = json_read_get(root, "objects");
	if (!type || strcmp(type, "bundle") != 0 || (objs && objs->type != JSON_READ_ARR)) {
		cs_diag_set(c->d, c->p->path, CS_DIAG_NONE, CS_DIAG_NONE,
			    "STIX: not a bundle with an objects array");
		e = CS_ERR_PARSE;
		goto out;
	}
	cmp = malloc(STIX_CMP_MAX * sizeof(*cmp));
	if (!cmp) {
		e = CS_ERR_NOMEM;
		goto out;
	}
	/* Observed objects of the matchable kinds are what was seen, not what
	 * to look for: named, not loaded, so a bundle of them does not pass
	 * for an empty feed. */
	static const char *const sco[] = {"domain-name", "url", "ipv4-addr", "ipv6-addr",
					  "email-addr", "file"};
	for (size_t i = 0; objs && i < objs->n && !e; i++) {
		const char *ot = json_read_str(&objs->items[i], "type");
		if (ot && strcmp(ot, "indicator") == 0) {
			e = stix_indicator(c, &objs->items[i], cmp);
			continue;
		}
		for (size_t k = 0; ot && k < sizeof(sco) / sizeof(sco[0]); k++)
			if (strcmp(ot, sco[k]) == 0)
				import_note(c, IMPORT_K_IGNORED,
					    "STIX observables ignored (observed, not indicators)",
					    json_read_str(&objs->items[i], "id"));
	}
out:
	free(cmp);
	json_read_free(root);
	return e;
}
