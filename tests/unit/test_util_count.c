/* util_count_nl: the newlines of any buffer, whatever its length and
 * alignment. The CPU selects the loop (AVX-512, AVX2 or memchr); each hands
 * its tail to the next, so lengths up to 600 bytes at every 7th offset run
 * the selected loop and every tail after it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cybersieve/util.h"

static uint64_t naive(const uint8_t *p, size_t n)
{
	uint64_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += p[i] == '\n';
	return c;
}

static void test_lengths_and_offsets(void **state)
{
	(void)state;
	size_t cap = 4096 + 64;
	uint8_t *buf = malloc(cap);
	assert_non_null(buf);
	uint32_t x = 12345;
	for (size_t i = 0; i < cap; i++) {
		x = x * 1103515245u + 12345u;
		/* Dense newlines, and bytes that differ from '\n' by one bit. */
		uint8_t r = (uint8_t)(x >> 24);
		buf[i] = r < 64 ? '\n' : r < 128 ? ('\n' ^ (1u << (r & 7))) : r;
	}
	for (size_t off = 0; off < 64; off += 7)
		for (size_t n = 0; off + n <= cap; n += n < 600 ? 1 : 97)
			assert_int_equal(util_count_nl(buf + off, n), naive(buf + off, n));
	memset(buf, '\n', cap);
	assert_int_equal(util_count_nl(buf, cap), cap);
	memset(buf, 0, cap);
	assert_int_equal(util_count_nl(buf, cap), 0);
	assert_int_equal(util_count_nl(NULL, 0), 0);
	free(buf);
}

static void test_large(void **state)
{
	(void)state;
	size_t n = (16u << 20) + 333;
	uint8_t *buf = malloc(n);
	assert_non_null(buf);
	for (size_t i = 0; i < n; i++)
		buf[i] = (i % 168 == 167 || i % 1001 == 0) ? '\n' : (uint8_t)('a' + i % 26);
	assert_int_equal(util_count_nl(buf, n), naive(buf, n));
	assert_int_equal(util_count_nl(buf + 3, n - 3), naive(buf + 3, n - 3));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lengths_and_offsets),
		cmocka_unit_test(test_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
