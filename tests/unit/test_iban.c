/* Unit tests for IBAN validation: documented examples, and for every country
 * in the table IBANs generated here from random BBANs of the registered
 * structure (check digits computed by a separate reference), then altered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cybersieve/iban.h"

static bool ok(const char *s)
{
	return iban_check(s, strlen(s), NULL, NULL);
}

static void refused(const char *s, const char *want_why)
{
	const char *why = NULL;
	char norm[IBAN_MAX_LEN + 1] = "untouched";
	if (iban_check(s, strlen(s), norm, &why))
		fail_msg("'%s' accepted", s);
	assert_non_null(why);
	if (want_why && strcmp(why, want_why) != 0)
		fail_msg("'%s': '%s', expected '%s'", s, why, want_why);
	assert_string_equal(norm, "untouched");
}

static void test_documented(void **state)
{
	(void)state;
	char norm[IBAN_MAX_LEN + 1];
	assert_true(ok("GB82WEST12345698765432"));
	assert_true(ok("DE89370400440532013000"));
	assert_true(ok("FR1420041010050500013M02606"));
	assert_true(ok("NL91ABNA0417164300"));
	assert_true(ok("BE68539007547034"));
	assert_true(ok("CH9300762011623852957"));
	assert_true(ok("MT84MALT011000012345MTLCAST001S"));
	assert_true(iban_check("gb82 west 1234 5698 7654 32", 27, norm, NULL));
	assert_string_equal(norm, "GB82WEST12345698765432");
	assert_true(iban_check("DE89 3704 0044 0532 0130 00", 27, norm, NULL));
	assert_string_equal(norm, "DE89370400440532013000");
	assert_true(ok("FR 14 2004 1010 0505 0001 3M02 606"));
	assert_true(ok("GB82  WEST 12345698765432"));
}

static void test_refusals(void **state)
{
	(void)state;
	refused("GB82WEST12345698765433", "bad checksum");
	refused("GB28WEST12345698765432", "bad checksum");
	refused("GB82WEST1234569876543", "bad length for country");
	refused("GB82WEST123456987654321", "bad length for country");
	refused("XX82WEST12345698765432", "unknown country");
	refused("12345678901234567890", "bad country code");
	refused("GB8XWEST12345698765432", "bad check digits");
	refused("GB82W3ST12345698765432", "bad account structure");
	refused("DE89 3704 0044 0532 0130 0A", "bad account structure");
	refused(" GB82WEST12345698765432", "bad spacing");
	refused("GB82WEST12345698765432 ", "bad spacing");
	refused("GB82-WEST-1234-5698-7654-32", "bad character");
	refused("", "bad length");
	char big[200];
	memset(big, '1', sizeof(big));
	assert_false(iban_check(big, sizeof(big), NULL, NULL));
	assert_false(iban_check(NULL, 3, NULL, NULL));
}

static void test_table(void **state)
{
	(void)state;
	size_t count = 0;
	const struct iban_country *all = iban_countries(&count);
	assert_true(count >= 100);
	for (size_t i = 0; i < count; i++) {
		if (i)
			assert_true(strcmp(all[i - 1].code, all[i].code) < 0);
		assert_ptr_equal(iban_country_find(all[i].code), &all[i]);
		assert_true(all[i].length >= 15 && all[i].length <= IBAN_MAX_LEN);
		assert_int_equal(iban_country_length((const uint8_t *)all[i].code), all[i].length);
	}
	/* The fast lookup knows exactly the table's codes. */
	size_t known = 0;
	for (char a = 'A'; a <= 'Z'; a++)
		for (char b = 'A'; b <= 'Z'; b++)
			known += iban_country_length((const uint8_t *)(char[]){a, b}) != 0;
	assert_int_equal(known, count);
	assert_int_equal(iban_country_length((const uint8_t *)"de"), 0);
	assert_int_equal(iban_country_length((const uint8_t *)"D1"), 0);
	assert_int_equal(iban_country_length((const uint8_t *)"@["), 0);
	assert_int_equal(iban_country_find("DE")->length, 22);
	assert_int_equal(iban_country_find("GB")->length, 22);
	assert_int_equal(iban_country_find("FR")->length, 27);
	assert_int_equal(iban_country_find("MT")->length, 31);
	assert_int_equal(iban_country_find("NO")->length, 15);
	assert_null(iban_country_find("ZZ"));
	assert_null(iban_country_find(""));
}

/* ---- generated IBANs ---- */

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random BBAN following a structure like "4a6n8c"; returns its length. */
static size_t make_bban(const char *st, uint64_t *rng, char *out)
{
	static const char alnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	size_t len = 0;
	while (*st) {
		unsigned count = (unsigned)strtoul(st, (char **)&st, 10);
		char cls = *st++;
		for (unsigned i = 0; i < count; i++) {
			uint64_t r = rng_next(rng);
			if (cls == 'n')
				out[len++] = (char)('0' + r % 10);
			else if (cls == 'a')
				out[len++] = (char)('A' + r % 26);
			else
				out[len++] = alnum[r % 36];
		}
	}
	out[len] = '\0';
	return len;
}

/* Reference remainder: expand to a decimal string, reduce nine digits at a time. */
static unsigned ref_mod97(const char *rearranged)
{
	char digits[128] = "";
	size_t n = 0;
	for (const char *p = rearranged; *p; p++)
		n += (size_t)sprintf(digits + n, "%d", *p <= '9' ? *p - '0' : *p - 'A' + 10);
	unsigned long rem = 0;
	for (size_t i = 0; i < n; i += 7) {
		char chunk[16];
		int k = snprintf(chunk, sizeof(chunk), "%02lu%.7s", rem, digits + i);
		(void)k;
		rem = strtoul(chunk, NULL, 10) % 97;
	}
	return (unsigned)rem;
}

static void make_iban(const struct iban_country *c, uint64_t *rng, char *out)
{
	char bban[IBAN_MAX_LEN + 1], re[IBAN_MAX_LEN + 8];
	make_bban(c->bban, rng, bban);
	snprintf(re, sizeof(re), "%s%s00", bban, c->code);
	unsigned check = 98 - ref_mod97(re);
	size_t blen = strlen(bban);
	assert_true(blen + 4 <= IBAN_MAX_LEN);
	memcpy(out, c->code, 2);
	out[2] = (char)('0' + check / 10);
	out[3] = (char)('0' + check % 10);
	memcpy(out + 4, bban, blen + 1);
}

static void spaced(const char *iban, char *out)
{
	size_t k = 0;
	for (size_t i = 0; iban[i]; i++) {
		if (i && i % 4 == 0)
			out[k++] = ' ';
		out[k++] = iban[i];
	}
	out[k] = '\0';
}

static void check_variants(const char *iban)
{
	char norm[IBAN_MAX_LEN + 1], buf[IBAN_MAX_PRINTED + 1];
	size_t n = strlen(iban);
	if (!iban_check(iban, n, norm, NULL))
		fail_msg("generated '%s' refused", iban);
	assert_string_equal(norm, iban);
	spaced(iban, buf);
	if (!iban_check(buf, strlen(buf), norm, NULL))
		fail_msg("printed '%s' refused", buf);
	assert_string_equal(norm, iban);
	/* Every single-digit change breaks the check (ISO 7064 guarantees it). */
	for (size_t i = 2; i < n; i++) {
		if (iban[i] < '0' || iban[i] > '9')
			continue;
		memcpy(buf, iban, n + 1);
		buf[i] = (char)('0' + (iban[i] - '0' + 1 + (unsigned)i % 9) % 10);
		if (iban_check(buf, n, NULL, NULL))
			fail_msg("'%s' (changed at %zu of '%s') accepted", buf, i, iban);
	}
	/* So does swapping two different adjacent digits. */
	for (size_t i = 2; i + 1 < n; i++) {
		if (iban[i] == iban[i + 1] || iban[i] > '9' || iban[i + 1] > '9')
			continue;
		memcpy(buf, iban, n + 1);
		buf[i] = iban[i + 1];
		buf[i + 1] = iban[i];
		if (iban_check(buf, n, NULL, NULL))
			fail_msg("'%s' (swapped at %zu of '%s') accepted", buf, i, iban);
	}
}

static void test_generated_every_country(void **state)
{
	(void)state;
	size_t count = 0;
	const struct iban_country *all = iban_countries(&count);
	uint64_t rng = 0x9e3779b97f4a7c15ULL;
	char iban[IBAN_MAX_LEN + 1];
	for (size_t i = 0; i < count; i++) {
		for (int k = 0; k < 50; k++) {
			make_iban(&all[i], &rng, iban);
			assert_int_equal(strlen(iban), all[i].length);
			check_variants(iban);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_documented),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_generated_every_country),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
