/* ip6scan_next: the IPv6 candidates of a text, checked against the engine
 * itself running the IPv6 shape of shape.c (every end it reports that ends a
 * run of hex digits and colons, which is all confirm_ip() takes). Written
 * cases, then random colon-hex texts at every length and alignment the
 * vector loops and their tails see. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <hs/hs.h>

#include "each_isa.h"
#include "match/ip6scan.h"
#include "match/shape.h"

static hs_database_t *db;
static hs_scratch_t *scratch;

static bool v6c(uint8_t c)
{
	return c == ':' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

struct ends {
	const uint8_t *b;
	size_t len, n;
	size_t *v;
};

static int on_end(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		  void *ctx)
{
	(void)id;
	(void)from;
	(void)flags;
	struct ends *e = ctx;
	if ((to == e->len || !v6c(e->b[to])) && (e->n == 0 || e->v[e->n - 1] != to))
		e->v[e->n++] = to;
	return 0;
}

/* The reference: the run ends where the engine's shape reports a match. */
static size_t reference(const uint8_t *b, size_t len, size_t *ends)
{
	struct ends e = {b, len, 0, ends};
	assert_int_equal(hs_scan(db, (const char *)b, (unsigned)len, 0, scratch, on_end, &e),
			 HS_SUCCESS);
	return e.n;
}

/* The search loop under test: each the CPU has, in turn (main). */
static enum vec_isa isa = VEC_AUTO;

static size_t found(const uint8_t *b, size_t len, size_t *ends)
{
	size_t pos = 0, e, n = 0;
	while (ip6scan_next_isa(b, len, &pos, &e, isa)) {
		assert_true(e <= len);
		assert_true(pos >= e);
		ends[n++] = e;
	}
	assert_int_equal(pos, len);
	return n;
}

static void expect(const char *text, const size_t *want, size_t n_want)
{
	size_t got[64], ref[64];
	size_t n = found((const uint8_t *)text, strlen(text), got);
	assert_int_equal(n, n_want);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(got[i], want[i]);
	assert_int_equal(reference((const uint8_t *)text, strlen(text), ref), n_want);
}

static void test_written(void **state)
{
	(void)state;
	expect("2001:db8::1", (size_t[]){11}, 1);
	expect("src=fe80::1ff:fe23:4567:890a dst=::1\n", (size_t[]){28, 36}, 2);
	expect("2001:0db8:85a3:0000:0000:8a2e:0370:7334", (size_t[]){39}, 1);
	expect("::", (size_t[]){2}, 1);
	expect("std::vector", (size_t[]){5}, 1); /* "d::" ends a run; confirm_ip judges */
	expect("12:30:59 10:20:30", NULL, 0);    /* times: no "::", not eight groups */
	expect("1:2:3:4:5:6:7", NULL, 0);        /* seven groups */
	expect("1:2:3:4:5:6:7:8", (size_t[]){15}, 1);
	expect("12345:1:2:3:4:5:6:7", (size_t[]){19}, 1); /* the shape starts inside a group */
	expect("1:2:3:4:5:6:7:12345", NULL, 0);
	expect("", NULL, 0);
	/* "::" across the search's 64-byte blocks, and seven colons split 3 + 4 */
	char t[200];
	memset(t, 'x', sizeof(t));
	memcpy(t + 62, "a::b", 4);
	t[130] = '\0';
	expect(t, (size_t[]){66}, 1);
	memset(t, 'x', sizeof(t));
	memcpy(t + 57, "1:2:3:4:5:6:7:8", 15);
	t[190] = '\0';
	expect(t, (size_t[]){72}, 1);
}

static void test_long_runs(void **state)
{
	(void)state;
	size_t n = 1 << 20;
	uint8_t *b = malloc(n);
	assert_non_null(b);
	for (size_t i = 0; i < n; i++)
		b[i] = i % 3 == 2 ? ':' : 'a'; /* aa:aa:aa:...: every block hot */
	size_t pos = 0, e;
	assert_true(ip6scan_next_isa(b, n, &pos, &e, isa)); /* its last eight groups */
	assert_int_equal(e, n);
	assert_false(ip6scan_next_isa(b, n, &pos, &e, isa));
	assert_int_equal(pos, n);
	free(b);
}

static uint32_t xorshift(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void test_random_against_engine(void **state)
{
	(void)state;
	static const char digits[] = "0123456789abcdefABCDEF";
	static const char other[] = " \n.g/";
	enum { CAP = 900 };
	uint8_t *b = malloc(CAP + 64);
	size_t *want = malloc((CAP + 1) * sizeof(*want)), *got = malloc((CAP + 1) * sizeof(*got));
	assert_non_null(b);
	assert_non_null(want);
	assert_non_null(got);
	uint32_t x = 2463534242u;
	for (int round = 0; round < 30000; round++) {
		size_t len = xorshift(&x) % (round < 15000 ? 160 : CAP);
		size_t off = (x >> 10) % 64;
		uint8_t *t = b + off;
		for (size_t i = 0; i < len;) {
			/* groups of 0-5 digits joined mostly by colons */
			uint32_t r = xorshift(&x);
			for (size_t k = r % 6; k > 0 && i < len; k--)
				t[i++] = (uint8_t)digits[xorshift(&x) % (sizeof(digits) - 1)];
			if (i < len)
				t[i++] = r % 9 ? ':' : (uint8_t)other[(r >> 8) % (sizeof(other) - 1)];
		}
		size_t n_want = reference(t, len, want);
		size_t n_got = found(t, len, got);
		assert_int_equal(n_got, n_want);
		for (size_t i = 0; i < n_got; i++)
			assert_int_equal(got[i], want[i]);
	}
	free(b);
	free(want);
	free(got);
}

int main(void)
{
	struct shapes sh;
	unsigned flags;
	hs_compile_error_t *err = NULL;
	if (shapes_init(&sh, 0) != CS_OK ||
	    hs_compile(shapes_expr(&sh, SHAPE_IP6, &flags), flags, HS_MODE_BLOCK, NULL, &db,
		       &err) != HS_SUCCESS ||
	    hs_alloc_scratch(db, &scratch) != HS_SUCCESS) {
		printf("ip6scan: cannot compile the IPv6 shape\n");
		return 1;
	}
	shapes_fini(&sh);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_written),
		cmocka_unit_test(test_long_runs),
		cmocka_unit_test(test_random_against_engine),
	};
	int failed = 0;
	RUN_EACH_ISA(failed, "ip6scan", tests, isa);
	hs_free_scratch(scratch);
	hs_free_database(db);
	return failed;
}
