/* Unit tests for JSON text building: string escaping of every byte, UTF-8
 * pass-through and replacement, base64, structure helpers and numbers. Every
 * output is checked by a small strict JSON validator written here. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cybersieve/json.h"

/* ---- a strict JSON validator (RFC 8259) that can decode one string ---- */

struct jp {
	const uint8_t *s;
	size_t n, i;
	uint8_t *dec;  /* decoded bytes of the strings seen (UTF-8), may be NULL */
	size_t dec_len, dec_cap;
};

static void jp_ws(struct jp *p)
{
	while (p->i < p->n && strchr(" \t\r\n", p->s[p->i]) && p->s[p->i])
		p->i++;
}

static void jp_put(struct jp *p, const uint8_t *b, size_t n)
{
	if (!p->dec)
		return;
	if (p->dec_len + n > p->dec_cap)
		return;
	memcpy(p->dec + p->dec_len, b, n);
	p->dec_len += n;
}

static int hexv(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t utf8_encode(uint32_t cp, uint8_t *o)
{
	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (uint8_t)(0xc0 | cp >> 6);
		o[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | cp >> 12);
		o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (uint8_t)(0xf0 | cp >> 18);
	o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* Strictly valid UTF-8 sequence length at s, 0 if invalid (reference decoder). */
static size_t ref_utf8_len(const uint8_t *s, size_t n)
{
	if (s[0] < 0x80)
		return 1;
	size_t need = s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : s[0] >= 0xe0 && s[0] <= 0xef ? 3
		     : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
	if (!need || n < need)
		return 0;
	uint32_t cp = s[0] & (need == 2 ? 0x1f : need == 3 ? 0x0f : 0x07);
	for (size_t k = 1; k < need; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < min[need] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

static bool jp_u4(struct jp *p, uint32_t *v)
{
	if (p->i + 4 > p->n)
		return false;
	*v = 0;
	for (int k = 0; k < 4; k++) {
		int h = hexv(p->s[p->i + (size_t)k]);
		if (h < 0)
			return false;
		*v = *v << 4 | (uint32_t)h;
	}
	p->i += 4;
	return true;
}

static bool jp_string(struct jp *p)
{
	if (p->i >= p->n || p->s[p->i] != '"')
		return false;
	p->i++;
	while (p->i < p->n) {
		uint8_t c = p->s[p->i];
		if (c == '"') {
			p->i++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (++p->i >= p->n)
				return false;
			uint8_t e = p->s[p->i++];
			const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
			const char *f = e ? strchr(from, e) : NULL;
			if (f) {
				jp_put(p, (const uint8_t *)&to[f - from], 1);
				continue;
			}
			if (e != 'u')
				return false;
			uint32_t cp, lo;
			if (!jp_u4(p, &cp))
				return false;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (p->i + 2 > p->n || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u')
					return false;
				p->i += 2;
				if (!jp_u4(p, &lo) || lo < 0xdc00 || lo > 0xdfff)
					return false;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				return false;
			}
			uint8_t o[4];
			jp_put(p, o, utf8_encode(cp, o));
			continue;
		}
		size_t l = ref_utf8_len(p->s + p->i, p->n - p->i);
		if (l == 0)
			return false;
		jp_put(p, p->s + p->i, l);
		p->i += l;
	}
	return false;
}

static bool jp_number(struct jp *p)
{
	size_t st = p->i;
	if (p->i < p->n && p->s[p->i] == '-')
		p->i++;
	if (p->i >= p->n)
		return false;
	if (p->s[p->i] == '0') {
		p->i++;
	} else if (p->s[p->i] >= '1' && p->s[p->i] <= '9') {
		while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
	} else {
		return false;
	}
	if (p->i < p->n && p->s[p->i] == '.') {
		size_t d = ++p->i;
		while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
		if (p->i == d)
			return false;
	}
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		size_t d = p->i;
		while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
		if (p->i == d)
			return false;
	}
	return p->i > st;
}

static bool jp_lit(struct jp *p, const char *w)
{
	size_t l = strlen(w);
	if (p->i + l > p->n || memcmp(p->s + p->i, w, l) != 0)
		return false;
	p->i += l;
	return true;
}

static bool jp_value(struct jp *p, int depth)
{
	if (depth > 64)
		return false;
	jp_ws(p);
	if (p->i >= p->n)
		return false;
	uint8_t c = p->s[p->i];
	if (c == '{' || c == '[') {
		uint8_t close = c == '{' ? '}' : ']';
		p->i++;
		jp_ws(p);
		if (p->i < p->n && p->s[p->i] == close) {
			p->i++;
			return true;
		}
		for (;;) {
			if (c == '{') {
				jp_ws(p);
				if (!jp_string(p))
					return false;
				jp_ws(p);
				if (p->i >= p->n || p->s[p->i++] != ':')
					return false;
			}
			if (!jp_value(p, depth + 1))
				return false;
			jp_ws(p);
			if (p->i >= p->n)
				return false;
			if (p->s[p->i] == close) {
				p->i++;
				return true;
			}
			if (p->s[p->i++] != ',')
				return false;
		}
	}
	if (c == '"')
		return jp_string(p);
	if (c == 't')
		return jp_lit(p, "true");
	if (c == 'f')
		return jp_lit(p, "false");
	if (c == 'n')
		return jp_lit(p, "null");
	return jp_number(p);
}

/* True when s[0..n) is exactly one JSON value (whitespace around allowed). */
static bool json_valid(const char *s, size_t n)
{
	struct jp p = {.s = (const uint8_t *)s, .n = n};
	if (!jp_value(&p, 0))
		return false;
	jp_ws(&p);
	return p.i == n;
}

/* Decode a JSON string literal into out (cap bytes); returns decoded length or -1. */
static long json_decode_str(const char *s, size_t n, uint8_t *out, size_t cap)
{
	struct jp p = {.s = (const uint8_t *)s, .n = n, .dec = out, .dec_cap = cap};
	if (!jp_string(&p) || p.i != n)
		return -1;
	return (long)p.dec_len;
}

/* ---- tests ---- */

static const uint8_t FFFD[3] = {0xef, 0xbf, 0xbd};

static void test_validator_self_check(void **state)
{
	(void)state;
	/* The validator itself must refuse what is not JSON, or the tests below prove nothing. */
	static const char *bad[] = {"", "{", "[1,]", "{\"a\"1}", "\"a", "\"\x01\"", "\"\\x\"",
				    "\"\\ud800\"", "01", "1.", "{,}", "[1 2]", "\"\xff\"",
				    "\"\xc0\x80\"", "tru", "{\"a\":1,}", "[][]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (json_valid(bad[i], strlen(bad[i])))
			fail_msg("validator accepted %s", bad[i]);
	static const char *good[] = {"{}", "[]", "\"\\u00e9\\ud83d\\ude00\"", "-0.5e+3",
				     "{\"a\":[1,{\"b\":null}],\"c\":true}", " \"\xc3\xa9\" "};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!json_valid(good[i], strlen(good[i])))
			fail_msg("validator refused %s", good[i]);
}

/* The exact escaped form json_str must give one byte. */
static void expected_single(uint8_t c, char *out, bool *lossy)
{
	*lossy = false;
	switch (c) {
	case '"': strcpy(out, "\"\\\"\""); return;
	case '\\': strcpy(out, "\"\\\\\""); return;
	case '\n': strcpy(out, "\"\\n\""); return;
	case '\r': strcpy(out, "\"\\r\""); return;
	case '\t': strcpy(out, "\"\\t\""); return;
	default: break;
	}
	if (c < 0x20 || c == 0x7f) {
		sprintf(out, "\"\\u%04x\"", c);
	} else if (c < 0x80) {
		sprintf(out, "\"%c\"", c);
	} else {
		sprintf(out, "\"\xef\xbf\xbd\"");
		*lossy = true;
	}
}

static void test_every_single_byte(void **state)
{
	(void)state;
	struct jbuf j;
	jbuf_init(&j);
	for (unsigned c = 0; c < 256; c++) {
		uint8_t b = (uint8_t)c;
		char want[16];
		bool want_lossy;
		expected_single(b, want, &want_lossy);
		jbuf_reset(&j);
		bool lossy = json_str(&j, &b, 1);
		assert_false(j.failed);
		if (lossy != want_lossy)
			fail_msg("byte 0x%02x: lossy %d, want %d", c, lossy, want_lossy);
		if (j.len != strlen(want) || memcmp(j.p, want, j.len) != 0)
			fail_msg("byte 0x%02x: got %.*s want %s", c, (int)j.len, j.p, want);
		assert_int_equal(j.p[j.len], '\0');
		assert_true(json_valid(j.p, j.len));
		/* Decoding gives the byte back, or U+FFFD for a byte that is not UTF-8. */
		uint8_t dec[8];
		long dl = json_decode_str(j.p, j.len, dec, sizeof(dec));
		if (c < 0x80) {
			assert_int_equal(dl, 1);
			assert_int_equal(dec[0], b);
		} else {
			assert_int_equal(dl, 3);
			assert_memory_equal(dec, FFFD, 3);
		}
	}
	jbuf_fini(&j);
}

/* All 256 bytes in one string, and every pair of bytes: output always valid JSON. */
static void test_all_bytes_together_and_pairs(void **state)
{
	(void)state;
	struct jbuf j;
	jbuf_init(&j);
	uint8_t all[256];
	for (unsigned c = 0; c < 256; c++)
		all[c] = (uint8_t)c;
	assert_true(json_str(&j, all, sizeof(all)));
	assert_true(json_valid(j.p, j.len));
	for (unsigned a = 0; a < 256; a++) {
		for (unsigned b = 0; b < 256; b++) {
			uint8_t two[2] = {(uint8_t)a, (uint8_t)b};
			jbuf_reset(&j);
			bool lossy = json_str(&j, two, 2);
			if (!json_valid(j.p, j.len))
				fail_msg("bytes %02x %02x: invalid JSON %.*s", a, b, (int)j.len, j.p);
			bool want = !(ref_utf8_len(two, 2) == 2 ||
				      (ref_utf8_len(two, 2) == 1 && ref_utf8_len(two + 1, 1) == 1));
			if (lossy != want)
				fail_msg("bytes %02x %02x: lossy %d want %d", a, b, lossy, want);
		}
	}
	jbuf_fini(&j);
}

struct utf8_case {
	const char *in;
	size_t in_len;
	const char *want;  /* decoded text expected (U+FFFD written as EF BF BD) */
	size_t want_len;
	bool lossy;
};

#define U8(in, want, lossy) {in, sizeof(in) - 1, want, sizeof(want) - 1, lossy}

static void test_utf8_kept_and_replaced(void **state)
{
	(void)state;
	static const struct utf8_case cases[] = {
		U8("\xc3\xa9", "\xc3\xa9", false),                         /* 2-byte */
		U8("\xe2\x82\xac", "\xe2\x82\xac", false),                 /* 3-byte euro */
		U8("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", false),         /* 4-byte */
		U8("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf", false),         /* U+10FFFF */
		U8("\xed\x9f\xbf", "\xed\x9f\xbf", false),                 /* U+D7FF */
		U8("\xee\x80\x80", "\xee\x80\x80", false),                 /* U+E000 */
		U8("a\x80z", "a\xef\xbf\xbdz", true),                      /* lone continuation */
		U8("\xc0\x80", "\xef\xbf\xbd\xef\xbf\xbd", true),          /* overlong NUL */
		U8("\xc1\xbf", "\xef\xbf\xbd\xef\xbf\xbd", true),          /* overlong 2-byte */
		U8("\xe0\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", true), /* overlong 3 */
		U8("\xf0\x80\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", true),
		U8("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", true), /* surrogate */
		U8("\xed\xbf\xbf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", true),
		U8("\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", true),
		U8("\xf5\x80\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", true),
		U8("ok\xe2\x82", "ok\xef\xbf\xbd\xef\xbf\xbd", true),      /* truncated at end */
		U8("ok\xf0\x9f\x98", "ok\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", true),
		U8("\xc3", "\xef\xbf\xbd", true),
		U8("\xe2\x82" "A", "\xef\xbf\xbd\xef\xbf\xbd" "A", true),  /* cut short by ASCII */
		U8("\xc3\xa9\xff\xc3\xa9", "\xc3\xa9\xef\xbf\xbd\xc3\xa9", true),
		U8("\xfe\xff", "\xef\xbf\xbd\xef\xbf\xbd", true),
	};
	struct jbuf j;
	jbuf_init(&j);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct utf8_case *c = &cases[i];
		jbuf_reset(&j);
		bool lossy = json_str(&j, (const uint8_t *)c->in, c->in_len);
		if (lossy != c->lossy)
			fail_msg("case %zu: lossy %d want %d", i, lossy, c->lossy);
		assert_true(json_valid(j.p, j.len));
		/* No escapes here: the raw output is the quoted expected text. */
		assert_int_equal(j.len, c->want_len + 2);
		assert_int_equal(j.p[0], '"');
		assert_int_equal(j.p[j.len - 1], '"');
		if (memcmp(j.p + 1, c->want, c->want_len) != 0)
			fail_msg("case %zu: wrong text", i);
	}
	jbuf_fini(&j);
}

static void test_long_string_grows(void **state)
{
	(void)state;
	/* Worst case: every byte a 6-byte escape, well past the first allocation. */
	size_t n = 100000;
	uint8_t *in = malloc(n);
	assert_non_null(in);
	memset(in, 0x01, n);
	struct jbuf j;
	jbuf_init(&j);
	jbuf_raw(&j, "[", 1);
	assert_false(json_str(&j, in, n));
	jbuf_raw(&j, "]", 1);
	assert_false(j.failed);
	assert_int_equal(j.len, n * 6 + 4);
	assert_true(json_valid(j.p, j.len));
	assert_memory_equal(j.p + 1, "\"\\u0001\\u0001", 13);
	/* Invalid bytes only: each becomes 3 bytes. */
	memset(in, 0xff, n);
	jbuf_reset(&j);
	assert_true(json_str(&j, in, n));
	assert_int_equal(j.len, n * 3 + 2);
	assert_true(json_valid(j.p, j.len));
	free(in);
	jbuf_fini(&j);
}

static void test_base64_rfc4648(void **state)
{
	(void)state;
	static const char *vec[][2] = {
		{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
		{"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
	};
	struct jbuf j;
	jbuf_init(&j);
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		jbuf_reset(&j);
		json_base64(&j, (const uint8_t *)vec[i][0], strlen(vec[i][0]));
		char want[32];
		snprintf(want, sizeof(want), "\"%s\"", vec[i][1]);
		assert_string_equal(j.p, want);
		assert_int_equal(j.len, strlen(want));
	}
	/* High bytes use the whole alphabet's top end. */
	static const uint8_t hi[] = {0xfb, 0xff, 0xbf, 0xff, 0xfe};
	jbuf_reset(&j);
	json_base64(&j, hi, sizeof(hi));
	assert_string_equal(j.p, "\"+/+///4=\"");
	jbuf_fini(&j);
}

static void test_structure_nesting_commas(void **state)
{
	(void)state;
	struct jbuf j;
	jbuf_init(&j);
	json_obj_open(&j);
	json_kv_str(&j, "a", "x");
	json_kv_str(&j, "n", NULL);
	json_key(&j, "arr");
	json_arr_open(&j);
	json_elem_str(&j, "p");
	json_elem_str(&j, "q");
	json_obj_open(&j);
	json_obj_close(&j);
	json_arr_open(&j);
	json_arr_close(&j);
	json_obj_open(&j);
	json_kv_bool(&j, "t", true);
	json_kv_bool(&j, "f", false);
	json_obj_close(&j);
	json_arr_close(&j);
	json_key(&j, "o");
	json_obj_open(&j);
	json_key(&j, "inner");
	json_obj_open(&j);
	json_kv_u64(&j, "z", 0);
	json_obj_close(&j);
	json_kv_bytes(&j, "b", (const uint8_t *)"\x00q", 2);
	json_kv_hex(&j, "h", (const uint8_t *)"\x00\xab\xff", 3);
	json_key(&j, "b64");
	json_base64(&j, (const uint8_t *)"hi", 2);
	json_obj_close(&j);
	json_kv_str(&j, "k\"ey", "v\\al");
	json_obj_close(&j);
	assert_false(j.failed);
	assert_string_equal(j.p, "{\"a\":\"x\",\"n\":null,\"arr\":[\"p\",\"q\",{},[],{\"t\":true,"
				 "\"f\":false}],\"o\":{\"inner\":{\"z\":0},\"b\":\"\\u0000q\","
				 "\"h\":\"00abff\",\"b64\":\"aGk=\"},\"k\\\"ey\":\"v\\\\al\"}");
	assert_true(json_valid(j.p, j.len));

	/* Sibling top-level objects (NDJSON lines) after a reset carry no comma. */
	jbuf_reset(&j);
	json_obj_open(&j);
	json_obj_close(&j);
	assert_string_equal(j.p, "{}");
	jbuf_reset(&j);
	json_arr_open(&j);
	json_arr_open(&j);
	json_arr_close(&j);
	json_arr_open(&j);
	json_elem_str(&j, "");
	json_arr_close(&j);
	json_arr_close(&j);
	assert_string_equal(j.p, "[[],[\"\"]]");
	assert_true(json_valid(j.p, j.len));
	jbuf_fini(&j);
}

static void test_numbers(void **state)
{
	(void)state;
	struct jbuf j;
	jbuf_init(&j);
	json_obj_open(&j);
	json_kv_u64(&j, "u0", 0);
	json_kv_u64(&j, "umax", UINT64_MAX);
	json_kv_i64(&j, "imin", INT64_MIN);
	json_kv_i64(&j, "imax", INT64_MAX);
	json_kv_i64(&j, "neg", -1);
	json_kv_f64(&j, "f", 1.5);
	json_kv_f64(&j, "g", -0.0004);
	json_kv_f64(&j, "big", 1e15);
	json_kv_f64(&j, "nan", NAN);
	json_kv_f64(&j, "inf", INFINITY);
	json_kv_f64(&j, "ninf", -INFINITY);
	json_obj_close(&j);
	assert_false(j.failed);
	assert_string_equal(j.p, "{\"u0\":0,\"umax\":18446744073709551615,"
				 "\"imin\":-9223372036854775808,\"imax\":9223372036854775807,"
				 "\"neg\":-1,\"f\":1.500,\"g\":-0.000,\"big\":1000000000000000.000,"
				 "\"nan\":null,\"inf\":null,\"ninf\":null}");
	assert_true(json_valid(j.p, j.len));
	jbuf_fini(&j);
}

static void test_raw_and_reset(void **state)
{
	(void)state;
	struct jbuf j;
	jbuf_init(&j);
	jbuf_raw(&j, "abc", 3);
	assert_int_equal(j.len, 3);
	assert_string_equal(j.p, "abc");
	jbuf_reset(&j);
	assert_int_equal(j.len, 0);
	json_kv_u64(&j, "a", 1);
	assert_string_equal(j.p, "\"a\":1");
	jbuf_fini(&j);
	assert_null(j.p);
	assert_int_equal(j.len, 0);
	jbuf_fini(&j); /* twice is harmless */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validator_self_check),
		cmocka_unit_test(test_every_single_byte),
		cmocka_unit_test(test_all_bytes_together_and_pairs),
		cmocka_unit_test(test_utf8_kept_and_replaced),
		cmocka_unit_test(test_long_string_grows),
		cmocka_unit_test(test_base64_rfc4648),
		cmocka_unit_test(test_structure_nesting_commas),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_raw_and_reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
