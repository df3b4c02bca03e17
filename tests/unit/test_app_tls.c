/* TLS ClientHello SNI and ALPN: a real hello fed in every piece size and
 * re-framed into many small records, hand-made hellos for the edge cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cybersieve/app.h"
#include "pkt_build.h"

static uint8_t *load(const char *rel, size_t *n)
{
	char path[4096];
	const char *root = getenv("CS_SOURCE_DIR");

	snprintf(path, sizeof(path), "%s/tests/data/app/%s", root ? root : ".", rel);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	uint8_t *b = malloc(1 << 16);
	*n = fread(b, 1, 1 << 16, f);
	fclose(f);
	return b;
}

static void expect_cloudflare(const struct app_tls *t)
{
	size_t len;
	const char *sni = app_tls_sni(t, &len);

	assert_non_null(sni);
	assert_string_equal(sni, "www.cloudflare.com");
	assert_int_equal(len, 18);
	const char *alpn = app_tls_alpn(t, &len);
	assert_non_null(alpn);
	assert_string_equal(alpn, "h2,http/1.1");
}

static void test_real_hello_pieces(void **state)
{
	(void)state;
	size_t n;
	uint8_t *b = load("tls-alpn-h2.c2s", &n);

	for (size_t piece = 1; piece <= n; piece++) {
		struct app_tls t;
		struct app_tls_stats st = { 0 };
		enum app_tls_status s = APP_TLS_MORE;

		app_tls_init(&t);
		for (size_t off = 0; off < n && s == APP_TLS_MORE; off += piece) {
			size_t k = n - off < piece ? n - off : piece;
			s = app_tls_feed(&t, b + off, k, &st);
		}
		assert_int_equal(s, APP_TLS_DONE);
		expect_cloudflare(&t);
		assert_int_equal(st.hellos, 1);
		assert_int_equal(st.sni, 1);
		/* further bytes change nothing */
		assert_int_equal(app_tls_feed(&t, b, n, &st), APP_TLS_DONE);
	}
	free(b);
}

/* Wrap handshake bytes into records of at most `rec` bytes each. */
static size_t reframe(const uint8_t *hs, size_t n, size_t rec, uint8_t *out)
{
	size_t o = 0;

	for (size_t off = 0; off < n; off += rec) {
		size_t k = n - off < rec ? n - off : rec;

		out[o++] = 22; out[o++] = 3; out[o++] = 1;
		out[o++] = (uint8_t)(k >> 8); out[o++] = (uint8_t)k;
		memcpy(out + o, hs + off, k);
		o += k;
	}
	return o;
}

static void test_real_hello_records(void **state)
{
	(void)state;
	size_t n;
	uint8_t *b = load("tls-alpn-h2.c2s", &n);
	size_t rlen = (size_t)((b[3] << 8) | b[4]);
	uint8_t *out = malloc(rlen * 6 + 64);

	assert_true(rlen + 5 <= n);
	for (size_t rec = 1; rec <= rlen; rec++) {
		size_t on = reframe(b + 5, rlen, rec, out);

		for (size_t piece = 1; piece <= 7; piece += 3) {
			struct app_tls t;
			enum app_tls_status s = APP_TLS_MORE;

			app_tls_init(&t);
			for (size_t off = 0; off < on && s == APP_TLS_MORE; off += piece) {
				size_t k = on - off < piece ? on - off : piece;
				s = app_tls_feed(&t, out + off, k, NULL);
			}
			assert_int_equal(s, APP_TLS_DONE);
			expect_cloudflare(&t);
		}
	}
	free(out);
	free(b);
}

static enum app_tls_status run(const uint8_t *p, size_t n, struct app_tls *t,
			       struct app_tls_stats *st)
{
	app_tls_init(t);
	return app_tls_feed(t, p, n, st);
}

static void test_handmade(void **state)
{
	(void)state;
	uint8_t rec[4096];
	struct app_tls t;
	struct app_tls_stats st = { 0 };
	size_t n;

	/* no extensions at all */
	n = pb_tls_hello(rec, NULL, 0);
	assert_int_equal(run(rec, n, &t, &st), APP_TLS_DONE);
	assert_null(app_tls_sni(&t, NULL));
	assert_null(app_tls_alpn(&t, NULL));

	/* a skipped extension, then SNI with upper case and a trailing dot */
	static const uint8_t ext1[] = {
		0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,              /* ec_point_formats */
		0x00, 0x00, 0x00, 0x0e, 0x00, 0x0c, 0x00, 0x00, 0x09,
		'E', 'x', 'a', 'm', 'p', 'l', 'e', '.', '.',
	};
	n = pb_tls_hello(rec, ext1, sizeof(ext1));
	assert_int_equal(run(rec, n, &t, &st), APP_TLS_DONE);
	assert_string_equal(app_tls_sni(&t, NULL), "example");

	/* SNI with a space is refused and counted */
	static const uint8_t ext2[] = {
		0x00, 0x00, 0x00, 0x08, 0x00, 0x06, 0x00, 0x00, 0x03, 'a', ' ', 'b',
	};
	uint64_t bad = st.bad_sni;
	n = pb_tls_hello(rec, ext2, sizeof(ext2));
	assert_int_equal(run(rec, n, &t, &st), APP_TLS_DONE);
	assert_null(app_tls_sni(&t, NULL));
	assert_int_equal(st.bad_sni, bad + 1);

	/* extension length running past the block */
	static const uint8_t ext3[] = { 0x00, 0x00, 0x00, 0x40, 0x00, 0x00 };
	n = pb_tls_hello(rec, ext3, sizeof(ext3));
	assert_int_equal(run(rec, n, &t, &st), APP_TLS_GAVE_UP);
	assert_true(st.malformed >= 1);

	/* not TLS: decided on the first byte */
	assert_int_equal(run((const uint8_t *)"GET / HTTP/1.1\r\n", 16, &t, &st), APP_TLS_NOT_TLS);
	assert_int_equal(run((const uint8_t *)"\x16\x01\x00", 3, &t, &st), APP_TLS_MORE);
	assert_int_equal(app_tls_feed(&t, (const uint8_t *)"\x10\x00", 2, &st), APP_TLS_NOT_TLS);

	/* a ServerHello is TLS but not a ClientHello */
	n = pb_tls_hello(rec, NULL, 0);
	rec[5] = 2;
	assert_int_equal(run(rec, n, &t, &st), APP_TLS_NOT_HELLO);
	assert_int_equal(st.not_hello, 1);

	/* a hello declared over the cap */
	static const uint8_t big[] = { 22, 3, 1, 0x40, 0x00, 1, 0x00, 0x50, 0x00 };
	assert_int_equal(run(big, sizeof(big), &t, &st), APP_TLS_GAVE_UP);
	assert_int_equal(st.too_big, 1);

	/* an alert record after the first handshake record */
	n = pb_tls_hello(rec, ext1, sizeof(ext1));
	app_tls_init(&t);
	assert_int_equal(app_tls_feed(&t, rec, 20, &st), APP_TLS_MORE);
	app_tls_gap(&t, 10, &st);
	assert_int_equal(app_tls_feed(&t, rec + 30, n - 30, &st), APP_TLS_GAVE_UP);
	assert_int_equal(st.gaps, 1);

	/* a record header that is not handshake in the middle of the hello */
	uint8_t split[4096];
	size_t hs = n - 5;
	size_t o = reframe(rec + 5, hs, 20, split);
	split[25] = 21; /* second record becomes an alert */
	assert_int_equal(run(split, o, &t, &st), APP_TLS_GAVE_UP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_hello_pieces),
		cmocka_unit_test(test_real_hello_records),
		cmocka_unit_test(test_handmade),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
