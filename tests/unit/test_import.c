/* Unit tests for the importers, on feed files as published (tests/data/feeds,
 * see the README there); expected counts were taken from the files with
 * independent tools (grep, a JSON parser). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cybersieve/import.h"

static void feed_path(char *out, size_t cap, const char *name)
{
	const char *root = getenv("CS_SOURCE_DIR");
	snprintf(out, cap, "%s/tests/data/feeds/%s", root ? root : ".", name);
}

static struct pack *load(const char *name, const struct import_opts *o,
			 struct import_report *rep)
{
	char path[1024];
	struct cs_diag d;
	struct pack *p = NULL;
	cs_diag_clear(&d);
	feed_path(path, sizeof(path), name);
	enum cs_err e = import_file(path, o, &p, rep, &d);
	if (e)
		fprintf(stderr, "%s: %s\n", path, d.msg);
	assert_int_equal(e, CS_OK);
	assert_non_null(p);
	return p;
}

static const struct indicator *find_id(const struct pack *p, const char *id)
{
	for (size_t i = 0; i < p->n_ind; i++)
		if (strcmp(p->ind[i].id, id) == 0)
			return &p->ind[i];
	return NULL;
}

static size_t count_type(const struct pack *p, enum ind_type t)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_ind; i++)
		n += p->ind[i].type == t;
	return n;
}

static bool have_type(const char *name)
{
	enum ind_type t;
	return ind_type_parse(name, strlen(name), &t);
}

static const struct import_note *note_with(const struct import_report *r, const char *reason)
{
	for (size_t i = 0; i < r->n_notes; i++)
		if (strstr(r->notes[i].reason, reason))
			return &r->notes[i];
	return NULL;
}

static void test_zeek_cps(void **state)
{
	(void)state;
	struct import_report r;
	struct pack *p = load("drb_ra_domain.intel", NULL, &r);
	assert_int_equal(r.format, IMPORT_ZEEK);
	assert_int_equal(p->n_ind, 61);
	assert_int_equal(count_type(p, IND_DOMAIN), 61);
	const struct indicator *i = find_id(p, "L2"); /* first data line */
	assert_non_null(i);
	assert_string_equal(i->value, "3se9ewodke339f0e83.connectivitytests.com");
	assert_string_equal(p->name, "drb_ra_domain");
	assert_string_equal(p->category, "imported");
	assert_non_null(strstr(p->source, "DRB-RA"));
	pack_destroy(p);

	p = load("Amnesty_NSO_Domains.intel", NULL, &r);
	assert_int_equal(count_type(p, IND_DOMAIN), 1407);
	assert_int_equal(count_type(p, IND_EMAIL), 17);
	assert_int_equal(r.n_imported, 1424);
	assert_int_equal(r.n_invalid + r.n_unsupported, 0);
	pack_destroy(p);

	p = load("abuse-ch-malware.intel", NULL, &r);
	assert_int_equal(count_type(p, IND_SHA1), 828);
	pack_destroy(p);
}

static void test_zeek_types(void **state)
{
	(void)state;
	static const char z[] = "#separator \\x09\n#fields\tindicator\tindicator_type\tmeta.source\n"
				"Evil.EXAMPLE\tIntel::DOMAIN\tx\n"
				"bob\tIntel::USER_NAME\tx\n"
				"-\tIntel::DOMAIN\tx\n"
				"bad domain\tIntel::DOMAIN\tx\n";
	struct import_report r;
	struct pack *p = NULL;
	assert_int_equal(import_parse("z.intel", z, sizeof(z) - 1, NULL, &p, &r, NULL), CS_OK);
	assert_int_equal(p->n_ind, 1);
	assert_string_equal(p->ind[0].value, "evil.example");
	assert_string_equal(p->ind[0].id, "L3");
	assert_int_equal(r.n_unsupported, 1);
	assert_int_equal(r.n_invalid, 2);
	const struct import_note *nt = note_with(&r, "USER_NAME");
	assert_non_null(nt);
	assert_string_equal(nt->ids[0], "L4");
	pack_destroy(p);
	/* no #fields: refused */
	struct cs_diag d;
	cs_diag_clear(&d);
	struct import_opts o = {.format = IMPORT_ZEEK};
	assert_int_equal(import_parse("y", "a\tb\n", 4, &o, &p, &r, &d), CS_ERR_PARSE);
	assert_null(p);
}

static void test_stix_examples(void **state)
{
	(void)state;
	struct import_report r;
	bool ip = have_type("ip");
	struct pack *p = load("indicators-for-C2-with-COA.json", NULL, &r);
	assert_int_equal(r.format, IMPORT_STIX);
	const struct indicator *h = find_id(p, "indicator--a932fcc6-e032-476c-826f-cb970a5a1ade");
	assert_non_null(h);
	assert_int_equal(h->type, IND_SHA256);
	assert_string_equal(h->value,
			    "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c");
	assert_int_equal(p->n_ind, ip ? 2 : 1);
	if (!ip) {
		const struct import_note *nt = note_with(&r, "ipv4-addr:value");
		assert_non_null(nt);
		assert_int_equal(nt->count, 1);
		assert_string_equal(nt->ids[0], "indicator--53fe3b22-0201-47cf-85d0-97c02164528d");
		char line[1024];
		import_note_format(&r, 0, "f.json", line, sizeof(line));
		assert_non_null(strstr(line, "f.json: 1 STIX indicators unsupported"));
		assert_non_null(strstr(line, "indicator--53fe3b22"));
	}
	pack_destroy(p);

	p = load("indicator-for-c2-ip-address.json", NULL, &r);
	assert_int_equal(p->n_ind, ip ? 1 : 0);
	assert_int_equal(r.n_unsupported, ip ? 0 : 1);
	pack_destroy(p);

	p = load("malicious-email-indicator-with-attachment.json", NULL, &r);
	assert_int_equal(p->n_ind, 0);
	assert_int_equal(r.n_unsupported, 2);
	const struct import_note *nt = note_with(&r, "pattern not an equality");
	assert_non_null(nt);
	assert_int_equal(nt->count, 2);
	assert_string_equal(nt->ids[0], "indicator--8cf9236f-1b96-493d-98be-0c1c1e8b62d7");
	assert_string_equal(nt->ids[1], "indicator--2e17f6fe-3a4d-438a-911a-e509ba1b9933");
	pack_destroy(p);
}

static void test_stix_or(void **state)
{
	(void)state;
	static const char b[] =
		"{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":["
		"{\"type\":\"indicator\",\"id\":\"indicator--a\",\"pattern_type\":\"stix\","
		"\"pattern\":\"[domain-name:value = 'Evil.example' OR url:value = "
		"'http://x.example/a\\\\'b'] OR [email-addr:value='a@b.example']\"},"
		"{\"type\":\"indicator\",\"id\":\"indicator--b\",\"pattern_type\":\"stix\","
		"\"pattern\":\"[domain-name:value = 'a.example' AND url:value = 'x']\"},"
		"{\"type\":\"indicator\",\"id\":\"indicator--c\",\"pattern_type\":\"sigma\","
		"\"pattern\":\"x\"},"
		"{\"type\":\"indicator\",\"id\":\"indicator--d\",\"pattern\":"
		"\"[file:hashes.MD5 = 'D41D8CD98F00B204E9800998ECF8427E'] WITHIN 5 SECONDS\"},"
		"{\"type\":\"domain-name\",\"id\":\"domain-name--e\",\"value\":\"seen.example\"},"
		"{\"type\":\"malware\",\"id\":\"malware--f\",\"name\":\"x\"}]}";
	struct import_report r;
	struct pack *p = NULL;
	assert_int_equal(import_parse("b.json", b, sizeof(b) - 1, NULL, &p, &r, NULL), CS_OK);
	assert_int_equal(p->n_ind, 3);
	assert_string_equal(find_id(p, "indicator--a:1")->value, "evil.example");
	assert_string_equal(find_id(p, "indicator--a:2")->value, "http://x.example/a'b");
	assert_int_equal(find_id(p, "indicator--a:3")->type, IND_EMAIL);
	assert_int_equal(r.n_unsupported, 3);
	assert_non_null(note_with(&r, "pattern_type sigma"));
	assert_int_equal(note_with(&r, "pattern not an equality")->count, 2);
	/* An observed domain is named, not loaded; a malware object is neither. */
	const struct import_note *nt = note_with(&r, "observables ignored");
	assert_non_null(nt);
	assert_int_equal(nt->count, 1);
	assert_string_equal(nt->ids[0], "domain-name--e");
	assert_null(find_id(p, "domain-name--e"));
	pack_destroy(p);
}

static void test_misp_events(void **state)
{
	(void)state;
	struct import_report r;
	struct pack *p = load("backdoordiplomacy__misp.event_2021-06-10_backdoordiplomacy.json",
			      NULL, &r);
	assert_int_equal(r.format, IMPORT_MISP_JSON);
	assert_int_equal(count_type(p, IND_MD5), 22);
	assert_int_equal(count_type(p, IND_SHA1), 22);
	assert_int_equal(count_type(p, IND_SHA256), 22);
	assert_int_equal(p->n_ind, 66);
	assert_int_equal(r.n_unsupported, 1); /* the link to the blog post */
	const struct indicator *i = find_id(p, "39796508-2bc5-4f16-9ba3-e4a01fa19a43");
	assert_non_null(i);
	assert_string_equal(i->value, "e34333634b7208b000027be99612142d");
	assert_non_null(strstr(p->source, "a3bc1af1-e021-4685-9dd1-68013abef4d9"));
	pack_destroy(p);

	/* attributes inside MISP objects */
	p = load("cloudmensis__cloudmensis.misp.json", NULL, &r);
	assert_int_equal(p->n_ind, 9);
	assert_int_equal(r.n_unsupported, 13); /* text 10, filename 3 */
	assert_int_equal(note_with(&r, "type text")->count, 10);
	pack_destroy(p);

	p = load("oceanlotus__oceanlotus-macOS.misp.event.json", NULL, &r);
	assert_int_equal(count_type(p, IND_DOMAIN), 3);
	assert_int_equal(count_type(p, IND_SHA1), 1);
	assert_string_equal(find_id(p, "5cab6408-d2a8-4e24-8cf2-744b0a016219")->value,
			    "daff.faybilodeau.com");
	assert_non_null(note_with(&r, "type uri"));
	pack_destroy(p);
}

static void test_misp_csv(void **state)
{
	(void)state;
	struct import_report r;
	struct pack *p = load("backdoordiplomacy-misp-export.csv", NULL, &r);
	assert_int_equal(r.format, IMPORT_MISP_CSV);
	assert_int_equal(p->n_ind, 66);
	assert_int_equal(r.n_unsupported, 1);
	assert_string_equal(find_id(p, "39796508-2bc5-4f16-9ba3-e4a01fa19a43")->value,
			    "e34333634b7208b000027be99612142d");
	pack_destroy(p);
}

static void test_urlhaus(void **state)
{
	(void)state;
	struct import_report r;
	bool ip = have_type("ip");
	/* 2853 values: 619 host names and 2234 IPv4 addresses */
	struct pack *p = load("urlhaus-filter-domains-online.txt", NULL, &r);
	assert_int_equal(r.format, IMPORT_PLAIN);
	assert_int_equal(count_type(p, IND_DOMAIN), 619);
	assert_int_equal(p->n_ind, ip ? 2853 : 619);
	assert_int_equal(r.n_unsupported, ip ? 0 : 2234);
	pack_destroy(p);

	/* 319 records: 176 host+path (urls), 33 host names, 110 IPv4 hosts */
	p = load("urlhaus-filter-splunk-online-excerpt.csv", NULL, &r);
	assert_int_equal(r.format, IMPORT_CSV);
	assert_int_equal(count_type(p, IND_URL), 176);
	assert_int_equal(count_type(p, IND_DOMAIN), 33);
	assert_int_equal(r.n_unsupported + r.n_invalid, ip ? 0 : 110);
	pack_destroy(p);
}

static void test_hashlists(void **state)
{
	(void)state;
	struct import_report r;
	struct pack *p = load("mirrorface-samples.sha256", NULL, &r);
	assert_int_equal(r.format, IMPORT_HASHLIST);
	assert_int_equal(count_type(p, IND_SHA256), 5);
	assert_string_equal(p->ind[0].value,
			    "5bc7eb8c12bfba9d79e843c4ed6cba8301923f19de7339ade0bc12d719f722fa");
	pack_destroy(p);
	p = load("mirrorface-samples.md5", NULL, &r);
	assert_int_equal(count_type(p, IND_MD5), 5);
	pack_destroy(p);

	static const char sums[] = "D41D8CD98F00B204E9800998ECF8427E  empty.txt\n"
				   "da39a3ee5e6b4b0d3255bfef95601890afd80709 *empty.bin\n"
				   "SHA256 (x) = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
				   "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e  x\n";
	assert_int_equal(import_detect(sums, sizeof(sums) - 1), IMPORT_HASHLIST);
	assert_int_equal(import_parse("sums", sums, sizeof(sums) - 1, NULL, &p, &r, NULL), CS_OK);
	assert_int_equal(p->n_ind, 3);
	assert_string_equal(p->ind[0].value, "d41d8cd98f00b204e9800998ecf8427e");
	assert_int_equal(p->ind[2].type, IND_SHA256);
	assert_int_equal(r.n_unsupported, 1);
	pack_destroy(p);
}

static void test_suricata(void **state)
{
	(void)state;
	struct import_opts o = {0};
	const char *path = NULL;
	assert_true(import_spec_parse("suricata-string:/x/y.lst", &o, &path));
	assert_string_equal(path, "/x/y.lst");
	assert_int_equal(o.dataset, IMPORT_DS_STRING);
	/* "evil\\x" and "a b" */
	static const char ds[] = "ZXZpbFx4\nYSBi\n!!!\n";
	struct import_report r;
	struct pack *p = NULL;
	assert_int_equal(import_parse("ds", ds, sizeof(ds) - 1, &o, &p, &r, NULL), CS_OK);
	assert_int_equal(p->n_ind, 2);
	assert_int_equal(p->ind[0].type, IND_LITERAL);
	assert_int_equal(p->ind[0].value_len, 6);
	assert_memory_equal(p->ind[0].value, "evil\\x", 6);
	assert_string_equal(p->ind[1].value, "a b");
	assert_int_equal(r.n_invalid, 1);
	pack_destroy(p);

	struct import_opts m = {0};
	assert_true(import_spec_parse("suricata-md5:f", &m, &path));
	static const char md5[] = "d41d8cd98f00b204e9800998ecf8427e,10\nzz\n";
	assert_int_equal(import_parse("ds", md5, sizeof(md5) - 1, &m, &p, &r, NULL), CS_OK);
	assert_int_equal(p->n_ind, 1);
	assert_int_equal(p->ind[0].type, IND_MD5);
	assert_int_equal(r.n_invalid, 1);
	pack_destroy(p);

	struct import_opts none = {.format = IMPORT_SURICATA};
	assert_int_equal(import_parse("ds", md5, sizeof(md5) - 1, &none, &p, &r, NULL),
			 CS_ERR_INVALID);
}

static void test_plain_header_and_detect(void **state)
{
	(void)state;
	static const char l[] = "# type: url\n# category: scam\n# tlp: green\n"
				"http://a.example/x\n\nhttps://b.example/#frag\n";
	struct import_report r;
	struct pack *p = NULL;
	assert_int_equal(import_parse("list.txt", l, sizeof(l) - 1, NULL, &p, &r, NULL), CS_OK);
	assert_int_equal(p->n_ind, 2);
	assert_string_equal(p->category, "scam");
	assert_string_equal(p->tlp, "green");
	assert_string_equal(p->ind[1].id, "L6");
	assert_string_equal(p->name, "list");
	pack_destroy(p);

	struct import_opts o = {0};
	const char *path;
	assert_true(import_spec_parse("domain:x.txt", &o, &path));
	assert_true(o.has_type);
	assert_int_equal(o.type, IND_DOMAIN);
	assert_false(import_spec_parse("nosuch:x.txt", &o, &path));
	assert_int_equal(import_detect("# c\n@name x\n", 12), IMPORT_NATIVE);
	assert_int_equal(import_detect("{\"type\": \"bundle\"}", 18), IMPORT_STIX);
	assert_int_equal(import_detect("{\"Event\": {}}", 13), IMPORT_MISP_JSON);
	assert_int_equal(import_detect("#fields\tindicator\tindicator_type\n", 33), IMPORT_ZEEK);

	/* A "# type:" header names the list's type even when the first value is
	 * hex of a hash's length; a hash type there leaves md5sum lines to the
	 * hash-list reader. */
	static const char lit[] = "# source: x\n#  type: literal\n"
				  "142059faa6c71267329e47b2af612c2e\nwire the fee today\n";
	assert_int_equal(import_detect(lit, sizeof(lit) - 1), IMPORT_PLAIN);
	assert_int_equal(import_parse("lit.txt", lit, sizeof(lit) - 1, NULL, &p, &r, NULL), CS_OK);
	assert_int_equal(p->n_ind, 2);
	assert_int_equal(p->ind[0].type, IND_LITERAL);
	assert_int_equal(p->ind[1].type, IND_LITERAL);
	assert_string_equal(p->ind[0].value, "142059faa6c71267329e47b2af612c2e");
	pack_destroy(p);
	static const char sums[] = "# type: md5 \n142059faa6c71267329e47b2af612c2e  a.jpg\n";
	assert_int_equal(import_detect(sums, sizeof(sums) - 1), IMPORT_HASHLIST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zeek_cps),
		cmocka_unit_test(test_zeek_types),
		cmocka_unit_test(test_stix_examples),
		cmocka_unit_test(test_stix_or),
		cmocka_unit_test(test_misp_events),
		cmocka_unit_test(test_misp_csv),
		cmocka_unit_test(test_urlhaus),
		cmocka_unit_test(test_hashlists),
		cmocka_unit_test(test_suricata),
		cmocka_unit_test(test_plain_header_and_detect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
