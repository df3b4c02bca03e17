/* Top-level domains (src/match/tld.c): the table is sorted, so that every
 * name in it is found; names of code and file types are not TLDs; case,
 * xn-- labels and UTF-8 labels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "match/tld.h"

static bool known(const char *s)
{
	return tld_known((const uint8_t *)s, strlen(s));
}

static void test_every_name_found(void **state)
{
	(void)state;
	assert_true(tld_count() > 1300);
	for (size_t i = 0; i < tld_count(); i++) {
		const char *t = tld_name(i);
		assert_non_null(t);
		if (i > 0)
			assert_true(strcmp(tld_name(i - 1), t) < 0);
		assert_true(known(t));
	}
	assert_null(tld_name(tld_count()));
}

static void test_names(void **state)
{
	(void)state;
	static const char *const yes[] = {"com", "COM", "De", "uk", "google", "microsoft", "zip",
					  "app", "example", "test", "onion", "xn--p1ai",
					  "\xd1\x80\xd1\x84" /* .рф */};
	static const char *const no[] = {"xmlhttp", "gradient", "init", "client", "png", "js",
					 "exe", "", "c", "comm", "co1", "zz"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(known(yes[i]));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(known(no[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_name_found),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
