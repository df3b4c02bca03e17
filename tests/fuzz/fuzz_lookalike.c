/* Fuzz target: lookalike brands and hosts. The input's first line is a
 * brand value (domains and options); every later line is a host checked
 * against it. A brand's own first domain never hits; hits name the brand;
 * their labels are NUL-terminated. */
#include <string.h>

#include "correlate/lookalike.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t bn = nl ? (size_t)(nl - data) : size;
	struct lookalike *l = NULL;
	if (lookalike_create(&l) != CS_OK)
		return 0;
	struct cs_diag d;
	cs_diag_clear(&d);
	if (lookalike_add_brand(l, 7, (const char *)data, bn, &d) != CS_OK) {
		FUZZ_CHECK(lookalike_brand_count(l) == 0);
		FUZZ_CHECK(memchr(d.msg, '\0', sizeof(d.msg)) != NULL);
		lookalike_destroy(l);
		return 0;
	}
	FUZZ_CHECK(lookalike_seal(l) == CS_OK);
	struct lookalike_hit hits[4];
	/* The first listed domain is the brand's own. */
	size_t dn = 0;
	while (dn < bn && data[dn] != ' ')
		dn++;
	FUZZ_CHECK(lookalike_check(l, (const char *)data, dn, hits, 4) == 0);
	const uint8_t *p = nl ? nl + 1 : data + size, *end = data + size;
	while (p < end) {
		const uint8_t *q = memchr(p, '\n', (size_t)(end - p));
		size_t n = q ? (size_t)(q - p) : (size_t)(end - p);
		size_t k = lookalike_check(l, (const char *)p, n, hits, 4);
		FUZZ_CHECK(k <= 1);
		for (size_t i = 0; i < k; i++) {
			FUZZ_CHECK(hits[i].ind == 7 && hits[i].brand != NULL);
			FUZZ_CHECK(memchr(hits[i].label, '\0', sizeof(hits[i].label)) != NULL);
			FUZZ_CHECK(hits[i].kind >= LOOKALIKE_TLD && hits[i].kind <= LOOKALIKE_COMBO);
		}
		p += n + 1;
	}
	lookalike_destroy(l);
	return 0;
}
