/* HTTP/1.x: request fields, URL building, pipelining and response matching,
 * body framing (length, chunked, close), gzip/deflate decoding with digests
 * checked against EVP over the plain bytes, byte-at-a-time feeding, gaps,
 * caps, and real streams with the digests Arkime expects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "cybersieve/app.h"
#include "flow/md5_lanes.h"

#define MAXB 16

struct rec {
	int reqs, resps, bodies;
	char url[8][512];
	int status[8];
	struct app_body_result body[MAXB];
	uint64_t data_bytes;
};

static void on_req(void *user, const struct app_http_msg *m)
{
	struct rec *r = user;

	if (r->reqs < 8) {
		size_t len;
		if (app_http_build_url(r->url[r->reqs], sizeof(r->url[0]), &len, m->uri, m->uri_len,
				       m->host, m->host_len) != CS_OK)
			snprintf(r->url[r->reqs], sizeof(r->url[0]), "%.*s", (int)m->uri_len, m->uri);
	}
	assert_int_equal(m->seq, r->reqs);
	r->reqs++;
}

static void on_resp(void *user, const struct app_http_msg *m)
{
	struct rec *r = user;

	if (r->resps < 8)
		r->status[r->resps] = m->status;
	r->resps++;
}

static void on_data(void *user, enum app_dir dir, const uint8_t *p, size_t n)
{
	(void)dir;
	(void)p;
	((struct rec *)user)->data_bytes += n;
}

static void on_done(void *user, const struct app_body_result *res)
{
	struct rec *r = user;

	if (r->bodies < MAXB)
		r->body[r->bodies] = *res;
	r->bodies++;
}

static struct app_http_env env;
static struct app_http_stats stats;

static int setup(void **state)
{
	(void)state;
	assert_int_equal(app_http_env_init(&env, NULL), CS_OK);
	env.on_request = on_req;
	env.on_response = on_resp;
	env.on_body_data = on_data;
	env.on_body_done = on_done;
	env.stats = &stats;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	app_http_env_fini(&env);
	return 0;
}

static void digest(const char *alg, const void *p, size_t n, uint8_t *out)
{
	unsigned len;

	assert_int_equal(EVP_Digest(p, n, out, &len, EVP_get_digestbyname(alg), NULL), 1);
}

static void expect_digests(const struct app_body_result *r, const void *plain, size_t n)
{
	uint8_t md5[16], sha1[20], sha256[32];

	digest("MD5", plain, n, md5);
	digest("SHA1", plain, n, sha1);
	digest("SHA256", plain, n, sha256);
	assert_memory_equal(r->md5, md5, 16);
	assert_memory_equal(r->sha1, sha1, 20);
	assert_memory_equal(r->sha256, sha256, 32);
	assert_int_equal(r->decoded_len, n);
	assert_false(r->flags & APP_BODY_TRUNCATED);
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* Feed a whole direction in pieces of `piece` bytes. */
static enum app_http_status feed(struct app_http *h, struct rec *r, enum app_dir dir,
				 const void *data, size_t n, size_t piece)
{
	const uint8_t *p = data;
	enum app_http_status s = APP_HTTP_MORE;

	for (size_t off = 0; off < n; off += piece) {
		size_t k = n - off < piece ? n - off : piece;
		s = app_http_feed(h, &env, r, dir, p + off, k);
	}
	return s;
}

static void test_request_and_url(void **state)
{
	(void)state;
	struct app_http h;
	struct rec r = { 0 };
	const char *req = "GET /a/b?c=1 HTTP/1.1\r\nHost: WWW.Example.ORG\r\nAccept: */*\r\n\r\n"
			  "GET http://Other.NET:8080/x HTTP/1.1\r\nHost: ignored\r\n\r\n"
			  "\r\nPOST /up HTTP/1.0\nhost:h\ncontent-length: 3\n\nabc";

	app_http_init(&h);
	assert_int_equal(feed(&h, &r, APP_DIR_C2S, req, strlen(req), 4096), APP_HTTP_MORE);
	assert_int_equal(r.reqs, 3);
	assert_string_equal(r.url[0], "http://www.example.org/a/b?c=1");
	assert_string_equal(r.url[1], "http://other.net:8080/x");
	assert_string_equal(r.url[2], "http://h/up");
	assert_int_equal(r.bodies, 1);
	expect_digests(&r.body[0], "abc", 3);
	assert_int_equal(r.body[0].dir, APP_DIR_C2S);
	assert_int_equal(r.body[0].req_seq, 2);
	app_http_fini(&h);

	char out[64];
	size_t len;
	assert_int_equal(app_http_build_url(out, sizeof(out), &len, "h:443", 5, NULL, 0),
			 CS_ERR_UNSUPPORTED);
	assert_int_equal(app_http_build_url(out, sizeof(out), &len, "*", 1, "h", 1),
			 CS_ERR_UNSUPPORTED);
	assert_int_equal(app_http_build_url(out, sizeof(out), &len, "/x", 2, NULL, 0),
			 CS_ERR_INVALID);
	assert_int_equal(app_http_build_url(out, 10, &len, "/abcdef", 7, "host", 4), CS_ERR_LIMIT);
}

static void test_pipelining_no_body(void **state)
{
	(void)state;
	struct app_http h;
	struct rec r = { 0 };
	const char *req = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
			  "HEAD /2 HTTP/1.1\r\nHost: a\r\n\r\n"
			  "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n"
			  "GET /4 HTTP/1.1\r\nHost: a\r\n\r\n"
			  "GET /5 HTTP/1.1\r\nHost: a\r\n\r\n";
	const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
			   "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"   /* HEAD: none */
			   "HTTP/1.1 100 Continue\r\n\r\n"
			   "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n"
			   "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"
			   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			   "3\r\nend\r\n0\r\n\r\n";

	for (size_t piece = 1; piece <= 64; piece *= 4) {
		app_http_init(&h);
		memset(&r, 0, sizeof(r));
		feed(&h, &r, APP_DIR_C2S, req, strlen(req), piece);
		feed(&h, &r, APP_DIR_S2C, resp, strlen(resp), piece);
		assert_int_equal(r.reqs, 5);
		assert_int_equal(r.resps, 6);
		assert_int_equal(r.status[2], 100);
		assert_int_equal(r.bodies, 2);
		expect_digests(&r.body[0], "hello", 5);
		assert_int_equal(r.body[0].req_seq, 0);
		expect_digests(&r.body[1], "end", 3);
		assert_int_equal(r.body[1].req_seq, 4);
		assert_int_equal(r.body[1].dir, APP_DIR_S2C);
		app_http_fini(&h);
	}
}

/* Compress with zlib: wbits 31 gzip, 15 zlib-wrapped, -15 raw deflate. */
static size_t compress_to(const uint8_t *in, size_t n, uint8_t *out, size_t cap, int wbits)
{
	z_stream z = { 0 };

	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	size_t o = z.total_out;
	deflateEnd(&z);
	return o;
}

/* Chunk `body` into chunks of `csz` bytes with an extension on each line. */
static size_t chunkify(const uint8_t *body, size_t n, size_t csz, char *out)
{
	size_t o = 0;

	for (size_t off = 0; off < n; off += csz) {
		size_t k = n - off < csz ? n - off : csz;
		o += (size_t)sprintf(out + o, "%zX;name=\"v\"\r\n", k);
		memcpy(out + o, body + off, k);
		o += k;
		memcpy(out + o, "\r\n", 2);
		o += 2;
	}
	o += (size_t)sprintf(out + o, "0\r\nX-Trailer: yes\r\n\r\n");
	return o;
}

static void test_chunked_coded_bodies(void **state)
{
	(void)state;
	size_t plain_n = 200000;
	uint8_t *plain = malloc(plain_n);
	uint8_t *z = malloc(plain_n + 1024);
	char *msg = malloc(plain_n * 2 + 4096);
	static const struct { int wbits; const char *name; } codings[] = {
		{ 31, "gzip" }, { 15, "deflate" }, { -15, "deflate" }, { 31, "x-gzip" },
	};

	for (size_t i = 0; i < plain_n; i++) /* compressible but not trivial */
		plain[i] = (uint8_t)("indicator-"[i % 10] ^ ((i / 1000) & 7));
	for (size_t c = 0; c < 4; c++) {
		size_t zn = compress_to(plain, plain_n, z, plain_n + 1024, codings[c].wbits);
		int o = sprintf(msg, "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\n"
				"Transfer-Encoding: chunked\r\n\r\n", codings[c].name);
		size_t mn = (size_t)o + chunkify(z, zn, 777, msg + o);
		size_t pieces[] = { 1, 13, 1500, mn };

		for (size_t pi = 0; pi < 4; pi++) {
			struct app_http h;
			struct rec r = { 0 };

			app_http_init(&h);
			feed(&h, &r, APP_DIR_S2C, msg, mn, pieces[pi]);
			assert_int_equal(r.bodies, 1);
			expect_digests(&r.body[0], plain, plain_n);
			assert_int_equal(r.body[0].encoded_len, zn);
			assert_int_equal(r.body[0].wire_len, mn - (size_t)o);
			assert_int_equal(r.body[0].enc, c == 0 || c == 3 ? APP_ENC_GZIP : APP_ENC_DEFLATE);
			assert_int_equal(r.data_bytes, plain_n);
			app_http_fini(&h);
		}
	}

	/* corrupt gzip: truncated and flagged, never a full-body digest */
	size_t zn = compress_to(plain, plain_n, z, plain_n + 1024, 31);
	z[zn / 2] ^= 0xff;
	int o = sprintf(msg, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", zn);
	memcpy(msg + o, z, zn);
	struct app_http h;
	struct rec r = { 0 };
	app_http_init(&h);
	feed(&h, &r, APP_DIR_S2C, msg, (size_t)o + zn, 4096);
	assert_int_equal(r.bodies, 1);
	assert_true(r.body[0].flags & APP_BODY_TRUNCATED);
	assert_true(r.body[0].flags & APP_BODY_DECODE_ERR);
	app_http_fini(&h);

	free(plain);
	free(z);
	free(msg);
}

/* A head as written, with its length (heads below hold NUL bytes). */
struct rawhead {
	const char *s;
	size_t n;
};
#define RH(lit) { lit, sizeof(lit) - 1 }

/* Feed head + body whole and a byte at a time: one body, decoded to plain. */
static void expect_lenient(const struct rawhead *hd, const uint8_t *body, size_t bn,
			   const char *plain)
{
	char *msg = malloc(hd->n + bn + 1);

	assert_non_null(msg);
	memcpy(msg, hd->s, hd->n);
	memcpy(msg + hd->n, body, bn);
	for (size_t piece = 1; piece <= hd->n + bn; piece += hd->n + bn - 1) {
		struct app_http h;
		struct rec r = { 0 };

		app_http_init(&h);
		feed(&h, &r, APP_DIR_S2C, msg, hd->n + bn, piece);
		app_http_close(&h, &env, &r, APP_DIR_S2C);
		if (r.bodies != 1 || r.body[0].decoded_len != strlen(plain))
			fail_msg("head %zu bytes '%.40s...': %d bodies, %zu decoded", hd->n, hd->s,
				 r.bodies, r.bodies ? (size_t)r.body[0].decoded_len : 0);
		expect_digests(&r.body[0], plain, strlen(plain));
		app_http_fini(&h);
	}
	free(msg);
}

/* Heads that lenient clients read one way and a strict parser another: the
 * framing and coding found as they find them (status versions, spacing and
 * junk around names, NUL bytes, bare CR line ends, folded lines, repeated
 * and decorated coding values). */
static void test_lenient_heads(void **state)
{
	(void)state;
	static const char plain[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-TEST";
	char chunked[200];
	int cn = sprintf(chunked, "5\r\n%.5s\r\n%zx\r\n%s\r\n0\r\n\r\n", plain, strlen(plain) - 5,
			 plain + 5);
	static const struct rawhead te[] = {
		RH("HTTP/1.1 200 ok\r\nTransfer-Encoding: chunked\r\n\r\n"),
		RH("HTTP/2.0 200 ok\r\nTransfer-Encoding: chunked\r\n\r\n"),
		RH("http/1.1 200 ok\r\nTransfer-Encoding: chunked\r\n\r\n"),
		RH("HTTP/1.10 200 ok\r\nTransfer-Encoding: chunked\r\n\r\n"),
		RH("HTTP/1.1 200 ok\r\nTransfer-Encoding: xchunked\r\n\r\n"),
		RH("HTTP/1.1 200 ok\r\nTransfer-Encoding: chunked x\r\n\r\n"),
		RH("HTTP/1.1 200 ok\r\nTransfer-Encoding : chunked\r\n\r\n"),
		RH("HTTP/1.1 200 ok\r\nTransfer-Encoding\t: chunked\r\n\r\n"),
		RH("HTTP/1.1 200 ok\r\nTransfer-Encoding:: chunked\r\n\r\n"),
		RH("HTTP/1.1 200 ok\r\nTransfer\0-encoding: chunked\r\n\r\n"),
		RH("HTTP/1.1 200 ok\r\nTransfer-Encoding\v: chunked\r\n\r\n"),
		RH("HTTP/1.1 200 ok\r\nTransfer-Encoding: chu\0nked\r\n\r\n"),
		RH("HTTP/1.1 200 ok\r\nTransfer-Encoding: lalala\r\nTransfer-Encoding: chunked\r\n"
		   "Transfer-Encoding: lalala\r\n\r\n"),
		RH("HTTP/1.1 200 ok\r\nConnection: close\r\n Transfer-Encoding: chunked\r\n"
		   "X: y\r\n\r\n"),
		RH("HTTP/1.1 200 ok\r\nTransfer-Encoding\r\n :\r\n chunked\r\nX: y\r\n\r\n"),
		RH("HTTP/1.1 200 ok\r\nTransfer-Encoding\r :chunked\r\n\r\n"),
		RH("HTTP/1.1 200 ok\r\nX: \"a.txt\"\rTransfer-Encoding: chunked\r\n\r\n"),
		RH("HTTP/1.1 200 ok\r\nTransfer-Encoding: \r chunked\r\n\r\n"),
		RH("HTTP/1.1 200 ok\r\nX: y\r\n\r\rTransfer-Encoding: chunked\r\n\r\n"),
	};
	for (size_t i = 0; i < sizeof(te) / sizeof(te[0]); i++)
		expect_lenient(&te[i], (const uint8_t *)chunked, (size_t)cn, plain);

	uint8_t gz[256], df[256];
	size_t gn = compress_to((const uint8_t *)plain, strlen(plain), gz, sizeof(gz), 31);
	size_t dn = compress_to((const uint8_t *)plain, strlen(plain), df, sizeof(df), -15);
	static const char *const ce_gzip[] = {
		"Content-Encoding : gzip", "Content-Encoding:: gzip", "Content-Encoding: gzip x",
		"Content-Encoding: x gzip", "Content-Encoding:\r gzip", "X: y\rContent-Encoding: gzip",
	};
	static const char *const ce_deflate[] = {"Content-Encoding: x-deflate",
						 "Content-Encoding\t:deflate"};
	char buf[256];
	for (size_t i = 0; i < 8; i++) {
		bool g = i < 6;
		int n = sprintf(buf, "HTTP/1.1 200 ok\r\nContent-Length: %zu\r\n%s\r\n\r\n", g ? gn : dn,
				g ? ce_gzip[i] : ce_deflate[i - 6]);
		struct rawhead hd = { buf, (size_t)n };
		expect_lenient(&hd, g ? gz : df, g ? gn : dn, plain);
	}
}

/* Chunk-size lines with junk after the digits or blanks before them, as
 * lenient clients read them; a line that starts with junk still fails. */
static void test_lenient_chunk_lines(void **state)
{
	(void)state;
	static const char plain[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-TEST";
	static const struct rawhead pre[] = {RH(""), RH(" "), RH("\t"), RH("\r"), RH("\n"),
					     RH("\r\n"), RH("\r\n\r\n"), RH("\v"), RH("\f")};
	static const struct rawhead post[] = {RH(""), RH("x"), RH(","), RH("\0"), RH("\v"),
					      RH("\f"), RH(" ;a=b")};
	static const struct rawhead head =
		RH("HTTP/1.1 200 ok\r\nTransfer-Encoding: chunked\r\n\r\n");
	size_t pn = strlen(plain);
	uint8_t body[400];

	for (size_t a = 0; a < sizeof(pre) / sizeof(pre[0]); a++)
		for (size_t b = 0; b < sizeof(post) / sizeof(post[0]); b++) {
			size_t o = 0;
			for (size_t off = 0; off < pn; off += 16) {
				size_t k = pn - off < 16 ? pn - off : 16;
				memcpy(body + o, pre[a].s, pre[a].n);
				o += pre[a].n;
				o += (size_t)sprintf((char *)body + o, "%zx", k);
				memcpy(body + o, post[b].s, post[b].n);
				o += post[b].n;
				o += (size_t)sprintf((char *)body + o, "\r\n%.*s\r\n", (int)k, plain + off);
			}
			o += (size_t)sprintf((char *)body + o, "0\r\n\r\n");
			expect_lenient(&head, body, o, plain);
		}

	/* junk before the digits is no chunk size */
	static const char bad[] = "HTTP/1.1 200 ok\r\nTransfer-Encoding: chunked\r\n\r\n"
				  "x5\r\nabcde\r\n0\r\n\r\n";
	struct app_http h;
	struct rec r = { 0 };
	app_http_init(&h);
	feed(&h, &r, APP_DIR_S2C, bad, sizeof(bad) - 1, sizeof(bad) - 1);
	assert_int_equal(r.bodies, 1);
	assert_true(r.body[0].flags & APP_BODY_TRUNCATED);
	app_http_fini(&h);
}

/* A gzip member of plain with header flags set (FTEXT, FHCRC with a wrong
 * CRC, FEXTRA, FNAME, FCOMMENT, reserved bits): zlib refuses some of
 * these, lenient clients show the body. */
static size_t gzip_flagged(const char *plain, uint8_t flg, uint8_t *out)
{
	uint8_t raw[256];
	size_t rn = compress_to((const uint8_t *)plain, strlen(plain), raw, sizeof(raw), -15);
	size_t o = 0;
	const uint8_t fixed[10] = {0x1f, 0x8b, 8, flg, 0, 0, 0, 0, 0, 3};

	memcpy(out, fixed, 10);
	o = 10;
	if (flg & 0x04) {
		memcpy(out + o, "\x05\x00" "ABCDE", 7);
		o += 7;
	}
	if (flg & 0x08) {
		memcpy(out + o, "eicar.txt", 10);
		o += 10;
	}
	if (flg & 0x10) {
		memcpy(out + o, "note", 5);
		o += 5;
	}
	if (flg & 0x02) {
		out[o++] = 0;
		out[o++] = 0; /* not the header's CRC-16 */
	}
	memcpy(out + o, raw, rn);
	o += rn;
	uint32_t crc = (uint32_t)crc32(0, (const Bytef *)plain, (uInt)strlen(plain));
	uint32_t len = (uint32_t)strlen(plain);
	for (int i = 0; i < 4; i++)
		out[o++] = (uint8_t)(crc >> (8 * i));
	for (int i = 0; i < 4; i++)
		out[o++] = (uint8_t)(len >> (8 * i));
	return o;
}

/* Content codings one inside the other, codings named but not applied,
 * gzip header flags, a broken trailer. */
static void test_layered_codings(void **state)
{
	(void)state;
	static const char plain[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST";
	size_t pn = strlen(plain);
	uint8_t g[512], d[512], gd[512], dg[512], ggg[1024], tmp[1024];
	size_t gn = compress_to((const uint8_t *)plain, pn, g, sizeof(g), 31);
	size_t dn = compress_to((const uint8_t *)plain, pn, d, sizeof(d), -15);
	size_t gdn = compress_to(g, gn, gd, sizeof(gd), -15);   /* gzip, then deflate */
	size_t dgn = compress_to(d, dn, dg, sizeof(dg), 31);    /* deflate, then gzip */
	size_t tn = compress_to(gd, gdn, ggg, sizeof(ggg), 15); /* gzip, deflate, deflate(zlib) */
	const struct {
		const char *ce;
		const uint8_t *body;
		size_t n;
	} cases[] = {
		{"gzip, deflate", gd, gdn},
		{"gzip\r\nContent-Encoding: deflate", gd, gdn},
		{"deflate,gzip", dg, dgn},
		{"gzip, deflate, deflate", ggg, tn},
		{"gzip, gzip", g, gn},       /* named twice, applied once */
		{"deflate, deflate", d, dn}, /* a guessed raw layer that fails at once */
		{"deflate, gzip", d, dn},    /* "gzip" outside that is not gzip */
		{"deflate\r\nContent-Encoding: gzip x", d, dn},
	};
	char head[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int hn = sprintf(head, "HTTP/1.1 200 ok\r\nContent-Length: %zu\r\nContent-Encoding: %s\r\n\r\n",
				 cases[i].n, cases[i].ce);
		struct rawhead hd = {head, (size_t)hn};
		expect_lenient(&hd, cases[i].body, cases[i].n, plain);
	}
	static const uint8_t flags[] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x1e, 0x20, 0x40, 0x80};
	for (size_t i = 0; i < sizeof(flags); i++) {
		size_t n = gzip_flagged(plain, flags[i], tmp);
		int hn = sprintf(head, "HTTP/1.1 200 ok\r\nContent-Length: %zu\r\n"
				 "Content-Encoding: gzip\r\n\r\n", n);
		struct rawhead hd = {head, (size_t)hn};
		expect_lenient(&hd, tmp, n, plain);
		/* a trailer cut short: the stream itself ended, the body is whole */
		hn = sprintf(head, "HTTP/1.1 200 ok\r\nContent-Length: %zu\r\n"
			     "Content-Encoding: gzip\r\n\r\n", n - 5);
		hd.n = (size_t)hn;
		expect_lenient(&hd, tmp, n - 5, plain);
	}

	/* more codings than APP_BODY_LAYERS: hashed as sent */
	int hn = sprintf(head, "HTTP/1.1 200 ok\r\nContent-Length: 5\r\n"
			 "Content-Encoding: gzip, gzip, gzip, gzip\r\n\r\nabcde");
	struct app_http h;
	struct rec r = { 0 };
	app_http_init(&h);
	feed(&h, &r, APP_DIR_S2C, head, (size_t)hn, (size_t)hn);
	assert_int_equal(r.bodies, 1);
	assert_true(r.body[0].flags & APP_BODY_UNDECODED);
	assert_int_equal(r.body[0].decoded_len, 5);
	app_http_fini(&h);

	/* a wrong CRC-32 in the trailer: decoded, but flagged as corrupt */
	size_t n = gzip_flagged(plain, 0, tmp);
	tmp[n - 8] ^= 1;
	hn = sprintf(head, "HTTP/1.1 200 ok\r\nContent-Length: %zu\r\nContent-Encoding: gzip\r\n\r\n", n);
	memcpy(ggg, head, (size_t)hn);
	memcpy(ggg + hn, tmp, n);
	for (size_t piece = 7; piece; piece = piece == 7 ? (size_t)hn + n : 0) {
		memset(&r, 0, sizeof(r));
		app_http_init(&h);
		feed(&h, &r, APP_DIR_S2C, ggg, (size_t)hn + n, piece);
		assert_int_equal(r.bodies, 1);
		assert_true(r.body[0].flags & APP_BODY_DECODE_ERR);
		assert_int_equal(r.body[0].decoded_len, pn);
		app_http_fini(&h);
	}
}

/* Feed msg (one response) in pieces of each size given: one body, decoded
 * whole to plain. */
static void expect_body_in_pieces(const char *msg, size_t mn, const size_t *pieces, size_t np,
				  const uint8_t *plain, size_t plain_n)
{
	for (size_t pi = 0; pi < np; pi++) {
		struct app_http h;
		struct rec r = { 0 };

		app_http_init(&h);
		feed(&h, &r, APP_DIR_S2C, msg, mn, pieces[pi]);
		assert_int_equal(r.bodies, 1);
		expect_digests(&r.body[0], plain, plain_n);
		assert_int_equal(r.data_bytes, plain_n);
		app_http_fini(&h);
	}
}

/* Bodies that inflate a thousandfold (a few input bytes make more output
 * than one inflate step holds), and gzip bodies of several members: every
 * decoded byte comes out, fed whole or in small pieces. */
static void test_dense_bodies(void **state)
{
	(void)state;
	size_t plain_n = 4u << 20;
	uint8_t *plain = calloc(1, plain_n);
	uint8_t *z = malloc(plain_n);
	char *msg = malloc(plain_n);
	static const struct { int wbits; const char *name; } codings[] = {
		{ 31, "gzip" }, { 15, "deflate" }, { -15, "deflate" },
	};

	assert_non_null(plain);
	assert_non_null(z);
	assert_non_null(msg);
	for (size_t i = 0; i < plain_n; i += 65536) /* zeros, with a mark now and then */
		plain[i] = (uint8_t)(i >> 16);
	for (size_t c = 0; c < 3; c++) {
		size_t zn = compress_to(plain, plain_n, z, plain_n, codings[c].wbits);
		int o = sprintf(msg, "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\n"
				"Content-Length: %zu\r\n\r\n", codings[c].name, zn);
		memcpy(msg + o, z, zn);
		size_t mn = (size_t)o + zn, pieces[] = { 1, 3, 8, 1460, mn };

		assert_true(zn < plain_n / 500);
		expect_body_in_pieces(msg, mn, pieces, 5, plain, plain_n);
	}

	/* three gzip members in one body: the first half, one byte, the rest */
	size_t cut[] = { 0, plain_n / 2, plain_n / 2 + 1, plain_n }, zn = 0;
	for (size_t m = 0; m < 3; m++)
		zn += compress_to(plain + cut[m], cut[m + 1] - cut[m], z + zn, plain_n - zn, 31);
	int o = sprintf(msg, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
			"Content-Length: %zu\r\n\r\n", zn);
	memcpy(msg + o, z, zn);
	size_t pieces[] = { 1, 5, 1460, (size_t)o + zn };
	expect_body_in_pieces(msg, (size_t)o + zn, pieces, 4, plain, plain_n);
	free(plain);
	free(z);
	free(msg);
}

/* Where clients part ways over chunked (an odd Transfer-Encoding, chunked
 * in HTTP/1.0, fields that disagree, a bare CR), the body's first byte
 * decides: chunks when it starts like a chunk size, else the bytes as
 * they are (to the length, or the end of the stream). */
static void test_chunked_by_body(void **state)
{
	(void)state;
	static const char plain[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-TEST";
	char chunked[200];
	int cn = sprintf(chunked, "5\r\n%.5s\r\n%zx\r\n%s\r\n0\r\n\r\n", plain, strlen(plain) - 5,
			 plain + 5);
	static const char *const odd[] = {
		"HTTP/1.1 200 ok\r\nTransfer-Encoding: chunked x\r\n",
		"HTTP/1.1 200 ok\r\nTransfer-Encoding: xchunked\r\n",
		"HTTP/1.0 200 ok\r\nTransfer-Encoding: chunked\r\n",
		"HTTP/1.1 200 ok\r\nTransfer-Encoding: lalala\r\nTransfer-Encoding: chunked\r\n",
		"HTTP/1.1 200 ok\r\nX: \"a\"\rTransfer-Encoding: chunked\r\n",
		"HTTP/1.1 200 ok\r\nX: y\r\n Transfer-Encoding: chunked\r\n",
	};
	char head[256];
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		int hn = sprintf(head, "%sConnection: close\r\n\r\n", odd[i]);
		struct rawhead hd = {head, (size_t)hn};
		expect_lenient(&hd, (const uint8_t *)chunked, (size_t)cn, plain);
		expect_lenient(&hd, (const uint8_t *)plain, strlen(plain), plain);
		hn = sprintf(head, "%sContent-Length: %zu\r\n\r\n", odd[i], strlen(plain));
		hd.n = (size_t)hn;
		expect_lenient(&hd, (const uint8_t *)plain, strlen(plain), plain);
	}
}

static void test_length_body_bytewise(void **state)
{
	(void)state;
	char msg[5000];
	uint8_t body[3000];

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 7 + 3);
	int o = sprintf(msg, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", sizeof(body));
	memcpy(msg + o, body, sizeof(body));
	size_t n = (size_t)o + sizeof(body);

	for (size_t piece = 1; piece <= 3; piece++) {
		struct app_http h;
		struct rec r = { 0 };

		app_http_init(&h);
		feed(&h, &r, APP_DIR_S2C, msg, n, piece);
		assert_int_equal(r.bodies, 1);
		expect_digests(&r.body[0], body, sizeof(body));
		assert_int_equal(r.body[0].wire_len, sizeof(body));
		app_http_fini(&h);
	}
	/* every split point of two pieces */
	for (size_t cut = 1; cut < n; cut++) {
		struct app_http h;
		struct rec r = { 0 };

		app_http_init(&h);
		app_http_feed(&h, &env, &r, APP_DIR_S2C, (const uint8_t *)msg, cut);
		app_http_feed(&h, &env, &r, APP_DIR_S2C, (const uint8_t *)msg + cut, n - cut);
		assert_int_equal(r.bodies, 1);
		expect_digests(&r.body[0], body, sizeof(body));
		app_http_fini(&h);
	}
}

static void test_gap_and_resync(void **state)
{
	(void)state;
	const char *a = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123";
	const char *b = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	struct app_http h;
	struct rec r = { 0 };

	/* gap inside a length body: truncated, framing kept */
	app_http_init(&h);
	feed(&h, &r, APP_DIR_S2C, a, strlen(a), 100);
	app_http_gap(&h, &env, &r, APP_DIR_S2C, 3);
	feed(&h, &r, APP_DIR_S2C, "789", 3, 100);
	feed(&h, &r, APP_DIR_S2C, b, strlen(b), 100);
	assert_int_equal(r.bodies, 2);
	assert_true(r.body[0].flags & APP_BODY_TRUNCATED);
	assert_true(r.body[0].flags & APP_BODY_GAP);
	assert_int_equal(r.body[0].wire_len, 10);
	expect_digests(&r.body[1], "ok", 2);
	app_http_fini(&h);

	/* gap longer than the body: truncated, then resync on the next status line */
	memset(&r, 0, sizeof(r));
	app_http_init(&h);
	feed(&h, &r, APP_DIR_S2C, a, strlen(a), 100);
	app_http_gap(&h, &env, &r, APP_DIR_S2C, 500);
	feed(&h, &r, APP_DIR_S2C, "tail of something\r\n", 19, 100);
	feed(&h, &r, APP_DIR_S2C, b, strlen(b), 100);
	assert_int_equal(r.bodies, 2);
	assert_true(r.body[0].flags & APP_BODY_TRUNCATED);
	expect_digests(&r.body[1], "ok", 2);
	app_http_fini(&h);

	/* request side: a gap in a head, then the next request is found */
	memset(&r, 0, sizeof(r));
	app_http_init(&h);
	const char *q1 = "GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HT";
	const char *q2 = "junk\r\nGET /three HTTP/1.1\r\nHost: x\r\n\r\n";
	feed(&h, &r, APP_DIR_C2S, q1, strlen(q1), 100);
	app_http_gap(&h, &env, &r, APP_DIR_C2S, 40);
	feed(&h, &r, APP_DIR_C2S, q2, strlen(q2), 100);
	assert_int_equal(r.reqs, 2);
	assert_string_equal(r.url[1], "http://x/three");
	app_http_fini(&h);
}

static void test_limits_and_close(void **state)
{
	(void)state;
	struct app_http h;
	struct rec r = { 0 };
	uint64_t too_long = stats.header_too_long;

	/* read until close */
	app_http_init(&h);
	const char *c = "HTTP/1.0 200 OK\r\n\r\nall of it";
	feed(&h, &r, APP_DIR_S2C, c, strlen(c), 5);
	assert_int_equal(r.bodies, 0);
	app_http_close(&h, &env, &r, APP_DIR_S2C);
	assert_int_equal(r.bodies, 1);
	expect_digests(&r.body[0], "all of it", 9);
	app_http_fini(&h);

	/* a length body cut by the end of the stream */
	memset(&r, 0, sizeof(r));
	app_http_init(&h);
	const char *cut = "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort";
	feed(&h, &r, APP_DIR_S2C, cut, strlen(cut), 7);
	app_http_close(&h, &env, &r, APP_DIR_S2C);
	assert_int_equal(r.bodies, 1);
	assert_true(r.body[0].flags & APP_BODY_CUT);
	assert_true(r.body[0].flags & APP_BODY_TRUNCATED);
	app_http_fini(&h);

	/* a header block over the cap is skipped; the next message is read */
	memset(&r, 0, sizeof(r));
	app_http_init(&h);
	const char *first = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
	feed(&h, &r, APP_DIR_C2S, first, strlen(first), 10);
	char *big = malloc(40000);
	int o = sprintf(big, "GET /big HTTP/1.1\r\nX-Pad: ");
	memset(big + o, 'p', 30000);
	o += 30000;
	o += sprintf(big + o, "\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n");
	feed(&h, &r, APP_DIR_C2S, big, (size_t)o, 1000);
	assert_int_equal(stats.header_too_long, too_long + 1);
	assert_int_equal(r.reqs, 2);
	assert_string_equal(r.url[1], "http://x/after");
	free(big);
	app_http_fini(&h);

	/* decoded size cap */
	memset(&r, 0, sizeof(r));
	app_http_init(&h);
	uint64_t saved = env.body_cap;
	env.body_cap = 4;
	const char *capb = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
	feed(&h, &r, APP_DIR_S2C, capb, strlen(capb), 3);
	env.body_cap = saved;
	assert_int_equal(r.bodies, 1);
	assert_true(r.body[0].flags & APP_BODY_CAPPED);
	assert_true(r.body[0].flags & APP_BODY_TRUNCATED);
	assert_int_equal(r.body[0].decoded_len, 4);
	app_http_fini(&h);

	/* not HTTP at all, and a tunnel after CONNECT */
	app_http_init(&h);
	assert_int_equal(feed(&h, &r, APP_DIR_C2S, "\x16\x03\x01\x02\x00", 5, 5), APP_HTTP_STOP);
	app_http_fini(&h);
	app_http_init(&h);
	const char *conn = "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n";
	assert_int_equal(feed(&h, &r, APP_DIR_C2S, conn, strlen(conn), 100), APP_HTTP_MORE);
	const char *ok = "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01";
	assert_int_equal(feed(&h, &r, APP_DIR_S2C, ok, strlen(ok), 100), APP_HTTP_STOP);
	app_http_fini(&h);
}

/* Many bodies open at once, as a worker's flows have them: more than the
 * MD5 lanes have slots (the rest keep libcrypto's MD5), fed in pieces in
 * an interleaved order, some dropped before their end, some begun again
 * while open, some gzip-coded with the coded bytes' digests asked for.
 * Every body ended must have the digests of its bytes; every slot is free
 * at the end. */
#define N_OPEN 80

static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void test_many_bodies_at_once(void **state)
{
	(void)state;
	struct app_http_env e = env; /* a copy shares the lanes, as a worker's does */
	e.on_body_data = NULL;
	e.flags |= APP_HTTP_HASH_ENCODED;
	uint64_t x = 0x5851f42d4c957f2dULL;
	static struct app_body b[N_OPEN];
	static uint8_t plain[N_OPEN][30000], coded[N_OPEN][31000];
	size_t n[N_OPEN], sent[N_OPEN], cn[N_OPEN];
	bool gz[N_OPEN], drop[N_OPEN], done[N_OPEN];
	size_t ended = 0, closed = 0, restarted = 0;
	for (int i = 0; i < N_OPEN; i++) {
		app_body_init(&b[i]);
		n[i] = next_rand(&x) % sizeof(plain[i]);
		for (size_t k = 0; k < n[i]; k++) /* text-like, so gzip shrinks it */
			plain[i][k] = (uint8_t)('a' + next_rand(&x) % 8);
		gz[i] = i % 5 == 0;
		cn[i] = gz[i] ? compress_to(plain[i], n[i], coded[i], sizeof(coded[i]), 31) : n[i];
		if (!gz[i])
			memcpy(coded[i], plain[i], n[i]);
		drop[i] = i % 9 == 4;
		sent[i] = 0;
		done[i] = false;
		assert_int_equal(app_body_begin(&b[i], &e, gz[i] ? APP_ENC_GZIP : APP_ENC_IDENTITY),
				 CS_OK);
		if (i % 13 == 7) { /* a few bytes, then the body begun again */
			app_body_update(&b[i], &e, NULL, APP_DIR_S2C, coded[i], cn[i] / 3);
			assert_int_equal(
				app_body_begin(&b[i], &e, gz[i] ? APP_ENC_GZIP : APP_ENC_IDENTITY),
				CS_OK);
			restarted++;
		}
	}
	for (size_t left = N_OPEN; left;) {
		int i = (int)(next_rand(&x) % N_OPEN);
		if (done[i])
			continue;
		size_t piece = 1 + next_rand(&x) % 1500;
		if (piece > cn[i] - sent[i])
			piece = cn[i] - sent[i];
		app_body_update(&b[i], &e, NULL, APP_DIR_S2C, coded[i] + sent[i], piece);
		sent[i] += piece;
		if (drop[i] && sent[i] >= cn[i] / 2) {
			app_body_fini(&b[i]); /* the flow went away mid-body */
			closed++;
		} else if (sent[i] == cn[i]) {
			struct app_body_result r;
			app_body_end(&b[i], &e, 0, &r);
			expect_digests(&r, plain[i], n[i]);
			if (gz[i]) {
				uint8_t md5[16];
				assert_true(r.flags & APP_BODY_ENC_DIGESTS);
				digest("MD5", coded[i], cn[i], md5);
				assert_memory_equal(r.enc_md5, md5, 16);
			}
			app_body_fini(&b[i]);
			ended++;
		} else {
			continue;
		}
		done[i] = true;
		left--;
	}
	assert_int_equal(ended + closed, N_OPEN);
	assert_true(closed > 0 && restarted > 0);
	if (!e.md5_lanes) {
		print_message("no MD5 lanes on this CPU: libcrypto's MD5 was checked\n");
		return;
	}
	uint64_t steps = 0, alone = 0;
	md5_lanes_counts(e.md5_lanes, &steps, &alone);
	assert_true(steps > 0);
	int slot[MD5_LANES_SLOTS];
	for (int k = 0; k < MD5_LANES_SLOTS; k++)
		assert_true((slot[k] = md5_lanes_open(e.md5_lanes)) >= 0);
	assert_int_equal(md5_lanes_open(e.md5_lanes), -1);
	for (int k = 0; k < MD5_LANES_SLOTS; k++)
		md5_lanes_close(e.md5_lanes, slot[k]);
}

static uint8_t *load(const char *rel, size_t *n)
{
	char path[4096];
	const char *root = getenv("CS_SOURCE_DIR");

	snprintf(path, sizeof(path), "%s/tests/data/app/%s", root ? root : ".", rel);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	uint8_t *b = malloc(1 << 16);
	*n = fread(b, 1, 1 << 16, f);
	fclose(f);
	return b;
}

static void run_capture(const char *name, struct rec *r, size_t piece)
{
	char path[256];
	size_t cn, sn;
	struct app_http h;

	snprintf(path, sizeof(path), "%s.c2s", name);
	uint8_t *c = load(path, &cn);
	snprintf(path, sizeof(path), "%s.s2c", name);
	uint8_t *s = load(path, &sn);
	app_http_init(&h);
	feed(&h, r, APP_DIR_C2S, c, cn, piece);
	feed(&h, r, APP_DIR_S2C, s, sn, piece);
	app_http_close(&h, &env, r, APP_DIR_S2C);
	app_http_fini(&h);
	free(c);
	free(s);
}

static void test_real_captures(void **state)
{
	(void)state;
	char md5[33], sha256[65];

	for (size_t piece = 1; piece <= 1460; piece += 1459) {
		struct rec r = { 0 };

		run_capture("http-simple-get", &r, piece);
		assert_int_equal(r.reqs, 1);
		assert_string_equal(r.url[0], "http://xxxxxxxxxxxxx.xxx.com/");
		assert_int_equal(r.bodies, 1);
		assert_false(r.body[0].flags & APP_BODY_TRUNCATED);
		assert_int_equal(r.body[0].decoded_len, 5039);
		hex(r.body[0].md5, 16, md5);
		hex(r.body[0].sha256, 32, sha256);
		assert_string_equal(md5, "230e3b4387b64caf54a7487b4f726adb");
		assert_string_equal(sha256,
			"a5bae43656eb0c0c5db924a1764dd4631f58d3f0d2145333589521ea1d514ba5");

		/* gzip: Arkime hashes the body as sent; we also give the decoded one */
		memset(&r, 0, sizeof(r));
		env.flags |= APP_HTTP_HASH_ENCODED;
		run_capture("http-content-gzip", &r, piece);
		env.flags &= ~APP_HTTP_HASH_ENCODED;
		assert_int_equal(r.bodies, 1);
		assert_string_equal(r.url[0], "http://xxxxxxxxxxx.xxxxxxx.xxx/crossdomain.xml");
		assert_true(r.body[0].flags & APP_BODY_ENC_DIGESTS);
		assert_false(r.body[0].flags & APP_BODY_TRUNCATED);
		assert_int_equal(r.body[0].enc, APP_ENC_GZIP);
		assert_int_equal(r.body[0].encoded_len, 190);
		hex(r.body[0].enc_md5, 16, md5);
		hex(r.body[0].enc_sha256, 32, sha256);
		assert_string_equal(md5, "5ff7b2c69c3b22826a717cd5ea4c9f32");
		assert_string_equal(sha256,
			"5f814421f0d932b8b082cdc539469c85ae89a09d4b01ea41c1ff0424e184206a");
		/* decoded form, as computed with Python's zlib over the same bytes */
		assert_int_equal(r.body[0].decoded_len, 272);
		hex(r.body[0].md5, 16, md5);
		assert_string_equal(md5, "859326e557f4d7d1501b9022c9225536");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_and_url),
		cmocka_unit_test(test_pipelining_no_body),
		cmocka_unit_test(test_chunked_coded_bodies),
		cmocka_unit_test(test_lenient_heads),
		cmocka_unit_test(test_lenient_chunk_lines),
		cmocka_unit_test(test_layered_codings),
		cmocka_unit_test(test_dense_bodies),
		cmocka_unit_test(test_chunked_by_body),
		cmocka_unit_test(test_length_body_bytewise),
		cmocka_unit_test(test_gap_and_resync),
		cmocka_unit_test(test_limits_and_close),
		cmocka_unit_test(test_many_bodies_at_once),
		cmocka_unit_test(test_real_captures),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
