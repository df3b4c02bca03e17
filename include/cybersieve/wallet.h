/* Crypto-currency wallet addresses: family names, checksum validation,
 * detection of "any valid address of family X", and the canonical form a
 * set lookup uses. Everything here is a pure function of its arguments:
 * no allocation, no state, safe from any thread.
 *
 * Validated formats (mainnet only):
 *   btc  Base58Check P2PKH/P2SH (versions 0x00, 0x05), SegWit v0 Bech32 and
 *        v1+ Bech32m ("bc1")
 *   bch  CashAddr with or without "bitcoincash:", and legacy Base58Check
 *   bsv  legacy Base58Check (0x00, 0x05)
 *   btg  Base58Check (0x26 "G", 0x17 "A"), Bech32 "btg1"
 *   ltc  Base58Check (0x30 "L", 0x32 "M", 0x05 "3"), Bech32 "ltc1"
 *   dash Base58Check (0x4c "X", 0x10 "7")
 *   zec  transparent Base58Check (0x1cb8 "t1", 0x1cbd "t3"); shielded
 *        addresses are not validated
 *   xvg  Base58Check (0x1e "D", 0x21)
 *   eth  0x + 40 hex; EIP-55 (Keccak-256) checked when the case is mixed;
 *        also every EVM chain and ERC-20 token (arb, bsc, etc, usdt, usdc)
 *   trx  Base58Check with version 0x41 ("T")
 *   xrp  Base58Check over the Ripple alphabet, version 0x00 ("r")
 *   xmr  Monero base58 (8-byte blocks) with a Keccak-256 checksum: standard
 *        (18), integrated (19) and subaddress (42) prefixes */
#ifndef CYBERSIEVE_WALLET_H
#define CYBERSIEVE_WALLET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"

enum wallet_family {
	WALLET_BTC,
	WALLET_BCH,
	WALLET_BSV,
	WALLET_BTG,
	WALLET_LTC,
	WALLET_DASH,
	WALLET_ZEC,
	WALLET_XVG,
	WALLET_ETH,
	WALLET_TRX,
	WALLET_XRP,
	WALLET_XMR,
	WALLET_FAMILY_COUNT
};

#define WALLET_MASK(f) (1u << (f))
#define WALLET_MASK_ALL ((1u << WALLET_FAMILY_COUNT) - 1)

/* Longest address any family accepts (a Monero integrated address is 106,
 * a CashAddr with its prefix 54, Bech32 at most 90). */
#define WALLET_MAX_LEN 112

/* True when s[0..n) is a well-formed address of family f whose checksum
 * holds. On false, *why (if why is not NULL) names the reason in a static
 * string ("bad checksum", "bad character", ...). */
bool wallet_check(enum wallet_family f, const char *s, size_t n, const char **why);

/* The set of families (WALLET_MASK bits) whose validator accepts s; 0 when
 * none does. Legacy "1..."/"3..." addresses belong to btc, bch and bsv at
 * once, and "0x" addresses to eth: a rule for "any valid address of family X"
 * tests its bit. */
uint32_t wallet_detect(const char *s, size_t n);

/* Lower-case short name ("btc", "eth", ...); "?" for an out-of-range value. */
const char *wallet_family_name(enum wallet_family f);

/* Which families a currency or family code names, case-insensitively:
 * family names ("btc"), OFAC tickers ("XBT", "ARB", "BSC", "ETC", "USDT",
 * "USDC", ...). Tokens issued on several chains give several bits (USDT and
 * USDC: eth|trx). 0 when the code is unknown. */
uint32_t wallet_currency_mask(const char *code, size_t n);

/* The form under which an address of family f is stored and looked up, so
 * that the ways one address can be written compare equal: eth lower-cased;
 * Bech32 lower-cased; CashAddr lower-cased without "bitcoincash:"; Base58
 * forms unchanged. The address must already pass wallet_check(f, ...).
 * Writes at most cap bytes plus no terminator; *out_len gets the length.
 * CS_ERR_LIMIT when cap is too small, CS_ERR_INVALID when s is not valid. */
enum cs_err wallet_normalise(enum wallet_family f, const char *s, size_t n, char *out, size_t cap,
			     size_t *out_len);

#endif
