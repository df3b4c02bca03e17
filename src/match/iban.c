/* IBAN validation: spacing and case normalised, country length and BBAN
 * structure from the table below, then the mod-97 check. The table holds
 * facts of the ISO 13616 registry (country code, IBAN length, BBAN
 * structure); where the registry's SWIFT notation and its own length
 * disagree (DJ, KM, MA, NE, TG) the length wins. Constant data, no state. */
#include "cybersieve/iban.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define IBAN_WHY(msg) (*why = (msg), false)

static const struct iban_country iban_table[] = {
	{ "AA", 16, "12c" }, { "AD", 24, "8n12c" }, { "AE", 23, "19n" }, { "AL", 28, "8n16c" },
	{ "AO", 25, "21n" }, { "AT", 20, "16n" }, { "AX", 18, "14n" }, { "AZ", 28, "4a20c" },
	{ "BA", 20, "16n" }, { "BE", 16, "12n" }, { "BF", 27, "23n" }, { "BG", 22, "4a6n8c" },
	{ "BH", 22, "4a14c" }, { "BI", 16, "12n" }, { "BJ", 28, "1a23n" }, { "BL", 27, "10n11c2n" },
	{ "BR", 29, "23n1a1c" }, { "BY", 28, "4c4n16c" }, { "CF", 27, "23n" }, { "CG", 27, "23n" },
	{ "CH", 21, "5n12c" }, { "CI", 28, "1a23n" }, { "CM", 27, "23n" }, { "CR", 22, "18n" },
	{ "CV", 25, "21n" }, { "CY", 28, "8n16c" }, { "CZ", 24, "20n" }, { "DE", 22, "18n" },
	{ "DJ", 27, "23n" }, { "DK", 18, "14n" }, { "DO", 28, "4c20n" }, { "DZ", 24, "20n" },
	{ "EE", 20, "16n" }, { "EG", 29, "25n" }, { "ES", 24, "20n" }, { "FI", 18, "14n" },
	{ "FO", 18, "14n" }, { "FR", 27, "10n11c2n" }, { "GA", 27, "23n" }, { "GB", 22, "4a14n" },
	{ "GE", 22, "2a16n" }, { "GF", 27, "10n11c2n" }, { "GI", 23, "4a15c" }, { "GL", 18, "14n" },
	{ "GP", 27, "10n11c2n" }, { "GQ", 27, "23n" }, { "GR", 27, "7n16c" }, { "GT", 28, "24c" },
	{ "GW", 25, "2c19n" }, { "HN", 28, "4a20n" }, { "HR", 21, "17n" }, { "HU", 28, "24n" },
	{ "IE", 22, "4a14n" }, { "IL", 23, "19n" }, { "IQ", 23, "4a15n" }, { "IR", 26, "22n" },
	{ "IS", 26, "22n" }, { "IT", 27, "1a10n12c" }, { "JO", 30, "4a4n18c" }, { "KM", 27, "23n" },
	{ "KW", 30, "4a22c" }, { "KZ", 20, "3n13c" }, { "LB", 28, "4n20c" }, { "LC", 32, "4a24c" },
	{ "LI", 21, "5n12c" }, { "LT", 20, "16n" }, { "LU", 20, "3n13c" }, { "LV", 21, "4a13c" },
	{ "MA", 28, "24n" }, { "MC", 27, "10n11c2n" }, { "MD", 24, "20c" }, { "ME", 22, "18n" },
	{ "MF", 27, "10n11c2n" }, { "MG", 27, "23n" }, { "MK", 19, "3n10c2n" }, { "ML", 28, "1a23n" },
	{ "MQ", 27, "10n11c2n" }, { "MR", 27, "23n" }, { "MT", 31, "4a5n18c" },
	{ "MU", 30, "4a19n3a" }, { "MZ", 25, "21n" }, { "NC", 27, "10n11c2n" }, { "NE", 28, "2a22n" },
	{ "NI", 32, "4a24n" }, { "NL", 18, "4a10n" }, { "NO", 15, "11n" }, { "PF", 27, "10n11c2n" },
	{ "PK", 24, "4a16c" }, { "PL", 28, "24n" }, { "PM", 27, "10n11c2n" }, { "PS", 29, "4a21c" },
	{ "PT", 25, "21n" }, { "QA", 29, "4a4n17c" }, { "RE", 27, "10n11c2n" }, { "RO", 24, "4a16c" },
	{ "RS", 22, "18n" }, { "SA", 24, "2n18c" }, { "SC", 31, "4a20n3a" }, { "SE", 24, "20n" },
	{ "SI", 19, "15n" }, { "SK", 24, "20n" }, { "SM", 27, "1a10n12c" }, { "SN", 28, "1a23n" },
	{ "ST", 25, "21n" }, { "SV", 28, "4c20n" }, { "TD", 27, "23n" }, { "TF", 27, "10n11c2n" },
	{ "TG", 28, "2a22n" }, { "TL", 23, "19n" }, { "TN", 24, "20n" }, { "TR", 26, "6n16c" },
	{ "UA", 29, "6n19c" }, { "VG", 24, "4a16n" }, { "WF", 27, "10n11c2n" }, { "XK", 20, "16n" },
	{ "YT", 27, "10n11c2n" },
};
#define IBAN_TABLE_COUNT (sizeof(iban_table) / sizeof(iban_table[0]))

static int iban_country_cmp(const void *key, const void *row)
{
	const struct iban_country *c = row;
	return strncmp(key, c->code, 2);
}

const struct iban_country *iban_country_find(const char *code)
{
	if (!code || !code[0] || !code[1])
		return NULL;
	return bsearch(code, iban_table, IBAN_TABLE_COUNT, sizeof(iban_table[0]), iban_country_cmp);
}

static uint8_t iban_len_tab[26 * 26];
static pthread_once_t iban_len_once = PTHREAD_ONCE_INIT;

static void iban_len_init(void)
{
	for (size_t i = 0; i < IBAN_TABLE_COUNT; i++) {
		const char *c = iban_table[i].code;
		iban_len_tab[(c[0] - 'A') * 26 + (c[1] - 'A')] = (uint8_t)iban_table[i].length;
	}
}

unsigned iban_country_length(const uint8_t *code)
{
	if (code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z')
		return 0;
	pthread_once(&iban_len_once, iban_len_init);
	return iban_len_tab[(code[0] - 'A') * 26 + (code[1] - 'A')];
}

const struct iban_country *iban_countries(size_t *count)
{
	*count = IBAN_TABLE_COUNT;
	return iban_table;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

/* Copy without spaces, upper-cased. People group IBANs in fours, but also
 * as "FR 76 3000 ..." or "GB84 BARC 20371666485655", so any run of spaces
 * between characters is taken; the length, structure and checksum that
 * follow keep stray joins out. */
static bool iban_compact(const char *s, size_t n, char *out, size_t *out_len, const char **why)
{
	size_t len = 0;
	if (n == 0 || n > IBAN_MAX_PRINTED)
		return IBAN_WHY("bad length");
	if (s[0] == ' ' || s[n - 1] == ' ')
		return IBAN_WHY("bad spacing");
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == ' ')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		if (!is_digit(c) && !is_upper(c))
			return IBAN_WHY("bad character");
		if (len == IBAN_MAX_LEN)
			return IBAN_WHY("bad length");
		out[len++] = c;
	}
	*out_len = len;
	return true;
}

/* Does the BBAN follow a structure like "4a6n8c"? */
static bool iban_bban_fits(const char *bban, size_t n, const char *st)
{
	size_t pos = 0;
	while (*st) {
		unsigned count = 0;
		while (is_digit(*st))
			count = count * 10 + (unsigned)(*st++ - '0');
		char cls = *st++;
		for (unsigned i = 0; i < count; i++, pos++) {
			if (pos >= n)
				return false;
			char c = bban[pos];
			if ((cls == 'n' && !is_digit(c)) || (cls == 'a' && !is_upper(c)))
				return false;
		}
	}
	return pos == n;
}

/* ISO 7064 mod 97-10 over BBAN + country + check digits, letters as 10..35. */
static unsigned iban_mod97(const char *iban, size_t n)
{
	unsigned r = 0;
	for (size_t k = 0; k < n; k++) {
		char c = iban[(k + 4) % n];
		if (is_digit(c))
			r = (r * 10 + (unsigned)(c - '0')) % 97;
		else
			r = (r * 100 + (unsigned)(c - 'A' + 10)) % 97;
	}
	return r;
}

bool iban_check(const char *s, size_t n, char norm_out[IBAN_MAX_LEN + 1], const char **why)
{
	const char *dummy;
	char buf[IBAN_MAX_LEN + 1];
	size_t len = 0;
	if (!why)
		why = &dummy;
	if (!s)
		return IBAN_WHY("bad argument");
	if (!iban_compact(s, n, buf, &len, why))
		return false;
	if (len < 5 || !is_upper(buf[0]) || !is_upper(buf[1]))
		return IBAN_WHY("bad country code");
	const struct iban_country *c = iban_country_find(buf);
	if (!c)
		return IBAN_WHY("unknown country");
	if (len != c->length)
		return IBAN_WHY("bad length for country");
	if (!is_digit(buf[2]) || !is_digit(buf[3]))
		return IBAN_WHY("bad check digits");
	if (!iban_bban_fits(buf + 4, len - 4, c->bban))
		return IBAN_WHY("bad account structure");
	if (iban_mod97(buf, len) != 1)
		return IBAN_WHY("bad checksum");
	if (norm_out) {
		memcpy(norm_out, buf, len);
		norm_out[len] = '\0';
	}
	return true;
}
