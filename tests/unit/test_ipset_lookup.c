/* ipset_lookup against a plain reading of longest-prefix match: sets of
 * IPv4 prefixes of every length 0-32 (the lengths around the /20 blocks of
 * the set's first check above all), asked for addresses at the edges of
 * each listed prefix and of its /20 block, and for random ones. Then IPv6
 * beside IPv4 in one set. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "match/ipset.h"

#define N_PFX 48

struct pfx {
	uint32_t base;
	unsigned plen;
};

static uint32_t rng(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (uint32_t)(*x >> 16);
}

static uint32_t mask(unsigned plen)
{
	return plen ? ~0u << (32 - plen) : 0;
}

/* The indicator of the longest listed prefix holding a, or -1. */
static int plain_lookup(const struct pfx *p, size_t n, uint32_t a)
{
	int best = -1;
	for (size_t i = 0; i < n; i++)
		if ((a & mask(p[i].plen)) == p[i].base && (best < 0 || p[i].plen > p[best].plen))
			best = (int)i;
	return best;
}

static void check(const struct ipset *s, const struct pfx *p, size_t n, uint32_t a)
{
	uint8_t b[4] = {(uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8), (uint8_t)a};
	size_t first = 0, got = ipset_lookup(s, false, b, &first);
	int want = plain_lookup(p, n, a);
	if (want < 0) {
		if (got != 0)
			fail_msg("%u.%u.%u.%u: found %u, none listed", b[0], b[1], b[2], b[3],
				 s->e[first].ind);
		return;
	}
	if (got != 1 || s->e[first].ind != (uint32_t)want)
		fail_msg("%u.%u.%u.%u: want /%u of %d, got %zu entries (first %u)", b[0], b[1],
			 b[2], b[3], p[want].plen, want, got, got ? s->e[first].ind : 0);
}

static void add(struct ipset *s, struct pfx *p, size_t i)
{
	char v[40];
	uint32_t a = p[i].base;
	snprintf(v, sizeof(v), "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
		 a & 255, p[i].plen);
	assert_int_equal(ipset_add(s, v, (uint32_t)i), CS_OK);
}

static void test_lengths_around_blocks(void **state)
{
	(void)state;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int round = 0; round < 60; round++) {
		struct pfx p[N_PFX];
		size_t n = 0;
		struct ipset s;
		ipset_init(&s);
		/* Lengths 16-24 mostly, some short ones (0 in a few rounds), in a
		 * few /8s so that prefixes nest. */
		while (n < N_PFX) {
			unsigned plen = 16 + rng(&x) % 9;
			if (rng(&x) % 8 == 0)
				plen = rng(&x) % 33;
			if (plen == 0 && round % 10)
				continue;
			uint32_t a = (10u + rng(&x) % 3) << 24 | (rng(&x) & 0x00ffffffu);
			a &= mask(plen);
			bool dup = false;
			for (size_t i = 0; i < n; i++)
				dup |= p[i].base == a && p[i].plen == plen;
			if (dup)
				continue;
			p[n] = (struct pfx){a, plen};
			add(&s, p, n);
			n++;
		}
		ipset_seal(&s);
		assert_int_equal(ipset_index(&s), CS_OK);
		for (size_t i = 0; i < n; i++) {
			uint32_t lo = p[i].base, hi = p[i].base | ~mask(p[i].plen);
			uint32_t blk = lo & mask(IPSET_V4_BLOCK_BITS);
			uint32_t fine = lo & mask(IPSET_V4_FINE_BITS);
			uint32_t edge[] = {lo, hi, lo - 1, hi + 1, blk, blk - 1,
					   blk | ~mask(IPSET_V4_BLOCK_BITS),
					   (blk | ~mask(IPSET_V4_BLOCK_BITS)) + 1,
					   fine - 1, (hi | ~mask(IPSET_V4_FINE_BITS)) + 1};
			for (size_t k = 0; k < sizeof(edge) / sizeof(edge[0]); k++)
				check(&s, p, n, edge[k]);
		}
		for (int k = 0; k < 3000; k++) {
			uint32_t a = rng(&x) << 8 ^ rng(&x);
			if (k % 2)
				a = (10u + rng(&x) % 3) << 24 | (a & 0x00ffffffu);
			check(&s, p, n, a);
		}
		ipset_fini(&s);
	}
}

/* The block checks in front of the lookup: an address whose /20 block holds
 * a listed entry but whose /24 block holds none is turned away by the
 * second; one in a listed /24 passes both; a /16 marks all its blocks. */
static void test_v4_blocks(void **state)
{
	(void)state;
	struct ipset s;
	ipset_init(&s);
	assert_int_equal(ipset_add(&s, "198.51.100.7", 0), CS_OK);
	assert_int_equal(ipset_add(&s, "203.0.0.0/16", 1), CS_OK);
	ipset_seal(&s);
	assert_int_equal(ipset_index(&s), CS_OK);
	static const struct {
		uint8_t a[4];
		bool sift, maybe;
	} c[] = {
		{{198, 51, 100, 7}, true, true},   {{198, 51, 100, 200}, true, true},
		{{198, 51, 101, 7}, true, false},  {{198, 51, 111, 7}, true, false},
		{{198, 51, 112, 7}, false, false}, {{203, 0, 0, 1}, true, true},
		{{203, 0, 255, 255}, true, true},  {{203, 1, 0, 0}, false, false},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		assert_int_equal(ipset_v4_sift(&s, c[i].a), c[i].sift);
		assert_int_equal(ipset_v4_maybe(&s, c[i].a), c[i].maybe);
	}
	ipset_fini(&s);
}

static void test_families_apart(void **state)
{
	(void)state;
	struct ipset s;
	ipset_init(&s);
	assert_int_equal(ipset_add(&s, "2001:db8::/32", 0), CS_OK);
	assert_int_equal(ipset_add(&s, "32.1.13.184", 1), CS_OK); /* 0x20010db8 */
	assert_int_equal(ipset_add(&s, "::/0", 2), CS_OK);
	ipset_seal(&s);
	assert_int_equal(ipset_index(&s), CS_OK);
	uint8_t a6[16], a4[4];
	size_t first = 0;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::5", a6), 1);
	assert_int_equal(ipset_lookup(&s, true, a6, &first), 1);
	assert_int_equal(s.e[first].ind, 0);
	assert_int_equal(inet_pton(AF_INET6, "2001:db9::5", a6), 1);
	assert_int_equal(ipset_lookup(&s, true, a6, &first), 1);
	assert_int_equal(s.e[first].ind, 2);
	assert_int_equal(inet_pton(AF_INET, "32.1.13.184", a4), 1);
	assert_int_equal(ipset_lookup(&s, false, a4, &first), 1);
	assert_int_equal(s.e[first].ind, 1);
	/* ::/0 holds no IPv4 address, and the IPv4 entry's /20 is no IPv6 one. */
	assert_int_equal(inet_pton(AF_INET, "32.1.13.185", a4), 1);
	assert_int_equal(ipset_lookup(&s, false, a4, &first), 0);
	ipset_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lengths_around_blocks),
		cmocka_unit_test(test_v4_blocks),
		cmocka_unit_test(test_families_apart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
