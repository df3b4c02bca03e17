/* Window rules of a matcher, parsed, and their engine. */
#include "correlate/window_set.h"

#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "correlate/window_int.h"
#include "cybersieve/pack.h"

void window_set_destroy(struct window_set *ws)
{
	if (!ws)
		return;
	window_engine_destroy(ws->eng);
	for (size_t i = 0; i < ws->n; i++)
		window_rule_destroy(ws->rules[i]);
	free(ws->rules);
	free(ws->ids);
	free(ws->ind);
	if (ws->match_name)
		for (size_t i = 0; i < ws->n_ind; i++)
			free(ws->match_name[i]);
	free(ws->match_name);
	free(ws);
}

/* The indicator "pack/id" names (id alone: of pack self), or UINT32_MAX. */
static uint32_t find_ind(const struct matcher *m, const struct pack *self, const char *v,
			 size_t n)
{
	const char *slash = memchr(v, '/', n);
	size_t total = matcher_count(m);
	for (size_t i = 0; i < total; i++) {
		const struct matcher_ind *mi = matcher_get(m, (uint32_t)i);
		const char *id = mi->ind->id, *pk = mi->pack->name;
		if (slash) {
			size_t pn = (size_t)(slash - v);
			if (strlen(pk) == pn && memcmp(pk, v, pn) == 0 &&
			    strlen(id) == n - pn - 1 && memcmp(id, slash + 1, n - pn - 1) == 0)
				return (uint32_t)i;
		} else if (mi->pack == self && strlen(id) == n && memcmp(id, v, n) == 0) {
			return (uint32_t)i;
		}
	}
	return UINT32_MAX;
}

/* Rewrite the rule's match:ID conditions to "pack/id" and note the names;
 * CS_ERR_PARSE (rd set) for an id no pack has. */
static enum cs_err qualify_matches(struct window_set *ws, const struct matcher *m,
				   const struct matcher_ind *mi, struct window_rule *r,
				   struct cs_diag *rd)
{
	for (size_t c = 0; c < r->n_cond; c++) {
		struct window_cond *wc = &r->cond[c];
		if (wc->op != WINDOW_OP_MATCH)
			continue;
		uint32_t k = find_ind(m, mi->pack, wc->value, wc->value_len);
		if (k == UINT32_MAX) {
			cs_diag_set(rd, mi->pack->path, mi->ind->line ? mi->ind->line : CS_DIAG_NONE,
				    CS_DIAG_NONE, "window '%s': match:%s names no loaded indicator",
				    mi->ind->id, wc->value);
			return CS_ERR_PARSE;
		}
		const struct matcher_ind *t = matcher_get(m, k);
		size_t qn = strlen(t->pack->name) + strlen(t->ind->id) + 2;
		char *q = malloc(qn);
		if (!ws->match_name)
			ws->match_name = calloc(ws->n_ind, sizeof(*ws->match_name));
		if (!q || !ws->match_name) {
			free(q);
			return CS_ERR_NOMEM;
		}
		snprintf(q, qn, "%s/%s", t->pack->name, t->ind->id);
		if (!ws->match_name[k] && !(ws->match_name[k] = strdup(q))) {
			free(q);
			return CS_ERR_NOMEM;
		}
		free(wc->value);
		wc->value = q;
		wc->value_len = qn - 1;
	}
	return CS_OK;
}

enum cs_err window_set_create(const struct matcher *m, const struct window_limits *lim,
			      int syslog_year, combo_refused_fn refused, void *ctx,
			      struct window_set **out, struct cs_diag *d)
{
	if (!m || !out)
		return CS_ERR_INVALID;
	*out = NULL;
	size_t total = matcher_count(m), n = 0;
	for (size_t i = 0; i < total; i++)
		n += matcher_get(m, (uint32_t)i)->ind->type == IND_WINDOW;
	if (n == 0)
		return CS_OK;
	struct window_set *ws = calloc(1, sizeof(*ws));
	if (!ws)
		return CS_ERR_NOMEM;
	ws->rules = calloc(n, sizeof(*ws->rules));
	ws->ids = calloc(n, sizeof(*ws->ids));
	ws->ind = calloc(n, sizeof(*ws->ind));
	ws->n_ind = total;
	enum cs_err err = ws->rules && ws->ids && ws->ind ? CS_OK : CS_ERR_NOMEM;
	for (size_t i = 0; i < total && err == CS_OK; i++) {
		const struct matcher_ind *mi = matcher_get(m, (uint32_t)i);
		if (mi->ind->type != IND_WINDOW)
			continue;
		struct cs_diag rd;
		cs_diag_clear(&rd);
		struct window_rule *r = NULL;
		err = window_rule_parse(mi->ind->value, mi->ind->value_len, &r, &rd);
		struct window_limits lv;
		if (lim)
			lv = *lim;
		else
			window_limits_default(&lv);
		if (err == CS_OK && (r->agg == WINDOW_COUNT || r->agg == WINDOW_DISTINCT) &&
		    r->min_n > lv.max_records) {
			cs_diag_set(&rd, mi->pack->path, mi->ind->line ? mi->ind->line : CS_DIAG_NONE,
				    CS_DIAG_NONE,
				    "window '%s': threshold %llu above the %zu records held per key",
				    mi->ind->id, (unsigned long long)r->min_n, lv.max_records);
			window_rule_destroy(r);
			r = NULL;
			if (refused) {
				refused(ctx, mi->pack_index, &rd);
				continue;
			}
			if (d)
				*d = rd;
			err = CS_ERR_PARSE;
			break;
		}
		if (err == CS_OK) {
			err = qualify_matches(ws, m, mi, r, &rd);
			if (err != CS_OK) {
				window_rule_destroy(r);
				r = NULL;
			}
			if (err == CS_ERR_PARSE && refused) {
				refused(ctx, mi->pack_index, &rd);
				err = CS_OK;
				continue;
			}
		} else if (err == CS_ERR_PARSE) {
			char msg[sizeof(rd.msg)];
			memcpy(msg, rd.msg, sizeof(msg));
			cs_diag_set(&rd, mi->pack->path, mi->ind->line ? mi->ind->line : CS_DIAG_NONE,
				    CS_DIAG_NONE, "window '%s': %s", mi->ind->id, msg);
			if (refused) {
				refused(ctx, mi->pack_index, &rd);
				err = CS_OK;
				continue;
			}
		}
		if (err != CS_OK) {
			if (d)
				*d = rd;
			break;
		}
		ws->rules[ws->n] = r;
		ws->ids[ws->n] = mi->ind->id;
		ws->ind[ws->n] = (uint32_t)i;
		ws->n++;
	}
	if (err == CS_OK && ws->n > 0)
		err = window_engine_create((const struct window_rule *const *)ws->rules,
					   (const char *const *)ws->ids, ws->n, lim, syslog_year,
					   &ws->eng, d);
	if (err != CS_OK || ws->n == 0) {
		window_set_destroy(ws);
		return err;
	}
	*out = ws;
	return CS_OK;
}
