/* Pseudonymisation of third-party personal data in record context: IPv4 and
 * IPv6 addresses and e-mail addresses become "pseud:" and the first 16 hex
 * digits of HMAC-SHA256(key, normalised value), so one value gives one token
 * in every record of every run made with the same key, and no raw value.
 *
 * struct pseudo_key is made once at start-up and never changed; all threads
 * share it read-only (the HMAC is computed without shared state). The finder
 * and the rewriter allocate nothing and work on the caller's bytes. */
#ifndef CYBERSIEVE_PSEUDO_H
#define CYBERSIEVE_PSEUDO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"
#include "cybersieve/json.h"

#define PSEUDO_KEY_MIN 32        /* bytes of secret a key file must hold */
#define PSEUDO_KEY_MAX 4096      /* larger files are refused: not a key */
#define PSEUDO_PREFIX "pseud:"
#define PSEUDO_TOKEN_LEN 22      /* "pseud:" + 16 hex digits */
#define PSEUDO_METHOD "HMAC-SHA256/64"

enum pseudo_kind { PSEUDO_NONE = 0, PSEUDO_IPV4, PSEUDO_IPV6, PSEUDO_EMAIL };

/* An address found in a byte string: [start, end). */
struct pseudo_span {
	size_t start, end;
	enum pseudo_kind kind;
};

struct pseudo_key;

/* The key is the file's bytes, as they are (PSEUDO_KEY_MIN..PSEUDO_KEY_MAX). */
enum cs_err pseudo_key_load(const char *path, struct pseudo_key **out, struct cs_diag *d);
enum cs_err pseudo_key_create(const uint8_t *key, size_t n, struct pseudo_key **out,
			      struct cs_diag *d);
/* Wipes the secret; NULL is a no-op. */
void pseudo_key_destroy(struct pseudo_key *k);
/* First 16 hex digits of SHA-256(key): names the key without revealing it. */
const char *pseudo_key_id(const struct pseudo_key *k);

/* The first address in s[from, n), judged with s[0, n) around it (an address
 * must not continue a longer token: 1.2.3.4.5 holds none). */
bool pseudo_find(const uint8_t *s, size_t n, size_t from, struct pseudo_span *sp);

/* The value a span is hashed as: IPv4 without leading zeros, IPv6 as
 * inet_ntop writes it, e-mail lower-cased. Returns its length (< cap), 0 when
 * the bytes are not of that kind or do not fit. */
size_t pseudo_normalise(enum pseudo_kind kind, const uint8_t *s, size_t n, char *out, size_t cap);

/* The token of an address of the given kind; out gets PSEUDO_TOKEN_LEN + 1 bytes.
 * Returns false when s is not an address of that kind. */
bool pseudo_token(const struct pseudo_key *k, enum pseudo_kind kind, const uint8_t *s, size_t n,
		  char out[PSEUDO_TOKEN_LEN + 1]);

/* How a context string meets what is around it. At a CUT edge the window
 * ended inside the input, so a token there may be part of an address: a
 * fragment that looks like one (digits with dots or colons, an '@') is left
 * out. At a MATCH edge the string touches the matched text: a fragment with an
 * '@' there is part of an address around the match and is left out too. */
#define PSEUDO_CUT_START 0x1u
#define PSEUDO_CUT_END 0x2u
#define PSEUDO_MATCH_START 0x4u
#define PSEUDO_MATCH_END 0x8u

/* Bytes out must hold for pseudo_rewrite() of n bytes. */
#define PSEUDO_REWRITE_BOUND(n) ((size_t)(n) * 8 + 1)

/* Copy s to out with every address replaced by its token, except e-mail
 * addresses equal (ignoring ASCII case) to keep (may be NULL). Returns the
 * bytes written (at most PSEUDO_REWRITE_BOUND(n)). */
size_t pseudo_rewrite(const struct pseudo_key *k, const uint8_t *s, size_t n, unsigned edges,
		      const char *keep, size_t keep_len, uint8_t *out);

/* "key":"rewritten" (and "key_b64" when the rewritten bytes are not UTF-8) into j;
 * sets j->failed when scratch memory cannot be had. */
void pseudo_json_text(struct jbuf *j, const char *key, const struct pseudo_key *k,
		      const uint8_t *s, size_t n, unsigned edges, const char *keep,
		      size_t keep_len);

/* "minimisation":{"pseudonymised":true,"method":...,"key_id":...} into j. */
void pseudo_json_minimisation(struct jbuf *j, const struct pseudo_key *k);

#endif
