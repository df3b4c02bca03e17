/* Unit tests for record times: each format with its variants (fraction,
 * zone, T or blank, space-padded syslog day, CLF brackets), the calendar
 * (leap days, day counts against values worked out with Python's
 * calendar.timegm), refusals (bad dates, trailing text, wrong digit counts),
 * and where a line's time is looked for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "correlate/rectime.h"

static int64_t value_ms(const char *s)
{
	int64_t ms = -12345;
	if (!rectime_value(s, strlen(s), 2024, &ms))
		fail_msg("'%s' refused", s);
	return ms;
}

static void refused(const char *s)
{
	int64_t ms = -12345;
	if (rectime_value(s, strlen(s), 2024, &ms))
		fail_msg("'%s' accepted as %lld", s, (long long)ms);
	assert_int_equal(ms, -12345);
}

static void test_days(void **state)
{
	(void)state;
	assert_int_equal(rectime_days(1970, 1, 1), 0);
	assert_int_equal(rectime_days(2000, 3, 1), 11017);
	assert_int_equal(rectime_days(2024, 2, 29), 19782);
	assert_int_equal(rectime_days(1969, 12, 31), -1);
	assert_int_equal(rectime_days(1600, 1, 1), -135140);
}

static void test_iso8601(void **state)
{
	(void)state;
	assert_int_equal(value_ms("2024-02-29T12:00:00Z"), 1709208000000LL);
	assert_int_equal(value_ms("2024-02-29t12:00:00z"), 1709208000000LL);
	assert_int_equal(value_ms("2024-02-29 12:00:00"), 1709208000000LL);
	assert_int_equal(value_ms("2024-02-29T12:00"), 1709208000000LL);
	assert_int_equal(value_ms("2024-02-29T12:00:00.5Z"), 1709208000500LL);
	assert_int_equal(value_ms("2024-02-29T12:00:00,250Z"), 1709208000250LL);
	assert_int_equal(value_ms("2024-02-29T12:00:00.123456789Z"), 1709208000123LL);
	assert_int_equal(value_ms("2024-02-29T13:00:00+01:00"), 1709208000000LL);
	assert_int_equal(value_ms("2024-02-29T13:00:00+0100"), 1709208000000LL);
	assert_int_equal(value_ms("2024-02-29T13:00:00+01"), 1709208000000LL);
	assert_int_equal(value_ms("2024-02-29T07:30:00-04:30"), 1709208000000LL);
	assert_int_equal(value_ms("2024-02-29 13:00:00 +0100"), 1709208000000LL);
	assert_int_equal(value_ms("  2024-02-29T12:00:00Z\t"), 1709208000000LL);
	/* midnight crossing through the offset */
	assert_int_equal(value_ms("2025-01-01T00:59:59+01:00"), 1735689599000LL);
	refused("2023-02-29T12:00:00Z");
	refused("2024-13-01T00:00:00Z");
	refused("2024-04-31T00:00:00Z");
	refused("2024-01-01T24:00:00Z");
	refused("2024-01-01T10:60:00Z");
	refused("2024-01-01");
	refused("2024-01-01T10:00:00Zjunk");
	refused("2024-01-01T10:00:00 x");
	refused("24-01-01T10:00:00Z");
	refused("2024-01-01T10:00:00+25:00");
}

static void test_syslog(void **state)
{
	(void)state;
	assert_int_equal(value_ms("Mar  1 09:00:00"), 1709283600000LL);
	assert_int_equal(value_ms("Mar 1 09:00:00"), 1709283600000LL);
	assert_int_equal(value_ms("Mar 01 09:00:00"), 1709283600000LL);
	assert_int_equal(value_ms("mar 01 09:00:00.750"), 1709283600750LL);
	int64_t ms;
	assert_true(rectime_value("Oct 11 22:14:15", 15, 2003, &ms));
	assert_int_equal(ms, 1065910455000LL);
	/* The year is the caller's: Feb 29 exists in 2024 only. */
	assert_true(rectime_value("Feb 29 00:00:00", 15, 2024, &ms));
	assert_false(rectime_value("Feb 29 00:00:00", 15, 2023, &ms));
	refused("Mar 32 09:00:00");
	refused("Foo  1 09:00:00");
	refused("Mar  1 9:00:00");
}

static void test_clf(void **state)
{
	(void)state;
	assert_int_equal(value_ms("[10/Oct/2000:13:55:36 -0700]"), 971211336000LL);
	assert_int_equal(value_ms("10/Oct/2000:13:55:36 -0700"), 971211336000LL);
	assert_int_equal(value_ms("10/Oct/2000:20:55:36 +0000"), 971211336000LL);
	refused("[10/Oct/2000:13:55:36]");
	refused("[10/Oct/2000:13:55:36 -0700");
	refused("10/Oct/2000:13:55:36 -07");
	refused("31/Sep/2000:13:55:36 +0000");
}

static void test_epoch(void **state)
{
	(void)state;
	assert_int_equal(value_ms("1709208000"), 1709208000000LL);
	assert_int_equal(value_ms("1709208000.5"), 1709208000500LL);
	assert_int_equal(value_ms("1709208000.123456"), 1709208000123LL);
	assert_int_equal(value_ms("1709208000123"), 1709208000123LL);
	assert_int_equal(value_ms("1709208000123.9"), 1709208000123LL);
	refused("170920800");      /* 9 digits */
	refused("17092080001");    /* 11 */
	refused("17092080001234"); /* 14 */
	refused("1709208000.");
	refused("-1709208000");
	refused("1709208000x");
}

static void test_parse_prefix(void **state)
{
	(void)state;
	int64_t ms;
	enum rectime_format f;
	const char *s = "2024-02-29T12:00:00Z host app: msg";
	assert_int_equal(rectime_parse(s, strlen(s), 2024, &ms, &f), 20);
	assert_int_equal(f, RECTIME_ISO8601);
	s = "1709208000\tC1\t10.0.0.1";
	assert_int_equal(rectime_parse(s, strlen(s), 2024, &ms, &f), 10);
	assert_int_equal(f, RECTIME_EPOCH_S);
	s = "1709208000123,acct";
	assert_int_equal(rectime_parse(s, strlen(s), 2024, &ms, &f), 13);
	assert_int_equal(f, RECTIME_EPOCH_MS);
	s = "Mar  1 09:00:00 host sshd[1]: x";
	assert_int_equal(rectime_parse(s, strlen(s), 2024, &ms, &f), 15);
	assert_int_equal(f, RECTIME_SYSLOG);
	s = "[10/Oct/2000:13:55:36 -0700] x";
	assert_int_equal(rectime_parse(s, strlen(s), 2024, &ms, &f), 28);
	assert_int_equal(f, RECTIME_CLF);
	/* not followed by a letter or digit */
	s = "1709208000abc";
	assert_int_equal(rectime_parse(s, strlen(s), 2024, &ms, &f), 0);
	assert_int_equal(rectime_parse("", 0, 2024, &ms, &f), 0);
	/* the length is honoured: no read past it */
	assert_int_equal(rectime_parse("2024-02-29T12:00:00Z", 10, 2024, &ms, &f), 0);
}

static bool line_ms(const char *s, int64_t *ms)
{
	return rectime_line(s, strlen(s), 2024, ms);
}

static void test_line(void **state)
{
	(void)state;
	int64_t ms;
	assert_true(line_ms("2024-02-29T12:00:00Z INFO transfer", &ms));
	assert_int_equal(ms, 1709208000000LL);
	assert_true(line_ms("<34>1 2003-10-11T22:14:15.003Z mymachine su - ID47", &ms));
	assert_int_equal(ms, 1065910455003LL);
	assert_true(line_ms("<13>Mar  1 09:00:00 host app: x", &ms));
	assert_int_equal(ms, 1709283600000LL);
	assert_true(line_ms("[2024-02-29 12:00:00] payment", &ms));
	assert_int_equal(ms, 1709208000000LL);
	assert_true(line_ms("127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200",
			    &ms));
	assert_int_equal(ms, 971211336000LL);
	/* the first bracket that opens a CLF stamp, not the first bracket */
	assert_true(line_ms("host [pid 7] - [10/Oct/2000:13:55:36 -0700] x", &ms));
	assert_int_equal(ms, 971211336000LL);
	assert_false(line_ms("user=alice amount=9500", &ms));
	assert_false(line_ms("text [10/Oct/2000:13:55:36 -0700 no close", &ms));
	assert_false(line_ms("12345678901234 x", &ms));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_days),   cmocka_unit_test(test_iso8601),
		cmocka_unit_test(test_syslog), cmocka_unit_test(test_clf),
		cmocka_unit_test(test_epoch),  cmocka_unit_test(test_parse_prefix),
		cmocka_unit_test(test_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
