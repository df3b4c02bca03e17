/* Unit tests for indicator types, per-type normalisation and legal headings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cybersieve/pack.h"

/* Normalise and expect success with exactly `want` (NUL-terminated here). */
static void norm_ok(enum ind_type t, unsigned flags, const char *raw, const char *want)
{
	struct cs_diag d;
	char *out = NULL;
	size_t n = 0;
	cs_diag_clear(&d);
	enum cs_err err = ind_normalise(t, flags, raw, strlen(raw), &out, &n, &d);
	if (err)
		fail_msg("'%s' refused: %s", raw, d.msg);
	assert_non_null(out);
	assert_int_equal(n, strlen(want));
	assert_string_equal(out, want);
	free(out);
}

/* Expect CS_ERR_PARSE and a message containing `why`. */
static void norm_bad(enum ind_type t, unsigned flags, const char *raw, const char *why)
{
	struct cs_diag d;
	char *out = NULL;
	size_t n = 0;
	cs_diag_clear(&d);
	enum cs_err err = ind_normalise(t, flags, raw, strlen(raw), &out, &n, &d);
	if (err != CS_ERR_PARSE)
		fail_msg("'%s' gave %d (%s), expected a parse error", raw, err, out ? out : "");
	assert_null(out);
	if (!strstr(d.msg, why))
		fail_msg("'%s': message '%s' lacks '%s'", raw, d.msg, why);
}

static void test_type_names(void **state)
{
	(void)state;
	for (int t = 0; t < IND_TYPE_COUNT; t++) {
		enum ind_type back;
		const char *name = ind_type_name((enum ind_type)t);
		assert_true(ind_type_parse(name, strlen(name), &back));
		assert_int_equal(back, t);
	}
	enum ind_type t;
	assert_true(ind_type_parse("sha256", 6, &t));
	assert_int_equal(t, IND_SHA256);
	assert_true(ind_type_parse("sha1xyz", 4, &t)); /* only len bytes are read */
	assert_int_equal(t, IND_SHA1);
	assert_true(ind_type_parse("ip", 2, &t));
	assert_int_equal(t, IND_IP);
	assert_false(ind_type_parse("cidr", 4, &t));
	assert_false(ind_type_parse("Literal", 7, &t));
	assert_false(ind_type_parse("", 0, &t));
	assert_false(ind_type_parse("sha", 3, &t));
}

static void test_legal_default(void **state)
{
	(void)state;
	assert_string_equal(pack_legal_default("scam"),
			    "UN Convention against Cybercrime, art. 13 (ICT-related theft or fraud)");
	assert_non_null(strstr(pack_legal_default("csam"), "art. 14 (online child sexual abuse"));
	assert_non_null(strstr(pack_legal_default("grooming"), "art. 15 (solicitation or grooming"));
	assert_string_equal(
		pack_legal_default("laundering"),
		"UN Convention against Cybercrime, art. 17 (laundering of proceeds of crime)");
	assert_null(pack_legal_default("phishing-mine"));
	assert_null(pack_legal_default("adhoc"));
	assert_null(pack_legal_default(NULL));
}

static void test_domain(void **state)
{
	(void)state;
	norm_ok(IND_DOMAIN, 0, "Example.COM", "example.com");
	norm_ok(IND_DOMAIN, 0, "example.com.", "example.com");
	norm_ok(IND_DOMAIN, 0, "*.Evil.example", "evil.example");
	norm_ok(IND_DOMAIN, 0, "xn--bcher-kva.de", "xn--bcher-kva.de");
	norm_ok(IND_DOMAIN, 0, "_dmarc.a-b.example", "_dmarc.a-b.example");
	norm_bad(IND_DOMAIN, 0, "ex ample.com", "invalid domain 'ex ample.com': space in label");
	/* Unicode names load in their xn-- form (UTS 46: case folded too). */
	norm_ok(IND_DOMAIN, 0, "b\xc3\xbc" "cher.de", "xn--bcher-kva.de");
	norm_ok(IND_DOMAIN, 0, "B\xc3\x9c" "CHER.de.", "xn--bcher-kva.de");
	norm_ok(IND_DOMAIN, 0, "*.\xd0\xb0\xd1\x80\xd1\x80\xd3\x8f\xd0\xb5.com",
		"xn--80ak6aa92e.com");
	/* A right-to-left override is no letter of a name. */
	norm_bad(IND_DOMAIN, 0, "a\xe2\x80\xae" "b.com", "not a valid internationalised name");
	norm_bad(IND_DOMAIN, 0, "localhost", "no dot");
	norm_bad(IND_DOMAIN, 0, "a..b", "empty label");
	norm_bad(IND_DOMAIN, 0, ".example.com", "empty label");
	norm_bad(IND_DOMAIN, 0, "example.com..", "empty label");
	norm_bad(IND_DOMAIN, 0, "-bad.example", "starts or ends with '-'");
	norm_bad(IND_DOMAIN, 0, "bad-.example", "starts or ends with '-'");
	norm_bad(IND_DOMAIN, 0, "a/b.example", "character '/' not allowed");
	norm_bad(IND_DOMAIN, 0, "*.", "empty");
	norm_bad(IND_DOMAIN, 0, "192.0.2.1", "numeric last label");
	norm_ok(IND_DOMAIN, 0, "1.2.3.example", "1.2.3.example");
	norm_bad(IND_DOMAIN, IND_F_CASELESS, "example.com", "modifier 'i' is not allowed");

	char label[65], name[512];
	memset(label, 'a', 64);
	label[64] = '\0';
	strcpy(name, label);
	strcat(name, ".example");
	norm_bad(IND_DOMAIN, 0, name, "longer than 63");
	label[63] = '\0'; /* 63 is the most a label may hold */
	strcpy(name, label);
	strcat(name, ".example");
	norm_ok(IND_DOMAIN, 0, name, name);
	/* 4 x 63 + 3 dots = 255 > 253 */
	snprintf(name, sizeof(name), "%s.%s.%s.%s", label, label, label, label);
	norm_bad(IND_DOMAIN, 0, name, "longer than 253");
}

static void test_ip(void **state)
{
	(void)state;
	norm_ok(IND_IP, 0, "192.0.2.7", "192.0.2.7");
	norm_ok(IND_IP, 0, "192.0.2.7/32", "192.0.2.7");
	norm_ok(IND_IP, 0, "10.1.2.3/16", "10.1.0.0/16");
	norm_ok(IND_IP, 0, "0.0.0.0/0", "0.0.0.0/0");
	norm_ok(IND_IP, 0, "2001:DB8:0:0::1", "2001:db8::1");
	norm_ok(IND_IP, 0, "2001:db8:ffff::/32", "2001:db8::/32");
	norm_ok(IND_IP, 0, "::1/128", "::1");
	norm_bad(IND_IP, 0, "192.0.2", "not an IPv4 or IPv6 address");
	norm_bad(IND_IP, 0, "1.2.3.4.5", "not an IPv4 or IPv6 address");
	norm_bad(IND_IP, 0, "example.com", "not an IPv4 or IPv6 address");
	norm_bad(IND_IP, 0, "192.0.2.0/33", "prefix length must be 0-32");
	norm_bad(IND_IP, 0, "2001:db8::/129", "prefix length must be 0-128");
	norm_bad(IND_IP, 0, "192.0.2.0/", "prefix length");
	norm_bad(IND_IP, 0, "192.0.2.0/2x", "prefix length");
	norm_bad(IND_IP, 0, "/24", "not an IPv4");
}

static void test_url(void **state)
{
	(void)state;
	norm_ok(IND_URL, 0, "HTTPS://Evil.Example.COM/Login?ID=AbC#Frag",
		"https://evil.example.com/Login?ID=AbC#Frag");
	norm_ok(IND_URL, 0, "http://EXAMPLE.com:8080/A/B", "http://example.com:8080/A/B");
	norm_ok(IND_URL, 0, "Example.COM/Path/X", "example.com/Path/X");
	norm_ok(IND_URL, 0, "Example.COM", "example.com");
	norm_ok(IND_URL, 0, "http://192.0.2.1/x", "http://192.0.2.1/x");
	norm_ok(IND_URL, 0, "http://[2001:DB8::1]:443/Q", "http://[2001:db8::1]:443/Q");
	norm_ok(IND_URL, 0, "http://example.com./A", "http://example.com/A");
	norm_ok(IND_URL, 0, "hxxp+s.x-y://a.example/", "hxxp+s.x-y://a.example/");
	norm_ok(IND_URL, 0, "a.example/r?u=http://B.example/", "a.example/r?u=http://B.example/");
	norm_bad(IND_URL, 0, "http://exa mple.com/", "whitespace");
	norm_bad(IND_URL, 0, "http://example.com/a b", "whitespace");
	norm_bad(IND_URL, 0, "1http://example.com/", "invalid scheme");
	norm_bad(IND_URL, 0, "http:///path", "empty host");
	norm_bad(IND_URL, 0, "http://example.com:0/", "invalid port");
	norm_bad(IND_URL, 0, "http://example.com:99999/", "invalid port");
	norm_bad(IND_URL, 0, "http://example.com:8x/", "invalid port");
	norm_bad(IND_URL, 0, "http://[zz::1]/", "invalid IPv6");
	norm_bad(IND_URL, 0, "http://300.1.1.1/", "invalid IPv4");
	norm_bad(IND_URL, 0, "http://nodot/", "host: no dot");
	norm_bad(IND_URL, 0, "http://b\xc3\xbc" "cher.de/", "punycode");
}

static void test_email(void **state)
{
	(void)state;
	norm_ok(IND_EMAIL, 0, "John.Doe+X@Example.COM", "john.doe+x@example.com");
	norm_bad(IND_EMAIL, 0, "nobody.example.com", "exactly one '@'");
	norm_bad(IND_EMAIL, 0, "a@b@example.com", "exactly one '@'");
	norm_bad(IND_EMAIL, 0, "@example.com", "local part");
	norm_bad(IND_EMAIL, 0, "a b@example.com", "local part");
	norm_bad(IND_EMAIL, 0, "a@example", "domain: no dot");
	norm_bad(IND_EMAIL, 0, "a@ex ample.com", "domain: space in label");
	char local[100];
	memset(local, 'x', 65);
	strcpy(local + 65, "@example.com");
	norm_bad(IND_EMAIL, 0, local, "local part must be 1-64");
}

static void test_hex(void **state)
{
	(void)state;
	norm_ok(IND_MD5, 0, "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e");
	norm_ok(IND_SHA1, 0, "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
		"da39a3ee5e6b4b0d3255bfef95601890afd80709");
	norm_ok(IND_SHA256, 0,
		"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	norm_bad(IND_MD5, 0, "d41d8cd98f00b204e9800998ecf8427", "expected 32 hex digits, got 31");
	norm_bad(IND_SHA1, 0, "d41d8cd98f00b204e9800998ecf8427e", "expected 40 hex digits");
	norm_bad(IND_MD5, 0, "md5:d41d8cd98f00b204e9800998ecf8427e", "expected 32 hex digits");
	norm_bad(IND_MD5, 0, "g41d8cd98f00b204e9800998ecf8427e", "non-hex character 'g'");
	norm_bad(IND_SHA256, IND_F_DOTALL,
		 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		 "modifier 's' is not allowed");
}

static void test_literal(void **state)
{
	(void)state;
	struct cs_diag d;
	char *out = NULL;
	size_t n = 0;
	norm_ok(IND_LITERAL, 0, "send bitcoin now", "send bitcoin now");
	norm_ok(IND_LITERAL, IND_F_CASELESS, "a\\\\b\\tc", "a\\b\tc");
	norm_ok(IND_LITERAL, 0, "\\x20padded\\x20", " padded ");
	norm_ok(IND_LITERAL, 0, "\\x41\\x7a", "Az");
	/* \x00 is a real byte: the length tells it from the terminator. */
	assert_int_equal(ind_normalise(IND_LITERAL, 0, "a\\x00b", 6, &out, &n, &d), CS_OK);
	assert_int_equal(n, 3);
	assert_memory_equal(out, "a\0b", 3);
	free(out);
	norm_bad(IND_LITERAL, 0, "a\\nb", "unknown escape '\\n'");
	norm_bad(IND_LITERAL, 0, "ab\\", "lone backslash");
	norm_bad(IND_LITERAL, 0, "a\\x4", "two hex digits");
	norm_bad(IND_LITERAL, 0, "a\\xg0", "two hex digits");
	norm_bad(IND_LITERAL, 0, "", "empty");
	norm_bad(IND_LITERAL, IND_F_DOTALL, "abc", "modifier 's' is not allowed on literal");

	char *big = malloc(4098);
	assert_non_null(big);
	memset(big, 'q', 4097);
	big[4097] = '\0';
	norm_bad(IND_LITERAL, 0, big, "longer than 4096");
	big[4096] = '\0';
	norm_ok(IND_LITERAL, 0, big, big);
	free(big);
}

static void test_regex(void **state)
{
	(void)state;
	norm_ok(IND_REGEX, 0, "wallet\\s+[13][a-km-zA-HJ-NP-Z1-9]{25,34}",
		"wallet\\s+[13][a-km-zA-HJ-NP-Z1-9]{25,34}");
	norm_ok(IND_REGEX, IND_F_CASELESS | IND_F_DOTALL, "urgent.+transfer", "urgent.+transfer");
	norm_bad(IND_REGEX, 0, "abc(", "invalid regex 'abc(': ");
	norm_bad(IND_REGEX, 0, "a*", "empty string");
	norm_bad(IND_REGEX, 0, "(x|)", "empty string");
}

static void test_bad_args(void **state)
{
	(void)state;
	char *out = NULL;
	size_t n;
	assert_int_equal(ind_normalise(IND_TYPE_COUNT, 0, "x", 1, &out, &n, NULL), CS_ERR_INVALID);
	assert_int_equal(ind_normalise(IND_LITERAL, 0, NULL, 3, &out, &n, NULL), CS_ERR_INVALID);
	/* A NULL diag is allowed: the error still comes back. */
	assert_int_equal(ind_normalise(IND_DOMAIN, 0, "x y", 3, &out, &n, NULL), CS_ERR_PARSE);
	assert_null(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_names), cmocka_unit_test(test_legal_default),
		cmocka_unit_test(test_domain),     cmocka_unit_test(test_url), cmocka_unit_test(test_ip),
		cmocka_unit_test(test_email),      cmocka_unit_test(test_hex),
		cmocka_unit_test(test_literal),    cmocka_unit_test(test_regex),
		cmocka_unit_test(test_bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
