/* A small JSON reader for what cybersieve itself wrote (manifest, seals,
 * records), used by verify. Parses a whole text into a tree; depth is capped.
 * Owner: the caller frees the tree with json_read_free; not shared. */
#ifndef CYBERSIEVE_JSON_READ_H
#define CYBERSIEVE_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"

#define JSON_READ_MAX_DEPTH 64

enum json_read_type { JSON_READ_NULL, JSON_READ_BOOL, JSON_READ_NUM, JSON_READ_STR,
		      JSON_READ_ARR, JSON_READ_OBJ };

struct json_read_val {
	enum json_read_type type;
	bool b;
	double num;
	char *str;                   /* decoded, NUL-terminated (STR) */
	size_t len;
	size_t n;                    /* ARR / OBJ members */
	char **keys;                 /* OBJ */
	struct json_read_val *items; /* ARR / OBJ */
};

/* Parse exactly one value (whitespace around it allowed). */
enum cs_err json_read_parse(const char *p, size_t n, struct json_read_val **out,
			    struct cs_diag *d);
const struct json_read_val *json_read_get(const struct json_read_val *obj, const char *key);
/* The string at key, or NULL when absent or not a string. */
const char *json_read_str(const struct json_read_val *obj, const char *key);
/* The non-negative integer at key; false when absent or not one. */
bool json_read_u64(const struct json_read_val *obj, const char *key, uint64_t *out);
void json_read_free(struct json_read_val *v);

#endif
