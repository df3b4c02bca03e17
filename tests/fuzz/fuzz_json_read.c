/* Fuzz target: the JSON reader verify uses (json_read_parse), with the
 * accessors applied to whatever tree comes out. */
#include <string.h>

#include "cybersieve/json_read.h"
#include "fuzz.h"

static void walk(const struct json_read_val *v, int depth)
{
	FUZZ_CHECK(depth <= JSON_READ_MAX_DEPTH + 1);
	switch (v->type) {
	case JSON_READ_STR:
		FUZZ_CHECK(v->str != NULL && v->str[v->len] == '\0');
		break;
	case JSON_READ_OBJ:
		for (size_t i = 0; i < v->n; i++) {
			FUZZ_CHECK(v->keys[i] != NULL);
			(void)json_read_get(v, v->keys[i]);
			(void)json_read_str(v, v->keys[i]);
			uint64_t u;
			(void)json_read_u64(v, v->keys[i], &u);
			walk(&v->items[i], depth + 1);
		}
		break;
	case JSON_READ_ARR:
		for (size_t i = 0; i < v->n; i++)
			walk(&v->items[i], depth + 1);
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_read_val *v = NULL;
	struct cs_diag d;
	cs_diag_clear(&d);
	if (json_read_parse((const char *)data, size, &v, &d) != CS_OK)
		return 0;
	FUZZ_CHECK(v != NULL);
	walk(v, 0);
	(void)json_read_get(v, "prev");
	json_read_free(v);
	return 0;
}
