/* TLS ClientHello: server_name (host_name) and ALPN from the client's stream.
 * The hello is walked as a byte stream across records and pieces: fixed
 * fields are read into a 4-byte scratch, everything else is skipped by count,
 * and only the server_name and ALPN extension bytes are kept (bounded). So a
 * hello split at every byte costs nothing more than a whole one.
 * Owner: the flow owns struct app_tls; the worker owns the stats; one thread. */
#include <string.h>

#include "cybersieve/app.h"

#define TLS_CT_HANDSHAKE 22
#define TLS_HS_CLIENT_HELLO 1
#define TLS_REC_MAX (16384u + 2048u)
#define TLS_EXT_SNI 0
#define TLS_EXT_ALPN 16

/* Layout steps: each names the field read next. */
enum tls_step {
	ST_HDR = 0,  /* handshake type + 24-bit length */
	ST_SID,      /* session id length (after 2 version + 32 random) */
	ST_CS,       /* cipher suites length */
	ST_COMP,     /* compression methods length */
	ST_EXTS,     /* extensions block length (optional) */
	ST_EXT,      /* extension type + length */
	ST_KEEP,     /* bytes of a kept extension */
	ST_EXT_NEXT, /* after one extension */
};

static const uint8_t step_want[] = { 4, 1, 2, 1, 2, 4, 0, 0 };

void app_tls_init(struct app_tls *t)
{
	memset(t, 0, sizeof(*t));
	t->want = step_want[ST_HDR];
}

static enum app_tls_status finish(struct app_tls *t, enum app_tls_status s)
{
	t->status = (uint8_t)s;
	return s;
}

static enum app_tls_status give_up(struct app_tls *t, uint64_t *counter)
{
	if (counter)
		(*counter)++;
	return finish(t, APP_TLS_GAVE_UP);
}

static uint32_t hs_remaining(const struct app_tls *t)
{
	return t->hello_len + 4 - t->hello_pos;
}

static void go(struct app_tls *t, enum tls_step s, uint32_t skip)
{
	t->step = (uint8_t)s;
	t->want = step_want[s];
	t->fld_have = 0;
	t->skip = skip;
}

static bool host_byte_ok(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

/* server_name: list length, then (type, length, name) entries; the first
 * host_name entry is made the text of t->sni. */
static void parse_sni(struct app_tls *t, struct app_tls_stats *st)
{
	const uint8_t *b = (const uint8_t *)t->sni;
	size_t have = t->ext_got < APP_TLS_SNI_RAW - 1 ? t->ext_got : APP_TLS_SNI_RAW - 1;
	size_t pos = 2;

	t->sni_len = 0;
	if (have < 2 || (size_t)((b[0] << 8) | b[1]) + 2 > t->ext_len)
		goto bad;
	while (pos + 3 <= have) {
		uint8_t type = b[pos];
		size_t n = (size_t)((b[pos + 1] << 8) | b[pos + 2]);

		pos += 3;
		if (pos + n > have)
			goto bad;
		if (type != 0) {
			pos += n;
			continue;
		}
		while (n && b[pos + n - 1] == '.')
			n--;
		if (n == 0 || n > APP_NAME_MAX)
			goto bad;
		for (size_t i = 0; i < n; i++) {
			uint8_t c = b[pos + i];

			if (!host_byte_ok(c))
				goto bad;
			t->sni[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		t->sni[n] = '\0';
		t->sni_len = (uint8_t)n;
		if (st)
			st->sni++;
		return;
	}
bad:
	if (st)
		st->bad_sni++;
}

/* ALPN: list length, then (length, name) entries, rewritten in place as
 * "a,b" (the text is always shorter than the wire form). */
static void parse_alpn(struct app_tls *t)
{
	uint8_t *b = (uint8_t *)t->alpn;
	size_t have = t->ext_got < APP_TLS_ALPN_RAW - 1 ? t->ext_got : APP_TLS_ALPN_RAW - 1;
	size_t r = 2, w = 0;

	t->alpn_len = 0;
	while (r < have) {
		size_t n = b[r++];
		bool ok = n > 0 && r + n <= have;

		for (size_t i = 0; ok && i < n; i++)
			ok = b[r + i] > 0x20 && b[r + i] < 0x7f && b[r + i] != ',';
		if (ok) {
			if (w)
				b[w++] = ',';
			memmove(b + w, b + r, n);
			w += n;
		}
		r += n;
	}
	b[w] = '\0';
	t->alpn_len = (uint8_t)w;
}

/* A fixed field is complete in t->fld: check it and choose what follows. */
static enum app_tls_status field_done(struct app_tls *t, struct app_tls_stats *st)
{
	const uint8_t *f = t->fld;
	uint32_t v16 = (uint32_t)((f[0] << 8) | f[1]);

	switch ((enum tls_step)t->step) {
	case ST_HDR:
		if (f[0] != TLS_HS_CLIENT_HELLO) {
			if (st)
				st->not_hello++;
			return finish(t, APP_TLS_NOT_HELLO);
		}
		t->hello_len = ((uint32_t)f[1] << 16) | ((uint32_t)f[2] << 8) | f[3];
		if (t->hello_len > APP_TLS_HELLO_CAP)
			return give_up(t, st ? &st->too_big : NULL);
		if (t->hello_len < 38)
			return give_up(t, st ? &st->malformed : NULL);
		go(t, ST_SID, 34);
		return APP_TLS_MORE;
	case ST_SID:
		go(t, ST_CS, f[0]);
		break;
	case ST_CS:
		go(t, ST_COMP, v16);
		break;
	case ST_COMP:
		go(t, ST_EXTS, f[0]);
		break;
	case ST_EXTS:
		if (v16 != hs_remaining(t))
			return give_up(t, st ? &st->malformed : NULL);
		t->ext_left = (uint16_t)v16;
		go(t, ST_EXT_NEXT, 0);
		break;
	case ST_EXT: {
		uint32_t len = (uint32_t)((f[2] << 8) | f[3]);

		if (4u + len > t->ext_left)
			return give_up(t, st ? &st->malformed : NULL);
		t->ext_left = (uint16_t)(t->ext_left - 4u - len);
		t->ext_type = v16;
		t->ext_len = (uint16_t)len;
		t->ext_got = 0;
		if (v16 == TLS_EXT_SNI || v16 == TLS_EXT_ALPN)
			go(t, ST_KEEP, 0);
		else
			go(t, ST_EXT_NEXT, len);
		break;
	}
	default:
		break;
	}
	if (t->skip > hs_remaining(t))
		return give_up(t, st ? &st->malformed : NULL);
	return APP_TLS_MORE;
}

/* Steps that read nothing: decide what comes next. */
static enum app_tls_status settle(struct app_tls *t, struct app_tls_stats *st)
{
	if (t->skip)
		return APP_TLS_MORE;
	if (t->step == ST_EXTS && hs_remaining(t) == 0)
		goto done;
	if (t->step == ST_KEEP && t->ext_got == t->ext_len) {
		if (t->ext_type == TLS_EXT_SNI)
			parse_sni(t, st);
		else
			parse_alpn(t);
		go(t, ST_EXT_NEXT, 0);
	}
	if (t->step == ST_EXT_NEXT) {
		if (t->ext_left == 0)
			goto done;
		go(t, ST_EXT, 0);
	}
	if (t->step != ST_HDR && (uint32_t)(t->want - t->fld_have) > hs_remaining(t))
		return give_up(t, st ? &st->malformed : NULL);
	return APP_TLS_MORE;
done:
	if (st)
		st->hellos++;
	return finish(t, APP_TLS_DONE);
}

/* Keep the first bytes of a kept extension; count the rest as passed. */
static size_t keep_bytes(struct app_tls *t, const uint8_t *p, size_t n)
{
	size_t k = (size_t)(t->ext_len - t->ext_got);
	char *dst = t->ext_type == TLS_EXT_SNI ? t->sni : t->alpn;
	size_t cap = t->ext_type == TLS_EXT_SNI ? APP_TLS_SNI_RAW - 1 : APP_TLS_ALPN_RAW - 1;

	if (k > n)
		k = n;
	for (size_t i = 0; i < k; i++) {
		size_t at = t->ext_got + i;

		if (at < cap)
			dst[at] = (char)p[i];
	}
	t->ext_got = (uint16_t)(t->ext_got + k);
	return k;
}

/* Handshake bytes (record framing already removed). */
static enum app_tls_status hs_consume(struct app_tls *t, const uint8_t *p, size_t n,
				      struct app_tls_stats *st)
{
	enum app_tls_status s = APP_TLS_MORE;

	while (s == APP_TLS_MORE) {
		s = settle(t, st);
		if (s != APP_TLS_MORE || n == 0)
			break;
		size_t k;

		if (t->skip) {
			k = n < t->skip ? n : t->skip;
			t->skip -= (uint32_t)k;
		} else if (t->step == ST_KEEP) {
			k = keep_bytes(t, p, n);
		} else {
			k = 1;
			t->fld[t->fld_have++] = *p;
			t->hello_pos++;
			p++;
			n--;
			if (t->fld_have == t->want)
				s = field_done(t, st);
			continue;
		}
		t->hello_pos += (uint32_t)k;
		p += k;
		n -= k;
	}
	return s;
}

static enum app_tls_status record_header(struct app_tls *t, struct app_tls_stats *st)
{
	const uint8_t *h = t->rec_hdr;
	uint32_t len = (uint32_t)((h[3] << 8) | h[4]);
	bool first = t->hello_pos == 0;

	if (h[0] != TLS_CT_HANDSHAKE || h[1] != 3 || h[2] > 4 || len == 0 || len > TLS_REC_MAX) {
		if (!first)
			return give_up(t, st ? &st->malformed : NULL);
		if (st)
			st->not_tls++;
		return finish(t, APP_TLS_NOT_TLS);
	}
	t->rec_left = (uint16_t)len;
	t->rec_hdr_have = 0;
	return APP_TLS_MORE;
}

enum app_tls_status app_tls_feed(struct app_tls *t, const uint8_t *p, size_t n,
				 struct app_tls_stats *st)
{
	enum app_tls_status s = (enum app_tls_status)t->status;

	while (s == APP_TLS_MORE && n) {
		if (t->rec_left == 0) {
			/* decide "not TLS" on the very first byte where we can */
			if (t->hello_pos == 0 && t->rec_hdr_have == 0 && *p != TLS_CT_HANDSHAKE) {
				if (st)
					st->not_tls++;
				return finish(t, APP_TLS_NOT_TLS);
			}
			t->rec_hdr[t->rec_hdr_have++] = *p++;
			n--;
			if (t->rec_hdr_have == 5)
				s = record_header(t, st);
			continue;
		}
		size_t k = n < t->rec_left ? n : t->rec_left;

		s = hs_consume(t, p, k, st);
		t->rec_left = (uint16_t)(t->rec_left - k);
		p += k;
		n -= k;
	}
	t->status = (uint8_t)s;
	return s;
}

void app_tls_gap(struct app_tls *t, uint64_t n, struct app_tls_stats *st)
{
	if (n && t->status == APP_TLS_MORE)
		give_up(t, st ? &st->gaps : NULL);
}

const char *app_tls_sni(const struct app_tls *t, size_t *len)
{
	if (t->status != APP_TLS_DONE || t->sni_len == 0)
		return NULL;
	if (len)
		*len = t->sni_len;
	return t->sni;
}

const char *app_tls_alpn(const struct app_tls *t, size_t *len)
{
	if (t->status != APP_TLS_DONE || t->alpn_len == 0)
		return NULL;
	if (len)
		*len = t->alpn_len;
	return t->alpn;
}
