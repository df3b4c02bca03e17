/* MISP events (JSON: {"Event": ...}, {"response": [{"Event": ...}]} or an
 * array of those; attributes of the event and of its objects) and MISP CSV
 * exports (header uuid,event_id,category,type,value,...). One indicator per
 * attribute of a type the tool matches, id = the attribute's uuid; other
 * attribute types are counted as unsupported with their uuids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cybersieve/json_read.h"
#include "match/import_int.h"

#define MISP_CSV_COLS 24
#define MISP_CSV_LINE_MAX (64u * 1024u)

/* MISP attribute type -> indicator type name; "hash" = by the value's
 * length. part: 0 whole value, 1 the part before '|', 2 the part after. */
static const struct {
	const char *misp;
	const char *type;
	int part;
} misp_types[] = {
	{"domain", "domain", 0},       {"hostname", "domain", 0},
	{"domain|ip", "domain", 1},    {"hostname|port", "domain", 1},
	{"url", "url", 0},             {"email", "email", 0},
	{"email-src", "email", 0},     {"email-dst", "email", 0},
	{"md5", "md5", 0},             {"sha1", "sha1", 0},
	{"sha256", "sha256", 0},       {"filename|md5", "md5", 2},
	{"filename|sha1", "sha1", 2},  {"filename|sha256", "sha256", 2},
	{"ip-src", "ip", 0},           {"ip-dst", "ip", 0},
	{"ip-src|port", "ip", 1},      {"ip-dst|port", "ip", 1},
	{"btc", "btc", 0},             {"xmr", "xmr", 0},
	{"iban", "iban", 0},           {"pdq", "pdq", 0},
};

/* Add one attribute (type name, value, uuid) or count it. */
static enum cs_err misp_attr(struct import_ctx *c, const char *mt, const char *v, size_t vn,
			     const char *uuid)
{
	char reason[112];
	for (size_t i = 0; i < sizeof(misp_types) / sizeof(misp_types[0]); i++) {
		if (strcmp(misp_types[i].misp, mt) != 0)
			continue;
		enum ind_type t;
		bool ok = import_type_by_name(misp_types[i].type, &t);
		if (!ok && (strcmp(mt, "btc") == 0 || strcmp(mt, "xmr") == 0))
			ok = import_type_by_name("wallet", &t);
		if (!ok)
			break;
		const char *bar = memchr(v, '|', vn);
		if (misp_types[i].part == 1 && bar)
			vn = (size_t)(bar - v);
		else if (misp_types[i].part == 2 && bar) {
			vn -= (size_t)(bar + 1 - v);
			v = bar + 1;
		}
		return import_add(c, uuid, t, 0, v, vn, 0, "MISP attributes");
	}
	snprintf(reason, sizeof(reason), "MISP attributes unsupported (type %.40s)", mt);
	import_note(c, IMPORT_K_UNSUPPORTED, reason, uuid);
	return CS_OK;
}

static enum cs_err misp_attr_json(struct import_ctx *c, const struct json_read_val *a,
				  size_t *k)
{
	const char *mt = json_read_str(a, "type");
	const struct json_read_val *v = json_read_get(a, "value");
	const char *uuid = json_read_str(a, "uuid");
	const struct json_read_val *del = json_read_get(a, "deleted");
	char fallback[32];
	++*k;
	if (!uuid) {
		snprintf(fallback, sizeof(fallback), "attr-%zu", *k);
		uuid = fallback;
	}
	if (del && del->type == JSON_READ_BOOL && del->b) {
		import_note(c, IMPORT_K_IGNORED, "MISP attributes ignored (deleted)", uuid);
		return CS_OK;
	}
	if (!mt || !v || v->type != JSON_READ_STR) {
		import_note(c, IMPORT_K_INVALID, "MISP attributes invalid (no type or value)", uuid);
		return CS_OK;
	}
	return misp_attr(c, mt, v->str, v->len, uuid);
}

static enum cs_err misp_attr_list(struct import_ctx *c, const struct json_read_val *arr,
				  size_t *k)
{
	enum cs_err e = CS_OK;
	for (size_t i = 0; arr && arr->type == JSON_READ_ARR && i < arr->n && !e; i++)
		e = misp_attr_json(c, &arr->items[i], k);
	return e;
}

/* tlp:white/clear/green/amber/amber+strict/red tag -> the pack's marking. */
static enum cs_err misp_tags(struct import_ctx *c, const struct json_read_val *tags)
{
	for (size_t i = 0; tags && tags->type == JSON_READ_ARR && i < tags->n; i++) {
		const char *name = json_read_str(&tags->items[i], "name");
		if (c->tlp_set || !name || strncmp(name, "tlp:", 4) != 0)
			continue;
		const char *t = name + 4;
		if (strcmp(t, "white") == 0)
			t = "clear";
		static const char *const ok[] = {"clear", "green", "amber", "amber+strict", "red"};
		for (size_t j = 0; j < 5; j++) {
			if (strcmp(t, ok[j]) == 0) {
				c->tlp_set = true;
				return import_set_str(&c->p->tlp, t, strlen(t));
			}
		}
	}
	return CS_OK;
}

static enum cs_err misp_event(struct import_ctx *c, const struct json_read_val *ev, size_t *k,
			      bool first)
{
	enum cs_err e = misp_tags(c, json_read_get(ev, "Tag"));
	const char *info = json_read_str(ev, "info");
	const char *uuid = json_read_str(ev, "uuid");
	const char *date = json_read_str(ev, "date");
	if (!e && first && (info || uuid)) {
		char src[300];
		snprintf(src, sizeof(src), "MISP event %s: %.200s", uuid ? uuid : "-",
			 info ? info : "");
		e = import_set_str(&c->p->source, src, strlen(src));
	}
	if (!e && first && date && strlen(date) == 10)
		e = import_set_str(&c->p->date, date, 10);
	if (!e)
		e = misp_attr_list(c, json_read_get(ev, "Attribute"), k);
	const struct json_read_val *objs = json_read_get(ev, "Object");
	for (size_t i = 0; !e && objs && objs->type == JSON_READ_ARR && i < objs->n; i++)
		e = misp_attr_list(c, json_read_get(&objs->items[i], "Attribute"), k);
	return e;
}

/* The events of a document: {"Event"}, {"response": [...]}, or [...]. */
static enum cs_err misp_events(struct import_ctx *c, const struct json_read_val *v, size_t *k,
			       size_t *n_ev)
{
	enum cs_err e = CS_OK;
	if (v->type == JSON_READ_ARR) {
		for (size_t i = 0; i < v->n && !e; i++)
			e = misp_events(c, &v->items[i], k, n_ev);
		return e;
	}
	const struct json_read_val *ev = json_read_get(v, "Event");
	if (ev && ev->type == JSON_READ_OBJ) {
		e = misp_event(c, ev, k, *n_ev == 0);
		++*n_ev;
		return e;
	}
	const struct json_read_val *resp = json_read_get(v, "response");
	if (resp && resp->type == JSON_READ_ARR)
		return misp_events(c, resp, k, n_ev);
	return CS_OK;
}

enum cs_err import_misp_json(struct import_ctx *c, const char *buf, size_t len)
{
	struct json_read_val *root = NULL;
	enum cs_err e = json_read_parse(buf, len, &root, c->d);
	if (e) {
		if (c->d && !c->d->file[0])
			snprintf(c->d->file, sizeof(c->d->file), "%s", c->p->path);
		return e == CS_ERR_NOMEM ? e : CS_ERR_PARSE;
	}
	size_t k = 0, n_ev = 0;
	e = misp_events(c, root, &k, &n_ev);
	if (!e && n_ev == 0) {
		cs_diag_set(c->d, c->p->path, CS_DIAG_NONE, CS_DIAG_NONE, "MISP: no Event found");
		e = CS_ERR_PARSE;
	}
	json_read_free(root);
	return e;
}

static int csv_col(const char **f, const size_t *fl, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strlen(name) == fl[i] && memcmp(f[i], name, fl[i]) == 0)
			return i;
	return -1;
}

enum cs_err import_misp_csv(struct import_ctx *c, const char *buf, size_t len)
{
	const char *f[MISP_CSV_COLS];
	size_t fl[MISP_CSV_COLS], pos = 0, n;
	const char *s;
	uint32_t line = 0;
	int cu = -1, ct = -1, cv = -1;
	enum cs_err e = CS_OK;
	char *scratch = malloc(MISP_CSV_LINE_MAX);
	if (!scratch)
		return CS_ERR_NOMEM;
	while (!e && import_next_line(buf, len, &pos, &s, &n)) {
		line++;
		if (n == 0)
			continue;
		char id[IMPORT_ID_MAX + 1];
		snprintf(id, sizeof(id), "L%u", line);
		int k = import_csv_split(s, n, scratch, MISP_CSV_LINE_MAX, f, fl, MISP_CSV_COLS);
		if (cv < 0) {
			cu = csv_col(f, fl, k, "uuid");
			ct = csv_col(f, fl, k, "type");
			cv = csv_col(f, fl, k, "value");
			if (ct < 0 || cv < 0) {
				cs_diag_set(c->d, c->p->path, line, CS_DIAG_NONE,
					    "MISP CSV: header without type and value columns");
				e = CS_ERR_PARSE;
			}
			continue;
		}
		if (k <= ct || k <= cv) {
			import_note(c, IMPORT_K_INVALID, "MISP CSV lines malformed", id);
			continue;
		}
		if (cu >= 0 && k > cu && fl[cu] > 0 && fl[cu] <= IMPORT_ID_MAX)
			snprintf(id, sizeof(id), "%.*s", (int)fl[cu], f[cu]);
		char mt[64];
		snprintf(mt, sizeof(mt), "%.*s", (int)(fl[ct] < 63 ? fl[ct] : 63), f[ct]);
		e = misp_attr(c, mt, f[cv], fl[cv], id);
	}
	free(scratch);
	return e;
}
