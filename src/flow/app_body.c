/* HTTP body digests: bytes with their transfer coding removed come in, the
 * content codings (gzip, deflate zlib-wrapped or raw, up to APP_BODY_LAYERS
 * of them one inside the other) are inflated as they stream, MD5/SHA-1/
 * SHA-256 are updated and the decoded bytes are handed to on_body_data (for
 * scanning); a body is never stored whole. MD5 goes to a slot of the
 * environment's MD5 lanes (md5_lanes.h: many bodies side by side, with
 * AVX-512) while one is free, to libcrypto otherwise. gzip headers are read here, not
 * by the inflate engine, so that flags zlib refuses (reserved bits, a wrong
 * header CRC) do not hide a body lenient clients show; a member's trailer is
 * checked when it is there, and a trailer cut short leaves the body whole.
 * The engine is ISA-L where the build has it (2-3 times zlib's speed, 87,368
 * bytes of state a layer against zlib's 39,928), zlib otherwise.
 * Heap: the EVP contexts are allocated at the first body and reused until
 * app_body_fini (keep-alive flows carry many bodies); the inflate states
 * live only while a coded body is open.
 * Owner: struct app_body sits in its HTTP direction; one thread. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#ifdef CS_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif
#include <zlib.h>

#include "cybersieve/app.h"
#include "flow/md5_lanes.h"

#define BODY_OUT 16384 /* inflate output per step and layer, on the stack */
/* Input a guessed raw-deflate layer keeps until its first output, to hand
 * on as it came if the guess fails. */
#define GUESS_HOLD 64

enum layer_mode {
	L_SNIFF,   /* first two bytes: gzip, zlib, raw deflate or not there */
	L_GZHEAD,  /* a gzip member header */
	L_INFLATE,
	L_GZTAIL,  /* CRC-32 and size after a gzip member, checked here (zlib) */
	L_NEXT,    /* after a gzip member: another one, or the end */
	L_PASS,    /* the coding named is not there: bytes go on unchanged */
	L_END,     /* the stream ended; what follows is padding */
};

/* gzip header fields after the fixed ten bytes, in order. */
enum { GZ_FIXED, GZ_XLEN, GZ_EXTRA, GZ_NAME, GZ_COMMENT, GZ_HCRC, GZ_DONE };

/* What an inflating layer reads: raw deflate, a zlib stream (header and
 * Adler-32 checked by the engine), or a gzip member's deflate data and
 * trailer (the header read here). */
enum inf_kind { INF_RAW, INF_ZLIB, INF_GZIP };

/* One engine step. */
enum inf_step {
	INF_MORE,  /* all input taken or the output full */
	INF_END,   /* the stream ended (with its trailer when the engine reads it) */
	INF_BAD,
};

struct body_layer {
#ifdef CS_HAVE_ISAL
	struct inflate_state *st; /* heap while the layer inflates */
#else
	z_stream zs;
	bool zinit;           /* inflateInit2 done */
#endif
	uint8_t kind;         /* enum inf_kind */
	uint8_t named;        /* APP_ENC_GZIP or APP_ENC_DEFLATE, as the head says */
	uint8_t mode;         /* enum layer_mode */
	uint8_t peek[2], peek_have;
	bool guess;           /* raw deflate with nothing to tell it: may be no coding */
	bool produced;        /* this layer has given output */
	bool ended;           /* the deflate data ended (a trailer may still follow) */
	uint8_t flg;          /* gzip FLG */
	uint8_t gz_field;     /* gzip header field under way */
	uint32_t gz_left;     /* bytes left of it (fixed, XLEN, extra, HCRC, trailer) */
	uint32_t xlen;
	uint32_t crc, isize;  /* of a gzip member's output, for its trailer (zlib) */
	uint8_t tail[8];
	uint8_t hold[GUESS_HOLD];
	uint8_t hold_n;
};

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
	/* Without the lanes (no AVX-512, no memory) MD5 stays with libcrypto. */
	if (md5_lanes_create(&e->md5_lanes) != CS_OK)
		e->md5_lanes = NULL;
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
	md5_lanes_destroy(e->md5_lanes);
	e->md5_lanes = NULL;
}

void app_body_init(struct app_body *b)
{
	memset(b, 0, sizeof(*b));
}

/* The inflate engine, behind four calls: inf_start (a new stream of a kind
 * in layer l, reusing its state), inf_run, inf_ended_data, inf_close. */
#ifdef CS_HAVE_ISAL

/* The engine checks a gzip member's trailer itself (CRC-32 and size). */
#define INF_READS_GZIP_TRAILER 1

static bool inf_start(struct app_body *b, struct body_layer *l, enum inf_kind kind)
{
	static const uint32_t flag[] = {
		[INF_RAW] = ISAL_DEFLATE, [INF_ZLIB] = ISAL_ZLIB, [INF_GZIP] = ISAL_GZIP_NO_HDR_VER,
	};
	if (!l->st) {
		/* not zeroed: isal_inflate_init sets what the engine reads */
		if (!(l->st = malloc(sizeof(*l->st))))
			return false;
		b->z_bytes += (uint32_t)sizeof(*l->st);
		isal_inflate_init(l->st);
	} else {
		isal_inflate_reset(l->st);
	}
	l->st->crc_flag = flag[kind];
	l->kind = (uint8_t)kind;
	return true;
}

/* Inflate p[0, n) into out[0, cap): *used input bytes taken, *got made. */
static enum inf_step inf_run(struct body_layer *l, const uint8_t *p, size_t n,
			     uint8_t *out, size_t cap, size_t *used, size_t *got)
{
	struct inflate_state *st = l->st;

	/* ISA-L does not write through next_in; its field is just not const. */
	st->next_in = (uint8_t *)(uintptr_t)p;
	st->avail_in = (uint32_t)n;
	st->next_out = out;
	st->avail_out = (uint32_t)cap;
	int ret = isal_inflate(st);
	/* after an error ISA-L may hand back more input than it was given */
	*used = st->avail_in <= n ? n - st->avail_in : 0;
	*got = cap - st->avail_out;
	if (ret < 0 || ret == ISAL_NEED_DICT)
		return INF_BAD;
	return st->block_state == ISAL_BLOCK_FINISH ? INF_END : INF_MORE;
}

/* Whether a gzip member's deflate data has ended, its trailer cut short. */
static bool inf_ended_data(const struct body_layer *l)
{
	return l->kind == INF_GZIP && l->st && l->st->block_state == ISAL_CHECKSUM_CHECK;
}

static void inf_close(struct app_body *b, struct body_layer *l)
{
	if (l->st) {
		b->z_bytes -= (uint32_t)sizeof(*l->st);
		free(l->st);
		l->st = NULL;
	}
}

#else /* zlib */

#define INF_READS_GZIP_TRAILER 0

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

static bool inf_start(struct app_body *b, struct body_layer *l, enum inf_kind kind)
{
	/* zlib-wrapped, or raw deflate (a gzip member's trailer is read here) */
	int wbits = kind == INF_ZLIB ? 15 : -15;

	l->kind = (uint8_t)kind;
	if (!l->zinit) {
		l->zs.zalloc = z_alloc;
		l->zs.zfree = z_free;
		l->zs.opaque = b;
		if (inflateInit2(&l->zs, wbits) != Z_OK)
			return false;
		l->zinit = true;
		return true;
	}
	return inflateReset2(&l->zs, wbits) == Z_OK;
}

static enum inf_step inf_run(struct body_layer *l, const uint8_t *p, size_t n,
			     uint8_t *out, size_t cap, size_t *used, size_t *got)
{
	l->zs.next_in = (Bytef *)(uintptr_t)p;
	l->zs.avail_in = (uInt)n;
	l->zs.next_out = out;
	l->zs.avail_out = (uInt)cap;
	int rc = inflate(&l->zs, Z_NO_FLUSH);
	*used = n - l->zs.avail_in;
	*got = cap - l->zs.avail_out;
	if (rc == Z_STREAM_END)
		return INF_END;
	/* Z_BUF_ERROR: no progress was possible, fine when no input was given */
	if (rc == Z_OK || (rc == Z_BUF_ERROR && (*got || !n)))
		return INF_MORE;
	return INF_BAD;
}

static bool inf_ended_data(const struct body_layer *l)
{
	(void)l;
	return false; /* zlib ends at the deflate data's end: INF_END */
}

static void inf_close(struct app_body *b, struct body_layer *l)
{
	(void)b;
	if (l->zinit)
		inflateEnd(&l->zs);
	l->zinit = false;
}

#endif

size_t app_body_mem(const struct app_body *b)
{
	size_t n = b->z_bytes + (b->layer ? b->n_layer * sizeof(*b->layer) : 0);
	for (int i = 0; i < 3; i++)
		n += (b->ctx[i] ? APP_MD_CTX_BYTES : 0) + (b->enc_ctx[i] ? APP_MD_CTX_BYTES : 0);
	return n;
}

static void layers_close(struct app_body *b)
{
	for (size_t i = 0; b->layer && i < b->n_layer; i++)
		inf_close(b, &b->layer[i]);
	free(b->layer);
	b->layer = NULL;
	b->n_layer = 0;
}

/* Give back the body's MD5 slots. */
static void lanes_close(struct app_body *b)
{
	if (b->md5_lane)
		md5_lanes_close(b->lanes, b->md5_lane - 1);
	if (b->enc_md5_lane)
		md5_lanes_close(b->lanes, b->enc_md5_lane - 1);
	b->md5_lane = b->enc_md5_lane = 0;
}

void app_body_fini(struct app_body *b)
{
	if (!b)
		return;
	layers_close(b);
	lanes_close(b);
	for (int i = 0; i < 3; i++) {
		EVP_MD_CTX_free(b->ctx[i]);
		EVP_MD_CTX_free(b->enc_ctx[i]);
		b->ctx[i] = b->enc_ctx[i] = NULL;
	}
	b->open = false;
}

/* Start the digests the rules look for; MD5 in a slot of the lanes when
 * one is free (*lane: slot + 1), else in ctx[0]. */
static bool ctx_start(struct app_body *b, EVP_MD_CTX **ctx, uint8_t *lane,
		      const struct app_http_env *e)
{
	for (int i = 0; i < 3; i++) {
		if (!e->md[i])
			continue; /* nobody looks for this digest: do not compute it */
		if (i == 0 && e->md5_lanes) {
			int slot = md5_lanes_open(e->md5_lanes);
			if (slot >= 0) {
				b->lanes = e->md5_lanes;
				*lane = (uint8_t)(slot + 1);
				continue;
			}
		}
		if (!ctx[i] && !(ctx[i] = EVP_MD_CTX_new()))
			return false;
		if (!EVP_DigestInit_ex(ctx[i], e->md[i], NULL))
			return false;
	}
	return true;
}

enum cs_err app_body_begin_layers(struct app_body *b, const struct app_http_env *e,
				  const enum app_body_enc *codings, size_t n)
{
	enum app_body_enc enc = n ? codings[0] : APP_ENC_IDENTITY;

	for (size_t i = 0; i < n && n <= APP_BODY_LAYERS; i++)
		if (codings[i] != APP_ENC_GZIP && codings[i] != APP_ENC_DEFLATE)
			enc = APP_ENC_UNSUPPORTED;
	if (n > APP_BODY_LAYERS)
		enc = APP_ENC_UNSUPPORTED;
	layers_close(b);
	lanes_close(b); /* a body not ended: its digests are dropped */
	b->decoded_len = b->encoded_len = 0;
	b->flags = 0;
	b->enc = (uint8_t)(enc == APP_ENC_UNSUPPORTED || !n ? enc : codings[n - 1]);
	b->open = true;
	b->hashing = ctx_start(b, b->ctx, &b->md5_lane, e);
	b->enc_hashing = false;
	if (enc == APP_ENC_UNSUPPORTED)
		b->flags |= APP_BODY_UNDECODED;
	/* A coding not decoded is hashed as sent already: no second pass. */
	if (b->hashing && enc != APP_ENC_IDENTITY && enc != APP_ENC_UNSUPPORTED &&
	    (e->flags & APP_HTTP_HASH_ENCODED))
		b->enc_hashing = ctx_start(b, b->enc_ctx, &b->enc_md5_lane, e);
	/* Inflating serves the digests and the body scanner: skip it when
	 * neither wants the decoded bytes. */
	bool want = e->md[0] || e->md[1] || e->md[2] || (e->flags & APP_HTTP_DECODE_BODIES);
	if (b->hashing && want && (enc == APP_ENC_GZIP || enc == APP_ENC_DEFLATE)) {
		b->layer = calloc(n, sizeof(*b->layer));
		if (!b->layer) {
			b->hashing = false;
		} else {
			b->n_layer = (uint8_t)n;
			/* the last coding applied is the outermost */
			for (size_t i = 0; i < n; i++)
				b->layer[i].named = (uint8_t)codings[n - 1 - i];
		}
	}
	return b->hashing ? CS_OK : CS_ERR_NOMEM;
}

enum cs_err app_body_begin(struct app_body *b, const struct app_http_env *e,
			   enum app_body_enc enc)
{
	return app_body_begin_layers(b, e, &enc, enc == APP_ENC_IDENTITY ? 0 : 1);
}

/* Decoded bytes: hash up to the cap, hand to the scanner. */
static void sink(struct app_body *b, const struct app_http_env *e, void *user,
		 enum app_dir dir, const uint8_t *p, size_t n)
{
	if (b->decoded_len + n > e->body_cap) {
		n = (size_t)(e->body_cap - b->decoded_len);
		b->flags |= APP_BODY_CAPPED | APP_BODY_TRUNCATED;
		b->hashing = false;
	}
	if (b->md5_lane && n)
		md5_lanes_update(b->lanes, b->md5_lane - 1, p, n);
	for (int i = b->md5_lane ? 1 : 0; i < 3 && n; i++)
		if (e->md[i])
			EVP_DigestUpdate(b->ctx[i], p, n);
	b->decoded_len += n;
	if (e->on_body_data && n)
		e->on_body_data(user, dir, p, n);
}

static void decode_fail(struct app_body *b)
{
	b->flags |= APP_BODY_DECODE_ERR | APP_BODY_TRUNCATED;
	b->hashing = false;
}

struct body_io {
	struct app_body *b;
	const struct app_http_env *e;
	void *user;
	enum app_dir dir;
};

static void layer_feed(const struct body_io *io, size_t li, const uint8_t *p, size_t n);

/* Bytes out of layer li go to the next one in, or to the sink. */
static void pass_on(const struct body_io *io, size_t li, const uint8_t *p, size_t n)
{
	if (!n || !io->b->hashing)
		return;
	if (li + 1 < io->b->n_layer)
		layer_feed(io, li + 1, p, n);
	else
		sink(io->b, io->e, io->user, io->dir, p, n);
}

/* Start inflating layer l as a stream of the kind given. */
static bool layer_inflate(struct app_body *b, struct body_layer *l, enum inf_kind kind)
{
	if (!inf_start(b, l, kind))
		return false;
	l->mode = L_INFLATE;
	return true;
}

/* Choose what layer l is from its first two bytes. */
static bool layer_sniff(struct app_body *b, struct body_layer *l)
{
	uint8_t c0 = l->peek[0], c1 = l->peek[1];

	if (c0 == 0x1f && c1 == 0x8b) {
		l->mode = L_GZHEAD;
		l->gz_field = GZ_FIXED;
		l->gz_left = 8; /* of the ten fixed bytes, after the magic */
		l->crc = (uint32_t)crc32(0, NULL, 0);
		l->isize = 0;
		return true;
	}
	/* a zlib header is CM=8, CINFO<=7 and the two bytes a multiple of 31 */
	if ((c0 & 0x0f) == 8 && (c0 >> 4) <= 7 && ((c0 << 8) | c1) % 31 == 0)
		return layer_inflate(b, l, INF_ZLIB);
	if (l->named != APP_ENC_DEFLATE) {
		l->mode = L_PASS; /* "gzip" that is not gzip: not applied */
		return true;
	}
	l->guess = true;
	return layer_inflate(b, l, INF_RAW);
}

/* The gzip header field after f that FLG says is there, or GZ_DONE. */
static uint8_t gz_next_field(uint8_t flg, uint8_t f)
{
	if (f < GZ_XLEN && (flg & 0x04))
		return GZ_XLEN;
	if (f < GZ_NAME && (flg & 0x08))
		return GZ_NAME;
	if (f < GZ_COMMENT && (flg & 0x10))
		return GZ_COMMENT;
	if (f < GZ_HCRC && (flg & 0x02))
		return GZ_HCRC;
	return GZ_DONE;
}

static void gz_enter(struct body_layer *l, uint8_t f)
{
	l->gz_field = f;
	l->gz_left = f == GZ_XLEN || f == GZ_HCRC ? 2 : 0;
	l->xlen = 0;
}

/* Read gzip header bytes of layer l from p[0, n): how many were used. The
 * reserved FLG bits are passed over and the header CRC is not checked. */
static size_t gz_read_header(struct app_body *b, struct body_layer *l, const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n && l->mode == L_GZHEAD) {
		uint8_t c = p[i++];
		switch (l->gz_field) {
		case GZ_FIXED: /* CM FLG MTIME(4) XFL OS, after the magic */
			if (l->gz_left == 8 && c != 8) {
				decode_fail(b); /* no other method is defined */
				return n;
			}
			if (l->gz_left == 7)
				l->flg = c;
			if (--l->gz_left == 0)
				gz_enter(l, gz_next_field(l->flg, GZ_FIXED));
			break;
		case GZ_XLEN:
			l->xlen |= (uint32_t)c << (l->gz_left == 2 ? 0 : 8);
			if (--l->gz_left == 0) {
				uint32_t x = l->xlen;
				gz_enter(l, x ? GZ_EXTRA : gz_next_field(l->flg, GZ_EXTRA));
				l->gz_left = x;
			}
			break;
		case GZ_EXTRA:
			if (--l->gz_left == 0)
				gz_enter(l, gz_next_field(l->flg, GZ_EXTRA));
			break;
		case GZ_NAME:
		case GZ_COMMENT:
			if (c == 0)
				gz_enter(l, gz_next_field(l->flg, l->gz_field));
			break;
		default: /* GZ_HCRC */
			if (--l->gz_left == 0)
				gz_enter(l, GZ_DONE);
			break;
		}
		if (l->gz_field == GZ_DONE && !layer_inflate(b, l, INF_GZIP)) {
			decode_fail(b);
			return n;
		}
	}
	return i;
}

/* Inflate p[0, n) in layer li, handing the output on: how many bytes the
 * stream took (fewer at its end). A guessed raw layer that fails before
 * any output was no coding: what it held and p[0, n) go on unchanged.
 * Steps go on while input is left or the output filled up, as an engine
 * may hold decoded bytes it had no room for when the input ran out. */
static size_t layer_inflate_feed(const struct body_io *io, size_t li, const uint8_t *p, size_t n)
{
	struct app_body *b = io->b;
	struct body_layer *l = &b->layer[li];
	uint8_t out[BODY_OUT];
	size_t taken = 0, got = sizeof(out);

	while (b->hashing && l->mode == L_INFLATE && (taken < n || got == sizeof(out))) {
		size_t used;
		enum inf_step step = inf_run(l, p + taken, n - taken, out, sizeof(out), &used, &got);

		taken += used;
		if (step == INF_BAD) {
			if (l->guess && !l->produced) {
				l->mode = L_PASS;
				pass_on(io, li, l->hold, l->hold_n);
				pass_on(io, li, p, n);
				return n;
			}
			/* what came out before the fault is still scanned (a
			 * trailer that does not match, say) */
			if (got)
				pass_on(io, li, out, got);
			decode_fail(b);
			return n;
		}
		if (got) {
			l->produced = true;
			if (l->kind == INF_GZIP && !INF_READS_GZIP_TRAILER) {
				l->crc = (uint32_t)crc32(l->crc, out, (uInt)got);
				l->isize += (uint32_t)got;
			}
			pass_on(io, li, out, got);
		}
		if (step == INF_END) {
			l->ended = true;
			if (l->kind != INF_GZIP)
				l->mode = L_END;
			else if (INF_READS_GZIP_TRAILER)
				l->mode = L_NEXT; /* the engine checked the trailer */
			else
				l->mode = L_GZTAIL;
			l->gz_left = 8;
		} else if (!got && used == 0) {
			break; /* nothing moved: the engine wants more input */
		}
	}
	if (inf_ended_data(l))
		l->ended = true; /* a trailer cut short leaves the member whole */
	if (l->guess && !l->produced) {
		if (l->hold_n + n <= GUESS_HOLD) {
			memcpy(l->hold + l->hold_n, p, n);
			l->hold_n = (uint8_t)(l->hold_n + n);
		} else {
			l->guess = false; /* too far in to hand back: a failure is one */
		}
	}
	return taken;
}

static void layer_feed(const struct body_io *io, size_t li, const uint8_t *p, size_t n)
{
	struct app_body *b = io->b;
	struct body_layer *l = &b->layer[li];

	while (n && b->hashing) {
		size_t k = 0;
		switch ((enum layer_mode)l->mode) {
		case L_SNIFF:
		case L_NEXT:
			while (l->peek_have < 2 && k < n)
				l->peek[l->peek_have++] = p[k++];
			if (l->peek_have < 2)
				return;
			l->peek_have = 0;
			if (l->mode == L_NEXT) {
				if (l->peek[0] != 0x1f || l->peek[1] != 0x8b) {
					l->mode = L_END; /* padding or junk after a member */
					return;
				}
				l->ended = false; /* a further member is under way */
			}
			if (!layer_sniff(b, l)) {
				decode_fail(b);
				return;
			}
			if (l->mode == L_PASS)
				pass_on(io, li, l->peek, 2);
			else if (l->mode == L_INFLATE)
				(void)layer_inflate_feed(io, li, l->peek, 2);
			break;
		case L_GZHEAD:
			k = gz_read_header(b, l, p, n);
			break;
		case L_INFLATE:
			k = layer_inflate_feed(io, li, p, n);
			break;
		case L_GZTAIL:
			while (l->gz_left && k < n)
				l->tail[8 - l->gz_left--] = p[k++];
			if (l->gz_left)
				break;
			/* CRC-32 and size, little-endian: a member that decoded to
			 * other bytes than were packed is corrupt (a cut trailer
			 * is not checked: the stream itself ended whole) */
			if (((uint32_t)l->tail[0] | (uint32_t)l->tail[1] << 8 |
			     (uint32_t)l->tail[2] << 16 | (uint32_t)l->tail[3] << 24) != l->crc ||
			    ((uint32_t)l->tail[4] | (uint32_t)l->tail[5] << 8 |
			     (uint32_t)l->tail[6] << 16 | (uint32_t)l->tail[7] << 24) != l->isize) {
				decode_fail(b);
				return;
			}
			l->mode = L_NEXT;
			break;
		case L_PASS:
			pass_on(io, li, p, n);
			return;
		case L_END:
		default:
			return;
		}
		p += k;
		n -= k;
	}
}

void app_body_update(struct app_body *b, const struct app_http_env *e, void *user,
		     enum app_dir dir, const uint8_t *p, size_t n)
{
	if (!b->open || !n)
		return;
	b->encoded_len += n;
	if (b->enc_hashing) {
		if (b->enc_md5_lane)
			md5_lanes_update(b->lanes, b->enc_md5_lane - 1, p, n);
		for (int i = b->enc_md5_lane ? 1 : 0; i < 3; i++)
			if (e->md[i])
				EVP_DigestUpdate(b->enc_ctx[i], p, n);
	}
	if (!b->hashing)
		return;
	if (!b->layer) {
		sink(b, e, user, dir, p, n);
		return;
	}
	struct body_io io = {b, e, user, dir};
	layer_feed(&io, 0, p, n);
}

void app_body_gap(struct app_body *b)
{
	if (!b->open)
		return;
	b->flags |= APP_BODY_GAP | APP_BODY_TRUNCATED;
	b->hashing = false;
	b->enc_hashing = false;
	layers_close(b);
}

/* Whether every layer that decodes reached its stream's end. */
static bool layers_whole(const struct app_body *b)
{
	for (size_t i = 0; i < b->n_layer; i++) {
		const struct body_layer *l = &b->layer[i];
		if (l->mode != L_PASS && !l->ended)
			return false;
	}
	return true;
}

void app_body_end(struct app_body *b, const struct app_http_env *e,
		  unsigned extra_flags, struct app_body_result *r)
{
	unsigned int len;

	memset(r, 0, sizeof(*r));
	b->flags |= extra_flags;
	/* a coded body that stopped before its end marker is not whole */
	if (b->hashing && b->layer && b->encoded_len && !layers_whole(b))
		b->flags |= APP_BODY_TRUNCATED | APP_BODY_DECODE_ERR;
	if (!b->hashing && !(b->flags & APP_BODY_TRUNCATED))
		b->flags |= APP_BODY_TRUNCATED; /* nothing or not all was hashed */
	uint8_t *out[3] = {r->md5, r->sha1, r->sha256};
	uint8_t *enc_out[3] = {r->enc_md5, r->enc_sha1, r->enc_sha256};
	bool lane_done = false, enc_lane_done = false;
	if (b->md5_lane) {
		md5_lanes_final(b->lanes, b->md5_lane - 1, out[0]);
		b->md5_lane = 0;
		lane_done = true;
	}
	if (b->enc_md5_lane && b->enc_hashing) {
		md5_lanes_final(b->lanes, b->enc_md5_lane - 1, enc_out[0]);
		b->enc_md5_lane = 0;
		enc_lane_done = true;
	}
	lanes_close(b); /* an encoded MD5 not asked for */
	for (int i = 0; i < 3; i++) {
		if (e->md[i] && b->ctx[i] && !(i == 0 && lane_done))
			EVP_DigestFinal_ex(b->ctx[i], out[i], &len);
		if (e->md[i] && b->enc_hashing && !(i == 0 && enc_lane_done))
			EVP_DigestFinal_ex(b->enc_ctx[i], enc_out[i], &len);
	}
	if (b->enc_hashing)
		b->flags |= APP_BODY_ENC_DIGESTS;
	r->flags = b->flags;
	r->enc = (enum app_body_enc)b->enc;
	r->decoded_len = b->decoded_len;
	r->encoded_len = b->encoded_len;
	layers_close(b);
	b->open = false;
	b->hashing = false;
	b->enc_hashing = false;
}
