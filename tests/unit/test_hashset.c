/* Unit tests for the fixed-width key set: insert, find, duplicates, growth
 * across many keys, keys that share their first bytes, bad arguments, and
 * the filter in front (never turns a key away, before or after growth). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "match/hashset.h"

static void key_of(uint32_t i, uint8_t *k, unsigned width)
{
	/* Deterministic, spread keys: an LCG stream seeded by i. */
	uint64_t x = i * 0x9e3779b97f4a7c15ULL + 1;
	for (unsigned b = 0; b < width; b++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		k[b] = (uint8_t)(x >> 56);
	}
}

static void test_put_get(void **state)
{
	(void)state;
	struct hashset s;
	hashset_init(&s, 16);
	uint8_t k[32], other[32];
	key_of(1, k, 16);
	key_of(2, other, 16);
	uint32_t v = 0;
	assert_false(hashset_get(&s, k, &v));
	bool dup = true;
	assert_int_equal(hashset_put(&s, k, 7, &dup, NULL), CS_OK);
	assert_false(dup);
	assert_true(hashset_get(&s, k, &v));
	assert_int_equal(v, 7);
	assert_false(hashset_get(&s, other, NULL));
	uint32_t prev = 0;
	assert_int_equal(hashset_put(&s, k, 9, &dup, &prev), CS_OK);
	assert_true(dup);
	assert_int_equal(prev, 7);
	assert_true(hashset_get(&s, k, &v));
	assert_int_equal(v, 7); /* the first value stays */
	assert_int_equal(s.n, 1);
	assert_int_equal(hashset_put(&s, other, UINT32_MAX, NULL, NULL), CS_ERR_INVALID);
	hashset_fini(&s);
	assert_false(hashset_get(&s, k, NULL));
}

static void test_many(void **state)
{
	(void)state;
	static const unsigned widths[3] = {16, 20, 32};
	for (int w = 0; w < 3; w++) {
		struct hashset s;
		hashset_init(&s, widths[w]);
		const uint32_t n = 200000;
		uint8_t k[32];
		for (uint32_t i = 0; i < n; i++) {
			key_of(i, k, widths[w]);
			assert_int_equal(hashset_put(&s, k, i, NULL, NULL), CS_OK);
		}
		assert_int_equal(s.n, n);
		assert_true(s.n * 4 <= s.cap * 3);
		assert_int_equal(hashset_bytes(&s), s.cap * (widths[w] + 4));
		for (uint32_t i = 0; i < n; i++) {
			uint32_t v;
			key_of(i, k, widths[w]);
			assert_true(hashset_get(&s, k, &v));
			assert_int_equal(v, i);
		}
		for (uint32_t i = n; i < n + 1000; i++) {
			key_of(i, k, widths[w]);
			assert_false(hashset_get(&s, k, NULL));
		}
		hashset_fini(&s);
	}
}

/* Keys equal in their first 8 bytes collide in the hash: probing must
 * still tell them apart by the whole key. */
static void test_same_prefix(void **state)
{
	(void)state;
	struct hashset s;
	hashset_init(&s, 20);
	uint8_t k[20];
	memset(k, 0xab, sizeof(k));
	for (uint32_t i = 0; i < 300; i++) {
		k[19] = (uint8_t)i;
		k[18] = (uint8_t)(i >> 8);
		assert_int_equal(hashset_put(&s, k, i, NULL, NULL), CS_OK);
	}
	for (uint32_t i = 0; i < 300; i++) {
		uint32_t v;
		k[19] = (uint8_t)i;
		k[18] = (uint8_t)(i >> 8);
		assert_true(hashset_get(&s, k, &v));
		assert_int_equal(v, i);
	}
	k[18] = 0x7f;
	assert_false(hashset_get(&s, k, NULL));
	hashset_fini(&s);
}

/* The filter passes every key held, those put after it was built (through
 * the table's growth too), and turns away nearly all others. */
static void test_filter(void **state)
{
	(void)state;
	struct hashset s;
	hashset_init(&s, 16);
	uint8_t k[16];
	assert_true(hashset_maybe(&s, k)); /* no filter yet: says nothing */
	const uint32_t n = 50000;
	for (uint32_t i = 0; i < n; i++) {
		key_of(i, k, 16);
		assert_int_equal(hashset_put(&s, k, i, NULL, NULL), CS_OK);
	}
	assert_int_equal(hashset_index(&s), CS_OK);
	size_t cap = s.cap;
	assert_true(hashset_bytes(&s) > cap * 20);
	for (uint32_t i = n; i < 3 * n; i++) { /* puts after: the table grows */
		key_of(i, k, 16);
		assert_int_equal(hashset_put(&s, k, i, NULL, NULL), CS_OK);
	}
	assert_true(s.cap > cap);
	for (uint32_t i = 0; i < 3 * n; i++) {
		key_of(i, k, 16);
		assert_true(hashset_maybe(&s, k));
	}
	uint32_t passed = 0;
	for (uint32_t i = 3 * n; i < 3 * n + 100000; i++) {
		key_of(i, k, 16);
		passed += hashset_maybe(&s, k);
		assert_false(hashset_get(&s, k, NULL));
	}
	/* 16 bits a key at the first build, three times the keys after. */
	assert_true(passed < 100000 / 10);
	assert_int_equal(hashset_index(&s), CS_OK); /* rebuilt at the new size */
	passed = 0;
	for (uint32_t i = 3 * n; i < 3 * n + 100000; i++) {
		key_of(i, k, 16);
		passed += hashset_maybe(&s, k);
	}
	assert_true(passed < 100000 / 50);
	hashset_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_same_prefix),
		cmocka_unit_test(test_filter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
