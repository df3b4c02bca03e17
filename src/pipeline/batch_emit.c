/* Batch pipeline, emitter stage: hits of each chunk, in sequence, become records.
 * Line numbers are the newlines counted in earlier chunks plus the hit's line in
 * its chunk; an input's records wait in ev_pending until its SHA-256 is known:
 * at its end, or earlier when a read-ahead hashed the whole file first, from
 * which chunk on they are written chunk by chunk. */
#include <stdlib.h>
#include <string.h>

#include "cybersieve/util.h"
#include "pipeline/batch_int.h"

/* Bytes of context before start and after end, never past the line's ends;
 * a side is cut when the window ended inside the line (or the chunk). */
static void context_of(const struct slot *s, size_t ctx, uint64_t start, uint64_t end,
		       struct ev_record *r)
{
	uint64_t lo = start > ctx ? start - ctx : 0;
	const uint8_t *nl = start > lo ? memrchr(s->buf + lo, '\n', start - lo) : NULL;
	uint64_t from = nl ? (uint64_t)(nl - s->buf) + 1 : lo;
	r->before = s->buf + from;
	r->before_len = start - from;
	r->before_cut = !nl && (lo > 0 ? s->buf[lo - 1] != '\n' : s->skip > 0);
	uint64_t hi = end + ctx < s->len ? end + ctx : s->len;
	nl = hi > end ? memchr(s->buf + end, '\n', hi - end) : NULL;
	uint64_t to = nl ? (uint64_t)(nl - s->buf) : hi;
	if (to > end && s->buf[to - 1] == '\r')
		to--;
	r->after = s->buf + end;
	r->after_len = to > end ? to - end : 0;
	r->after_cut = !nl && (hi < s->len ? s->buf[hi] != '\n' && s->buf[hi] != '\r' : s->split);
}

void batch_output_failed(struct batch *b, const struct cs_diag *d)
{
	b->res->output_failed = true;
	b->res->output_diag = *d;
	atomic_store(&b->abort, true);
}

bool batch_hold_record(struct batch *b, const struct batch_input *in)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	enum cs_err e = b->rec.failed ? CS_ERR_NOMEM
				      : ev_pending_add(b->pending, b->rec.p, b->rec.len, &d);
	if (e == CS_OK)
		return true;
	if (!d.msg[0])
		cs_diag_set(&d, in->path, CS_DIAG_NONE, CS_DIAG_NONE, "cannot hold records: %s",
			    cs_err_str(e));
	batch_output_failed(b, &d);
	return false;
}

static void emit_hits(struct batch *b, struct slot *s, struct batch_input *in)
{
	for (size_t i = 0; i < s->hits.n && !b->res->output_failed; i++) {
		const struct matcher_hit *h = &s->hits.v[i];
		batch_rules_hit(b, s, in, h);
		if (b->res->output_failed)
			return;
		if (matcher_get(b->m, h->ind)->ind->flags & IND_F_QUIET)
			continue; /* a part of rules only */
		struct ev_record r = {0};
		r.run_id = b->opts.run_id;
		r.seq = ev_writer_next_seq(b->w);
		clock_gettime(CLOCK_REALTIME, &r.detected);
		r.mi = matcher_get(b->m, h->ind);
		r.path = in->path;
		r.gzip = in->gzip;
		r.line = b->lines_before + h->line + 1;
		r.offset = s->base_off + h->start;
		r.text = s->buf + h->start;
		r.text_len = h->end - h->start;
		if (r.text_len > b->opts.max_text)
			r.text_len = b->opts.max_text;
		r.count = h->count;
		r.line_split = (b->in_split && h->line == 0) || (s->split && h->line == s->newlines);
		r.pseudo = b->opts.pseudo;
		context_of(s, b->opts.context, h->start, h->end, &r);
		jbuf_reset(&b->rec);
		ev_record_render(&b->rec, &r);
		if (!batch_hold_record(b, in))
			return;
		b->res->ind_matches[h->ind]++;
		in->matches++;
		b->res->matches++;
	}
}

/* The records held go out, patched with the input's digest (NULL: none
 * known). False when the output failed (the run stops). */
static bool flush_held(struct batch *b, const struct batch_input *in, const char *sha)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	if (ev_pending_flush(b->pending, sha, b->w, &d) == CS_OK)
		return true;
	if (!d.msg[0])
		cs_diag_set(&d, in->path, CS_DIAG_NONE, CS_DIAG_NONE, "cannot write records");
	batch_output_failed(b, &d);
	return false;
}

static void finish_input(struct batch *b, struct batch_input *in)
{
	if (in->bytes > 0 && !b->ends_nl)
		b->lines_before++; /* a last line without its newline still counts */
	in->lines = b->lines_before;
	b->res->lines += in->lines;
	b->res->bytes += in->bytes;
	b->res->raw_bytes += in->raw_bytes;
	struct cs_diag d;
	cs_diag_clear(&d);
	if (in->hits_dropped) {
		cs_diag_set(&d, in->path, CS_DIAG_NONE, CS_DIAG_NONE,
			    "%llu matches dropped: more than the per-chunk cap",
			    (unsigned long long)in->hits_dropped);
		batch_note(b, in, INPUT_PARTIAL, &d);
	}
	batch_rules_input_end(b, in);
	if (b->res->output_failed)
		return;
	char hex[65];
	if (in->have_sha256)
		util_hex(in->sha256, 32, hex);
	/* Known early, the digest is in records written already, whatever the
	 * end of the reading was. */
	const char *sha = b->early_hex[0] ? b->early_hex : in->have_sha256 ? hex : NULL;
	if (flush_held(b, in, sha))
		in->records_written = true;
}

static void progress(struct batch *b)
{
	if (!b->opts.on_progress)
		return;
	double now = util_now_mono();
	if (now - b->last_progress < 0.5)
		return;
	b->last_progress = now;
	struct batch_progress p = {
		.raw_done = atomic_load(&b->raw_done),
		.raw_total = b->raw_total,
		.bytes_done = b->bytes_done,
		.matches = b->res->matches,
		.seconds = now - b->t0,
	};
	b->opts.on_progress(b->opts.cb_ctx, &p);
}

void batch_emit_slot(struct batch *b, struct slot *s)
{
	struct batch_input *in = &b->res->inputs[s->input];
	if (s->first) {
		b->lines_before = 0;
		b->in_split = false;
		b->ends_nl = true;
		b->early_hex[0] = '\0';
	}
	if (s->sha_known)
		util_hex(s->sha256, 32, b->early_hex);
	if (s->scan_err != CS_OK) {
		struct cs_diag d;
		cs_diag_set(&d, in->path, CS_DIAG_NONE, s->base_off, "scan failed: %s",
			    cs_err_str(s->scan_err));
		batch_note(b, in, INPUT_PARTIAL, &d);
	}
	in->hits_dropped += s->hits.dropped;
	batch_rules_slot(b, s);
	if (!b->res->output_failed)
		emit_hits(b, s, in);
	batch_rules_slot_end(b, s, in);
	batch_rules_lines(b, s, in);
	b->lines_before += s->newlines;
	if (s->len > s->skip)
		b->ends_nl = s->buf[s->len - 1] == '\n';
	if (s->break_after) {
		b->lines_before++;
		b->ends_nl = true;
	}
	in->bytes += s->len - s->skip;
	b->bytes_done += s->len - s->skip;
	b->in_split = s->split;
	if (s->last)
		finish_input(b, in);
	else if (b->early_hex[0] && !b->res->output_failed && ev_pending_count(b->pending) > 0)
		(void)flush_held(b, in, b->early_hex); /* the digest known early */
	progress(b);
}
