/* Unit tests for allow-lists in the MISP warninglist format, on published
 * lists (tests/data/feeds: bank-website, rfc1918, empty-hashes, google). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cybersieve/allowlist.h"

static struct allowlist *load(const char *const *names, size_t n)
{
	struct allowlist *a = NULL;
	assert_int_equal(allowlist_create(&a), CS_OK);
	const char *root = getenv("CS_SOURCE_DIR");
	for (size_t i = 0; i < n; i++) {
		char path[1024];
		struct cs_diag d;
		cs_diag_clear(&d);
		size_t skipped = 0;
		snprintf(path, sizeof(path), "%s/tests/data/feeds/%s", root ? root : ".", names[i]);
		assert_int_equal(allowlist_load_file(a, path, &skipped, &d), CS_OK);
		assert_int_equal(skipped, 0);
	}
	assert_int_equal(allowlist_count(a), n);
	return a;
}

static bool allows(const struct allowlist *a, const char *kind, const char *v)
{
	return allowlist_allows(a, kind, v, strlen(v), NULL);
}

static void test_bank_hostname(void **state)
{
	(void)state;
	static const char *const names[] = {"bank-website.json"};
	struct allowlist *a = load(names, 1);
	const char *which = NULL;
	/* ".alrajhibank.com.sa" is on the list: the name and its subdomains */
	assert_true(allowlist_allows(a, "domain", "alrajhibank.com.sa", 18, &which));
	assert_string_equal(which, "List of known bank domains");
	assert_true(allows(a, "domain", "online.AlRajhiBank.com.sa"));
	assert_true(allows(a, "url", "https://online.alrajhibank.com.sa/login"));
	assert_false(allows(a, "domain", "alrajhibank.com.sa.evil.example"));
	assert_false(allows(a, "domain", "xalrajhibank.com.sa"));
	assert_false(allows(a, "md5", "alrajhibank.com.sa")); /* not a matching attribute */

	/* A scam pack listing a bank's own domain: suppressed at load time. */
	struct pack *p = NULL;
	assert_int_equal(pack_create_adhoc("scam", &p), CS_OK);
	assert_int_equal(pack_add(p, "s1", IND_DOMAIN, 0, "www.alrajhibank.com.sa", 22, 0, NULL),
			 CS_OK);
	assert_int_equal(pack_add(p, "s2", IND_DOMAIN, 0, "alrajhibank-verify.example", 26, 0,
				  NULL), CS_OK);
	assert_int_equal(pack_add(p, "s3", IND_URL, 0, "http://alrajhibank.com.sa/x", 27, 0, NULL),
			 CS_OK);
	assert_int_equal(allowlist_filter_pack(a, p), 2);
	assert_int_equal(p->n_ind, 1);
	assert_string_equal(p->ind[0].id, "s2");
	pack_destroy(p);
	allowlist_destroy(a);
}

static void test_cidr_hashes_strings(void **state)
{
	(void)state;
	static const char *const names[] = {"rfc1918.json", "empty-hashes.json", "google.json"};
	struct allowlist *a = load(names, 3);
	assert_true(allows(a, "ip", "10.1.2.3"));
	assert_true(allows(a, "ip", "172.31.255.255"));
	assert_false(allows(a, "ip", "172.32.0.1"));
	assert_true(allows(a, "ip", "192.168.0.0/24"));
	assert_false(allows(a, "ip", "8.8.8.8"));
	assert_false(allows(a, "domain", "10.1.2.3")); /* cidr list is for ip attributes */
	assert_true(allows(a, "md5", "d41d8cd98f00b204e9800998ecf8427e"));
	assert_true(allows(a, "sha256",
			   "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
	assert_false(allows(a, "md5", "d41d8cd98f00b204e9800998ecf8427f"));
	/* google.json is a string list with ".google.ad"-style entries */
	assert_true(allows(a, "domain", "google.ad"));
	assert_true(allows(a, "domain", "www.google.ad"));
	assert_false(allows(a, "domain", "google.ad.evil.example"));
	allowlist_destroy(a);
}

static void test_types_and_errors(void **state)
{
	(void)state;
	struct allowlist *a = NULL;
	assert_int_equal(allowlist_create(&a), CS_OK);
	static const char sub[] = "{\"name\":\"s\",\"type\":\"substring\",\"list\":[\"tracker\"]}";
	static const char re[] = "{\"name\":\"r\",\"type\":\"regex\",\"list\":[\"/^cdn[0-9]+\\\\.example$/i\",\"(\"],"
				 "\"matching_attributes\":[\"domain\"]}";
	static const char str[] = "{\"name\":\"t\",\"type\":\"string\",\"list\":[\"com\"]}";
	size_t skipped = 0;
	assert_int_equal(allowlist_load_buf(a, "s", sub, sizeof(sub) - 1, &skipped, NULL), CS_OK);
	assert_int_equal(allowlist_load_buf(a, "r", re, sizeof(re) - 1, &skipped, NULL), CS_OK);
	assert_int_equal(allowlist_load_buf(a, "t", str, sizeof(str) - 1, &skipped, NULL), CS_OK);
	assert_int_equal(skipped, 1); /* "(" does not compile */
	assert_true(allows(a, "url", "http://x.example/tracker.js"));
	assert_true(allows(a, "domain", "CDN12.example"));
	assert_false(allows(a, "domain", "cdn.example"));
	/* a plain string entry is exact: "com" does not allow every .com name */
	assert_true(allows(a, "domain", "com"));
	assert_false(allows(a, "domain", "evil.com"));
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(allowlist_load_buf(a, "bad", "{\"type\":\"x\",\"list\":[]}", 22, NULL, &d),
			 CS_ERR_PARSE);
	assert_int_equal(allowlist_load_buf(a, "bad", "{", 1, NULL, &d), CS_ERR_PARSE);
	assert_int_equal(allowlist_count(a), 3);
	allowlist_destroy(a);
	allowlist_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bank_hostname),
		cmocka_unit_test(test_cidr_hashes_strings),
		cmocka_unit_test(test_types_and_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
