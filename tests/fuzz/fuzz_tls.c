/* Fuzz target: the streaming TLS ClientHello reader (app_tls). The input is
 * fed twice: whole, and in pieces of sizes taken from the input, and both
 * runs must agree (the reader claims any split gives the same result). */
#include <string.h>

#include "cybersieve/app.h"
#include "fuzz.h"

static enum app_tls_status run(struct app_tls *t, const uint8_t *data, size_t size, bool split)
{
	struct app_tls_stats st;
	memset(&st, 0, sizeof st);
	app_tls_init(t);
	enum app_tls_status s = APP_TLS_MORE;
	size_t off = 0;
	unsigned step = 0;
	while (off < size && s == APP_TLS_MORE) {
		size_t piece = split ? 1 + data[(step * 31u) % size] % 23u : size;
		if (piece > size - off)
			piece = size - off;
		s = app_tls_feed(t, data + off, piece, &st);
		off += piece;
		step++;
	}
	if (s == APP_TLS_DONE) {
		size_t len = 0;
		const char *sni = app_tls_sni(t, &len);
		if (sni)
			FUZZ_CHECK(strlen(sni) == len && len <= APP_NAME_MAX);
		const char *alpn = app_tls_alpn(t, &len);
		if (alpn)
			FUZZ_CHECK(strlen(alpn) == len && len < APP_TLS_ALPN_RAW);
	}
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct app_tls whole, split;
	enum app_tls_status a = run(&whole, data, size, false);
	enum app_tls_status b = run(&split, data, size, true);
	FUZZ_CHECK(a == b);
	if (a == APP_TLS_DONE) {
		size_t la = 0, lb = 0;
		const char *sa = app_tls_sni(&whole, &la);
		const char *sb = app_tls_sni(&split, &lb);
		FUZZ_CHECK((sa == NULL) == (sb == NULL));
		if (sa)
			FUZZ_CHECK(la == lb && memcmp(sa, sb, la) == 0);
		sa = app_tls_alpn(&whole, &la);
		sb = app_tls_alpn(&split, &lb);
		FUZZ_CHECK((sa == NULL) == (sb == NULL));
		if (sa)
			FUZZ_CHECK(la == lb && memcmp(sa, sb, la) == 0);
	}
	return 0;
}
