/* Stream-mode scanning of flow payloads and block scanning of short field
 * values (include/cybersieve/matcher.h, "stream and field matching").
 * The stream database is compiled once, by whichever thread asks first; the
 * others wait for it. Each flow direction owns its engine stream, a tail of
 * earlier bytes for boundary checks and a small ring mapping stream offsets
 * to packet numbers. */
#include <hs/hs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cybersieve/matcher.h"
#include "match/matcher_int.h"
#include "match/pattern.h"

void matcher_stream_free(struct matcher *m)
{
	if (m->stream_db)
		hs_free_database(m->stream_db);
	m->stream_db = NULL;
	free(m->stream_som);
	m->stream_som = NULL;
}

/* A URL the URL set holds but the stream database compiles anyway: one
 * longer than the kept tail, whose start may no longer be at hand when the
 * set's candidate comes (urlset.h); a shorter one always is. */
static bool url_streamed_whole(const struct matcher *m, size_t i)
{
	const struct indicator *ind = m->ind[i].ind;
	return m->in_set[i] && ind->type == IND_URL && ind->value_len > MATCHER_STREAM_TAIL;
}

/* Compile the indicators in stream mode. An indicator the engine refuses
 * with start tracking is retried without it; one refused outright (its pack
 * was refused by the block build too) is left out. */
static enum cs_err stream_compile(struct matcher *m, struct cs_diag *d)
{
	size_t n = m->n ? m->n : 1, n_shape = shapes_engine_count(&m->shapes, false);
	char **expr = calloc(n, sizeof(*expr));
	unsigned *flags = calloc(n, sizeof(*flags)), *ids = calloc(n + n_shape, sizeof(*ids));
	const char **ex = calloc(n + n_shape, sizeof(*ex));
	unsigned *fl = calloc(n + n_shape, sizeof(*fl));
	bool *skip = calloc(n, sizeof(*skip));
	m->stream_som = calloc(n, 1);
	enum cs_err err = CS_ERR_NOMEM;
	if (!expr || !flags || !ids || !ex || !fl || !skip || !m->stream_som)
		goto out;
	for (size_t i = 0; i < m->n; i++) {
		size_t fixed;
		skip[i] = m->in_set[i] && !url_streamed_whole(m, i);
		if (skip[i])
			continue;
		err = pattern_expr(m->ind[i].ind, &expr[i], &flags[i], &fixed);
		if (err != CS_OK)
			goto out;
	}
	for (;;) {
		size_t k = 0;
		bool som = false;
		for (size_t i = 0; i < m->n; i++) {
			if (skip[i])
				continue;
			ids[k] = (unsigned)i;
			ex[k] = expr[i];
			fl[k++] = flags[i];
			som |= (flags[i] & HS_FLAG_SOM_LEFTMOST) != 0;
		}
		m->stream_patterns = k;
		k += shapes_engine_exprs(&m->shapes, false, (unsigned)m->n, ex + k, fl + k, ids + k);
		if (k == 0) {
			err = CS_OK;
			break;
		}
		unsigned mode = HS_MODE_STREAM | (som ? HS_MODE_SOM_HORIZON_LARGE : 0);
		hs_compile_error_t *ce = NULL;
		hs_error_t rc = hs_compile_multi(ex, fl, ids, (unsigned)k, mode, NULL, &m->stream_db, &ce);
		if (rc == HS_SUCCESS) {
			err = CS_OK;
			break;
		}
		if (!ce || ce->expression < 0 || ids[ce->expression] >= m->n) {
			cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "stream pattern compile failed: %s",
				    ce ? ce->message : "unknown error");
			hs_free_compile_error(ce);
			err = CS_ERR_COMPILE;
			break;
		}
		unsigned bad = ids[ce->expression];
		hs_free_compile_error(ce);
		if (flags[bad] & HS_FLAG_SOM_LEFTMOST)
			flags[bad] &= ~(unsigned)HS_FLAG_SOM_LEFTMOST;
		else
			skip[bad] = true;
	}
	if (err == CS_OK) {
		size_t whole = 0;
		for (size_t i = 0; i < m->n; i++) {
			m->stream_som[i] = !skip[i] && (flags[i] & HS_FLAG_SOM_LEFTMOST);
			whole += !skip[i] && m->in_set[i];
		}
		m->stream_patterns += m->shapes.taken - whole;
		if (m->stream_db && hs_stream_size(m->stream_db, &m->stream_size) != HS_SUCCESS)
			m->stream_size = 0;
	}
out:
	if (expr)
		for (size_t i = 0; i < m->n; i++)
			free(expr[i]);
	free(expr);
	free(flags);
	free(ids);
	free(ex);
	free(fl);
	free(skip);
	return err;
}

enum cs_err matcher_stream_build(struct matcher *m, struct cs_diag *d)
{
	int expect = ST_NONE;
	if (atomic_compare_exchange_strong(&m->stream_state, &expect, ST_BUILDING)) {
		enum cs_err e = stream_compile(m, d);
		atomic_store(&m->stream_state, e == CS_OK ? ST_READY : ST_FAILED);
		if (e != CS_OK)
			return e;
	}
	int st;
	while ((st = atomic_load(&m->stream_state)) == ST_BUILDING)
		sched_yield();
	if (st != ST_READY) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "stream database unavailable");
		return CS_ERR_COMPILE;
	}
	return CS_OK;
}

enum cs_err matcher_stream_prepare(const struct matcher *cm, struct matcher_scratch *s,
				   struct cs_diag *d)
{
	/* The stream database is filled in once, under the state word; the rest of
	 * the matcher stays untouched, so sharing it read-only remains safe. */
	struct matcher *m = (struct matcher *)cm;
	enum cs_err e = matcher_stream_build(m, d);
	if (e != CS_OK)
		return e;
	if (m->stream_db && hs_alloc_scratch(m->stream_db, &s->hs) != HS_SUCCESS)
		return CS_ERR_NOMEM;
	return CS_OK;
}

size_t matcher_stream_size(const struct matcher *m)
{
	return m->stream_size;
}

size_t matcher_stream_patterns(const struct matcher *m)
{
	return m->stream_patterns;
}

void matcher_stream_init(struct matcher_stream *ms)
{
	memset(ms, 0, sizeof(*ms));
	ms->last_ind = UINT32_MAX;
}

bool matcher_stream_open(const struct matcher_stream *ms)
{
	return ms->hs != NULL;
}

/* One scan call: the bytes at hand are tail + data, data starting at fed
 * position seg_start (positions count from the engine stream's start). */
struct stream_ctx {
	const struct matcher *m;
	struct matcher_stream *ms;
	const uint8_t *data;
	size_t len;
	uint64_t seg_start;
	size_t context;
	matcher_stream_fn fn;
	void *user;
	bool final;        /* no later bytes will come: judge now, never defer */
	bool dry;          /* shape confirms only note what they would report */
	bool dry_hit;
	uint64_t dry_start; /* earliest start they would report */
};

/* Byte at fed position pos, or -1 when it is not at hand. */
static int byte_at(const struct stream_ctx *c, uint64_t pos)
{
	if (pos >= c->seg_start && pos < c->seg_start + c->len)
		return c->data[pos - c->seg_start];
	uint32_t tl = c->ms->tail_len;
	if (pos < c->seg_start && c->seg_start - pos <= tl)
		return c->ms->tail[tl - (c->seg_start - pos)];
	return -1;
}

/* Lay out for pattern_confirm the byte before the match, the match, and two
 * bytes after it, as far as they are at hand. When the match itself is no
 * longer at hand (longer than the kept tail), it is passed empty (start ==
 * end) and only its boundaries are judged. */
static bool confirm(const struct stream_ctx *c, const struct indicator *ind, uint64_t start,
		    uint64_t end)
{
	uint8_t w[MATCHER_STREAM_TAIL + 3];
	size_t n = 0;
	int b = start > 0 ? byte_at(c, start - 1) : -1;
	if (b >= 0)
		w[n++] = (uint8_t)b;
	size_t at = n, mlen = 0;
	if (end - start <= MATCHER_STREAM_TAIL) {
		for (uint64_t p = start; p < end; p++) {
			int a = byte_at(c, p);
			if (a < 0)
				break;
			w[n + mlen++] = (uint8_t)a;
		}
		if (mlen < end - start)
			mlen = 0; /* part of it is gone: judge the boundaries only */
	}
	n += mlen;
	for (uint64_t p = end; p < end + 2; p++) {
		int a = byte_at(c, p);
		if (a < 0)
			break;
		w[n++] = (uint8_t)a;
	}
	return pattern_confirm(ind, w, n, at, at + mlen);
}

/* Packet that carried fed position pos: the newest remembered segment at or
 * before it (the oldest one if pos is older than the ring). */
static const struct matcher_stream_seg *seg_of(const struct matcher_stream *ms, uint64_t pos)
{
	uint64_t off = ms->base + pos;
	const struct matcher_stream_seg *best = NULL, *oldest = NULL;
	for (uint32_t i = 0; i < ms->seg_n; i++) {
		uint32_t k = (ms->seg_next + MATCHER_STREAM_RING - 1 - i) % MATCHER_STREAM_RING;
		const struct matcher_stream_seg *s = &ms->seg[k];
		oldest = s;
		if (s->off <= off) {
			best = s;
			break;
		}
	}
	return best ? best : oldest;
}

/* Hand a confirmed hit of indicator id over fed positions [start, to) to the callback. */
static void stream_report(struct stream_ctx *c, uint32_t id, uint64_t start, uint64_t to)
{
	const struct matcher *m = c->m;
	struct matcher_stream *ms = c->ms;
	const struct indicator *ind = m->ind[id].ind;
	if (ms->last_ind == id && ms->last_start == start && ind->type == IND_REGEX)
		return;
	ms->last_ind = id;
	ms->last_start = start;

	uint8_t text[MATCHER_STREAM_TEXT];
	uint64_t have_from = c->seg_start - ms->tail_len;
	uint64_t t0 = start > have_from ? start : have_from;
	size_t tn = 0;
	for (uint64_t p = t0; p < to && tn < sizeof(text); p++) {
		int b = byte_at(c, p);
		if (b < 0)
			break;
		text[tn++] = (uint8_t)b;
	}
	struct matcher_stream_hit h = {.ind = id, .start = ms->base + start, .end = ms->base + to,
				       .text = text, .text_len = tn};
	const struct matcher_stream_seg *sf = seg_of(ms, start);
	const struct matcher_stream_seg *sl = seg_of(ms, to > start ? to - 1 : to);
	if (sf && sl) {
		h.pkt_first = sf->pkt;
		h.ts_first = sf->ts;
		h.pkt_last = sl->pkt;
		h.ts_last = sl->ts;
	}
	uint64_t seg_end = c->seg_start + c->len;
	uint8_t after[4096]; /* context after a hit that ended in the tail */
	/* At the stream's end there is no current segment (c->data is NULL). */
	if (c->data && start >= c->seg_start && start <= seg_end) {
		uint64_t b0 = start - c->seg_start > c->context ? start - c->context : c->seg_start;
		h.before = c->data + (b0 - c->seg_start);
		h.before_len = (size_t)(start - b0);
	} else if (start < c->seg_start && start >= have_from) {
		/* Begun in an earlier segment (or judged after it): the tail has it. */
		uint64_t b0 = start - have_from > c->context ? start - c->context : have_from;
		h.before = ms->tail + (b0 - have_from);
		h.before_len = (size_t)(start - b0);
	}
	if (c->data && to >= c->seg_start && to <= seg_end) {
		uint64_t a1 = seg_end - to > c->context ? to + c->context : seg_end;
		h.after = c->data + (to - c->seg_start);
		h.after_len = (size_t)(a1 - to);
	} else if (to < c->seg_start && to >= have_from) {
		/* Ended in the tail (judged a segment later): its bytes, then the segment's. */
		size_t n = 0;
		for (uint64_t p = to; n < c->context && n < sizeof(after); p++) {
			int b = byte_at(c, p);
			if (b < 0)
				break;
			after[n++] = (uint8_t)b;
		}
		h.after = after;
		h.after_len = n;
	}
	c->fn(c->user, &h);
}

struct shape_win {
	struct stream_ctx *c;
	uint64_t base; /* fed position of the window's first byte */
};

static bool stream_shape_emit(void *vctx, uint32_t ind, uint64_t start, uint64_t end)
{
	struct shape_win *sw = vctx;
	if (url_streamed_whole(sw->c->m, ind))
		return true; /* its own pattern reports it */
	if (sw->c->dry) {
		sw->c->dry_hit = true;
		if (sw->base + start < sw->c->dry_start)
			sw->c->dry_start = sw->base + start;
		return true;
	}
	stream_report(sw->c, ind, sw->base + start, sw->base + end);
	return true;
}

/* A shape candidate ending at fed position to: lay the bytes at hand around
 * it out as a small buffer and let the sets confirm. A token whose bytes are
 * not all at hand is not confirmed (it cannot be looked up). */
static void stream_shape(struct stream_ctx *c, enum shape_kind k, uint64_t to)
{
	/* A host name may be longer than the tail; the current segment is at hand. */
	uint8_t w[DOMSET_NAME_MAX + 8];
	size_t reach = shapes_reach(&c->m->shapes, k);
	if (reach > DOMSET_NAME_MAX + 1)
		reach = DOMSET_NAME_MAX + 1;
	uint64_t from = to > reach ? to - reach : 0;
	struct shape_win sw = {c, from};
	uint64_t seg_end = c->seg_start + c->len;
	if (from >= c->seg_start && to <= seg_end) {
		/* All in the segment: judged in place. A run of hex digits or
		 * host bytes ends a candidate at every byte, and copying the
		 * reach for each was most of the work. */
		uint64_t stop = to + 2 < seg_end ? to + 2 : seg_end;
		(void)shapes_confirm(&c->m->shapes, k, c->data + (from - c->seg_start),
				     (size_t)(stop - from), to - from, stream_shape_emit, &sw);
		return;
	}
	while (from < to && byte_at(c, from) < 0)
		from++;
	sw.base = from;
	size_t n = 0;
	for (uint64_t p = from; p < to + 2; p++) {
		int b = byte_at(c, p);
		if (b < 0)
			break;
		w[n++] = (uint8_t)b;
	}
	if (n < to - from)
		return;
	(void)shapes_confirm(&c->m->shapes, k, w, n, to - from, stream_shape_emit, &sw);
}

/* Put a candidate over [start, to) on the stream's waiting list, if there is
 * room and it stays in the tail (with its boundary byte before) once the
 * segment is passed. False: judge it now. */
static bool stream_defer(struct stream_ctx *c, uint32_t id, bool shape, uint64_t start,
			 uint64_t to)
{
	struct matcher_stream *ms = c->ms;
	uint64_t end = c->seg_start + c->len;
	if (ms->defer_n >= MATCHER_STREAM_DEFER || start > to || end - start + 8 > MATCHER_STREAM_TAIL)
		return false;
	ms->defer[ms->defer_n].to = to;
	ms->defer[ms->defer_n].id = id;
	ms->defer[ms->defer_n].len = (uint8_t)(to - start);
	ms->defer[ms->defer_n].shape = shape;
	ms->defer_n++;
	return true;
}

/* Fewer than the two bytes after `to` that boundary checks read are at hand,
 * and more bytes may come. */
static bool after_unknown(const struct stream_ctx *c, uint64_t to)
{
	return !c->final && to + 2 > c->seg_start + c->len;
}

/* A shape candidate at a segment's end: what it would report with a
 * boundary after it decides. Nothing: done. Else it waits if it can. True
 * when it needs no judging now. */
static bool stream_defer_shape(struct stream_ctx *c, enum shape_kind k, uint64_t to)
{
	if (!after_unknown(c, to) || c->ms->defer_n >= MATCHER_STREAM_DEFER)
		return false;
	c->dry = true;
	c->dry_hit = false;
	c->dry_start = UINT64_MAX;
	stream_shape(c, k, to);
	c->dry = false;
	return !c->dry_hit || stream_defer(c, (uint32_t)k, true, c->dry_start, to);
}

/* Indicator types whose match is judged by the bytes after it. */
static bool bounded_after(const struct indicator *ind)
{
	switch (ind->type) {
	case IND_DOMAIN:
	case IND_EMAIL:
	case IND_URL:
	case IND_MD5:
	case IND_SHA1:
	case IND_SHA256:
	case IND_WALLET:
		return true;
	default:
		return false;
	}
}

/* Judge the candidates that waited, now that the next segment (or the
 * stream's end) is here; one that still lacks two bytes after it (a one-byte
 * segment) waits on if it can. */
static void stream_resolve(struct stream_ctx *c)
{
	struct matcher_stream *ms = c->ms;
	struct matcher_stream_defer v[MATCHER_STREAM_DEFER];
	uint32_t n = ms->defer_n;
	memcpy(v, ms->defer, n * sizeof(v[0]));
	ms->defer_n = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t to = v[i].to, start = to - v[i].len;
		if (after_unknown(c, to) && stream_defer(c, v[i].id, v[i].shape, start, to))
			continue;
		if (v[i].shape)
			stream_shape(c, (enum shape_kind)v[i].id, to);
		else if (confirm(c, c->m->ind[v[i].id].ind, start, to))
			stream_report(c, v[i].id, start, to);
	}
}

static int on_stream_match(unsigned int id, unsigned long long from, unsigned long long to,
			   unsigned int flags, void *vctx)
{
	(void)flags;
	struct stream_ctx *c = vctx;
	const struct matcher *m = c->m;
	if (id >= m->n) {
		enum shape_kind k = shapes_engine_kind(id - m->n);
		if (!stream_defer_shape(c, k, to))
			stream_shape(c, k, to);
		return 0;
	}
	uint64_t start;
	if (m->fixed_len[id])
		start = to >= m->fixed_len[id] ? to - m->fixed_len[id] : 0;
	else if (m->stream_som[id])
		start = from;
	else
		start = to;
	if (!confirm(c, m->ind[id].ind, start, to))
		return 0;
	if (bounded_after(m->ind[id].ind) && after_unknown(c, to) &&
	    stream_defer(c, id, false, start, to))
		return 0;
	stream_report(c, id, start, to);
	return 0;
}

static void tail_keep(struct matcher_stream *ms, const uint8_t *data, size_t len)
{
	if (len >= MATCHER_STREAM_TAIL) {
		memcpy(ms->tail, data + len - MATCHER_STREAM_TAIL, MATCHER_STREAM_TAIL);
		ms->tail_len = MATCHER_STREAM_TAIL;
		return;
	}
	size_t keep = MATCHER_STREAM_TAIL - len;
	if (keep > ms->tail_len)
		keep = ms->tail_len;
	memmove(ms->tail, ms->tail + ms->tail_len - keep, keep);
	memcpy(ms->tail + keep, data, len);
	ms->tail_len = (uint32_t)(keep + len);
}

enum cs_err matcher_stream_scan(const struct matcher *m, struct matcher_scratch *s,
				struct matcher_stream *ms, const uint8_t *data, size_t len,
				uint64_t offset, uint64_t pkt_no, uint64_t ts_ns, size_t context,
				matcher_stream_fn fn, void *user)
{
	if (!m->stream_db || len == 0)
		return CS_OK;
	if (ms->hs && offset != ms->base + ms->fed) {
		enum cs_err e = matcher_stream_end(m, s, ms, fn, user);
		if (e != CS_OK)
			return e;
	}
	if (!ms->hs) {
		hs_stream_t *st = NULL;
		if (hs_open_stream(m->stream_db, 0, &st) != HS_SUCCESS)
			return CS_ERR_NOMEM;
		matcher_stream_init(ms);
		ms->hs = st;
		ms->base = offset;
	}
	ms->seg[ms->seg_next] = (struct matcher_stream_seg){offset, pkt_no, ts_ns};
	ms->seg_next = (ms->seg_next + 1) % MATCHER_STREAM_RING;
	if (ms->seg_n < MATCHER_STREAM_RING)
		ms->seg_n++;
	ms->context = context > UINT32_MAX ? UINT32_MAX : (uint32_t)context;
	struct stream_ctx c = {.m = m, .ms = ms, .seg_start = ms->fed, .context = context,
			       .fn = fn, .user = user};
	/* The engine takes an unsigned length: feed a huge piece in parts. */
	while (len > 0) {
		size_t part = len > (1u << 30) ? (1u << 30) : len;
		c.data = data;
		c.len = part;
		if (ms->defer_n)
			stream_resolve(&c);
		/* A part ending near a page end: its last bytes are fed from a copy
		 * with room after it (MATCHER_SCAN_SLACK); the stream joins them. */
		size_t last = matcher_near_page_end(data, part)
				      ? (part < MATCHER_SCAN_SLACK ? part : MATCHER_SCAN_SLACK)
				      : 0;
		uint8_t pad[2 * MATCHER_SCAN_SLACK];
		memcpy(pad, data + part - last, last);
		hs_error_t rc = HS_SUCCESS;
		if (part > last)
			rc = hs_scan_stream(ms->hs, (const char *)data, (unsigned)(part - last), 0,
					    s->hs, on_stream_match, &c);
		if (rc == HS_SUCCESS && last)
			rc = hs_scan_stream(ms->hs, (const char *)pad, (unsigned)last, 0, s->hs,
					    on_stream_match, &c);
		if (rc != HS_SUCCESS)
			return CS_ERR_INVALID;
		tail_keep(ms, data, part);
		ms->fed += part;
		c.seg_start = ms->fed;
		data += part;
		len -= part;
	}
	return CS_OK;
}

enum cs_err matcher_stream_end(const struct matcher *m, struct matcher_scratch *s,
			       struct matcher_stream *ms, matcher_stream_fn fn, void *user)
{
	if (!ms->hs)
		return CS_OK;
	struct stream_ctx c = {.m = m, .ms = ms, .data = NULL, .len = 0, .seg_start = ms->fed,
			       .context = ms->context, .fn = fn, .user = user, .final = true};
	stream_resolve(&c);
	hs_error_t rc = hs_close_stream(ms->hs, s->hs, on_stream_match, &c);
	ms->hs = NULL;
	return rc == HS_SUCCESS ? CS_OK : CS_ERR_INVALID;
}

enum cs_err matcher_scan_field(const struct matcher *m, struct matcher_scratch *s,
			       const uint8_t *text, size_t len, unsigned type_mask,
			       struct matcher_hits *out, struct cs_diag *d)
{
	size_t first = out->n;
	enum cs_err e = matcher_scan(m, s, text, len, 0, out, d);
	if (e != CS_OK)
		return e;
	size_t w = first;
	for (size_t i = first; i < out->n; i++)
		if (type_mask & (1u << m->ind[out->v[i].ind].ind->type))
			out->v[w++] = out->v[i];
	out->n = w;
	return CS_OK;
}
