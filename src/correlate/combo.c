/* Combination rules: parsed into a postfix program over atoms, evaluated at
 * the end of each scope over the indicators that matched in it. */
#include "correlate/combo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cybersieve/pack.h"
#include "match/strset.h"

#define COMBO_MAX_ATOMS 256
#define COMBO_MAX_DEPTH 64

enum op { OP_IND, OP_TYPE, OP_AND, OP_OR, OP_NOT };

struct insn {
	enum op op;
	uint32_t arg;   /* OP_IND: matcher index; OP_TYPE: enum ind_type */
	bool positive;  /* atom under an even number of NOTs */
};

struct rule {
	uint32_t ind;   /* the combo indicator */
	enum combo_scope_kind kind;
	bool has_not;   /* an atom under a NOT: needs the whole scope to be judged */
	struct insn *prog;
	size_t n_prog;
};

struct combo_set {
	const struct matcher *m;
	struct rule *rules;
	size_t n_rules;
	size_t count[COMBO_SCOPE_COUNT];
	size_t n_ind;
	/* Per scope kind: indicator -> rules to evaluate when it matched
	 * (CSR: first[k][ind] .. first[k][ind + 1] into list[k]). */
	uint32_t *first[COMBO_SCOPE_COUNT];
	uint32_t *list[COMBO_SCOPE_COUNT];
};

/* ------------------------------------------------------------ parsing --- */

struct parser {
	const char *s;
	size_t n, pos;
	const struct combo_set *cs;
	const struct strset *ids;
	const struct matcher_ind *self;
	uint32_t self_index;
	struct insn *prog;
	size_t n_prog, n_atoms;
	unsigned depth;
	size_t col0;      /* columns before s in the rule text (scope=...) */
	char err[200];
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_atom_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == ':' || c == '-' || c == '/';
}

static void skip_space(struct parser *p)
{
	while (p->pos < p->n && is_space(p->s[p->pos]))
		p->pos++;
}

/* The next token's length at p->pos (after spaces), 0 at the end. */
static size_t peek(struct parser *p, const char **tok)
{
	skip_space(p);
	*tok = p->s + p->pos;
	if (p->pos >= p->n)
		return 0;
	char c = p->s[p->pos];
	if (c == '(' || c == ')' || c == '&' || c == '|' || c == '!')
		return 1;
	size_t k = p->pos;
	while (k < p->n && is_atom_char(p->s[k]))
		k++;
	return k > p->pos ? k - p->pos : 1; /* a stray byte is a token of its own */
}

static bool word_is(const char *t, size_t n, const char *w)
{
	size_t wn = strlen(w);
	if (n != wn)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = t[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != w[i])
			return false;
	}
	return true;
}

static bool fail(struct parser *p, const char *fmt, const char *tok, size_t n)
{
	if (!p->err[0])
		snprintf(p->err, sizeof(p->err), fmt, (int)(n > 40 ? 40 : n), tok,
			 (unsigned)(p->col0 + (size_t)(tok - p->s)) + 1);
	return false;
}

static bool emit(struct parser *p, enum op op, uint32_t arg, bool positive)
{
	p->prog[p->n_prog++] = (struct insn){op, arg, positive};
	return true;
}

static bool parse_or(struct parser *p, bool positive);

static bool parse_atom(struct parser *p, const char *t, size_t n, bool positive)
{
	if (++p->n_atoms > COMBO_MAX_ATOMS)
		return fail(p, "more than 256 atoms at '%.*s' (column %u)", t, n);
	if (n > 5 && word_is(t, 5, "type:")) {
		enum ind_type ty;
		if (!ind_type_parse(t + 5, n - 5, &ty) || ind_type_is_rule(ty))
			return fail(p, "unknown indicator type in '%.*s' (column %u)", t, n);
		return emit(p, OP_TYPE, (uint32_t)ty, positive);
	}
	/* PACK/ID, or an id of the rule's own pack. */
	char key[200];
	const char *slash = memchr(t, '/', n);
	int kn = slash ? snprintf(key, sizeof(key), "%.*s", (int)n, t)
		       : snprintf(key, sizeof(key), "%s/%.*s", p->self->pack->name, (int)n, t);
	uint32_t idx;
	if (kn < 0 || (size_t)kn >= sizeof(key) || !strset_get(p->ids, key, (size_t)kn, &idx))
		return fail(p, "unknown indicator '%.*s' (column %u)", t, n);
	if (idx == p->self_index)
		return fail(p, "rule refers to itself at '%.*s' (column %u)", t, n);
	const struct indicator *ind = matcher_get(p->cs->m, idx)->ind;
	if (ind_type_is_rule(ind->type))
		return fail(p, "'%.*s' (column %u) is a rule; combine indicators only", t, n);
	return emit(p, OP_IND, idx, positive);
}

static bool parse_factor(struct parser *p, bool positive)
{
	const char *t;
	size_t n = peek(p, &t);
	if (n == 0)
		return fail(p, "expression ends early%.*s (column %u)", t, 0);
	if (++p->depth > COMBO_MAX_DEPTH)
		return fail(p, "nested too deep at '%.*s' (column %u)", t, n);
	bool ok;
	if (*t == '!' || word_is(t, n, "not")) {
		p->pos += n;
		ok = parse_factor(p, !positive) && emit(p, OP_NOT, 0, positive);
	} else if (*t == '(') {
		p->pos += 1;
		ok = parse_or(p, positive);
		if (ok) {
			const char *c;
			size_t cn = peek(p, &c);
			if (cn != 1 || *c != ')')
				ok = fail(p, "expected ')' at '%.*s' (column %u)", c, cn);
			else
				p->pos += 1;
		}
	} else if (!is_atom_char(*t) || word_is(t, n, "and") || word_is(t, n, "or")) {
		ok = fail(p, "expected an indicator at '%.*s' (column %u)", t, n);
	} else {
		p->pos += n;
		ok = parse_atom(p, t, n, positive);
	}
	p->depth--;
	return ok;
}

static bool parse_and(struct parser *p, bool positive)
{
	if (!parse_factor(p, positive))
		return false;
	for (;;) {
		const char *t;
		size_t n = peek(p, &t);
		if (!(n == 1 && *t == '&') && !word_is(t, n, "and"))
			return true;
		p->pos += n;
		if (!parse_factor(p, positive) || !emit(p, OP_AND, 0, positive))
			return false;
	}
}

static bool parse_or(struct parser *p, bool positive)
{
	if (!parse_and(p, positive))
		return false;
	for (;;) {
		const char *t;
		size_t n = peek(p, &t);
		if (!(n == 1 && *t == '|') && !word_is(t, n, "or"))
			return true;
		p->pos += n;
		if (!parse_and(p, positive) || !emit(p, OP_OR, 0, positive))
			return false;
	}
}

/* ---------------------------------------------------------- evaluation --- */

struct eval_env {
	const uint32_t *slot;      /* per indicator: seen when non-zero */
	const uint32_t *type_seen; /* per type: matches in scope */
};

static bool eval(const struct rule *r, const struct eval_env *env)
{
	bool st[COMBO_MAX_ATOMS * 2 + 1];
	size_t sp = 0;
	for (size_t i = 0; i < r->n_prog; i++) {
		const struct insn *in = &r->prog[i];
		switch (in->op) {
		case OP_IND: st[sp++] = env->slot && env->slot[in->arg] != 0; break;
		case OP_TYPE: st[sp++] = env->type_seen && env->type_seen[in->arg] != 0; break;
		case OP_NOT: st[sp - 1] = !st[sp - 1]; break;
		case OP_AND: sp--; st[sp - 1] = st[sp - 1] && st[sp]; break;
		case OP_OR: sp--; st[sp - 1] = st[sp - 1] || st[sp]; break;
		}
	}
	return sp == 1 && st[0];
}

static const char *const scope_names[COMBO_SCOPE_COUNT] = {
	[COMBO_SCOPE_LINE] = "line", [COMBO_SCOPE_MESSAGE] = "message",
	[COMBO_SCOPE_FLOW] = "flow", [COMBO_SCOPE_FLOW_DIR] = "flow-dir",
};

const char *combo_scope_name(enum combo_scope_kind k)
{
	return (unsigned)k < COMBO_SCOPE_COUNT ? scope_names[k] : "?";
}

/* "scope=KIND " at the start of the rule text. */
static bool parse_scope(const char *s, size_t n, size_t *used, enum combo_scope_kind *k)
{
	*used = 0;
	*k = COMBO_SCOPE_LINE;
	if (n < 6 || memcmp(s, "scope=", 6) != 0)
		return true;
	size_t e = 6;
	while (e < n && !is_space(s[e]))
		e++;
	for (int i = 0; i < COMBO_SCOPE_COUNT; i++) {
		if (e - 6 == strlen(scope_names[i]) && memcmp(s + 6, scope_names[i], e - 6) == 0) {
			*k = (enum combo_scope_kind)i;
			*used = e;
			return true;
		}
	}
	return false;
}

static enum cs_err rule_parse(struct combo_set *cs, const struct strset *ids, uint32_t idx,
			      struct rule *r, struct cs_diag *d)
{
	const struct matcher_ind *mi = matcher_get(cs->m, idx);
	const char *s = mi->ind->value;
	size_t n = mi->ind->value_len, used;
	uint64_t line = mi->ind->line ? mi->ind->line : CS_DIAG_NONE;
	if (!parse_scope(s, n, &used, &r->kind)) {
		cs_diag_set(d, mi->pack->path, line, CS_DIAG_NONE,
			    "combo '%s': unknown scope (line, message, flow or flow-dir)", mi->ind->id);
		return CS_ERR_PARSE;
	}
	struct parser p = {.s = s + used, .n = n - used, .cs = cs, .ids = ids, .self = mi,
			   .self_index = idx, .col0 = used};
	/* Every token makes at most one instruction. */
	p.prog = malloc((p.n + 1) * sizeof(*p.prog));
	if (!p.prog)
		return CS_ERR_NOMEM;
	bool ok = parse_or(&p, true);
	if (ok) {
		const char *t;
		size_t tn = peek(&p, &t);
		if (tn)
			ok = fail(&p, "unexpected '%.*s' (column %u)", t, tn);
	}
	r->ind = idx;
	r->prog = p.prog;
	r->n_prog = p.n_prog;
	for (size_t i = 0; i < p.n_prog; i++)
		if ((p.prog[i].op == OP_IND || p.prog[i].op == OP_TYPE) && !p.prog[i].positive)
			r->has_not = true;
	if (ok) {
		struct eval_env none = {0};
		if (eval(r, &none))
			ok = fail(&p, "holds when nothing matched, so it would fire on every "
				      "record%.*s (column %u)", p.s, 0);
	}
	if (!ok) {
		cs_diag_set(d, mi->pack->path, line, CS_DIAG_NONE, "combo '%s': %s", mi->ind->id,
			    p.err);
		free(p.prog);
		r->prog = NULL;
		return CS_ERR_PARSE;
	}
	return CS_OK;
}

/* "pack/id" keys of every indicator, in one buffer. */
static enum cs_err index_ids(const struct matcher *m, struct strset *ids, char **buf)
{
	size_t n = matcher_count(m), total = 0;
	for (size_t i = 0; i < n; i++) {
		const struct matcher_ind *mi = matcher_get(m, (uint32_t)i);
		total += strlen(mi->pack->name) + strlen(mi->ind->id) + 2;
	}
	char *b = malloc(total ? total : 1);
	if (!b)
		return CS_ERR_NOMEM;
	char *o = b;
	for (size_t i = 0; i < n; i++) {
		const struct matcher_ind *mi = matcher_get(m, (uint32_t)i);
		int k = sprintf(o, "%s/%s", mi->pack->name, mi->ind->id);
		bool dup;
		/* Two packs of one name: the first one's ids win. */
		enum cs_err e = strset_add(ids, o, (size_t)k, (uint32_t)i, &dup, NULL);
		if (e != CS_OK) {
			free(b);
			return e;
		}
		o += k + 1;
	}
	*buf = b;
	return CS_OK;
}

/* Calls use(cs, ind, rule, arg) for every indicator rule r of kind k watches:
 * its atoms, and every indicator of a type a type atom names. */
static void rule_watch(struct combo_set *cs, size_t r,
		       void (*use)(struct combo_set *, uint32_t, uint32_t, void *), void *arg)
{
	const struct rule *ru = &cs->rules[r];
	bool type_used[IND_TYPE_COUNT] = {false};
	bool any_type = false;
	for (size_t i = 0; i < ru->n_prog; i++) {
		if (ru->prog[i].op == OP_IND)
			use(cs, ru->prog[i].arg, (uint32_t)r, arg);
		else if (ru->prog[i].op == OP_TYPE)
			any_type = type_used[ru->prog[i].arg] = true;
	}
	for (size_t ind = 0; any_type && ind < cs->n_ind; ind++)
		if (type_used[matcher_get(cs->m, (uint32_t)ind)->ind->type])
			use(cs, (uint32_t)ind, (uint32_t)r, arg);
}

struct fill {
	uint32_t *at;   /* per indicator: next free place in list */
	uint32_t *list; /* NULL while counting */
};

static void fill_use(struct combo_set *cs, uint32_t ind, uint32_t r, void *arg)
{
	(void)cs;
	struct fill *f = arg;
	if (f->list)
		f->list[f->at[ind]++] = r;
	else
		f->at[ind + 1]++;
}

/* Indicator -> rules of kind k, as compressed rows. */
static enum cs_err build_index(struct combo_set *cs, enum combo_scope_kind k)
{
	size_t n = cs->n_ind;
	struct fill f = {calloc(n + 1, sizeof(uint32_t)), NULL};
	if (!f.at)
		return CS_ERR_NOMEM;
	for (size_t r = 0; r < cs->n_rules; r++)
		if (cs->rules[r].kind == k)
			rule_watch(cs, r, fill_use, &f);
	for (size_t i = 0; i < n; i++)
		f.at[i + 1] += f.at[i];
	cs->first[k] = malloc((n + 1) * sizeof(uint32_t));
	cs->list[k] = malloc((f.at[n] ? f.at[n] : 1) * sizeof(uint32_t));
	if (!cs->first[k] || !cs->list[k]) {
		free(f.at);
		return CS_ERR_NOMEM;
	}
	memcpy(cs->first[k], f.at, (n + 1) * sizeof(uint32_t));
	f.list = cs->list[k];
	for (size_t r = 0; r < cs->n_rules; r++)
		if (cs->rules[r].kind == k)
			rule_watch(cs, r, fill_use, &f);
	free(f.at);
	return CS_OK;
}

enum cs_err combo_set_create(const struct matcher *m, combo_refused_fn refused, void *ctx,
			     struct combo_set **out, struct cs_diag *d)
{
	if (!m || !out)
		return CS_ERR_INVALID;
	*out = NULL;
	struct combo_set *cs = calloc(1, sizeof(*cs));
	if (!cs)
		return CS_ERR_NOMEM;
	cs->m = m;
	cs->n_ind = matcher_count(m);
	size_t n_rules = 0;
	for (size_t i = 0; i < cs->n_ind; i++)
		n_rules += matcher_get(m, (uint32_t)i)->ind->type == IND_COMBO;
	enum cs_err err = CS_OK;
	struct strset ids;
	char *keys = NULL;
	strset_init(&ids);
	if (n_rules) {
		cs->rules = calloc(n_rules, sizeof(*cs->rules));
		err = cs->rules ? index_ids(m, &ids, &keys) : CS_ERR_NOMEM;
	}
	for (size_t i = 0; i < cs->n_ind && err == CS_OK; i++) {
		const struct matcher_ind *mi = matcher_get(m, (uint32_t)i);
		if (mi->ind->type != IND_COMBO)
			continue;
		struct cs_diag rd;
		cs_diag_clear(&rd);
		struct rule *r = &cs->rules[cs->n_rules];
		err = rule_parse(cs, &ids, (uint32_t)i, r, &rd);
		if (err == CS_ERR_PARSE && refused) {
			refused(ctx, mi->pack_index, &rd);
			err = CS_OK;
			continue;
		}
		if (err != CS_OK) {
			if (d)
				*d = rd;
			break;
		}
		cs->count[r->kind]++;
		cs->n_rules++;
	}
	for (int k = 0; k < COMBO_SCOPE_COUNT && err == CS_OK; k++)
		err = build_index(cs, (enum combo_scope_kind)k);
	strset_fini(&ids);
	free(keys);
	if (err != CS_OK) {
		combo_set_destroy(cs);
		return err;
	}
	*out = cs;
	return CS_OK;
}

void combo_set_destroy(struct combo_set *cs)
{
	if (!cs)
		return;
	for (size_t i = 0; i < cs->n_rules; i++)
		free(cs->rules[i].prog);
	free(cs->rules);
	for (int k = 0; k < COMBO_SCOPE_COUNT; k++) {
		free(cs->first[k]);
		free(cs->list[k]);
	}
	free(cs);
}

size_t combo_count(const struct combo_set *cs, enum combo_scope_kind k)
{
	return cs && (unsigned)k < COMBO_SCOPE_COUNT ? cs->count[k] : 0;
}

bool combo_wants(const struct combo_set *cs, enum combo_scope_kind k, uint32_t ind)
{
	if (!cs || (unsigned)k >= COMBO_SCOPE_COUNT || ind >= cs->n_ind || !cs->first[k])
		return false;
	return cs->first[k][ind + 1] > cs->first[k][ind];
}

/* -------------------------------------------------------------- scopes --- */

enum cs_err combo_scope_init(struct combo_scope *sc, const struct combo_set *cs,
			     enum combo_scope_kind k, size_t max_text)
{
	memset(sc, 0, sizeof(*sc));
	sc->cs = cs;
	sc->kind = k;
	sc->max_text = max_text;
	size_t n = cs ? cs->n_ind : 0;
	size_t nr = cs ? cs->n_rules : 0;
	sc->slot = calloc(n ? n : 1, sizeof(*sc->slot));
	sc->touched = malloc((nr ? nr : 1) * sizeof(*sc->touched));
	sc->rule_mark = calloc(nr ? nr : 1, 1);
	if (!sc->slot || !sc->touched || !sc->rule_mark) {
		combo_scope_fini(sc);
		return CS_ERR_NOMEM;
	}
	return CS_OK;
}

void combo_scope_fini(struct combo_scope *sc)
{
	free(sc->slot);
	free(sc->parts);
	free(sc->text);
	free(sc->touched);
	free(sc->rule_mark);
	free(sc->fire_parts);
	memset(sc, 0, sizeof(*sc));
}

static enum cs_err grow_parts(struct combo_scope *sc)
{
	size_t cap = sc->cap_parts ? sc->cap_parts * 2 : 16;
	struct combo_part *np = realloc(sc->parts, cap * sizeof(*np));
	if (!np)
		return CS_ERR_NOMEM;
	sc->parts = np;
	struct combo_part *fp = realloc(sc->fire_parts, cap * sizeof(*fp));
	if (!fp)
		return CS_ERR_NOMEM;
	sc->fire_parts = fp;
	uint8_t *nt = realloc(sc->text, cap * (sc->max_text ? sc->max_text : 1));
	if (!nt)
		return CS_ERR_NOMEM;
	sc->text = nt;
	sc->cap_parts = cap;
	return CS_OK;
}

enum cs_err combo_scope_add(struct combo_scope *sc, const struct combo_part *p)
{
	const struct combo_set *cs = sc->cs;
	if (!combo_wants(cs, sc->kind, p->ind) || sc->slot[p->ind])
		return CS_OK;
	if (sc->n_parts == sc->cap_parts) {
		enum cs_err e = grow_parts(sc);
		if (e != CS_OK)
			return e;
	}
	struct combo_part *q = &sc->parts[sc->n_parts];
	*q = *p;
	q->text_len = p->text_len < sc->max_text ? p->text_len : (uint32_t)sc->max_text;
	if (q->text_len)
		memcpy(sc->text + sc->n_parts * sc->max_text, p->text, q->text_len);
	q->text = NULL; /* set when fired: the buffer may move as it grows */
	sc->slot[p->ind] = (uint32_t)++sc->n_parts;
	uint32_t k = sc->kind;
	for (uint32_t i = cs->first[k][p->ind]; i < cs->first[k][p->ind + 1]; i++) {
		uint32_t r = cs->list[k][i];
		if (!sc->rule_mark[r]) {
			sc->rule_mark[r] = 1;
			sc->touched[sc->n_touched++] = r;
		}
	}
	return CS_OK;
}

bool combo_scope_empty(const struct combo_scope *sc)
{
	return sc->n_parts == 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* The parts a fired rule names: matches of its positive atoms, in scope order. */
static size_t rule_parts(const struct combo_scope *sc, const struct rule *r)
{
	const struct matcher *m = sc->cs->m;
	size_t n = 0;
	for (size_t i = 0; i < sc->n_parts; i++) {
		const struct combo_part *p = &sc->parts[i];
		bool use = false;
		for (size_t k = 0; k < r->n_prog && !use; k++) {
			const struct insn *in = &r->prog[k];
			if (!in->positive)
				continue;
			if (in->op == OP_IND)
				use = in->arg == p->ind;
			else if (in->op == OP_TYPE)
				use = in->arg == (uint32_t)matcher_get(m, p->ind)->ind->type;
		}
		if (use) {
			sc->fire_parts[n] = *p;
			sc->fire_parts[n].text = sc->text + i * sc->max_text;
			n++;
		}
	}
	return n;
}

bool combo_scope_end(struct combo_scope *sc, combo_fire_fn fire, void *user)
{
	bool go = true;
	if (sc->n_touched) {
		const struct matcher *m = sc->cs->m;
		uint32_t type_seen[IND_TYPE_COUNT] = {0};
		for (size_t i = 0; i < sc->n_parts; i++)
			type_seen[matcher_get(m, sc->parts[i].ind)->ind->type]++;
		struct eval_env env = {sc->slot, type_seen};
		qsort(sc->touched, sc->n_touched, sizeof(*sc->touched), cmp_u32);
		for (size_t t = 0; t < sc->n_touched && go; t++) {
			const struct rule *r = &sc->cs->rules[sc->touched[t]];
			if (!eval(r, &env))
				continue;
			if (sc->partial && r->has_not) {
				sc->held_partial++;
				continue;
			}
			struct combo_fire f = {r->ind, sc->fire_parts, rule_parts(sc, r)};
			go = fire(user, &f);
		}
		for (size_t t = 0; t < sc->n_touched; t++)
			sc->rule_mark[sc->touched[t]] = 0;
	}
	for (size_t i = 0; i < sc->n_parts; i++)
		sc->slot[sc->parts[i].ind] = 0;
	sc->n_parts = 0;
	sc->n_touched = 0;
	sc->partial = false;
	return go;
}
