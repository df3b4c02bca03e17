/* TCP stream ordering for one direction (see cybersieve/tcp_stream.h).
 *
 * Buffered pieces form a sorted singly-linked list of non-overlapping ranges,
 * all ahead of next_seq. A new segment is cut against that list: the parts
 * already covered are compared (first data wins) and dropped, the parts not
 * covered become new pieces, except a part starting at next_seq, which is
 * handed to the sink straight from the caller's bytes. The walk runs twice,
 * first dry to learn how many bytes it needs, so that the budget is checked
 * once per segment and a refusal leaves the list untouched.
 * Sequence numbers compare by 32-bit serial arithmetic (RFC 1982), so a
 * stream may wrap 2^32 any number of times. */
#include <stdlib.h>
#include <string.h>

#include "cybersieve/tcp_stream.h"

struct tcp_seg {
	struct tcp_seg *next;
	uint32_t seq;
	uint32_t len;
	uint64_t pkt_no;
	uint64_t ts_ns;
	uint8_t data[];
};

_Static_assert(sizeof(struct tcp_seg) == TCP_STREAM_SEG_OVERHEAD, "piece header size");

/* One pass of a segment over the buffered list (see the top comment). */
struct stream_walk {
	struct tcp_stream *s;
	struct tcp_reasm *r;
	const struct tcp_sink *k;
	const struct tcp_seg_in *in;
	const uint8_t *data;    /* the byte at relative position a0 */
	uint32_t base;          /* next_seq when the walk began: positions are relative to it */
	uint32_t a0;
	bool dry;
	uint64_t need;          /* dry pass: bytes the new pieces will take */
	uint64_t got;           /* real pass: bytes taken */
	bool overlap;
	bool conflict;
};

static int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

void tcp_stream_init(struct tcp_stream *s)
{
	memset(s, 0, sizeof(*s));
}

bool tcp_stream_fin_done(const struct tcp_stream *s)
{
	return (s->flags & TCP_STREAM_F_FIN_DONE) != 0;
}

static void stream_emit(struct tcp_stream *s, const struct tcp_sink *k, const uint8_t *data,
			uint32_t len, uint64_t pkt_no, uint64_t ts_ns)
{
	k->data(k->arg, data, len, s->offset, pkt_no, ts_ns);
	s->offset += len;
	s->next_seq += len;
}

static void stream_skip(struct tcp_stream *s, struct tcp_reasm *r, const struct tcp_sink *k,
			uint32_t n)
{
	if (n == 0)
		return;
	k->gap(k->arg, n);
	r->st->gaps++;
	r->st->gap_bytes += n;
	s->offset += n;
	s->next_seq += n;
}

/* The FIN takes one sequence number once every byte before it is delivered. */
static void stream_check_fin(struct tcp_stream *s)
{
	if ((s->flags & (TCP_STREAM_F_FIN_SEEN | TCP_STREAM_F_FIN_DONE)) == TCP_STREAM_F_FIN_SEEN &&
	    s->next_seq == s->fin_seq) {
		s->flags |= TCP_STREAM_F_FIN_DONE;
		s->next_seq++;
	}
}

static void stream_pop(struct tcp_stream *s, struct tcp_reasm *r)
{
	struct tcp_seg *g = s->head;
	uint32_t size = TCP_STREAM_SEG_OVERHEAD + g->len;

	s->head = g->next;
	s->buffered -= size;
	r->mem_used -= size;
	free(g);
}

/* Hand over every buffered piece that now starts at next_seq. */
static void stream_drain(struct tcp_stream *s, struct tcp_reasm *r, const struct tcp_sink *k)
{
	while (s->head && s->head->seq == s->next_seq && !(s->flags & TCP_STREAM_F_FIN_DONE)) {
		struct tcp_seg *g = s->head;
		stream_emit(s, k, g->data, g->len, g->pkt_no, g->ts_ns);
		stream_pop(s, r);
	}
	stream_check_fin(s);
}

/* Skip every hole before a buffered piece, delivering all that is buffered. */
static void stream_skip_all(struct tcp_stream *s, struct tcp_reasm *r, const struct tcp_sink *k)
{
	while (s->head) {
		int32_t d = seq_diff(s->head->seq, s->next_seq);
		if (d < 0 || (s->flags & TCP_STREAM_F_FIN_DONE)) {
			/* Buffered before a FIN that then ended the stream
			 * short of it: bytes beyond the FIN are not the stream's. */
			r->st->segs_after_fin++;
			stream_pop(s, r);
			continue;
		}
		stream_skip(s, r, k, (uint32_t)d);
		stream_drain(s, r, k);
	}
}

void tcp_stream_release(struct tcp_stream *s, struct tcp_reasm *r)
{
	while (s->head)
		stream_pop(s, r);
}

void tcp_stream_flush(struct tcp_stream *s, struct tcp_reasm *r, const struct tcp_sink *k)
{
	stream_skip_all(s, r, k);
	if ((s->flags & (TCP_STREAM_F_FIN_SEEN | TCP_STREAM_F_FIN_DONE)) == TCP_STREAM_F_FIN_SEEN &&
	    seq_diff(s->fin_seq, s->next_seq) > 0) {
		stream_skip(s, r, k, s->fin_seq - s->next_seq);
		stream_check_fin(s);
	}
	tcp_stream_release(s, r);
}

static bool reasm_reserve(struct tcp_reasm *r, uint64_t n)
{
	if (r->mem_used + n > r->mem_cap &&
	    !(r->make_room && r->make_room(r->room_arg, n)))
		return false;
	if (r->mem_used + n > r->mem_cap)
		return false;
	r->mem_used += n;
	if (r->mem_used > r->mem_peak)
		r->mem_peak = r->mem_used;
	return true;
}

/* A part [a, a+n) not covered by any piece. Returns where the walk goes on. */
static struct tcp_seg **walk_piece(struct stream_walk *w, struct tcp_seg **link, uint32_t a,
				   uint32_t n)
{
	const uint8_t *src = w->data + (a - w->a0);
	struct tcp_seg *g;

	if (a == 0) {
		/* At next_seq, before every piece: no copy needed. */
		if (!w->dry)
			stream_emit(w->s, w->k, src, n, w->in->pkt_no, w->in->ts_ns);
		return link;
	}
	if (w->dry) {
		w->need += TCP_STREAM_SEG_OVERHEAD + (uint64_t)n;
		return link;
	}
	g = malloc(TCP_STREAM_SEG_OVERHEAD + (size_t)n);
	if (!g)
		return link; /* the bytes are lost: a hole, skipped later */
	g->seq = w->base + a;
	g->len = n;
	g->pkt_no = w->in->pkt_no;
	g->ts_ns = w->in->ts_ns;
	memcpy(g->data, src, n);
	g->next = *link;
	*link = g;
	w->got += TCP_STREAM_SEG_OVERHEAD + (uint64_t)n;
	w->s->buffered += TCP_STREAM_SEG_OVERHEAD + n;
	return &g->next;
}

/* Cut [seq, seq+len) against the list. Relative positions stay below 2^31
 * (everything kept lies ahead of next_seq by a positive serial distance). */
static void walk_run(struct stream_walk *w, uint32_t seq, uint32_t len)
{
	uint32_t a = seq - w->base, b = a + len;
	struct tcp_seg **link = &w->s->head;

	w->a0 = a;
	while (*link && a < b) {
		struct tcp_seg *cur = *link;
		uint32_t cs = cur->seq - w->base, ce = cs + cur->len, oe;

		if (ce <= a) {
			link = &cur->next;
			continue;
		}
		if (cs >= b)
			break;
		if (a < cs) {
			link = walk_piece(w, link, a, cs - a);
			a = cs;
		}
		oe = b < ce ? b : ce;
		if (!w->dry) {
			w->overlap = true;
			if (memcmp(cur->data + (a - cs), w->data + (a - w->a0), oe - a) != 0)
				w->conflict = true;
		}
		a = oe;
		link = &cur->next;
	}
	if (a < b)
		walk_piece(w, link, a, b - a);
}

/* The budget refused: deliver all that is buffered (skipping holes), then
 * this segment after a gap. */
static void stream_skip_ahead(struct tcp_stream *s, struct tcp_reasm *r,
			      const struct tcp_seg_in *in, const struct tcp_sink *k,
			      uint32_t seq, const uint8_t *data, uint32_t len)
{
	int64_t rel;

	stream_skip_all(s, r, k);
	rel = seq_diff(seq, s->next_seq);
	if (rel + (int64_t)len <= 0) {
		r->st->segs_overlap++; /* all of it was buffered before: first wins */
		return;
	}
	if (rel < 0) {
		data += -rel;
		len -= (uint32_t)-rel;
		r->st->segs_overlap++;
		rel = 0;
	}
	stream_skip(s, r, k, (uint32_t)rel);
	stream_emit(s, k, data, len, in->pkt_no, in->ts_ns);
	stream_check_fin(s);
}

static void stream_data(struct tcp_stream *s, struct tcp_reasm *r, const struct tcp_seg_in *in,
			const struct tcp_sink *k, uint32_t seq, const uint8_t *data, uint32_t len)
{
	struct tcp_stream_stats *st = r->st;
	int64_t rel = seq_diff(seq, s->next_seq);
	bool overlap = false;
	struct stream_walk w;

	if (rel + (int64_t)len <= 0) {
		st->segs_retransmitted++;
		return;
	}
	if (rel < 0) {
		/* Starts in delivered bytes: keep only what is new. */
		data += -rel;
		len -= (uint32_t)-rel;
		seq = s->next_seq;
		rel = 0;
		overlap = true;
	}
	if (rel == 0 && (!s->head || s->head->seq - seq >= len)) {
		st->segs_in_order++;
		st->segs_overlap += overlap;
		stream_emit(s, k, data, len, in->pkt_no, in->ts_ns);
		stream_drain(s, r, k);
		return;
	}
	w = (struct stream_walk){ .s = s, .r = r, .k = k, .in = in, .data = data,
				  .base = s->next_seq, .dry = true };
	walk_run(&w, seq, len);
	if (rel > 0 && w.need == 0) {
		/* Every byte is buffered already: a retransmission, but one
		 * that can still be compared with what was kept. */
		st->segs_retransmitted++;
		w.dry = false;
		walk_run(&w, seq, len);
		st->overlaps_conflicting += w.conflict;
		return;
	}
	if (rel == 0)
		st->segs_in_order++;
	else
		st->segs_out_of_order++;
	if (w.need && s->buffered + w.need > r->dir_buf_max) {
		st->dir_cap_hits++;
		st->segs_overlap += overlap;
		stream_skip_ahead(s, r, in, k, seq, data, len);
		return;
	}
	if (w.need && !reasm_reserve(r, w.need)) {
		st->mem_cap_hits++;
		st->segs_overlap += overlap;
		stream_skip_ahead(s, r, in, k, seq, data, len);
		return;
	}
	w.dry = false;
	walk_run(&w, seq, len);
	r->mem_used -= w.need - w.got;
	if (w.got < w.need)
		st->mem_cap_hits++;
	st->segs_overlap += overlap || w.overlap;
	st->overlaps_conflicting += w.conflict;
	stream_drain(s, r, k);
}

/* The capture cut the segment short: what follows its captured bytes is
 * known missing; skip it now when the stream has reached it. */
static void stream_snapped(struct tcp_stream *s, struct tcp_reasm *r, const struct tcp_sink *k,
			   uint32_t from, uint32_t end)
{
	if (s->head && seq_diff(s->head->seq, end) < 0)
		end = s->head->seq;
	if (seq_diff(s->next_seq, from) >= 0 && seq_diff(end, s->next_seq) > 0) {
		stream_skip(s, r, k, end - s->next_seq);
		stream_drain(s, r, k);
	}
}

void tcp_stream_segment(struct tcp_stream *s, struct tcp_reasm *r, const struct tcp_seg_in *in,
			const struct tcp_sink *k)
{
	uint32_t seq = in->seq;
	uint32_t len = (uint32_t)in->len;
	uint32_t wire = in->wire_len > in->len ? (uint32_t)in->wire_len : len;
	bool syn = (in->flags & TCP_FLAG_SYN) != 0;

	if (!(s->flags & TCP_STREAM_F_KNOWN)) {
		/* A bare ACK's sequence number may be a keep-alive's (one
		 * below the next byte): do not anchor on it. */
		if (!syn && !(in->flags & TCP_FLAG_FIN) && wire == 0)
			return;
		s->next_seq = syn ? seq + 1 : seq;
		s->flags |= TCP_STREAM_F_KNOWN;
	}
	if (syn)
		seq++; /* data on a SYN (TCP Fast Open) follows it */
	if ((in->flags & TCP_FLAG_FIN) && !(s->flags & TCP_STREAM_F_FIN_SEEN)) {
		s->fin_seq = seq + wire;
		s->flags |= TCP_STREAM_F_FIN_SEEN;
	}
	if (wire && (s->flags & TCP_STREAM_F_FIN_SEEN) && seq_diff(seq + wire, s->fin_seq) > 0) {
		if (seq_diff(seq, s->fin_seq) >= 0) {
			r->st->segs_after_fin++;
			return;
		}
		wire = s->fin_seq - seq;
		if (len > wire)
			len = wire;
	}
	if (len)
		stream_data(s, r, in, k, seq, in->data, len);
	if (wire > len)
		stream_snapped(s, r, k, seq + len, seq + wire);
	stream_check_fin(s);
}
