/* Fuzz target: the JSON writer. Arbitrary bytes are written with json_str,
 * json_kv_bytes and json_base64 inside an object, and the text must parse
 * back with json_read: a string of valid UTF-8 must come back byte for byte,
 * one that was not must have been flagged. */
#include <string.h>

#include "cybersieve/json.h"
#include "cybersieve/json_read.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jbuf j;
	jbuf_init(&j);
	json_obj_open(&j);
	json_key(&j, "s");
	bool lossy = json_str(&j, data, size);
	/* json_str writes a bare value: the caller keeps the commas right. */
	j.need_comma = true;
	json_kv_bytes(&j, "b", data, size);
	json_key(&j, "b64");
	json_base64(&j, data, size);
	j.need_comma = true;
	json_kv_hex(&j, "hex", data, size < 64 ? size : 64);
	json_obj_close(&j);
	if (j.failed) {
		jbuf_fini(&j);
		return 0;
	}
	struct json_read_val *v = NULL;
	struct cs_diag d;
	cs_diag_clear(&d);
	enum cs_err e = json_read_parse(j.p, j.len, &v, &d);
	if (e != CS_OK)
		fprintf(stderr, "writer output refused: %s\n", d.msg);
	FUZZ_CHECK(e == CS_OK);
	const struct json_read_val *s = json_read_get(v, "s");
	FUZZ_CHECK(s != NULL && s->type == JSON_READ_STR);
	if (!lossy)
		FUZZ_CHECK(s->len == size && memcmp(s->str, data, size) == 0);
	const struct json_read_val *b64 = json_read_get(v, "b64");
	FUZZ_CHECK(b64 != NULL && b64->type == JSON_READ_STR);
	FUZZ_CHECK(b64->len == (size + 2) / 3 * 4);
	json_read_free(v);
	jbuf_fini(&j);
	return 0;
}
