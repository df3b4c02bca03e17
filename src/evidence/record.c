/* One match record as a JSON object (include/cybersieve/evidence.h).
 * Field order is fixed so that records are byte-for-byte reproducible. */
#include <ctype.h>
#include <stdio.h>
#include <strings.h>
#include <string.h>

#include "correlate/lookalike.h"
#include "cybersieve/evidence.h"
#include "cybersieve/pseudo.h"
#include "cybersieve/util.h"

bool ev_category_withholds_content(const char *category)
{
	return category && strcmp(category, "csam") == 0;
}

/* "art. 13", "Art 14", "article 15": the number after the word, 0 when none. */
static unsigned article_in(const char *s)
{
	for (const char *p = s; p && *p; p++) {
		if (strncasecmp(p, "art", 3) != 0 || (p > s && isalpha((unsigned char)p[-1])))
			continue;
		const char *q = p + 3;
		if (strncasecmp(q, "icle", 4) == 0)
			q += 4;
		else if (*q == '.')
			q++;
		while (*q == ' ')
			q++;
		unsigned v = 0;
		const char *d = q;
		while (isdigit((unsigned char)*d) && v < 1000)
			v = v * 10 + (unsigned)(*d++ - '0');
		if (d > q && v > 0 && v < 1000)
			return v;
	}
	return 0;
}

unsigned ev_legal_article(const struct pack *p)
{
	static const struct {
		const char *category;
		unsigned article;
	} table[] = {{"scam", 13}, {"csam", 14}, {"grooming", 15}, {"laundering", 17}};
	unsigned a = article_in(p->legal);
	if (a || !p->category)
		return a;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i].category, p->category) == 0)
			return table[i].article;
	return 0;
}

/* A byte string; when it was not valid UTF-8 the exact bytes follow in base64. */
void ev_kv_text(struct jbuf *j, const char *key, const uint8_t *s, size_t n)
{
	json_key(j, key);
	bool lossy = json_str(j, s, n);
	j->need_comma = true;
	if (lossy) {
		char k[64];
		snprintf(k, sizeof(k), "%s_b64", key);
		json_key(j, k);
		json_base64(j, s, n);
	}
}

void ev_render_indicator(struct jbuf *j, const struct matcher_ind *mi)
{
	const struct indicator *ind = mi->ind;
	const struct pack *p = mi->pack;
	char digest[65];
	json_key(j, "indicator");
	json_obj_open(j);
	json_kv_str(j, "id", ind->id);
	json_kv_str(j, "type", ind_type_name(ind->type));
	ev_kv_text(j, "value", (const uint8_t *)ind->value, ind->value_len);
	json_kv_str(j, "category", p->category);
	json_kv_u64(j, "confidence", ind->confidence);
	json_key(j, "pack");
	json_obj_open(j);
	json_kv_str(j, "name", p->name);
	util_hex(p->digest, sizeof(p->digest), digest);
	json_kv_str(j, "sha256", digest);
	json_kv_str(j, "source", p->source);
	json_obj_close(j);
	json_obj_close(j);
}

static void render_context(struct jbuf *j, const struct ev_record *r)
{
	json_key(j, "context");
	json_obj_open(j);
	if (r->pseudo) {
		const struct indicator *ind = r->mi->ind;
		const char *keep = ind->type == IND_EMAIL ? ind->value : NULL;
		pseudo_json_text(j, "before", r->pseudo, r->before, r->before_len,
				 PSEUDO_MATCH_END | (r->before_cut ? PSEUDO_CUT_START : 0), keep,
				 ind->value_len);
		pseudo_json_text(j, "after", r->pseudo, r->after, r->after_len,
				 PSEUDO_MATCH_START | (r->after_cut ? PSEUDO_CUT_END : 0), keep,
				 ind->value_len);
	} else {
		ev_kv_text(j, "before", r->before, r->before_len);
		ev_kv_text(j, "after", r->after, r->after_len);
	}
	json_obj_close(j);
}

void ev_render_lookalike(struct jbuf *j, const struct matcher_ind *mi, const uint8_t *text,
			 size_t len)
{
	struct lookalike_hit h;
	if (!matcher_lookalike_describe(mi, text, len, &h))
		return;
	json_key(j, "lookalike");
	json_obj_open(j);
	json_kv_str(j, "kind", lookalike_kind_name(h.kind));
	json_kv_u64(j, "distance", h.distance);
	json_kv_str(j, "brand", h.brand);
	ev_kv_text(j, "label", (const uint8_t *)h.label, strlen(h.label));
	json_obj_close(j);
}

void ev_render_common(struct jbuf *j, const struct timespec *detected,
		      const struct matcher_ind *mi)
{
	char ts[40];
	const struct pack *p = mi->pack;
	util_rfc3339(detected, ts, sizeof(ts));
	json_kv_str(j, "time_detected", ts);
	json_key(j, "tool");
	json_obj_open(j);
	json_kv_str(j, "name", EV_TOOL_NAME);
	json_kv_str(j, "version", CS_VERSION);
	json_obj_close(j);
	ev_render_indicator(j, mi);
	json_kv_str(j, "legal", p->legal);
	unsigned art = ev_legal_article(p);
	if (art)
		json_kv_u64(j, "article", art);
	else
		json_kv_str(j, "article", NULL);
	json_kv_str(j, "tlp", p->tlp);
}

void ev_record_render(struct jbuf *j, const struct ev_record *r)
{
	char id[96];
	const struct pack *p = r->mi->pack;
	json_obj_open(j);
	json_kv_str(j, "prev", EV_PREV_PLACEHOLDER); /* linked by the writer */
	snprintf(id, sizeof(id), "%s:%llu", r->run_id, (unsigned long long)r->seq);
	json_kv_str(j, "record_id", id);
	json_kv_str(j, "run_id", r->run_id);
	json_kv_u64(j, "seq", r->seq);
	ev_render_common(j, &r->detected, r->mi);

	json_key(j, "source");
	json_obj_open(j);
	json_kv_str(j, "kind", "log");
	ev_kv_text(j, "path", (const uint8_t *)r->path, strlen(r->path));
	json_kv_str(j, "sha256", EV_SHA256_PLACEHOLDER);
	json_kv_bool(j, "gzip", r->gzip);
	json_kv_u64(j, "line", r->line);
	json_kv_u64(j, "offset", r->offset);
	json_obj_close(j);

	json_key(j, "match");
	json_obj_open(j);
	json_kv_u64(j, "length", r->text_len);
	json_kv_u64(j, "count", r->count);
	int dist = matcher_pdq_distance(r->mi, r->text, r->text_len);
	if (dist >= 0)
		json_kv_u64(j, "distance", (uint64_t)dist);
	ev_render_lookalike(j, r->mi, r->text, r->text_len);
	if (r->line_split)
		json_kv_bool(j, "line_split", true);
	if (ev_category_withholds_content(p->category)) {
		/* Location and hash only: no byte of the content leaves the input. */
		json_kv_bool(j, "content_withheld", true);
	} else {
		ev_kv_text(j, "text", r->text, r->text_len);
		render_context(j, r);
	}
	json_obj_close(j);
	if (r->pseudo)
		pseudo_json_minimisation(j, r->pseudo);
	json_obj_close(j);
}
