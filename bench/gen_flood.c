/* gen_flood: deterministic captures for flood runs of the flow table.
 *
 * --mode syn writes a SYN flood: N SYNs from random sources to one web
 * server (192.0.2.10:80), never answered, at 100,000 per second of capture
 * time. --mode slow writes N long slow TCP connections (port 6667) opened in
 * the first two hours of capture time: each sends 8-15 times a few bytes,
 * mostly 1-7 minutes apart but one gap in ten 12-25 minutes (longer than the
 * 600 s idle timeout of an established flow), then closes; the capture spans
 * about five hours. In one flow in 8000 a planted literal is split across two
 * sends minutes apart (a gap under the idle timeout).
 *
 * Both modes interleave the same kind of real traffic (--real flows, default
 * 48): DNS queries, HTTP requests (domain in Host, literal in the body, half
 * of them across a segment boundary), TLS ClientHellos (domain in SNI) and
 * bulk TCP payloads (literal across a segment boundary). Their packets come
 * 0.1-1 ms apart, as a live client's would during the flood.
 *
 * DIR receives truth.tsv (type, value, field, client address and port, as
 * gen_pcap writes it). Packets are emitted in timestamp order from a heap of
 * actors (the flood source, each real flow, each slow flow). Same arguments,
 * same bytes: one seeded generator drives everything. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt_craft.h"

#define MSS 1448
#define SERVER_IP 0xc000020au         /* 192.0.2.10, the flooded web server */
#define FLOOD_GAP_US 10               /* 100,000 SYNs per second */
#define SLOW_SPAN_US (3ull * 3600 * 1000000)
#define SLOW_PLANT_EVERY 8000         /* one slow flow in this many carries a split literal */
#define T0_US (1700000000ull * 1000000)

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

static uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
	return lo + rng_next(r) % (hi - lo + 1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "gen_flood: out of memory\n");
		exit(2);
	}
	return p;
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
	uint8_t *p = realloc(b->p, cap);
	if (!p) {
		fprintf(stderr, "gen_flood: out of memory\n");
		exit(2);
	}
	b->p = p;
	b->cap = cap;
}

static void buf_add(struct buf *b, const void *d, size_t n)
{
	buf_reserve(b, n);
	if (n)
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

/* ------------------------------------------------------------ packets --- */

struct tflow {
	struct endpoint c, s;
};

enum { F_FIN = 1, F_SYN = 2, F_RST = 4, F_PSH = 8, F_ACK = 16 };

struct gen {
	struct rng r;
	FILE *pcap, *truth;
	uint64_t packets, bytes, last_ts;
	uint32_t next_client;
	uint32_t n_planted;
	uint8_t *text;   /* pool of English-like text for bodies */
	size_t text_len;
	struct buf flow; /* frames being built: [u32 len][frame] */
};

static const char *const words[] = {
	"the", "payment", "account", "transfer", "invoice", "customer", "order", "shipping",
	"service", "update", "please", "confirm", "details", "security", "login", "bank",
	"support", "team", "message", "delivery", "package", "status", "request", "amount",
	"reference", "number", "balance", "receipt", "online", "secure", "verify", "today",
};

static void make_text(struct gen *g, size_t n)
{
	g->text = xmalloc(n + 64);
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

/* A fresh literal (zq + 12-17 alphanumerics) or domain, never reused. */
static void new_literal(struct gen *g, char out[24])
{
	memcpy(out, "zq", 2);
	rand_alnum(&g->r, out + 2, 12 + rng_below(&g->r, 6));
}

static void new_domain(struct gen *g, char out[40])
{
	static const char *const tlds[] = {"com", "net", "org", "info", "biz", "top"};
	char label[24];
	rand_alnum(&g->r, label, 8 + rng_below(&g->r, 8));
	snprintf(out, 40, "x%s.%s", label, tlds[rng_below(&g->r, 6)]);
}

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

/* Clients of real and slow flows: 10.0.0.0/8, one address each. */
static void new_flow(struct gen *g, struct tflow *f, uint32_t server, uint16_t sport)
{
	uint32_t c = g->next_client++;
	f->c = (struct endpoint){.ip = 0x0a000000u | (c % 0xfffffe + 1),
				 .port = (uint16_t)(1024 + (c * 7919u) % 60000),
				 .seq = (uint32_t)rng_next(&g->r)};
	f->s = (struct endpoint){.ip = server, .port = sport, .seq = (uint32_t)rng_next(&g->r)};
}

static void truth(struct gen *g, const struct tflow *f, const char *type, const char *value,
		  const char *field)
{
	fprintf(g->truth, "%s\t%s\t%s\t%u.%u.%u.%u\t%u\n", type, value, field, f->c.ip >> 24,
		(f->c.ip >> 16) & 255, (f->c.ip >> 8) & 255, f->c.ip & 255, f->c.port);
	g->n_planted++;
}

/* --------------------------------------------------------- real flows --- */

/* n bytes of text with lit planted in it; across the first segment
 * boundary (stream offset base is the text's first byte) when split. */
static void text_with(struct gen *g, struct buf *b, size_t n, size_t base, const char *lit,
		      int split)
{
	size_t at = rng_below(&g->r, (uint32_t)(g->text_len - n));
	size_t start = b->len, ll = strlen(lit);
	buf_add(b, g->text + at, n);
	size_t pos = rng_below(&g->r, (uint32_t)(n - ll));
	if (split) {
		size_t boundary = (base / MSS + 1) * MSS;
		pos = boundary - base - ll / 2;
	}
	memcpy(b->p + start + pos, lit, ll);
}

static void real_http(struct gen *g, uint32_t i)
{
	struct tflow f;
	new_flow(g, &f, SERVER_IP, 80);
	tcp_open(g, &f);
	char dom[40], host[48], lit[24];
	new_domain(g, dom);
	new_literal(g, lit);
	snprintf(host, sizeof(host), "%s%s", i % 2 ? "www." : "", dom);
	truth(g, &f, "domain", dom, "http.host");
	truth(g, &f, "literal", lit, "http.body");
	struct buf req = {0}, body = {0}, resp = {0};
	buf_printf(&req, "GET /%s/%u.html HTTP/1.1\r\nHost: %s\r\nUser-Agent: Mozilla/5.0\r\n"
		   "Accept: */*\r\n\r\n", words[rng_below(&g->r, 32)], rng_below(&g->r, 100000),
		   host);
	tcp_send(g, &f, 0, req.p, req.len);
	buf_printf(&resp, "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\n");
	size_t n = 4000 + rng_below(&g->r, 30000);
	buf_printf(&resp, "Content-Length: %zu\r\n\r\n", n);
	text_with(g, &body, n, resp.len, lit, (i / 4) % 2);
	buf_add(&resp, body.p, body.len);
	tcp_send(g, &f, 1, resp.p, resp.len);
	tcp_close(g, &f);
	free(req.p), free(body.p), free(resp.p);
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

static void real_dns(struct gen *g)
{
	struct tflow f;
	new_flow(g, &f, 0xc0000235u, 53);
	char dom[40];
	new_domain(g, dom);
	truth(g, &f, "domain", dom, "dns.query");
	struct buf q = {0};
	uint16_t id = (uint16_t)rng_next(&g->r);
	uint8_t hdr[12] = {id >> 8, (uint8_t)id, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
	buf_add(&q, hdr, 12);
	dns_name(&q, dom);
	buf_add(&q, "\x00\x01\x00\x01", 4);
	frame(g, 17, &f.c, &f.s, 0, 0, q.p, q.len);
	q.p[2] = 0x81, q.p[3] = 0x80, q.p[7] = 1;
	buf_add(&q, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04", 12);
	uint32_t a = (uint32_t)rng_next(&g->r);
	buf_add(&q, &a, 4);
	frame(g, 17, &f.s, &f.c, 0, 0, q.p, q.len);
	free(q.p);
}

static void real_tls(struct gen *g)
{
	struct tflow f;
	new_flow(g, &f, 0xc0000214u, 443);
	tcp_open(g, &f);
	char sni[40];
	new_domain(g, sni);
	truth(g, &f, "domain", sni, "tls.sni");
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
	/* Opaque application data from the server. */
	size_t n = 4000 + rng_below(&g->r, 20000);
	rec.len = 0;
	buf_reserve(&rec, n + 8);
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = rng_next(&g->r);
		memcpy(rec.p + i, &v, 8);
	}
	rec.p[0] = 0x17, rec.p[1] = 3, rec.p[2] = 3, rec.p[3] = (uint8_t)((n - 5) >> 8),
	rec.p[4] = (uint8_t)(n - 5);
	rec.len = n;
	tcp_send(g, &f, 1, rec.p, rec.len);
	tcp_close(g, &f);
	free(ext.p), free(hs.p), free(rec.p);
}

static void real_bulk(struct gen *g)
{
	struct tflow f;
	new_flow(g, &f, 0xc0000250u, (uint16_t)(8000 + rng_below(&g->r, 1000)));
	tcp_open(g, &f);
	char lit[24];
	new_literal(g, lit);
	truth(g, &f, "literal", lit, "payload");
	struct buf b = {0};
	text_with(g, &b, 5000 + rng_below(&g->r, 40000), 0, lit, 1);
	tcp_send(g, &f, 0, b.p, b.len);
	tcp_close(g, &f);
	free(b.p);
}

/* ------------------------------------------------------------- actors --- */

enum actor_kind { A_FLOOD, A_REAL, A_SLOW };

/* One source of packets: the flood, a real flow replaying its frames, or a
 * slow flow stepping through handshake, sends and close. */
struct actor {
	uint64_t t;        /* next packet, microseconds from the capture start */
	uint32_t id;       /* ties between equal times go by id */
	uint8_t kind;
	uint32_t step, nsteps;
	uint32_t plant_send; /* slow: the send that carries a literal's first half */
	char *lit;           /* slow: the planted literal, or NULL */
	struct tflow f;
	uint8_t *frames;     /* real: [u32 len][frame] ... */
	size_t len, pos;
};

struct heap {
	struct actor **a;
	size_t n, cap;
};

static int heap_less(const struct actor *x, const struct actor *y)
{
	return x->t < y->t || (x->t == y->t && x->id < y->id);
}

static void heap_push(struct heap *h, struct actor *x)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 1024;
		struct actor **a = realloc(h->a, h->cap * sizeof(*a));
		if (!a) {
			fprintf(stderr, "gen_flood: out of memory\n");
			exit(2);
		}
		h->a = a;
	}
	size_t i = h->n++;
	while (i && heap_less(x, h->a[(i - 1) / 2])) {
		h->a[i] = h->a[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->a[i] = x;
}

static struct actor *heap_pop(struct heap *h)
{
	struct actor *top = h->a[0], *x = h->a[--h->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && heap_less(h->a[c + 1], h->a[c]))
			c++;
		if (!heap_less(h->a[c], x))
			break;
		h->a[i] = h->a[c];
		i = c;
	}
	if (h->n)
		h->a[i] = x;
	return top;
}

/* -------------------------------------------------------------- output --- */

static void pcap_header(FILE *fp)
{
	uint32_t h[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
	fwrite(h, 4, 6, fp);
}

static void pcap_frame(struct gen *g, uint64_t t, const uint8_t *d, uint32_t len)
{
	uint64_t ts = T0_US + t;
	uint32_t h[4] = {(uint32_t)(ts / 1000000), (uint32_t)(ts % 1000000), len, len};
	fwrite(h, 4, 4, g->pcap);
	fwrite(d, 1, len, g->pcap);
	g->packets++;
	g->bytes += 16 + len;
	g->last_ts = t;
}

/* Write every frame built in g->flow at time t and empty it. */
static void emit_built(struct gen *g, uint64_t t)
{
	for (size_t pos = 0; pos < g->flow.len;) {
		uint32_t len;
		memcpy(&len, g->flow.p + pos, 4);
		pcap_frame(g, t, g->flow.p + pos + 4, len);
		pos += 4 + len;
	}
	g->flow.len = 0;
}

/* ------------------------------------------------------------ stepping --- */

/* One SYN from a random public-looking source; no answer ever comes. */
static void step_flood(struct gen *g, struct actor *a)
{
	uint32_t ip;
	do
		ip = (uint32_t)rng_next(&g->r);
	while ((ip >> 24) == 0 || (ip >> 24) == 10 || (ip >> 24) >= 224);
	struct endpoint src = {.ip = ip, .port = (uint16_t)(1024 + rng_below(&g->r, 64512)),
			       .seq = (uint32_t)rng_next(&g->r)};
	struct endpoint dst = {.ip = SERVER_IP, .port = 80};
	frame(g, 6, &src, &dst, F_SYN, 0, NULL, 0);
	emit_built(g, a->t);
	a->t += FLOOD_GAP_US;
}

static void step_real(struct gen *g, struct actor *a)
{
	uint32_t len;
	memcpy(&len, a->frames + a->pos, 4);
	pcap_frame(g, a->t, a->frames + a->pos + 4, len);
	a->pos += 4 + len;
	a->t += rng_range(&g->r, 100, 1000);
}

/* A slow send: a few bytes of text, or a planted literal's half. */
static void slow_send(struct gen *g, struct actor *a, uint32_t k)
{
	uint8_t d[64];
	size_t n = 4 + rng_below(&g->r, 20), ll = a->lit ? strlen(a->lit) : 0;
	size_t at = rng_below(&g->r, (uint32_t)(g->text_len - n));
	memcpy(d, g->text + at, n);
	if (a->lit && k == a->plant_send) {
		memcpy(d + n, a->lit, ll / 2);
		n += ll / 2;
	} else if (a->lit && k == a->plant_send + 1) {
		memmove(d + (ll - ll / 2), d, n);
		memcpy(d, a->lit + ll / 2, ll - ll / 2);
		n += ll - ll / 2;
	}
	frame(g, 6, &a->f.c, &a->f.s, F_ACK | F_PSH, a->f.s.seq, d, n);
	a->f.c.seq += (uint32_t)n;
	frame(g, 6, &a->f.s, &a->f.c, F_ACK, a->f.c.seq, NULL, 0);
}

/* Handshake (three steps a few ms apart), nsteps sends minutes apart, close.
 * One gap in ten is longer than the established-flow idle timeout (600 s),
 * never the one inside a planted literal. */
static void step_slow(struct gen *g, struct actor *a)
{
	if (a->step == 0) {
		frame(g, 6, &a->f.c, &a->f.s, F_SYN, 0, NULL, 0);
		a->f.c.seq++;
	} else if (a->step == 1) {
		frame(g, 6, &a->f.s, &a->f.c, F_SYN | F_ACK, a->f.c.seq, NULL, 0);
		a->f.s.seq++;
	} else if (a->step == 2) {
		frame(g, 6, &a->f.c, &a->f.s, F_ACK, a->f.s.seq, NULL, 0);
	} else if (a->step < 3 + a->nsteps) {
		slow_send(g, a, a->step - 3);
	} else {
		tcp_close(g, &a->f);
	}
	emit_built(g, a->t);
	uint32_t k = a->step++ >= 3 ? a->step - 4 : UINT32_MAX; /* send just made */
	if (a->step < 3)
		a->t += rng_range(&g->r, 1000, 50000);
	else if (a->lit && k == a->plant_send)
		a->t += rng_range(&g->r, 60, 420) * 1000000;
	else if (rng_below(&g->r, 10) == 0)
		a->t += rng_range(&g->r, 700, 1500) * 1000000;
	else
		a->t += rng_range(&g->r, 60, 420) * 1000000;
}

/* Step one actor; returns whether it has more packets to send. */
static int step(struct gen *g, struct actor *a)
{
	if (a->kind == A_FLOOD) {
		step_flood(g, a);
		return ++a->step < a->nsteps;
	}
	if (a->kind == A_REAL) {
		step_real(g, a);
		return a->pos < a->len;
	}
	step_slow(g, a);
	return a->step <= 3 + a->nsteps;
}

/* ---------------------------------------------------------------- main --- */

/* Real flow i of n starts at a random time in [lo, hi) microseconds. */
static struct actor *make_real(struct gen *g, uint32_t i, uint64_t lo, uint64_t hi)
{
	g->flow.len = 0;
	switch (i % 4) {
	case 0: real_dns(g); break;
	case 1: real_http(g, i); break;
	case 2: real_tls(g); break;
	default: real_bulk(g); break;
	}
	struct actor *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->kind = A_REAL;
	a->frames = xmalloc(g->flow.len);
	memcpy(a->frames, g->flow.p, g->flow.len);
	a->len = g->flow.len;
	a->t = rng_range(&g->r, lo, hi - 1);
	g->flow.len = 0;
	return a;
}

static struct actor *make_slow(struct gen *g, uint32_t i)
{
	struct actor *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->kind = A_SLOW;
	new_flow(g, &a->f, 0xc0000264u, 6667);
	a->nsteps = (uint32_t)rng_range(&g->r, 8, 15);
	a->t = rng_range(&g->r, 0, SLOW_SPAN_US - 3600ull * 1000000);
	if (i % SLOW_PLANT_EVERY == SLOW_PLANT_EVERY / 2) {
		a->lit = xmalloc(24);
		new_literal(g, a->lit);
		a->plant_send = rng_below(&g->r, a->nsteps - 1);
		truth(g, &a->f, "literal", a->lit, "payload.slow");
	}
	return a;
}

struct opts {
	int slow;
	uint64_t flows, real, seed;
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {{"mode", required_argument, NULL, 'm'},
					   {"flows", required_argument, NULL, 'f'},
					   {"real", required_argument, NULL, 'n'},
					   {"seed", required_argument, NULL, 'r'},
					   {NULL, 0, NULL, 0}};
	int c, have_flows = 0;
	*o = (struct opts){.real = 48, .seed = 1};
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'm' && (!strcmp(optarg, "syn") || !strcmp(optarg, "slow")))
			o->slow = !strcmp(optarg, "slow");
		else if (c == 'f')
			o->flows = strtoull(optarg, NULL, 10), have_flows = 1;
		else if (c == 'n')
			o->real = strtoull(optarg, NULL, 10);
		else if (c == 'r')
			o->seed = strtoull(optarg, NULL, 10);
		else
			return -1;
	}
	if (!have_flows)
		o->flows = o->slow ? 200000 : 1000000;
	if (argc - optind != 2 || o->flows > UINT32_MAX || o->real > 100000)
		return -1;
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: gen_flood [--mode syn|slow] [--flows N] [--real N] [--seed N] OUT.pcap DIR\n"
		"  --mode syn   N SYNs (default 1000000) from random sources to 192.0.2.10:80\n"
		"  --mode slow  N slow TCP flows (default 200000) over 3 hours of capture time\n"
		"  --real N     real DNS/HTTP/TLS/bulk flows with planted indicators (default 48)\n"
		"DIR receives truth.tsv.\n");
}

/* The actors of the chosen mode, pushed on h. */
static int populate(struct gen *g, const struct opts *o, struct heap *h)
{
	/* Without a flood the real flows spread over one second. */
	uint64_t span = o->slow ? SLOW_SPAN_US : o->flows ? o->flows * FLOOD_GAP_US : 1000000;
	uint32_t id = 0;
	if (!o->slow && o->flows) {
		struct actor *a = calloc(1, sizeof(*a));
		if (!a)
			return -1;
		a->kind = A_FLOOD;
		a->nsteps = (uint32_t)o->flows;
		a->id = id++;
		heap_push(h, a);
	}
	for (uint64_t i = 0; o->slow && i < o->flows; i++) {
		struct actor *a = make_slow(g, (uint32_t)i);
		if (!a)
			return -1;
		a->id = id++;
		heap_push(h, a);
	}
	for (uint64_t i = 0; i < o->real; i++) {
		struct actor *a = make_real(g, (uint32_t)i, span / 20, span - span / 10);
		if (!a)
			return -1;
		a->id = id++;
		heap_push(h, a);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse(argc, argv, &o) != 0)
		return usage(), 2;
	struct gen *g = calloc(1, sizeof(*g));
	struct heap h = {0};
	char path[4096];
	if (!g)
		return 2;
	g->r.s = o.seed;
	g->next_client = 1;
	make_text(g, 1u << 20);
	snprintf(path, sizeof(path), "%s/truth.tsv", argv[optind + 1]);
	g->pcap = fopen(argv[optind], "wb");
	g->truth = fopen(path, "w");
	if (!g->pcap || !g->truth) {
		fprintf(stderr, "gen_flood: cannot write %s or %s: %s\n", argv[optind], path,
			strerror(errno));
		return 2;
	}
	setvbuf(g->pcap, NULL, _IOFBF, 1 << 20);
	pcap_header(g->pcap);
	fprintf(g->truth, "type\tvalue\tfield\tclient_ip\tclient_port\n");
	if (populate(g, &o, &h) != 0) {
		fprintf(stderr, "gen_flood: out of memory\n");
		return 2;
	}
	while (h.n) {
		struct actor *a = heap_pop(&h);
		if (step(g, a)) {
			heap_push(&h, a);
		} else {
			free(a->frames);
			free(a->lit);
			free(a);
		}
	}
	if (fclose(g->pcap) != 0 || fclose(g->truth) != 0) {
		fprintf(stderr, "gen_flood: write failed: %s\n", strerror(errno));
		return 2;
	}
	fprintf(stderr, "gen_flood: %llu packets, %llu bytes, %.1f s of capture time, %u planted\n",
		(unsigned long long)g->packets, (unsigned long long)g->bytes + 24,
		(double)g->last_ts / 1e6, g->n_planted);
	free(h.a);
	free(g->text);
	free(g->flow.p);
	free(g);
	return 0;
}
