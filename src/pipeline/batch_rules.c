/* Batch pipeline, emitter stage: rules above single matches. Combination
 * rules collect the matches of a scope (a line; an e-mail message) and are
 * judged when the scope ends; each one that holds becomes an aggregate
 * record naming every part. Runs on the emitter thread, in input order. */
#include <stdlib.h>
#include <string.h>

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
}

struct fire_ctx {
	struct batch *b;
	struct batch_input *in;
	const char *scope;
};

static bool on_fire(void *user, const struct combo_fire *f)
{
	struct fire_ctx *c = user;
	struct batch *b = c->b;
	struct ev_contrib part[64];
	size_t n = f->n_parts < 64 ? f->n_parts : 64;
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
		.run_id = b->opts.run_id, .seq = ev_writer_next_seq(b->w),
		.mi = matcher_get(b->m, f->rule), .scope = c->scope, .c = part, .n_c = n,
	};
	clock_gettime(CLOCK_REALTIME, &a.detected);
	jbuf_reset(&b->rec);
	ev_aggregate_render(&b->rec, &a);
	struct cs_diag d;
	cs_diag_clear(&d);
	enum cs_err e = b->rec.failed ? CS_ERR_NOMEM
				      : ev_pending_add(b->pending, b->rec.p, b->rec.len, &d);
	if (e != CS_OK) {
		if (!d.msg[0])
			cs_diag_set(&d, c->in->path, CS_DIAG_NONE, CS_DIAG_NONE,
				    "cannot hold records: %s", cs_err_str(e));
		batch_output_failed(b, &d);
		return false;
	}
	b->res->ind_matches[f->rule]++;
	b->res->rule_records++;
	b->res->matches++;
	c->in->matches++;
	return true;
}

static void scope_end(struct batch *b, struct batch_input *in, enum combo_scope_kind k)
{
	if (!b->scope_on[k] || combo_scope_empty(&b->scope[k]) || b->res->output_failed)
		return;
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

/* An input is mail when its first line is an mbox "From " line or an
 * RFC 5322 header field that opens a message; other inputs have no
 * message scope (a log is not one message). */
static bool looks_like_mail(const uint8_t *p, size_t n)
{
	static const char *const heads[] = {
		"From ", "Return-Path:", "Received:", "From:", "To:", "Subject:", "Date:",
		"Message-ID:", "Message-Id:", "Delivered-To:", "Delivery-Date:", "MIME-Version:",
		"Reply-To:", "Sender:", "Envelope-to:", "X-",
	};
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		size_t k = strlen(heads[i]);
		if (n >= k && memcmp(p, heads[i], k) == 0)
			return true;
	}
	return false;
}

void batch_rules_slot(struct batch *b, struct slot *s)
{
	b->n_seps = b->next_sep = 0;
	if (!b->scope_on[COMBO_SCOPE_MESSAGE])
		return;
	const uint8_t *p = s->buf + s->skip, *end = s->buf + s->len;
	if (s->first)
		b->is_mail = looks_like_mail(p, (size_t)(end - p));
	if (!b->is_mail)
		return;
	uint64_t line = b->lines_before;
	const uint8_t *counted = p;
	/* Line numbers here are 0-based in the input, like lines_before. */
	if ((s->first || b->prev_blank) && end - p >= 5 && memcmp(p, "From ", 5) == 0)
		push_sep(b, line);
	for (const uint8_t *q = p; q < end;) {
		const uint8_t *k = memmem(q, (size_t)(end - q), "\n\nFrom ", 7);
		if (!k)
			break;
		line += util_count_nl(counted, (size_t)(k + 2 - counted));
		counted = k + 2;
		if (!push_sep(b, line))
			break; /* out of memory: messages run together, nothing is lost */
		q = k + 1;
	}
}

static void seps_upto(struct batch *b, struct batch_input *in, uint64_t line0)
{
	while (b->next_sep < b->n_seps && b->seps[b->next_sep] <= line0) {
		scope_end(b, in, COMBO_SCOPE_MESSAGE);
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
			scope_end(b, in, COMBO_SCOPE_LINE);
		b->scope_line = line0;
		if (combo_scope_add(&b->scope[COMBO_SCOPE_LINE], &p) != CS_OK) {
			struct cs_diag d;
			cs_diag_set(&d, in->path, line0 + 1, CS_DIAG_NONE,
				    "out of memory holding the parts of a rule");
			batch_note(b, in, INPUT_PARTIAL, &d);
		}
	}
	if (b->scope_on[COMBO_SCOPE_MESSAGE] && b->is_mail) {
		seps_upto(b, in, line0);
		if (combo_scope_add(&b->scope[COMBO_SCOPE_MESSAGE], &p) != CS_OK) {
			struct cs_diag d;
			cs_diag_set(&d, in->path, line0 + 1, CS_DIAG_NONE,
				    "out of memory holding the parts of a rule");
			batch_note(b, in, INPUT_PARTIAL, &d);
		}
	}
}

void batch_rules_slot_end(struct batch *b, struct slot *s, struct batch_input *in)
{
	seps_upto(b, in, UINT64_MAX);
	size_t n = s->len - s->skip;
	const uint8_t *e = s->buf + s->len;
	/* A blank line at the end: a "From " starting the next slot separates. */
	b->prev_blank = (n >= 2 && e[-1] == '\n' && (e[-2] == '\n' || (e[-2] == '\r' && n >= 3 && e[-3] == '\n'))) ||
			(n == 1 && e[-1] == '\n' && b->prev_blank);
}

void batch_rules_input_end(struct batch *b, struct batch_input *in)
{
	scope_end(b, in, COMBO_SCOPE_LINE);
	scope_end(b, in, COMBO_SCOPE_MESSAGE);
	b->scope_line = 0;
	b->prev_blank = false;
}
