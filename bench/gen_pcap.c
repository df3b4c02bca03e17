/* gen_pcap: a deterministic capture for packet throughput runs.
 *
 * Writes an Ethernet/IPv4 pcap of about the requested size holding HTTP/1.1
 * flows (Host headers, URIs, bodies plain, chunked or gzip), DNS queries and
 * answers over UDP, TLS ClientHellos with SNI followed by opaque records, and
 * bulk background flows; flows are interleaved as on a real link. It also
 * writes the indicator lists (literals-1k/10k.txt, domains-1k/10k.txt,
 * md5-1k.txt) and truth.tsv, one planted indicator per line: type, value,
 * field, client address and port. The 1k lists are the first 1000 lines of
 * the 10k lists and every planted value comes from the 1k lists, so both
 * sets must find the same truth.
 *
 * With --flows N it writes instead N TCP flows that open (handshake and one
 * request each) and never close: the flow table must hold them all at once.
 *
 * Same arguments, same bytes: one seeded generator drives everything. */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pkt_craft.h"

#define MSS 1448
#define MIX_SLOTS 64
#define N_LIT 10000
#define N_DOM 10000
#define N_PLANT 1000 /* planted values come from the first 1000 of each list */
#define N_MD5_RANDOM 1000

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

/* ------------------------------------------------------------ buffers --- */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void buf_reserve(struct buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	b->p = realloc(b->p, cap);
	if (!b->p) {
		fprintf(stderr, "gen_pcap: out of memory\n");
		exit(2);
	}
	b->cap = cap;
}

static void buf_add(struct buf *b, const void *d, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* ---------------------------------------------------------- the world --- */

struct gen {
	struct rng r;
	char lit[N_LIT][24];
	char dom[N_DOM][40];
	char md5[N_PLANT][33];   /* bodies' digests, filled as they are planted */
	size_t n_md5;
	uint8_t *text;           /* pool of English-like text for bodies */
	size_t text_len;
	FILE *pcap, *truth;
	uint64_t ts_us, packets, bytes;
	uint32_t next_client;
	struct buf flow;         /* packets of the flow being built: [u32 len][frame] */
};

static const char *const words[] = {
	"the", "payment", "account", "transfer", "invoice", "customer", "order", "shipping",
	"service", "update", "please", "confirm", "details", "security", "login", "bank",
	"support", "team", "message", "delivery", "package", "status", "request", "amount",
	"reference", "number", "balance", "receipt", "online", "secure", "verify", "today",
};

static void make_text(struct gen *g, size_t n)
{
	g->text = malloc(n + 64);
	size_t len = 0;
	while (len < n) {
		const char *w = words[rng_below(&g->r, sizeof(words) / sizeof(words[0]))];
		size_t wl = strlen(w);
		memcpy(g->text + len, w, wl);
		len += wl;
		g->text[len++] = rng_below(&g->r, 12) == 0 ? '\n' : ' ';
	}
	g->text_len = len;
}

static void rand_alnum(struct rng *r, char *out, size_t n)
{
	static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	for (size_t i = 0; i < n; i++)
		out[i] = al[rng_below(r, 36)];
	out[n] = 0;
}

static void make_indicators(struct gen *g)
{
	static const char *const tlds[] = {"com", "net", "org", "info", "biz", "top"};
	for (int i = 0; i < N_LIT; i++) {
		memcpy(g->lit[i], "zq", 2);
		rand_alnum(&g->r, g->lit[i] + 2, 12 + rng_below(&g->r, 6));
	}
	for (int i = 0; i < N_DOM; i++) {
		char label[24];
		rand_alnum(&g->r, label, 8 + rng_below(&g->r, 8));
		snprintf(g->dom[i], sizeof(g->dom[i]), "x%s.%s", label, tlds[rng_below(&g->r, 6)]);
	}
}

/* ------------------------------------------------------------ packets --- */

struct tflow {
	struct endpoint c, s;
	int proto;
};

/* Append one frame (src -> dst) to g->flow: record length, headers, payload. */
static void frame(struct gen *g, int proto, const struct endpoint *src, const struct endpoint *dst,
		  uint8_t flags, uint32_t ack, const uint8_t *pl, size_t n)
{
	uint8_t h[PKT_CRAFT_HDR_MAX];
	size_t hl = pkt_craft(h, proto, src, dst, flags, ack, pl, n);
	uint32_t len = (uint32_t)(hl + n);
	buf_add(&g->flow, &len, 4);
	buf_add(&g->flow, h, hl);
	buf_add(&g->flow, pl, n);
}

enum { F_FIN = 1, F_SYN = 2, F_RST = 4, F_PSH = 8, F_ACK = 16 };

static void tcp_open(struct gen *g, struct tflow *f)
{
	frame(g, 6, &f->c, &f->s, F_SYN, 0, NULL, 0);
	f->c.seq++;
	frame(g, 6, &f->s, &f->c, F_SYN | F_ACK, f->c.seq, NULL, 0);
	f->s.seq++;
	frame(g, 6, &f->c, &f->s, F_ACK, f->s.seq, NULL, 0);
}

/* Send n bytes from one side in MSS segments, acked by the other. */
static void tcp_send(struct gen *g, struct tflow *f, int to_client, const uint8_t *d, size_t n)
{
	struct endpoint *src = to_client ? &f->s : &f->c, *dst = to_client ? &f->c : &f->s;
	for (size_t off = 0; off < n; off += MSS) {
		size_t k = n - off < MSS ? n - off : MSS;
		frame(g, 6, src, dst, F_ACK | F_PSH, dst->seq, d + off, k);
		src->seq += (uint32_t)k;
		if ((off / MSS) % 2 == 1 || off + k == n)
			frame(g, 6, dst, src, F_ACK, src->seq, NULL, 0);
	}
}

static void tcp_close(struct gen *g, struct tflow *f)
{
	frame(g, 6, &f->c, &f->s, F_FIN | F_ACK, f->s.seq, NULL, 0);
	f->c.seq++;
	frame(g, 6, &f->s, &f->c, F_FIN | F_ACK, f->c.seq, NULL, 0);
	f->s.seq++;
	frame(g, 6, &f->c, &f->s, F_ACK, f->s.seq, NULL, 0);
}

static void new_flow(struct gen *g, struct tflow *f, uint16_t sport, int proto)
{
	uint32_t c = g->next_client++;
	f->c = (struct endpoint){.ip = 0x0a000000u | (c % 0xfffffe + 1),
				 .port = (uint16_t)(1024 + (c / 0xfffffe * 7919 + c) % 60000),
				 .seq = (uint32_t)rng_next(&g->r)};
	f->s = (struct endpoint){.ip = 0xc0000200u + rng_below(&g->r, 200) + 1, .port = sport,
				 .seq = (uint32_t)rng_next(&g->r)};
	f->proto = proto;
}

static void truth(struct gen *g, const struct tflow *f, const char *type, const char *value,
		  const char *field)
{
	fprintf(g->truth, "%s\t%s\t%s\t%u.%u.%u.%u\t%u\n", type, value, field, f->c.ip >> 24,
		(f->c.ip >> 16) & 255, (f->c.ip >> 8) & 255, f->c.ip & 255, f->c.port);
}

/* -------------------------------------------------------------- flows --- */

/* Text of n bytes, maybe with a planted literal; split puts it across a
 * segment boundary given the stream offset base of the text's first byte. */
static void body_text(struct gen *g, struct tflow *f, struct buf *b, size_t n, size_t base,
		      const char *field)
{
	size_t at = rng_below(&g->r, (uint32_t)(g->text_len - n));
	size_t start = b->len;
	buf_add(b, g->text + at, n);
	if (n < 64 || rng_below(&g->r, 40) != 0)
		return;
	const char *lit = g->lit[rng_below(&g->r, N_PLANT)];
	size_t ll = strlen(lit), pos = rng_below(&g->r, (uint32_t)(n - ll));
	if (rng_below(&g->r, 2) && n > MSS + ll) { /* across the first segment boundary */
		size_t boundary = ((base / MSS) + 1) * MSS;
		if (boundary > base + ll / 2 && boundary - base - ll / 2 + ll < n)
			pos = boundary - base - ll / 2;
	}
	memcpy(b->p + start + pos, lit, ll);
	truth(g, f, "literal", lit, field);
}

static void gzip_buf(const uint8_t *in, size_t n, struct buf *out)
{
	z_stream z = {0};
	deflateInit2(&z, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
	buf_reserve(out, deflateBound(&z, n) + 32);
	z.next_in = (uint8_t *)in;
	z.avail_in = (uInt)n;
	z.next_out = out->p + out->len;
	z.avail_out = (uInt)(out->cap - out->len);
	deflate(&z, Z_FINISH);
	out->len += z.total_out;
	deflateEnd(&z);
}

static void md5_hex(const uint8_t *d, size_t n, char out[33])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	EVP_Digest(d, n, md, &len, EVP_md5(), NULL);
	for (unsigned i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static const char *host_for(struct gen *g, struct tflow *f, const char *field, char *tmp, size_t cap)
{
	if (rng_below(&g->r, 50) == 0) {
		const char *d = g->dom[rng_below(&g->r, N_PLANT)];
		truth(g, f, "domain", d, field);
		if (rng_below(&g->r, 2))
			return d;
		snprintf(tmp, cap, "www.%s", d);
		return tmp;
	}
	char label[16];
	rand_alnum(&g->r, label, 10);
	snprintf(tmp, cap, "h%s.%s.com", label, words[rng_below(&g->r, 32)]);
	return tmp;
}

static void flow_http(struct gen *g)
{
	struct tflow f;
	new_flow(g, &f, 80, 6);
	tcp_open(g, &f);
	struct buf req = {0}, body = {0}, resp = {0}, wire = {0};
	char hbuf[80];
	const char *host = host_for(g, &f, "http.host", hbuf, sizeof(hbuf));
	buf_printf(&req, "GET /%s/%u.html HTTP/1.1\r\nHost: %s\r\nUser-Agent: Mozilla/5.0\r\n"
		   "Accept: */*\r\nAccept-Encoding: gzip\r\n\r\n",
		   words[rng_below(&g->r, 32)], rng_below(&g->r, 100000), host);
	tcp_send(g, &f, 0, req.p, req.len);
	size_t n = 2000 + rng_below(&g->r, 60000);
	unsigned kind = rng_below(&g->r, 4); /* 0,1 plain, 2 chunked, 3 gzip */
	/* Literals in gzip bodies are only visible once the body is inflated. */
	body_text(g, &f, &body, n, kind < 2 ? 120 : 0, kind == 3 ? "http.body.gzip" : "http.body");
	if (kind < 3 && rng_below(&g->r, 100) == 0 && g->n_md5 < N_PLANT) {
		md5_hex(body.p, body.len, g->md5[g->n_md5]);
		truth(g, &f, "md5", g->md5[g->n_md5], "http.body");
		g->n_md5++;
	}
	if (kind == 3)
		gzip_buf(body.p, body.len, &wire);
	else if (kind == 2)
		for (size_t off = 0; off < body.len; off += 8192) {
			size_t k = body.len - off < 8192 ? body.len - off : 8192;
			buf_printf(&wire, "%zx\r\n", k);
			buf_add(&wire, body.p + off, k);
			buf_add(&wire, "\r\n", 2);
		}
	else
		buf_add(&wire, body.p, body.len);
	buf_printf(&resp, "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\n");
	if (kind == 2)
		buf_printf(&resp, "Transfer-Encoding: chunked\r\n\r\n");
	else
		buf_printf(&resp, "%sContent-Length: %zu\r\n\r\n",
			   kind == 3 ? "Content-Encoding: gzip\r\n" : "", wire.len);
	if (kind == 2)
		buf_add(&wire, "0\r\n\r\n", 5);
	buf_add(&resp, wire.p, wire.len);
	tcp_send(g, &f, 1, resp.p, resp.len);
	tcp_close(g, &f);
	free(req.p), free(body.p), free(resp.p), free(wire.p);
}

static void dns_name(struct buf *b, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);
		uint8_t l = (uint8_t)n;
		buf_add(b, &l, 1);
		buf_add(b, name, n);
		name += n + (dot ? 1 : 0);
	}
	buf_add(b, "", 1);
}

static void flow_dns(struct gen *g)
{
	struct tflow f;
	new_flow(g, &f, 53, 17);
	char hbuf[80];
	const char *name = host_for(g, &f, "dns.query", hbuf, sizeof(hbuf));
	struct buf q = {0};
	uint16_t id = (uint16_t)rng_next(&g->r);
	uint8_t hdr[12] = {id >> 8, (uint8_t)id, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
	buf_add(&q, hdr, 12);
	dns_name(&q, name);
	buf_add(&q, "\x00\x01\x00\x01", 4);
	frame(g, 17, &f.c, &f.s, 0, 0, q.p, q.len);
	q.p[2] = 0x81, q.p[3] = 0x80, q.p[7] = 1;
	buf_add(&q, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04", 12);
	uint32_t a = (uint32_t)rng_next(&g->r);
	buf_add(&q, &a, 4);
	frame(g, 17, &f.s, &f.c, 0, 0, q.p, q.len);
	free(q.p);
}

static void flow_tls(struct gen *g)
{
	struct tflow f;
	new_flow(g, &f, 443, 6);
	tcp_open(g, &f);
	char hbuf[80];
	const char *sni = host_for(g, &f, "tls.sni", hbuf, sizeof(hbuf));
	size_t sl = strlen(sni);
	struct buf ext = {0}, hs = {0}, rec = {0};
	uint8_t e[9] = {0, 0, (uint8_t)((sl + 5) >> 8), (uint8_t)(sl + 5), (uint8_t)((sl + 3) >> 8),
			(uint8_t)(sl + 3), 0, (uint8_t)(sl >> 8), (uint8_t)sl};
	buf_add(&ext, e, 9);
	buf_add(&ext, sni, sl);
	buf_add(&ext, "\x00\x0a\x00\x04\x00\x02\x00\x1d", 8); /* supported_groups x25519 */
	uint8_t rnd[32];
	for (int i = 0; i < 32; i++)
		rnd[i] = (uint8_t)rng_next(&g->r);
	buf_add(&hs, "\x03\x03", 2);
	buf_add(&hs, rnd, 32);
	buf_add(&hs, "\x00\x00\x04\x13\x01\x13\x02\x01\x00", 9); /* no session, 2 suites, null */
	uint8_t el[2] = {(uint8_t)(ext.len >> 8), (uint8_t)ext.len};
	buf_add(&hs, el, 2);
	buf_add(&hs, ext.p, ext.len);
	uint8_t rh[9] = {0x16, 3, 1, (uint8_t)((hs.len + 4) >> 8), (uint8_t)(hs.len + 4), 1, 0,
			 (uint8_t)(hs.len >> 8), (uint8_t)hs.len};
	buf_add(&rec, rh, 9);
	buf_add(&rec, hs.p, hs.len);
	tcp_send(g, &f, 0, rec.p, rec.len);
	/* Opaque application data both ways. */
	for (int dir = 1; dir >= 0; dir--) {
		size_t n = dir ? 4000 + rng_below(&g->r, 80000) : 300 + rng_below(&g->r, 2000);
		rec.len = 0;
		buf_reserve(&rec, n);
		for (size_t i = 0; i < n; i += 8) {
			uint64_t v = rng_next(&g->r);
			memcpy(rec.p + i, &v, n - i < 8 ? n - i : 8);
		}
		rec.p[0] = 0x17, rec.p[1] = 3, rec.p[2] = 3, rec.p[3] = (uint8_t)((n - 5) >> 8),
		rec.p[4] = (uint8_t)(n - 5);
		rec.len = n;
		tcp_send(g, &f, dir, rec.p, rec.len);
	}
	tcp_close(g, &f);
	free(ext.p), free(hs.p), free(rec.p);
}

static void flow_bulk(struct gen *g)
{
	struct tflow f;
	new_flow(g, &f, (uint16_t)(8000 + rng_below(&g->r, 1000)), 6);
	tcp_open(g, &f);
	struct buf b = {0};
	body_text(g, &f, &b, 20000 + rng_below(&g->r, 200000), 0, "payload");
	tcp_send(g, &f, rng_below(&g->r, 2), b.p, b.len);
	tcp_close(g, &f);
	free(b.p);
}

/* -------------------------------------------------------------- output --- */

static void pcap_header(FILE *fp)
{
	uint32_t h[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
	fwrite(h, 4, 6, fp);
}

static void pcap_frame(struct gen *g, const uint8_t *d, uint32_t len)
{
	uint32_t h[4] = {(uint32_t)(g->ts_us / 1000000), (uint32_t)(g->ts_us % 1000000), len, len};
	fwrite(h, 4, 4, g->pcap);
	fwrite(d, 1, len, g->pcap);
	g->ts_us += 7;
	g->packets++;
	g->bytes += 16 + len;
}

struct slot {
	uint8_t *p;
	size_t len, pos;
};

static void build_flow(struct gen *g, struct slot *s)
{
	g->flow.len = 0;
	uint32_t k = rng_below(&g->r, 100);
	if (k < 35)
		flow_dns(g);
	else if (k < 70)
		flow_http(g);
	else if (k < 90)
		flow_tls(g);
	else
		flow_bulk(g);
	free(s->p);
	s->p = malloc(g->flow.len);
	memcpy(s->p, g->flow.p, g->flow.len);
	s->len = g->flow.len;
	s->pos = 0;
}

/* Emit packets from MIX_SLOTS flows at random until size bytes are written. */
static void mix(struct gen *g, uint64_t size)
{
	struct slot slots[MIX_SLOTS] = {{0}};
	for (int i = 0; i < MIX_SLOTS; i++)
		build_flow(g, &slots[i]);
	while (g->bytes < size) {
		struct slot *s = &slots[rng_below(&g->r, MIX_SLOTS)];
		uint32_t len;
		memcpy(&len, s->p + s->pos, 4);
		pcap_frame(g, s->p + s->pos + 4, len);
		s->pos += 4 + len;
		if (s->pos >= s->len)
			build_flow(g, s);
	}
	/* Finish the flows under way so every planted value is complete. */
	for (int i = 0; i < MIX_SLOTS; i++) {
		while (slots[i].pos < slots[i].len) {
			uint32_t len;
			memcpy(&len, slots[i].p + slots[i].pos, 4);
			pcap_frame(g, slots[i].p + slots[i].pos + 4, len);
			slots[i].pos += 4 + len;
		}
		free(slots[i].p);
	}
}

/* n flows that open and stay open: handshake and one small request each. */
static void open_flows(struct gen *g, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		struct tflow f;
		new_flow(g, &f, 80, 6);
		g->flow.len = 0;
		tcp_open(g, &f);
		char req[96];
		int rl = snprintf(req, sizeof(req), "GET /%llu HTTP/1.1\r\nHost: o%llu.test\r\n\r\n",
				  (unsigned long long)i, (unsigned long long)i);
		frame(g, 6, &f.c, &f.s, F_ACK | F_PSH, f.s.seq, (const uint8_t *)req, (size_t)rl);
		for (size_t pos = 0; pos < g->flow.len;) {
			uint32_t len;
			memcpy(&len, g->flow.p + pos, 4);
			pcap_frame(g, g->flow.p + pos + 4, len);
			pos += 4 + len;
		}
	}
}

static int write_list(const char *dir, const char *name, const char *base, size_t stride,
		      size_t n)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *fp = fopen(path, "w");
	if (!fp)
		return -1;
	for (size_t i = 0; i < n; i++)
		fprintf(fp, "%s\n", base + i * stride);
	return fclose(fp);
}

static int write_lists(struct gen *g, const char *dir)
{
	/* md5 list: the planted digests, then random ones up to 1000. */
	for (size_t i = g->n_md5; i < N_PLANT; i++) {
		uint8_t r[16];
		for (int k = 0; k < 16; k++)
			r[k] = (uint8_t)rng_next(&g->r);
		for (int k = 0; k < 16; k++)
			snprintf(g->md5[i] + 2 * k, 3, "%02x", r[k]);
	}
	if (write_list(dir, "literals-1k.txt", g->lit[0], sizeof(g->lit[0]), 1000) ||
	    write_list(dir, "literals-10k.txt", g->lit[0], sizeof(g->lit[0]), N_LIT) ||
	    write_list(dir, "domains-1k.txt", g->dom[0], sizeof(g->dom[0]), 1000) ||
	    write_list(dir, "domains-10k.txt", g->dom[0], sizeof(g->dom[0]), N_DOM) ||
	    write_list(dir, "md5-1k.txt", g->md5[0], sizeof(g->md5[0]), N_PLANT))
		return -1;
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: gen_pcap [--size MB] [--flows N] [--seed N] OUT.pcap DIR\n"
		"  --size MB   mixed HTTP/DNS/TLS/bulk capture of about MB megabytes (default 512)\n"
		"  --flows N   instead: N TCP flows opened and left open\n"
		"DIR receives truth.tsv and the indicator lists.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"size", required_argument, NULL, 's'},
					     {"flows", required_argument, NULL, 'f'},
					     {"seed", required_argument, NULL, 'r'},
					     {NULL, 0, NULL, 0}};
	uint64_t size_mb = 512, flows = 0, seed = 1;
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 's')
			size_mb = strtoull(optarg, NULL, 10);
		else if (o == 'f')
			flows = strtoull(optarg, NULL, 10);
		else if (o == 'r')
			seed = strtoull(optarg, NULL, 10);
		else
			return usage(), 2;
	}
	if (argc - optind != 2)
		return usage(), 2;
	struct gen *g = calloc(1, sizeof(*g));
	g->r.s = seed;
	g->ts_us = 1700000000ull * 1000000;
	g->next_client = 1;
	make_indicators(g);
	make_text(g, 4u << 20);
	char path[4096];
	snprintf(path, sizeof(path), "%s/truth.tsv", argv[optind + 1]);
	g->pcap = fopen(argv[optind], "wb");
	g->truth = fopen(path, "w");
	if (!g->pcap || !g->truth) {
		fprintf(stderr, "gen_pcap: cannot write %s or %s: %s\n", argv[optind], path,
			strerror(errno));
		return 2;
	}
	setvbuf(g->pcap, NULL, _IOFBF, 1 << 20);
	pcap_header(g->pcap);
	fprintf(g->truth, "type\tvalue\tfield\tclient_ip\tclient_port\n");
	if (flows)
		open_flows(g, flows);
	else
		mix(g, size_mb << 20);
	if (fclose(g->pcap) != 0 || fclose(g->truth) != 0 || write_lists(g, argv[optind + 1]) != 0) {
		fprintf(stderr, "gen_pcap: write failed: %s\n", strerror(errno));
		return 2;
	}
	fprintf(stderr, "gen_pcap: %llu packets, %llu bytes\n", (unsigned long long)g->packets,
		(unsigned long long)g->bytes + 24);
	free(g->text);
	free(g->flow.p);
	free(g);
	return 0;
}
