/* Suricata dataset files: one value a line, no header, so the type comes
 * from the caller ("suricata-md5:FILE", ...). md5 and sha256 are hex;
 * string values are base64 of the bytes and become literals; ipv4/ip need the
 * ip type. A ",..." after the value (datarep reputation) is ignored.
 * Ids are "L<line>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match/import_int.h"

#define DS_STRING_MAX (16u * 1024u) /* decoded bytes of one string value */

static int b64_val(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* Decode base64 into out (cap bytes); -1 on a bad character or length. */
static long b64_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return -1;
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64_val(s[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			out[o++] = (unsigned char)(acc >> bits & 0xFF);
		}
	}
	return (long)o;
}

/* Bytes -> the pack format's literal escapes (\\ and \xHH), so that any byte
 * string survives normalisation unchanged. */
static size_t escape_literal(const unsigned char *b, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (b[i] == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (b[i] < 0x20 || b[i] >= 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[b[i] >> 4];
			out[o++] = hex[b[i] & 15];
		} else {
			out[o++] = (char)b[i];
		}
	}
	return o;
}

static enum cs_err ds_string(struct import_ctx *c, const char *id, const char *s, size_t n,
			     uint32_t line, unsigned char *raw, char *esc)
{
	long r = b64_decode(s, n, raw, DS_STRING_MAX);
	if (r <= 0) {
		import_note(c, IMPORT_K_INVALID, "dataset lines invalid (not base64)", id);
		return CS_OK;
	}
	size_t en = escape_literal(raw, (size_t)r, esc);
	return import_add(c, id, IND_LITERAL, 0, esc, en, line, "dataset lines");
}

static enum cs_err ds_line(struct import_ctx *c, const char *s, size_t n, uint32_t line,
			   unsigned char *raw, char *esc)
{
	char id[32];
	snprintf(id, sizeof(id), "L%u", line);
	const char *comma = memchr(s, ',', n);
	if (comma)
		n = (size_t)(comma - s);
	enum ind_type t;
	switch (c->o->dataset) {
	case IMPORT_DS_STRING:
		return ds_string(c, id, s, n, line, raw, esc);
	case IMPORT_DS_MD5:
		t = IND_MD5;
		break;
	case IMPORT_DS_SHA256:
		t = IND_SHA256;
		break;
	default:
		if (!import_type_by_name("ip", &t)) {
			import_note(c, IMPORT_K_UNSUPPORTED, "dataset lines unsupported (type ip)",
				    id);
			return CS_OK;
		}
		break;
	}
	return import_add(c, id, t, 0, s, n, line, "dataset lines");
}

enum cs_err import_suricata(struct import_ctx *c, const char *buf, size_t len)
{
	if (c->o->dataset == IMPORT_DS_NONE) {
		cs_diag_set(c->d, c->p->path, CS_DIAG_NONE, CS_DIAG_NONE,
			    "Suricata dataset: the type must be given (suricata-md5:, "
			    "suricata-sha256:, suricata-string:, suricata-ipv4:, suricata-ip:)");
		return CS_ERR_INVALID;
	}
	unsigned char *raw = malloc(DS_STRING_MAX);
	char *esc = malloc(DS_STRING_MAX * 4);
	enum cs_err e = raw && esc ? CS_OK : CS_ERR_NOMEM;
	size_t pos = 0, n;
	const char *s;
	uint32_t line = 0;
	while (!e && import_next_line(buf, len, &pos, &s, &n)) {
		line++;
		if (n > 0)
			e = ds_line(c, s, n, line, raw, esc);
	}
	free(raw);
	free(esc);
	return e;
}
