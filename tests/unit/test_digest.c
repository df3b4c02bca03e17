/* The SHA-256 of an input's raw bytes (src/ingest/digest.h): the same digest
 * as a one-shot SHA-256 of the bytes, whether they were hashed in the
 * caller's thread or by the helper, whatever the sizes they came in; the
 * helper starts only past DIGEST_INLINE_MAX; a stream dropped mid-way stops
 * its helper. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "ingest/digest.h"

static uint8_t *pattern_bytes(size_t n, uint32_t seed)
{
	uint8_t *p = malloc(n ? n : 1);
	assert_non_null(p);
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
	return p;
}

static void sha256_ref(const uint8_t *p, size_t n, uint8_t out[32])
{
	unsigned int len = 0;
	assert_int_equal(EVP_Digest(p, n, out, &len, EVP_sha256(), NULL), 1);
	assert_int_equal(len, 32);
}

/* Feed p[0, n) in pieces of the given sizes (cycled), then compare. */
static void feed_and_check(const uint8_t *p, size_t n, const size_t *pieces, size_t npieces,
			   int want_threaded)
{
	struct digest_stream *h = NULL;
	uint8_t got[32], want[32];

	assert_int_equal(digest_create(&h), CS_OK);
	size_t at = 0;
	for (size_t i = 0; at < n; i++) {
		size_t k = pieces[i % npieces];
		if (k > n - at)
			k = n - at;
		assert_int_equal(digest_update(h, p + at, k), CS_OK);
		at += k;
	}
	assert_int_equal(digest_final(h, got), CS_OK);
	assert_int_equal(digest_threaded(h), want_threaded);
	/* The context is spent: a second final is refused, not a digest of nothing. */
	uint8_t again[32];
	assert_int_equal(digest_final(h, again), CS_ERR_INVALID);
	digest_destroy(h);
	sha256_ref(p, n, want);
	assert_memory_equal(got, want, 32);
}

static void test_small_inline(void **state)
{
	(void)state;
	static const size_t one[] = { 1 };
	static const size_t big[] = { 1 << 20 };
	uint8_t *p = pattern_bytes(DIGEST_INLINE_MAX, 1);

	feed_and_check(p, 0, big, 1, 0);
	feed_and_check(p, 1000, one, 1, 0);
	/* Exactly the inline limit: still no helper. */
	feed_and_check(p, DIGEST_INLINE_MAX, big, 1, 0);
	free(p);
}

static void test_large_through_helper(void **state)
{
	(void)state;
	/* Past the ring several times, with pieces that straddle its end, one
	 * bigger than the whole ring, and single bytes. */
	size_t n = 3 * DIGEST_RING + DIGEST_INLINE_MAX + 12345;
	uint8_t *p = pattern_bytes(n, 2);
	static const size_t odd[] = { 1, 7, (3 << 20) + 1, 65536, 2 * DIGEST_RING + 3, 1, 999 };
	static const size_t block[] = { 1 << 20 };
	static const size_t whole[] = { SIZE_MAX };

	feed_and_check(p, n, odd, sizeof(odd) / sizeof(odd[0]), 1);
	feed_and_check(p, n, block, 1, 1);
	feed_and_check(p, n, whole, 1, 1);
	/* One byte past the inline limit starts the helper. */
	feed_and_check(p, DIGEST_INLINE_MAX + 1, block, 1, 1);
	free(p);
}

/* Dropped without a final while the helper may still be hashing: it stops
 * (AddressSanitizer reports a leaked ring or thread state). */
static void test_destroy_midway(void **state)
{
	(void)state;
	size_t n = DIGEST_INLINE_MAX + 2 * DIGEST_RING;
	uint8_t *p = pattern_bytes(n, 3);
	struct digest_stream *h = NULL;

	assert_int_equal(digest_create(&h), CS_OK);
	assert_int_equal(digest_update(h, p, n), CS_OK);
	assert_int_equal(digest_threaded(h), 1);
	digest_destroy(h);
	digest_destroy(NULL);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_inline),
		cmocka_unit_test(test_large_through_helper),
		cmocka_unit_test(test_destroy_midway),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
