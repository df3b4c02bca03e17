/* hexscan_next: the digest candidates of a text, the maximal hex runs of 32,
 * 40 or 64 digits that the engine's digest shapes and shapes_confirm keep.
 * Written cases, then random texts of long hex runs and separators against a
 * plain reading of the rule, at every length and alignment the vector loops
 * and their tails see, with every choice of widths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "each_isa.h"
#include "match/hexscan.h"

static bool hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The reference: the end of each maximal run whose length is asked for. */
static size_t reference(const uint8_t *b, size_t len, unsigned widths, size_t *ends,
			size_t *lens)
{
	size_t n = 0;
	for (size_t s = 0; s < len;) {
		if (!hex(b[s])) {
			s++;
			continue;
		}
		size_t e = s;
		while (e < len && hex(b[e]))
			e++;
		size_t w = e - s;
		if ((w == 32 && (widths & HEXSCAN_W32)) || (w == 40 && (widths & HEXSCAN_W40)) ||
		    (w == 64 && (widths & HEXSCAN_W64))) {
			lens[n] = w;
			ends[n++] = e;
		}
		s = e;
	}
	return n;
}

/* The search loop under test: each the CPU has, in turn (main). */
static enum vec_isa isa = VEC_AUTO;

static size_t found(const uint8_t *b, size_t len, unsigned widths, size_t *ends, size_t *lens)
{
	size_t pos = 0, e, w, n = 0;
	while (hexscan_next_isa(b, len, widths, &pos, &e, &w, isa)) {
		assert_true(e <= len);
		assert_true(pos >= e);
		lens[n] = w;
		ends[n++] = e;
	}
	assert_int_equal(pos, len);
	return n;
}

static const char h32[] = "d41d8cd98f00b204e9800998ecf8427e";
static const char h40[] = "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709";
static const char h64[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static void expect(const char *text, unsigned widths, const size_t *want, size_t n_want)
{
	size_t got[64], lens[64];
	size_t n = found((const uint8_t *)text, strlen(text), widths, got, lens);
	assert_int_equal(n, n_want);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(got[i], want[i]);
}

static void test_written(void **state)
{
	(void)state;
	const unsigned all = HEXSCAN_W32 | HEXSCAN_W40 | HEXSCAN_W64;
	char t[512];
	expect(h32, all, (size_t[]){32}, 1);
	expect(h40, all, (size_t[]){40}, 1);
	expect(h64, all, (size_t[]){64}, 1);
	expect(h64, HEXSCAN_W32 | HEXSCAN_W40, NULL, 0); /* not its width */
	expect(h32, 0, NULL, 0);
	snprintf(t, sizeof(t), "md5=%s sha1=%s\n%s.", h32, h40, h64);
	expect(t, all, (size_t[]){36, 82, 147}, 3);
	expect(t, HEXSCAN_W40, (size_t[]){82}, 1);
	snprintf(t, sizeof(t), "%sa", h32); /* 33 digits: no digest */
	expect(t, all, NULL, 0);
	snprintf(t, sizeof(t), "x%sg%sz", h32, h32); /* letters past f bound a run */
	expect(t, all, (size_t[]){33, 66}, 2);
	snprintf(t, sizeof(t), "%s%s", h32, h32); /* one run of 64 */
	expect(t, all, (size_t[]){64}, 1);
	expect(t, HEXSCAN_W32, NULL, 0);
	expect("", all, NULL, 0);
	expect("0123456789abcdef0123456789abcde", all, NULL, 0); /* 31 */
}

static void test_long_run(void **state)
{
	(void)state;
	size_t n = 1 << 20;
	uint8_t *b = malloc(n);
	assert_non_null(b);
	memset(b, 'a', n);
	size_t pos = 0, e, w;
	assert_false(hexscan_next_isa(b, n, HEXSCAN_W32, &pos, &e, &w, isa));
	assert_int_equal(pos, n);
	memcpy(b + n - 33, " ", 1);
	pos = 0;
	assert_true(hexscan_next_isa(b, n, HEXSCAN_W32, &pos, &e, &w, isa));
	assert_int_equal(e, n);
	assert_int_equal(w, 32);
	assert_false(hexscan_next_isa(b, n, HEXSCAN_W32, &pos, &e, &w, isa));
	free(b);
}

static uint32_t xorshift(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void test_random_against_reference(void **state)
{
	(void)state;
	static const char digits[] = "0123456789abcdefABCDEF";
	static const char other[] = " \n:=-gzG/\x80";
	static const size_t run_len[] = {1, 8, 15, 16, 17, 31, 32, 33, 39, 40, 41, 63, 64, 65, 90};
	enum { CAP = 900 };
	uint8_t *b = malloc(CAP + 64);
	size_t *want = malloc(CAP * sizeof(*want)), *got = malloc(CAP * sizeof(*got));
	size_t *wl = malloc(CAP * sizeof(*wl)), *gl = malloc(CAP * sizeof(*gl));
	assert_non_null(b);
	assert_non_null(want);
	assert_non_null(got);
	assert_non_null(wl);
	assert_non_null(gl);
	uint32_t x = 2463534242u;
	for (int round = 0; round < 30000; round++) {
		size_t len = xorshift(&x) % (round < 15000 ? 140 : CAP);
		size_t off = (x >> 10) % 64;
		unsigned widths = (x >> 20) % 8;
		uint8_t *t = b + off;
		for (size_t i = 0; i < len;) {
			/* runs of lengths near the widths, joined by one or two others */
			size_t r = run_len[xorshift(&x) % (sizeof(run_len) / sizeof(run_len[0]))];
			for (size_t k = 0; k < r && i < len; k++)
				t[i++] = (uint8_t)digits[xorshift(&x) % (sizeof(digits) - 1)];
			for (size_t k = 1 + (x >> 7) % 2; k > 0 && i < len; k--)
				t[i++] = (uint8_t)other[xorshift(&x) % (sizeof(other) - 1)];
		}
		size_t n_want = reference(t, len, widths, want, wl);
		size_t n_got = found(t, len, widths, got, gl);
		assert_int_equal(n_got, n_want);
		for (size_t i = 0; i < n_got; i++) {
			assert_int_equal(got[i], want[i]);
			assert_int_equal(gl[i], wl[i]);
		}
	}
	free(b);
	free(want);
	free(got);
	free(wl);
	free(gl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_written),
		cmocka_unit_test(test_long_run),
		cmocka_unit_test(test_random_against_reference),
	};
	int failed = 0;
	RUN_EACH_ISA(failed, "hexscan", tests, isa);
	return failed;
}
