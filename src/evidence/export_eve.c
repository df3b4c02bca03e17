/* An evidence folder as EVE JSON lines (docs/EXPORT.md): one Suricata-style
 * "alert" event per record, with the field names SIEM pipelines already parse
 * for Suricata, and the evidence details under "cybersieve". Streams: one
 * line buffer is reused; nothing is kept between records. Single-threaded. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cybersieve/export.h"

struct eve_ctx {
	FILE *out;
	struct jbuf j;
};

static void eve_sha256(const void *p, size_t n, uint8_t md[32])
{
	unsigned len = 0;
	memset(md, 0, 32);
	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
}

uint32_t export_eve_signature_id(const char *pack, const char *indicator_id)
{
	struct jbuf j;
	uint8_t md[32];
	jbuf_init(&j);
	jbuf_raw(&j, pack, strlen(pack));
	jbuf_raw(&j, "\n", 1);
	jbuf_raw(&j, indicator_id, strlen(indicator_id));
	eve_sha256(j.failed ? "" : j.p, j.failed ? 0 : j.len, md);
	jbuf_fini(&j);
	uint32_t v = (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 | (uint32_t)md[2] << 8 | md[3];
	return v & 0x7FFFFFFFu;
}

/* A 53-bit flow id (exact in any JSON reader) from the Community ID, so that
 * every alert of one flow carries the same flow_id. */
static uint64_t eve_flow_id(const char *community_id)
{
	uint8_t md[32];
	eve_sha256(community_id, strlen(community_id), md);
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | md[i];
	return v & ((1ull << 53) - 1);
}

static void eve_str(struct jbuf *j, const char *key, const char *s)
{
	if (s)
		json_kv_bytes(j, key, (const uint8_t *)s, strlen(s));
}

/* A value read back from a record, written again unchanged in meaning. */
static void eve_copy(struct jbuf *j, const struct json_read_val *v)
{
	char t[64];
	switch (v->type) {
	case JSON_READ_NULL:
		jbuf_raw(j, "null", 4);
		break;
	case JSON_READ_BOOL:
		jbuf_raw(j, v->b ? "true" : "false", v->b ? 4 : 5);
		break;
	case JSON_READ_NUM:
		if (v->num >= 0 && v->num < 9007199254740992.0 && v->num == floor(v->num))
			snprintf(t, sizeof(t), "%llu", (unsigned long long)v->num);
		else
			snprintf(t, sizeof(t), "%.17g", v->num);
		jbuf_raw(j, t, strlen(t));
		break;
	case JSON_READ_STR:
		json_str(j, (const uint8_t *)v->str, v->len);
		break;
	case JSON_READ_ARR:
	case JSON_READ_OBJ:
		jbuf_raw(j, v->type == JSON_READ_ARR ? "[" : "{", 1);
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				jbuf_raw(j, ",", 1);
			if (v->type == JSON_READ_OBJ) {
				json_str(j, (const uint8_t *)v->keys[i], strlen(v->keys[i]));
				jbuf_raw(j, ":", 1);
			}
			eve_copy(j, &v->items[i]);
		}
		jbuf_raw(j, v->type == JSON_READ_ARR ? "]" : "}", 1);
		break;
	}
	j->need_comma = true;
}

static void eve_kv_copy(struct jbuf *j, const char *key, const struct json_read_val *v)
{
	if (!v)
		return;
	json_key(j, key);
	eve_copy(j, v);
}

/* Suricata's time form: "2013-03-07T21:42:06.939527+0000" (microseconds). */
static bool eve_timestamp(const char *s, char *out, size_t cap)
{
	if (!s || strlen(s) < 20 || s[10] != 'T' || s[strlen(s) - 1] != 'Z')
		return false;
	char frac[7] = "000000";
	const char *p = s + 19;
	if (*p == '.')
		for (int k = 0; p[1] >= '0' && p[1] <= '9'; p++, k++)
			if (k < 6)
				frac[k] = p[1];
	snprintf(out, cap, "%.19s.%s+0000", s, frac);
	return true;
}

/* The whole value of an application field: a field record's context is the
 * field itself (before + match + after); NULL when the content is withheld. */
static char *eve_field_value(const struct json_read_val *rec)
{
	const struct json_read_val *m = json_read_get(rec, "match");
	const struct json_read_val *ctx = json_read_get(m, "context");
	const char *t = json_read_str(m, "text");
	const char *b = json_read_str(ctx, "before"), *a = json_read_str(ctx, "after");
	if (!t || !b || !a)
		return NULL;
	size_t n = strlen(b) + strlen(t) + strlen(a);
	char *v = malloc(n + 1);
	if (v)
		snprintf(v, n + 1, "%s%s%s", b, t, a);
	return v;
}

/* app_proto and the dns / tls / http block the record's field belongs to. */
static void eve_app(struct jbuf *j, const struct json_read_val *rec)
{
	const char *field = json_read_str(rec, "field");
	if (!field)
		return;
	const char *app = strncmp(field, "dns.", 4) == 0 ? "dns"
			  : strncmp(field, "http.", 5) == 0 ? "http"
			  : strncmp(field, "tls.", 4) == 0 ? "tls" : NULL;
	if (!app)
		return;
	json_kv_str(j, "app_proto", app);
	char *v = eve_field_value(rec);
	if (!v)
		return;
	json_key(j, app);
	json_obj_open(j);
	if (strcmp(field, "dns.query") == 0) {
		json_kv_str(j, "type", "query");
		eve_str(j, "rrname", v);
	} else if (strcmp(field, "tls.sni") == 0) {
		eve_str(j, "sni", v);
	} else if (strcmp(field, "http.host") == 0) {
		eve_str(j, "hostname", v);
	} else if (strcmp(field, "http.url") == 0) {
		/* Suricata's url is the request target; the host goes apart. */
		char *h = strstr(v, "://");
		char *path = h ? strchr(h + 3, '/') : NULL;
		if (h && path) {
			json_kv_bytes(j, "hostname", (const uint8_t *)h + 3, (size_t)(path - h - 3));
			eve_str(j, "url", path);
		} else {
			eve_str(j, "url", v);
		}
	}
	json_obj_close(j);
	free(v);
}

/* Severity as Suricata counts it: 1 is the most severe. */
static uint64_t eve_severity(uint64_t confidence)
{
	return confidence >= 80 ? 1 : confidence >= 50 ? 2 : 3;
}

static void eve_alert(struct jbuf *j, const struct json_read_val *rec)
{
	const struct json_read_val *ind = json_read_get(rec, "indicator");
	const struct json_read_val *pack = json_read_get(ind, "pack");
	const char *pname = json_read_str(pack, "name"), *id = json_read_str(ind, "id");
	const char *type = json_read_str(ind, "type"), *value = json_read_str(ind, "value");
	const char *cat = json_read_str(ind, "category"), *legal = json_read_str(rec, "legal");
	uint64_t conf = 0;
	json_read_u64(ind, "confidence", &conf);
	pname = pname ? pname : "";
	id = id ? id : "";
	json_key(j, "alert");
	json_obj_open(j);
	json_kv_str(j, "action", "allowed");
	json_kv_u64(j, "gid", 1);
	json_kv_u64(j, "signature_id", export_eve_signature_id(pname, id));
	json_kv_u64(j, "rev", 1);
	size_t n = strlen(pname) + strlen(id) + (type ? strlen(type) : 0) +
		   (value ? strlen(value) : 0) + 8;
	char *sig = malloc(n + (cat ? strlen(cat) : 0) + (legal ? strlen(legal) : 0));
	if (sig) {
		snprintf(sig, n, "%s: %s %s %s", pname, id, type ? type : "", value ? value : "");
		eve_str(j, "signature", sig);
		if (legal)
			sprintf(sig, "%s (%s)", cat ? cat : "", legal);
		eve_str(j, "category", legal ? sig : cat);
		free(sig);
	} else {
		j->failed = true;
	}
	json_kv_u64(j, "severity", eve_severity(conf));
	json_key(j, "metadata");
	json_obj_open(j);
	const char *meta[][2] = {{"pack", pname}, {"indicator_id", id}, {"indicator_type", type},
				 {"tlp", json_read_str(rec, "tlp")}};
	for (size_t i = 0; i < sizeof(meta) / sizeof(meta[0]); i++) {
		if (!meta[i][1])
			continue;
		json_key(j, meta[i][0]);
		json_arr_open(j);
		json_elem_str(j, meta[i][1]);
		json_arr_close(j);
	}
	json_obj_close(j);
	json_obj_close(j);
}

/* What an investigator needs to find the record again in the evidence. */
static void eve_cybersieve(struct jbuf *j, const struct json_read_val *rec)
{
	static const char *const keys[] = {"record_id", "run_id", "seq", "prev",
					   "time_detected", "indicator", "legal", "tlp",
					   "source", "field"};
	json_key(j, "cybersieve");
	json_obj_open(j);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		eve_kv_copy(j, keys[i], json_read_get(rec, keys[i]));
	const struct json_read_val *m = json_read_get(rec, "match");
	if (m) {
		json_key(j, "match");
		json_obj_open(j);
		eve_kv_copy(j, "length", json_read_get(m, "length"));
		eve_kv_copy(j, "count", json_read_get(m, "count"));
		eve_kv_copy(j, "offset", json_read_get(m, "offset"));
		eve_kv_copy(j, "content_withheld", json_read_get(m, "content_withheld"));
		json_obj_close(j);
	}
	json_obj_close(j);
}

static void eve_flow(struct jbuf *j, const struct json_read_val *flow)
{
	const char *cid = json_read_str(flow, "community_id");
	const struct json_read_val *proto = json_read_get(flow, "proto");
	char t[32];
	if (cid)
		json_kv_u64(j, "flow_id", eve_flow_id(cid));
	eve_str(j, "src_ip", json_read_str(flow, "src_ip"));
	eve_kv_copy(j, "src_port", json_read_get(flow, "src_port"));
	eve_str(j, "dest_ip", json_read_str(flow, "dest_ip"));
	eve_kv_copy(j, "dest_port", json_read_get(flow, "dest_port"));
	if (proto && proto->type == JSON_READ_NUM) {
		snprintf(t, sizeof(t), "%.0f", proto->num); /* Suricata names it, or numbers it */
		json_kv_str(j, "proto", t);
	} else {
		eve_str(j, "proto", proto && proto->type == JSON_READ_STR ? proto->str : NULL);
	}
	eve_str(j, "community_id", cid);
	eve_str(j, "direction", json_read_str(flow, "direction"));
}

enum cs_err export_eve_render(struct jbuf *j, const struct json_read_val *rec,
			      struct cs_diag *d)
{
	const struct json_read_val *src = json_read_get(rec, "source");
	const struct json_read_val *flow = json_read_get(rec, "flow");
	const char *kind = json_read_str(src, "kind");
	bool live = kind && strcmp(kind, "live") == 0;
	char ts[48];
	if (!eve_timestamp(json_read_str(src, "ts_first"), ts, sizeof(ts)) &&
	    !eve_timestamp(json_read_str(rec, "time_detected"), ts, sizeof(ts))) {
		const char *id = json_read_str(rec, "record_id");
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "record %s has no valid time",
			    id ? id : "(without id)");
		return CS_ERR_PARSE;
	}
	json_obj_open(j);
	json_kv_str(j, "timestamp", ts);
	if (flow)
		eve_flow(j, flow);
	if (live)
		eve_str(j, "in_iface", json_read_str(src, "interface"));
	json_kv_str(j, "event_type", "alert");
	eve_app(j, rec);
	eve_alert(j, rec);
	eve_cybersieve(j, rec);
	json_obj_close(j);
	jbuf_raw(j, "\n", 1);
	return j->failed ? CS_ERR_NOMEM : CS_OK;
}

static enum cs_err eve_on_record(void *ctx, const struct json_read_val *rec, struct cs_diag *d)
{
	struct eve_ctx *c = ctx;
	jbuf_reset(&c->j);
	enum cs_err e = export_eve_render(&c->j, rec, d);
	if (e != CS_OK)
		return e;
	if (fwrite(c->j.p, 1, c->j.len, c->out) != c->j.len) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "writing the events failed");
		return CS_ERR_IO;
	}
	return CS_OK;
}

enum cs_err export_eve_write(const char *dir, FILE *out, struct cs_diag *d)
{
	struct eve_ctx c = {.out = out};
	jbuf_init(&c.j);
	enum cs_err e = export_read_records(dir, eve_on_record, &c, d);
	if (e == CS_OK && fflush(out) != 0) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "writing the events failed");
		e = CS_ERR_IO;
	}
	jbuf_fini(&c.j);
	return e;
}
