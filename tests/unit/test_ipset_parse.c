/* ipset_parse4 against inet_pton(AF_INET): written cases, then random
 * strings of digits and dots of every length up to 17, which is where the
 * two could part (leading zeros, groups over 255, group counts, empty
 * groups, dots at either end). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "match/ipset.h"

static void same(const char *t)
{
	uint8_t a[4] = {0}, b[4] = {0};
	bool mine = ipset_parse4((const uint8_t *)t, strlen(t), a);
	bool libc = inet_pton(AF_INET, t, b) == 1;
	if (mine != libc)
		fail_msg("'%s': ipset_parse4 %d, inet_pton %d", t, mine, libc);
	if (mine)
		assert_memory_equal(a, b, 4);
}

static void test_written(void **state)
{
	(void)state;
	static const char *const t[] = {"1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1",
					"01.2.3.4", "1.2.3.00", "1.2.3", "1.2.3.4.5", "1..2.3",
					".1.2.3", "1.2.3.4.", "", "1", "999.9.9.9", "10.0.0.1",
					"1.2.3.1000"};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		same(t[i]);
	uint8_t a[4];
	assert_true(ipset_parse4((const uint8_t *)"192.168.100.200x", 15, a));
	assert_int_equal(a[3], 200);
}

static void test_random(void **state)
{
	(void)state;
	static const char alpha[] = "0123456789....0125";
	char t[20];
	uint32_t x = 88172645u;
	for (int round = 0; round < 300000; round++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		size_t n = x % 18;
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			t[i] = alpha[(x >> 7) % (sizeof(alpha) - 1)];
		}
		t[n] = '\0';
		same(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_written),
		cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
