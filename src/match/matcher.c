/* The compiled indicator database and block scanning (include/cybersieve/matcher.h).
 * Built once, then read-only; one scratch per thread. Hits come from the engine
 * ordered by end offset, digest and IP address candidates from hexscan.c,
 * ip4scan.c and ip6scan.c in step with them; each is confirmed at its
 * boundaries, regex hits that span a newline are re-checked line by line,
 * then hits are reduced to one per (line, indicator). */
#include <hs/hs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cybersieve/matcher.h"
#include "cybersieve/pdq.h"
#include "cybersieve/util.h"
#include "match/hexscan.h"
#include "match/ip4scan.h"
#include "match/ip6scan.h"
#include "match/matcher_int.h"
#include "match/pattern.h"

/* The searches run beside the engine in block scans, in the order of their
 * shapes (shape.h): digests (hexscan.h), IPv4 and IPv6 addresses
 * (ip4scan.h, ip6scan.h). */
enum side_kind { SIDE_HEX, SIDE_IP4, SIDE_IP6, SIDE_COUNT };

/* Candidates a search finds ahead of the engine: enough that what their
 * confirmations will read, fetched as each is found, is in the cache by
 * the time the engine's hits reach them. */
#define SIDE_AHEAD 8

/* One search: q holds its next n candidates (end and shape) from q[head]
 * on, in text order; pos is where it goes on, unless done (it has met the
 * end of the part). */
struct side {
	bool done;
	uint8_t head, n;
	size_t pos;
	struct {
		size_t end;
		enum shape_kind kind;
	} q[SIDE_AHEAD];
};

struct scan_ctx {
	const struct matcher *m;
	struct matcher_scratch *s;
	const uint8_t *buf;
	size_t len;
	size_t skip_prefix;
	bool cut_end;          /* buf ends inside a line: the byte after it is unknown */
	struct matcher_hits *out;
	bool oom;
	/* during a line re-check: only this indicator, offsets shifted by base */
	bool rechecking;
	uint32_t want;
	uint64_t base;
	/* Candidates found beside the engine, handed over in step with its
	 * hits; hex: the digest widths looked for */
	struct side side[SIDE_COUNT];
	/* The end of the first candidate queued beside the engine, UINT64_MAX
	 * when none is left; 0 at the start of a part (not looked for yet). It
	 * is never above the true one, so a hit ending before it needs no look. */
	uint64_t side_next;
	unsigned hex;
};

static bool hits_push(struct matcher_hits *h, uint64_t start, uint64_t end, uint32_t ind)
{
	if (h->limit && h->n >= h->limit) {
		h->dropped++;
		return true;
	}
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 256;
		struct matcher_hit *v = realloc(h->v, cap * sizeof(*v));
		if (!v)
			return false;
		h->v = v;
		h->cap = cap;
	}
	h->v[h->n++] = (struct matcher_hit){.start = start, .end = end, .ind = ind, .count = 1};
	return true;
}

/* Re-check entries held at most: a regex such as "BEGIN.*" in dotall mode
 * reports every end after one start, each crossing a newline. */
#define RECHECK_CAP ((size_t)1 << 18)

static int cmp_recheck(const void *a, const void *b)
{
	const struct recheck *x = a, *y = b;
	if (x->ind != y->ind)
		return x->ind < y->ind ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Whether [start, ...) of the same indicator can join an entry ending at
 * end: it overlaps it, or no newline lies between (the same lines). */
static bool recheck_joins(const uint8_t *buf, uint64_t end, uint64_t start)
{
	return start <= end || !memchr(buf + end, '\n', start - end);
}

/* Merge the entries of each indicator that share lines; with whole, every
 * entry of an indicator into one span (more lines re-scanned, none missed). */
static void recheck_compact(const uint8_t *buf, struct matcher_scratch *s, bool whole)
{
	qsort(s->rc, s->n_rc, sizeof(*s->rc), cmp_recheck);
	size_t k = 0;
	for (size_t i = 0; i < s->n_rc; i++) {
		struct recheck e = s->rc[i];
		struct recheck *last = k ? &s->rc[k - 1] : NULL;
		if (last && last->ind == e.ind && (whole || recheck_joins(buf, last->end, e.start))) {
			if (e.end > last->end)
				last->end = e.end;
		} else {
			s->rc[k++] = e;
		}
	}
	s->n_rc = k;
}

static bool recheck_push(const uint8_t *buf, struct matcher_scratch *s, uint64_t start,
			 uint64_t end, uint32_t ind)
{
	if (s->n_rc) {
		struct recheck *last = &s->rc[s->n_rc - 1];
		if (last->ind == ind && start >= last->start && recheck_joins(buf, last->end, start)) {
			if (end > last->end)
				last->end = end;
			return true;
		}
	}
	if (s->n_rc == RECHECK_CAP) {
		recheck_compact(buf, s, false);
		if (s->n_rc > RECHECK_CAP / 2)
			recheck_compact(buf, s, true);
	}
	if (s->n_rc == s->cap_rc) {
		size_t cap = s->cap_rc ? s->cap_rc * 2 : 16;
		struct recheck *v = realloc(s->rc, cap * sizeof(*v));
		if (!v)
			return false;
		s->rc = v;
		s->cap_rc = cap;
	}
	s->rc[s->n_rc++] = (struct recheck){start, end, ind};
	return true;
}

static bool pdq_flush(struct scan_ctx *c);

/* With a hit limit, PDQ tokens put aside must not lose their place to hits
 * found after them: they are answered before the limit can be reached. */
static bool pdq_limit_near(const struct scan_ctx *c)
{
	size_t queued = c->s->pdq ? pdq_batch_count(c->s->pdq) : 0;
	return queued && c->out->limit && c->out->n + queued >= c->out->limit;
}

/* Every hit of a scan goes through here (but those of pdq_flush). */
static bool scan_push(struct scan_ctx *c, uint64_t start, uint64_t end, uint32_t ind)
{
	if (pdq_limit_near(c) && !pdq_flush(c))
		return false;
	return hits_push(c->out, start, end, ind);
}

static bool shape_push(void *vctx, uint32_t ind, uint64_t start, uint64_t end)
{
	return scan_push(vctx, start, end, ind);
}

static bool pdq_push(void *vctx, uint32_t ind, uint64_t start, uint64_t end)
{
	return hits_push(vctx, start, end, ind);
}

static int cmp_hit_end(const void *a, const void *b);

/* Answer the PDQ candidates put aside: their hits join the others (which
 * hits_reduce sorts). Under a hit limit they are added in text order, so
 * the limit keeps the first ones as it does for every other hit; they are
 * held first in s->pdq_hits, itself capped at the room left (past it, which
 * of the batch's hits are kept is the walk's order, and the rest are
 * counted as dropped). False when out of memory. */
static bool pdq_flush(struct scan_ctx *c)
{
	struct matcher_scratch *s = c->s;
	struct matcher_hits *out = c->out;
	if (!s->pdq || pdq_batch_count(s->pdq) == 0)
		return true;
	const uint64_t(*pos)[2] = (const uint64_t(*)[2])s->pdq_pos;
	if (!out->limit)
		return shapes_pdq_batch(&c->m->shapes, s->pdq, pos, pdq_push, out);
	size_t room = out->n < out->limit ? out->limit - out->n : 0;
	s->pdq_hits.n = 0;
	s->pdq_hits.dropped = 0;
	s->pdq_hits.limit = room ? room : 1; /* 0 would mean no limit; one more is dropped below */
	if (!shapes_pdq_batch(&c->m->shapes, s->pdq, pos, pdq_push, &s->pdq_hits))
		return false;
	if (s->pdq_hits.n > 1) /* v is NULL while nothing was ever kept */
		qsort(s->pdq_hits.v, s->pdq_hits.n, sizeof(*s->pdq_hits.v), cmp_hit_end);
	for (size_t i = 0; i < s->pdq_hits.n; i++) {
		const struct matcher_hit *h = &s->pdq_hits.v[i];
		if (!hits_push(out, h->start, h->end, h->ind))
			return false;
	}
	out->dropped += s->pdq_hits.dropped;
	return true;
}

static bool pdq_defer(void *vctx, const uint8_t key[PDQ_HASH_BYTES], uint64_t start, uint64_t end)
{
	struct scan_ctx *c = vctx;
	struct matcher_scratch *s = c->s;
	if (pdq_batch_count(s->pdq) == PDQ_BATCH_MAX && !pdq_flush(c))
		return false;
	size_t n = pdq_batch_count(s->pdq);
	if (n == s->pdq_pos_cap) {
		size_t cap = n ? n * 2 : 1024;
		uint64_t(*p)[2] = realloc(s->pdq_pos, cap * sizeof(*p));
		if (!p)
			return false;
		s->pdq_pos = p;
		s->pdq_pos_cap = cap;
	}
	if (pdq_batch_add(s->pdq, key) != CS_OK)
		return false;
	s->pdq_pos[n][0] = start;
	s->pdq_pos[n][1] = end;
	return !pdq_limit_near(c) || pdq_flush(c);
}

/* A candidate of a shape: the sets say which indicators, if any, it is.
 * PDQ candidates wait for the end of the buffer (pdq_flush), where they are
 * answered together. */
static int on_shape(struct scan_ctx *c, enum shape_kind k, uint64_t to)
{
	if (to <= c->skip_prefix || (c->cut_end && to + 1 >= c->len))
		return 0;
	if (!shapes_confirm_defer(&c->m->shapes, k, c->buf, c->len, to, shape_push, c,
				  c->s->pdq ? pdq_defer : NULL, c)) {
		c->oom = true;
		return 1;
	}
	return 0;
}

/* Find side i's next candidate: false when none is left in this part. */
static bool side_find(struct scan_ctx *c, enum side_kind i, size_t *end, enum shape_kind *kind)
{
	struct side *d = &c->side[i];
	const struct shapes *sh = &c->m->shapes;
	size_t w = 0;
	bool have;
	if (i == SIDE_HEX) {
		have = hexscan_next(c->buf, c->len, c->hex, &d->pos, end, &w);
		*kind = w == 32 ? SHAPE_MD5 : w == 40 ? SHAPE_SHA1 : SHAPE_SHA256;
		if (have)
			shapes_digest_prefetch(sh, *kind, c->buf, *end);
	} else if (i == SIDE_IP4) {
		/* Most addresses in a log are not listed: those turned away on
		 * sight never join the engine's hits. */
		size_t start;
		uint8_t addr[4];
		bool parsed;
		do
			have = ip4scan_next_addr(c->buf, c->len, &d->pos, &start, end, addr, &parsed,
						 VEC_AUTO);
		while (have && !(parsed && shapes_ip4_sift(sh, addr)));
		*kind = SHAPE_IP4;
	} else {
		have = ip6scan_next(c->buf, c->len, &d->pos, end);
		*kind = SHAPE_IP6;
	}
	return have;
}

/* Top up side i's queue once it is half empty, until the part ends. */
static void side_fill(struct scan_ctx *c, enum side_kind i)
{
	struct side *d = &c->side[i];
	if (d->done || d->n > SIDE_AHEAD / 2)
		return;
	while (d->n < SIDE_AHEAD) {
		unsigned at = (d->head + d->n) % SIDE_AHEAD;
		if (!side_find(c, i, &d->q[at].end, &d->q[at].kind)) {
			d->done = true;
			return;
		}
		d->n++;
	}
}

/* The side holding the next candidate found beside the engine: of two
 * ending at one offset, the lower shape first, as the engine orders ids.
 * NULL when none is left in this part. */
static struct side *side_peek(struct scan_ctx *c)
{
	struct side *best = NULL;
	for (int i = 0; i < SIDE_COUNT; i++) {
		struct side *d = &c->side[i];
		side_fill(c, (enum side_kind)i); /* after it, a side has a candidate or is done */
		if (d->n && (!best || d->q[d->head].end < best->q[best->head].end))
			best = d; /* at one end, the lower side is the lower shape */
	}
	c->side_next = best ? best->q[best->head].end : UINT64_MAX;
	return best;
}

/* Confirm the candidates found beside the engine that it would have given
 * before its hit of id ending at to (all of them for id UINT64_MAX), in
 * text order, so that a hit limit keeps the first hits of the text either
 * way. Non-zero when out of memory. */
static int side_upto(struct scan_ctx *c, uint64_t to, uint64_t id)
{
	struct side *d;
	while ((d = side_peek(c)) != NULL) {
		size_t end = d->q[d->head].end;
		enum shape_kind kind = d->q[d->head].kind;
		if (end > to || (end == to && c->m->n + (uint64_t)kind >= id))
			return 0;
		d->head = (uint8_t)((d->head + 1) % SIDE_AHEAD);
		d->n--;
		if (on_shape(c, kind, end))
			return 1;
	}
	return 0;
}

static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
		    unsigned int flags, void *vctx)
{
	(void)flags;
	struct scan_ctx *c = vctx;
	const struct matcher *m = c->m;
	if (c->rechecking) {
		if (id != c->want)
			return 0;
		from += c->base;
		to += c->base;
	} else if (to >= c->side_next && side_upto(c, to, id)) {
		return 1;
	}
	if (id >= m->n)
		return on_shape(c, shapes_engine_kind(id - m->n), to);
	if (to <= c->skip_prefix)
		return 0;
	/* Its boundary (up to two bytes after it: "evil.com" in "evil.com.au")
	 * lies past the cut: the next piece, which overlaps, decides. */
	if (c->cut_end && to + 1 >= c->len)
		return 0;
	uint64_t start;
	if (m->fixed_len[id])
		start = to - m->fixed_len[id];
	else if (m->has_som[id])
		start = from;
	else
		start = c->rechecking ? c->base : to; /* start unknown: re-check the line */
	const struct indicator *ind = m->ind[id].ind;
	if (ind->type == IND_REGEX && !c->rechecking &&
	    (!m->has_som[id] || memchr(c->buf + start, '\n', to - start))) {
		if (!recheck_push(c->buf, c->s, start, to, id))
			c->oom = true;
		return c->oom ? 1 : 0;
	}
	if (!pattern_confirm(ind, c->buf, c->len, start, to))
		return 0;
	/* Unbounded regexes (x.*) report every end for one start: keep the first. */
	struct matcher_hits *h = c->out;
	if (h->n > 0 && h->v[h->n - 1].ind == id && h->v[h->n - 1].start == start)
		return 0;
	if (!scan_push(c, start, to, id)) {
		c->oom = true;
		return 1;
	}
	return 0;
}

static int cmp_hit_end(const void *a, const void *b)
{
	const struct matcher_hit *x = a, *y = b;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int cmp_hit_line_ind(const void *a, const void *b)
{
	const struct matcher_hit *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->ind != y->ind)
		return x->ind < y->ind ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int cmp_hit_line_start(const void *a, const void *b)
{
	const struct matcher_hit *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->ind < y->ind ? -1 : x->ind > y->ind;
}

static inline uint64_t count_nl(const uint8_t *p, size_t n)
{
	return util_count_nl(p, n);
}

/* Re-scan each line touched by a regex hit that crossed a newline; each line
 * once per indicator however many hits touched it. */
static enum cs_err recheck_lines(struct scan_ctx *c)
{
	struct matcher_scratch *s = c->s;
	if (s->n_rc == 0)
		return CS_OK;
	qsort(s->rc, s->n_rc, sizeof(*s->rc), cmp_recheck);
	uint64_t done = 0;
	for (size_t i = 0; i < s->n_rc; i++) {
		struct recheck r = s->rc[i];
		if (i == 0 || s->rc[i - 1].ind != r.ind)
			done = 0;
		if (r.end <= done && r.end > r.start)
			continue; /* its lines were re-scanned for this indicator already */
		uint64_t ls = r.start;
		if (ls < done)
			ls = done; /* the line of its start was re-scanned: go on from there */
		else
			while (ls > 0 && c->buf[ls - 1] != '\n')
				ls--;
		while (ls < r.end) {
			const uint8_t *nl = memchr(c->buf + ls, '\n', c->len - ls);
			uint64_t le = nl ? (uint64_t)(nl - c->buf) : c->len;
			c->rechecking = true;
			c->want = r.ind;
			c->base = ls;
			hs_error_t rc = hs_scan(c->m->db, (const char *)c->buf + ls, (unsigned)(le - ls),
						0, s->hs, on_match, c);
			c->rechecking = false;
			if (c->oom)
				return CS_ERR_NOMEM;
			if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED)
				return CS_ERR_INVALID;
			ls = le + 1;
		}
		if (ls > done)
			done = ls;
	}
	s->n_rc = 0;
	return CS_OK;
}

/* Give each hit its line, then keep one per (line, indicator). */
static void hits_reduce(const uint8_t *buf, struct matcher_hits *h, size_t first)
{
	size_t n = h->n - first;
	if (n == 0)
		return; /* h->v may still be NULL */
	struct matcher_hit *v = h->v + first;
	bool sorted = true;
	for (size_t i = 1; i < n && sorted; i++)
		sorted = v[i - 1].end <= v[i].end;
	if (!sorted)
		qsort(v, n, sizeof(*v), cmp_hit_end);
	uint64_t pos = 0, line = 0;
	for (size_t i = 0; i < n; i++) {
		/* Hits never cross a newline, so the line of the start is the line of the end. */
		uint64_t upto = v[i].start;
		if (upto > pos) {
			line += count_nl(buf + pos, upto - pos);
			pos = upto;
		} else if (upto < pos) {
			line -= count_nl(buf + upto, pos - upto);
			pos = upto;
		}
		v[i].line = line;
	}
	h->nl_pos = (size_t)pos;
	h->nl_count = line;
	qsort(v, n, sizeof(*v), cmp_hit_line_ind);
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (w > 0 && v[w - 1].line == v[i].line && v[w - 1].ind == v[i].ind) {
			v[w - 1].count++;
			continue;
		}
		v[w++] = v[i];
	}
	qsort(v, w, sizeof(*v), cmp_hit_line_start);
	h->n = first + w;
}

enum cs_err matcher_scan(const struct matcher *m, struct matcher_scratch *s, const uint8_t *buf,
			 size_t len, size_t skip_prefix, struct matcher_hits *out, struct cs_diag *d)
{
	return matcher_scan_piece(m, s, buf, len, skip_prefix, false, out, d);
}

/* buf itself, or when it is short and ends near a page end a copy of it in
 * s->pad with MATCHER_SCAN_SLACK bytes after (matcher.h); NULL when out of
 * memory. A longer buffer comes with the slack. */
static const uint8_t *scan_safe(struct matcher_scratch *s, const uint8_t *buf, size_t len)
{
	if (len > MATCHER_SCAN_COPY_MAX || !matcher_near_page_end(buf, len))
		return buf;
	if (s->pad_cap < len + MATCHER_SCAN_SLACK) {
		uint8_t *p = realloc(s->pad, len + MATCHER_SCAN_SLACK);
		if (!p)
			return NULL;
		s->pad = p;
		s->pad_cap = len + MATCHER_SCAN_SLACK;
	}
	memcpy(s->pad, buf, len);
	return s->pad;
}

enum cs_err matcher_scan_piece(const struct matcher *m, struct matcher_scratch *s,
			       const uint8_t *buf, size_t len, size_t skip_prefix, bool cut_end,
			       struct matcher_hits *out, struct cs_diag *d)
{
	if (!m || !s || !out || (!buf && len))
		return CS_ERR_INVALID;
	size_t first = out->n;
	/* Nothing counted yet, whichever way this returns (matcher.h). */
	out->nl_pos = 0;
	out->nl_count = 0;
	/* Found beside the engine (hexscan.h, ip4scan.h, ip6scan.h). */
	const bool *used = m->shapes.used;
	unsigned hex = (used[SHAPE_MD5] ? HEXSCAN_W32 : 0) | (used[SHAPE_SHA1] ? HEXSCAN_W40 : 0) |
		       (used[SHAPE_SHA256] ? HEXSCAN_W64 : 0);
	bool side_on[SIDE_COUNT] = {hex != 0, used[SHAPE_IP4], used[SHAPE_IP6]};
	bool sides = side_on[SIDE_HEX] || side_on[SIDE_IP4] || side_on[SIDE_IP6];
	if ((!m->db && !sides) || len == 0)
		return CS_OK;
	struct scan_ctx c = {.m = m, .s = s, .buf = buf, .len = len, .skip_prefix = skip_prefix,
			     .out = out, .hex = hex};
	s->n_rc = 0;
	/* The engine takes an unsigned int length: feed huge buffers in line-aligned parts. */
	size_t off = 0;
	while (off < len) {
		size_t part = len - off;
		if (part > (1u << 30)) {
			const uint8_t *nl = memrchr(buf + off, '\n', 1u << 30);
			part = nl ? (size_t)(nl - (buf + off)) + 1 : (1u << 30);
		}
		c.buf = scan_safe(s, buf + off, part);
		if (!c.buf)
			return CS_ERR_NOMEM;
		c.len = part;
		c.skip_prefix = skip_prefix > off ? skip_prefix - off : 0;
		c.cut_end = cut_end && off + part == len;
		size_t mark = out->n;
		if (s->pdq)
			pdq_batch_clear(s->pdq);
		for (int i = 0; i < SIDE_COUNT; i++)
			c.side[i] = (struct side){.done = !side_on[i]};
		c.side_next = sides ? 0 : UINT64_MAX;
		hs_error_t rc = HS_SUCCESS;
		if (m->db)
			rc = hs_scan(m->db, (const char *)c.buf, (unsigned)part, 0, s->hs, on_match, &c);
		if (!c.oom && rc == HS_SUCCESS && side_upto(&c, UINT64_MAX, UINT64_MAX))
			c.oom = true;
		if (!c.oom && rc == HS_SUCCESS)
			if (recheck_lines(&c) != CS_OK && !c.oom)
				rc = HS_UNKNOWN_ERROR;
		if (!c.oom && rc == HS_SUCCESS && !pdq_flush(&c))
			c.oom = true;
		if (c.oom)
			return CS_ERR_NOMEM;
		if (rc != HS_SUCCESS) {
			cs_diag_set(d, NULL, CS_DIAG_NONE, off, "pattern engine scan failed (%d)", rc);
			return CS_ERR_INVALID;
		}
		for (size_t i = mark; i < out->n; i++) {
			out->v[i].start += off;
			out->v[i].end += off;
		}
		off += part;
	}
	hits_reduce(buf, out, first);
	return CS_OK;
}

void matcher_hits_fini(struct matcher_hits *h)
{
	free(h->v);
	memset(h, 0, sizeof(*h));
}

struct build {
	char **expr;
	unsigned *flags;
	unsigned *ids;
	bool *pack_refused;
};

static void build_fini(struct build *b, size_t n)
{
	if (b->expr)
		for (size_t i = 0; i < n; i++)
			free(b->expr[i]);
	free(b->expr);
	free(b->flags);
	free(b->ids);
	free(b->pack_refused);
}

/* Compile the indicators of packs not refused; returns the engine's error for the
 * failing indicator index in *bad (SIZE_MAX when the failure names none). */
static hs_error_t build_try(struct matcher *m, struct build *b, size_t *bad, char *msg, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++)
		if (!b->pack_refused[m->ind[i].pack_index] && !m->in_set[i])
			b->ids[k++] = (unsigned)i;
	size_t n_expr = k;
	k += shapes_engine_count(&m->shapes, true);
	const char **ex = malloc((k ? k : 1) * sizeof(*ex));
	unsigned *fl = malloc((k ? k : 1) * sizeof(*fl));
	unsigned *ids = malloc((k ? k : 1) * sizeof(*ids));
	if (!ex || !fl || !ids) {
		free(ids);
		free(ex);
		free(fl);
		snprintf(msg, cap, "out of memory");
		*bad = SIZE_MAX;
		return HS_NOMEM;
	}
	for (size_t i = 0; i < n_expr; i++) {
		ids[i] = b->ids[i];
		ex[i] = b->expr[ids[i]];
		fl[i] = b->flags[ids[i]];
	}
	shapes_engine_exprs(&m->shapes, true, (unsigned)m->n, ex + n_expr, fl + n_expr,
			    ids + n_expr);
	hs_compile_error_t *err = NULL;
	hs_error_t rc = HS_SUCCESS;
	if (k > 0)
		rc = hs_compile_multi(ex, fl, ids, (unsigned)k, HS_MODE_BLOCK, NULL, &m->db, &err);
	*bad = SIZE_MAX;
	if (rc != HS_SUCCESS) {
		if (err && err->expression >= 0 && ids[err->expression] < m->n)
			*bad = ids[err->expression];
		snprintf(msg, cap, "%s", err ? err->message : "compile failed");
		hs_free_compile_error(err);
	}
	m->stats.patterns = k;
	m->stats.set_entries = m->shapes.taken;
	m->stats.set_bytes = shapes_bytes(&m->shapes);
	free(ex);
	free(fl);
	free(ids);
	return rc;
}

static enum cs_err build_exprs(struct matcher *m, struct build *b, struct pack *const *packs,
			       size_t n_packs)
{
	size_t i = 0;
	for (size_t p = 0; p < n_packs; p++) {
		for (size_t j = 0; j < packs[p]->n_ind; j++, i++) {
			const struct indicator *ind = &packs[p]->ind[j];
			m->ind[i] = (struct matcher_ind){ind, packs[p], (uint32_t)p, (uint32_t)i, NULL};
			m->type_n[ind->type]++;
			if (ind_type_is_rule(ind->type)) {
				/* Not searched for: rules combine other matches. */
				m->in_set[i] = 1;
				continue;
			}
			if (ind->type == IND_LOOKALIKE) {
				/* Brands are judged on every host name (shape.c). */
				enum cs_err e = shapes_add_lookalike(&m->shapes, (uint32_t)i, ind);
				if (e != CS_OK)
					return e;
				m->in_set[i] = 1;
				m->shapes.taken++;
				m->ind[i].look = m->shapes.look;
				continue;
			}
			bool taken = ind->type == IND_PDQ;
			enum cs_err e = taken ? shapes_add_pdq(&m->shapes, (uint32_t)i, ind,
							       packs[p]->pdq_distance)
					      : shapes_add(&m->shapes, (uint32_t)i, ind, &taken);
			if (e != CS_OK)
				return e;
			if (taken) {
				/* Its width still bounds the overlap of split lines. */
				m->in_set[i] = 1;
				m->fixed_len[i] = (uint32_t)ind->value_len;
				if (m->fixed_len[i] > m->max_fixed)
					m->max_fixed = m->fixed_len[i];
				continue;
			}
			size_t fixed;
			e = pattern_expr(ind, &b->expr[i], &b->flags[i], &fixed);
			if (e != CS_OK)
				return e;
			m->fixed_len[i] = (uint32_t)fixed;
			m->has_som[i] = (b->flags[i] & HS_FLAG_SOM_LEFTMOST) != 0;
			if (m->fixed_len[i] > m->max_fixed)
				m->max_fixed = m->fixed_len[i];
		}
	}
	return CS_OK;
}

enum cs_err matcher_build(struct pack *const *packs, size_t n_packs, matcher_refused_fn refused,
			  void *ctx, struct matcher **out, struct cs_diag *d)
{
	return matcher_build_ex(packs, n_packs, refused, ctx, 0, out, d);
}

static void *stream_build_main(void *arg)
{
	struct matcher *m = arg;
	(void)pthread_setname_np(pthread_self(), "cs-stream-db");
	/* A failure is kept in the state word; matcher_stream_prepare reports it. */
	(void)matcher_stream_build(m, NULL);
	return NULL;
}

enum cs_err matcher_build_ex(struct pack *const *packs, size_t n_packs,
			     matcher_refused_fn refused, void *ctx, unsigned flags,
			     struct matcher **out, struct cs_diag *d)
{
	pthread_t streamer;
	bool streaming = false;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	enum cs_err err = CS_ERR_NOMEM;
	struct build b = {0};
	struct matcher *m = calloc(1, sizeof(*m));
	if (!m)
		return CS_ERR_NOMEM;
	for (size_t p = 0; p < n_packs; p++)
		m->n += packs[p]->n_ind;
	size_t n1 = m->n ? m->n : 1;
	m->ind = calloc(n1, sizeof(*m->ind));
	m->fixed_len = calloc(n1, sizeof(*m->fixed_len));
	m->has_som = calloc(n1, 1);
	m->in_set = calloc(n1, 1);
	b.expr = calloc(n1, sizeof(*b.expr));
	b.flags = calloc(n1, sizeof(*b.flags));
	b.ids = calloc(n1, sizeof(*b.ids));
	b.pack_refused = calloc(n_packs ? n_packs : 1, sizeof(bool));
	if (!m->ind || !m->fixed_len || !m->has_som || !m->in_set || !b.expr || !b.flags ||
	    !b.ids || !b.pack_refused || shapes_init(&m->shapes, m->n) != CS_OK ||
	    shapes_reserve(&m->shapes, packs, n_packs,
			   ((flags & MATCHER_BUILD_DOMSET) ? SHAPES_FORCE_DOMSET : 0) |
				   ((flags & MATCHER_BUILD_URLSET) ? SHAPES_FORCE_URLSET : 0)) != CS_OK)
		goto fail;
	err = build_exprs(m, &b, packs, n_packs);
	if (err == CS_OK)
		err = shapes_seal(&m->shapes);
	if (err != CS_OK)
		goto fail;
	if (shapes_max_width(&m->shapes) > m->max_fixed)
		m->max_fixed = shapes_max_width(&m->shapes);
	/* Both databases at once on two cores: start-up is the longer of the two. */
	if ((flags & MATCHER_BUILD_STREAM) && m->n)
		streaming = pthread_create(&streamer, NULL, stream_build_main, m) == 0;
	for (;;) {
		size_t bad;
		char msg[512];
		hs_error_t rc = build_try(m, &b, &bad, msg, sizeof(msg));
		if (rc == HS_SUCCESS)
			break;
		err = CS_ERR_COMPILE;
		if (bad == SIZE_MAX) {
			cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "pattern compile failed: %s", msg);
			goto fail;
		}
		if (m->has_som[bad]) {
			/* The engine cannot track the start of this one: re-check its lines instead. */
			m->has_som[bad] = 0;
			b.flags[bad] &= ~(unsigned)HS_FLAG_SOM_LEFTMOST;
			m->stats.regex_without_som++;
			continue;
		}
		const struct matcher_ind *mi = &m->ind[bad];
		struct cs_diag pd;
		cs_diag_clear(&pd);
		cs_diag_set(&pd, mi->pack->path, mi->ind->line ? mi->ind->line : CS_DIAG_NONE,
			    CS_DIAG_NONE, "indicator '%s' refused by the pattern engine: %s",
			    mi->ind->id, msg);
		if (!refused) {
			if (d)
				*d = pd;
			goto fail;
		}
		refused(ctx, mi->pack_index, &pd);
		b.pack_refused[mi->pack_index] = true;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	m->stats.compile_seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (m->db)
		hs_database_size(m->db, &m->stats.db_bytes);
	if (streaming)
		pthread_join(streamer, NULL);
	build_fini(&b, m->n);
	*out = m;
	return CS_OK;
fail:
	if (streaming)
		pthread_join(streamer, NULL);
	build_fini(&b, m->n);
	matcher_destroy(m);
	return err;
}

bool matcher_lookalike_describe(const struct matcher_ind *mi, const uint8_t *text, size_t len,
				struct lookalike_hit *out)
{
	if (!mi || !mi->look || mi->ind->type != IND_LOOKALIKE)
		return false;
	struct lookalike_hit hits[LOOKALIKE_MAX_HITS];
	size_t n = lookalike_check(mi->look, (const char *)text, len, hits, LOOKALIKE_MAX_HITS);
	for (size_t i = 0; i < n && i < LOOKALIKE_MAX_HITS; i++) {
		if (hits[i].ind == mi->index) {
			*out = hits[i];
			return true;
		}
	}
	return false;
}

size_t matcher_count(const struct matcher *m)
{
	return m->n;
}

const struct matcher_ind *matcher_get(const struct matcher *m, uint32_t index)
{
	return index < m->n ? &m->ind[index] : NULL;
}

void matcher_get_stats(const struct matcher *m, struct matcher_stats *st)
{
	*st = m->stats;
}

size_t matcher_type_count(const struct matcher *m, enum ind_type t)
{
	return (unsigned)t < IND_TYPE_COUNT ? m->type_n[t] : 0;
}

size_t matcher_match_ip(const struct matcher *m, int family, const uint8_t *addr,
			matcher_ip_fn fn, void *user)
{
	if (!m || !addr || !fn || (family != 4 && family != 6))
		return 0;
	return shapes_ip(&m->shapes, family == 6, addr, fn, user);
}

int matcher_pdq_distance(const struct matcher_ind *mi, const uint8_t *text, size_t len)
{
	uint8_t a[PDQ_HASH_BYTES], b[PDQ_HASH_BYTES];
	if (!mi || mi->ind->type != IND_PDQ || !text ||
	    !pdq_hash_parse(mi->ind->value, mi->ind->value_len, a) ||
	    !pdq_hash_parse((const char *)text, len, b))
		return -1;
	return (int)pdq_distance(a, b);
}

size_t matcher_max_fixed_len(const struct matcher *m)
{
	return m->max_fixed;
}

enum cs_err matcher_scratch_create(const struct matcher *m, struct matcher_scratch **out)
{
	struct matcher_scratch *s = calloc(1, sizeof(*s));
	if (!s)
		return CS_ERR_NOMEM;
	if ((m->db && hs_alloc_scratch(m->db, &s->hs) != HS_SUCCESS) ||
	    (m->shapes.pdq && pdq_batch_create(&s->pdq) != CS_OK)) {
		matcher_scratch_destroy(s);
		return CS_ERR_NOMEM;
	}
	*out = s;
	return CS_OK;
}

void matcher_scratch_destroy(struct matcher_scratch *s)
{
	if (!s)
		return;
	if (s->hs)
		hs_free_scratch(s->hs);
	free(s->rc);
	free(s->pad);
	pdq_batch_destroy(s->pdq);
	free(s->pdq_pos);
	matcher_hits_fini(&s->pdq_hits);
	free(s);
}

void matcher_destroy(struct matcher *m)
{
	if (!m)
		return;
	if (m->db)
		hs_free_database(m->db);
	matcher_stream_free(m);
	free(m->ind);
	free(m->fixed_len);
	free(m->has_som);
	free(m->in_set);
	shapes_fini(&m->shapes);
	free(m);
}
