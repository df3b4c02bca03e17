/* International Bank Account Numbers (ISO 13616): the per-country length and
 * BBAN structure table, and the check an `iban` indicator or a candidate
 * token from the scanner must pass before it counts. Pure functions over the
 * caller's bytes and a constant table: thread-safe, no allocation. */
#ifndef CYBERSIEVE_IBAN_H
#define CYBERSIEVE_IBAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IBAN_MAX_LEN 34
/* Longest printed form accepted: 34 characters with up to two spaces after
 * each (longer runs of blanks are layout, not an IBAN). */
#define IBAN_MAX_PRINTED (3 * IBAN_MAX_LEN)

/* One registry row. `bban` is the structure in SWIFT notation without the
 * "!": runs of <count><class>, class n = digit, a = upper-case letter,
 * c = digit or letter (e.g. "4a14n" for GB). */
struct iban_country {
	char code[3];
	unsigned char length; /* whole IBAN, country code and check digits included */
	const char *bban;
};

/* The row for a two-letter country code (upper case), or NULL. */
const struct iban_country *iban_country_find(const char *code);

/* The registered length for a two-letter country code (upper case), 0 when
 * the code is unknown; a table lookup, for hot paths. */
unsigned iban_country_length(const uint8_t *code);

/* All rows, sorted by code; *count receives their number. */
const struct iban_country *iban_countries(size_t *count);

/* True when s[0..n) is an IBAN: country known, length and BBAN structure as
 * registered, ISO 7064 mod 97-10 remainder 1. Accepted spellings: the
 * electronic form ("GB82WEST12345698765432") and printed ones with spaces
 * between characters ("GB82 WEST 1234 5698 7654 32", "FR 76 3000 ..."), no
 * leading or trailing space; lower-case letters are taken as upper case. When norm_out is not NULL it receives the
 * electronic form, NUL-terminated (IBAN_MAX_LEN + 1 bytes). On false, *why
 * (if not NULL) gets a static reason. */
bool iban_check(const char *s, size_t n, char norm_out[IBAN_MAX_LEN + 1], const char **why);

#endif
