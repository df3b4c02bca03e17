/* Window rules of a matcher, parsed, and their engine. */
#include "correlate/window_set.h"

#include <stdlib.h>
#include <string.h>

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
	free(ws);
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
	enum cs_err err = ws->rules && ws->ids && ws->ind ? CS_OK : CS_ERR_NOMEM;
	for (size_t i = 0; i < total && err == CS_OK; i++) {
		const struct matcher_ind *mi = matcher_get(m, (uint32_t)i);
		if (mi->ind->type != IND_WINDOW)
			continue;
		struct cs_diag rd;
		cs_diag_clear(&rd);
		struct window_rule *r = NULL;
		err = window_rule_parse(mi->ind->value, mi->ind->value_len, &r, &rd);
		if (err == CS_ERR_PARSE) {
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
