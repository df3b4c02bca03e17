/* JSON writing for records and summaries (include/cybersieve/json.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cybersieve/json.h"
#include "cybersieve/util.h"

/* From this size on a buffer grows onto huge pages (util_alloc_huge): one
 * holding an input's records runs to tens of MB, and filling it 4 KiB page by
 * page costs a fault each. */
#define JBUF_HUGE ((size_t)2 << 20)

void jbuf_init(struct jbuf *j)
{
	memset(j, 0, sizeof(*j));
}

void jbuf_fini(struct jbuf *j)
{
	free(j->p);
	memset(j, 0, sizeof(*j));
}

void jbuf_reset(struct jbuf *j)
{
	j->len = 0;
	j->failed = false;
	j->need_comma = false;
}

static bool jbuf_reserve(struct jbuf *j, size_t extra)
{
	if (j->failed)
		return false;
	if (j->len + extra + 1 <= j->cap)
		return true;
	size_t cap = j->cap ? j->cap : 256;
	while (cap < j->len + extra + 1)
		cap *= 2;
	char *p;
	if (cap >= JBUF_HUGE) {
		p = util_alloc_huge(cap);
		if (p && j->p) {
			memcpy(p, j->p, j->len + 1);
			free(j->p);
		}
	} else {
		p = realloc(j->p, cap);
	}
	if (!p) {
		j->failed = true;
		return false;
	}
	j->p = p;
	j->cap = cap;
	return true;
}

void jbuf_raw(struct jbuf *j, const char *s, size_t n)
{
	if (!jbuf_reserve(j, n))
		return;
	memcpy(j->p + j->len, s, n);
	j->len += n;
	j->p[j->len] = '\0';
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
static size_t utf8_seq_len(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	size_t need;
	uint32_t min, cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2, min = 0x80, cp = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		need = 3, min = 0x800, cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4, min = 0x10000, cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

bool json_str(struct jbuf *j, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	bool lossy = false;
	/* Worst case every byte becomes a 6-byte escape. */
	if (!jbuf_reserve(j, n * 6 + 2))
		return false;
	char *o = j->p + j->len;
	*o++ = '"';
	for (size_t i = 0; i < n;) {
		uint8_t c = s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			*o++ = (char)c;
			i++;
			continue;
		}
		switch (c) {
		case '"': *o++ = '\\'; *o++ = '"'; i++; continue;
		case '\\': *o++ = '\\'; *o++ = '\\'; i++; continue;
		case '\n': *o++ = '\\'; *o++ = 'n'; i++; continue;
		case '\r': *o++ = '\\'; *o++ = 'r'; i++; continue;
		case '\t': *o++ = '\\'; *o++ = 't'; i++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[c >> 4];
			o[5] = hex[c & 0xf];
			o += 6;
			i++;
			continue;
		}
		size_t l = utf8_seq_len(s + i, n - i);
		if (l == 0) {
			/* U+FFFD in UTF-8 is 3 bytes: within the 6-byte budget. */
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			lossy = true;
			i++;
			continue;
		}
		memcpy(o, s + i, l);
		o += l;
		i += l;
	}
	*o++ = '"';
	j->len = (size_t)(o - j->p);
	j->p[j->len] = '\0';
	return lossy;
}

static void json_comma(struct jbuf *j)
{
	if (j->need_comma)
		jbuf_raw(j, ",", 1);
	j->need_comma = true;
}

void json_obj_open(struct jbuf *j)
{
	json_comma(j);
	jbuf_raw(j, "{", 1);
	j->need_comma = false;
}

void json_obj_close(struct jbuf *j)
{
	jbuf_raw(j, "}", 1);
	j->need_comma = true;
}

void json_arr_open(struct jbuf *j)
{
	json_comma(j);
	jbuf_raw(j, "[", 1);
	j->need_comma = false;
}

void json_arr_close(struct jbuf *j)
{
	jbuf_raw(j, "]", 1);
	j->need_comma = true;
}

void json_key(struct jbuf *j, const char *key)
{
	json_comma(j);
	json_str(j, (const uint8_t *)key, strlen(key));
	jbuf_raw(j, ":", 1);
	/* The value that follows must not be preceded by a comma. */
	j->need_comma = false;
}

void json_kv_str(struct jbuf *j, const char *key, const char *s)
{
	json_key(j, key);
	if (s)
		json_str(j, (const uint8_t *)s, strlen(s));
	else
		jbuf_raw(j, "null", 4);
	j->need_comma = true;
}

void json_kv_bytes(struct jbuf *j, const char *key, const uint8_t *s, size_t n)
{
	json_key(j, key);
	json_str(j, s, n);
	j->need_comma = true;
}

void json_kv_u64(struct jbuf *j, const char *key, uint64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	json_key(j, key);
	jbuf_raw(j, tmp, (size_t)n);
	j->need_comma = true;
}

void json_kv_i64(struct jbuf *j, const char *key, int64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
	json_key(j, key);
	jbuf_raw(j, tmp, (size_t)n);
	j->need_comma = true;
}

void json_kv_f64(struct jbuf *j, const char *key, double v)
{
	char tmp[64];
	int n = isfinite(v) ? snprintf(tmp, sizeof(tmp), "%.3f", v) : snprintf(tmp, sizeof(tmp), "null");
	json_key(j, key);
	jbuf_raw(j, tmp, (size_t)n);
	j->need_comma = true;
}

void json_kv_bool(struct jbuf *j, const char *key, bool v)
{
	json_key(j, key);
	jbuf_raw(j, v ? "true" : "false", v ? 4 : 5);
	j->need_comma = true;
}

void json_kv_hex(struct jbuf *j, const char *key, const uint8_t *b, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	json_key(j, key);
	if (!jbuf_reserve(j, n * 2 + 2))
		return;
	char *o = j->p + j->len;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		*o++ = hex[b[i] >> 4];
		*o++ = hex[b[i] & 0xf];
	}
	*o++ = '"';
	j->len = (size_t)(o - j->p);
	j->p[j->len] = '\0';
	j->need_comma = true;
}

void json_elem_str(struct jbuf *j, const char *s)
{
	json_comma(j);
	json_str(j, (const uint8_t *)s, strlen(s));
}

void json_base64(struct jbuf *j, const uint8_t *b, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	if (!jbuf_reserve(j, (n + 2) / 3 * 4 + 2))
		return;
	char *o = j->p + j->len;
	*o++ = '"';
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 | b[i + 2];
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = tab[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)b[i] << 16 | (i + 1 < n ? (uint32_t)b[i + 1] << 8 : 0);
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o++ = '"';
	j->len = (size_t)(o - j->p);
	j->p[j->len] = '\0';
	j->need_comma = true;
}
