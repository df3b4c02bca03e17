/* Batch pipeline, emitter stage: rules above single matches. Combination
 * rules collect the matches of a scope (a line; an e-mail message) and are
 * judged when the scope ends; each one that holds becomes an aggregate
 * record naming every part. Window rules see every line, in input order,
 * with the ids of the indicators that matched on it; each firing becomes an
 * aggregate record naming every contributing line. Runs on the emitter
 * thread, in input order. */
#include <stdlib.h>
#include <string.h>

#include "correlate/window_set.h"
#include "cybersieve/util.h"
#include "pipeline/batch_int.h"

enum cs_err batch_rules_init(struct batch *b)
{
	for (int k = 0; k < COMBO_SCOPE_COUNT; k++) {
		if (combo_count(b->opts.combos, (enum combo_scope_kind)k) == 0)
			continue;
		enum cs_err e = combo_scope_init(&b->scope[k], b->opts.combos,
						 (enum combo_scope_kind)k, b->opts.max_text);
		if (e != CS_OK)
			return e;
		b->scope_on[k] = true;
	}
	return CS_OK;
}

void batch_rules_fini(struct batch *b)
{
	for (int k = 0; k < COMBO_SCOPE_COUNT; k++)
		if (b->scope_on[k])
			combo_scope_fini(&b->scope[k]);
	free(b->seps);
	batch_mailq_free(b);
}

struct fire_ctx {
	struct batch *b;
	struct batch_input *in;
	const char *scope;
};

/* Render a rule's record a (its seq and detection time set here) into the
 * input's pending records and count it; false when the output failed (the
 * run stops). */
static bool hold_aggregate(struct batch *b, struct batch_input *in, uint32_t rule,
			   struct ev_aggregate *a)
{
	a->seq = ev_writer_next_seq(b->w);
	clock_gettime(CLOCK_REALTIME, &a->detected);
	jbuf_reset(&b->rec);
	ev_aggregate_render(&b->rec, a);
	if (!batch_hold_record(b, in))
		return false;
	b->res->ind_matches[rule]++;
	b->res->rule_records++;
	b->res->matches++;
	in->matches++;
	return true;
}

static bool on_fire(void *user, const struct combo_fire *f)
{
	struct fire_ctx *c = user;
	struct batch *b = c->b;
	struct ev_contrib part[64];
	size_t n = f->n_parts < 64 ? f->n_parts : 64; /* the rest are counted */
	for (size_t i = 0; i < n; i++) {
		const struct combo_part *p = &f->parts[i];
		part[i] = (struct ev_contrib){
			.path = c->in->path, .sha256 = NULL, .gzip = c->in->gzip,
			.line = p->line, .offset = p->offset, .length = p->length,
			.part = matcher_get(b->m, p->ind), .text = p->text,
			.text_len = p->text_len,
		};
	}
	struct ev_aggregate a = {
		.run_id = b->opts.run_id, .mi = matcher_get(b->m, f->rule), .scope = c->scope,
		.c = part, .n_c = n, .n_omitted = f->n_parts - n,
	};
	return hold_aggregate(b, c->in, f->rule, &a);
}

void batch_rules_scope_end(struct batch *b, struct batch_input *in, enum combo_scope_kind k)
{
	if (!b->scope_on[k] || combo_scope_empty(&b->scope[k]) || b->res->output_failed)
		return;
	/* Matches of this slot were lost (cap, scan error): what a NOT excludes
	 * may be among them, so rules with a NOT do not fire here. */
	if (b->slot_partial)
		b->scope[k].partial = true;
	struct fire_ctx c = {b, in, k == COMBO_SCOPE_LINE ? "line" : "message"};
	combo_scope_end(&b->scope[k], on_fire, &c);
}

/* mbox: a "From " line that starts the input or follows an empty line. */
static bool push_sep(struct batch *b, uint64_t line)
{
	if (b->n_seps == b->cap_seps) {
		size_t cap = b->cap_seps ? b->cap_seps * 2 : 16;
		uint64_t *v = realloc(b->seps, cap * sizeof(*v));
		if (!v)
			return false;
		b->seps = v;
		b->cap_seps = cap;
	}
	b->seps[b->n_seps++] = line;
	return true;
}

static bool name_byte(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* A header field line: a field name as mail uses them (a letter, then
 * letters, digits, '-', '_': not a time stamp) and a colon; or a folded
 * continuation (starts with a blank). */
static bool header_line(const uint8_t *p, size_t n, bool continuation_ok)
{
	if (continuation_ok && n > 0 && (p[0] == ' ' || p[0] == '\t'))
		return true;
	if (n == 0 || !((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z'))
		return false;
	size_t i = 1;
	while (i < n && name_byte(p[i]))
		i++;
	return i < n && p[i] == ':';
}

/* An input is mail when its first line is an mbox "From " line, or when its
 * first two lines are header fields (RFC 5322 names, any case: Return-path,
 * DKIM-Signature ...) or the second is blank. Other inputs have no message
 * scope: a log is not one message. */
static bool looks_like_mail(const uint8_t *p, size_t n)
{
	if (n >= 5 && memcmp(p, "From ", 5) == 0)
		return true;
	const uint8_t *nl = memchr(p, '\n', n);
	size_t l1 = (size_t)((nl ? nl : p + n) - p);
	if (!nl || !header_line(p, l1, false))
		return false;
	const uint8_t *q = nl + 1, *end = p + n;
	const uint8_t *nl2 = memchr(q, '\n', (size_t)(end - q));
	size_t l2 = (size_t)((nl2 ? nl2 : end) - q);
	if (l2 > 0 && q[l2 - 1] == '\r')
		l2--;
	return l2 == 0 || header_line(q, l2, true);
}

void batch_rules_slot(struct batch *b, struct slot *s)
{
	b->n_seps = b->next_sep = 0;
	b->slot_partial = s->hits.dropped > 0 || s->scan_err != CS_OK;
	for (int k = 0; k < COMBO_SCOPE_COUNT; k++)
		if (b->slot_partial && b->scope_on[k])
			b->scope[k].partial = true;
	if (!b->scope_on[COMBO_SCOPE_MESSAGE])
		return;
	const uint8_t *p = s->buf + s->skip, *end = s->buf + s->len;
	if (s->first)
		b->is_mail = looks_like_mail(p, (size_t)(end - p));
	if (!b->is_mail)
		return;
	/* Line by line: a "From " line after an empty one ("" or "\r"; the
	 * state carries over slots) or at the input's start opens a message.
	 * Line numbers here are 0-based in the input, like lines_before. */
	if (s->first)
		b->prev_blank = true;
	uint64_t line = b->lines_before;
	for (const uint8_t *q = p; q < end; line++) {
		const uint8_t *nl = memchr(q, '\n', (size_t)(end - q));
		size_t n = (size_t)((nl ? nl : end) - q);
		if (b->prev_blank && n >= 5 && memcmp(q, "From ", 5) == 0 && !push_sep(b, line))
			break; /* out of memory: messages run together, nothing is lost */
		b->prev_blank = n == 0 || (n == 1 && q[0] == '\r');
		q = nl ? nl + 1 : end;
	}
}

static void seps_upto(struct batch *b, struct batch_input *in, uint64_t line0)
{
	while (b->next_sep < b->n_seps && b->seps[b->next_sep] <= line0) {
		batch_rules_scope_end(b, in, COMBO_SCOPE_MESSAGE);
		b->next_sep++;
	}
}

void batch_rules_hit(struct batch *b, struct slot *s, struct batch_input *in,
		     const struct matcher_hit *h)
{
	uint64_t line0 = b->lines_before + h->line; /* 0-based */
	struct combo_part p = {
		.ind = h->ind, .line = line0 + 1, .offset = s->base_off + h->start,
		.length = (uint32_t)(h->end - h->start), .text = s->buf + h->start,
		.text_len = (uint32_t)(h->end - h->start),
	};
	if (b->scope_on[COMBO_SCOPE_LINE]) {
		if (line0 != b->scope_line)
			batch_rules_scope_end(b, in, COMBO_SCOPE_LINE);
		b->scope_line = line0;
		if (combo_scope_add(&b->scope[COMBO_SCOPE_LINE], &p) != CS_OK) {
			b->scope[COMBO_SCOPE_LINE].partial = true;
			struct cs_diag d;
			cs_diag_set(&d, in->path, line0 + 1, CS_DIAG_NONE,
				    "out of memory holding the parts of a rule");
			batch_note(b, in, INPUT_PARTIAL, &d);
		}
	}
	if (b->scope_on[COMBO_SCOPE_MESSAGE] && !b->is_mail)
		batch_mailq_hit(b, in, s, h, &p);
	if (b->scope_on[COMBO_SCOPE_MESSAGE] && b->is_mail) {
		seps_upto(b, in, line0);
		if (combo_scope_add(&b->scope[COMBO_SCOPE_MESSAGE], &p) != CS_OK) {
			b->scope[COMBO_SCOPE_MESSAGE].partial = true;
			struct cs_diag d;
			cs_diag_set(&d, in->path, line0 + 1, CS_DIAG_NONE,
				    "out of memory holding the parts of a rule");
			batch_note(b, in, INPUT_PARTIAL, &d);
		}
	}
}

void batch_rules_slot_end(struct batch *b, struct slot *s, struct batch_input *in)
{
	(void)s;
	seps_upto(b, in, UINT64_MAX);
}

void batch_rules_input_end(struct batch *b, struct batch_input *in)
{
	if (b->opts.windows)
		window_input_end(b->opts.windows->eng);
	batch_rules_scope_end(b, in, COMBO_SCOPE_LINE);
	batch_rules_scope_end(b, in, COMBO_SCOPE_MESSAGE);
	batch_mailq_input_end(b, in);
	b->scope_line = 0;
	b->prev_blank = false;
}

/* ------------------------------------------------------------ windows --- */

struct window_ctx {
	struct batch *b;
	struct batch_input *in;
	size_t input;
};

static void ms_rfc3339(int64_t ms, char *out, size_t cap)
{
	struct timespec ts = {.tv_sec = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000)};
	ts.tv_nsec = (long)((ms - (int64_t)ts.tv_sec * 1000) * 1000000);
	util_rfc3339(&ts, out, cap);
}

static const char *const agg_names[] = {
	[WINDOW_COUNT] = "count", [WINDOW_SUM] = "sum", [WINDOW_DISTINCT] = "distinct",
	[WINDOW_PASSTHROUGH] = "passthrough",
};

static void on_window(void *user, const struct window_fire *f)
{
	struct window_ctx *c = user;
	struct batch *b = c->b;
	if (b->res->output_failed)
		return;
	struct window_set *ws = b->opts.windows;
	struct ev_contrib *part = calloc(f->n_recs ? f->n_recs : 1, sizeof(*part));
	char (*hex)[65] = calloc(f->n_recs ? f->n_recs : 1, sizeof(*hex));
	char (*tm)[40] = calloc(f->n_recs ? f->n_recs : 1, sizeof(*tm));
	char first[40], last[40];
	enum cs_err e = part && hex && tm ? CS_OK : CS_ERR_NOMEM;
	for (size_t i = 0; i < f->n_recs && e == CS_OK; i++) {
		const struct window_fire_rec *r = &f->recs[i];
		const struct batch_input *src = &b->res->inputs[r->ref.input];
		const char *sha = NULL; /* this input: patched when it ends */
		if (r->ref.input != c->input) {
			hex[i][0] = '\0';
			if (src->have_sha256)
				util_hex(src->sha256, 32, hex[i]);
			sha = hex[i];
		}
		ms_rfc3339(r->time_ms, tm[i], sizeof(tm[i]));
		part[i] = (struct ev_contrib){
			.path = src->path, .sha256 = sha, .gzip = src->gzip, .line = r->ref.line,
			.offset = r->ref.offset, .length = r->ref.len, .time = tm[i],
		};
	}
	if (e == CS_OK) {
		ms_rfc3339(f->start_ms, first, sizeof(first));
		ms_rfc3339(f->end_ms, last, sizeof(last));
		uint32_t ind = ws->ind[f->rule];
		struct ev_aggregate a = {
			.run_id = b->opts.run_id, .mi = matcher_get(b->m, ind), .scope = "window",
			.key = f->key, .key_len = f->key_len, .agg = agg_names[f->agg],
			.value = f->value, .first_time = first, .last_time = last, .c = part,
			.n_c = f->n_recs,
		};
		hold_aggregate(b, c->in, ind, &a);
	} else {
		struct cs_diag d;
		cs_diag_set(&d, c->in->path, CS_DIAG_NONE, CS_DIAG_NONE,
			    "cannot hold records: %s", cs_err_str(e));
		batch_output_failed(b, &d);
	}
	free(part);
	free(hex);
	free(tm);
}

#define LINE_IDS_MAX 64

void batch_rules_lines(struct batch *b, struct slot *s, struct batch_input *in)
{
	struct window_set *ws = b->opts.windows;
	if (!ws || b->res->output_failed)
		return;
	if (s->first)
		window_input_begin(ws->eng, (uint32_t)s->input);
	bool want_ids = window_engine_uses_matches(ws->eng);
	struct window_ctx c = {b, in, s->input};
	const char *ids[LINE_IDS_MAX];
	const uint8_t *p = s->buf + s->skip, *end = s->buf + s->len;
	size_t hi = 0;
	for (uint64_t k = 0; p < end && !b->res->output_failed; k++) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		const uint8_t *le = nl ? nl : end;
		/* The rest of a line split over slots, or its first part: not a whole record. */
		bool whole = !(k == 0 && b->in_split) && (nl || !s->split);
		size_t n_ids = 0;
		while (hi < s->hits.n && s->hits.v[hi].line < k)
			hi++;
		for (; want_ids && hi < s->hits.n && s->hits.v[hi].line == k; hi++) {
			/* Only indicators a match: condition names matter to the rules. */
			const char *name = ws->match_name ? ws->match_name[s->hits.v[hi].ind] : NULL;
			if (name && n_ids < LINE_IDS_MAX)
				ids[n_ids++] = name;
		}
		if (whole && le > p) {
			struct window_ref ref = {
				.input = (uint32_t)s->input, .line = b->lines_before + k + 1,
				.offset = s->base_off + (uint64_t)(p - s->buf),
				.len = (uint32_t)((size_t)(le - p) > UINT32_MAX ? UINT32_MAX : (size_t)(le - p)),
			};
			/* A record lost for want of memory is counted by the engine. */
			(void)window_feed(ws->eng, (const char *)p, (size_t)(le - p), &ref,
					  n_ids ? ids : NULL, n_ids, on_window, &c);
		}
		p = nl ? nl + 1 : end;
	}
}
