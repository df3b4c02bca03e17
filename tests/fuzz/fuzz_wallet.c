/* Fuzz target: wallet address and IBAN validators. Whatever a validator
 * accepts must normalise, and the normal form must be accepted again. */
#include <string.h>

#include "cybersieve/iban.h"
#include "cybersieve/wallet.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	uint32_t mask = wallet_detect(s, size);
	FUZZ_CHECK((mask & ~(uint32_t)WALLET_MASK_ALL) == 0);
	(void)wallet_currency_mask(s, size);
	for (int f = 0; f < WALLET_FAMILY_COUNT; f++) {
		const char *why = NULL;
		bool ok = wallet_check((enum wallet_family)f, s, size, &why);
		FUZZ_CHECK(ok == ((mask & WALLET_MASK(f)) != 0));
		if (!ok)
			continue;
		FUZZ_CHECK(size <= WALLET_MAX_LEN);
		char norm[WALLET_MAX_LEN];
		size_t nlen = 0;
		FUZZ_CHECK(wallet_normalise((enum wallet_family)f, s, size, norm, sizeof norm,
					    &nlen) == CS_OK);
		FUZZ_CHECK(nlen <= sizeof norm);
		FUZZ_CHECK(wallet_check((enum wallet_family)f, norm, nlen, NULL));
	}
	char norm[IBAN_MAX_LEN + 1];
	const char *why = NULL;
	if (iban_check(s, size, norm, &why)) {
		size_t nlen = strlen(norm);
		FUZZ_CHECK(nlen <= IBAN_MAX_LEN && size <= IBAN_MAX_PRINTED);
		char again[IBAN_MAX_LEN + 1];
		FUZZ_CHECK(iban_check(norm, nlen, again, NULL));
		FUZZ_CHECK(strcmp(norm, again) == 0);
	} else {
		FUZZ_CHECK(why != NULL);
	}
	return 0;
}
