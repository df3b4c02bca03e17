/* Unit tests for field extraction: every format (JSON with nesting and
 * escapes, CSV with a quoted header and "" escapes, key=value with quotes,
 * Zeek TSV with its directives, regex captures), the per-input state and its
 * reset, what counts as absent, spec checks, and decimal amounts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "correlate/recfield.h"

struct fx {
	struct recfield_set *set;
	struct recfield_reader *r;
	uint32_t idx[16];
};

/* A set of the given specs and a reader over it. */
static void fx_open(struct fx *f, const char *const *specs, size_t n)
{
	assert_int_equal(recfield_set_create(&f->set), CS_OK);
	for (size_t i = 0; i < n; i++) {
		struct cs_diag d;
		cs_diag_clear(&d);
		enum cs_err err = recfield_set_add(f->set, specs[i], strlen(specs[i]), &f->idx[i], &d);
		if (err != CS_OK)
			fail_msg("spec '%s': %s", specs[i], d.msg);
	}
	assert_int_equal(recfield_reader_create(f->set, &f->r), CS_OK);
}

static void fx_close(struct fx *f)
{
	recfield_reader_destroy(f->r);
	recfield_set_destroy(f->set);
}

static enum recfield_kind feed(struct fx *f, const char *line)
{
	return recfield_reader_line(f->r, line, strlen(line));
}

/* Field i of the current line equals want (NULL: absent). */
static void expect(struct fx *f, size_t i, const char *want)
{
	const char *v = NULL;
	size_t n = 0;
	bool got = recfield_get(f->r, f->idx[i], &v, &n);
	if (!want) {
		if (got)
			fail_msg("field %zu: expected absent, got '%.*s'", i, (int)n, v);
		return;
	}
	if (!got)
		fail_msg("field %zu: expected '%s', absent", i, want);
	if (n != strlen(want) || memcmp(v, want, n) != 0)
		fail_msg("field %zu: expected '%s', got '%.*s'", i, want, (int)n, v);
}

static void test_json(void **state)
{
	(void)state;
	struct fx f;
	const char *specs[] = { "from", "to.wallet", "amount", "memo", "flag", "none", "list",
				"deep.a.b.c", "to" };
	fx_open(&f, specs, 9);
	assert_int_equal(feed(&f, "{\"from\":\"ACC1\",\"to\":{\"wallet\":\"bc1qxyz\",\"n\":[1,{\"x\":2}]},"
				 "\"amount\":9500.50,\"memo\":\"say \\\"hi\\\"\\n\\u00e9\\ud83d\\ude00\","
				 "\"flag\":true,\"none\":null,\"list\":[\"a\",\"b\"],"
				 "\"deep\":{\"a\":{\"b\":{\"c\":\"bottom\"}}}}"),
			 RECFIELD_RECORD);
	assert_int_equal(recfield_reader_format(f.r), RECFIELD_JSON);
	expect(&f, 0, "ACC1");
	expect(&f, 1, "bc1qxyz");
	expect(&f, 2, "9500.50");
	expect(&f, 3, "say \"hi\"\n\xc3\xa9\xf0\x9f\x98\x80");
	expect(&f, 4, "true");
	expect(&f, 5, NULL); /* null is absent */
	expect(&f, 6, NULL); /* arrays are not addressable */
	expect(&f, 7, "bottom");
	expect(&f, 8, NULL); /* an object is not a value */

	/* escaped key, the first occurrence wins, blanks everywhere, literal dotted key */
	assert_int_equal(feed(&f, "  { \"fr\\u006fm\" : \"A\" , \"from\" : \"B\", \"to.wallet\": 7 }"),
			 RECFIELD_RECORD);
	expect(&f, 0, "A");
	expect(&f, 1, "7");
	expect(&f, 2, NULL);
	/* malformed: fields read before the fault are kept */
	assert_int_equal(feed(&f, "{\"from\":\"X\",\"amount\" 12, \"memo\":\"m\"}"), RECFIELD_RECORD);
	expect(&f, 0, "X");
	expect(&f, 2, NULL);
	expect(&f, 3, NULL);
	/* unterminated string, empty object, empty string value */
	assert_int_equal(feed(&f, "{\"from\":\"abc"), RECFIELD_RECORD);
	expect(&f, 0, NULL);
	assert_int_equal(feed(&f, "{}"), RECFIELD_RECORD);
	expect(&f, 0, NULL);
	assert_int_equal(feed(&f, "{\"from\":\"\",\"memo\":\"\\\\\"}"), RECFIELD_RECORD);
	expect(&f, 0, NULL);
	expect(&f, 3, "\\");
	fx_close(&f);
}

static void test_json_nesting_limits(void **state)
{
	(void)state;
	struct fx f;
	const char *specs[] = { "a", "z" };
	fx_open(&f, specs, 2);
	/* 200 levels of nesting before the wanted key: skipped, no stack growth */
	char line[2048];
	size_t k = 0;
	k += (size_t)sprintf(line + k, "{\"x\":");
	for (int i = 0; i < 200; i++)
		k += (size_t)sprintf(line + k, "{\"x\":");
	k += (size_t)sprintf(line + k, "1");
	for (int i = 0; i < 201; i++)
		line[k++] = '}';
	line[k] = '\0';
	memcpy(line + k - 1, ",\"a\":\"top\"}", 12);
	assert_int_equal(feed(&f, line), RECFIELD_RECORD);
	expect(&f, 0, "top");
	expect(&f, 1, NULL);
	/* strings holding braces and brackets do not confuse the skipper */
	assert_int_equal(feed(&f, "{\"q\":{\"s\":\"}]{[\\\"\"},\"r\":[\"]\"],\"z\":\"end\"}"),
			 RECFIELD_RECORD);
	expect(&f, 1, "end");
	fx_close(&f);
}

static void test_csv(void **state)
{
	(void)state;
	struct fx f;
	const char *specs[] = { "account", "amount", "memo", "Transaction ID", "missing" };
	fx_open(&f, specs, 5);
	assert_int_equal(feed(&f, "# exported 2024-03-01"), RECFIELD_SKIP);
	assert_int_equal(feed(&f, "ts, account ,\"amount\",\"Transaction ID\",memo\r"),
			 RECFIELD_HEADER);
	assert_int_equal(feed(&f, "2024-03-01T10:00:00Z, ACC1 ,\"9,500.00\",T1,\"he said \"\"no\"\", ok\""),
			 RECFIELD_RECORD);
	assert_int_equal(recfield_reader_format(f.r), RECFIELD_CSV);
	expect(&f, 0, "ACC1");
	expect(&f, 1, "9,500.00");
	expect(&f, 2, "he said \"no\", ok");
	expect(&f, 3, "T1");
	expect(&f, 4, NULL);
	/* short row, empty cells */
	assert_int_equal(feed(&f, "2024-03-01T10:00:01Z,ACC2,,"), RECFIELD_RECORD);
	expect(&f, 0, "ACC2");
	expect(&f, 1, NULL);
	expect(&f, 2, NULL);
	expect(&f, 3, NULL);
	/* a JSON line in a CSV input is still JSON */
	assert_int_equal(feed(&f, "{\"account\":\"J\"}"), RECFIELD_RECORD);
	expect(&f, 0, "J");
	assert_int_equal(feed(&f, ""), RECFIELD_SKIP);
	assert_int_equal(feed(&f, "   "), RECFIELD_SKIP);

	/* A new input: the first line is data with '=' -> key=value, no header. */
	recfield_reader_reset(f.r);
	assert_int_equal(feed(&f, "account=K1, amount=5"), RECFIELD_RECORD);
	assert_int_equal(recfield_reader_format(f.r), RECFIELD_KV);
	expect(&f, 0, "K1");
	expect(&f, 1, "5");
	/* ... and a later line with commas is not a header */
	assert_int_equal(feed(&f, "a,b,c"), RECFIELD_RECORD);
	expect(&f, 0, NULL);
	/* A new input whose first line is JSON is not CSV either. */
	recfield_reader_reset(f.r);
	assert_int_equal(feed(&f, "{\"account\":\"J2\"}"), RECFIELD_RECORD);
	assert_int_equal(feed(&f, "account,amount"), RECFIELD_RECORD);
	assert_int_equal(recfield_reader_format(f.r), RECFIELD_KV);
	fx_close(&f);
}

static void test_kv(void **state)
{
	(void)state;
	struct fx f;
	const char *specs[] = { "src", "dst", "amount", "msg", "q" };
	fx_open(&f, specs, 5);
	assert_int_equal(feed(&f, "Mar  1 09:00:00 host pay[7]: \"GET /x?src=evil HTTP/1.1\" "
				  "src=ACC1;dst='W 2' amount=9500.00,msg=\"a \\\"b\\\" c\" src=LATER"),
			 RECFIELD_RECORD);
	expect(&f, 0, "ACC1");
	expect(&f, 1, "W 2");
	expect(&f, 2, "9500.00");
	expect(&f, 3, "a \"b\" c");
	expect(&f, 4, NULL);
	assert_int_equal(feed(&f, "=x src= dst==y q=\"unterminated"), RECFIELD_RECORD);
	expect(&f, 0, NULL);
	expect(&f, 1, "=y");
	expect(&f, 4, "unterminated");
	fx_close(&f);
}

static void test_zeek(void **state)
{
	(void)state;
	struct fx f;
	const char *specs[] = { "ts", "id.orig_h", "service", "history", "resp_bytes" };
	fx_open(&f, specs, 5);
	assert_int_equal(feed(&f, "#separator \\x09"), RECFIELD_HEADER);
	assert_int_equal(feed(&f, "#set_separator\t,"), RECFIELD_SKIP);
	assert_int_equal(feed(&f, "#empty_field\t(empty)"), RECFIELD_HEADER);
	assert_int_equal(feed(&f, "#unset_field\t-"), RECFIELD_HEADER);
	assert_int_equal(feed(&f, "#path\tconn"), RECFIELD_SKIP);
	assert_int_equal(feed(&f, "#fields\tts\tuid\tid.orig_h\tservice\thistory\tresp_bytes"),
			 RECFIELD_HEADER);
	assert_int_equal(feed(&f, "#types\ttime\tstring\taddr\tstring\tstring\tcount"), RECFIELD_SKIP);
	assert_int_equal(feed(&f, "1331901000.000000\tC1\t10.0.0.1\t-\t(empty)\t17"), RECFIELD_RECORD);
	assert_int_equal(recfield_reader_format(f.r), RECFIELD_ZEEK);
	expect(&f, 0, "1331901000.000000");
	expect(&f, 1, "10.0.0.1");
	expect(&f, 2, NULL);
	expect(&f, 3, NULL);
	expect(&f, 4, "17");
	/* commas in a Zeek row are data, not CSV */
	assert_int_equal(feed(&f, "1331901001.0\tC2\t10.0.0.2\tdns,http\tD\t0"), RECFIELD_RECORD);
	expect(&f, 2, "dns,http");

	/* Another separator (and a new input resets it). */
	recfield_reader_reset(f.r);
	assert_int_equal(feed(&f, "#separator \\x7c"), RECFIELD_HEADER);
	assert_int_equal(feed(&f, "#fields|service|ts"), RECFIELD_HEADER);
	assert_int_equal(feed(&f, "ssl|1331901002.5"), RECFIELD_RECORD);
	expect(&f, 0, "1331901002.5");
	expect(&f, 2, "ssl");
	recfield_reader_reset(f.r);
	assert_int_equal(feed(&f, "service=x ts=1"), RECFIELD_RECORD);
	expect(&f, 2, "x");
	fx_close(&f);
}

static void test_regex(void **state)
{
	(void)state;
	struct fx f;
	const char *specs[] = { "re:1:from ([A-Z0-9]+) to ([A-Z0-9]+)",
				"re:2:from ([A-Z0-9]+) to ([A-Z0-9]+)", "re:0:[0-9]+\\.[0-9]{2}",
				"re:1:(x)?y" };
	fx_open(&f, specs, 4);
	assert_int_equal(feed(&f, "{\"msg\":\"transfer from ACC1 to ACC2 of 9500.00\"}"),
			 RECFIELD_RECORD);
	expect(&f, 0, "ACC1");
	expect(&f, 1, "ACC2");
	expect(&f, 2, "9500.00");
	expect(&f, 3, NULL); /* group did not take part */
	assert_int_equal(feed(&f, "nothing here"), RECFIELD_RECORD);
	expect(&f, 0, NULL);
	expect(&f, 2, NULL);
	/* the line's length is honoured: the regex does not see past it */
	const char buf[] = "from A to B|from C to D";
	assert_int_equal(recfield_reader_line(f.r, buf, 11), RECFIELD_RECORD);
	expect(&f, 1, "B");
	fx_close(&f);
}

static void spec_refused(const char *spec, const char *want)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(recfield_spec_check(spec, strlen(spec), &d), CS_ERR_PARSE);
	if (!strstr(d.msg, want))
		fail_msg("'%s': '%s' does not say '%s'", spec, d.msg, want);
}

static void test_specs(void **state)
{
	(void)state;
	struct cs_diag d;
	assert_int_equal(recfield_spec_check("a.b", 3, &d), CS_OK);
	assert_int_equal(recfield_spec_check("re:3:(a)(b)(c)", 14, &d), CS_OK);
	spec_refused("", "1 to 256 bytes");
	spec_refused("re:x:abc", "N a digit");
	spec_refused("re:1:", "empty REGEX");
	spec_refused("re:2:(a)", "has 1 group(s), the field takes group 2");
	spec_refused("re:0:a(", "refused");
	spec_refused("a\tb", "control character");

	/* same spec, same index; a set in use takes no more */
	struct recfield_set *s;
	struct recfield_reader *r;
	uint32_t a, b, c;
	assert_int_equal(recfield_set_create(&s), CS_OK);
	assert_int_equal(recfield_set_add(s, "x", 1, &a, &d), CS_OK);
	assert_int_equal(recfield_set_add(s, "y", 1, &b, &d), CS_OK);
	assert_int_equal(recfield_set_add(s, "x", 1, &c, &d), CS_OK);
	assert_int_equal(a, c);
	assert_int_not_equal(a, b);
	assert_int_equal(recfield_set_count(s), 2);
	assert_int_equal(recfield_reader_create(s, &r), CS_OK);
	assert_int_equal(recfield_set_add(s, "z", 1, &c, &d), CS_ERR_INVALID);
	recfield_reader_destroy(r);
	recfield_set_destroy(s);
	/* the cap */
	assert_int_equal(recfield_set_create(&s), CS_OK);
	char name[16];
	for (int i = 0; i < RECFIELD_MAX_FIELDS; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		assert_int_equal(recfield_set_add(s, name, strlen(name), &a, &d), CS_OK);
	}
	assert_int_equal(recfield_set_add(s, "one-more", 8, &a, &d), CS_ERR_LIMIT);
	recfield_set_destroy(s);
	recfield_set_destroy(NULL);
	recfield_reader_destroy(NULL);
}

static int64_t dec(const char *s)
{
	int64_t v = -777;
	if (!recfield_decimal(s, strlen(s), &v))
		fail_msg("'%s' refused", s);
	return v;
}

static void dec_refused(const char *s)
{
	int64_t v = -777;
	if (recfield_decimal(s, strlen(s), &v))
		fail_msg("'%s' accepted as %lld", s, (long long)v);
}

static void test_decimal(void **state)
{
	(void)state;
	assert_int_equal(dec("9500"), 9500000000LL);
	assert_int_equal(dec("9500.00"), 9500000000LL);
	assert_int_equal(dec("9,500.00"), 9500000000LL);
	assert_int_equal(dec("1,234,567.5"), 1234567500000LL);
	assert_int_equal(dec("8999.99"), 8999990000LL);
	assert_int_equal(dec(" -0.05 "), -50000);
	assert_int_equal(dec("+.5"), 500000);
	assert_int_equal(dec("5."), 5000000);
	assert_int_equal(dec("0"), 0);
	assert_int_equal(dec("000123.4500"), 123450000);
	assert_int_equal(dec("0.0000019"), 1); /* truncated past the sixth digit */
	assert_int_equal(dec("9.5e3"), 9500000000LL);
	assert_int_equal(dec("95E-2"), 950000);
	assert_int_equal(dec("1e-7"), 0);
	assert_int_equal(dec("9223372036854.775807"), INT64_MAX);
	dec_refused("9223372036854.775808");
	dec_refused("1e400");
	dec_refused("");
	dec_refused(".");
	dec_refused("-");
	dec_refused("1,00");
	dec_refused("1,0000");
	dec_refused(",100");
	dec_refused("1,000e3");
	dec_refused("9500 EUR");
	dec_refused("$9500");
	dec_refused("1e");
	dec_refused("0x10");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),  cmocka_unit_test(test_json_nesting_limits),
		cmocka_unit_test(test_csv),   cmocka_unit_test(test_kv),
		cmocka_unit_test(test_zeek),  cmocka_unit_test(test_regex),
		cmocka_unit_test(test_specs), cmocka_unit_test(test_decimal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
