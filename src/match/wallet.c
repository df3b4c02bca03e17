/* Wallet address validators: Base58Check (several alphabets and version
 * bytes), Bech32/Bech32m SegWit, CashAddr, EIP-55 and Monero base58.
 * A candidate token from the scanner counts as an address only when its
 * checksum holds, so random base58-looking text does not match. Pure
 * functions over the caller's bytes; no allocation, thread-safe. */
#include "cybersieve/wallet.h"

#include <string.h>

#include <openssl/sha.h>

#include "match/keccak.h"

static const char b58_btc_alpha[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
static const char b58_xrp_alpha[] = "rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz";
static const char bech32_charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

#define WALLET_WHY(msg) (*why = (msg), false)
#define B58_MAX_BYTES 32      /* every Base58Check address here decodes to <= 26 */
#define B58_MAX_CHARS 48
#define BECH32_MAX_LEN 90
#define BECH32M_CONST 0x2bc830a3u
#define CASHADDR_PREFIX "bitcoincash"
#define XMR_MAX_BYTES 80

/* One Base58Check address kind: family, alphabet, version prefix. */
struct b58_kind {
	enum wallet_family family;
	const char *alpha;
	uint8_t ver_len;   /* 1 or 2 version bytes */
	uint16_t ver;
	uint8_t total_len; /* version + hash + 4 checksum bytes */
};

static const struct b58_kind b58_kinds[] = {
	{ WALLET_BTC, b58_btc_alpha, 1, 0x00, 25 },  { WALLET_BTC, b58_btc_alpha, 1, 0x05, 25 },
	{ WALLET_BCH, b58_btc_alpha, 1, 0x00, 25 },  { WALLET_BCH, b58_btc_alpha, 1, 0x05, 25 },
	{ WALLET_BSV, b58_btc_alpha, 1, 0x00, 25 },  { WALLET_BSV, b58_btc_alpha, 1, 0x05, 25 },
	{ WALLET_BTG, b58_btc_alpha, 1, 0x26, 25 },  { WALLET_BTG, b58_btc_alpha, 1, 0x17, 25 },
	{ WALLET_LTC, b58_btc_alpha, 1, 0x30, 25 },  { WALLET_LTC, b58_btc_alpha, 1, 0x32, 25 },
	{ WALLET_LTC, b58_btc_alpha, 1, 0x05, 25 },  { WALLET_DASH, b58_btc_alpha, 1, 0x4c, 25 },
	{ WALLET_DASH, b58_btc_alpha, 1, 0x10, 25 }, { WALLET_ZEC, b58_btc_alpha, 2, 0x1cb8, 26 },
	{ WALLET_ZEC, b58_btc_alpha, 2, 0x1cbd, 26 }, { WALLET_XVG, b58_btc_alpha, 1, 0x1e, 25 },
	{ WALLET_XVG, b58_btc_alpha, 1, 0x21, 25 },  { WALLET_TRX, b58_btc_alpha, 1, 0x41, 25 },
	{ WALLET_XRP, b58_xrp_alpha, 1, 0x00, 25 },
};
#define B58_KIND_COUNT (sizeof(b58_kinds) / sizeof(b58_kinds[0]))

static const char *const wallet_names[WALLET_FAMILY_COUNT] = {
	[WALLET_BTC] = "btc", [WALLET_BCH] = "bch", [WALLET_BSV] = "bsv", [WALLET_BTG] = "btg",
	[WALLET_LTC] = "ltc", [WALLET_DASH] = "dash", [WALLET_ZEC] = "zec", [WALLET_XVG] = "xvg",
	[WALLET_ETH] = "eth", [WALLET_TRX] = "trx", [WALLET_XRP] = "xrp", [WALLET_XMR] = "xmr",
};

/* Segwit human-readable parts per family; NULL where the family has none. */
static const char *wallet_segwit_hrp(enum wallet_family f)
{
	switch (f) {
	case WALLET_BTC: return "bc";
	case WALLET_LTC: return "ltc";
	case WALLET_BTG: return "btg";
	default: return NULL;
	}
}

static int alpha_index(const char *alpha, char c)
{
	const char *p = c ? strchr(alpha, c) : NULL;
	return p ? (int)(p - alpha) : -1;
}

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* ---- Base58Check ---- */

/* Decode into out (big-endian, leading zero bytes for leading alpha[0]). */
static bool b58_decode(const char *alpha, const char *s, size_t n, uint8_t *out, size_t *out_len,
		       const char **why)
{
	uint8_t num[B58_MAX_BYTES] = { 0 };
	size_t zeros = 0;
	if (n == 0 || n > B58_MAX_CHARS)
		return WALLET_WHY("bad length");
	while (zeros < n && s[zeros] == alpha[0])
		zeros++;
	for (size_t i = zeros; i < n; i++) {
		int v = alpha_index(alpha, s[i]);
		if (v < 0)
			return WALLET_WHY("bad character");
		unsigned carry = (unsigned)v;
		for (size_t j = B58_MAX_BYTES; j-- > 0;) {
			carry += 58u * num[j];
			num[j] = (uint8_t)carry;
			carry >>= 8;
		}
		if (carry)
			return WALLET_WHY("bad length");
	}
	size_t first = 0;
	while (first < B58_MAX_BYTES && num[first] == 0)
		first++;
	size_t len = zeros + (B58_MAX_BYTES - first);
	if (len > B58_MAX_BYTES)
		return WALLET_WHY("bad length");
	memset(out, 0, zeros);
	memcpy(out + zeros, num + first, B58_MAX_BYTES - first);
	*out_len = len;
	return true;
}

static bool b58_checksum_ok(const uint8_t *buf, size_t len)
{
	uint8_t h1[SHA256_DIGEST_LENGTH], h2[SHA256_DIGEST_LENGTH];
	SHA256(buf, len - 4, h1);
	SHA256(h1, sizeof(h1), h2);
	return memcmp(h2, buf + len - 4, 4) == 0;
}

static bool b58_kind_matches(const struct b58_kind *k, const uint8_t *buf, size_t len)
{
	if (len != k->total_len)
		return false;
	uint16_t ver = k->ver_len == 2 ? (uint16_t)(buf[0] << 8 | buf[1]) : buf[0];
	return ver == k->ver;
}

/* Families (mask) among those in `want` that the Base58Check string fits. */
static uint32_t b58check_families(const char *alpha, uint32_t want, const char *s, size_t n,
				  const char **why)
{
	uint8_t buf[B58_MAX_BYTES];
	size_t len;
	uint32_t fit = 0;
	if (!b58_decode(alpha, s, n, buf, &len, why))
		return 0;
	for (size_t i = 0; i < B58_KIND_COUNT; i++) {
		const struct b58_kind *k = &b58_kinds[i];
		if (k->alpha == alpha && (want & WALLET_MASK(k->family)) && b58_kind_matches(k, buf, len))
			fit |= WALLET_MASK(k->family);
	}
	if (!fit) {
		*why = "bad version or length";
		return 0;
	}
	if (!b58_checksum_ok(buf, len)) {
		*why = "bad checksum";
		return 0;
	}
	return fit;
}

/* ---- Bech32 / Bech32m (BIP-173, BIP-350) and CashAddr ---- */

static uint32_t bech32_step(uint32_t chk, unsigned v)
{
	static const uint32_t gen[5] = { 0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3 };
	uint32_t top = chk >> 25;
	chk = ((chk & 0x1ffffff) << 5) ^ v;
	for (unsigned i = 0; i < 5; i++)
		if ((top >> i) & 1)
			chk ^= gen[i];
	return chk;
}

/* Map data characters to 5-bit values; the whole string must be one case. */
static bool bech32_values(const char *s, size_t n, uint8_t *vals, const char **why)
{
	for (size_t i = 0; i < n; i++) {
		int v = alpha_index(bech32_charset, ascii_lower(s[i]));
		if (v < 0)
			return WALLET_WHY("bad character");
		vals[i] = (uint8_t)v;
	}
	return true;
}

static bool mixed_case(const char *s, size_t n)
{
	bool lo = false, up = false;
	for (size_t i = 0; i < n; i++) {
		lo |= s[i] >= 'a' && s[i] <= 'z';
		up |= s[i] >= 'A' && s[i] <= 'Z';
	}
	return lo && up;
}

/* Regroup 5-bit values as bytes; leftover bits must be fewer than 5 and zero. */
static bool bits5_to_bytes(const uint8_t *v, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 5) | v[i];
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (len == cap)
				return false;
			out[len++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits >= 5 || (acc & ((1u << bits) - 1)))
		return false;
	*out_len = len;
	return true;
}

static bool segwit_check(const char *hrp, const char *s, size_t n, const char **why)
{
	size_t hlen = strlen(hrp);
	uint8_t vals[BECH32_MAX_LEN], prog[64];
	size_t plen;
	if (n > BECH32_MAX_LEN || n < hlen + 1 + 7)
		return WALLET_WHY("bad length");
	if (mixed_case(s, n))
		return WALLET_WHY("mixed case");
	for (size_t i = 0; i < hlen; i++)
		if (ascii_lower(s[i]) != hrp[i])
			return WALLET_WHY("bad prefix");
	if (s[hlen] != '1')
		return WALLET_WHY("bad prefix");
	size_t dlen = n - hlen - 1;
	if (!bech32_values(s + hlen + 1, dlen, vals, why))
		return false;
	uint32_t chk = 1;
	for (size_t i = 0; i < hlen; i++)
		chk = bech32_step(chk, (unsigned char)hrp[i] >> 5);
	chk = bech32_step(chk, 0);
	for (size_t i = 0; i < hlen; i++)
		chk = bech32_step(chk, (unsigned char)hrp[i] & 31);
	for (size_t i = 0; i < dlen; i++)
		chk = bech32_step(chk, vals[i]);
	unsigned witver = vals[0];
	if (witver > 16)
		return WALLET_WHY("bad witness version");
	if (chk != (witver == 0 ? 1u : BECH32M_CONST))
		return WALLET_WHY("bad checksum");
	if (!bits5_to_bytes(vals + 1, dlen - 7, prog, sizeof(prog), &plen) || plen < 2 || plen > 40)
		return WALLET_WHY("bad program length");
	if (witver == 0 && plen != 20 && plen != 32)
		return WALLET_WHY("bad program length");
	return true;
}

static uint64_t cashaddr_step(uint64_t c, unsigned v)
{
	static const uint64_t gen[5] = { 0x98f2bc8e61ULL, 0x79b76d99e2ULL, 0xf33e5fb3c4ULL,
					 0xae2eabe2a8ULL, 0x1e4f43e470ULL };
	uint8_t top = (uint8_t)(c >> 35);
	c = ((c & 0x07ffffffffULL) << 5) ^ v;
	for (unsigned i = 0; i < 5; i++)
		if ((top >> i) & 1)
			c ^= gen[i];
	return c;
}

/* Length of an optional "bitcoincash:" prefix at s (0 when absent). */
static size_t cashaddr_prefix_len(const char *s, size_t n)
{
	size_t plen = sizeof(CASHADDR_PREFIX) - 1;
	if (n <= plen || s[plen] != ':')
		return 0;
	for (size_t i = 0; i < plen; i++)
		if (ascii_lower(s[i]) != CASHADDR_PREFIX[i])
			return 0;
	return plen + 1;
}

static bool cashaddr_check(const char *s, size_t n, const char **why)
{
	static const uint8_t hash_len[8] = { 20, 24, 28, 32, 40, 48, 56, 64 };
	uint8_t vals[BECH32_MAX_LEN], bytes[72];
	size_t blen;
	if (mixed_case(s, n))
		return WALLET_WHY("mixed case");
	size_t skip = cashaddr_prefix_len(s, n);
	s += skip;
	n -= skip;
	if (n < 8 + 2 || n > BECH32_MAX_LEN)
		return WALLET_WHY("bad length");
	if (!bech32_values(s, n, vals, why))
		return false;
	uint64_t c = 1;
	for (const char *p = CASHADDR_PREFIX; *p; p++)
		c = cashaddr_step(c, (unsigned char)*p & 31);
	c = cashaddr_step(c, 0);
	for (size_t i = 0; i < n; i++)
		c = cashaddr_step(c, vals[i]);
	if ((c ^ 1) != 0)
		return WALLET_WHY("bad checksum");
	/* CashAddr pads the payload to whole 5-bit groups; drop the pad bits. */
	size_t nv = n - 8;
	uint32_t acc = 0;
	unsigned bits = 0;
	blen = 0;
	for (size_t i = 0; i < nv && blen < sizeof(bytes); i++) {
		acc = (acc << 5) | vals[i];
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			bytes[blen++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits >= 5 || (acc & ((1u << bits) - 1)) || blen < 1)
		return WALLET_WHY("bad padding");
	uint8_t ver = bytes[0];
	if ((ver & 0x80) || ((ver >> 3) & 0x0f) > 1)
		return WALLET_WHY("bad version");
	if (blen - 1 != hash_len[ver & 7])
		return WALLET_WHY("bad length");
	return true;
}

/* ---- Ethereum (EIP-55) ---- */

static bool eth_check(const char *s, size_t n, const char **why)
{
	char lower[40];
	uint8_t h[KECCAK_256_LEN];
	if (n != 42 || s[0] != '0' || s[1] != 'x')
		return WALLET_WHY("bad length or prefix");
	for (size_t i = 0; i < 40; i++) {
		char c = s[2 + i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return WALLET_WHY("bad character");
		lower[i] = ascii_lower(c);
	}
	/* One-case addresses carry no checksum: EIP-55 defines it by mixing. */
	if (!mixed_case(s + 2, 40))
		return true;
	keccak_256(lower, sizeof(lower), h);
	for (size_t i = 0; i < 40; i++) {
		char c = s[2 + i];
		if (c <= '9')
			continue;
		unsigned nib = (i & 1) ? (h[i / 2] & 0x0f) : (h[i / 2] >> 4);
		if ((nib >= 8) != (c <= 'F'))
			return WALLET_WHY("bad checksum");
	}
	return true;
}

/* ---- Monero ---- */

/* Monero base58: 11 characters per 8-byte block; a short last block maps
 * its character count to a byte count through this table (-1: invalid). */
static const int8_t xmr_block_bytes[12] = { 0, -1, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8 };

static bool xmr_block(const char *s, size_t chars, uint8_t *out, const char **why)
{
	int nbytes = xmr_block_bytes[chars];
	uint64_t v = 0;
	if (nbytes < 0)
		return WALLET_WHY("bad length");
	for (size_t i = 0; i < chars; i++) {
		int d = alpha_index(b58_btc_alpha, s[i]);
		if (d < 0)
			return WALLET_WHY("bad character");
		if (v > (UINT64_MAX - (uint64_t)d) / 58)
			return WALLET_WHY("bad block");
		v = v * 58 + (uint64_t)d;
	}
	if (nbytes < 8 && (v >> (8 * nbytes)) != 0)
		return WALLET_WHY("bad block");
	for (int i = nbytes - 1; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
	return true;
}

static bool xmr_check(const char *s, size_t n, const char **why)
{
	uint8_t buf[XMR_MAX_BYTES], h[KECCAK_256_LEN];
	size_t len = 0;
	if (n != 95 && n != 106)
		return WALLET_WHY("bad length");
	for (size_t off = 0; off < n; off += 11) {
		size_t chars = n - off < 11 ? n - off : 11;
		if (!xmr_block(s + off, chars, buf + len, why))
			return false;
		len += (size_t)xmr_block_bytes[chars];
	}
	/* Prefixes: 18 standard and 42 subaddress (69 bytes), 19 integrated (77). */
	bool shape = (len == 69 && (buf[0] == 18 || buf[0] == 42)) || (len == 77 && buf[0] == 19);
	if (!shape)
		return WALLET_WHY("bad version or length");
	keccak_256(buf, len - 4, h);
	if (memcmp(h, buf + len - 4, 4) != 0)
		return WALLET_WHY("bad checksum");
	return true;
}

/* ---- public ---- */

static bool has_prefix_ci(const char *s, size_t n, const char *p)
{
	size_t k = strlen(p);
	if (n < k)
		return false;
	for (size_t i = 0; i < k; i++)
		if (ascii_lower(s[i]) != p[i])
			return false;
	return true;
}

static bool wallet_check_bech(enum wallet_family f, const char *s, size_t n, const char **why)
{
	const char *hrp = wallet_segwit_hrp(f);
	char tag[8];
	if (f == WALLET_BCH)
		return cashaddr_check(s, n, why);
	if (!hrp)
		return WALLET_WHY("bad character");
	size_t k = strlen(hrp);
	memcpy(tag, hrp, k);
	tag[k] = '1';
	tag[k + 1] = '\0';
	if (!has_prefix_ci(s, n, tag))
		return WALLET_WHY("bad prefix");
	return segwit_check(hrp, s, n, why);
}

/* Does s look like the family's Bech32/CashAddr form (to say why it failed)? */
static bool wallet_bech_shaped(enum wallet_family f, const char *s, size_t n)
{
	const char *hrp = wallet_segwit_hrp(f);
	if (hrp)
		return has_prefix_ci(s, n, hrp) && n > strlen(hrp) && s[strlen(hrp)] == '1';
	if (f != WALLET_BCH)
		return false;
	return cashaddr_prefix_len(s, n) > 0 || (n == 42 && (ascii_lower(s[0]) == 'q' ||
							     ascii_lower(s[0]) == 'p'));
}

bool wallet_check(enum wallet_family f, const char *s, size_t n, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	if (!s || (unsigned)f >= WALLET_FAMILY_COUNT)
		return WALLET_WHY("bad argument");
	switch (f) {
	case WALLET_ETH:
		return eth_check(s, n, why);
	case WALLET_XMR:
		return xmr_check(s, n, why);
	case WALLET_XRP:
		return b58check_families(b58_xrp_alpha, WALLET_MASK(f), s, n, why) != 0;
	default:
		break;
	}
	const char *why58 = NULL, *whyb = NULL;
	if (b58check_families(b58_btc_alpha, WALLET_MASK(f), s, n, &why58))
		return true;
	/* Not Base58Check: the family's Bech32-style form is the other chance. */
	if (wallet_check_bech(f, s, n, &whyb))
		return true;
	*why = wallet_bech_shaped(f, s, n) ? whyb : why58;
	return false;
}

uint32_t wallet_detect(const char *s, size_t n)
{
	const char *why;
	uint32_t fit = 0;
	if (!s || n == 0 || n > WALLET_MAX_LEN)
		return 0;
	if (n == 42 && s[0] == '0' && s[1] == 'x')
		return eth_check(s, n, &why) ? WALLET_MASK(WALLET_ETH) : 0;
	if (n == 95 || n == 106)
		return xmr_check(s, n, &why) ? WALLET_MASK(WALLET_XMR) : 0;
	if (s[0] == 'r')
		fit |= b58check_families(b58_xrp_alpha, WALLET_MASK(WALLET_XRP), s, n, &why);
	fit |= b58check_families(b58_btc_alpha, WALLET_MASK_ALL, s, n, &why);
	if (fit)
		return fit;
	for (unsigned f = 0; f < WALLET_FAMILY_COUNT; f++)
		if ((wallet_segwit_hrp(f) || f == WALLET_BCH) && wallet_check_bech(f, s, n, &why))
			fit |= WALLET_MASK(f);
	return fit;
}

const char *wallet_family_name(enum wallet_family f)
{
	return (unsigned)f < WALLET_FAMILY_COUNT ? wallet_names[f] : "?";
}

uint32_t wallet_currency_mask(const char *code, size_t n)
{
	static const struct {
		const char *code;
		uint32_t mask;
	} extra[] = {
		{ "xbt", WALLET_MASK(WALLET_BTC) },
		{ "arb", WALLET_MASK(WALLET_ETH) },
		{ "bsc", WALLET_MASK(WALLET_ETH) },
		{ "etc", WALLET_MASK(WALLET_ETH) },
		/* USDT also lives on Bitcoin (Omni layer): OFAC lists such addresses. */
		{ "usdt", WALLET_MASK(WALLET_ETH) | WALLET_MASK(WALLET_TRX) | WALLET_MASK(WALLET_BTC) },
		{ "usdc", WALLET_MASK(WALLET_ETH) | WALLET_MASK(WALLET_TRX) },
	};
	char low[8];
	if (!code || n == 0 || n >= sizeof(low))
		return 0;
	for (size_t i = 0; i < n; i++)
		low[i] = ascii_lower(code[i]);
	low[n] = '\0';
	for (unsigned f = 0; f < WALLET_FAMILY_COUNT; f++)
		if (strcmp(low, wallet_names[f]) == 0)
			return WALLET_MASK(f);
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		if (strcmp(low, extra[i].code) == 0)
			return extra[i].mask;
	return 0;
}

enum cs_err wallet_normalise(enum wallet_family f, const char *s, size_t n, char *out, size_t cap,
			     size_t *out_len)
{
	if (!out || !out_len || !wallet_check(f, s, n, NULL))
		return CS_ERR_INVALID;
	size_t skip = 0;
	bool lower = false;
	if (f == WALLET_ETH) {
		lower = true;
	} else if (f == WALLET_BCH && b58check_families(b58_btc_alpha, WALLET_MASK(f), s, n,
							   &(const char *){ NULL }) == 0) {
		skip = cashaddr_prefix_len(s, n);
		lower = true;
	} else if (wallet_segwit_hrp(f) && has_prefix_ci(s, n, wallet_segwit_hrp(f)) &&
		   !b58check_families(b58_btc_alpha, WALLET_MASK(f), s, n, &(const char *){ NULL })) {
		lower = true;
	}
	if (n - skip > cap)
		return CS_ERR_LIMIT;
	for (size_t i = skip; i < n; i++)
		out[i - skip] = lower ? ascii_lower(s[i]) : s[i];
	*out_len = n - skip;
	return CS_OK;
}
