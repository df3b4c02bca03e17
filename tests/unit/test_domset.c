/* The domain suffix set's confirmation: each search loop the CPU has (the
 * vector window on AVX2 and up) against the byte-at-a-time walk, at every
 * end offset of random text full of listed names, near misses, long label
 * runs and names longer than the window; and a few exact cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "each_isa.h"
#include "match/domset.h"

#define N_NAMES 400
#define TEXT_LEN 60000
#define MAX_FOUND 64

static enum vec_isa g_isa;

static uint64_t rng(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

struct found {
	size_t n;
	struct {
		uint32_t first;
		uint64_t start, end;
	} v[MAX_FOUND];
};

static bool collect(void *ctx, uint32_t first, uint64_t start, uint64_t end)
{
	struct found *f = ctx;
	assert_true(f->n < MAX_FOUND);
	f->v[f->n].first = first;
	f->v[f->n].start = start;
	f->v[f->n].end = end;
	f->n++;
	return true;
}

static void rand_label(uint64_t *x, char *out, size_t n)
{
	static const char cs[] = "abcdefghijklmnopqrstuvwxyz0123456789-_";
	for (size_t i = 0; i < n; i++)
		out[i] = cs[rng(x) % (sizeof(cs) - 1)];
	out[n] = '\0';
}

/* Names of 2 to 5 labels; one in eight runs to 70-120 bytes, past the
 * 64-byte window; one in four is a subdomain of the name before. */
static size_t make_names(uint64_t *x, char (*names)[128], bool long_ones)
{
	size_t n = 0;
	while (n < N_NAMES) {
		char *v = names[n];
		size_t len = 0;
		if (n > 0 && rng(x) % 4 == 0 && strlen(names[n - 1]) < (long_ones ? 100 : 30)) {
			char lab[12];
			rand_label(x, lab, 1 + rng(x) % 8);
			snprintf(v, 128, "%s.%s", lab, names[n - 1]);
		} else {
			size_t labels = 2 + rng(x) % 4;
			size_t want = long_ones && rng(x) % 8 == 0 ? 70 + rng(x) % 50 : 0;
			for (size_t l = 0; l < labels || len < want; l++) {
				char lab[64];
				rand_label(x, lab, 1 + rng(x) % (want ? 30 : 9));
				len += (size_t)snprintf(v + len, 128 - len, "%s%s", l ? "." : "", lab);
				if (len > 110)
					break;
			}
			/* the last label from a few, so that names share it */
			static const char *const tld[] = {"com", "net", "x-y", "a_b", "io"};
			char *dot = strrchr(v, '.');
			snprintf(dot + 1, 128 - (size_t)(dot + 1 - v), "%s", tld[rng(x) % 5]);
		}
		n++;
	}
	return n;
}

static void build(struct domset *d, char (*names)[128], size_t n)
{
	domset_init(d);
	for (size_t i = 0; i < n; i++) {
		bool dup;
		uint32_t first;
		assert_int_equal(domset_add(d, names[i], strlen(names[i]), (uint32_t)i, &dup, &first),
				 CS_OK);
	}
	assert_int_equal(domset_seal(d), CS_OK);
}

/* Random text: listed names (some upper-cased) after random labels or
 * separators, near misses, long runs of label bytes and other bytes. */
static size_t make_text(uint64_t *x, char (*names)[128], size_t n, char *t, size_t cap)
{
	static const char *const sep[] = {" ", ".", "..", "/", ":", "@", "-", "\n", "\xc3\xa9",
					  "=", "\"", "a", ".a"};
	size_t len = 0;
	while (len + 400 < cap) {
		unsigned r = (unsigned)(rng(x) % 10);
		const char *s = sep[rng(x) % (sizeof(sep) / sizeof(sep[0]))];
		len += (size_t)snprintf(t + len, cap - len, "%s", s);
		if (r < 5) {
			if (r == 0) { /* a label in front: a subdomain of the listed name */
				char lab[40];
				rand_label(x, lab, 1 + rng(x) % 30);
				len += (size_t)snprintf(t + len, cap - len, "%s.", lab);
			}
			size_t at = len;
			len += (size_t)snprintf(t + len, cap - len, "%s", names[rng(x) % n]);
			if (r == 1)
				for (size_t i = at; i < len; i++)
					if (rng(x) % 3 == 0 && t[i] >= 'a' && t[i] <= 'z')
						t[i] = (char)(t[i] - 32);
			if (r == 2) /* glued on: no match */
				t[len++] = (char)"a-_9"[rng(x) % 4];
		} else if (r < 7) {
			char lab[100];
			rand_label(x, lab, 1 + rng(x) % 90);
			len += (size_t)snprintf(t + len, cap - len, "%s", lab);
		} else {
			t[len++] = (char)(rng(x) % 256 ? rng(x) % 256 : 1);
		}
	}
	t[len] = '\0';
	return len;
}

/* Every end offset, both loops; long_ones: names past the 64-byte window
 * are listed, else the longest listed name ends the walk inside it. */
static void loops_agree(bool long_ones)
{
	uint64_t x = long_ones ? 0x243f6a8885a308d3ull : 0x13198a2e03707344ull;
	char(*names)[128] = calloc(N_NAMES, 128);
	char *text = malloc(TEXT_LEN);
	assert_non_null(names);
	assert_non_null(text);
	size_t n = make_names(&x, names, long_ones);
	struct domset d;
	build(&d, names, n);
	assert_true(long_ones ? d.max_len > 64 : d.max_len < 64);
	size_t len = make_text(&x, names, n, text, TEXT_LEN);
	size_t hits = 0, long_hits = 0;
	for (uint64_t end = 0; end <= len; end++) {
		struct found a = {0}, b = {0};
		domset_confirm_isa(&d, (const uint8_t *)text, len, end, collect, &a, VEC_PLAIN);
		domset_confirm_isa(&d, (const uint8_t *)text, len, end, collect, &b, g_isa);
		if (a.n != b.n || memcmp(a.v, b.v, a.n * sizeof(a.v[0])) != 0)
			fail_msg("end %llu (loop %d): %zu found a byte at a time, %zu by the loop",
				 (unsigned long long)end, (int)g_isa, a.n, b.n);
		hits += a.n;
		for (size_t i = 0; i < a.n; i++)
			long_hits += a.v[i].end - a.v[i].start > 64;
	}
	print_message("loop %d: %zu names found, %zu longer than 64 bytes\n", (int)g_isa, hits,
		      long_hits);
	assert_true(hits > 500);
	assert_true(long_ones ? long_hits > 20 : long_hits == 0);
	domset_fini(&d);
	free(text);
	free(names);
}

static void test_loops_agree(void **state)
{
	(void)state;
	loops_agree(true);
}

static void test_loops_agree_short(void **state)
{
	(void)state;
	loops_agree(false);
}

static size_t confirm_at_end(const struct domset *d, const char *t, const char *host,
			     struct found *f)
{
	const char *at = strstr(t, host);
	assert_non_null(at);
	f->n = 0;
	domset_confirm_isa(d, (const uint8_t *)t, strlen(t), (uint64_t)(at - t) + strlen(host),
			   collect, f, g_isa);
	return f->n;
}

/* Label boundaries, case, and the longest-name limit, past 64 bytes of
 * text so the vector window is the one asked. */
static void test_cases(void **state)
{
	(void)state;
	char names[3][128] = {"evil.com", "b.evil.com", "x.y"};
	struct domset d;
	build(&d, names, 3);
	struct found f;
	const char *pad = "................................................................ ";
	char t[256];
	snprintf(t, sizeof(t), "%sgo to A.B.EVIL.com/path", pad);
	assert_int_equal(confirm_at_end(&d, t, "A.B.EVIL.com", &f), 2);
	assert_int_equal(f.v[0].first, 0); /* shortest first */
	assert_int_equal(f.v[1].first, 1);
	assert_int_equal(f.v[1].end - f.v[1].start, strlen("B.EVIL.com"));
	snprintf(t, sizeof(t), "%snotevil.com evil.community", pad);
	assert_int_equal(confirm_at_end(&d, t, "notevil.com", &f), 0);
	snprintf(t, sizeof(t), "%sa..evil.com", pad);
	assert_int_equal(confirm_at_end(&d, t, "a..evil.com", &f), 1);
	snprintf(t, sizeof(t), "%s.evil.com", pad);
	assert_int_equal(confirm_at_end(&d, t, "evil.com", &f), 1);
	/* A label running on past the longest listed name (10 bytes) ends the walk. */
	snprintf(t, sizeof(t), "%s ab-cd_ef0123.x.y", pad);
	assert_int_equal(confirm_at_end(&d, t, "ab-cd_ef0123.x.y", &f), 1);
	domset_fini(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loops_agree),
		cmocka_unit_test(test_loops_agree_short),
		cmocka_unit_test(test_cases),
	};
	int failed = 0;
	RUN_EACH_ISA(failed, "domset", tests, g_isa);
	return failed;
}
