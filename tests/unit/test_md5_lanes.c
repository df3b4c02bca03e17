/* MD5 lanes against libcrypto's MD5: many messages at once, of every length
 * around the block and slot sizes, fed in pieces of random sizes in an
 * interleaved order; slots run out and come back; a dropped message leaves
 * the others right. On a CPU without AVX-512 the set cannot be made, and
 * the test says so and checks only that refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "flow/md5_lanes.h"

#define N_MSG 300
#define MAX_LEN 40000

static uint64_t rng(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void md5_ref(const uint8_t *p, size_t n, uint8_t out[16])
{
	unsigned len = 0;
	assert_int_equal(EVP_Digest(p, n, out, &len, EVP_md5(), NULL), 1);
	assert_int_equal(len, 16);
}

static char *hex(const uint8_t d[16], char out[33])
{
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	return out;
}

static struct md5_lanes *make(void)
{
	struct md5_lanes *ml = NULL;
	enum cs_err e = md5_lanes_create(&ml);
	if (!md5_lanes_supported()) {
		assert_int_equal(e, CS_ERR_UNSUPPORTED);
		assert_null(ml);
		print_message("no AVX-512 here: only the refusal is checked\n");
		return NULL;
	}
	assert_int_equal(e, CS_OK);
	return ml;
}

/* The RFC 1321 test suite's messages, each given whole. */
static void test_rfc_vectors(void **state)
{
	(void)state;
	struct md5_lanes *ml = make();
	if (!ml)
		return;
	static const char *const msg[] = {
		"", "a", "abc", "message digest", "abcdefghijklmnopqrstuvwxyz",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
		"1234567890123456789012345678901234567890123456789012345678901234567890123456789"
		"0"};
	static const char *const want[] = {
		"d41d8cd98f00b204e9800998ecf8427e", "0cc175b9c0f1b6a831c399e269772661",
		"900150983cd24fb0d6963f7d28e17f72", "f96b697d7cb7938d525a2f31aaf161d0",
		"c3fcd3d76192e4007dfb496cca67e13b", "d174ab98d277d9f5a5611c2c9f419d9f",
		"57edf4a22be3c955ac49da2e2107b67a"};
	for (size_t i = 0; i < sizeof(msg) / sizeof(msg[0]); i++) {
		int s = md5_lanes_open(ml);
		assert_true(s >= 0);
		md5_lanes_update(ml, s, (const uint8_t *)msg[i], strlen(msg[i]));
		uint8_t d[16];
		char h[33];
		md5_lanes_final(ml, s, d);
		assert_string_equal(hex(d, h), want[i]);
	}
	md5_lanes_destroy(ml);
}

struct msg {
	uint8_t *p;
	size_t n, given;
	int slot;
	bool dropped;
};

/* N_MSG messages, up to MD5_LANES_SLOTS open at once (more are refused a
 * slot), fed a random piece of a random open one at a time; one in ten is
 * dropped before its end. Every finished one must equal libcrypto's. */
static void test_interleaved(void **state)
{
	(void)state;
	struct md5_lanes *ml = make();
	if (!ml)
		return;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	struct msg *m = calloc(N_MSG, sizeof(*m));
	assert_non_null(m);
	for (size_t i = 0; i < N_MSG; i++) {
		/* lengths around blocks and the slot size, and longer ones */
		size_t n = i < 140 ? i : i < 200 ? MD5_LANES_SLOT_BYTES - 70 + (i - 140) * 2
					: rng(&x) % MAX_LEN;
		m[i].p = malloc(n ? n : 1);
		assert_non_null(m[i].p);
		for (size_t k = 0; k < n; k++)
			m[i].p[k] = (uint8_t)rng(&x);
		m[i].n = n;
		m[i].slot = -1;
		m[i].dropped = rng(&x) % 10 == 0;
	}
	size_t next = 0, done = 0, refused = 0, checked = 0;
	size_t live[N_MSG], nlive = 0;
	while (done < N_MSG) {
		/* open messages while slots last */
		while (next < N_MSG && nlive < MD5_LANES_SLOTS + 4) {
			m[next].slot = md5_lanes_open(ml);
			if (m[next].slot < 0) {
				assert_int_equal(nlive, MD5_LANES_SLOTS); /* refused only when full */
				refused++;
				break;
			}
			live[nlive++] = next++;
		}
		size_t pick = rng(&x) % nlive, i = live[pick];
		size_t left = m[i].n - m[i].given;
		size_t piece = left ? 1 + rng(&x) % (left < 700 ? left : 700) : 0;
		md5_lanes_update(ml, m[i].slot, m[i].p + m[i].given, piece);
		m[i].given += piece;
		if (m[i].given == m[i].n && (m[i].dropped || rng(&x) % 3 == 0)) {
			if (m[i].dropped) {
				md5_lanes_close(ml, m[i].slot);
			} else {
				uint8_t got[16], want[16];
				char a[33], b[33];
				md5_lanes_final(ml, m[i].slot, got);
				md5_ref(m[i].p, m[i].n, want);
				if (memcmp(got, want, 16) != 0)
					fail_msg("message %zu (%zu bytes): %s, want %s", i, m[i].n,
						 hex(got, a), hex(want, b));
				checked++;
			}
			live[pick] = live[--nlive];
			done++;
		}
		if (next == N_MSG && nlive == 0)
			break;
	}
	assert_int_equal(done, N_MSG);
	assert_true(refused > 0);       /* the slots did run out */
	assert_true(checked > N_MSG / 2);
	/* both ways were taken: sixteen lanes, and a slot alone */
	uint64_t steps = 0, alone = 0;
	md5_lanes_counts(ml, &steps, &alone);
	assert_true(steps > 0);
	assert_true(alone > 0);
	/* every slot is free again */
	int slots[MD5_LANES_SLOTS];
	for (int k = 0; k < MD5_LANES_SLOTS; k++)
		assert_true((slots[k] = md5_lanes_open(ml)) >= 0);
	assert_int_equal(md5_lanes_open(ml), -1);
	for (int k = 0; k < MD5_LANES_SLOTS; k++)
		md5_lanes_close(ml, slots[k]);
	for (size_t i = 0; i < N_MSG; i++)
		free(m[i].p);
	free(m);
	md5_lanes_destroy(ml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_vectors),
		cmocka_unit_test(test_interleaved),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
