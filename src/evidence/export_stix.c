/* An evidence folder as one STIX 2.1 bundle (docs/EXPORT.md). The records are
 * read once and folded into distinct indicators, cyber-observable objects and
 * observed-data groups (first-seen order, so the same folder always gives the
 * same bundle); then the objects are written in a fixed order. Ids are UUIDv5:
 * observables in the STIX namespace over their canonical (RFC 8785) id
 * properties, everything else in cybersieve's namespace over the run id and a
 * key. The export context owns every copy it makes; single-threaded. */
#include <stdlib.h>
#include <string.h>

#include "cybersieve/export.h"
#include "cybersieve/uuid.h"

#define STIX_TS_LEN 32
#define STIX_ID_LEN 96
#define STIX_MAX_REFS 5
#define STIX_COUNT_MAX 999999999u /* the largest count and number_observed allowed */

/* The five TLP 2.0 marking definitions exactly as OASIS publishes them. */
static const struct {
	const char *level, *id, *name;
} stix_tlp[] = {
	{"clear", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "TLP:CLEAR"},
	{"green", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "TLP:GREEN"},
	{"amber", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER"},
	{"amber+strict", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
	 "TLP:AMBER+STRICT"},
	{"red", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED"},
};
#define STIX_TLP_COUNT 5
#define STIX_TLP_EXTENSION "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
#define STIX_TLP_CREATED "2022-10-01T00:00:00.000Z"

/* String keys to indexes, open addressing; keys are owned copies. */
struct stix_map {
	char **keys;
	size_t *vals;
	size_t cap;
	size_t n;
};

struct stix_ind {
	char *pack, *id, *type, *value, *category, *legal, *pack_sha, *pack_source;
	uint64_t confidence;
	int tlp;
	char first[STIX_TS_LEN], last[STIX_TS_LEN];
	uint64_t count;
	char sid[STIX_ID_LEN];
};

struct stix_sco {
	char id[STIX_ID_LEN];
	char *body; /* the members after "id", each led by a comma */
	int tlp;
};

struct stix_group {
	char id[STIX_ID_LEN];
	size_t ind;
	char first[STIX_TS_LEN], last[STIX_TS_LEN];
	uint64_t number;
	size_t refs[STIX_MAX_REFS];
	int nrefs;
	int tlp;
};

struct stix_ctx {
	const struct export_run *run;
	struct stix_ind *inds;
	size_t n_inds, cap_inds;
	struct stix_sco *scos;
	size_t n_scos, cap_scos;
	struct stix_group *groups;
	size_t n_groups, cap_groups;
	struct stix_map ind_map, sco_map, group_map;
	char latest[STIX_TS_LEN];  /* the latest time_detected, when the run has no times */
	struct jbuf key, tmp;
};

/* ---------------------------------------------------------------- map --- */

static uint64_t stix_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static size_t stix_map_slot(const struct stix_map *m, const char *key)
{
	size_t i = (size_t)stix_hash(key) & (m->cap - 1);
	while (m->keys[i] && strcmp(m->keys[i], key) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static enum cs_err stix_map_grow(struct stix_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024;
	struct stix_map nm = {.keys = calloc(cap, sizeof(char *)),
			      .vals = calloc(cap, sizeof(size_t)), .cap = cap, .n = m->n};
	if (!nm.keys || !nm.vals) {
		free(nm.keys);
		free(nm.vals);
		return CS_ERR_NOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		size_t s = stix_map_slot(&nm, m->keys[i]);
		nm.keys[s] = m->keys[i];
		nm.vals[s] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	*m = nm;
	return CS_OK;
}

/* *found tells whether key was there; if not, it is added with value val. */
static enum cs_err stix_map_get_or_put(struct stix_map *m, const char *key, size_t val,
				       size_t *out, bool *found)
{
	if ((m->n + 1) * 2 > m->cap) {
		enum cs_err e = stix_map_grow(m);
		if (e != CS_OK)
			return e;
	}
	size_t s = stix_map_slot(m, key);
	if (m->keys[s]) {
		*found = true;
		*out = m->vals[s];
		return CS_OK;
	}
	m->keys[s] = strdup(key);
	if (!m->keys[s])
		return CS_ERR_NOMEM;
	m->vals[s] = val;
	m->n++;
	*found = false;
	*out = val;
	return CS_OK;
}

static void stix_map_fini(struct stix_map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* Room for one more element of an array that grows by doubling. */
static enum cs_err stix_reserve(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return CS_OK;
	size_t nc = *cap ? *cap * 2 : 256;
	void *nv = realloc(*v, nc * size);
	if (!nv)
		return CS_ERR_NOMEM;
	*v = nv;
	*cap = nc;
	return CS_OK;
}

/* ------------------------------------------------------------ strings --- */

/* A JSON string as RFC 8785 writes it: only '"', '\\' and control characters
 * escaped, everything else as the UTF-8 it is. Canonical ids depend on it. */
static void stix_str(struct jbuf *j, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	jbuf_raw(j, "\"", 1);
	const char *run = s;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		jbuf_raw(j, run, (size_t)(s - run));
		char esc[7] = {'\\', (char)c, 0};
		size_t n = 2;
		if (c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') {
			esc[1] = c == '\b' ? 'b' : c == '\f' ? 'f' : c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else if (c < 0x20) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xF];
			n = 6;
		}
		jbuf_raw(j, esc, n);
		run = s + 1;
	}
	jbuf_raw(j, run, (size_t)(s - run));
	jbuf_raw(j, "\"", 1);
}

/* ,"key":"value" */
static void stix_kv(struct jbuf *j, const char *key, const char *value)
{
	jbuf_raw(j, ",\"", 2);
	jbuf_raw(j, key, strlen(key));
	jbuf_raw(j, "\":", 2);
	stix_str(j, value);
}

static void stix_ku(struct jbuf *j, const char *key, uint64_t v)
{
	char t[64];
	int n = snprintf(t, sizeof(t), ",\"%s\":%llu", key, (unsigned long long)v);
	jbuf_raw(j, t, (size_t)n);
}

static void stix_raw(struct jbuf *j, const char *s)
{
	jbuf_raw(j, s, strlen(s));
}

/* "<type>--" and the UUIDv5 of name in ns. */
static void stix_make_id(char *out, const char *type, const uint8_t ns[16], const char *name)
{
	char u[UUID5_TEXT_LEN];
	uuid5_text(ns, name, strlen(name), u);
	snprintf(out, STIX_ID_LEN, "%s--%s", type, u);
}

/* An SDO or SRO id: cybersieve's namespace over "<run id>/<type>/<key>". */
static void stix_run_id(struct stix_ctx *c, char *out, const char *type, const char *key)
{
	jbuf_reset(&c->tmp);
	stix_raw(&c->tmp, c->run->run_id);
	jbuf_raw(&c->tmp, "/", 1);
	stix_raw(&c->tmp, type);
	jbuf_raw(&c->tmp, "/", 1);
	stix_raw(&c->tmp, key);
	stix_make_id(out, type, UUID5_NS_CYBERSIEVE, c->tmp.failed ? "" : c->tmp.p);
}

/* --------------------------------------------------------- timestamps --- */

/* RFC 3339 UTC text to "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" so that times of any
 * precision compare as strings; false when s is not of that shape. */
static bool stix_ts_norm(const char *s, char *out)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	if (!s)
		return false;
	for (int i = 0; i < 19; i++) {
		bool digit = s[i] >= '0' && s[i] <= '9';
		if (shape[i] == 'd' ? !digit : s[i] != shape[i])
			return false;
	}
	memcpy(out, s, 19);
	memcpy(out + 19, ".000000000Z", 12);
	const char *p = s + 19;
	if (*p == '.') {
		p++;
		for (int k = 0; *p >= '0' && *p <= '9'; p++, k++)
			if (k < 9)
				out[20 + k] = *p;
	}
	return p[0] == 'Z' && p[1] == '\0';
}

/* A normalised time for output: trailing zeros of the fraction dropped down to
 * min_digits (STIX wants at least milliseconds on created and modified). */
static void stix_ts_out(const char *norm, char *out, int min_digits)
{
	int digits = 9;
	while (digits > min_digits && norm[19 + digits] == '0')
		digits--;
	memcpy(out, norm, 20 + (size_t)digits);
	out[20 + digits] = 'Z';
	out[21 + digits] = '\0';
	if (digits == 0)
		memcpy(out + 19, "Z", 2);
}

static void stix_ts_widen(char *first, char *last, const char *f, const char *l)
{
	if (!first[0] || strcmp(f, first) < 0)
		strcpy(first, f);
	if (!last[0] || strcmp(l, last) > 0)
		strcpy(last, l);
}

/* ----------------------------------------------------------- patterns --- */

int export_stix_tlp_rank(const char *tlp)
{
	if (!tlp)
		return -1;
	if (strncasecmp(tlp, "tlp:", 4) == 0)
		tlp += 4;
	if (strcasecmp(tlp, "white") == 0)
		return 0;
	for (int i = 0; i < STIX_TLP_COUNT; i++)
		if (strcasecmp(tlp, stix_tlp[i].level) == 0)
			return i;
	return -1;
}

/* A STIX patterning string literal: backslash and quote escaped. */
static void stix_pattern_quote(struct jbuf *j, const char *v)
{
	jbuf_raw(j, "'", 1);
	for (; *v; v++) {
		if (*v == '\'' || *v == '\\')
			jbuf_raw(j, "\\", 1);
		jbuf_raw(j, v, 1);
	}
	jbuf_raw(j, "'", 1);
}

/* A literal as a PCRE that matches exactly it: every ASCII punctuation byte
 * escaped (always literal in PCRE), control bytes as \xHH. */
static void stix_pcre_literal(struct jbuf *j, const char *v)
{
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;
		char t[8];
		if (c < 0x20 || c == 0x7f) {
			snprintf(t, sizeof(t), "\\x%02x", c);
			stix_raw(j, t);
			continue;
		}
		bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			     (c >= 'A' && c <= 'Z');
		if (c < 0x80 && !alnum && c != ' ' && c != '_')
			jbuf_raw(j, "\\", 1);
		jbuf_raw(j, v, 1);
	}
}

/* The STIX hash name of a cybersieve hash type and its hex length, or NULL. */
static const char *stix_hash_name(const char *type, size_t *hexlen)
{
	if (strcmp(type, "md5") == 0)
		return *hexlen = 32, "MD5";
	if (strcmp(type, "sha1") == 0)
		return *hexlen = 40, "SHA-1";
	if (strcmp(type, "sha256") == 0)
		return *hexlen = 64, "SHA-256";
	return NULL;
}

static bool stix_is_hex(const char *v, size_t n)
{
	if (strlen(v) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f') ||
		      (v[i] >= 'A' && v[i] <= 'F')))
			return false;
	return true;
}

/* The cyber-observable type an indicator's value is, or NULL (literal, regex). */
static const char *stix_value_sco(const char *type, const char *value)
{
	if (strcmp(type, "domain") == 0)
		return "domain-name";
	if (strcmp(type, "url") == 0)
		return "url";
	if (strcmp(type, "email") == 0)
		return "email-addr";
	if (strcmp(type, "ip") == 0 || strcmp(type, "ipv4") == 0 || strcmp(type, "ipv6") == 0 ||
	    strcmp(type, "cidr") == 0)
		return strchr(value, ':') ? "ipv6-addr" : "ipv4-addr";
	return NULL;
}

enum cs_err export_stix_pattern(struct jbuf *j, const char *type, const char *value,
				const char **pattern_type)
{
	if (!type || !value)
		return CS_ERR_INVALID;
	size_t hexlen = 0;
	const char *hash = stix_hash_name(type, &hexlen);
	const char *sco = stix_value_sco(type, value);
	*pattern_type = "stix";
	if (hash) {
		if (!stix_is_hex(value, hexlen))
			return CS_ERR_PARSE;
		stix_raw(j, "[file:hashes.'");
		stix_raw(j, hash);
		stix_raw(j, "' = ");
		stix_pattern_quote(j, value);
		stix_raw(j, "]");
	} else if (sco) {
		stix_raw(j, "[");
		stix_raw(j, sco);
		stix_raw(j, ":value ");
		stix_raw(j, strcmp(type, "cidr") == 0 ? "ISSUBSET " : "= ");
		stix_pattern_quote(j, value);
		stix_raw(j, "]");
	} else if (strcmp(type, "regex") == 0) {
		*pattern_type = "pcre";
		stix_raw(j, value);
	} else if (strcmp(type, "literal") == 0) {
		*pattern_type = "pcre";
		stix_pcre_literal(j, value);
	} else if (strcmp(type, "combo") == 0 || strcmp(type, "window") == 0 ||
		   strcmp(type, "lookalike") == 0) {
		/* Rules have no STIX pattern: the open vocabulary names the
		 * language, and the pattern is the rule as its pack wrote it
		 * (rules/README.md). */
		*pattern_type = "cybersieve-rule";
		stix_raw(j, value);
	} else {
		return CS_ERR_UNSUPPORTED;
	}
	return j->failed ? CS_ERR_NOMEM : CS_OK;
}

/* ---------------------------------------------------------- collecting --- */

static const char *stix_s(const struct json_read_val *obj, const char *key)
{
	const char *s = json_read_str(obj, key);
	return s ? s : "";
}

static enum cs_err stix_room(struct stix_ctx *c, struct cs_diag *d)
{
	if (c->n_inds + c->n_scos + c->n_groups < EXPORT_MAX_OBJECTS)
		return CS_OK;
	cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
		    "more than %u distinct STIX objects: export a smaller run", EXPORT_MAX_OBJECTS);
	return CS_ERR_LIMIT;
}

static char *stix_dup(const char *s, bool *nomem)
{
	char *o = strdup(s ? s : "");
	if (!o)
		*nomem = true;
	return o;
}

static enum cs_err stix_ind_put(struct stix_ctx *c, const struct json_read_val *rec,
				size_t *out, struct cs_diag *d)
{
	const struct json_read_val *ind = json_read_get(rec, "indicator");
	const struct json_read_val *pack = json_read_get(ind, "pack");
	jbuf_reset(&c->key);
	const char *parts[] = {stix_s(pack, "name"), stix_s(ind, "id"), stix_s(ind, "type"),
			       stix_s(ind, "value")};
	for (int i = 0; i < 4; i++) {
		if (i)
			jbuf_raw(&c->key, "\x1f", 1);
		stix_raw(&c->key, parts[i]);
	}
	if (c->key.failed)
		return CS_ERR_NOMEM;
	bool found = false;
	enum cs_err e = stix_room(c, d);
	if (e == CS_OK)
		e = stix_reserve((void **)&c->inds, &c->cap_inds, c->n_inds, sizeof(*c->inds));
	if (e == CS_OK)
		e = stix_map_get_or_put(&c->ind_map, c->key.p, c->n_inds, out, &found);
	if (e != CS_OK || found)
		return e;
	struct stix_ind *n = &c->inds[c->n_inds++];
	bool nomem = false;
	memset(n, 0, sizeof(*n));
	n->pack = stix_dup(parts[0], &nomem);
	n->id = stix_dup(parts[1], &nomem);
	n->type = stix_dup(parts[2], &nomem);
	n->value = stix_dup(parts[3], &nomem);
	n->category = stix_dup(json_read_str(ind, "category"), &nomem);
	n->legal = stix_dup(json_read_str(rec, "legal"), &nomem);
	n->pack_sha = stix_dup(json_read_str(pack, "sha256"), &nomem);
	n->pack_source = stix_dup(json_read_str(pack, "source"), &nomem);
	n->tlp = -1;
	if (!json_read_u64(ind, "confidence", &n->confidence) || n->confidence > 100)
		n->confidence = 0;
	stix_run_id(c, n->sid, "indicator", c->key.p);
	return nomem ? CS_ERR_NOMEM : CS_OK;
}

/* The observable whose canonical id properties are canon ("{...}", keys in
 * RFC 8785 order); an existing one takes the stricter TLP. */
static enum cs_err stix_sco_put(struct stix_ctx *c, const char *type, struct jbuf *canon,
				int tlp, size_t *out, struct cs_diag *d)
{
	if (canon->failed)
		return CS_ERR_NOMEM;
	char id[STIX_ID_LEN];
	stix_make_id(id, type, UUID5_NS_STIX, canon->p);
	bool found = false;
	enum cs_err e = stix_room(c, d);
	if (e == CS_OK)
		e = stix_reserve((void **)&c->scos, &c->cap_scos, c->n_scos, sizeof(*c->scos));
	if (e == CS_OK)
		e = stix_map_get_or_put(&c->sco_map, id, c->n_scos, out, &found);
	if (e != CS_OK)
		return e;
	if (found) {
		if (tlp > c->scos[*out].tlp)
			c->scos[*out].tlp = tlp;
		return CS_OK;
	}
	struct stix_sco *s = &c->scos[c->n_scos];
	jbuf_reset(&c->tmp);
	stix_raw(&c->tmp, ",\"type\":");
	stix_str(&c->tmp, type);
	stix_raw(&c->tmp, ",\"spec_version\":\"2.1\",\"id\":");
	stix_str(&c->tmp, id);
	jbuf_raw(&c->tmp, ",", 1);
	jbuf_raw(&c->tmp, canon->p + 1, canon->len - 2);
	if (c->tmp.failed || !(s->body = strdup(c->tmp.p + 1)))
		return CS_ERR_NOMEM;
	memcpy(s->id, id, sizeof(id));
	s->tlp = tlp;
	c->n_scos++;
	return CS_OK;
}

/* An observable with only a value (domain-name, url, email-addr, ip). */
static enum cs_err stix_sco_value(struct stix_ctx *c, const char *type, const char *value,
				  int tlp, size_t *out, struct cs_diag *d)
{
	struct jbuf canon;
	jbuf_init(&canon);
	stix_raw(&canon, "{\"value\":");
	stix_str(&canon, value);
	stix_raw(&canon, "}");
	enum cs_err e = stix_sco_put(c, type, &canon, tlp, out, d);
	jbuf_fini(&canon);
	return e;
}

/* A file known by a hash and, for an input, its base name. */
static enum cs_err stix_sco_file(struct stix_ctx *c, const char *hash, const char *hex,
				 const char *name, int tlp, size_t *out, struct cs_diag *d)
{
	struct jbuf canon;
	jbuf_init(&canon);
	stix_raw(&canon, "{");
	if (hash) {
		stix_raw(&canon, "\"hashes\":{");
		stix_str(&canon, hash);
		stix_raw(&canon, ":");
		stix_str(&canon, hex);
		stix_raw(&canon, "}");
	}
	if (name) {
		stix_raw(&canon, hash ? ",\"name\":" : "\"name\":");
		stix_str(&canon, name);
	}
	stix_raw(&canon, "}");
	enum cs_err e = stix_sco_put(c, "file", &canon, tlp, out, d);
	jbuf_fini(&canon);
	return e;
}

/* network-traffic with its two addresses, for a packet record. */
static enum cs_err stix_sco_flow(struct stix_ctx *c, const struct json_read_val *rec,
				 struct stix_group *g, int tlp, struct cs_diag *d)
{
	const struct json_read_val *flow = json_read_get(rec, "flow");
	const char *sip = json_read_str(flow, "src_ip"), *dip = json_read_str(flow, "dest_ip");
	if (!sip || !dip)
		return CS_OK;
	const char *fam = strchr(sip, ':') ? "ipv6" : "ipv4";
	size_t s_ix, d_ix;
	enum cs_err e = stix_sco_value(c, strchr(sip, ':') ? "ipv6-addr" : "ipv4-addr", sip, tlp,
				       &s_ix, d);
	if (e == CS_OK)
		e = stix_sco_value(c, strchr(dip, ':') ? "ipv6-addr" : "ipv4-addr", dip, tlp,
				   &d_ix, d);
	if (e != CS_OK)
		return e;
	const char *proto = stix_s(flow, "proto");
	bool ports = strcmp(proto, "TCP") == 0 || strcmp(proto, "UDP") == 0;
	uint64_t sp = 0, dp = 0;
	json_read_u64(flow, "src_port", &sp);
	json_read_u64(flow, "dest_port", &dp);
	const char *field = stix_s(rec, "field");
	const char *app = strncmp(field, "dns.", 4) == 0 ? "dns"
			  : strncmp(field, "http.", 5) == 0 ? "http"
			  : strncmp(field, "tls.", 4) == 0 ? "tls" : NULL;
	struct jbuf canon;
	jbuf_init(&canon);
	if (ports)
		stix_ku(&canon, "dst_port", dp & 0xFFFF);
	stix_kv(&canon, "dst_ref", c->scos[d_ix].id);
	stix_raw(&canon, ",\"protocols\":[");
	stix_str(&canon, fam);
	if (ports) {
		stix_raw(&canon, strcmp(proto, "TCP") == 0 ? ",\"tcp\"" : ",\"udp\"");
		if (app) {
			jbuf_raw(&canon, ",", 1);
			stix_str(&canon, app);
		}
	}
	stix_raw(&canon, "]");
	if (ports)
		stix_ku(&canon, "src_port", sp & 0xFFFF);
	stix_kv(&canon, "src_ref", c->scos[s_ix].id);
	stix_raw(&canon, "}");
	canon.p[0] = '{'; /* the first member was written with a leading comma */
	size_t nt;
	e = stix_sco_put(c, "network-traffic", &canon, tlp, &nt, d);
	jbuf_fini(&canon);
	if (e == CS_OK) {
		g->refs[g->nrefs++] = nt;
		g->refs[g->nrefs++] = s_ix;
		g->refs[g->nrefs++] = d_ix;
	}
	return e;
}

/* Where a record was found: its source; for a rule's record, its first part. */
static const struct json_read_val *stix_source(const struct json_read_val *rec)
{
	const struct json_read_val *src = json_read_get(rec, "source");
	const struct json_read_val *parts = json_read_get(rec, "contributors");
	if (!src && parts && parts->type == JSON_READ_ARR && parts->n > 0)
		src = &parts->items[0];
	return src;
}

/* The observables one record shows, into g->refs (g is a scratch group). */
static enum cs_err stix_record_refs(struct stix_ctx *c, const struct json_read_val *rec,
				    const struct stix_ind *ind, struct stix_group *g, int tlp,
				    struct cs_diag *d)
{
	enum cs_err e = CS_OK;
	size_t hexlen = 0, ix;
	const char *hash = stix_hash_name(ind->type, &hexlen);
	const char *sco = stix_value_sco(ind->type, ind->value);
	g->nrefs = 0;
	if (hash && stix_is_hex(ind->value, hexlen))
		e = stix_sco_file(c, hash, ind->value, NULL, tlp, &ix, d);
	else if (sco && strcmp(ind->type, "cidr") != 0)
		e = stix_sco_value(c, sco, ind->value, tlp, &ix, d);
	else
		ix = SIZE_MAX;
	if (e != CS_OK)
		return e;
	if (ix != SIZE_MAX)
		g->refs[g->nrefs++] = ix;
	e = stix_sco_flow(c, rec, g, tlp, d);
	const struct json_read_val *src = stix_source(rec);
	const char *path = json_read_str(src, "path");
	const char *sha = json_read_str(src, "sha256");
	if (e == CS_OK && path) {
		const char *base = strrchr(path, '/');
		base = base && base[1] ? base + 1 : path;
		bool hex = sha && stix_is_hex(sha, 64);
		e = stix_sco_file(c, hex ? "SHA-256" : NULL, sha, base, tlp, &ix, d);
		if (e == CS_OK)
			g->refs[g->nrefs++] = ix;
	}
	return e;
}

/* When the record was observed: the packets' times, else the detection time. */
static enum cs_err stix_record_times(struct stix_ctx *c, const struct json_read_val *rec,
				     char *first, char *last, struct cs_diag *d)
{
	const struct json_read_val *src = json_read_get(rec, "source");
	char det[STIX_TS_LEN];
	bool have_det = stix_ts_norm(json_read_str(rec, "time_detected"), det);
	if (have_det && strcmp(det, c->latest) > 0)
		strcpy(c->latest, det);
	if (stix_ts_norm(json_read_str(src, "ts_first"), first) &&
	    stix_ts_norm(json_read_str(src, "ts_last"), last))
		return CS_OK;
	if (have_det) {
		strcpy(first, det);
		strcpy(last, det);
		return CS_OK;
	}
	cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "record %s has no valid time",
		    stix_s(rec, "record_id"));
	return CS_ERR_PARSE;
}

static enum cs_err stix_on_record(void *ctx, const struct json_read_val *rec, struct cs_diag *d)
{
	struct stix_ctx *c = ctx;
	char first[STIX_TS_LEN], last[STIX_TS_LEN];
	size_t ii, gi;
	bool found = false;
	struct stix_group g = {.nrefs = 0};
	int tlp = export_stix_tlp_rank(json_read_str(rec, "tlp"));
	uint64_t count = 1;
	if (!json_read_u64(json_read_get(rec, "match"), "count", &count) || count == 0)
		count = 1;
	enum cs_err e = stix_record_times(c, rec, first, last, d);
	if (e == CS_OK)
		e = stix_ind_put(c, rec, &ii, d);
	if (e != CS_OK)
		return e;
	struct stix_ind *ind = &c->inds[ii];
	stix_ts_widen(ind->first, ind->last, first, last);
	ind->count += count;
	if (tlp > ind->tlp)
		ind->tlp = tlp;
	e = stix_record_refs(c, rec, ind, &g, tlp, d);
	if (e != CS_OK)
		return e;

	const struct json_read_val *src = stix_source(rec);
	const struct json_read_val *flow = json_read_get(rec, "flow");
	const char *where = json_read_str(src, "path");
	jbuf_reset(&c->key);
	char num[32];
	snprintf(num, sizeof(num), "%zu", ii);
	const char *parts[] = {num, stix_s(src, "kind"), where ? where : stix_s(src, "interface"),
			       stix_s(flow, "community_id"), stix_s(flow, "direction"),
			       stix_s(rec, "field")};
	for (int i = 0; i < 6; i++) {
		if (i)
			jbuf_raw(&c->key, "\x1f", 1);
		stix_raw(&c->key, parts[i]);
	}
	if (c->key.failed)
		return CS_ERR_NOMEM;
	e = stix_room(c, d);
	if (e == CS_OK)
		e = stix_reserve((void **)&c->groups, &c->cap_groups, c->n_groups,
				 sizeof(*c->groups));
	if (e == CS_OK)
		e = stix_map_get_or_put(&c->group_map, c->key.p, c->n_groups, &gi, &found);
	if (e != CS_OK)
		return e;
	if (!found) {
		g.ind = ii;
		g.tlp = tlp;
		g.first[0] = g.last[0] = '\0';
		stix_run_id(c, g.id, "observed-data", c->key.p);
		c->groups[c->n_groups++] = g;
	}
	struct stix_group *grp = &c->groups[gi];
	stix_ts_widen(grp->first, grp->last, first, last);
	grp->number += count;
	if (tlp > grp->tlp)
		grp->tlp = tlp;
	return CS_OK;
}

/* ------------------------------------------------------------- output --- */

static void stix_markings(struct jbuf *j, int tlp)
{
	if (tlp < 0)
		return;
	stix_raw(j, ",\"object_marking_refs\":[");
	stix_str(j, stix_tlp[tlp].id);
	stix_raw(j, "]");
}

/* The members every SDO and SRO here starts with. */
static void stix_head(struct jbuf *j, const char *type, const char *id, const char *by,
		      const char *when)
{
	stix_raw(j, "{\"type\":");
	stix_str(j, type);
	stix_raw(j, ",\"spec_version\":\"2.1\"");
	stix_kv(j, "id", id);
	if (by)
		stix_kv(j, "created_by_ref", by);
	stix_kv(j, "created", when);
	stix_kv(j, "modified", when);
}

struct stix_out {
	FILE *f;
	struct jbuf j;
	size_t n;
	bool failed;
};

/* Write the object in o->j as the next element of the bundle's array. */
static void stix_flush(struct stix_out *o)
{
	if (o->j.failed)
		o->failed = true;
	if (o->failed)
		return;
	const char *sep = o->n++ ? ",\n" : "\n";
	if (fputs(sep, o->f) == EOF || fwrite(o->j.p, 1, o->j.len, o->f) != o->j.len)
		o->failed = true;
	jbuf_reset(&o->j);
}

static void stix_emit_identity(struct stix_out *o, const struct export_run *run,
			       const char *name, const char *id, const char *when)
{
	struct jbuf *j = &o->j;
	stix_head(j, "identity", id, NULL, when);
	stix_kv(j, "name", name);
	char text[1024];
	snprintf(text, sizeof(text), "Sensor %s on host %s; evidence run %s by %s %s",
		 run->sensor_id ? run->sensor_id : "(not named)", run->host ? run->host : "(unknown)",
		 run->run_id, run->tool_name ? run->tool_name : "cybersieve",
		 run->tool_version ? run->tool_version : "");
	stix_kv(j, "description", text);
	stix_raw(j, ",\"identity_class\":\"organization\"}");
	stix_flush(o);
}

static void stix_emit_markings(struct stix_out *o, const bool used[STIX_TLP_COUNT])
{
	for (int i = 0; i < STIX_TLP_COUNT; i++) {
		if (!used[i])
			continue;
		struct jbuf *j = &o->j;
		stix_raw(j, "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\"");
		stix_kv(j, "id", stix_tlp[i].id);
		stix_kv(j, "created", STIX_TLP_CREATED);
		stix_kv(j, "name", stix_tlp[i].name);
		stix_raw(j, ",\"extensions\":{\"" STIX_TLP_EXTENSION
			    "\":{\"extension_type\":\"property-extension\"");
		stix_kv(j, "tlp_2_0", stix_tlp[i].level);
		stix_raw(j, "}}}");
		stix_flush(o);
	}
}

static void stix_emit_indicator(struct stix_out *o, const struct stix_ind *n, const char *by,
				const char *when)
{
	struct jbuf *j = &o->j;
	struct jbuf pat;
	char text[2048], ts[STIX_TS_LEN];
	const char *ptype = "pcre";
	jbuf_init(&pat);
	if (export_stix_pattern(&pat, n->type, n->value, &ptype) != CS_OK) {
		/* A type without a mapping (or a malformed hash) still names its value. */
		jbuf_reset(&pat);
		ptype = "pcre";
		stix_pcre_literal(&pat, n->value);
	}
	stix_head(j, "indicator", n->sid, by, when);
	snprintf(text, sizeof(text), "%s: %s", n->pack, n->id);
	stix_kv(j, "name", text);
	snprintf(text, sizeof(text),
		 "%s indicator %s of pack %s, category %s; legal heading: %s; confidence %llu",
		 n->type, n->id, n->pack, n->category[0] ? n->category : "(none)",
		 n->legal[0] ? n->legal : "(none)", (unsigned long long)n->confidence);
	stix_kv(j, "description", text);
	stix_raw(j, ",\"indicator_types\":[\"malicious-activity\"]");
	stix_kv(j, "pattern", pat.failed ? "" : pat.p);
	stix_kv(j, "pattern_type", ptype);
	if (strcmp(ptype, "stix") == 0)
		stix_kv(j, "pattern_version", "2.1");
	stix_ts_out(n->first, ts, 3);
	stix_kv(j, "valid_from", ts);
	if (n->category[0]) {
		stix_raw(j, ",\"labels\":[");
		stix_str(j, n->category);
		stix_raw(j, "]");
	}
	stix_ku(j, "confidence", n->confidence);
	stix_raw(j, ",\"external_references\":[{\"source_name\":");
	snprintf(text, sizeof(text), "cybersieve pack %s", n->pack);
	stix_str(j, text);
	stix_kv(j, "external_id", n->id);
	snprintf(text, sizeof(text), "pack sha256 %s; source: %s", n->pack_sha, n->pack_source);
	stix_kv(j, "description", text);
	stix_raw(j, "}]");
	stix_markings(j, n->tlp);
	stix_raw(j, "}");
	jbuf_fini(&pat);
	stix_flush(o);
}

static void stix_emit_sco(struct stix_out *o, const struct stix_sco *s)
{
	struct jbuf *j = &o->j;
	stix_raw(j, "{");
	stix_raw(j, s->body);
	stix_markings(j, s->tlp);
	stix_raw(j, "}");
	stix_flush(o);
}

static void stix_emit_group(struct stix_out *o, const struct stix_ctx *c,
			    const struct stix_group *g, const char *by, const char *when)
{
	struct jbuf *j = &o->j;
	char ts[STIX_TS_LEN];
	stix_head(j, "observed-data", g->id, by, when);
	stix_ts_out(g->first, ts, 3);
	stix_kv(j, "first_observed", ts);
	stix_ts_out(g->last, ts, 3);
	stix_kv(j, "last_observed", ts);
	stix_ku(j, "number_observed", g->number > STIX_COUNT_MAX ? STIX_COUNT_MAX : g->number);
	stix_raw(j, ",\"object_refs\":[");
	for (int i = 0; i < g->nrefs; i++) {
		if (i)
			jbuf_raw(j, ",", 1);
		stix_str(j, c->scos[g->refs[i]].id);
	}
	stix_raw(j, "]");
	stix_markings(j, g->tlp);
	stix_raw(j, "}");
	stix_flush(o);
}

/* One sighting per indicator; order[from..to) are its groups with refs. */
static void stix_emit_sighting(struct stix_out *o, const struct stix_ctx *c,
			       const struct stix_ind *n, const size_t *order, size_t from,
			       size_t to, const char *by, const char *when)
{
	struct jbuf *j = &o->j;
	char id[STIX_ID_LEN], ts[STIX_TS_LEN];
	stix_make_id(id, "sighting", UUID5_NS_CYBERSIEVE, n->sid); /* one per indicator */
	stix_head(j, "sighting", id, by, when);
	stix_ts_out(n->first, ts, 3);
	stix_kv(j, "first_seen", ts);
	stix_ts_out(n->last, ts, 3);
	stix_kv(j, "last_seen", ts);
	stix_ku(j, "count", n->count > STIX_COUNT_MAX ? STIX_COUNT_MAX : n->count);
	stix_kv(j, "sighting_of_ref", n->sid);
	if (to > from) {
		stix_raw(j, ",\"observed_data_refs\":[");
		for (size_t i = from; i < to; i++) {
			if (i > from)
				jbuf_raw(j, ",", 1);
			stix_str(j, c->groups[order[i]].id);
		}
		stix_raw(j, "]");
	}
	stix_raw(j, ",\"where_sighted_refs\":[");
	stix_str(j, by);
	stix_raw(j, "]");
	stix_markings(j, n->tlp);
	stix_raw(j, "}");
	stix_flush(o);
}

/* The run's time for created and modified, to the millisecond. */
static void stix_run_time(const struct stix_ctx *c, char *out)
{
	char norm[STIX_TS_LEN];
	if (!stix_ts_norm(c->run->finished, norm) && !stix_ts_norm(c->run->started, norm)) {
		if (c->latest[0])
			strcpy(norm, c->latest);
		else
			strcpy(norm, "1970-01-01T00:00:00.000000000Z");
	}
	memcpy(out, norm, 23);
	memcpy(out + 23, "Z", 2);
}

/* Groups ordered by indicator (stable), so each sighting lists its own. */
static size_t *stix_group_order(const struct stix_ctx *c)
{
	size_t *order = malloc((c->n_groups + 1) * sizeof(size_t));
	size_t *start = calloc(c->n_inds + 1, sizeof(size_t));
	if (!order || !start) {
		free(order);
		free(start);
		return NULL;
	}
	for (size_t i = 0; i < c->n_groups; i++)
		start[c->groups[i].ind + 1]++;
	for (size_t i = 0; i < c->n_inds; i++)
		start[i + 1] += start[i];
	for (size_t i = 0; i < c->n_groups; i++)
		order[start[c->groups[i].ind]++] = i;
	free(start);
	return order;
}

static enum cs_err stix_emit(struct stix_ctx *c, const struct export_stix_opts *opts, FILE *f)
{
	const struct export_run *run = c->run;
	struct stix_out o = {.f = f};
	char when[STIX_TS_LEN], ident[STIX_ID_LEN], bundle[STIX_ID_LEN];
	const char *name = opts && opts->identity ? opts->identity
			   : run->operator_name ? run->operator_name
			   : run->sensor_id ? run->sensor_id : "cybersieve sensor";
	bool used[STIX_TLP_COUNT] = {false};
	size_t *order = stix_group_order(c);
	if (!order)
		return CS_ERR_NOMEM;
	jbuf_init(&o.j);
	stix_run_time(c, when);
	stix_run_id(c, ident, "identity", name);
	stix_make_id(bundle, "bundle", UUID5_NS_CYBERSIEVE, run->run_id);
	/* Every level any object carries, so that every marking ref resolves. */
	for (size_t i = 0; i < c->n_inds; i++)
		if (c->inds[i].tlp >= 0)
			used[c->inds[i].tlp] = true;
	for (size_t i = 0; i < c->n_scos; i++)
		if (c->scos[i].tlp >= 0)
			used[c->scos[i].tlp] = true;
	for (size_t i = 0; i < c->n_groups; i++)
		if (c->groups[i].tlp >= 0)
			used[c->groups[i].tlp] = true;
	if (fprintf(f, "{\"type\":\"bundle\",\"id\":\"%s\",\"objects\":[", bundle) < 0)
		o.failed = true;
	stix_emit_identity(&o, run, name, ident, when);
	stix_emit_markings(&o, used);
	for (size_t i = 0; i < c->n_inds; i++)
		stix_emit_indicator(&o, &c->inds[i], ident, when);
	for (size_t i = 0; i < c->n_scos; i++)
		stix_emit_sco(&o, &c->scos[i]);
	for (size_t i = 0; i < c->n_groups; i++)
		if (c->groups[i].nrefs > 0)
			stix_emit_group(&o, c, &c->groups[i], ident, when);
	for (size_t i = 0, k = 0; i < c->n_inds; i++) {
		size_t from = k;
		while (k < c->n_groups && c->groups[order[k]].ind == i)
			k++;
		/* Groups without observables were not written; do not point at them. */
		size_t to = from;
		for (size_t m = from; m < k; m++)
			if (c->groups[order[m]].nrefs > 0)
				order[to++] = order[m];
		stix_emit_sighting(&o, c, &c->inds[i], order, from, to, ident, when);
	}
	if (!o.failed && fputs("\n]}\n", f) == EOF)
		o.failed = true;
	if (!o.failed && fflush(f) != 0)
		o.failed = true;
	free(order);
	bool nomem = o.j.failed;
	jbuf_fini(&o.j);
	return nomem ? CS_ERR_NOMEM : o.failed ? CS_ERR_IO : CS_OK;
}

static void stix_ctx_fini(struct stix_ctx *c)
{
	for (size_t i = 0; i < c->n_inds; i++) {
		struct stix_ind *n = &c->inds[i];
		free(n->pack);
		free(n->id);
		free(n->type);
		free(n->value);
		free(n->category);
		free(n->legal);
		free(n->pack_sha);
		free(n->pack_source);
	}
	for (size_t i = 0; i < c->n_scos; i++)
		free(c->scos[i].body);
	free(c->inds);
	free(c->scos);
	free(c->groups);
	stix_map_fini(&c->ind_map);
	stix_map_fini(&c->sco_map);
	stix_map_fini(&c->group_map);
	jbuf_fini(&c->key);
	jbuf_fini(&c->tmp);
}

enum cs_err export_stix_write(const char *dir, const struct export_stix_opts *o, FILE *out,
			      struct cs_diag *d)
{
	struct export_run run;
	enum cs_err e = export_read_run(dir, &run, d);
	if (e != CS_OK)
		return e;
	struct stix_ctx c = {.run = &run};
	jbuf_init(&c.key);
	jbuf_init(&c.tmp);
	e = export_read_records(dir, stix_on_record, &c, d);
	if (e == CS_OK) {
		e = stix_emit(&c, o, out);
		if (e == CS_ERR_IO)
			cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "writing the bundle failed");
	}
	stix_ctx_fini(&c);
	export_read_run_fini(&run);
	return e;
}
