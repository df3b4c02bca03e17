/* Ed25519 keys and signatures (include/cybersieve/sign.h). Thin over
 * libcrypto's EVP layer: the key's type is checked on load so that a key of
 * another kind is refused by name rather than failing later. */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cybersieve/sign.h"
#include "cybersieve/util.h"

struct ev_sign_key {
	EVP_PKEY *pkey;
	bool priv;
};

static enum cs_err wrap(EVP_PKEY *pkey, bool priv, struct ev_sign_key **out)
{
	struct ev_sign_key *k = calloc(1, sizeof(*k));
	if (!k) {
		EVP_PKEY_free(pkey);
		return CS_ERR_NOMEM;
	}
	k->pkey = pkey;
	k->priv = priv;
	*out = k;
	return CS_OK;
}

enum cs_err ev_sign_generate(struct ev_sign_key **out, struct cs_diag *d)
{
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (!c || EVP_PKEY_keygen_init(c) <= 0 || EVP_PKEY_keygen(c, &pkey) <= 0) {
		EVP_PKEY_CTX_free(c);
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "cannot generate an Ed25519 key");
		return CS_ERR_NOMEM;
	}
	EVP_PKEY_CTX_free(c);
	return wrap(pkey, true, out);
}

static enum cs_err load(const char *path, bool priv, struct ev_sign_key **out, struct cs_diag *d)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "cannot open key: %s", strerror(errno));
		return CS_ERR_IO;
	}
	/* As ssh does: a signing key others can read may already be someone else's. */
	struct stat st;
	if (priv && fstat(fileno(f), &st) == 0 && (st.st_mode & 077)) {
		fclose(f);
		cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE,
			    "private key is readable by group or others (mode %o): chmod 600 it",
			    (unsigned)(st.st_mode & 0777));
		return CS_ERR_INVALID;
	}
	EVP_PKEY *pkey = priv ? PEM_read_PrivateKey(f, NULL, NULL, NULL)
			      : PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if (!pkey) {
		cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "not a PEM %s key",
			    priv ? "private (PKCS#8)" : "public (SubjectPublicKeyInfo)");
		return CS_ERR_PARSE;
	}
	if (EVP_PKEY_id(pkey) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "key is not Ed25519");
		return CS_ERR_UNSUPPORTED;
	}
	return wrap(pkey, priv, out);
}

enum cs_err ev_sign_load_private(const char *path, struct ev_sign_key **out, struct cs_diag *d)
{
	return load(path, true, out, d);
}

enum cs_err ev_sign_load_public(const char *path, struct ev_sign_key **out, struct cs_diag *d)
{
	return load(path, false, out, d);
}

bool ev_sign_has_private(const struct ev_sign_key *k)
{
	return k->priv;
}

static enum cs_err pem(const struct ev_sign_key *k, bool priv, struct jbuf *out)
{
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		return CS_ERR_NOMEM;
	int ok = priv ? PEM_write_bio_PKCS8PrivateKey(b, k->pkey, NULL, NULL, 0, NULL, NULL)
		      : PEM_write_bio_PUBKEY(b, k->pkey);
	char *p = NULL;
	long n = ok ? BIO_get_mem_data(b, &p) : 0;
	if (n > 0)
		jbuf_raw(out, p, (size_t)n);
	BIO_free(b);
	return ok && n > 0 && !out->failed ? CS_OK : CS_ERR_NOMEM;
}

enum cs_err ev_sign_private_pem(const struct ev_sign_key *k, struct jbuf *out)
{
	return k->priv ? pem(k, true, out) : CS_ERR_INVALID;
}

enum cs_err ev_sign_public_pem(const struct ev_sign_key *k, struct jbuf *out)
{
	return pem(k, false, out);
}

enum cs_err ev_sign_fingerprint(const struct ev_sign_key *k, char hex[65])
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(k->pkey, &der);
	if (n <= 0)
		return CS_ERR_NOMEM;
	uint8_t md[32];
	unsigned int len = 32;
	int ok = EVP_Digest(der, (size_t)n, md, &len, EVP_sha256(), NULL);
	OPENSSL_free(der);
	if (!ok)
		return CS_ERR_NOMEM;
	util_hex(md, 32, hex);
	return CS_OK;
}

enum cs_err ev_sign_sign(const struct ev_sign_key *k, const void *msg, size_t len,
			 uint8_t sig[EV_SIGN_LEN], struct cs_diag *d)
{
	if (!k->priv) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "no private key to sign with");
		return CS_ERR_INVALID;
	}
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t sl = EV_SIGN_LEN;
	/* Ed25519 signs the message itself (no pre-hash), so no digest is named. */
	int ok = c && EVP_DigestSignInit(c, NULL, NULL, NULL, k->pkey) > 0 &&
		 EVP_DigestSign(c, sig, &sl, msg, len) > 0 && sl == EV_SIGN_LEN;
	EVP_MD_CTX_free(c);
	if (!ok) {
		ERR_clear_error();
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "signing failed");
		return CS_ERR_NOMEM;
	}
	return CS_OK;
}

bool ev_sign_verify(const struct ev_sign_key *k, const void *msg, size_t len, const uint8_t *sig,
		    size_t sig_len)
{
	if (sig_len != EV_SIGN_LEN)
		return false;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	bool ok = c && EVP_DigestVerifyInit(c, NULL, NULL, NULL, k->pkey) > 0 &&
		  EVP_DigestVerify(c, sig, sig_len, msg, len) == 1;
	EVP_MD_CTX_free(c);
	ERR_clear_error();
	return ok;
}

void ev_sign_destroy(struct ev_sign_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}
