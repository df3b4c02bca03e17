/* ip4scan_next: the IPv4 candidates of a text (start and end), as the
 * engine's dotted-quad shape reports them and confirm_ip keeps them.
 * Written cases, then random texts of digits, dots and separators (some
 * with runs longer than the vector loops' windows) against a plain reading
 * of the same rule (every start, every end), at every length and alignment
 * the loops and their tails see. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "each_isa.h"
#include "match/ip4scan.h"
#include "match/ipset.h"

static bool dig(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* buf[s, e) is D.D.D.D with D one to three digits. */
static bool is_quad(const uint8_t *b, size_t s, size_t e)
{
	int groups = 0;
	size_t p = s;
	while (groups < 4) {
		size_t d = p;
		while (d < e && dig(b[d]))
			d++;
		if (d == p || d - p > 3)
			return false;
		groups++;
		p = d;
		if (groups < 4) {
			if (p >= e || b[p] != '.')
				return false;
			p++;
		}
	}
	return p == e;
}

/* The reference: each end e where some s starts a quad (at the text's start
 * or after a byte that is neither digit nor dot) and the byte after e is
 * neither a digit nor a dot followed by a digit; that s into starts. */
static size_t reference(const uint8_t *b, size_t len, size_t *starts, size_t *ends)
{
	size_t n = 0;
	for (size_t e = 1; e <= len; e++) {
		if (e < len && (dig(b[e]) || (b[e] == '.' && e + 1 < len && dig(b[e + 1]))))
			continue;
		for (size_t s = e >= 15 ? e - 15 : 0; s + 7 <= e; s++) {
			if (s > 0 && (dig(b[s - 1]) || b[s - 1] == '.'))
				continue;
			if (is_quad(b, s, e)) {
				starts[n] = s;
				ends[n++] = e;
				break;
			}
		}
	}
	return n;
}

/* The search loop under test: each the CPU has, in turn (main). */
static enum vec_isa isa = VEC_AUTO;

/* The candidates; beside them ip4scan_next_addr() must give the same ones,
 * each read as ipset_parse4() reads it. */
static size_t found(const uint8_t *b, size_t len, size_t *starts, size_t *ends)
{
	size_t pos = 0, s, e, n = 0, pos2 = 0, s2, e2;
	uint8_t addr[4], want[4];
	bool parsed;
	while (ip4scan_next_isa(b, len, &pos, &s, &e, isa)) {
		assert_true(s + 7 <= e);
		assert_true(e <= len);
		assert_true(pos >= e);
		starts[n] = s;
		ends[n++] = e;
		assert_true(ip4scan_next_addr(b, len, &pos2, &s2, &e2, addr, &parsed, isa));
		assert_int_equal(s2, s);
		assert_int_equal(e2, e);
		assert_int_equal(pos2, pos);
		bool ok = ipset_parse4(b + s, e - s, want);
		if (parsed != ok || (ok && memcmp(addr, want, 4) != 0))
			fail_msg("\"%.*s\": scanner %d %u.%u.%u.%u, ipset_parse4 %d %u.%u.%u.%u",
				 (int)(e - s), b + s, parsed, addr[0], addr[1], addr[2], addr[3], ok,
				 want[0], want[1], want[2], want[3]);
	}
	assert_int_equal(pos, len);
	assert_false(ip4scan_next_addr(b, len, &pos2, &s2, &e2, addr, &parsed, isa));
	return n;
}

static void expect(const char *text, const size_t *want, size_t n_want)
{
	size_t got[64], got_s[64], ref[64], ref_s[64];
	size_t n = found((const uint8_t *)text, strlen(text), got_s, got);
	assert_int_equal(n, n_want);
	assert_int_equal(reference((const uint8_t *)text, strlen(text), ref_s, ref), n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(got[i], want[i]);
		assert_int_equal(got_s[i], ref_s[i]);
	}
}

static void test_written(void **state)
{
	(void)state;
	expect("1.2.3.4", (size_t[]){7}, 1);
	expect("src=10.0.0.1 dst=192.168.100.200\n", (size_t[]){12, 32}, 2);
	expect("a1.2.3.4b", (size_t[]){8}, 1);
	expect("1.2.3.4.", (size_t[]){7}, 1);      /* a sentence's dot */
	expect("1.2.3.4..", (size_t[]){7}, 1);
	expect("01.2.3.4", (size_t[]){8}, 1);      /* the parser judges leading zeros */
	expect("999.2.3.4", (size_t[]){9}, 1);     /* and the range */
	expect("1.0.255.256 0.00.1.1 255.255.255.255 10.020.3.4 100.99.9.0 x",
	       (size_t[]){11, 20, 36, 47, 58}, 5);
	expect("1.2.3.4\n5.6.7.8", (size_t[]){7, 15}, 2);
	expect("", NULL, 0);
	expect("1.2.3.4.5", NULL, 0);              /* five groups */
	expect("1.2.3", NULL, 0);
	expect("1234.1.1.1", NULL, 0);             /* a group of four digits */
	expect("1.2.3.1234", NULL, 0);
	expect("x.1.2.3.4", NULL, 0);              /* a dot before it */
	expect(".1.2.3.4", NULL, 0);
	expect("1..2.3.4", NULL, 0);
	expect("12:00:00.000Z v1.2.3 4.5.6.7", (size_t[]){28}, 1);
}

static void test_long_runs(void **state)
{
	(void)state;
	size_t n = 1 << 20;
	uint8_t *b = malloc(n + 8);
	assert_non_null(b);
	for (size_t i = 0; i < n; i++)
		b[i] = i % 2 ? '.' : '1';
	size_t pos = 0, s, e;
	assert_false(ip4scan_next_isa(b, n, &pos, &s, &e, isa)); /* one run of many groups */
	assert_int_equal(pos, n);
	memcpy(b + n - 8, " 1.2.3.4", 8);
	pos = 0;
	assert_true(ip4scan_next_isa(b, n, &pos, &s, &e, isa));
	assert_int_equal(s, n - 7);
	assert_int_equal(e, n);
	assert_false(ip4scan_next_isa(b, n, &pos, &s, &e, isa));
	free(b);
}

static void test_random_against_reference(void **state)
{
	(void)state;
	static const char alpha[] = "0123456789....\n x/:";
	/* Runs of tens of digits and dots: their ends fall on either side of
	 * the vector loops' windows. */
	static const char runs[] = "0123456789.0123456789.0123456789..1.2.3.4.5.67 ";
	enum { CAP = 700 };
	uint8_t *b = malloc(CAP + 64);
	size_t *want = malloc(CAP * sizeof(*want)), *got = malloc(CAP * sizeof(*got));
	size_t *want_s = malloc(CAP * sizeof(*want_s)), *got_s = malloc(CAP * sizeof(*got_s));
	assert_non_null(b);
	assert_non_null(want);
	assert_non_null(got);
	assert_non_null(want_s);
	assert_non_null(got_s);
	uint32_t x = 2463534242u;
	for (int round = 0; round < 60000; round++) {
		const char *al = round < 40000 ? alpha : runs;
		size_t n_al = round < 40000 ? sizeof(alpha) - 1 : sizeof(runs) - 1;
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		size_t len = round < 20000 ? x % 80 : x % CAP;
		size_t off = (x >> 10) % 64;
		for (size_t i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			/* mostly digits and dots, so quads are common */
			b[off + i] = (uint8_t)al[(x >> 8) % n_al];
		}
		size_t n_want = reference(b + off, len, want_s, want);
		size_t n_got = found(b + off, len, got_s, got);
		assert_int_equal(n_got, n_want);
		for (size_t i = 0; i < n_got; i++) {
			assert_int_equal(got[i], want[i]);
			assert_int_equal(got_s[i], want_s[i]);
		}
	}
	free(b);
	free(want);
	free(got);
	free(want_s);
	free(got_s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_written),
		cmocka_unit_test(test_long_runs),
		cmocka_unit_test(test_random_against_reference),
	};
	int failed = 0;
	RUN_EACH_ISA(failed, "ip4scan", tests, isa);
	return failed;
}
