/* Fuzz target: the indicator pack parser (pack_parse) on arbitrary text.
 * A pack that parses must hold what pack.h promises of it. */
#include <string.h>

#include "cybersieve/pack.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pack *p = NULL;
	struct cs_diag d;
	cs_diag_clear(&d);
	if (pack_parse("fuzz.pack", (const char *)data, size, &p, &d) != CS_OK) {
		FUZZ_CHECK(p == NULL);
		FUZZ_CHECK(memchr(d.msg, '\0', sizeof d.msg) != NULL);
		return 0;
	}
	FUZZ_CHECK(p != NULL && p->n_ind <= p->cap_ind);
	for (size_t i = 0; i < p->n_ind; i++) {
		const struct indicator *ind = &p->ind[i];
		FUZZ_CHECK(ind->type < IND_TYPE_COUNT);
		FUZZ_CHECK(ind->confidence <= 100);
		FUZZ_CHECK(ind->id != NULL && ind->value != NULL);
		FUZZ_CHECK(ind->value[ind->value_len] == '\0');
	}
	pack_destroy(p);
	return 0;
}
