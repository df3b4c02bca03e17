/* Unit tests for pseudonymisation: the address finder's boundaries (IPv4
 * octets, IPv6 through inet_pton, e-mail), normalisation, keyed tokens that
 * are stable and key-dependent, the rewriter's cut and match edges and the
 * kept indicator, the JSON rendering and key loading. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cybersieve/pseudo.h"
#include "cybersieve/util.h"

static const uint8_t KEY_A[32] = "0123456789abcdef0123456789abcdef";
static const uint8_t KEY_B[32] = "fedcba9876543210fedcba9876543210";

static struct pseudo_key *key(const uint8_t *k)
{
	struct pseudo_key *out = NULL;
	struct cs_diag d;
	assert_int_equal(pseudo_key_create(k, 32, &out, &d), CS_OK);
	return out;
}

/* The one address found in s, as text ("" when none). */
static const char *find_one(const char *s, enum pseudo_kind *kind)
{
	static char buf[256];
	struct pseudo_span sp;
	buf[0] = '\0';
	*kind = PSEUDO_NONE;
	if (pseudo_find((const uint8_t *)s, strlen(s), 0, &sp)) {
		snprintf(buf, sizeof(buf), "%.*s", (int)(sp.end - sp.start), s + sp.start);
		*kind = sp.kind;
	}
	return buf;
}

static void expect_found(const char *s, const char *want, enum pseudo_kind want_kind)
{
	enum pseudo_kind kind;
	const char *got = find_one(s, &kind);
	if (strcmp(got, want) != 0 || kind != want_kind)
		fail_msg("in '%s': found '%s' (kind %d), want '%s' (kind %d)", s, got, kind, want,
			 want_kind);
}

static void test_find_ipv4(void **state)
{
	(void)state;
	expect_found("from 1.2.3.4 port", "1.2.3.4", PSEUDO_IPV4);
	expect_found("ip=255.255.255.255,", "255.255.255.255", PSEUDO_IPV4);
	expect_found("end 10.0.0.1.", "10.0.0.1", PSEUDO_IPV4);
	expect_found("peer 192.168.1.20:443", "192.168.1.20", PSEUDO_IPV4);
	expect_found("[8.8.8.8]", "8.8.8.8", PSEUDO_IPV4);
	expect_found("1.2.3.4.5", "", PSEUDO_NONE);
	expect_found("999.1.1.1", "", PSEUDO_NONE);
	expect_found("1.2.3.256", "", PSEUDO_NONE);
	expect_found("1234.1.1.1", "", PSEUDO_NONE);
	expect_found("version 1.2.3 build", "", PSEUDO_NONE);
	expect_found("v1.2.3.4", "", PSEUDO_NONE);
	expect_found("1.2.3.4x", "", PSEUDO_NONE);
	expect_found("0.1.2.3.4", "", PSEUDO_NONE);
	expect_found("1..2.3.4", "", PSEUDO_NONE);
}

static void test_find_ipv6(void **state)
{
	(void)state;
	expect_found("src 2001:db8::1 ok", "2001:db8::1", PSEUDO_IPV6);
	expect_found("[fe80::1ff:fe23:4567:890a]:22", "fe80::1ff:fe23:4567:890a", PSEUDO_IPV6);
	expect_found("lo ::1.", "::1", PSEUDO_IPV6);
	expect_found("m ::ffff:192.0.2.1 x", "::ffff:192.0.2.1", PSEUDO_IPV6);
	expect_found("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8", PSEUDO_IPV6);
	expect_found("ip:2001:db8::7 up", "2001:db8::7", PSEUDO_IPV6);
	expect_found("at 12:34:56 today", "", PSEUDO_NONE);
	expect_found("mac 00:11:22:33:44:55", "", PSEUDO_NONE);
	expect_found("std::vector", "", PSEUDO_NONE);
	expect_found("a :: b", "", PSEUDO_NONE);
	expect_found("2001:db8::1g", "", PSEUDO_NONE);
	expect_found("1:2:3:4:5:6:7:8:9", "", PSEUDO_NONE);
}

static void test_find_email(void **state)
{
	(void)state;
	expect_found("to=<john.doe+x@mail.example.org>", "john.doe+x@mail.example.org",
		     PSEUDO_EMAIL);
	expect_found("mail Bob@Example.COM.", "Bob@Example.COM", PSEUDO_EMAIL);
	expect_found("root@localhost", "", PSEUDO_NONE);
	expect_found("a@b.c", "", PSEUDO_NONE);
	expect_found("@example.com", "", PSEUDO_NONE);
	expect_found("x@-bad.example", "", PSEUDO_NONE);
	expect_found("user@@example.com", "", PSEUDO_NONE);
	expect_found("u@ex.com@y.org", "", PSEUDO_NONE);
}

static void test_find_many(void **state)
{
	(void)state;
	const char *s = "1.1.1.1 a@b.example ::1 9.9.9.9";
	static const char *const want[] = {"1.1.1.1", "a@b.example", "::1", "9.9.9.9"};
	size_t at = 0, n = 0;
	struct pseudo_span sp;
	while (pseudo_find((const uint8_t *)s, strlen(s), at, &sp)) {
		assert_true(n < 4);
		assert_int_equal(sp.end - sp.start, strlen(want[n]));
		assert_memory_equal(s + sp.start, want[n], sp.end - sp.start);
		at = sp.end;
		n++;
	}
	assert_int_equal(n, 4);
}

static void test_normalise(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(pseudo_normalise(PSEUDO_IPV4, (const uint8_t *)"010.001.0.9", 11, out,
					  sizeof(out)),
			 8);
	assert_string_equal(out, "10.1.0.9");
	const char *v6 = "2001:DB8:0:0:0:0:0:1";
	assert_true(pseudo_normalise(PSEUDO_IPV6, (const uint8_t *)v6, strlen(v6), out,
				     sizeof(out)) > 0);
	assert_string_equal(out, "2001:db8::1");
	assert_int_equal(pseudo_normalise(PSEUDO_EMAIL, (const uint8_t *)"Bob@Example.COM", 15,
					  out, sizeof(out)),
			 15);
	assert_string_equal(out, "bob@example.com");
	assert_int_equal(pseudo_normalise(PSEUDO_IPV4, (const uint8_t *)"1.2.3", 5, out,
					  sizeof(out)),
			 0);
}

static void test_token(void **state)
{
	(void)state;
	struct pseudo_key *a = key(KEY_A), *b = key(KEY_B);
	char t1[PSEUDO_TOKEN_LEN + 1], t2[PSEUDO_TOKEN_LEN + 1], t3[PSEUDO_TOKEN_LEN + 1];
	assert_true(pseudo_token(a, PSEUDO_IPV4, (const uint8_t *)"10.0.0.1", 8, t1));
	assert_true(pseudo_token(a, PSEUDO_IPV4, (const uint8_t *)"010.0.0.01", 10, t2));
	assert_string_equal(t1, t2); /* one address, one token */
	assert_int_equal(strlen(t1), PSEUDO_TOKEN_LEN);
	assert_memory_equal(t1, "pseud:", 6);
	/* The token is the HMAC-SHA256 of the normalised value, first 8 bytes. */
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned md_len = 0;
	HMAC(EVP_sha256(), KEY_A, 32, (const uint8_t *)"10.0.0.1", 8, md, &md_len);
	char hex[17];
	util_hex(md, 8, hex);
	assert_string_equal(t1 + 6, hex);
	assert_true(pseudo_token(b, PSEUDO_IPV4, (const uint8_t *)"10.0.0.1", 8, t3));
	assert_string_not_equal(t1, t3); /* another key, another token */
	assert_true(pseudo_token(a, PSEUDO_IPV4, (const uint8_t *)"10.0.0.2", 8, t3));
	assert_string_not_equal(t1, t3);
	assert_true(pseudo_token(a, PSEUDO_EMAIL, (const uint8_t *)"A@B.example", 11, t1));
	assert_true(pseudo_token(a, PSEUDO_EMAIL, (const uint8_t *)"a@b.EXAMPLE", 11, t2));
	assert_string_equal(t1, t2);
	assert_false(pseudo_token(a, PSEUDO_IPV4, (const uint8_t *)"1.2.3", 5, t1));
	assert_int_equal(strlen(pseudo_key_id(a)), 16);
	assert_string_not_equal(pseudo_key_id(a), pseudo_key_id(b));
	pseudo_key_destroy(a);
	pseudo_key_destroy(b);
}

/* Rewrite s with the given edges and keep; returns a static string. */
static const char *rw(const struct pseudo_key *k, const char *s, unsigned edges, const char *keep)
{
	static char out[1024];
	size_t n = strlen(s);
	assert_true(PSEUDO_REWRITE_BOUND(n) < sizeof(out));
	size_t len = pseudo_rewrite(k, (const uint8_t *)s, n, edges, keep, keep ? strlen(keep) : 0,
				    (uint8_t *)out);
	assert_true(len <= PSEUDO_REWRITE_BOUND(n));
	out[len] = '\0';
	return out;
}

static void test_rewrite(void **state)
{
	(void)state;
	struct pseudo_key *k = key(KEY_A);
	char t_ip[PSEUDO_TOKEN_LEN + 1], t_mail[PSEUDO_TOKEN_LEN + 1], want[256];
	assert_true(pseudo_token(k, PSEUDO_IPV4, (const uint8_t *)"10.0.0.1", 8, t_ip));
	assert_true(pseudo_token(k, PSEUDO_EMAIL, (const uint8_t *)"x@y.example", 11, t_mail));

	snprintf(want, sizeof(want), "from %s to <%s> v1.2.3", t_ip, t_mail);
	assert_string_equal(rw(k, "from 10.0.0.1 to <x@y.example> v1.2.3", 0, NULL), want);
	/* The indicator's own address stays; others are replaced. */
	snprintf(want, sizeof(want), "<bad@evil.example> <%s>", t_mail);
	assert_string_equal(rw(k, "<bad@evil.example> <x@y.example>", 0, "bad@evil.example"),
			    want);
	assert_string_equal(rw(k, "<BAD@Evil.Example>", 0, "bad@evil.example"),
			    "<BAD@Evil.Example>");
	/* Nothing to replace: a copy. */
	assert_string_equal(rw(k, "plain text 1.2.3", 0, NULL), "plain text 1.2.3");
	assert_string_equal(rw(k, "", PSEUDO_CUT_START | PSEUDO_CUT_END, NULL), "");

	/* A cut edge drops what may be a piece of an address ... */
	assert_string_equal(rw(k, "68.1.5 said hi", PSEUDO_CUT_START, NULL), " said hi");
	assert_string_equal(rw(k, "said hi from 192.168.", PSEUDO_CUT_END, NULL), "said hi from ");
	assert_string_equal(rw(k, "ohn@mail.example wrote", PSEUDO_CUT_START, NULL), " wrote");
	assert_string_equal(rw(k, "b8::1 x", PSEUDO_CUT_START, NULL), " x");
	/* ... and a whole address there too, since it may be cut ... */
	assert_string_equal(rw(k, "10.0.0.1", PSEUDO_CUT_START, NULL), "");
	/* ... but not an ordinary word. */
	assert_string_equal(rw(k, "ello world", PSEUDO_CUT_START | PSEUDO_CUT_END, NULL),
			    "ello world");
	assert_string_equal(rw(k, "FROM:", PSEUDO_CUT_START | PSEUDO_MATCH_END, NULL), "FROM:");
	/* Without a cut the edge address is whole: replaced. */
	snprintf(want, sizeof(want), "%s said", t_ip);
	assert_string_equal(rw(k, "10.0.0.1 said", 0, NULL), want);
	/* Beside the match only a local part (an '@') is dropped. */
	assert_string_equal(rw(k, "mail to john@", PSEUDO_MATCH_END, NULL), "mail to ");
	assert_string_equal(rw(k, "at 10.0.", PSEUDO_MATCH_END, NULL), "at 10.0.");
	assert_string_equal(rw(k, ":8080 ok", PSEUDO_MATCH_START, NULL), ":8080 ok");
	pseudo_key_destroy(k);
}

static void test_json(void **state)
{
	(void)state;
	struct pseudo_key *k = key(KEY_A);
	struct jbuf j;
	jbuf_init(&j);
	json_obj_open(&j);
	const uint8_t bad[] = "\xff 10.0.0.1";
	pseudo_json_text(&j, "before", k, bad, sizeof(bad) - 1, 0, NULL, 0);
	pseudo_json_minimisation(&j, k);
	json_obj_close(&j);
	assert_false(j.failed);
	jbuf_raw(&j, "", 1);
	assert_null(strstr(j.p, "10.0.0.1"));
	assert_non_null(strstr(j.p, " pseud:"));
	assert_non_null(strstr(j.p, "\"before_b64\":\""));
	/* The base64 holds the rewritten bytes, not the raw address: "/yBwc2V1ZD" = "\xff pseud". */
	assert_non_null(strstr(j.p, "\"before_b64\":\"/yBwc2V1ZD"));
	char want[128];
	snprintf(want, sizeof(want),
		 "\"minimisation\":{\"pseudonymised\":true,\"method\":\"HMAC-SHA256/64\","
		 "\"key_id\":\"%s\"}",
		 pseudo_key_id(k));
	assert_non_null(strstr(j.p, want));

	/* A context larger than the stack scratch takes the heap path. */
	jbuf_reset(&j);
	size_t n = 4096;
	char *big = malloc(n + 1);
	assert_non_null(big);
	for (size_t i = 0; i < n; i += 8)
		memcpy(big + i, "1.2.3.4 ", 8);
	pseudo_json_text(&j, "after", k, (const uint8_t *)big, n, 0, NULL, 0);
	assert_false(j.failed);
	jbuf_raw(&j, "", 1);
	assert_null(strstr(j.p, "1.2.3.4"));
	free(big);
	jbuf_fini(&j);
	pseudo_key_destroy(k);
}

static void test_key_load(void **state)
{
	(void)state;
	char path[] = "/tmp/cs-pseudo-key-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, KEY_A, 31), 31);
	struct pseudo_key *k = NULL;
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(pseudo_key_load(path, &k, &d), CS_ERR_INVALID);
	assert_null(k);
	assert_non_null(strstr(d.msg, "not 31"));
	assert_string_equal(d.file, path);
	assert_int_equal(write(fd, KEY_A + 31, 1), 1);
	assert_int_equal(pseudo_key_load(path, &k, &d), CS_OK);
	struct pseudo_key *direct = key(KEY_A);
	assert_string_equal(pseudo_key_id(k), pseudo_key_id(direct));
	pseudo_key_destroy(k);
	pseudo_key_destroy(direct);
	close(fd);
	unlink(path);
	assert_int_equal(pseudo_key_load("/nonexistent/key", &k, &d), CS_ERR_IO);
	pseudo_key_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_ipv4),  cmocka_unit_test(test_find_ipv6),
		cmocka_unit_test(test_find_email), cmocka_unit_test(test_find_many),
		cmocka_unit_test(test_normalise),  cmocka_unit_test(test_token),
		cmocka_unit_test(test_rewrite),    cmocka_unit_test(test_json),
		cmocka_unit_test(test_key_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
