/* Batch pipeline, reader stage: one input at a time into newline-aligned chunks.
 * A line longer than the chunk grows its slot up to max_line; a longer one is
 * cut there and scanned in pieces that overlap by the longest fixed-width
 * indicator, so no literal, domain, address or hash is lost at the cut. One
 * grown slot at a time (batch_grow_slot), and the carry of a long line's tail
 * is given back once copied: long lines cost about twice max_line at most. */
#include <stdlib.h>
#include <string.h>

#include "cybersieve/capture.h"
#include "pipeline/batch_int.h"

void batch_note(struct batch *b, struct batch_input *in, enum input_status st,
		const struct cs_diag *d)
{
	pthread_mutex_lock(&b->note_mu);
	if (st > in->status)
		in->status = st;
	if (!in->reason && d && d->msg[0]) {
		char tmp[1200];
		cs_diag_format(d, tmp, sizeof(tmp));
		in->reason = strdup(tmp);
	}
	pthread_mutex_unlock(&b->note_mu);
	if (b->opts.on_event && d)
		b->opts.on_event(b->opts.cb_ctx, d);
}

/* As batch_note, for an input a stop left unread or read in part: the run
 * is then interrupted (its manifest not complete). */
void batch_note_stopped(struct batch *b, struct batch_input *in, enum input_status st,
			const struct cs_diag *d)
{
	batch_note(b, in, st, d);
	b->res->interrupted = true;
}

/* Something the user should know that does not make the input partial. */
static void batch_info(struct batch *b, const char *path, uint64_t offset, const char *fmt,
		       unsigned long long n)
{
	if (!b->opts.on_event)
		return;
	struct cs_diag d;
	cs_diag_clear(&d);
	cs_diag_set(&d, path, CS_DIAG_NONE, offset, fmt, n);
	b->opts.on_event(b->opts.cb_ctx, &d);
}

static bool reserve(uint8_t **buf, size_t *cap, size_t need)
{
	if (*cap >= need)
		return true;
	uint8_t *p = realloc(*buf, need);
	if (!p)
		return false;
	*buf = p;
	*cap = need;
	return true;
}

/* Keep what follows the last chunk for the next one. */
static bool keep_carry(struct batch *b, const uint8_t *p, size_t n)
{
	if (!reserve(&b->carry, &b->carry_cap, n ? n : 1))
		return false;
	if (b->carry_cap > b->opts.chunk_size)
		batch_note_line_mem(b);
	memmove(b->carry, p, n);
	b->carry_len = n;
	return true;
}

#define CAPTURE_PEEK 16

struct reading {
	struct source *src;
	struct batch_input *in;
	uint64_t off;          /* decompressed offset of the next slot's buf[0] */
	bool first;
	bool eof;
	bool split_pending;    /* next slot continues a split line */
	bool stopped;          /* interrupted: leave the rest unread */
	bool grew;             /* a long line already made a slot grow (said once) */
	bool sha_sent;         /* the digest, known early, went out on a slot */
};

static void update_raw(struct batch *b, struct reading *r)
{
	struct source_info si;
	source_get_info(r->src, &si);
	atomic_store(&b->raw_done, b->raw_prev + si.raw_read);
}

/* Hash the rest of the input (unless stopped) and take its final figures. */
static void finish_source(struct batch *b, struct reading *r)
{
	struct batch_input *in = r->in;
	struct source_info si;
	struct cs_diag d;
	cs_diag_clear(&d);
	enum cs_err e = CS_OK;
	if (r->stopped)
		; /* hashing the rest would delay the stop that was asked for */
	else if ((e = source_finish(r->src, in->sha256, &d)) == CS_OK)
		in->have_sha256 = true;
	else if (e == CS_ERR_STOPPED) /* a stop while hashing the rest of a pipe */
		batch_note_stopped(b, in, INPUT_PARTIAL, &d);
	else
		batch_note(b, in, INPUT_PARTIAL, &d);
	source_get_info(r->src, &si);
	if (si.changed)
		batch_info(b, in->path, CS_DIAG_NONE,
			   "note: written to by another program while it was read; its SHA-256 "
			   "is of the bytes as hashed, which the scan read again moments later%.0llu",
			   0);
	in->raw_bytes = si.raw_read;
	b->raw_prev += si.raw_read;
	in->gz_members = si.gz_members;
	in->gz_resyncs = si.gz_resyncs;
}

/* Fill s with carry + fresh data up to a newline. Returns false on out of memory. */
static bool fill_slot(struct batch *b, struct reading *r, struct slot *s)
{
	/* Once a line has passed max_line it goes on in chunk-sized pieces, so at
	 * most one slot is ever grown beyond the chunk size. */
	size_t limit = r->split_pending ? b->opts.chunk_size : b->opts.max_line;
	size_t target = b->opts.chunk_size;
	if (b->carry_len + (1u << 16) > target)
		target = b->carry_len + (1u << 16);
	if (target > limit)
		target = limit;
	if (target <= b->carry_len)
		target = b->carry_len + 1;
	if (!batch_grow_slot(b, s, target))
		return false;
	if (b->carry_len)
		memcpy(s->buf, b->carry, b->carry_len);
	if (b->carry_cap > b->opts.chunk_size) {
		/* A long line's tail: give its buffer back now that it is copied. */
		free(b->carry);
		b->carry = NULL;
		b->carry_cap = 0;
	}
	size_t fill = b->carry_len;
	size_t searched = 0; /* s->buf[0, searched) is known to hold no newline */
	s->skip = r->split_pending ? b->carry_len : 0;
	s->base_off = r->off - b->carry_len;
	b->carry_len = 0;
	for (;;) {
		size_t got = 0;
		struct cs_diag d;
		cs_diag_clear(&d);
		enum cs_err e = source_read(r->src, s->buf + fill, target - fill, &got, &d);
		update_raw(b, r);
		if (e == CS_ERR_STOPPED) {
			/* Asked to stop while waiting on a pipe: what came before is scanned. */
			batch_note_stopped(b, r->in, INPUT_PARTIAL, &d);
			r->eof = r->stopped = true;
			s->len = fill;
			return true;
		}
		if (e == CS_ERR_FORMAT) {
			/* Corrupt gzip: what came before is scanned; the line ends at the damage. */
			batch_note(b, r->in, INPUT_PARTIAL, &d);
			s->len = fill;
			s->break_after = fill > 0 && s->buf[fill - 1] != '\n';
			return true;
		}
		if (e != CS_OK) {
			batch_note(b, r->in, INPUT_PARTIAL, &d);
			r->eof = true;
			s->len = fill;
			return true;
		}
		if (got == 0) {
			r->eof = true;
			s->len = fill;
			return true;
		}
		fill += got;
		r->off += got;
		/* A short read means the input ends (or fails) next: keep it in this chunk. */
		if (fill < target)
			continue;
		const uint8_t *nl = memrchr(s->buf + searched, '\n', fill - searched);
		if (nl) {
			s->len = (size_t)(nl - s->buf) + 1;
			return keep_carry(b, s->buf + s->len, fill - s->len);
		}
		searched = fill;
		if (target < limit) {
			if (!r->grew)
				batch_info(b, r->in->path, s->base_off,
					   "note: a line longer than the %llu-byte chunk; buffering it to scan it whole",
					   (unsigned long long)b->opts.chunk_size);
			r->grew = true;
			target = target * 2 < limit ? target * 2 : limit;
			if (!batch_grow_slot(b, s, target))
				return false;
			continue;
		}
		/* Longer than max_line: cut here, carry an overlap into the next piece. */
		s->len = fill;
		s->split = true;
		if (!r->split_pending)
			batch_info(b, r->in->path, s->base_off,
				   "note: a line longer than --max-line (%llu bytes): scanned in overlapping pieces",
				   (unsigned long long)b->opts.max_line);
		r->in->lines_split += r->split_pending ? 0 : 1;
		size_t ov = b->overlap < fill ? b->overlap : fill / 2;
		return keep_carry(b, s->buf + fill - ov, ov);
	}
}

/* Read the first bytes; a capture goes to on_capture, anything else is kept
 * as the carry of the first chunk. Returns true when the input was a capture. */
static bool peek_capture(struct batch *b, struct reading *r)
{
	uint8_t head[CAPTURE_PEEK];
	size_t got = 0;
	struct cs_diag d;
	cs_diag_clear(&d);
	if (source_read(r->src, head, sizeof(head), &got, &d) != CS_OK) {
		batch_note(b, r->in, INPUT_PARTIAL, &d);
		got = 0;
	}
	if (b->opts.on_capture && got >= 4 && capture_detect(head, got) != CAPTURE_FMT_UNKNOWN) {
		batch_drain(b);
		b->opts.on_capture(b->opts.cb_ctx, r->src, head, got, r->in);
		if (b->res->output_failed)
			atomic_store(&b->abort, true); /* nothing more can be written */
		else
			r->in->records_written = true;
		finish_source(b, r);
		/* The emitter is idle (drained), so the totals are ours to update. */
		b->res->bytes += r->in->bytes;
		b->res->raw_bytes += r->in->raw_bytes;
		return true;
	}
	r->off = got;
	keep_carry(b, head, got);
	return false;
}

static void open_failed(struct batch *b, struct batch_input *in, const struct cs_diag *d)
{
	batch_note(b, in, INPUT_FAILED, d);
}

void batch_read_input(struct batch *b, size_t index)
{
	struct batch_input *in = &b->res->inputs[index];
	const struct walk_entry *e = &b->list->v[index];
	struct cs_diag d;
	cs_diag_clear(&d);
	if (e->status != WALK_FILE) {
		cs_diag_set(&d, e->path, CS_DIAG_NONE, CS_DIAG_NONE, "%s",
			    e->reason ? e->reason : "cannot read");
		open_failed(b, in, &d);
		return;
	}
	struct reading r = {.in = in, .first = true};
	enum cs_err oe = CS_OK;
	if (index == 0 && b->opts.first_source) {
		r.src = b->opts.first_source;
		b->opts.first_source = NULL;
	} else {
		oe = source_open_ex(e->path, b->opts.stop, &r.src, &d);
	}
	if (oe == CS_ERR_STOPPED) { /* a FIFO with no writer yet, say */
		batch_note_stopped(b, in, INPUT_FAILED, &d);
		return;
	}
	if (oe != CS_OK) {
		open_failed(b, in, &d);
		return;
	}
	b->carry_len = 0;
	if (peek_capture(b, &r))
		r.eof = true;
	struct source_info si;
	source_get_info(r.src, &si);
	in->gzip = si.is_gzip;
	while (!r.eof && !atomic_load(&b->abort)) {
		if (b->opts.stop && *b->opts.stop) {
			cs_diag_set(&d, e->path, CS_DIAG_NONE, r.off, "interrupted before the end");
			batch_note_stopped(b, in, INPUT_PARTIAL, &d);
			r.eof = r.stopped = true;
		}
		struct slot *s = batch_acquire(b);
		s->input = index;
		s->first = r.first;
		s->last = s->split = s->break_after = s->sha_known = false;
		if (r.eof) {
			s->len = s->skip = 0;
		} else if (!fill_slot(b, &r, s)) {
			cs_diag_set(&d, e->path, CS_DIAG_NONE, r.off, "out of memory reading input");
			batch_note(b, in, INPUT_PARTIAL, &d);
			s->len = 0;
			r.eof = true;
		}
		r.split_pending = s->split;
		if (!r.sha_sent && !r.stopped && source_digest_known(r.src, s->sha256))
			r.sha_sent = s->sha_known = true;
		if (r.first && s->len && memchr(s->buf, '\0', s->len < 65536 ? s->len : 65536)) {
			in->binary = true;
			batch_info(b, in->path, CS_DIAG_NONE,
				   "note: binary content (NUL bytes in the first %llu bytes); scanned as text",
				   65536);
		}
		if (r.first && r.eof && s->len == 0 && !r.stopped)
			batch_info(b, in->path, CS_DIAG_NONE, "note: empty input%.0llu", 0);
		r.first = false;
		if (r.eof) {
			finish_source(b, &r);
			s->last = true;
		}
		batch_publish(b, s);
	}
	source_destroy(r.src);
}
