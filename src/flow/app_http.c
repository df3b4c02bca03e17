/* HTTP/1.x over the two in-order streams of a flow: request and status
 * lines, the header fields that matter for indicators and body framing, and
 * body framing (Content-Length, chunked with extensions and trailers,
 * read-until-close), with responses matched to requests in order so that
 * HEAD, 1xx, 204 and 304 are known to carry no body. Body bytes go to
 * app_body (digests). A header block is parsed in place when one piece holds
 * it, else gathered in a per-direction buffer of at most header_cap bytes.
 * Owner: struct app_http lives in its flow; env and stats belong to the
 * worker; one thread per flow. */
#include <stdlib.h>
#include <string.h>

#include "cybersieve/app.h"

enum http_state {
	HS_START = 0,  /* between messages: skip blank lines */
	HS_HEAD,       /* gathering a header block */
	HS_HEAD_SKIP,  /* header block over the cap: pass it, then resync */
	HS_BODY_LEN,   /* Content-Length body */
	HS_CHUNK_LINE, /* chunk-size line with optional extensions */
	HS_CHUNK_DATA,
	HS_CHUNK_CRLF, /* line end after chunk data */
	HS_TRAILER,    /* trailer fields after the last chunk */
	HS_BODY_CLOSE, /* response body delimited by end of stream */
	HS_CHUNK_SNIFF, /* chunked only if the body starts like a chunk size */
	HS_RESYNC,     /* looking for the next message start */
	HS_DEAD,
};

#define CHUNK_LINE_CAP 4096u
#define PIPE_MAX 64u

void app_http_init(struct app_http *h)
{
	memset(h, 0, sizeof(*h));
	for (int d = 0; d < 2; d++)
		app_body_init(&h->half[d].body);
}

void app_http_fini(struct app_http *h)
{
	if (!h)
		return;
	for (int d = 0; d < 2; d++) {
		free(h->half[d].hbuf);
		h->half[d].hbuf = NULL;
		h->half[d].hcap = 0;
		app_body_fini(&h->half[d].body);
	}
}

size_t app_http_mem(const struct app_http *h)
{
	size_t n = 0;
	for (int d = 0; d < 2; d++)
		n += h->half[d].hcap + app_body_mem(&h->half[d].body);
	return n;
}

/* ------------------------------------------------------- header fields */

/* What a head says about framing, gathered while its fields are read. */
struct head {
	struct app_http_msg m;
	int last_field;       /* F_TE or F_CE while its folded lines may follow */
	int pending;          /* F_TE or F_CE: a name line without its colon yet */
	bool te;              /* Transfer-Encoding present */
	bool chunked_maybe;   /* chunked named only in an odd way: the body decides */
	int te_fields, te_chunked; /* Transfer-Encoding fields, and those naming chunked */
	int major;            /* HTTP version */
	bool bad;
	int codings;          /* non-identity content codings */
	enum app_body_enc coding[APP_BODY_LAYERS]; /* the first ones, in order */
};

enum { F_NONE = 0, F_TE, F_CE };

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static bool ieq(const char *a, size_t n, const char *lit)
{
	size_t m = strlen(lit);

	if (n != m)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(a[i]) != lit[i])
			return false;
	return true;
}

static void trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r'))
		(*n)--;
}

/* Bytes a lenient reader passes over around a field name or value:
 * "Transfer-Encoding :", "\r\rTransfer-Encoding:", "Transfer-Encoding\0:". */
static bool junk(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\0';
}

static void trim_junk(const char **s, size_t *n)
{
	while (*n && junk(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && junk((*s)[*n - 1]))
		(*n)--;
}

/* A field name against lit, caseless, NUL bytes passed over
 * ("Transfer\0-encoding"). */
static bool name_is(const char *s, size_t n, const char *lit)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\0')
			continue;
		if (!lit[k] || lower(s[i]) != lit[k])
			return false;
		k++;
	}
	return lit[k] == '\0' && k > 0;
}

/* Whether v[0, n) holds word (lower case), caseless, NUL bytes passed over
 * ("chu\0nked"). */
static bool has_word(const char *v, size_t n, const char *word)
{
	for (size_t i = 0; i < n; i++) {
		size_t j = i, k = 0;

		while (j < n && word[k]) {
			if (v[j] != '\0') {
				if (lower(v[j]) != word[k])
					break;
				k++;
			}
			j++;
		}
		if (!word[k])
			return true;
	}
	return false;
}

/* The comma-separated token of v[0, n) at *i into *t and *tl (untrimmed),
 * and *i past its comma; false when none is left. */
static bool next_token(const char *v, size_t n, size_t *i, const char **t, size_t *tl)
{
	size_t j = *i;

	if (j >= n)
		return false;
	while (j < n && v[j] != ',')
		j++;
	*t = v + *i;
	*tl = j - *i;
	*i = j + 1;
	return true;
}

/* Transfer-Encoding. Chunked for sure when a plain field line lists the
 * token chunked (in any of several headers: "lalala" in another does not
 * undo it). Clients part ways over odder forms ("xchunked", "chunked x",
 * a folded or junk-named field): some read chunks, some the bytes as they
 * are, so there the body's first byte decides (HS_CHUNK_SNIFF). */
static void te_tokens(struct head *hd, const char *v, size_t n, bool plain)
{
	hd->te = true;
	if (plain)
		hd->te_fields++;
	const char *t;
	size_t tl;

	for (size_t i = 0; plain && next_token(v, n, &i, &t, &tl);) {
		for (size_t k = 0; k < tl; k++)
			if (t[k] == ';')
				tl = k;
		trim(&t, &tl);
		if (ieq(t, tl, "chunked")) {
			hd->m.chunked = true;
			hd->te_chunked++;
			break;
		}
	}
	if (has_word(v, n, "chunked"))
		hd->chunked_maybe = true;
}

/* Content codings in the order applied, comma-separated (over several
 * headers too: "gzip" then "deflate" is "gzip, deflate"); a token naming
 * gzip or deflate anywhere ("x-deflate", "gzip x", ": gzip") counts as that
 * coding. app_body removes up to APP_BODY_LAYERS of them. */
static void ce_tokens(struct head *hd, const char *v, size_t n)
{
	const char *t;
	size_t tl;

	for (size_t i = 0; next_token(v, n, &i, &t, &tl);) {
		trim_junk(&t, &tl);
		if (!tl || ieq(t, tl, "identity"))
			continue;
		enum app_body_enc c = has_word(t, tl, "gzip")	 ? APP_ENC_GZIP
				      : has_word(t, tl, "deflate") ? APP_ENC_DEFLATE
								   : APP_ENC_UNSUPPORTED;
		if (hd->codings < APP_BODY_LAYERS)
			hd->coding[hd->codings] = c;
		hd->codings++;
	}
}

static bool parse_length(const char *v, size_t n, int64_t *out)
{
	int64_t x = 0;

	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9' || x > (INT64_MAX - 9) / 10)
			return false;
		x = x * 10 + (v[i] - '0');
	}
	*out = x;
	return true;
}

static int coding_field(const char *name, size_t n)
{
	return name_is(name, n, "transfer-encoding") ? F_TE
	       : name_is(name, n, "content-encoding") ? F_CE
							: F_NONE;
}

/* A value of a coding field; plain when the field line was a plain one
 * (its own line, a name without junk). */
static void coding_value(struct head *hd, int kind, const char *v, size_t n, bool plain)
{
	if (kind == F_TE)
		te_tokens(hd, v, n, plain);
	else if (kind == F_CE)
		ce_tokens(hd, v, n);
}

/* A "name: value" line (or, with codings_only, a folded line read as one:
 * then only the coding fields count). A name line without a colon waits
 * for it in the folded lines after ("Transfer-Encoding" / " :chunked"). */
static void own_field(struct head *hd, const char *line, size_t n, bool codings_only,
		      bool odd_break)
{
	const char *colon = memchr(line, ':', n);

	if (!colon) {
		const char *nm = line;
		size_t nn = n;

		trim_junk(&nm, &nn);
		if (!codings_only)
			hd->pending = coding_field(nm, nn);
		return;
	}
	const char *nm = line;
	size_t nl = (size_t)(colon - line);
	const char *v = colon + 1;
	size_t vl = n - nl - 1;

	size_t raw_nl = nl;

	trim_junk(&nm, &nl);
	trim(&v, &vl);
	int kind = coding_field(nm, nl);
	if (kind != F_NONE) {
		if (kind == F_CE && !codings_only) {
			hd->m.content_encoding = v;
			hd->m.content_encoding_len = vl;
		}
		bool plain = !codings_only && !odd_break && nl == raw_nl && !memchr(nm, '\0', nl);
		coding_value(hd, kind, v, vl, plain);
		hd->last_field = kind;
		return;
	}
	if (codings_only)
		return;
	if (name_is(nm, nl, "host")) {
		if (!hd->m.host_len) {
			hd->m.host = v;
			hd->m.host_len = vl;
		}
	} else if (name_is(nm, nl, "content-length")) {
		int64_t x = -1;

		if (!parse_length(v, vl, &x) ||
		    (hd->m.content_length >= 0 && hd->m.content_length != x))
			hd->bad = true;
		hd->m.content_length = x;
	} else if (name_is(nm, nl, "content-type")) {
		hd->m.content_type = v;
		hd->m.content_type_len = vl;
	}
}

/* One physical line of the header block after the start line; odd_break
 * when a bare CR ends it or the line before (clients part ways over that). */
static void header_field(struct head *hd, const char *line, size_t n, bool odd_break)
{
	if (line[0] != ' ' && line[0] != '\t') {
		hd->last_field = hd->pending = F_NONE;
		own_field(hd, line, n, false, odd_break);
		return;
	}
	/* A folded line that reads as a coding field of its own is taken for
	 * one, as lenient readers do (" Transfer-Encoding: chunked" after
	 * "Connection: close") ... */
	const char *t = line;
	size_t tn = n;

	trim_junk(&t, &tn);
	const char *colon = memchr(t, ':', tn);

	if (colon) {
		const char *nm = t;
		size_t nl = (size_t)(colon - t);

		trim_junk(&nm, &nl);
		if (coding_field(nm, nl) != F_NONE) {
			hd->pending = F_NONE;
			own_field(hd, t, tn, true, true);
			return;
		}
	}
	/* ... else the field before goes on here, or its colon comes here
	 * after a bare name ("Transfer-Encoding" / " :chunked"). */
	if (hd->pending != F_NONE) {
		colon = memchr(line, ':', n);
		if (colon) {
			hd->last_field = hd->pending;
			hd->pending = F_NONE;
			coding_value(hd, hd->last_field, colon + 1, n - (size_t)(colon + 1 - line),
				     false);
		}
	} else if (hd->last_field != F_NONE) {
		coding_value(hd, hd->last_field, line, n, false);
	}
}

static bool tchar(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '!' || c == '+';
}

/* "HTTP/major.minor" at s, caseless, digits of any count on each side (a
 * lenient client takes "HTTP/1.10", "HTTP/2.0", "http/1.1"); the numbers
 * (at most 9) in *major and *minor. Its length, or 0. */
static size_t version(const char *s, size_t n, int *major, int *minor)
{
	static const char pre[] = "http/";
	size_t i = 0, d;

	for (; i < 5; i++)
		if (i >= n || lower(s[i]) != pre[i])
			return 0;
	for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		;
	if (i == d || i >= n || s[i] != '.')
		return 0;
	*major = i - d == 1 ? s[d] - '0' : 9;
	for (d = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		;
	if (i == d)
		return 0;
	*minor = i - d == 1 ? s[d] - '0' : 9;
	return i;
}

static bool request_line(struct head *hd, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && i < 32 && tchar(s[i]))
		i++;
	if (i == 0 || i >= n || s[i] != ' ')
		return false;
	hd->m.method = s;
	hd->m.method_len = i;
	size_t u = ++i;

	while (i < n && (unsigned char)s[i] > 0x20 && s[i] != 0x7f)
		i++;
	if (i == u || i >= n || s[i] != ' ')
		return false;
	hd->m.uri = s + u;
	hd->m.uri_len = i - u;
	return version(s + i + 1, n - i - 1, &hd->major, &hd->m.version_minor) == n - i - 1;
}

static bool status_line(struct head *hd, const char *s, size_t n)
{
	size_t v = version(s, n, &hd->major, &hd->m.version_minor);

	if (!v || n < v + 4 || s[v] != ' ')
		return false;
	int st = 0;

	for (size_t i = v + 1; i < v + 4; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		st = st * 10 + (s[i] - '0');
	}
	if (n > v + 4 && s[v + 4] != ' ')
		return false;
	hd->m.status = st;
	return st >= 100;
}

/* Split a header block into lines and read the start line and fields. */
static bool parse_head(struct head *hd, enum app_dir dir, const char *b, size_t len)
{
	size_t pos = 0;
	bool first = true;

	memset(hd, 0, sizeof(*hd));
	hd->m.dir = dir;
	hd->m.content_length = -1;
	bool bare_cr = false;

	while (pos < len) {
		/* A line ends at LF, CRLF, or a CR that no LF follows (where
		 * lenient clients break it too: "...\"eicar.txt\"\rContent-Encoding"). */
		size_t end = pos;
		bool odd_break = bare_cr;

		while (end < len && b[end] != '\n' && b[end] != '\r')
			end++;
		size_t n = end - pos;

		bare_cr = end < len && b[end] == '\r' && !(end + 1 < len && b[end + 1] == '\n');
		odd_break |= bare_cr;
		if (end + 1 < len && b[end] == '\r' && b[end + 1] == '\n')
			end++;
		if (first) {
			bool ok = dir == APP_DIR_C2S ? request_line(hd, b + pos, n)
						     : status_line(hd, b + pos, n);
			if (!ok)
				return false;
			first = false;
		} else if (n) {
			header_field(hd, b + pos, n, odd_break);
		}
		pos = end + 1;
	}
	/* Clients part ways, too, over chunked in an HTTP/1.0 (or older)
	 * message, where it is not defined, and over Transfer-Encoding fields
	 * that disagree ("lalala" then "chunked"): the body decides there. */
	if (hd->m.chunked && (hd->major < 1 || (hd->major == 1 && hd->m.version_minor == 0) ||
			      hd->te_chunked < hd->te_fields)) {
		hd->m.chunked = false;
		hd->chunked_maybe = true;
	}
	return !first && !hd->bad;
}

/* ----------------------------------------------------------- bodies */

static void body_start(struct app_http *h, const struct app_http_env *e,
		       enum app_dir dir, uint32_t seq, const struct head *hd)
{
	struct app_http_half *hf = &h->half[dir];
	enum app_body_enc many = APP_ENC_UNSUPPORTED;
	bool over = hd->codings > APP_BODY_LAYERS;

	hf->body_seq = seq;
	hf->wire = 0;
	hf->body_gap = false;
	if (app_body_begin_layers(&hf->body, e, over ? &many : hd->coding,
				  over ? 1 : (size_t)hd->codings) != CS_OK &&
	    e->stats)
		e->stats->nomem++;
	if (hf->body.flags & APP_BODY_UNDECODED && e->stats)
		e->stats->undecoded++;
}

static void body_done(struct app_http *h, const struct app_http_env *e, void *user,
		      enum app_dir dir, unsigned extra)
{
	struct app_http_half *hf = &h->half[dir];
	struct app_body_result r;

	if (!hf->body.open)
		return;
	app_body_end(&hf->body, e, extra, &r);
	r.dir = dir;
	r.req_seq = hf->body_seq;
	r.wire_len = hf->wire;
	if (e->stats) {
		e->stats->bodies++;
		if (r.flags & APP_BODY_TRUNCATED)
			e->stats->bodies_truncated++;
		if (r.flags & APP_BODY_DECODE_ERR)
			e->stats->decode_errors++;
		if (r.flags & APP_BODY_CAPPED)
			e->stats->capped++;
	}
	if (e->on_body_done)
		e->on_body_done(user, &r);
}

static void to_resync(struct app_http *h, const struct app_http_env *e, void *user,
		      enum app_dir dir)
{
	body_done(h, e, user, dir, APP_BODY_TRUNCATED | APP_BODY_CUT);
	h->half[dir].state = HS_RESYNC;
	h->half[dir].hlen = 0;
	if (e->stats)
		e->stats->resyncs++;
}

/* Not HTTP at all, or no longer (tunnel, upgrade): both directions stop. */
static void stop(struct app_http *h, const struct app_http_env *e, bool tunnel)
{
	h->stopped = true;
	h->half[0].state = h->half[1].state = HS_DEAD;
	if (tunnel && e->stats)
		e->stats->tunnels++;
}

/* A request head was read: report it, remember its method, frame its body. */
static void on_request_head(struct app_http *h, const struct app_http_env *e, void *user,
			    struct head *hd)
{
	struct app_http_half *hf = &h->half[APP_DIR_C2S];
	uint32_t seq = hf->msgs++;
	uint64_t bit = 1ull << (seq % PIPE_MAX);

	hd->m.seq = seq;
	if (seq - h->responses >= PIPE_MAX && e->stats)
		e->stats->pipeline_overflow++;
	h->pend_head &= ~bit;
	h->pend_connect &= ~bit;
	if (ieq(hd->m.method, hd->m.method_len, "head"))
		h->pend_head |= bit;
	if (ieq(hd->m.method, hd->m.method_len, "connect"))
		h->pend_connect |= bit;
	if (e->stats)
		e->stats->requests++;
	if (e->on_request)
		e->on_request(user, &hd->m);
	hf->body_chunked = hd->m.chunked;
	if (hd->m.chunked) {
		body_start(h, e, APP_DIR_C2S, seq, hd);
		hf->state = HS_CHUNK_LINE;
	} else if (hd->chunked_maybe) {
		body_start(h, e, APP_DIR_C2S, seq, hd);
		hf->left = hd->m.content_length >= 0 ? (uint64_t)hd->m.content_length : 0;
		hf->state = HS_CHUNK_SNIFF;
	} else if (hd->m.content_length > 0) {
		body_start(h, e, APP_DIR_C2S, seq, hd);
		hf->left = (uint64_t)hd->m.content_length;
		hf->state = HS_BODY_LEN;
	} else {
		hf->state = HS_START;
	}
	hf->chunk_line = 0;
	hf->chunk_digits = false;
	hf->line_len = 0;
}

static void on_response_head(struct app_http *h, const struct app_http_env *e, void *user,
			     struct head *hd)
{
	struct app_http_half *hf = &h->half[APP_DIR_S2C];
	int st = hd->m.status;
	bool interim = st < 200;
	uint32_t seq = h->responses;
	uint64_t bit = 1ull << (seq % PIPE_MAX);
	bool known = seq < h->half[APP_DIR_C2S].msgs;
	bool head = known && (h->pend_head & bit);
	bool connect = known && (h->pend_connect & bit);

	hf->msgs++;
	hd->m.seq = seq;
	if (!interim)
		h->responses++;
	if (e->stats)
		e->stats->responses++;
	if (e->on_response)
		e->on_response(user, &hd->m);
	hf->state = HS_START;
	hf->chunk_line = 0;
	hf->chunk_digits = false;
	hf->line_len = 0;
	if (st == 101 || (connect && st < 300 && !interim)) {
		stop(h, e, true);
		return;
	}
	if (interim || head || st == 204 || st == 304)
		return;
	body_start(h, e, APP_DIR_S2C, seq, hd);
	hf->body_chunked = hd->m.chunked;
	if (hd->m.chunked) {
		hf->state = HS_CHUNK_LINE;
	} else if (hd->chunked_maybe) {
		/* not chunks after all: the length, else the end of the stream */
		hf->left = hd->m.content_length >= 0 ? (uint64_t)hd->m.content_length : UINT64_MAX;
		hf->state = HS_CHUNK_SNIFF;
	} else if (!hd->te && hd->m.content_length >= 0) {
		hf->left = (uint64_t)hd->m.content_length;
		hf->state = HS_BODY_LEN;
		if (!hf->left) {
			body_done(h, e, user, APP_DIR_S2C, 0);
			hf->state = HS_START;
		}
	} else {
		hf->state = HS_BODY_CLOSE;
	}
}

/* A whole header block is at b[0..len). */
static void head_complete(struct app_http *h, const struct app_http_env *e, void *user,
			  enum app_dir dir, const char *b, size_t len)
{
	struct app_http_half *hf = &h->half[dir];
	struct head hd;

	hf->hlen = 0;
	hf->eoh = 0;
	if (!parse_head(&hd, dir, b, len)) {
		if (e->stats)
			e->stats->bad_start_line++;
		if (!hf->started)
			stop(h, e, false);
		else
			to_resync(h, e, user, dir);
		return;
	}
	hf->started = true;
	if (dir == APP_DIR_C2S && hd.te && !hd.m.chunked && !hd.chunked_maybe) {
		if (e->stats) /* a request body we cannot frame */
			e->stats->bad_framing++;
		to_resync(h, e, user, dir);
		return;
	}
	if (dir == APP_DIR_C2S)
		on_request_head(h, e, user, &hd);
	else
		on_response_head(h, e, user, &hd);
}

/* ------------------------------------------------------------ stepping */

/* End of a header block is a blank line: LF, optional CR, LF. */
static bool eoh_scan(uint8_t *st, const uint8_t *p, size_t n, size_t *used)
{
	size_t i = 0;

	while (i < n) {
		if (*st == 0) {
			const uint8_t *lf = memchr(p + i, '\n', n - i);

			if (!lf)
				break;
			i = (size_t)(lf - p) + 1;
			*st = 1;
			continue;
		}
		uint8_t c = p[i++];

		if (c == '\n') {
			*st = 0;
			*used = i;
			return true;
		}
		*st = (*st == 1 && c == '\r') ? 2 : 0;
	}
	*used = n;
	return false;
}

/* Could these bytes begin a message of this direction? Only the first
 * message is checked so that a non-HTTP stream is dropped at once. */
static bool looks_like_start(enum app_dir dir, const uint8_t *p, size_t n)
{
	if (dir == APP_DIR_S2C) {
		for (size_t i = 0; i < n && i < 5; i++)
			if (lower((char)p[i]) != "http/"[i])
				return false;
		return true;
	}
	/* A request starts with a method: in practice an upper-case token (GET,
	 * POST, PROPFIND, M-SEARCH ...), so lower-case chat is not taken for one. */
	for (size_t i = 0; i < n && i < 33; i++) {
		if (p[i] == ' ')
			return i >= 3;
		if (!((p[i] >= 'A' && p[i] <= 'Z') || p[i] == '-' || p[i] == '_'))
			return false;
	}
	return n < 33;
}

static size_t step_head(struct app_http *h, const struct app_http_env *e, void *user,
			enum app_dir dir, const uint8_t *p, size_t n)
{
	struct app_http_half *hf = &h->half[dir];
	size_t used;
	bool found = eoh_scan(&hf->eoh, p, n, &used);
	uint32_t cap = e->header_cap;

	if (!hf->started && hf->hlen == 0 && !looks_like_start(dir, p, n)) {
		stop(h, e, false);
		return n;
	}
	if (found && hf->hlen == 0) {
		head_complete(h, e, user, dir, (const char *)p, used);
		return used;
	}
	if (hf->hlen + used > cap) {
		if (e->stats)
			e->stats->header_too_long++;
		if (!hf->started) {
			stop(h, e, false);
			return n;
		}
		hf->hlen = 0;
		hf->state = found ? HS_RESYNC : HS_HEAD_SKIP;
		if (found && e->stats)
			e->stats->resyncs++;
		return used;
	}
	if (hf->hlen + used > hf->hcap) {
		/* Grow by doubling: a head split over pieces is usually short, and a
		 * flood of stalled heads must not cost header_cap bytes each. */
		uint32_t ncap = hf->hcap ? hf->hcap : 1024;
		while (ncap < hf->hlen + used)
			ncap *= 2;
		if (ncap > cap)
			ncap = cap;
		char *nb = realloc(hf->hbuf, ncap);
		if (!nb) {
			if (e->stats)
				e->stats->nomem++;
			to_resync(h, e, user, dir);
			return used;
		}
		hf->hbuf = nb;
		hf->hcap = ncap;
	}
	memcpy(hf->hbuf + hf->hlen, p, used);
	hf->hlen += (uint32_t)used;
	if (found)
		head_complete(h, e, user, dir, hf->hbuf, hf->hlen);
	return used;
}

/* Look for "HTTP/1." and back up to the start of its line; the piece start
 * counts as a line start (a gap often ends right at a message). */
static size_t step_resync(struct app_http *h, enum app_dir dir, const uint8_t *p, size_t n)
{
	const uint8_t *v = memmem(p, n, "HTTP/1.", 7);

	if (!v)
		return n;
	size_t at = (size_t)(v - p);

	if (dir == APP_DIR_C2S) {
		while (at && p[at - 1] != '\n')
			at--;
	} else if (at && p[at - 1] != '\n') {
		return at + 1; /* not at a line start: keep looking after it */
	}
	h->half[dir].state = HS_START;
	h->half[dir].eoh = 0;
	return at ? at : 0;
}

static size_t body_bytes(struct app_http *h, const struct app_http_env *e, void *user,
			 enum app_dir dir, const uint8_t *p, size_t n)
{
	struct app_http_half *hf = &h->half[dir];
	size_t k = n < hf->left ? n : (size_t)hf->left;

	app_body_update(&hf->body, e, user, dir, p, k);
	hf->wire += k;
	hf->left -= k;
	return k;
}

static void bad_framing(struct app_http *h, const struct app_http_env *e, void *user,
			enum app_dir dir)
{
	if (e->stats)
		e->stats->bad_framing++;
	to_resync(h, e, user, dir);
}

/* Chunk-size line: hex digits, then anything (";ext", or junk lenient
 * clients pass over: "fx", "f,", "f\0") up to LF. Spaces, tabs, CR, VT, FF
 * and blank lines before the digits are passed over too (" f", "\r\nf"). */
static size_t step_chunk_line(struct app_http *h, const struct app_http_env *e, void *user,
			      enum app_dir dir, const uint8_t *p, size_t n)
{
	struct app_http_half *hf = &h->half[dir];
	size_t i = 0;

	while (i < n) {
		uint8_t c = p[i++];
		int v = -1;

		hf->wire++;
		if (++hf->line_len > CHUNK_LINE_CAP) {
			bad_framing(h, e, user, dir);
			return i;
		}
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v = (c | 0x20) - 'a' + 10;
		if (hf->chunk_line) {
			/* past the digits: everything up to LF is passed over */
		} else if (v >= 0) {
			if (hf->left >> 56) {
				bad_framing(h, e, user, dir);
				return i;
			}
			if (!hf->chunk_digits)
				hf->left = 0;
			hf->left = hf->left * 16 + (uint64_t)v;
			hf->chunk_digits = true;
			continue;
		} else if (!hf->chunk_digits) {
			if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f')
				continue;
			bad_framing(h, e, user, dir);
			return i;
		} else if (c != '\n') {
			hf->chunk_line = 1;
		}
		if (c == '\n') {
			hf->line_len = 0;
			hf->chunk_digits = false;
			hf->chunk_line = 0;
			hf->state = hf->left ? HS_CHUNK_DATA : HS_TRAILER;
			hf->trailer_line = 0;
			return i;
		}
	}
	return i;
}

/* Chunked or not, told by the body's first byte c: a hex digit, or a
 * blank the chunk-size reader passes over, starts chunks. Else the
 * framing the head gave besides (hf->left: the length; UINT64_MAX: to the
 * end of the stream) holds. Takes no byte. */
static size_t chunk_sniff(struct app_http *h, const struct app_http_env *e, void *user,
			  enum app_dir dir, uint8_t c)
{
	struct app_http_half *hf = &h->half[dir];

	if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') || c == ' ' ||
	    c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') {
		hf->body_chunked = true;
		hf->left = 0;
		hf->state = HS_CHUNK_LINE;
	} else if (hf->left == UINT64_MAX) {
		hf->state = HS_BODY_CLOSE;
	} else if (hf->left) {
		hf->state = HS_BODY_LEN;
	} else {
		body_done(h, e, user, dir, 0);
		hf->state = HS_START;
	}
	return 0;
}

static size_t step_chunk_crlf(struct app_http *h, const struct app_http_env *e, void *user,
			      enum app_dir dir, const uint8_t *p)
{
	struct app_http_half *hf = &h->half[dir];

	hf->wire++;
	if (p[0] == '\n') {
		hf->state = HS_CHUNK_LINE;
		if (e->on_chunk_end)
			e->on_chunk_end(user, dir);
	} else if (p[0] != '\r') {
		bad_framing(h, e, user, dir);
	}
	return 1;
}

/* Trailer fields end with a blank line; the body is then complete. */
static size_t step_trailer(struct app_http *h, const struct app_http_env *e, void *user,
			   enum app_dir dir, const uint8_t *p, size_t n)
{
	struct app_http_half *hf = &h->half[dir];

	for (size_t i = 0; i < n; i++) {
		hf->wire++;
		if (p[i] == '\n') {
			if (hf->trailer_line == 0) {
				body_done(h, e, user, dir, 0);
				hf->state = HS_START;
				return i + 1;
			}
			hf->trailer_line = 0;
		} else if (p[i] != '\r') {
			hf->trailer_line++;
			if (++hf->line_len > e->header_cap) {
				bad_framing(h, e, user, dir);
				return i + 1;
			}
		}
	}
	return n;
}

static size_t step(struct app_http *h, const struct app_http_env *e, void *user,
		   enum app_dir dir, const uint8_t *p, size_t n)
{
	struct app_http_half *hf = &h->half[dir];
	size_t k, used;

	switch ((enum http_state)hf->state) {
	case HS_START:
		if (p[0] == '\r' || p[0] == '\n')
			return 1;
		hf->state = HS_HEAD;
		hf->eoh = 0;
		hf->hlen = 0;
		return 0;
	case HS_HEAD:
		return step_head(h, e, user, dir, p, n);
	case HS_HEAD_SKIP:
		if (eoh_scan(&hf->eoh, p, n, &used)) {
			hf->state = HS_RESYNC;
			if (e->stats)
				e->stats->resyncs++;
		}
		return used;
	case HS_BODY_LEN:
		k = body_bytes(h, e, user, dir, p, n);
		if (!hf->left) {
			body_done(h, e, user, dir, 0);
			hf->state = HS_START;
		}
		return k;
	case HS_CHUNK_LINE:
		return step_chunk_line(h, e, user, dir, p, n);
	case HS_CHUNK_DATA:
		k = body_bytes(h, e, user, dir, p, n);
		if (!hf->left)
			hf->state = HS_CHUNK_CRLF;
		return k;
	case HS_CHUNK_CRLF:
		return step_chunk_crlf(h, e, user, dir, p);
	case HS_TRAILER:
		return step_trailer(h, e, user, dir, p, n);
	case HS_CHUNK_SNIFF:
		return chunk_sniff(h, e, user, dir, p[0]);
	case HS_BODY_CLOSE:
		app_body_update(&hf->body, e, user, dir, p, n);
		hf->wire += n;
		return n;
	case HS_RESYNC:
		k = step_resync(h, dir, p, n);
		return k;
	case HS_DEAD:
	default:
		return n;
	}
}

enum app_http_status app_http_feed(struct app_http *h, const struct app_http_env *e,
				   void *user, enum app_dir dir,
				   const uint8_t *p, size_t n)
{
	while (n && !h->stopped) {
		uint8_t before = h->half[dir].state;
		size_t k = step(h, e, user, dir, p, n);

		/* a step that used nothing must have moved to another state */
		if (!k && h->half[dir].state == before)
			k = 1;
		p += k;
		n -= k;
	}
	return h->stopped ? APP_HTTP_STOP : APP_HTTP_MORE;
}

void app_http_gap(struct app_http *h, const struct app_http_env *e, void *user,
		  enum app_dir dir, uint64_t n)
{
	struct app_http_half *hf = &h->half[dir];

	if (!n || h->stopped)
		return;
	if (e->stats)
		e->stats->gaps++;
	app_body_gap(&hf->body);
	bool in_len = hf->state == HS_BODY_LEN || hf->state == HS_CHUNK_DATA;

	if (in_len && n <= hf->left) {
		/* the framing survives: skip the missing bytes, finish on time */
		hf->left -= n;
		hf->wire += n;
		if (!hf->left && hf->state == HS_BODY_LEN) {
			body_done(h, e, user, dir, 0);
			hf->state = HS_START;
		} else if (!hf->left) {
			hf->state = HS_CHUNK_CRLF;
		}
		return;
	}
	if (hf->state == HS_BODY_CLOSE) {
		hf->wire += n;
		return;
	}
	to_resync(h, e, user, dir);
}

void app_http_close(struct app_http *h, const struct app_http_env *e, void *user,
		    enum app_dir dir)
{
	struct app_http_half *hf = &h->half[dir];

	if (hf->state == HS_BODY_CLOSE)
		body_done(h, e, user, dir, 0);
	else
		body_done(h, e, user, dir, APP_BODY_TRUNCATED | APP_BODY_CUT);
	hf->state = HS_DEAD;
	hf->hlen = 0;
}

/* ------------------------------------------------------------ URLs */

static bool put(char *out, size_t cap, size_t *o, const char *s, size_t n, bool lower)
{
	if (*o + n >= cap)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		out[(*o)++] = (char)(lower && c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out[*o] = '\0';
	return true;
}

/* Length of "scheme://" at the start of uri, or 0. */
static size_t scheme_len(const char *u, size_t n)
{
	size_t i = 0;

	while (i < n && ((u[i] >= 'a' && u[i] <= 'z') || (u[i] >= 'A' && u[i] <= 'Z') ||
			 (i && ((u[i] >= '0' && u[i] <= '9') || u[i] == '+' || u[i] == '-' ||
				u[i] == '.'))))
		i++;
	if (i && i + 3 <= n && memcmp(u + i, "://", 3) == 0)
		return i + 3;
	return 0;
}

enum cs_err app_http_build_url(char *out, size_t cap, size_t *out_len,
			       const char *uri, size_t uri_len,
			       const char *host, size_t host_len)
{
	size_t o = 0;

	if (!out || !cap || (!uri && uri_len))
		return CS_ERR_INVALID;
	out[0] = '\0';
	if (uri_len && uri[0] == '/') {
		if (!host || !host_len)
			return CS_ERR_INVALID;
		if (!put(out, cap, &o, "http://", 7, false) ||
		    !put(out, cap, &o, host, host_len, true) ||
		    !put(out, cap, &o, uri, uri_len, false))
			return CS_ERR_LIMIT;
	} else {
		size_t s = scheme_len(uri, uri_len);
		size_t a = s;

		if (!s)
			return CS_ERR_UNSUPPORTED;
		while (a < uri_len && uri[a] != '/' && uri[a] != '?' && uri[a] != '#')
			a++;
		if (!put(out, cap, &o, uri, a, true) ||
		    !put(out, cap, &o, uri + a, uri_len - a, false))
			return CS_ERR_LIMIT;
	}
	if (out_len)
		*out_len = o;
	return CS_OK;
}
