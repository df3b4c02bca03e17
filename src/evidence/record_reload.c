/* The record of a rule reload (include/cybersieve/ruleset.h). It is chained
 * and numbered like a match record, so the evidence shows which rules were
 * in force for each record, but it has no indicator: exports and the report
 * pass over it, and it counts as a record without a category. */
#include <string.h>

#include "cybersieve/evidence.h"
#include "cybersieve/ruleset.h"
#include "cybersieve/util.h"

static void render_set(struct jbuf *j, const char *key, const struct ev_ruleset *rs)
{
	json_key(j, key);
	if (rs)
		ev_ruleset_render(j, rs);
	else
		jbuf_raw(j, "null", 4);
	j->need_comma = true;
}

void ev_reload_record_render(struct jbuf *j, const struct ev_reload_record *r)
{
	char ts[40];
	util_rfc3339(&r->at, ts, sizeof(ts));
	ev_record_render_head(j, r->run_id, r->seq);
	json_kv_str(j, "time", ts);
	json_key(j, "tool");
	json_obj_open(j);
	json_kv_str(j, "name", EV_TOOL_NAME);
	json_kv_str(j, "version", CS_VERSION);
	json_obj_close(j);
	json_key(j, "event");
	json_obj_open(j);
	json_kv_str(j, "type", EV_RELOAD_EVENT);
	json_kv_str(j, "status", r->applied ? "applied" : "failed");
	json_kv_str(j, "requested", r->requested);
	json_kv_str(j, "ready", r->ready);
	if (r->reason)
		json_kv_bytes(j, "reason", (const uint8_t *)r->reason, strlen(r->reason));
	else
		json_kv_str(j, "reason", NULL);
	render_set(j, "rules_before", r->before);
	render_set(j, "rules_after", r->after);
	json_obj_close(j);
	json_obj_close(j);
}
