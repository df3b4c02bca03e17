/* Records of fired rules: the rule, its scope and every contributing part. */
#include <stdio.h>
#include <string.h>

#include "cybersieve/evidence.h"
#include "cybersieve/pack.h"

static void render_packet_part(struct jbuf *j, const struct ev_contrib *c)
{
	ev_render_packet_source(j, c->live, c->path, c->pkt_first, c->pkt_last, c->ts_first,
				c->ts_last);
	json_kv_str(j, "field", c->field);
	json_kv_str(j, "direction", c->to_client ? "to_client" : "to_server");
	if (c->has_offset)
		json_kv_u64(j, "offset", c->offset);
	json_kv_u64(j, "length", c->length);
}

static void render_part(struct jbuf *j, const struct ev_contrib *c)
{
	json_obj_open(j);
	if (c->part) {
		char ref[200];
		snprintf(ref, sizeof(ref), "%s/%s", c->part->pack->name, c->part->ind->id);
		json_kv_str(j, "indicator", ref);
		json_kv_str(j, "type", ind_type_name(c->part->ind->type));
	}
	if (c->packet) {
		render_packet_part(j, c);
	} else {
		ev_kv_text(j, "path", (const uint8_t *)c->path, strlen(c->path));
		json_kv_str(j, "sha256",
			    !c->sha256 ? EV_SHA256_PLACEHOLDER : c->sha256[0] ? c->sha256 : NULL);
		json_kv_bool(j, "gzip", c->gzip);
		json_kv_u64(j, "line", c->line);
		json_kv_u64(j, "offset", c->offset);
		json_kv_u64(j, "length", c->length);
	}
	if (c->time)
		json_kv_str(j, "time", c->time);
	if (c->part && c->text) {
		if (ev_category_withholds_content(c->part->pack->category))
			json_kv_bool(j, "content_withheld", true);
		else
			ev_kv_text(j, "text", c->text, c->text_len);
	}
	json_obj_close(j);
}

void ev_aggregate_render_body(struct jbuf *j, const struct ev_aggregate *a)
{
	j->need_comma = false;
	ev_render_common(j, &a->detected, a->mi);
	json_kv_str(j, "scope", a->scope);
	if (a->key)
		ev_kv_text(j, "key", (const uint8_t *)a->key, a->key_len);
	if (a->agg) {
		json_key(j, "aggregate");
		json_obj_open(j);
		json_kv_str(j, "function", a->agg);
		json_kv_str(j, "value", a->value);
		json_kv_str(j, "first", a->first_time);
		json_kv_str(j, "last", a->last_time);
		json_obj_close(j);
	}
	if (a->flow)
		ev_render_flow(j, a->flow, a->direction);
	size_t n = a->n_c < EV_AGGREGATE_MAX_PARTS ? a->n_c : EV_AGGREGATE_MAX_PARTS;
	json_key(j, "contributors");
	json_arr_open(j);
	for (size_t i = 0; i < n; i++)
		render_part(j, &a->c[i]);
	json_arr_close(j);
	if (a->n_omitted || n < a->n_c)
		json_kv_u64(j, "contributors_omitted", a->n_omitted + (a->n_c - n));
	json_obj_close(j);
}

void ev_aggregate_render(struct jbuf *j, const struct ev_aggregate *a)
{
	ev_record_render_head(j, a->run_id, a->seq);
	ev_aggregate_render_body(j, a);
}
