/* Batch pipeline, emitter stage: e-mail messages in mail server logs. A
 * Postfix or Sendmail log writes each message over several lines that share
 * its queue id (79D28F42D4: client=..., ...: warning: header Subject: ...,
 * ...: from=<...>), interleaved with other messages' lines. Matches on such
 * lines are kept per queue id; when the input ends (or the oldest open
 * message makes room for a new one) each message's parts go through the
 * message scope of the combination rules. */
#include <stdlib.h>
#include <string.h>

#include "pipeline/batch_int.h"

#define MAILQ_OPEN_MAX 4096   /* messages with parts held at once */
#define MAILQ_PARTS_MAX 32    /* parts kept per message; more are counted */
#define MAILQ_ID_MAX 24
#define MAILQ_TEXT_MAX 256

struct mailq_part {
	struct combo_part p;
	uint8_t text[MAILQ_TEXT_MAX];
};

struct mailq_msg {
	char id[MAILQ_ID_MAX];
	uint8_t id_len;
	uint8_t n;
	bool partial;               /* parts were dropped */
	uint64_t seen;              /* order of last use */
	struct mailq_part *parts;   /* MAILQ_PARTS_MAX */
};

struct batch_mailq {
	struct mailq_msg *msg;
	size_t n;
	uint64_t clock;
};

static bool id_byte(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* The queue id of a mail server line: "postfix/<proc>[pid]: ID:" or
 * "sendmail[pid]: ID:" / "sm-mta[pid]: ID:" (5 to 23 letters and digits). */
static bool queue_id(const uint8_t *line, size_t n, const uint8_t **id, size_t *id_len)
{
	static const char *const tags[] = {"postfix/", "postfix[", "sendmail[", "sm-mta["};
	for (size_t t = 0; t < sizeof(tags) / sizeof(tags[0]); t++) {
		const uint8_t *k = memmem(line, n, tags[t], strlen(tags[t]));
		if (!k)
			continue;
		const uint8_t *end = line + n;
		const uint8_t *c = memmem(k, (size_t)(end - k), "]: ", 3);
		if (!c)
			return false;
		const uint8_t *s = c + 3, *e = s;
		while (e < end && id_byte(*e) && e - s < MAILQ_ID_MAX - 1)
			e++;
		if (e - s < 5 || e >= end || *e != ':')
			return false;
		*id = s;
		*id_len = (size_t)(e - s);
		return true;
	}
	return false;
}

static void msg_end(struct batch *b, struct batch_input *in, struct mailq_msg *m)
{
	struct combo_scope *sc = &b->scope[COMBO_SCOPE_MESSAGE];
	for (uint8_t i = 0; i < m->n; i++)
		if (combo_scope_add(sc, &m->parts[i].p) != CS_OK)
			sc->partial = true;
	if (m->partial)
		sc->partial = true;
	batch_rules_scope_end(b, in, COMBO_SCOPE_MESSAGE);
	free(m->parts);
	m->parts = NULL;
}

static struct mailq_msg *msg_get(struct batch *b, struct batch_input *in, const uint8_t *id,
				 size_t id_len)
{
	struct batch_mailq *q = b->mailq;
	for (size_t i = 0; i < q->n; i++)
		if (q->msg[i].id_len == id_len && memcmp(q->msg[i].id, id, id_len) == 0)
			return &q->msg[i];
	size_t at = q->n;
	if (q->n == MAILQ_OPEN_MAX) {
		/* Full: the message used longest ago is judged now. */
		at = 0;
		for (size_t i = 1; i < q->n; i++)
			if (q->msg[i].seen < q->msg[at].seen)
				at = i;
		msg_end(b, in, &q->msg[at]);
	} else {
		q->n++;
	}
	struct mailq_msg *m = &q->msg[at];
	memset(m, 0, sizeof(*m));
	memcpy(m->id, id, id_len);
	m->id_len = (uint8_t)id_len;
	return m;
}

void batch_mailq_hit(struct batch *b, struct batch_input *in, const struct slot *s,
		     const struct matcher_hit *h, const struct combo_part *p)
{
	if (!combo_wants(b->opts.combos, COMBO_SCOPE_MESSAGE, p->ind))
		return;
	const uint8_t *ls = s->buf + h->start;
	while (ls > s->buf + s->skip && ls[-1] != '\n')
		ls--;
	const uint8_t *le = memchr(s->buf + h->start, '\n', s->len - h->start);
	const uint8_t *id;
	size_t id_len;
	if (!queue_id(ls, (size_t)((le ? le : s->buf + s->len) - ls), &id, &id_len))
		return;
	if (!b->mailq && !(b->mailq = calloc(1, sizeof(*b->mailq))))
		return;
	struct batch_mailq *q = b->mailq;
	if (!q->msg && !(q->msg = calloc(MAILQ_OPEN_MAX, sizeof(*q->msg))))
		return;
	struct mailq_msg *m = msg_get(b, in, id, id_len);
	m->seen = ++q->clock;
	for (uint8_t i = 0; i < m->n; i++)
		if (m->parts[i].p.ind == p->ind)
			return; /* the first match of an indicator is the one kept */
	if (!m->parts && !(m->parts = malloc(MAILQ_PARTS_MAX * sizeof(*m->parts)))) {
		m->partial = true;
		return;
	}
	if (m->n == MAILQ_PARTS_MAX) {
		m->partial = true;
		return;
	}
	struct mailq_part *mp = &m->parts[m->n++];
	mp->p = *p;
	mp->p.text_len = p->text_len < MAILQ_TEXT_MAX ? p->text_len : MAILQ_TEXT_MAX;
	memcpy(mp->text, p->text, mp->p.text_len);
	mp->p.text = mp->text;
}

void batch_mailq_input_end(struct batch *b, struct batch_input *in)
{
	struct batch_mailq *q = b->mailq;
	if (!q)
		return;
	/* In order of first use, so records come out as the log told them. */
	for (size_t i = 0; i < q->n; i++)
		msg_end(b, in, &q->msg[i]);
	q->n = 0;
}

void batch_mailq_free(struct batch *b)
{
	struct batch_mailq *q = b->mailq;
	if (!q)
		return;
	for (size_t i = 0; i < q->n; i++)
		free(q->msg[i].parts);
	free(q->msg);
	free(q);
	b->mailq = NULL;
}
