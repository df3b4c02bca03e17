/* Packet pipeline, worker stage: one flow table per worker, its callbacks
 * feeding payloads to stream matching and to the application parsers (DNS,
 * TLS ClientHello, HTTP/1.x), whose fields are matched with the block
 * database. HTTP bodies sent gzip/deflate-coded are also stream-matched once
 * inflated (field "http.body"); a plain body is already in the payload.
 * All state is the worker's own, the matcher included (it changes only at a
 * rule switch, between packets); records go to pk_emit(), and flow rules are
 * judged as each flow closes (packet_rules.c). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cybersieve/util.h"
#include "pipeline/packet_int.h"

#define PK_URL_MAX 8192
#define PK_CONTEXT_MAX 4096

static struct pk_flow *pf_of(struct flow *f)
{
	return flow_user(f);
}

static bool dns_port(uint16_t p)
{
	return p == 53 || p == 5353 || p == 5355;
}

static void addr_text(const struct pkt_addr *a, char *out, size_t cap)
{
	if (!inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->bytes, out, (socklen_t)cap))
		snprintf(out, cap, "?");
}

/* ------------------------------------------------- flow addresses --- */

struct ip_ctx {
	struct pk_worker *w;
	struct pk_flow *pf;
	struct pk_match mt;
};

static void on_ip_hit(void *user, uint32_t ind)
{
	struct ip_ctx *c = user;
	c->mt.ind = ind;
	pk_emit(c->w, c->pf, &c->mt);
}

/* Listed addresses and ranges are matched once per flow and side, on the
 * packet that opened it; the record's text is the address. */
static void ip_hits(struct pk_worker *w, struct pk_flow *pf, const char *field,
		    const struct pkt_addr *a, const char *text)
{
	struct ip_ctx c = {.w = w, .pf = pf};
	c.mt = (struct pk_match){.field = field, .dir = FLOW_DIR_C2S, .pkt_first = w->cur_pkt,
				 .pkt_last = w->cur_pkt, .ts_first = w->cur_ts,
				 .ts_last = w->cur_ts, .text = (const uint8_t *)text,
				 .text_len = strlen(text), .length = strlen(text)};
	matcher_match_ip(w->m, a->family == 6 ? 6 : 4, a->bytes, on_ip_hit, &c);
}

void pk_flow_texts(struct pk_flow *pf)
{
	if (pf->texts)
		return;
	struct flow_tuple t;
	flow_get_tuple(pf->self, &t);
	decode_community_id(&t.client, &t.server, t.proto, t.client_port, t.server_port, 0,
			    pf->cid, sizeof(pf->cid));
	addr_text(&t.client, pf->client, sizeof(pf->client));
	addr_text(&t.server, pf->server, sizeof(pf->server));
	pf->texts = true;
}

static void on_open(struct flow *f, void *ctx)
{
	struct pk_worker *w = ctx;
	struct pk_flow *pf = pf_of(f);
	struct flow_tuple t;
	flow_get_tuple(f, &t);
	pf->self = f;
	pf->prev = NULL;
	pf->next = w->flows;
	if (w->flows)
		w->flows->prev = pf;
	w->flows = pf;
	for (int i = 0; i < 2; i++) {
		matcher_stream_init(&pf->d[i].ms);
		app_dns_tcp_init(&pf->d[i].dns);
	}
	app_tls_init(&pf->tls);
	app_http_init(&pf->http);
	pf->http_mem = 0;
	pf->texts = false;
	pf->cport = t.client_port;
	pf->sport = t.server_port;
	pf->proto = t.proto;
	pf->dns = dns_port(t.server_port) || dns_port(t.client_port);
	pf->tls_on = pf->http_on = t.proto == 6 && !pf->dns;
	if (!w->ip_on)
		return;
	pk_flow_texts(pf);
	ip_hits(w, pf, "ip.src", &t.client, pf->client);
	ip_hits(w, pf, "ip.dst", &t.server, pf->server);
}

/* ------------------------------------------------------- field hits --- */

/* Host names read by a parser (DNS, SNI, HTTP Host and URL): the indicators
 * they report are remembered with their packets (pk_field_seen). */
#define MASK_HOSTS ((1u << IND_DOMAIN) | (1u << IND_LOOKALIKE) | (1u << IND_URL))

static void seen_set(struct pk_field_seen *e, uint32_t ind, uint64_t p0, uint64_t p1)
{
	e->pkt_first = p0;
	e->ind = ind;
	e->span = p1 - p0 > UINT32_MAX ? UINT32_MAX : (uint32_t)(p1 - p0);
}

static bool seen_covers(const struct pk_field_seen *e, uint32_t ind, uint64_t p0, uint64_t p1)
{
	return e->ind == ind && e->pkt_first && p0 >= e->pkt_first && p1 <= e->pkt_first + e->span;
}

/* A field of direction dir of pf reported ind within packets [p0, p1]: in
 * the segment being handled, or among the latest of earlier ones. */
static bool field_seen(const struct pk_worker *w, const struct pk_flow *pf, unsigned dir,
		       uint32_t ind, uint64_t p0, uint64_t p1)
{
	if (w->seg_flow == pf && w->seg_dir == dir)
		for (size_t i = 0; i < w->seg_n; i++)
			if (seen_covers(&w->seg_seen[i], ind, p0, p1))
				return true;
	for (int i = 0; i < PK_FIELDS_SEEN; i++)
		if (seen_covers(&pf->d[dir].seen[i], ind, p0, p1))
			return true;
	return false;
}

/* Remember a host-name field hit, in the flow's ring and (when it belongs to
 * the segment being handled) in the worker's list for that segment. */
static void field_seen_note(struct pk_worker *w, struct pk_flow *pf, unsigned dir, uint32_t ind,
			    uint64_t p0, uint64_t p1)
{
	struct pk_dir *pd = &pf->d[dir];
	seen_set(&pd->seen[pd->seen_next], ind, p0, p1);
	pd->seen_next = (uint8_t)((pd->seen_next + 1) % PK_FIELDS_SEEN);
	if (w->seg_flow != pf || w->seg_dir != dir)
		return;
	if (w->seg_n == w->seg_cap) {
		size_t cap = w->seg_cap ? w->seg_cap * 2 : 16;
		struct pk_field_seen *v = realloc(w->seg_seen, cap * sizeof(*v));
		if (!v)
			return; /* the ring still has it */
		w->seg_seen = v;
		w->seg_cap = cap;
	}
	seen_set(&w->seg_seen[w->seg_n++], ind, p0, p1);
}

/* Literals and regexes in a DNS name: only the hits that take in a dot. A
 * name goes on the wire as labels, each with its length before it, so what
 * lies within one label is also in the message's bytes and is reported
 * there (`payload`); `evil.example` is only in the name as read. */
#define MASK_NAME_TEXT ((1u << IND_LITERAL) | (1u << IND_REGEX))

static bool name_text_hit(const struct pk_worker *w, const struct matcher_hit *h,
			  const uint8_t *text)
{
	enum ind_type t = matcher_get(w->m, h->ind)->ind->type;
	return !(MASK_NAME_TEXT & (1u << t)) || memchr(text + h->start, '.', h->end - h->start);
}

static void field_hits(struct pk_worker *w, struct pk_flow *pf, const char *field,
		       const uint8_t *text, size_t len, unsigned mask, struct pk_match *mt)
{
	w->hits.n = 0;
	if (matcher_scan_field(w->m, w->scr, text, len, mask, &w->hits, NULL) != CS_OK)
		return;
	for (size_t i = 0; i < w->hits.n; i++) {
		const struct matcher_hit *h = &w->hits.v[i];
		if ((mask & MASK_NAME_TEXT) && !name_text_hit(w, h, text))
			continue;
		if (mask & MASK_HOSTS)
			field_seen_note(w, pf, mt->dir, h->ind, mt->pkt_first, mt->pkt_last);
		mt->ind = h->ind;
		mt->field = field;
		mt->text = text + h->start;
		mt->text_len = (size_t)(h->end - h->start);
		mt->length = mt->text_len;
		/* The context of a field is the field itself. */
		mt->before = text;
		mt->before_len = (size_t)h->start;
		mt->after = text + h->end;
		mt->after_len = (size_t)(len - h->end);
		pk_emit(w, pf, mt);
	}
}

static void simple_match(struct pk_match *mt, enum flow_dir dir, uint64_t p0, uint64_t t0,
			 uint64_t p1, uint64_t t1)
{
	*mt = (struct pk_match){.dir = dir, .pkt_first = p0 ? p0 : p1, .ts_first = p0 ? t0 : t1,
				.pkt_last = p1, .ts_last = t1};
}

/* Host fields: listed domains and the lookalikes of protected brands. */
#define MASK_DOMAIN ((1u << IND_DOMAIN) | (1u << IND_LOOKALIKE))
#define MASK_URL (1u << IND_URL)

/* ---------------------------------------------------------------- DNS --- */

struct dns_ctx {
	struct pk_worker *w;
	struct pk_flow *pf;
};

static bool on_dns_name(void *user, const struct app_dns_name *n)
{
	struct dns_ctx *c = user;
	struct pk_worker *w = c->w;
	if (n->section != APP_DNS_QUESTION)
		return true;
	w->dns_names++;
	struct pk_match mt;
	simple_match(&mt, w->cur_dir, w->cur_pkt, w->cur_ts, w->cur_pkt, w->cur_ts);
	field_hits(w, c->pf, "dns.query", (const uint8_t *)n->name, n->len,
		   MASK_DOMAIN | MASK_NAME_TEXT, &mt);
	return true;
}

/* Queries are reported; a response only when its query was not seen. */
static void on_dns_msg(void *user, const uint8_t *msg, size_t len)
{
	struct dns_ctx *c = user;
	struct pk_flow *pf = c->pf;
	if (len < 12)
		return;
	uint16_t id = (uint16_t)(msg[0] << 8 | msg[1]);
	bool response = msg[2] & 0x80;
	if (response) {
		for (int i = 0; i < PK_DNS_IDS; i++)
			if (pf->dns_ids[i] == id && id != 0)
				return;
	} else {
		pf->dns_ids[pf->dns_next++ % PK_DNS_IDS] = id;
	}
	app_dns_parse(msg, len, 0, on_dns_name, c, NULL, &c->w->dns_st);
}

/* ------------------------------------------------------ engine streams --- */

/* Room in the flow table's budget for one more engine stream. Making room can
 * evict other flows, whose close handlers change the worker's current flow:
 * that is put back afterwards. */
static bool stream_charge(struct pk_worker *w)
{
	if (w->closing) {
		/* Inside a close handler, perhaps of a flow evicted to make room:
		 * no new stream, and no eviction from within an eviction. */
		w->stream_nomem++;
		return false;
	}
	struct flow *cur = w->cur;
	enum flow_dir dir = w->cur_dir;
	uint64_t pkt = w->cur_pkt, ts = w->cur_ts;
	bool ok = flow_table_charge(w->ft, w->stream_cost);
	w->cur = cur;
	w->cur_dir = dir;
	w->cur_pkt = pkt;
	w->cur_ts = ts;
	if (!ok)
		w->stream_nomem++;
	return ok;
}

/* Feed one stream, counting the engine streams open at once. */
static void stream_feed(struct pk_worker *w, struct matcher_stream *ms, const uint8_t *data,
			size_t len, uint64_t off, matcher_stream_fn fn)
{
	bool was_open = matcher_stream_open(ms);
	if (!was_open && !stream_charge(w)) {
		/* Over the memory cap even after evicting: counted, not scanned. */
		pf_of(w->cur)->rules_partial = true;
		return;
	}
	if (matcher_stream_scan(w->m, w->scr, ms, data, len, off, w->cur_pkt, w->cur_ts,
				w->run->o->context, fn, w) != CS_OK)
		w->stream_errors++;
	if (!was_open && !matcher_stream_open(ms))
		flow_table_uncharge(w->ft, w->stream_cost); /* nothing was opened after all */
	else if (!was_open && ++w->streams_open > w->streams_peak)
		w->streams_peak = w->streams_open;
}

static void stream_end(struct pk_worker *w, struct matcher_stream *ms, matcher_stream_fn fn)
{
	if (!matcher_stream_open(ms))
		return;
	if (matcher_stream_end(w->m, w->scr, ms, fn, w) != CS_OK)
		w->stream_errors++;
	w->streams_open--;
	flow_table_uncharge(w->ft, w->stream_cost);
}

/* ------------------------------------------------------ decoded bodies --- */

static bool host_type(enum ind_type t)
{
	return t == IND_DOMAIN || t == IND_URL || t == IND_LOOKALIKE;
}

/* A chunked body without a content coding: a hit within one chunk was in
 * the raw bytes too, and the payload scan reported it there. */
static bool within_one_chunk(const struct pk_dir *pd, uint64_t start, uint64_t end)
{
	const struct pk_body_scan *b = pd->body;
	unsigned n = b->n_bound < PK_CHUNK_BOUNDS ? b->n_bound : PK_CHUNK_BOUNDS;
	for (unsigned i = 0; i < n; i++)
		if (b->bound[i] > start && b->bound[i] < end)
			return false;
	return true;
}

/* A hit in the decoded bytes of a body (content coding or chunk framing
 * removed). The decoded bytes depend on every coded byte before them, so
 * the evidence spans from the body's first packet to the packet whose bytes
 * completed the match; the offset is the match's place in the decoded body. */
static void on_body_hit(void *user, const struct matcher_stream_hit *h)
{
	struct pk_worker *w = user;
	struct pk_flow *pf = pf_of(w->cur);
	struct pk_dir *pd = &pf->d[w->cur_dir];
	if (pf->http.half[w->cur_dir].body.enc == APP_ENC_IDENTITY && pd->body &&
	    within_one_chunk(pd, h->start, h->end))
		return;
	struct pk_match mt = {.ind = h->ind, .field = "http.body", .dir = w->cur_dir,
			      .pkt_first = pd->body_pkt ? pd->body_pkt : h->pkt_first,
			      .ts_first = pd->body_pkt ? pd->body_ts : h->ts_first,
			      .pkt_last = h->pkt_last, .ts_last = h->ts_last, .text = h->text,
			      .text_len = h->text_len, .length = h->end - h->start,
			      .before = h->before, .before_len = h->before_len, .after = h->after,
			      .after_len = h->after_len, .has_offset = true, .offset = h->start};
	pk_emit(w, pf, &mt);
}

/* Bytes reach on_body_data decoded only when the env asked for decoding and
 * the body had a content coding we inflate; plain bodies are not scanned
 * again (the payload stream saw them), nor are unsupported codings. */
static bool body_decoded(const struct pk_worker *w, const struct pk_flow *pf, enum app_dir dir)
{
	enum app_body_enc enc = (enum app_body_enc)pf->http.half[dir].body.enc;
	return (w->http_env.flags & APP_HTTP_DECODE_BODIES) &&
	       (enc == APP_ENC_GZIP || enc == APP_ENC_DEFLATE ||
		(enc == APP_ENC_IDENTITY && pf->http.half[dir].body_chunked));
}

/* The end of a chunk's data: where, in the body scanned so far. */
static void on_chunk_end(void *user, enum app_dir dir)
{
	struct pk_worker *w = user;
	struct pk_body_scan *b = pf_of(w->cur)->d[dir].body;
	if (b)
		b->bound[b->n_bound++ % PK_CHUNK_BOUNDS] = b->off;
}

static void body_scan(struct pk_worker *w, struct pk_dir *pd, const uint8_t *p, size_t n)
{
	if (pd->body_skip)
		return;
	if (!pd->body) {
		pd->body = malloc(sizeof(*pd->body));
		if (!pd->body) {
			/* Scanning from the middle would misplace offsets: skip the body. */
			w->body_scan_nomem++;
			pd->body_skip = true;
			pf_of(w->cur)->rules_partial = true;
			return;
		}
		w->body_scans++;
		matcher_stream_init(&pd->body->ms);
		pd->body->off = 0;
		pd->body->n_bound = 0;
	}
	stream_feed(w, &pd->body->ms, p, n, pd->body->off, on_body_hit);
	pd->body->off += n;
	w->body_scan_bytes += n;
}

/* The body ended (or broke, or its flow closed): report matches at its end
 * and free its scan state. w->cur and w->cur_dir must be the body's. */
static void body_scan_end(struct pk_worker *w, struct pk_dir *pd)
{
	pd->body_skip = false;
	if (!pd->body)
		return;
	stream_end(w, &pd->body->ms, on_body_hit);
	free(pd->body);
	pd->body = NULL;
}

/* --------------------------------------------------------------- HTTP --- */

static void on_http_request(void *user, const struct app_http_msg *m)
{
	struct pk_worker *w = user;
	struct pk_flow *pf = pf_of(w->cur);
	struct pk_dir *pd = &pf->d[m->dir];
	w->http_requests++;
	struct pk_match mt;
	simple_match(&mt, (enum flow_dir)m->dir, pd->head_pkt, pd->head_ts, w->cur_pkt, w->cur_ts);
	pd->head_pkt = 0;
	if (m->host_len)
		field_hits(w, pf, "http.host", (const uint8_t *)m->host, m->host_len, MASK_DOMAIN,
			   &mt);
	char url[PK_URL_MAX];
	size_t ul;
	if (app_http_build_url(url, sizeof(url), &ul, m->uri, m->uri_len, m->host, m->host_len) ==
	    CS_OK)
		field_hits(w, pf, "http.url", (const uint8_t *)url, ul, MASK_URL, &mt);
}

static void on_http_response(void *user, const struct app_http_msg *m)
{
	struct pk_worker *w = user;
	struct pk_dir *pd = &pf_of(w->cur)->d[m->dir];
	pd->head_pkt = 0;
}

/* Body bytes, decoded when they had a content coding (at most body_cap per
 * body: app_body stops there). */
static void on_body_data(void *user, enum app_dir dir, const uint8_t *p, size_t n)
{
	struct pk_worker *w = user;
	struct pk_flow *pf = pf_of(w->cur);
	struct pk_dir *pd = &pf->d[dir];
	if (!pd->body_pkt) {
		pd->body_pkt = w->cur_pkt;
		pd->body_ts = w->cur_ts;
	}
	if (body_decoded(w, pf, dir))
		body_scan(w, pd, p, n);
}

static const char *enc_name(enum app_body_enc e)
{
	switch (e) {
	case APP_ENC_IDENTITY: return "identity";
	case APP_ENC_GZIP: return "gzip";
	case APP_ENC_DEFLATE: return "deflate";
	default: return "unsupported";
	}
}

#define BODY_INCOMPLETE (APP_BODY_TRUNCATED | APP_BODY_GAP | APP_BODY_CAPPED | \
			 APP_BODY_DECODE_ERR | APP_BODY_CUT)

/* A body's digests against the hash indicators. */
static void body_digest_hits(struct pk_worker *w, struct pk_flow *pf, const uint8_t md5[16],
			     const uint8_t sha1[20], const uint8_t sha256[32], struct pk_match *mt)
{
	char hex[65];
	util_hex(md5, 16, hex);
	field_hits(w, pf, "http.body", (const uint8_t *)hex, 32, 1u << IND_MD5, mt);
	util_hex(sha1, 20, hex);
	field_hits(w, pf, "http.body", (const uint8_t *)hex, 40, 1u << IND_SHA1, mt);
	util_hex(sha256, 32, hex);
	field_hits(w, pf, "http.body", (const uint8_t *)hex, 64, 1u << IND_SHA256, mt);
}

static void on_body_done(void *user, const struct app_body_result *r)
{
	struct pk_worker *w = user;
	struct pk_flow *pf = pf_of(w->cur);
	struct pk_dir *pd = &pf->d[r->dir];
	body_scan_end(w, pd);
	uint64_t p0 = pd->body_pkt, t0 = pd->body_ts;
	pd->body_pkt = 0;
	if (r->decoded_len == 0)
		return;
	if (r->flags & BODY_INCOMPLETE) {
		/* A partial object's digest is not the object's: never reported. */
		w->bodies_truncated++;
		return;
	}
	w->bodies_hashed++;
	struct pk_match mt;
	simple_match(&mt, (enum flow_dir)r->dir, p0, t0, w->cur_pkt, w->cur_ts);
	mt.has_body = true;
	mt.body_length = r->decoded_len;
	mt.content_encoding = enc_name(r->enc);
	body_digest_hits(w, pf, r->md5, r->sha1, r->sha256, &mt);
	/* Not decoded, or the digests above are already of the bytes as sent (a
	 * coding named but not applied is passed over). */
	if (!(r->flags & APP_BODY_ENC_DIGESTS) ||
	    (memcmp(r->md5, r->enc_md5, 16) == 0 && memcmp(r->sha1, r->enc_sha1, 20) == 0 &&
	     memcmp(r->sha256, r->enc_sha256, 32) == 0))
		return;
	/* A coded body: the file as the server holds it may be the coded
	 * bytes (a .gz sent with Content-Encoding: gzip), so those count too. */
	mt.body_length = r->encoded_len;
	mt.body_as_sent = true;
	body_digest_hits(w, pf, r->enc_md5, r->enc_sha1, r->enc_sha256, &mt);
}

/* ------------------------------------------------------------ payload --- */

static void on_stream_hit(void *user, const struct matcher_stream_hit *h)
{
	struct pk_worker *w = user;
	struct pk_flow *pf = pf_of(w->cur);
	enum ind_type t = matcher_get(w->m, h->ind)->ind->type;
	/* Domains and URLs are found anywhere in the bytes (a link in a page,
	 * an address in a mail, a request the parser refused), but the one a
	 * parsed field of these packets reported is not reported twice; nor
	 * are they taken from a ClientHello still being read (its SNI is
	 * reported once the hello is whole). */
	if (host_type(t) &&
	    ((w->cur_dir == FLOW_DIR_C2S && pf->tls_on) ||
	     field_seen(w, pf, w->cur_dir, h->ind, h->pkt_first, h->pkt_last)))
		return;
	struct pk_match mt = {.ind = h->ind, .field = "payload", .dir = w->cur_dir,
			      .pkt_first = h->pkt_first, .pkt_last = h->pkt_last,
			      .ts_first = h->ts_first, .ts_last = h->ts_last, .text = h->text,
			      .text_len = h->text_len, .length = h->end - h->start,
			      .before = h->before, .before_len = h->before_len, .after = h->after,
			      .after_len = h->after_len, .has_offset = true, .offset = h->start};
	pk_emit(w, pf, &mt);
}

/* A UDP datagram is scanned on its own, block mode. */
static void scan_datagram(struct pk_worker *w, struct pk_flow *pf, const uint8_t *data,
			  size_t len)
{
	size_t ctx = w->run->o->context;
	w->hits.n = 0;
	if (matcher_scan(w->m, w->scr, data, len, 0, &w->hits, NULL) != CS_OK)
		return;
	for (size_t i = 0; i < w->hits.n; i++) {
		const struct matcher_hit *h = &w->hits.v[i];
		enum ind_type t = matcher_get(w->m, h->ind)->ind->type;
		if (pf->dns && host_type(t))
			continue;
		uint64_t b0 = h->start > ctx ? h->start - ctx : 0;
		uint64_t a1 = len - h->end > ctx ? h->end + ctx : len;
		size_t tl = (size_t)(h->end - h->start);
		struct pk_match mt = {.ind = h->ind, .field = "payload", .dir = w->cur_dir,
				      .pkt_first = w->cur_pkt, .pkt_last = w->cur_pkt,
				      .ts_first = w->cur_ts, .ts_last = w->cur_ts,
				      .text = data + h->start,
				      .text_len = tl < MATCHER_STREAM_TEXT ? tl : MATCHER_STREAM_TEXT,
				      .length = tl, .before = data + b0,
				      .before_len = (size_t)(h->start - b0), .after = data + h->end,
				      .after_len = (size_t)(a1 - h->end)};
		pk_emit(w, pf, &mt);
	}
}

/* The HTTP state of a flow grows and shrinks inside a packet (head buffers,
 * inflate state): count the change against the flow budget without
 * evicting (that could close the flow being handled); the worker brings the
 * table back under its cap before the next packet. */
static void http_account(struct pk_worker *w, struct pk_flow *pf)
{
	uint64_t now = app_http_mem(&pf->http);
	if (now > pf->http_mem)
		flow_table_charge_soft(w->ft, now - pf->http_mem);
	else if (now < pf->http_mem)
		flow_table_uncharge(w->ft, pf->http_mem - now);
	pf->http_mem = now;
}

static void feed_tcp_apps(struct pk_worker *w, struct pk_flow *pf, enum flow_dir dir,
			  const uint8_t *data, size_t len)
{
	struct pk_dir *pd = &pf->d[dir];
	if (pf->dns) {
		struct dns_ctx c = {w, pf};
		app_dns_tcp_feed(&pd->dns, data, len, on_dns_msg, &c, &w->dns_st);
		return;
	}
	if (pf->tls_on && dir == FLOW_DIR_C2S) {
		enum app_tls_status ts = app_tls_feed(&pf->tls, data, len, &w->tls_st);
		if (ts != APP_TLS_MORE)
			pf->tls_on = false;
		size_t sl;
		const char *sni = ts == APP_TLS_DONE ? app_tls_sni(&pf->tls, &sl) : NULL;
		if (sni) {
			w->tls_snis++;
			struct pk_match mt;
			simple_match(&mt, dir, pd->first_pkt, pd->first_ts, w->cur_pkt, w->cur_ts);
			field_hits(w, pf, "tls.sni", (const uint8_t *)sni, sl, MASK_DOMAIN, &mt);
		}
	}
	if (pf->http_on) {
		/* A head's first packet: not one of the body before it. */
		if (!pd->head_pkt && !pf->http.half[dir].body.open) {
			pd->head_pkt = w->cur_pkt;
			pd->head_ts = w->cur_ts;
		}
		if (app_http_feed(&pf->http, &w->http_env, w, (enum app_dir)dir, data, len) ==
		    APP_HTTP_STOP)
			pf->http_on = false;
		http_account(w, pf);
	}
}

static void on_data(struct flow *f, enum flow_dir dir, const uint8_t *data, size_t len,
		    uint64_t off, uint64_t pkt_no, uint64_t ts_ns, void *ctx)
{
	struct pk_worker *w = ctx;
	struct pk_flow *pf = pf_of(f);
	struct pk_dir *pd = &pf->d[dir];
	w->cur = f;
	w->cur_dir = dir;
	w->cur_pkt = pkt_no;
	w->cur_ts = ts_ns;
	if (!pd->first_pkt) {
		pd->first_pkt = pkt_no;
		pd->first_ts = ts_ns;
	}
	if (pf->proto != 6) {
		scan_datagram(w, pf, data, len);
		if (pf->dns) {
			struct dns_ctx c = {w, pf};
			on_dns_msg(&c, data, len);
		}
		return;
	}
	/* The parsers first: the host names they report in these bytes are
	 * then known to the payload scan (field_seen). */
	w->seg_flow = pf;
	w->seg_dir = (uint8_t)dir;
	w->seg_n = 0;
	feed_tcp_apps(w, pf, dir, data, len);
	if (w->stream_ok)
		stream_feed(w, &pd->ms, data, len, off, on_stream_hit);
	w->seg_flow = NULL; /* this flow may close and its slot serve another */
}

static void on_gap(struct flow *f, enum flow_dir dir, uint64_t bytes, void *ctx)
{
	struct pk_worker *w = ctx;
	struct pk_flow *pf = pf_of(f);
	struct pk_dir *pd = &pf->d[dir];
	w->cur = f;
	w->cur_dir = dir;
	pf->rules_partial = true; /* what a NOT excludes may be in the missing bytes */
	stream_end(w, &pd->ms, on_stream_hit);
	if (pf->dns)
		app_dns_tcp_gap(&pd->dns, bytes, &w->dns_st);
	if (pf->tls_on && dir == FLOW_DIR_C2S) {
		app_tls_gap(&pf->tls, bytes, &w->tls_st);
		pf->tls_on = false;
	}
	if (pf->http_on) {
		app_http_gap(&pf->http, &w->http_env, w, (enum app_dir)dir, bytes);
		http_account(w, pf);
	}
	/* A coded body cannot be inflated past a gap: its scan is over. */
	body_scan_end(w, pd);
}

static void on_close(struct flow *f, enum flow_close reason, void *ctx)
{
	(void)reason;
	struct pk_worker *w = ctx;
	struct pk_flow *pf = pf_of(f);
	bool was_closing = w->closing;
	/* A flow may close inside the handling of another packet (expiry, or
	 * eviction as a flow opens): that packet's place is put back after. */
	struct flow *cur = w->cur;
	enum flow_dir cur_dir = w->cur_dir;
	uint64_t cur_pkt = w->cur_pkt, cur_ts = w->cur_ts;
	w->closing = true;
	w->cur = f;
	for (int i = 0; i < 2; i++) {
		enum flow_dir dir = (enum flow_dir)i;
		w->cur_dir = dir;
		w->cur_pkt = flow_last_pkt(f, dir);
		w->cur_ts = flow_last_ts(f);
		if (pf->proto == 6 && !pf->dns)
			app_http_close(&pf->http, &w->http_env, w, (enum app_dir)dir);
		body_scan_end(w, &pf->d[i]);
		stream_end(w, &pf->d[i].ms, on_stream_hit);
		app_dns_tcp_fini(&pf->d[i].dns);
	}
	pk_rules_flow_end(w, pf);
	app_http_fini(&pf->http);
	flow_table_uncharge(w->ft, pf->http_mem);
	pf->http_mem = 0;
	if (pf->prev)
		pf->prev->next = pf->next;
	else
		w->flows = pf->next;
	if (pf->next)
		pf->next->prev = pf->prev;
	pf->prev = pf->next = NULL;
	w->closing = was_closing;
	w->cur = cur == f ? NULL : cur;
	w->cur_dir = cur_dir;
	w->cur_pkt = cur_pkt;
	w->cur_ts = cur_ts;
}

/* ------------------------------------------------------------ worker --- */

/* What w->m asks of flows: addresses (ip_on), and the HTTP env: only the
 * digests some indicator can match are worth computing, and coded bodies
 * are inflated only when the stream database holds something to find in
 * them. A body open at a rule switch that would need work its beginning did
 * not set up (a digest, inflating) cannot be completed honestly: it is cut
 * (reported truncated, never as a digest). */
static void env_for_rules(struct pk_worker *w, bool switching)
{
	static const enum ind_type digest_type[3] = {IND_MD5, IND_SHA1, IND_SHA256};
	struct app_http_env *e = &w->http_env;
	bool gained = false;
	w->ip_on = matcher_type_count(w->m, IND_IP) > 0;
	for (int i = 0; i < 3; i++) {
		const struct evp_md_st *md =
			matcher_type_count(w->m, digest_type[i]) ? w->md_env.md[i] : NULL;
		gained |= md && !e->md[i];
		e->md[i] = md;
	}
	/* Coded bodies are hashed as sent too, beside the decoded object. */
	e->flags |= APP_HTTP_HASH_ENCODED;
	/* bodies are worth decoding when the stream database has something to find */
	bool decode = w->stream_ok && matcher_stream_patterns(w->m) > 0;
	gained |= decode && !(e->flags & APP_HTTP_DECODE_BODIES);
	e->flags = decode ? e->flags | APP_HTTP_DECODE_BODIES : e->flags & ~APP_HTTP_DECODE_BODIES;
	if (!switching || !gained)
		return;
	for (struct pk_flow *pf = w->flows; pf; pf = pf->next)
		for (int d = 0; d < 2; d++)
			if (pf->http.half[d].body.open)
				app_body_gap(&pf->http.half[d].body);
}

enum cs_err pk_worker_init(struct pk_worker *w, struct pk_run *run, unsigned index,
			   struct cs_diag *d)
{
	const struct packet_opts *o = run->o;
	w->run = run;
	w->index = index;
	w->m = run->m;
	if (o->swap)
		w->swap_gen = atomic_load(&o->swap->gen);
	jbuf_init(&w->rec);
	jbuf_init(&w->out.bytes);
	w->out.spill_fd = -1;
	w->hits.limit = 4096;
	if (run->count_ind) {
		w->ind_matches = calloc(matcher_count(w->m) ? matcher_count(w->m) : 1,
					sizeof(uint64_t));
		if (!w->ind_matches)
			return CS_ERR_NOMEM;
	}
	enum cs_err e = CS_OK;
	if (o->scratch && o->scratch[index]) {
		w->scr = o->scratch[index];
		w->scr_lent = true;
	} else {
		e = matcher_scratch_create(w->m, &w->scr);
	}
	if (e == CS_OK)
		e = pk_scopes_init(&w->rules, o->combos);
	if (e != CS_OK)
		return e;
	struct cs_diag sd;
	cs_diag_clear(&sd);
	if (matcher_stream_prepare(w->m, w->scr, &sd) == CS_OK)
		w->stream_ok = true;
	else if (o->on_event && index == 0)
		o->on_event(o->cb_ctx, &sd);
	e = app_http_env_init(&w->md_env, d);
	if (e != CS_OK)
		return e;
	w->http_env = w->md_env;
	env_for_rules(w, false);
	w->http_env.on_request = on_http_request;
	w->http_env.on_response = on_http_response;
	w->http_env.on_body_data = on_body_data;
	w->http_env.on_body_done = on_body_done;
	w->http_env.on_chunk_end = on_chunk_end;
	w->http_env.stats = &w->http_st;
	struct flow_table_config fc = o->flow;
	fc.user_size = sizeof(struct pk_flow);
	fc.mem_cap = o->flow.mem_cap / run->n;
	if (fc.max_flows > 1 && run->n > 1)
		fc.max_flows = o->flow.max_flows / run->n + 1;
	struct flow_callbacks cb = {.on_open = on_open, .on_data = on_data, .on_gap = on_gap,
				    .on_close = on_close, .ctx = w};
	/* What one open engine stream costs: its state plus the allocator's share. */
	w->stream_cost = matcher_stream_size(w->m) + 64;
	e = flow_table_create(&fc, &cb, &w->ft, d);
	if (e != CS_OK)
		return e;
	if (run->n > 1)
		return pk_ring_init(&w->ring, PK_RING_BYTES);
	return CS_OK;
}

void pk_worker_switch(struct pk_worker *w, const struct matcher *m, struct pk_swap_slot *slot)
{
	/* Streams opened on the old database end on it, reporting what matches at
	 * their end with the old rules; each flow's next bytes open a new stream
	 * at their offset. A coded body keeps its place in the decoded bytes. */
	for (struct pk_flow *pf = w->flows; pf; pf = pf->next) {
		struct flow *f = pf->self;
		w->cur = f;
		for (int i = 0; i < 2; i++) {
			w->cur_dir = (enum flow_dir)i;
			w->cur_pkt = flow_last_pkt(f, (enum flow_dir)i);
			w->cur_ts = flow_last_ts(f);
			if (pf->d[i].body)
				stream_end(w, &pf->d[i].body->ms, on_body_hit);
			stream_end(w, &pf->d[i].ms, on_stream_hit);
		}
		pk_rules_forget(w, pf);
	}
	w->cur = NULL;
	struct pk_scopes old = w->rules;
	w->rules = slot->rules;
	slot->rules = old;
	matcher_scratch_destroy(w->scr);
	w->scr = slot->scr;
	slot->scr = NULL;
	w->stream_ok = slot->stream_ok;
	w->m = m;
	/* No stream is open now, so the cost of the next ones can change. */
	w->stream_cost = matcher_stream_size(m) + 64;
	env_for_rules(w, true);
}

void pk_worker_fini(struct pk_worker *w)
{
	flow_table_destroy(w->ft);
	if (!w->scr_lent)
		matcher_scratch_destroy(w->scr);
	matcher_hits_fini(&w->hits);
	free(w->seg_seen);
	pk_scopes_fini(&w->rules);
	app_http_env_fini(&w->md_env); /* http_env borrows its algorithms */
	pk_ring_fini(&w->ring);
	pk_out_fini(&w->out);
	jbuf_fini(&w->rec);
	free(w->ind_matches);
}

void pk_worker_packet(struct pk_worker *w, const struct pkt *p, uint64_t number, uint64_t ts_ns)
{
	pk_swap_poll(w);
	flow_table_enforce(w->ft);
	if (pk_rules_on(w))
		pk_rules_topup(w);
	w->cur_pkt = number;
	w->cur_ts = ts_ns;
	flow_table_packet(w->ft, p, number, ts_ns, NULL);
}

void pk_worker_finish(struct pk_worker *w)
{
	/* A switch published before the run stopped is taken, so its caller
	 * hears back and the flush ends the streams on the rules in force. */
	pk_swap_poll(w);
	flow_table_flush(w->ft);
	pk_rules_release(w);
}

void *pk_worker_main(void *arg)
{
	struct pk_worker *w = arg;
	uint64_t last_ts = 0;
	(void)pthread_setname_np(pthread_self(), "cs-packet");
	for (;;) {
		bool idle;
		const struct pk_ent *e = pk_ring_peek(&w->ring, 50, &idle);
		if (!e) {
			if (!idle)
				break;
			/* A quiet tap: take new rules, and let idle flows go by the
			 * last packet time seen. */
			pk_swap_poll(w);
			if (last_ts)
				flow_table_expire(w->ft, last_ts);
			continue;
		}
		const uint8_t *data = (const uint8_t *)(e + 1);
		struct pkt p;
		enum decode_result r = e->linktype == PK_LINK_IP
					       ? decode_ip(data, e->caplen, &p, &w->dec)
					       : decode_packet(e->linktype, data, e->caplen, &p, &w->dec);
		if (r == DECODE_OK && !(p.flags & PKT_F_FRAGMENT))
			pk_worker_packet(w, &p, e->number, e->ts_ns);
		last_ts = e->ts_ns;
		pk_ring_pop(&w->ring, e);
	}
	pk_worker_finish(w);
	return NULL;
}
