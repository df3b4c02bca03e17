/* util_hex_digit and util_hex_decode against a plain reading of every byte:
 * each of the 256 byte values in every position of a token, both letter
 * cases, and the round trip with util_hex. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cybersieve/util.h"

static int plain_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void test_digit_every_byte(void **state)
{
	(void)state;
	for (int c = 0; c < 256; c++)
		assert_int_equal(util_hex_digit((unsigned char)c), plain_digit(c));
}

static void test_decode_round_trip(void **state)
{
	(void)state;
	uint8_t bytes[32], back[32];
	char hex[65];
	for (int i = 0; i < 32; i++)
		bytes[i] = (uint8_t)(i * 37 + 11);
	util_hex(bytes, sizeof(bytes), hex);
	assert_true(util_hex_decode(hex, sizeof(bytes), back));
	assert_memory_equal(back, bytes, sizeof(bytes));
	/* Upper case decodes to the same bytes. */
	for (int i = 0; i < 64; i++)
		if (hex[i] >= 'a' && hex[i] <= 'f')
			hex[i] = (char)(hex[i] - 'a' + 'A');
	memset(back, 0, sizeof(back));
	assert_true(util_hex_decode(hex, sizeof(bytes), back));
	assert_memory_equal(back, bytes, sizeof(bytes));
	assert_true(util_hex_decode("", 0, back)); /* nothing to decode */
}

/* Any non-hex byte, at any position of a 64-digit token, refuses the token. */
static void test_decode_refuses_every_other_byte(void **state)
{
	(void)state;
	char tok[64];
	uint8_t out[32];
	for (int c = 0; c < 256; c++) {
		for (int pos = 0; pos < 64; pos++) {
			memset(tok, 'a', sizeof(tok));
			tok[pos] = (char)c;
			bool ok = util_hex_decode(tok, 32, out);
			assert_int_equal(ok, plain_digit(c) >= 0);
			if (ok)
				assert_int_equal(out[pos / 2],
						 pos % 2 ? 0xa0 | plain_digit(c) : plain_digit(c) << 4 | 0xa);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digit_every_byte),
		cmocka_unit_test(test_decode_round_trip),
		cmocka_unit_test(test_decode_refuses_every_other_byte),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
