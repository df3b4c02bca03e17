/* JSON text built into a growing byte buffer (one NDJSON record, a summary).
 * Strings are escaped for any bytes: valid UTF-8 passes through, control
 * characters become \uXXXX, and each byte that is not part of valid UTF-8
 * becomes U+FFFD; json_str() says when that happened so the caller can add
 * the exact bytes in base64 beside it. Owner: the caller; not thread-safe. */
#ifndef CYBERSIEVE_JSON_H
#define CYBERSIEVE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"

struct jbuf {
	char *p;
	size_t len;
	size_t cap;
	bool failed;   /* an allocation failed: the text is incomplete */
	bool need_comma;
};

void jbuf_init(struct jbuf *j);
void jbuf_fini(struct jbuf *j);
void jbuf_reset(struct jbuf *j);

void jbuf_raw(struct jbuf *j, const char *s, size_t n);
/* A quoted, escaped string; returns true if some bytes were not valid UTF-8. */
bool json_str(struct jbuf *j, const uint8_t *s, size_t n);

/* Structure helpers keep commas right. */
void json_obj_open(struct jbuf *j);
void json_obj_close(struct jbuf *j);
void json_arr_open(struct jbuf *j);
void json_arr_close(struct jbuf *j);
void json_key(struct jbuf *j, const char *key);
void json_kv_str(struct jbuf *j, const char *key, const char *s);         /* NULL -> null */
void json_kv_bytes(struct jbuf *j, const char *key, const uint8_t *s, size_t n);
void json_kv_u64(struct jbuf *j, const char *key, uint64_t v);
void json_kv_i64(struct jbuf *j, const char *key, int64_t v);
void json_kv_f64(struct jbuf *j, const char *key, double v);
void json_kv_bool(struct jbuf *j, const char *key, bool v);
void json_kv_hex(struct jbuf *j, const char *key, const uint8_t *b, size_t n);
/* Array element helpers. */
void json_elem_str(struct jbuf *j, const char *s);

/* Base64 (RFC 4648, padded) of n bytes appended as a JSON string. */
void json_base64(struct jbuf *j, const uint8_t *b, size_t n);

#endif
