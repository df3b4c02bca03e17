/* HTTP body digests: bytes with their transfer coding removed come in, the
 * content coding (gzip, deflate zlib-wrapped or raw) is inflated as they
 * stream, MD5/SHA-1/SHA-256 are updated and the decoded bytes are handed to
 * on_body_data (for scanning); a body is never stored whole.
 * Heap: the EVP contexts are allocated at the first body and reused until
 * app_body_fini (keep-alive flows carry many bodies); the inflate state
 * lives only while a coded body is open.
 * Owner: struct app_body sits in its HTTP direction; one thread. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "cybersieve/app.h"

#define BODY_OUT 16384 /* inflate output per step, on the stack */

enum cs_err app_http_env_init(struct app_http_env *e, struct cs_diag *d)
{
	static const char *names[3] = { "MD5", "SHA1", "SHA256" };

	if (!e)
		return CS_ERR_INVALID;
	memset(e, 0, sizeof(*e));
	e->header_cap = 16384;
	e->body_cap = 256ull << 20;
	for (int i = 0; i < 3; i++) {
		e->md[i] = EVP_MD_fetch(NULL, names[i], NULL);
		if (!e->md[i]) {
			cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
				    "digest %s is not available from libcrypto", names[i]);
			app_http_env_fini(e);
			return CS_ERR_UNSUPPORTED;
		}
	}
	return CS_OK;
}

void app_http_env_fini(struct app_http_env *e)
{
	if (!e)
		return;
	for (int i = 0; i < 3; i++) {
		EVP_MD_free((EVP_MD *)e->md[i]);
		e->md[i] = NULL;
	}
}

void app_body_init(struct app_body *b)
{
	memset(b, 0, sizeof(*b));
}

/* zlib allocates through these, so the state it holds is known exactly:
 * each block carries its size in front. */
static void *z_alloc(void *opaque, unsigned items, unsigned size)
{
	struct app_body *b = opaque;
	size_t n = (size_t)items * size;
	if (size && n / size != items)
		return NULL;
	max_align_t *p = malloc(sizeof(max_align_t) + n);
	if (!p)
		return NULL;
	memcpy(p, &n, sizeof(n));
	b->z_bytes += (uint32_t)(sizeof(max_align_t) + n);
	return p + 1;
}

static void z_free(void *opaque, void *ptr)
{
	struct app_body *b = opaque;
	if (!ptr)
		return;
	max_align_t *p = (max_align_t *)ptr - 1;
	size_t n;
	memcpy(&n, p, sizeof(n));
	b->z_bytes -= (uint32_t)(sizeof(max_align_t) + n);
	free(p);
}

size_t app_body_mem(const struct app_body *b)
{
	size_t n = b->z_bytes + (b->zs ? sizeof(*b->zs) : 0);
	for (int i = 0; i < 3; i++)
		n += (b->ctx[i] ? APP_MD_CTX_BYTES : 0) + (b->enc_ctx[i] ? APP_MD_CTX_BYTES : 0);
	return n;
}

static void inflate_close(struct app_body *b)
{
	if (b->zs) {
		if (b->inflating)
			inflateEnd(b->zs);
		free(b->zs);
		b->zs = NULL;
	}
	b->inflating = false;
}

void app_body_fini(struct app_body *b)
{
	if (!b)
		return;
	inflate_close(b);
	for (int i = 0; i < 3; i++) {
		EVP_MD_CTX_free(b->ctx[i]);
		EVP_MD_CTX_free(b->enc_ctx[i]);
		b->ctx[i] = b->enc_ctx[i] = NULL;
	}
	b->open = false;
}

static bool ctx_start(EVP_MD_CTX **ctx, const struct app_http_env *e)
{
	for (int i = 0; i < 3; i++) {
		if (!e->md[i])
			continue; /* nobody looks for this digest: do not compute it */
		if (!ctx[i] && !(ctx[i] = EVP_MD_CTX_new()))
			return false;
		if (!EVP_DigestInit_ex(ctx[i], e->md[i], NULL))
			return false;
	}
	return true;
}

enum cs_err app_body_begin(struct app_body *b, const struct app_http_env *e,
			   enum app_body_enc enc)
{
	inflate_close(b);
	b->decoded_len = b->encoded_len = 0;
	b->flags = 0;
	b->enc = (uint8_t)enc;
	b->peek_have = 0;
	b->z_end = false;
	b->open = true;
	b->hashing = ctx_start(b->ctx, e);
	b->enc_hashing = false;
	if (enc == APP_ENC_UNSUPPORTED)
		b->flags |= APP_BODY_UNDECODED;
	if (b->hashing && enc != APP_ENC_IDENTITY && (e->flags & APP_HTTP_HASH_ENCODED))
		b->enc_hashing = ctx_start(b->enc_ctx, e);
	/* Inflating serves the digests and the body scanner: skip it when
	 * neither wants the decoded bytes. */
	bool want = e->md[0] || e->md[1] || e->md[2] || (e->flags & APP_HTTP_DECODE_BODIES);
	if (b->hashing && want && (enc == APP_ENC_GZIP || enc == APP_ENC_DEFLATE)) {
		b->zs = calloc(1, sizeof(*b->zs));
		if (!b->zs)
			b->hashing = false;
	}
	return b->hashing ? CS_OK : CS_ERR_NOMEM;
}

/* Decoded bytes: hash up to the cap, hand to the scanner. */
static void sink(struct app_body *b, const struct app_http_env *e, void *user,
		 enum app_dir dir, const uint8_t *p, size_t n)
{
	if (b->decoded_len + n > e->body_cap) {
		n = (size_t)(e->body_cap - b->decoded_len);
		b->flags |= APP_BODY_CAPPED | APP_BODY_TRUNCATED;
		b->hashing = false;
		inflate_close(b);
	}
	for (int i = 0; i < 3 && n; i++)
		if (e->md[i])
			EVP_DigestUpdate(b->ctx[i], p, n);
	b->decoded_len += n;
	if (e->on_body_data && n)
		e->on_body_data(user, dir, p, n);
}

/* Deflate comes zlib-wrapped or raw: a zlib header is CM=8, CINFO<=7 and
 * the two bytes a multiple of 31. */
static bool inflate_open(struct app_body *b)
{
	int wbits = 15 + 16;

	if (b->enc == APP_ENC_DEFLATE) {
		uint8_t c0 = b->peek[0], c1 = b->peek[1];
		bool zlib = (c0 & 0x0f) == 8 && (c0 >> 4) <= 7 && ((c0 << 8) | c1) % 31 == 0;

		wbits = zlib ? 15 : -15;
	}
	b->zs->zalloc = z_alloc;
	b->zs->zfree = z_free;
	b->zs->opaque = b;
	if (inflateInit2(b->zs, wbits) != Z_OK)
		return false;
	b->inflating = true;
	return true;
}

static void decode_fail(struct app_body *b)
{
	b->flags |= APP_BODY_DECODE_ERR | APP_BODY_TRUNCATED;
	b->hashing = false;
	inflate_close(b);
}

static void inflate_feed(struct app_body *b, const struct app_http_env *e, void *user,
			 enum app_dir dir, const uint8_t *p, size_t n)
{
	uint8_t out[BODY_OUT];
	z_stream *zs = b->zs;

	zs->next_in = (Bytef *)(uintptr_t)p;
	zs->avail_in = (uInt)n;
	while (b->hashing && zs->avail_in) {
		zs->next_out = out;
		zs->avail_out = sizeof(out);
		int rc = inflate(zs, Z_NO_FLUSH);
		size_t got = sizeof(out) - zs->avail_out;

		if (got)
			sink(b, e, user, dir, out, got);
		if (!b->hashing)
			return;
		if (rc == Z_STREAM_END) {
			b->z_end = true;
			/* gzip members may follow one another; after deflate, ignore the rest */
			if (b->enc != APP_ENC_GZIP || inflateReset(zs) != Z_OK)
				return;
			continue;
		}
		if (rc != Z_OK && !(rc == Z_BUF_ERROR && got)) {
			/* bytes after a complete member (padding, junk) do not spoil it */
			if (!b->z_end)
				decode_fail(b);
			return;
		}
		if (got)
			b->z_end = false; /* a further member is under way */
	}
}

void app_body_update(struct app_body *b, const struct app_http_env *e, void *user,
		     enum app_dir dir, const uint8_t *p, size_t n)
{
	if (!b->open || !n)
		return;
	b->encoded_len += n;
	if (b->enc_hashing)
		for (int i = 0; i < 3; i++)
			if (e->md[i])
				EVP_DigestUpdate(b->enc_ctx[i], p, n);
	if (!b->hashing)
		return;
	if (!b->zs) {
		sink(b, e, user, dir, p, n);
		return;
	}
	if (b->z_end && b->enc != APP_ENC_GZIP)
		return;
	if (!b->inflating) {
		while (b->peek_have < 2 && n) {
			b->peek[b->peek_have++] = *p++;
			n--;
		}
		if (b->peek_have < 2)
			return;
		if (!inflate_open(b)) {
			decode_fail(b);
			return;
		}
		inflate_feed(b, e, user, dir, b->peek, 2);
	}
	if (n && b->hashing)
		inflate_feed(b, e, user, dir, p, n);
}

void app_body_gap(struct app_body *b)
{
	if (!b->open)
		return;
	b->flags |= APP_BODY_GAP | APP_BODY_TRUNCATED;
	b->hashing = false;
	b->enc_hashing = false;
	inflate_close(b);
}

void app_body_end(struct app_body *b, const struct app_http_env *e,
		  unsigned extra_flags, struct app_body_result *r)
{
	unsigned int len;

	memset(r, 0, sizeof(*r));
	b->flags |= extra_flags;
	/* a coded body that stopped before its end marker is not whole */
	if (b->hashing && b->zs && b->encoded_len && !b->z_end)
		b->flags |= APP_BODY_TRUNCATED | APP_BODY_DECODE_ERR;
	if (!b->hashing && !(b->flags & APP_BODY_TRUNCATED))
		b->flags |= APP_BODY_TRUNCATED; /* nothing or not all was hashed */
	uint8_t *out[3] = {r->md5, r->sha1, r->sha256};
	uint8_t *enc_out[3] = {r->enc_md5, r->enc_sha1, r->enc_sha256};
	for (int i = 0; i < 3; i++) {
		if (e->md[i] && b->ctx[i])
			EVP_DigestFinal_ex(b->ctx[i], out[i], &len);
		if (e->md[i] && b->enc_hashing)
			EVP_DigestFinal_ex(b->enc_ctx[i], enc_out[i], &len);
	}
	if (b->enc_hashing)
		b->flags |= APP_BODY_ENC_DIGESTS;
	r->flags = b->flags;
	r->enc = (enum app_body_enc)b->enc;
	r->decoded_len = b->decoded_len;
	r->encoded_len = b->encoded_len;
	inflate_close(b);
	b->open = false;
	b->hashing = false;
	b->enc_hashing = false;
}
