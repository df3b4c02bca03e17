/* The URL set on its own: which values it holds, the tails it gives the
 * engine, and what a hit at a given end confirms (the matcher's side is
 * in test_matcher_diff and test_matcher_stream). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "match/urlset.h"

static const char *const listed[] = {
	"http://evil.example/a/login.php",  /* 0 */
	"https://evil.example/a/login.php", /* 1: same tail */
	"http://evil.example/b/LOGIN.PHP",  /* 2: same tail, caseless */
	"ftp://files.example:2121/x.zip",   /* 3 */
	"http://other.example",             /* 4: no path */
};
#define N_LISTED (sizeof(listed) / sizeof(listed[0]))

struct found {
	uint32_t ind[8];
	uint64_t start[8], end[8];
	size_t n;
};

static bool on_found(void *ctx, uint32_t first, uint64_t start, uint64_t end)
{
	struct found *f = ctx;
	assert_true(f->n < 8);
	f->ind[f->n] = first;
	f->start[f->n] = start;
	f->end[f->n] = end;
	f->n++;
	return true;
}

static int setup(void **state)
{
	struct urlset *u = malloc(sizeof(*u));
	assert_non_null(u);
	urlset_init(u);
	for (uint32_t i = 0; i < N_LISTED; i++) {
		bool dup = true;
		uint32_t first;
		assert_int_equal(urlset_add(u, listed[i], strlen(listed[i]), i, &dup, &first), CS_OK);
		assert_false(dup);
	}
	assert_int_equal(urlset_seal(u), CS_OK);
	*state = u;
	return 0;
}

static int teardown(void **state)
{
	urlset_fini(*state);
	free(*state);
	return 0;
}

static void test_fits(void **state)
{
	(void)state;
	assert_true(urlset_fits("http://a.example/", 17));
	assert_false(urlset_fits("evil.example/a/b", 16)); /* no scheme: stays a pattern */
	assert_false(urlset_fits("a://b.c", 7));           /* shorter than a tail */
	assert_false(urlset_fits("http://", 7));
	char big[URLSET_LEN_MAX + 2];
	memset(big, 'a', sizeof(big));
	memcpy(big, "http://x.example/", 17);
	assert_true(urlset_fits(big, URLSET_LEN_MAX));
	assert_false(urlset_fits(big, URLSET_LEN_MAX + 1));
}

static void test_tails_and_dup(void **state)
{
	struct urlset *u = *state;
	/* "ogin.php" once for three URLs, "1/x.zip" and ".example" */
	assert_int_equal(u->n_tails, 3);
	assert_int_equal(u->max_len, strlen(listed[1]));
	assert_int_equal(u->max_scheme, 5);
	/* A hit looks up one candidate per listed length of its tail: two for
	 * "ogin.php" (31 bytes for URLs 0 and 2, 32 for URL 1), whatever the text. */
	uint32_t t = 99;
	assert_true(strset_get(&u->tail_map, "ogin.php", URLSET_TAIL, &t));
	assert_int_equal(u->len_first[t + 1] - u->len_first[t], 2);
	assert_int_equal(u->len[u->len_first[t]], strlen(listed[0]));
	assert_int_equal(u->len[u->len_first[t] + 1], strlen(listed[1]));
	assert_false(strset_get(&u->tail_map, "OGIN.PHP", URLSET_TAIL, &t)); /* keys are lower case */
	bool dup = false;
	uint32_t first = 99;
	assert_int_equal(urlset_add(u, listed[3], strlen(listed[3]), 42, &dup, &first), CS_OK);
	assert_true(dup);
	assert_int_equal(first, 3);
	assert_int_equal(urlset_add(u, "evil.example/a", 14, 43, &dup, &first), CS_ERR_INVALID);
	/* A saved set read back measures itself again. */
	size_t ml = u->max_len, ms = u->max_scheme;
	urlset_measure(u);
	assert_int_equal(u->max_len, ml);
	assert_int_equal(u->max_scheme, ms);
}

/* Confirm at every end in t; the findings in order. */
static struct found scan(const struct urlset *u, const char *t)
{
	struct found f = {0};
	size_t n = strlen(t);
	for (size_t e = 0; e <= n; e++)
		assert_true(urlset_confirm(u, (const uint8_t *)t, n, e, on_found, &f));
	return f;
}

static void test_confirm(void **state)
{
	const struct urlset *u = *state;
	struct found f = scan(u, "x HTTP://EVIL.Example/a/login.php?q=1 y");
	assert_int_equal(f.n, 1);
	assert_int_equal(f.ind[0], 0);
	assert_int_equal(f.start[0], 2);
	assert_int_equal(f.end[0], 2 + strlen(listed[0]));
	/* The path is exact: only the listed spelling. */
	f = scan(u, "http://evil.example/a/LOGIN.php http://evil.example/b/LOGIN.PHP");
	assert_int_equal(f.n, 1);
	assert_int_equal(f.ind[0], 2);
	/* Inside a longer scheme, and after a redirect: both found where they start. */
	f = scan(u, "xhttps://evil.example/a/login.php");
	assert_int_equal(f.n, 1);
	assert_int_equal(f.ind[0], 1);
	assert_int_equal(f.start[0], 1);
	f = scan(u, "https://r.example/?u=http://evil.example/a/login.php");
	assert_int_equal(f.n, 1);
	assert_int_equal(f.start[0], 21);
	/* A URL going on is not the listed one; a port or a path after the host is. */
	f = scan(u, "http://evil.example/a/login.php5 http://other.example.org/ http://other.examples");
	assert_int_equal(f.n, 0);
	f = scan(u, "<http://other.example:80/> ftp://FILES.example:2121/x.zip,");
	assert_int_equal(f.n, 2);
	assert_int_equal(f.ind[0], 4);
	assert_int_equal(f.ind[1], 3);
	/* A space inside stops the walk back. */
	f = scan(u, "http://evil.example/a /login.php");
	assert_int_equal(f.n, 0);
	/* A period that ends a sentence is not part of the URL; two are. */
	f = scan(u, "see http://other.example. Or http://evil.example/a/login.php.");
	assert_int_equal(f.n, 2);
	assert_int_equal(f.ind[0], 4);
	assert_int_equal(f.ind[1], 0);
	f = scan(u, "http://other.example.. http://evil.example/a/login.php.x");
	assert_int_equal(f.n, 0);
	/* Ends at the very start or end of the buffer. */
	f = scan(u, "http://other.example");
	assert_int_equal(f.n, 1);
	/* A listed URL without a path, at the start of one with a path. */
	f = scan(u, "http://other.example/a/login.php");
	assert_int_equal(f.n, 1);
	assert_int_equal(f.ind[0], 4);
	f = scan(u, "");
	assert_int_equal(f.n, 0);
	/* Many "://" before a hit change nothing: only the listed lengths count. */
	f = scan(u, "http://a/http://b/ftp://c/http://evil.example/a/login.php");
	assert_int_equal(f.n, 1);
	assert_int_equal(f.ind[0], 0);
	assert_int_equal(f.start[0], 26);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fits),
		cmocka_unit_test_setup_teardown(test_tails_and_dup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_confirm, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
