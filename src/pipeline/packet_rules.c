/* Packet pipeline, combination rules over flows (scope flow and flow-dir):
 * the matches their rules use are kept with each flow as parts, and judged
 * when the flow ends with the worker's own combo scopes. Parts are charged
 * to the flow table's budget; since charging can evict flows, whose close
 * handlers scan, a part is never charged where it is found (inside a scan)
 * but taken from a credit the worker tops up between packets. All state is
 * the worker's own. */
#include <stdlib.h>
#include <string.h>

#include "pipeline/packet_int.h"

#define PK_PARTS_FIRST 2
#define PK_ALLOC_SLACK 64 /* the allocator's share of a block, as for streams */

/* Bytes a parts block of cap parts is charged. */
static uint64_t parts_bytes(uint32_t cap)
{
	return sizeof(struct pk_parts) + (uint64_t)cap * sizeof(struct pk_part) + PK_ALLOC_SLACK;
}

enum cs_err pk_scopes_init(struct pk_scopes *s, const struct combo_set *cs)
{
	static const enum combo_scope_kind kinds[2] = {COMBO_SCOPE_FLOW, COMBO_SCOPE_FLOW_DIR};
	memset(s, 0, sizeof(*s));
	s->cs = cs;
	for (int i = 0; i < 2; i++) {
		if (combo_count(cs, kinds[i]) == 0)
			continue;
		if (combo_scope_init(&s->sc[i], cs, kinds[i], PACKET_PART_TEXT) != CS_OK) {
			pk_scopes_fini(s);
			return CS_ERR_NOMEM;
		}
		s->on[i] = true;
	}
	return CS_OK;
}

void pk_scopes_fini(struct pk_scopes *s)
{
	for (int i = 0; i < 2; i++)
		if (s->on[i])
			combo_scope_fini(&s->sc[i]);
	memset(s, 0, sizeof(*s));
}

void pk_rules_topup(struct pk_worker *w)
{
	uint64_t want = parts_bytes(PACKET_FLOW_PARTS);
	if (w->part_credit >= want)
		return;
	if (flow_table_charge(w->ft, want - w->part_credit))
		w->part_credit = want;
}

void pk_rules_release(struct pk_worker *w)
{
	if (w->part_credit)
		flow_table_uncharge(w->ft, w->part_credit);
	w->part_credit = 0;
}

static bool wanted(const struct pk_worker *w, uint32_t ind)
{
	const struct combo_set *cs = w->rules.cs;
	return (w->rules.on[0] && combo_wants(cs, COMBO_SCOPE_FLOW, ind)) ||
	       (w->rules.on[1] && combo_wants(cs, COMBO_SCOPE_FLOW_DIR, ind));
}

/* Room for one more part: grow the block from the credit. */
static bool parts_room(struct pk_worker *w, struct pk_flow *pf)
{
	struct pk_parts *ps = pf->parts;
	if (ps && ps->n < ps->cap)
		return true;
	uint32_t cap = ps ? ps->cap * 2 : PK_PARTS_FIRST;
	if (cap > PACKET_FLOW_PARTS)
		return false;
	uint64_t need = parts_bytes(cap) - (ps ? parts_bytes(ps->cap) : 0);
	if (need > w->part_credit)
		return false;
	struct pk_parts *np = realloc(ps, sizeof(*np) + (size_t)cap * sizeof(np->v[0]));
	if (!np)
		return false;
	if (!ps)
		np->n = 0;
	np->cap = cap;
	pf->parts = np;
	w->part_credit -= need;
	return true;
}

void pk_rules_keep(struct pk_worker *w, struct pk_flow *pf, const struct pk_match *mt)
{
	if (!wanted(w, mt->ind))
		return;
	struct pk_parts *ps = pf->parts;
	for (uint32_t i = 0; ps && i < ps->n; i++)
		if (ps->v[i].ind == mt->ind && ps->v[i].dir == (uint8_t)mt->dir)
			return; /* the first of an indicator in a direction stands for it */
	if (!parts_room(w, pf)) {
		w->parts_dropped++;
		pf->rules_partial = true;
		return;
	}
	ps = pf->parts;
	struct pk_part *p = &ps->v[ps->n++];
	size_t tl = mt->text_len < PACKET_PART_TEXT ? mt->text_len : PACKET_PART_TEXT;
	*p = (struct pk_part){.pkt_first = mt->pkt_first, .pkt_last = mt->pkt_last,
			      .ts_first = mt->ts_first, .ts_last = mt->ts_last,
			      .length = mt->length, .offset = mt->offset, .field = mt->field,
			      .ind = mt->ind, .text_len = (uint16_t)tl, .dir = (uint8_t)mt->dir,
			      .has_offset = mt->has_offset};
	if (tl)
		memcpy(p->text, mt->text, tl);
}

/* ------------------------------------------------------------ judging --- */

struct fire_ctx {
	struct pk_worker *w;
	struct pk_flow *pf;
	const char *scope;
	const char *direction; /* flow-dir: the direction judged */
};

static bool on_fire(void *user, const struct combo_fire *f)
{
	struct fire_ctx *c = user;
	struct pk_worker *w = c->w;
	const struct pk_run *run = w->run;
	const struct pk_parts *ps = c->pf->parts;
	struct ev_contrib part[PACKET_FLOW_PARTS];
	size_t n = f->n_parts < PACKET_FLOW_PARTS ? f->n_parts : PACKET_FLOW_PARTS;
	uint64_t key = 0;
	for (size_t i = 0; i < n; i++) {
		const struct pk_part *p = &ps->v[f->parts[i].input];
		part[i] = (struct ev_contrib){
			.path = run->o->source_label, .offset = p->offset, .length = p->length,
			.part = matcher_get(w->m, p->ind), .text = p->text, .text_len = p->text_len,
			.packet = true, .live = run->o->live, .pkt_first = p->pkt_first,
			.pkt_last = p->pkt_last, .ts_first = p->ts_first, .ts_last = p->ts_last,
			.field = p->field, .to_client = p->dir == FLOW_DIR_S2C,
			.has_offset = p->has_offset,
		};
		if (p->pkt_last > key)
			key = p->pkt_last;
	}
	struct pk_flow *pf = c->pf;
	pk_flow_texts(pf);
	struct ev_flow fl = {.src_ip = pf->client, .dest_ip = pf->server, .src_port = pf->cport,
			     .dest_port = pf->sport, .proto = pf->proto, .community_id = pf->cid};
	struct ev_aggregate a = {.run_id = run->o->run_id, .detected = run->detected,
				 .mi = matcher_get(w->m, f->rule), .scope = c->scope, .flow = &fl,
				 .direction = c->direction, .c = part, .n_c = n};
	pk_emit_rule(w, &a, f->rule, key);
	return !atomic_load(&w->run->abort);
}

/* Judge the rules of scope i (0 flow, 1 flow-dir) over the flow's parts of
 * direction dir (-1: both). */
static void judge(struct pk_worker *w, struct pk_flow *pf, int i, int dir)
{
	struct combo_scope *sc = &w->rules.sc[i];
	const struct pk_parts *ps = pf->parts;
	bool partial = pf->rules_partial;
	for (uint32_t k = 0; k < ps->n; k++) {
		const struct pk_part *p = &ps->v[k];
		if (dir >= 0 && p->dir != dir)
			continue;
		struct combo_part cp = {.ind = p->ind, .input = k, .offset = p->offset,
					.length = (uint32_t)(p->length > UINT32_MAX ? UINT32_MAX
										    : p->length),
					.text = p->text, .text_len = p->text_len};
		if (combo_scope_add(sc, &cp) != CS_OK) {
			w->parts_dropped++;
			partial = true;
		}
	}
	sc->partial = partial;
	uint64_t was = sc->held_partial;
	struct fire_ctx c = {w, pf, combo_scope_name(i ? COMBO_SCOPE_FLOW_DIR : COMBO_SCOPE_FLOW),
			     dir < 0 ? NULL : dir == FLOW_DIR_S2C ? "to_client" : "to_server"};
	combo_scope_end(sc, on_fire, &c);
	w->rules_held_partial += sc->held_partial - was;
}

void pk_rules_flow_end(struct pk_worker *w, struct pk_flow *pf)
{
	struct pk_parts *ps = pf->parts;
	if (!ps)
		return;
	if (ps->n && !atomic_load(&w->run->abort)) {
		if (w->rules.on[0])
			judge(w, pf, 0, -1);
		if (w->rules.on[1]) {
			judge(w, pf, 1, FLOW_DIR_C2S);
			judge(w, pf, 1, FLOW_DIR_S2C);
		}
	}
	flow_table_uncharge(w->ft, parts_bytes(ps->cap));
	free(ps);
	pf->parts = NULL;
}

void pk_rules_forget(struct pk_worker *w, struct pk_flow *pf)
{
	(void)w;
	if (pf->parts)
		pf->parts->n = 0;
	pf->rules_partial = true;
}
