/* A small JSON reader (include/cybersieve/json_read.h): recursive descent over
 * RFC 8259, strings decoded to UTF-8, depth capped so hostile input cannot
 * exhaust the stack. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cybersieve/json_read.h"

struct jr {
	const char *p, *end, *start;
	const char *why;
};

static void val_fini(struct json_read_val *v);

static void ws(struct jr *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static bool fail(struct jr *r, const char *why)
{
	if (!r->why)
		r->why = why;
	return false;
}

static int hex4(const char *s)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		int h = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

static size_t put_utf8(char *o, unsigned cp)
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

/* One escape after the backslash; appends to o, returns bytes or 0 on error. */
static size_t unescape(struct jr *r, char *o)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	if (r->p >= r->end)
		return 0;
	const char *k = strchr(from, *r->p);
	if (*r->p && k) {
		r->p++;
		*o = to[k - from];
		return 1;
	}
	if (*r->p != 'u' || r->end - r->p < 5)
		return 0;
	int cp = hex4(r->p + 1);
	r->p += 5;
	if (cp < 0)
		return 0;
	if (cp >= 0xD800 && cp < 0xDC00) {
		if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u')
			return 0;
		int lo = hex4(r->p + 2);
		if (lo < 0xDC00 || lo > 0xDFFF)
			return 0;
		r->p += 6;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	} else if (cp >= 0xDC00 && cp < 0xE000) {
		return 0;
	}
	return put_utf8(o, (unsigned)cp);
}

static bool parse_str(struct jr *r, char **out, size_t *out_len)
{
	r->p++; /* the opening quote */
	const char *s = r->p;
	while (r->p < r->end && *r->p != '"')
		r->p += *r->p == '\\' ? 2 : 1;
	if (r->p >= r->end)
		return fail(r, "unterminated string");
	/* Decoded text is never longer than its escaped form. */
	char *o = malloc((size_t)(r->p - s) + 1);
	if (!o)
		return fail(r, "out of memory");
	const char *stop = r->p;
	size_t n = 0;
	r->p = s;
	while (r->p < stop) {
		unsigned char c = (unsigned char)*r->p;
		if (c < 0x20) {
			free(o);
			return fail(r, "control character in string");
		}
		if (c != '\\') {
			o[n++] = (char)c;
			r->p++;
			continue;
		}
		r->p++;
		size_t k = unescape(r, o + n);
		if (!k) {
			free(o);
			return fail(r, "bad escape in string");
		}
		n += k;
	}
	r->p = stop + 1;
	o[n] = '\0';
	*out = o;
	*out_len = n;
	return true;
}

static bool parse_num(struct jr *r, struct json_read_val *v)
{
	const char *s = r->p;
	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p >= r->end || *r->p < '0' || *r->p > '9')
		return fail(r, "bad number");
	if (*r->p == '0')
		r->p++;
	else
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (r->p >= r->end || *r->p < '0' || *r->p > '9')
			return fail(r, "bad number");
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (r->p >= r->end || *r->p < '0' || *r->p > '9')
			return fail(r, "bad number");
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	char buf[64];
	size_t n = (size_t)(r->p - s);
	if (n >= sizeof(buf))
		return fail(r, "number too long");
	memcpy(buf, s, n);
	buf[n] = '\0';
	v->type = JSON_READ_NUM;
	v->num = strtod(buf, NULL);
	return true;
}

static bool parse_val(struct jr *r, struct json_read_val *v, int depth);

static bool push(struct jr *r, struct json_read_val *v, size_t *cap)
{
	if (v->n < *cap)
		return true;
	size_t nc = *cap ? *cap * 2 : 4;
	struct json_read_val *it = realloc(v->items, nc * sizeof(*it));
	if (!it)
		return fail(r, "out of memory");
	v->items = it;
	if (v->type == JSON_READ_OBJ) {
		char **k = realloc(v->keys, nc * sizeof(*k));
		if (!k)
			return fail(r, "out of memory");
		v->keys = k;
	}
	*cap = nc;
	return true;
}

/* Members of an array or object, after its opening bracket. */
static bool parse_members(struct jr *r, struct json_read_val *v, int depth)
{
	bool obj = v->type == JSON_READ_OBJ;
	char close = obj ? '}' : ']';
	size_t cap = 0;
	ws(r);
	if (r->p < r->end && *r->p == close) {
		r->p++;
		return true;
	}
	for (;;) {
		if (!push(r, v, &cap))
			return false;
		ws(r);
		if (obj) {
			size_t kl;
			if (r->p >= r->end || *r->p != '"' || !parse_str(r, &v->keys[v->n], &kl))
				return fail(r, "expected a key");
			ws(r);
			if (r->p >= r->end || *r->p != ':') {
				free(v->keys[v->n]);
				return fail(r, "expected ':'");
			}
			r->p++;
		}
		memset(&v->items[v->n], 0, sizeof(v->items[0]));
		bool ok = parse_val(r, &v->items[v->n], depth + 1);
		v->n++; /* counted even when it failed, so that it is freed */
		if (!ok)
			return false;
		ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == close) {
			r->p++;
			return true;
		}
		return fail(r, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static bool literal(struct jr *r, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return fail(r, "unexpected character");
	r->p += n;
	return true;
}

static bool parse_val(struct jr *r, struct json_read_val *v, int depth)
{
	if (depth > JSON_READ_MAX_DEPTH)
		return fail(r, "nested too deep");
	ws(r);
	if (r->p >= r->end)
		return fail(r, "unexpected end");
	switch (*r->p) {
	case '{':
	case '[':
		v->type = *r->p == '{' ? JSON_READ_OBJ : JSON_READ_ARR;
		r->p++;
		return parse_members(r, v, depth);
	case '"':
		v->type = JSON_READ_STR;
		return parse_str(r, &v->str, &v->len);
	case 't':
		v->type = JSON_READ_BOOL;
		v->b = true;
		return literal(r, "true");
	case 'f':
		v->type = JSON_READ_BOOL;
		return literal(r, "false");
	case 'n':
		v->type = JSON_READ_NULL;
		return literal(r, "null");
	default:
		return parse_num(r, v);
	}
}

enum cs_err json_read_parse(const char *p, size_t n, struct json_read_val **out, struct cs_diag *d)
{
	struct jr r = {.p = p, .end = p + n, .start = p};
	struct json_read_val *v = calloc(1, sizeof(*v));
	if (!v)
		return CS_ERR_NOMEM;
	bool ok = parse_val(&r, v, 0);
	ws(&r);
	if (ok && r.p != r.end)
		ok = fail(&r, "text after the value");
	if (!ok) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, (uint64_t)(r.p - r.start), "%s", r.why);
		json_read_free(v);
		return CS_ERR_PARSE;
	}
	*out = v;
	return CS_OK;
}

const struct json_read_val *json_read_get(const struct json_read_val *obj, const char *key)
{
	if (!obj || obj->type != JSON_READ_OBJ)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return &obj->items[i];
	return NULL;
}

const char *json_read_str(const struct json_read_val *obj, const char *key)
{
	const struct json_read_val *v = json_read_get(obj, key);
	return v && v->type == JSON_READ_STR ? v->str : NULL;
}

bool json_read_u64(const struct json_read_val *obj, const char *key, uint64_t *out)
{
	const struct json_read_val *v = json_read_get(obj, key);
	if (!v || v->type != JSON_READ_NUM || v->num < 0 || v->num > 9007199254740992.0 ||
	    v->num != (double)(uint64_t)v->num)
		return false;
	*out = (uint64_t)v->num;
	return true;
}

static void val_fini(struct json_read_val *v)
{
	for (size_t i = 0; i < v->n; i++) {
		val_fini(&v->items[i]);
		if (v->type == JSON_READ_OBJ)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
}

void json_read_free(struct json_read_val *v)
{
	if (!v)
		return;
	val_fini(v);
	free(v);
}
