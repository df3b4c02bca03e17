/* Run summary as JSON and as text (include/cybersieve/summary.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cybersieve/summary.h"
#include "correlate/window_set.h"
#include "cybersieve/util.h"

/* Matches per category: categories are few, a linear table is enough. */
struct cat_count {
	const char *name;
	uint64_t n;
};

static size_t count_categories(const struct summary_info *s, struct cat_count *out, size_t cap)
{
	size_t n = 0;
	for (size_t p = 0; p < s->n_packs && n < cap; p++) {
		size_t k = 0;
		while (k < n && strcmp(out[k].name, s->packs[p]->category) != 0)
			k++;
		if (k == n)
			out[n++] = (struct cat_count){s->packs[p]->category, 0};
	}
	for (uint32_t i = 0; i < matcher_count(s->matcher); i++) {
		const struct matcher_ind *mi = matcher_get(s->matcher, i);
		for (size_t k = 0; k < n; k++)
			if (strcmp(out[k].name, mi->pack->category) == 0)
				out[k].n += s->res->ind_matches[i];
	}
	return n;
}

static void render_inputs(struct jbuf *j, const struct batch_result *r)
{
	char hex[65];
	json_key(j, "inputs");
	json_arr_open(j);
	for (size_t i = 0; i < r->n_inputs; i++) {
		const struct batch_input *in = &r->inputs[i];
		json_obj_open(j);
		json_key(j, "path");
		if (json_str(j, (const uint8_t *)in->path, strlen(in->path))) {
			j->need_comma = true;
			json_key(j, "path_b64");
			json_base64(j, (const uint8_t *)in->path, strlen(in->path));
		}
		j->need_comma = true;
		json_kv_str(j, "status", input_status_name(in->status));
		json_kv_str(j, "reason", in->reason);
		if (in->have_sha256) {
			util_hex(in->sha256, 32, hex);
			json_kv_str(j, "sha256", hex);
		} else {
			json_kv_str(j, "sha256", NULL);
		}
		json_kv_bool(j, "gzip", in->gzip);
		if (in->gzip) {
			json_kv_u64(j, "gzip_members", in->gz_members);
			json_kv_u64(j, "gzip_resyncs", in->gz_resyncs);
		}
		json_kv_str(j, "kind", in->capture ? "capture" : "log");
		if (in->capture) {
			json_kv_u64(j, "packets", in->packets);
			json_kv_u64(j, "packets_malformed", in->decode_bad);
			json_kv_u64(j, "flows", in->flows);
			json_kv_u64(j, "flow_evictions", in->flow_evictions);
			json_kv_u64(j, "flow_memory_peak", in->flow_mem_peak);
			json_kv_u64(j, "flow_memory_cap", in->flow_mem_cap);
			json_kv_u64(j, "tcp_gaps", in->tcp_gaps);
			json_kv_u64(j, "workers", in->workers);
		}
		json_kv_bool(j, "binary", in->binary);
		json_kv_u64(j, "raw_bytes", in->raw_bytes);
		json_kv_u64(j, "bytes", in->bytes);
		json_kv_u64(j, "lines", in->lines);
		json_kv_u64(j, "matches", in->matches);
		json_kv_u64(j, "lines_split", in->lines_split);
		json_kv_u64(j, "matches_dropped", in->hits_dropped);
		json_obj_close(j);
	}
	json_arr_close(j);
}

static void render_packs(struct jbuf *j, const struct summary_info *s)
{
	char hex[65];
	json_key(j, "packs");
	json_arr_open(j);
	for (size_t p = 0; p < s->n_packs; p++) {
		const struct pack *pk = s->packs[p];
		json_obj_open(j);
		json_kv_str(j, "name", pk->name);
		json_kv_str(j, "path", pk->path);
		json_kv_str(j, "category", pk->category);
		util_hex(pk->digest, 32, hex);
		json_kv_str(j, "sha256", hex);
		json_kv_u64(j, "indicators", pk->n_ind);
		json_kv_str(j, "tlp", pk->tlp);
		json_kv_str(j, "licence", pk->licence);
		if (pk->format) {
			/* a feed: what it was read as, and how many entries were not
			 * loaded (stderr lists the first lines of each reason) */
			json_kv_str(j, "format", pk->format);
			json_kv_u64(j, "refused", pk->refused);
		}
		json_obj_close(j);
	}
	json_arr_close(j);
	json_key(j, "pack_errors");
	json_arr_open(j);
	for (size_t i = 0; i < s->n_pack_errors; i++)
		json_elem_str(j, s->pack_errors[i].where);
	json_arr_close(j);
}

static void input_counts(const struct batch_result *r, size_t n[3])
{
	n[0] = n[1] = n[2] = 0;
	for (size_t i = 0; i < r->n_inputs; i++)
		n[r->inputs[i].status]++;
}

/* Per window rule: firings and what its state cap and clock cost. */
static void render_windows(struct jbuf *j, const struct window_set *ws)
{
	if (!ws)
		return;
	struct window_stats st;
	window_engine_stats(ws->eng, &st);
	json_key(j, "window_rules");
	json_obj_open(j);
	json_kv_u64(j, "lines", st.lines);
	json_kv_u64(j, "records", st.records);
	json_kv_u64(j, "records_lost_nomem", st.nomem);
	json_kv_u64(j, "state_bytes_peak", st.bytes_peak);
	json_key(j, "rules");
	json_arr_open(j);
	for (size_t i = 0; i < ws->n; i++) {
		struct window_rule_stats rs;
		window_engine_rule_stats(ws->eng, i, &rs);
		json_obj_open(j);
		json_kv_str(j, "id", ws->ids[i]);
		json_kv_u64(j, "fired", rs.fired);
		json_kv_u64(j, "qualified", rs.qualified);
		json_kv_u64(j, "late", rs.late);
		json_kv_u64(j, "no_time", rs.no_time);
		json_kv_u64(j, "oversize", rs.oversize);
		json_kv_u64(j, "evicted_cap", rs.evicted_cap);
		json_kv_u64(j, "evicted_age", rs.evicted_age);
		json_kv_u64(j, "records_dropped", rs.dropped);
		json_kv_u64(j, "keys_held", rs.keys);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_obj_close(j);
}

void summary_render_json(struct jbuf *j, const struct summary_info *s)
{
	const struct batch_result *r = s->res;
	struct cat_count cats[64];
	size_t nc = count_categories(s, cats, 64);
	size_t st[3];
	input_counts(r, st);
	json_obj_open(j);
	json_kv_str(j, "run_id", s->run_id);
	json_key(j, "tool");
	json_obj_open(j);
	json_kv_str(j, "name", "cybersieve");
	json_kv_str(j, "version", CS_VERSION);
	json_obj_close(j);
	json_kv_str(j, "started", s->started);
	json_kv_str(j, "finished", s->finished);
	json_kv_str(j, "command_line", s->command_line);
	json_kv_str(j, "inflate_engine", s->inflate_engine);
	json_kv_u64(j, "threads", s->threads);
	json_kv_u64(j, "exit_code", (uint64_t)s->exit_code);
	json_kv_bool(j, "output_failed", r->output_failed);
	json_kv_u64(j, "matches", r->matches);
	json_key(j, "matches_by_category");
	json_obj_open(j);
	for (size_t i = 0; i < nc; i++)
		json_kv_u64(j, cats[i].name, cats[i].n);
	json_obj_close(j);
	json_kv_u64(j, "inputs_complete", st[INPUT_COMPLETE]);
	json_kv_u64(j, "inputs_partial", st[INPUT_PARTIAL]);
	json_kv_u64(j, "inputs_failed", st[INPUT_FAILED]);
	json_kv_u64(j, "raw_bytes", r->raw_bytes);
	json_kv_u64(j, "bytes", r->bytes);
	json_kv_u64(j, "lines", r->lines);
	json_kv_f64(j, "seconds", r->seconds);
	json_kv_f64(j, "mb_per_s", r->seconds > 0 ? (double)r->bytes / 1e6 / r->seconds : 0);
	json_kv_u64(j, "indicators_suppressed", s->indicators_suppressed);
	json_kv_u64(j, "rule_records", r->rule_records);
	json_kv_u64(j, "rules_held_partial", r->rules_held_partial);
	render_windows(j, s->windows);
	render_packs(j, s);
	render_inputs(j, r);
	json_obj_close(j);
}

static void textf(struct jbuf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void textf(struct jbuf *out, const char *fmt, ...)
{
	char tmp[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		jbuf_raw(out, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

void summary_render_text(struct jbuf *out, const struct summary_info *s)
{
	const struct batch_result *r = s->res;
	struct cat_count cats[64];
	size_t nc = count_categories(s, cats, 64);
	size_t st[3];
	input_counts(r, st);
	textf(out, "cybersieve %s run %s\n", CS_VERSION, s->run_id);
	textf(out, "  packs: %zu loaded, %zu refused; %zu indicators\n", s->n_packs,
	      s->n_pack_errors, matcher_count(s->matcher));
	textf(out, "  inputs: %zu (%zu complete, %zu partial, %zu failed)\n", r->n_inputs,
	      st[INPUT_COMPLETE], st[INPUT_PARTIAL], st[INPUT_FAILED]);
	for (size_t i = 0; i < r->n_inputs; i++) {
		const struct batch_input *in = &r->inputs[i];
		if (in->status != INPUT_COMPLETE)
			textf(out, "    %s: %s: %s\n", input_status_name(in->status), in->path,
			      in->reason ? in->reason : "");
	}
	textf(out, "  read: %.1f MB (%.1f MB decompressed), %llu lines in %.2f s, %.1f MB/s\n",
	      (double)r->raw_bytes / 1e6, (double)r->bytes / 1e6, (unsigned long long)r->lines,
	      r->seconds, r->seconds > 0 ? (double)r->bytes / 1e6 / r->seconds : 0.0);
	textf(out, "  matches: %llu", (unsigned long long)r->matches);
	for (size_t i = 0; i < nc; i++)
		textf(out, "%s%s %llu", i ? ", " : " (", cats[i].name, (unsigned long long)cats[i].n);
	textf(out, "%s\n", nc ? ")" : "");
	if (r->rules_held_partial)
		textf(out, "  rules held back: %llu (with a NOT, where matches were lost)\n",
		      (unsigned long long)r->rules_held_partial);
	if (s->windows) {
		uint64_t fired = 0, late = 0, no_time = 0, cap = 0, age = 0;
		for (size_t i = 0; i < s->windows->n; i++) {
			struct window_rule_stats rs;
			window_engine_rule_stats(s->windows->eng, i, &rs);
			fired += rs.fired;
			late += rs.late;
			no_time += rs.no_time;
			cap += rs.evicted_cap;
			age += rs.evicted_age;
		}
		textf(out, "  window rules: %zu, fired %llu; records late %llu, without time %llu; "
			   "keys evicted %llu (cap), %llu (age)\n",
		      s->windows->n, (unsigned long long)fired, (unsigned long long)late,
		      (unsigned long long)no_time, (unsigned long long)cap, (unsigned long long)age);
	}
	if (s->out_dir)
		textf(out, "  evidence: %s/records.ndjson, summary: %s/summary.json\n", s->out_dir,
		      s->out_dir);
	if (r->output_failed) {
		char tmp[1200];
		cs_diag_format(&r->output_diag, tmp, sizeof(tmp));
		textf(out, "  OUTPUT FAILED: %s\n", tmp);
	}
}
