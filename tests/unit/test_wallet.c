/* Unit tests for Keccak-256 and the wallet address validators, over the
 * shipped OFAC address lists (tests/data/wallets) and documented examples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "cybersieve/wallet.h"
#include "match/keccak.h"

static void hex32(const uint8_t *h, char *out)
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

static void test_keccak_vectors(void **state)
{
	(void)state;
	uint8_t h[32];
	char hex[65];
	keccak_256("", 0, h);
	hex32(h, hex);
	assert_string_equal(hex, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
	keccak_256("abc", 3, h);
	hex32(h, hex);
	assert_string_equal(hex, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
}

/* With the SHA-3 padding byte the sponge must agree with libcrypto's
 * SHA3-256 on every length, including several rate-sized blocks. */
static void test_keccak_sponge_vs_sha3(void **state)
{
	(void)state;
	uint8_t msg[420], mine[32], ref[32];
	unsigned int rlen;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 131 + 7);
	for (size_t n = 0; n <= sizeof(msg); n++) {
		keccak_sponge_256(msg, n, 0x06, mine);
		assert_int_equal(EVP_Digest(msg, n, ref, &rlen, EVP_sha3_256(), NULL), 1);
		if (memcmp(mine, ref, 32) != 0)
			fail_msg("sha3-256 differs at length %zu", n);
	}
}

static bool ok(enum wallet_family f, const char *s)
{
	const char *why = NULL;
	bool r = wallet_check(f, s, strlen(s), &why);
	assert_true(r || why != NULL);
	return r;
}

static void test_documented_examples(void **state)
{
	(void)state;
	/* Bitcoin genesis P2PKH; BIP-350 Taproot (Bech32m). */
	assert_true(ok(WALLET_BTC, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"));
	assert_true(ok(WALLET_BTC, "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"));
	/* EIP-55 examples from the specification. */
	assert_true(ok(WALLET_ETH, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"));
	assert_true(ok(WALLET_ETH, "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"));
	assert_true(ok(WALLET_ETH, "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"));
	assert_true(ok(WALLET_ETH, "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"));
	assert_false(ok(WALLET_ETH, "0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed"));
	assert_true(ok(WALLET_ETH, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"));
	/* CashAddr specification example, with prefix, without, upper case. */
	assert_true(ok(WALLET_BCH, "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a"));
	assert_true(ok(WALLET_BCH, "qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a"));
	assert_true(ok(WALLET_BCH, "BITCOINCASH:QPM2QSZNHKS23Z7629MMS6S4CWEF74VCWVY22GDX6A"));
	assert_false(ok(WALLET_BCH, "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6A"));
	assert_true(ok(WALLET_BCH, "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu"));
	/* XRP genesis account; Monero project donation address. */
	assert_true(ok(WALLET_XRP, "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh"));
	assert_true(ok(WALLET_XMR, "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7S"
				   "qSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"));
	/* Right checksum, wrong family. */
	assert_false(ok(WALLET_LTC, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"));
	assert_false(ok(WALLET_TRX, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"));
}

static void test_refusals(void **state)
{
	(void)state;
	const char *why = NULL;
	assert_false(wallet_check(WALLET_BTC, "", 0, &why));
	assert_false(wallet_check(WALLET_BTC, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN0", 34, &why));
	assert_string_equal(why, "bad character");
	assert_false(wallet_check(WALLET_BTC, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", 34, &why));
	assert_string_equal(why, "bad checksum");
	assert_false(ok(WALLET_ETH, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg"));
	assert_false(ok(WALLET_ETH, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA"));
	/* Bech32 must be one case; the checksum covers the human-readable part. */
	assert_false(ok(WALLET_BTC, "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jJ0"));
	assert_false(ok(WALLET_LTC, "ltc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"));
	assert_false(ok((enum wallet_family)99, "x"));
	char big[300];
	memset(big, '1', sizeof(big));
	assert_int_equal(wallet_detect(big, sizeof(big)), 0);
	assert_false(wallet_check(WALLET_BTC, big, sizeof(big), &why));
	assert_int_equal(wallet_detect("hello", 5), 0);
}

static void test_names_and_currencies(void **state)
{
	(void)state;
	assert_string_equal(wallet_family_name(WALLET_XMR), "xmr");
	assert_string_equal(wallet_family_name((enum wallet_family)99), "?");
	for (unsigned f = 0; f < WALLET_FAMILY_COUNT; f++) {
		const char *name = wallet_family_name(f);
		assert_int_equal(wallet_currency_mask(name, strlen(name)), WALLET_MASK(f));
	}
	assert_int_equal(wallet_currency_mask("XBT", 3), WALLET_MASK(WALLET_BTC));
	assert_int_equal(wallet_currency_mask("ARB", 3), WALLET_MASK(WALLET_ETH));
	assert_int_equal(wallet_currency_mask("usdt", 4),
			 WALLET_MASK(WALLET_ETH) | WALLET_MASK(WALLET_TRX) | WALLET_MASK(WALLET_BTC));
	assert_int_equal(wallet_currency_mask("DOGE", 4), 0);
	assert_int_equal(wallet_currency_mask("", 0), 0);
}

static void test_detect(void **state)
{
	(void)state;
	const char *legacy = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa";
	assert_int_equal(wallet_detect(legacy, strlen(legacy)),
			 WALLET_MASK(WALLET_BTC) | WALLET_MASK(WALLET_BCH) | WALLET_MASK(WALLET_BSV));
	const char *eth = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";
	assert_int_equal(wallet_detect(eth, strlen(eth)), WALLET_MASK(WALLET_ETH));
	const char *cash = "qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a";
	assert_int_equal(wallet_detect(cash, strlen(cash)), WALLET_MASK(WALLET_BCH));
	const char *xrp = "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh";
	assert_int_equal(wallet_detect(xrp, strlen(xrp)), WALLET_MASK(WALLET_XRP));
}

static void norm_is(enum wallet_family f, const char *in, const char *want)
{
	char out[WALLET_MAX_LEN];
	size_t n = 0;
	assert_int_equal(wallet_normalise(f, in, strlen(in), out, sizeof(out), &n), CS_OK);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(out, want, n);
}

static void test_normalise(void **state)
{
	(void)state;
	norm_is(WALLET_ETH, "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
		"0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359");
	norm_is(WALLET_BCH, "BITCOINCASH:QPM2QSZNHKS23Z7629MMS6S4CWEF74VCWVY22GDX6A",
		"qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a");
	norm_is(WALLET_BCH, "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu", "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu");
	norm_is(WALLET_BTC, "BC1P0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQZK5JJ0",
		"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0");
	char out[8];
	size_t n;
	const char *g = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa";
	assert_int_equal(wallet_normalise(WALLET_BTC, g, strlen(g), out, sizeof(out), &n),
			 CS_ERR_LIMIT);
	assert_int_equal(wallet_normalise(WALLET_ETH, g, strlen(g), out, sizeof(out), &n),
			 CS_ERR_INVALID);
}

/* ---- the OFAC lists ---- */

static const char *const fixture_currencies[] = {
	"ARB", "BCH", "BSC", "BSV", "BTG", "DASH", "ETC", "ETH", "LTC",
	"TRX", "USDC", "USDT", "XBT", "XMR", "XRP", "XVG", "ZEC",
};

/* Lines that do not fit their file's currency (see tests/data/wallets/README.md). */
static bool known_misfit(const char *cur, const char *addr, uint32_t detected)
{
	if (strcmp(cur, "XBT") == 0 && addr[0] == 'T')
		return detected == WALLET_MASK(WALLET_TRX);
	if (strcmp(cur, "XMR") == 0 && strlen(addr) == 64)
		return detected == 0;
	return false;
}

/* The next character of the alphabet s[i] belongs to, so that a change is a
 * checksum test rather than a character-set test. */
static char mutate_char(const char *s, size_t i)
{
	static const char b58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
	static const char xrp[] = "rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz";
	static const char b32[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
	static const char dig[] = "0123456789";
	const char *alpha = b58;
	char c = s[i];
	if (s[0] == '0' && s[1] == 'x' && i >= 2) {
		/* Keep the case mix: an address turned one-case has no checksum. */
		if (c >= '0' && c <= '9')
			return dig[(c - '0' + 1) % 10];
		char base = c >= 'a' ? 'a' : 'A';
		return (char)(base + (c - base + 1) % 6);
	}
	if (s[0] == 'r')
		alpha = xrp;
	else if (strncmp(s, "bc1", 3) == 0 || strncmp(s, "ltc1", 4) == 0 || s[0] == 'q' ||
		 s[0] == 'p')
		alpha = b32;
	const char *p = strchr(alpha, c);
	if (!p)
		return c == 'z' ? 'y' : 'z';
	return alpha[(size_t)(p - alpha + 1) % strlen(alpha)];
}

static bool eth_one_case(const char *s)
{
	bool lo = false, up = false;
	for (const char *p = s + 2; *p; p++) {
		lo |= *p >= 'a' && *p <= 'f';
		up |= *p >= 'A' && *p <= 'F';
	}
	return !(lo && up);
}

static void check_mutations(const char *addr, uint32_t mask, unsigned *tried)
{
	char m[WALLET_MAX_LEN + 1];
	size_t n = strlen(addr);
	if (addr[0] == '0' && addr[1] == 'x' && eth_one_case(addr))
		return; /* no checksum to break */
	for (size_t i = 0; i < n; i++) {
		memcpy(m, addr, n + 1);
		m[i] = mutate_char(addr, i);
		for (unsigned f = 0; f < WALLET_FAMILY_COUNT; f++)
			if ((mask & WALLET_MASK(f)) && wallet_check(f, m, n, NULL))
				fail_msg("'%s' (changed at %zu from '%s') accepted as %s", m, i, addr,
					 wallet_family_name(f));
		if (wallet_detect(m, n) != 0)
			fail_msg("'%s' (changed at %zu) detected", m, i);
		(*tried)++;
	}
}

static unsigned check_fixture_file(const char *dir, const char *cur, unsigned *mutations)
{
	char path[1024], line[256];
	unsigned count = 0;
	snprintf(path, sizeof(path), "%s/sanctioned_addresses_%s.txt", dir, cur);
	FILE *fp = fopen(path, "r");
	if (!fp)
		fail_msg("cannot open %s", path);
	uint32_t mask = wallet_currency_mask(cur, strlen(cur));
	assert_int_not_equal(mask, 0);
	while (fgets(line, sizeof(line), fp)) {
		size_t n = strcspn(line, "\r\n");
		line[n] = '\0';
		if (n == 0)
			continue;
		count++;
		uint32_t det = wallet_detect(line, n);
		if (known_misfit(cur, line, det))
			continue;
		bool any = false;
		for (unsigned f = 0; f < WALLET_FAMILY_COUNT; f++) {
			if (!(mask & WALLET_MASK(f)))
				continue;
			bool v = wallet_check(f, line, n, NULL);
			assert_int_equal(v, (det & WALLET_MASK(f)) != 0);
			any |= v;
		}
		if (!any)
			fail_msg("%s: '%s' refused (detected 0x%x)", cur, line, det);
		check_mutations(line, mask, mutations);
	}
	fclose(fp);
	return count;
}

static void test_ofac_lists(void **state)
{
	(void)state;
	const char *src = getenv("CS_SOURCE_DIR");
	char dir[900];
	snprintf(dir, sizeof(dir), "%s/tests/data/wallets", src ? src : ".");
	unsigned total = 0, mutations = 0;
	for (size_t i = 0; i < sizeof(fixture_currencies) / sizeof(fixture_currencies[0]); i++)
		total += check_fixture_file(dir, fixture_currencies[i], &mutations);
	assert_int_equal(total, 654);
	assert_true(mutations > 15000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keccak_vectors),
		cmocka_unit_test(test_keccak_sponge_vs_sha3),
		cmocka_unit_test(test_documented_examples),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_names_and_currencies),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_ofac_lists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
