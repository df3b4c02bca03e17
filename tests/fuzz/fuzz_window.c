/* Fuzz target: window rules and the record readers under them. The input's
 * first line is a rule spec; every later line is a record fed to an engine
 * with small caps (JSON, CSV, key=value, Zeek and the time formats are all
 * reached from here). Every fire must name records that were fed, in time
 * order, and the state must stay within its byte cap. */
#include <string.h>

#include "correlate/window.h"
#include "fuzz.h"

struct fed {
	uint64_t lines;
};

static void on_fire(void *user, const struct window_fire *f)
{
	const struct fed *fed = user;
	FUZZ_CHECK(f->rule == 0 && f->n_recs >= 1);
	for (size_t i = 0; i < f->n_recs; i++) {
		FUZZ_CHECK(f->recs[i].ref.line >= 1 && f->recs[i].ref.line <= fed->lines);
		if (i && f->agg != WINDOW_PASSTHROUGH)
			FUZZ_CHECK(f->recs[i - 1].time_ms <= f->recs[i].time_ms);
	}
	FUZZ_CHECK(f->start_ms <= f->end_ms);
	FUZZ_CHECK(memchr(f->value, '\0', sizeof(f->value)) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t rn = nl ? (size_t)(nl - data) : size;
	struct window_rule *r = NULL;
	struct cs_diag d;
	cs_diag_clear(&d);
	if (window_rule_parse((const char *)data, rn, &r, &d) != CS_OK) {
		FUZZ_CHECK(r == NULL && memchr(d.msg, '\0', sizeof(d.msg)) != NULL);
		return 0;
	}
	struct window_limits lim = {.max_keys = 8, .max_records = 64, .max_bytes = 1u << 16};
	const struct window_rule *rules[1] = {r};
	const char *ids[1] = {"w"};
	struct window_engine *e = NULL;
	if (window_engine_create(rules, ids, 1, &lim, 2026, &e, &d) != CS_OK) {
		window_rule_destroy(r);
		return 0;
	}
	const char *matched[1] = {"m"};
	struct fed fed = {0};
	window_input_begin(e, 0);
	const uint8_t *p = nl ? nl + 1 : data + size, *end = data + size;
	uint64_t off = 0;
	while (p < end) {
		const uint8_t *q = memchr(p, '\n', (size_t)(end - p));
		size_t n = q ? (size_t)(q - p) : (size_t)(end - p);
		fed.lines++;
		struct window_ref ref = {.input = 0, .line = fed.lines, .offset = off,
					 .len = (uint32_t)n};
		(void)window_feed(e, (const char *)p, n, &ref, (n & 1) ? matched : NULL,
				  (n & 1) ? 1 : 0, on_fire, &fed);
		struct window_stats st;
		window_engine_stats(e, &st);
		FUZZ_CHECK(st.bytes_held <= lim.max_bytes);
		off += n + 1;
		p += n + 1;
	}
	window_input_end(e);
	window_engine_destroy(e);
	window_rule_destroy(r);
	return 0;
}
