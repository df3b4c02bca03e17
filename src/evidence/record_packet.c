/* One match record from network traffic as a JSON object
 * (include/cybersieve/evidence.h, "packet records"). The top-level keys and
 * their order follow log records (record.c); "flow" and "field" come last.
 * Field order is fixed so that records are byte-for-byte reproducible. */
#include <stdio.h>
#include <string.h>

#include "cybersieve/evidence.h"
#include "cybersieve/pseudo.h"
#include "cybersieve/util.h"

void ev_render_packet_source(struct jbuf *j, bool live, const char *source, uint64_t pkt_first,
			     uint64_t pkt_last, uint64_t ts_first, uint64_t ts_last)
{
	char ts[40];
	const char *src = source ? source : "";
	json_kv_str(j, "kind", live ? "live" : "capture");
	ev_kv_text(j, live ? "interface" : "path", (const uint8_t *)src, strlen(src));
	json_kv_str(j, "sha256", live ? NULL : EV_SHA256_PLACEHOLDER);
	json_kv_u64(j, "packet_first", pkt_first);
	json_kv_u64(j, "packet_last", pkt_last);
	util_rfc3339_ns(ts_first, ts, sizeof(ts));
	json_kv_str(j, "ts_first", ts);
	util_rfc3339_ns(ts_last, ts, sizeof(ts));
	json_kv_str(j, "ts_last", ts);
}

static void pkt_render_source(struct jbuf *j, const struct ev_packet_record *r)
{
	json_key(j, "source");
	json_obj_open(j);
	ev_render_packet_source(j, r->live, r->source, r->pkt_first, r->pkt_last, r->ts_first,
				r->ts_last);
	json_obj_close(j);
}

/* Payload context may begin or end inside an address on either side: both
 * outer edges are taken as cut. */
static void pkt_render_context(struct jbuf *j, const struct ev_packet_record *r)
{
	json_key(j, "context");
	json_obj_open(j);
	if (r->pseudo) {
		const struct indicator *ind = r->mi->ind;
		const char *keep = ind->type == IND_EMAIL ? ind->value : NULL;
		pseudo_json_text(j, "before", r->pseudo, r->before, r->before_len,
				 PSEUDO_CUT_START | PSEUDO_MATCH_END, keep, ind->value_len);
		pseudo_json_text(j, "after", r->pseudo, r->after, r->after_len,
				 PSEUDO_MATCH_START | PSEUDO_CUT_END, keep, ind->value_len);
	} else {
		ev_kv_text(j, "before", r->before, r->before_len);
		ev_kv_text(j, "after", r->after, r->after_len);
	}
	json_obj_close(j);
}

static void pkt_render_match(struct jbuf *j, const struct ev_packet_record *r)
{
	const struct pack *p = r->mi->pack;
	json_key(j, "match");
	json_obj_open(j);
	json_kv_u64(j, "length", r->length);
	int dist = matcher_pdq_distance(r->mi, r->text, r->text_len);
	if (dist >= 0)
		json_kv_u64(j, "distance", (uint64_t)dist);
	ev_render_lookalike(j, r->mi, r->text, r->text_len);
	if (r->has_offset)
		json_kv_u64(j, "offset", r->offset);
	if (r->has_body) {
		json_key(j, "body");
		json_obj_open(j);
		json_kv_u64(j, "length", r->body_length);
		json_kv_str(j, "content_encoding", r->content_encoding);
		if (r->body_as_sent)
			json_kv_bool(j, "as_sent", true);
		json_obj_close(j);
	}
	if (ev_category_withholds_content(p->category)) {
		/* Location and hash only: no byte of the content leaves the input. */
		json_kv_bool(j, "content_withheld", true);
	} else {
		ev_kv_text(j, "text", r->text, r->text_len);
		pkt_render_context(j, r);
	}
	json_obj_close(j);
}

void ev_render_flow(struct jbuf *j, const struct ev_flow *f, const char *direction)
{
	json_key(j, "flow");
	json_obj_open(j);
	json_kv_str(j, "src_ip", f->src_ip);
	json_kv_u64(j, "src_port", f->src_port);
	json_kv_str(j, "dest_ip", f->dest_ip);
	json_kv_u64(j, "dest_port", f->dest_port);
	if (f->proto == 6)
		json_kv_str(j, "proto", "TCP");
	else if (f->proto == 17)
		json_kv_str(j, "proto", "UDP");
	else
		json_kv_u64(j, "proto", f->proto);
	json_kv_str(j, "community_id", f->community_id);
	if (direction)
		json_kv_str(j, "direction", direction);
	json_obj_close(j);
}

static void pkt_render_flow(struct jbuf *j, const struct ev_packet_record *r)
{
	struct ev_flow f = {.src_ip = r->src_ip, .dest_ip = r->dest_ip, .src_port = r->src_port,
			    .dest_port = r->dest_port, .proto = r->proto,
			    .community_id = r->community_id};
	ev_render_flow(j, &f, r->to_client ? "to_client" : "to_server");
}

void ev_record_render_head(struct jbuf *j, const char *run_id, uint64_t seq)
{
	char id[96];
	json_obj_open(j);
	json_kv_str(j, "prev", EV_PREV_PLACEHOLDER); /* linked by the writer */
	snprintf(id, sizeof(id), "%s:%llu", run_id, (unsigned long long)seq);
	json_kv_str(j, "record_id", id);
	json_kv_str(j, "run_id", run_id);
	json_kv_u64(j, "seq", seq);
	jbuf_raw(j, ",", 1);
	j->need_comma = false;
}

void ev_packet_record_render_body(struct jbuf *j, const struct ev_packet_record *r)
{
	j->need_comma = false;
	ev_render_common(j, &r->detected, r->mi);
	pkt_render_source(j, r);
	pkt_render_match(j, r);
	pkt_render_flow(j, r);
	json_kv_str(j, "field", r->field);
	if (r->pseudo)
		pseudo_json_minimisation(j, r->pseudo);
	json_obj_close(j);
}

void ev_packet_record_render(struct jbuf *j, const struct ev_packet_record *r)
{
	ev_record_render_head(j, r->run_id, r->seq);
	ev_packet_record_render_body(j, r);
}
