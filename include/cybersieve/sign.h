/* Ed25519 keys and signatures over evidence files (docs/EVIDENCE.md), with
 * OpenSSL libcrypto. A struct ev_sign_key holds a key pair, or only a public
 * key (for verifying). Owner: the caller; a key may be used by one thread at a
 * time. */
#ifndef CYBERSIEVE_SIGN_H
#define CYBERSIEVE_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"
#include "cybersieve/json.h"

#define EV_SIGN_LEN 64

struct ev_sign_key;

/* A new key pair from the system's random source. */
enum cs_err ev_sign_generate(struct ev_sign_key **out, struct cs_diag *d);
/* A private key from a PEM file (PKCS#8); it must be Ed25519. */
enum cs_err ev_sign_load_private(const char *path, struct ev_sign_key **out, struct cs_diag *d);
/* A public key from a PEM file (SubjectPublicKeyInfo); it must be Ed25519. */
enum cs_err ev_sign_load_public(const char *path, struct ev_sign_key **out, struct cs_diag *d);
bool ev_sign_has_private(const struct ev_sign_key *k);
/* PEM text of the private (PKCS#8) or public (SubjectPublicKeyInfo) key, appended to out. */
enum cs_err ev_sign_private_pem(const struct ev_sign_key *k, struct jbuf *out);
enum cs_err ev_sign_public_pem(const struct ev_sign_key *k, struct jbuf *out);
/* Lower-case hex SHA-256 of the DER public key. */
enum cs_err ev_sign_fingerprint(const struct ev_sign_key *k, char hex[65]);
enum cs_err ev_sign_sign(const struct ev_sign_key *k, const void *msg, size_t len,
			 uint8_t sig[EV_SIGN_LEN], struct cs_diag *d);
bool ev_sign_verify(const struct ev_sign_key *k, const void *msg, size_t len, const uint8_t *sig,
		    size_t sig_len);
void ev_sign_destroy(struct ev_sign_key *k);

#endif
