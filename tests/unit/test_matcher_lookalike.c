/* Lookalike brands through the matcher: host names found in text by the
 * host shape, walked back to their start and judged by the brands
 * (correlate/lookalike.h). Checks the positions a hit reports, the brand's
 * own domains, the text that only looks like a host (file names, path
 * segments, URL-encoded delimiters), host fields, the record's description,
 * and a brand refused when its pack is read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "correlate/lookalike.h"
#include "cybersieve/matcher.h"
#include "cybersieve/pack.h"

static const char PACK[] = "@name brands\n@category scam\n@source test\n@licence CC0-1.0\n"
			   "@tlp clear\n"
			   "pp lookalike paypal.com paypal.me paypalobjects.com\n"
			   "ms lookalike microsoft.com live.com office.com\n"
			   "gg lookalike google.com googleapis.com tld=own\n"
			   "lit literal needle\n";

struct fx {
	struct pack *p;
	struct matcher *m;
	struct matcher_scratch *s;
	struct matcher_hits h;
	char out[2048];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(pack_parse("brands", PACK, sizeof(PACK) - 1, &f->p, &d), CS_OK);
	assert_int_equal(matcher_build(&f->p, 1, NULL, NULL, &f->m, &d), CS_OK);
	assert_int_equal(matcher_scratch_create(f->m, &f->s), CS_OK);
	f->h.limit = 1000;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	matcher_hits_fini(&f->h);
	matcher_scratch_destroy(f->s);
	matcher_destroy(f->m);
	pack_destroy(f->p);
	free(f);
	return 0;
}

/* "id:text" of each hit of one scan, space-separated. */
static const char *scan(struct fx *f, const char *text)
{
	f->h.n = 0;
	struct cs_diag d;
	assert_int_equal(matcher_scan(f->m, f->s, (const uint8_t *)text, strlen(text), 0, &f->h, &d),
			 CS_OK);
	f->out[0] = '\0';
	for (size_t i = 0; i < f->h.n; i++) {
		const struct matcher_hit *h = &f->h.v[i];
		size_t l = strlen(f->out);
		snprintf(f->out + l, sizeof(f->out) - l, "%s%s:%.*s", l ? " " : "",
			 matcher_get(f->m, h->ind)->ind->id, (int)(h->end - h->start),
			 text + h->start);
	}
	return f->out;
}

static void test_hosts_in_text(void **state)
{
	struct fx *f = *state;
	assert_string_equal(scan(f, "GET http://paypa1.com/login HTTP/1.1"), "pp:paypa1.com");
	assert_string_equal(scan(f, "from billing@paypal-secure-login.com today"),
			    "pp:paypal-secure-login.com");
	assert_string_equal(scan(f, "host=xn--pypal-4ve.com"), "pp:xn--pypal-4ve.com");
	assert_string_equal(scan(f, "host=p\xd0\xb0ypal.com."), "pp:p\xd0\xb0ypal.com");
	assert_string_equal(scan(f, "see RNICROSOFT.COM and paypal.com.evil.net"),
			    "ms:RNICROSOFT.COM pp:paypal.com.evil.net");
	assert_string_equal(scan(f, "go to wwwgoogle.com/x"), "gg:wwwgoogle.com");
	/* With the listed indicators of other types. */
	assert_string_equal(scan(f, "needle at micros0ft.co.uk"), "lit:needle ms:micros0ft.co.uk");
}

static void test_not_hosts_or_own(void **state)
{
	struct fx *f = *state;
	/* The brands' own domains and their subdomains. */
	assert_string_equal(scan(f, "https://www.paypal.com/ https://login.live.com/ paypal.me"), "");
	/* tld=own: the brand label under any suffix is the brand's. */
	assert_string_equal(scan(f, "http://www.google.co.in/search and google.nl"), "");
	/* Unrelated names; a brand inside a longer DNS name is not its label. */
	assert_string_equal(scan(f, "booking.com example.org apple.stackexchange.com"), "");
	/* File names and path segments are not hosts; "//" starts one. */
	assert_string_equal(scan(f, "GET /images/googledotcom.png /pull-paypal-data.html"), "");
	assert_string_equal(scan(f, "GET /x/paypa1.com HTTP/1.1"), "");
	assert_string_equal(scan(f, "ref=//paypa1.com/a"), "pp:paypa1.com");
	/* Reverse-DNS identifiers are software, not hosts; a host that starts
	 * with com. is still a host. */
	assert_string_equal(scan(f, "bundle com.paypal.finder and com.microsoft.teams2"), "");
	assert_string_equal(scan(f, "GET http://com.paypal-secure.net/login"),
			    "pp:com.paypal-secure.net");
	assert_string_equal(scan(f, "query[A] com.paypal-secure.net from 10.0.0.1"),
			    "pp:com.paypal-secure.net");
	/* URL-encoded delimiters are not part of the host. */
	assert_string_equal(scan(f, "u=http%3A%2F%2Fgoogle.com%2Fx"), "");
	assert_string_equal(scan(f, "u=http%3A%2F%2Fpaypa1.com%2Fx"), "pp:paypa1.com");
	/* A name is judged whole, at its real end: paypal.com inside a longer
	 * name is the brand with a TLD in another's domain. */
	assert_string_equal(scan(f, "paypal.com.au.example"), "pp:paypal.com.au.example");
	assert_string_equal(scan(f, "the paypal.community"), "pp:paypal.community");
}

static void test_field_and_describe(void **state)
{
	struct fx *f = *state;
	/* A host field (DNS, SNI, Host) is scanned as text of its own. */
	f->h.n = 0;
	struct cs_diag d;
	const char *sni = "secure-paypal.net";
	assert_int_equal(matcher_scan_field(f->m, f->s, (const uint8_t *)sni, strlen(sni),
					    1u << IND_LOOKALIKE, &f->h, &d),
			 CS_OK);
	assert_int_equal(f->h.n, 1);
	const struct matcher_ind *mi = matcher_get(f->m, f->h.v[0].ind);
	assert_string_equal(mi->ind->id, "pp");
	struct lookalike_hit h;
	assert_true(matcher_lookalike_describe(mi, (const uint8_t *)sni, strlen(sni), &h));
	assert_int_equal(h.kind, LOOKALIKE_HYPHEN);
	assert_string_equal(h.brand, "paypal");
	assert_string_equal(h.label, "secure-paypal");
	assert_true(matcher_lookalike_describe(mi, (const uint8_t *)"paypall.com", 11, &h));
	assert_int_equal(h.kind, LOOKALIKE_EDIT);
	assert_int_equal(h.distance, 1);
	/* Not its brand, or not a lookalike indicator. */
	assert_false(matcher_lookalike_describe(mi, (const uint8_t *)"rnicrosoft.com", 14, &h));
	assert_false(matcher_lookalike_describe(matcher_get(f->m, 3), (const uint8_t *)"needle", 6,
						&h));
}

static void test_refused_brand(void **state)
{
	(void)state;
	static const char bad[] = "@name b\n@category scam\n@source t\n@licence CC0-1.0\n@tlp clear\n"
				  "ok lookalike paypal.com\nbad lookalike paypal.com distance=9\n";
	struct pack *p = NULL;
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(pack_parse("b", bad, sizeof(bad) - 1, &p, &d), CS_ERR_PARSE);
	assert_null(p);
	assert_int_equal(d.line, 7);
	assert_non_null(strstr(d.msg, "distance=9"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hosts_in_text),
		cmocka_unit_test(test_not_hosts_or_own),
		cmocka_unit_test(test_field_and_describe),
		cmocka_unit_test(test_refused_brand),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
