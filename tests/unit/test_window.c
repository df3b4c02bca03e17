/* Unit tests for window rules: the spec parser (and its refusals, each
 * naming the column), and the engine at every boundary: window edges
 * (exactly `within` apart vs one second more), thresholds (N-1 vs N),
 * amounts at the range bounds, out-of-order records within and beyond the
 * slack, eviction by key cap, byte budget and age, record cap, each record
 * format and time format, pass-through order, consumption of fired records,
 * count vs distinct vs sum, indicator-match conditions, several inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "correlate/window.h"

#define T0 1709251200LL /* 2024-03-01T00:00:00Z */
#define MIN 60LL
#define HOUR 3600LL
#define MAX_FIRES 64

struct fired {
	uint32_t rule;
	char key[64];
	char value[48];
	int64_t start_ms, end_ms;
	size_t n;
	uint64_t line[32];
	uint32_t input[32];
	int64_t time_ms[32];
};

struct run {
	struct window_engine *e;
	struct window_rule *rules[8];
	size_t n_rules;
	struct fired f[MAX_FIRES];
	size_t n_fired;
	uint64_t line;
	uint32_t input;
};

static void on_fire(void *user, const struct window_fire *f)
{
	struct run *r = user;
	assert_true(r->n_fired < MAX_FIRES);
	struct fired *x = &r->f[r->n_fired++];
	x->rule = f->rule;
	assert_true(f->key_len < sizeof(x->key));
	memcpy(x->key, f->key, f->key_len);
	x->key[f->key_len] = '\0';
	snprintf(x->value, sizeof(x->value), "%s", f->value);
	x->start_ms = f->start_ms;
	x->end_ms = f->end_ms;
	assert_true(f->n_recs <= 32);
	x->n = f->n_recs;
	for (size_t i = 0; i < f->n_recs; i++) {
		x->line[i] = f->recs[i].ref.line;
		x->input[i] = f->recs[i].ref.input;
		x->time_ms[i] = f->recs[i].time_ms;
		/* every record is in time order */
		if (i)
			assert_true(f->recs[i].time_ms >= f->recs[i - 1].time_ms);
	}
	assert_int_equal(f->start_ms, f->recs[0].time_ms);
	assert_int_equal(f->end_ms, f->recs[f->n_recs - 1].time_ms);
}

static struct window_rule *parse_ok(const char *spec)
{
	struct window_rule *r = NULL;
	struct cs_diag d;
	cs_diag_clear(&d);
	if (window_rule_parse(spec, strlen(spec), &r, &d) != CS_OK)
		fail_msg("'%s' refused: %s", spec, d.msg);
	return r;
}

/* An engine over the given specs (ids "r0", "r1", ...), input 0 begun. */
static void start(struct run *r, const char *const *specs, size_t n,
		  const struct window_limits *lim)
{
	memset(r, 0, sizeof(*r));
	static const char *const ids[] = { "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7" };
	for (size_t i = 0; i < n; i++)
		r->rules[i] = parse_ok(specs[i]);
	r->n_rules = n;
	struct cs_diag d;
	cs_diag_clear(&d);
	if (window_engine_create((const struct window_rule *const *)r->rules, ids, n, lim, 2024,
				 &r->e, &d) != CS_OK)
		fail_msg("engine refused: %s", d.msg);
	window_input_begin(r->e, 0);
}

static void start1(struct run *r, const char *spec)
{
	start(r, &spec, 1, NULL);
}

static void stop(struct run *r)
{
	window_input_end(r->e);
	window_engine_destroy(r->e);
	for (size_t i = 0; i < r->n_rules; i++)
		window_rule_destroy(r->rules[i]);
}

static void next_input(struct run *r)
{
	window_input_end(r->e);
	r->input++;
	r->line = 0;
	window_input_begin(r->e, r->input);
}

static void feedm(struct run *r, const char *line, const char *const *matched, size_t n)
{
	struct window_ref ref = { .input = r->input, .line = ++r->line, .offset = r->line * 100,
				  .len = (uint32_t)strlen(line) };
	assert_int_equal(window_feed(r->e, line, strlen(line), &ref, matched, n, on_fire, r), CS_OK);
}

static void feed(struct run *r, const char *line)
{
	feedm(r, line, NULL, 0);
}

/* A JSON transfer at T0 + sec. */
static void tx(struct run *r, int64_t sec, const char *from, const char *to, const char *amount)
{
	char line[256];
	snprintf(line, sizeof(line),
		 "{\"ts\":%lld,\"from\":\"%s\",\"to\":\"%s\",\"amount\":\"%s\",\"cur\":\"EUR\"}",
		 (long long)(T0 + sec), from, to, amount);
	feed(r, line);
}

static struct window_rule_stats rstats(struct run *r, size_t i)
{
	struct window_rule_stats st;
	window_engine_rule_stats(r->e, i, &st);
	return st;
}

static void expect_lines(const struct fired *f, const uint64_t *lines, size_t n)
{
	assert_int_equal(f->n, n);
	for (size_t i = 0; i < n; i++)
		if (f->line[i] != lines[i])
			fail_msg("record %zu: line %llu, expected %llu", i,
				 (unsigned long long)f->line[i], (unsigned long long)lines[i]);
}

#define STRUCTURING "key=from when=amount:9000..9999.99 count>=3 within=24h"

/* ---- parser ---- */

static void refused(const char *spec, const char *want)
{
	struct window_rule *r = (struct window_rule *)1;
	struct cs_diag d;
	cs_diag_clear(&d);
	enum cs_err err = window_rule_parse(spec, strlen(spec), &r, &d);
	if (err != CS_ERR_PARSE)
		fail_msg("'%s' not refused (%d)", spec, err);
	assert_null(r);
	if (!strstr(d.msg, want))
		fail_msg("'%s': message '%s' does not say '%s'", spec, d.msg, want);
}

static void test_parse(void **state)
{
	(void)state;
	struct window_rule *r = parse_ok(STRUCTURING " slack=5m");
	assert_int_equal(window_rule_agg(r), WINDOW_COUNT);
	assert_int_equal(window_rule_within_ms(r), 24 * HOUR * 1000);
	assert_int_equal(window_rule_slack_ms(r), 5 * MIN * 1000);
	window_rule_destroy(r);
	r = parse_ok("  passthrough\tin=to out=from within=10m  ");
	assert_int_equal(window_rule_agg(r), WINDOW_PASSTHROUGH);
	assert_int_equal(window_rule_slack_ms(r), 0);
	window_rule_destroy(r);
	r = parse_ok("key=\"re:1:acct (.+) paid\" when=\"re:1:paid ([0-9.]+)\":1.. count>=2 "
		     "within=1h");
	window_rule_destroy(r);
	r = parse_ok("key=from when=memo=\"wire fee\" when=\"odd:name\"!=x "
		     "when=match:scam-1 sum(amount)>=10,000.50 within=1d");
	assert_int_equal(window_rule_agg(r), WINDOW_SUM);
	window_rule_destroy(r);
	r = parse_ok("key=re:1:from=([A-Z]+) distinct(re:2:(to)=([A-Z]+))>=10 within=90s");
	assert_int_equal(window_rule_agg(r), WINDOW_DISTINCT);
	assert_int_equal(window_rule_within_ms(r), 90000);
	window_rule_destroy(r);
	window_rule_destroy(NULL);

	refused("", "missing key=FIELD");
	refused("key=a within=1h", "missing aggregate");
	refused("key=a count>=3", "missing within=DURATION");
	refused("key=a count>=3 within=1h foo=2", "column 26 (`foo=2`): unknown setting `foo`");
	refused("key=a count>=3 within=1x", "column 16 (`within=1x`): bad duration `1x`");
	refused("key=a count>=3 within=0s", "more than 0");
	refused("key=a count>=3 within=h", "bad duration");
	refused("key=a count>=3 within=1.5h", "bad duration");
	refused("key=a count>=3 within=9999d", "too long");
	refused("key=a count>=3 within=1h slack=-1s", "bad duration");
	refused("key=a count>=0 within=1h", "column 7 (`count>=0`): count>= needs a whole number");
	refused("key=a count>=x within=1h", "count>= needs");
	refused("key=a count>=3 count>=4 within=1h", "column 16 (`count>=4`): a second aggregate");
	refused("key=a sum(amount)>=0 within=1h", "above 0");
	refused("key=a sum(amount>=5 within=1h", "sum(FIELD)>=X");
	refused("key=a sum()>=5 within=1h", "empty sum field");
	refused("key=a distinct(to)>=1.5 within=1h", "distinct(...)>= needs");
	refused("key=a key=b count>=3 within=1h", "column 7 (`key=b`): key= given twice");
	refused("key= count>=3 within=1h", "empty key field");
	refused("key=a count>=3 within=1h within=2h", "within= given twice");
	refused("key=a count>=3 within=1h when=amount", "condition must be");
	refused("key=a count>=3 within=1h when=amount:", "range must be LO..HI");
	refused("key=a count>=3 within=1h when=amount:..", "at least one bound");
	refused("key=a count>=3 within=1h when=amount:9,99..10", "bad lower bound `9,99`");
	refused("key=a count>=3 within=1h when=amount:1..x", "bad upper bound `x`");
	refused("key=a count>=3 within=1h when=amount:10..1", "lower bound above upper");
	refused("key=a count>=3 within=1h when=cur=", "empty value");
	refused("key=a count>=3 within=1h when=:5", "no field");
	refused("key=a count>=3 within=1h when=match:", "needs an indicator id");
	refused("key=a count>=3 within=1h when=re:1:(x):1..2", "must be quoted");
	refused("key=\"re:2:(a)\" count>=3 within=1h", "column 1 (`key=\"re:2:(a)\"`): key field: "
						     "regex `(a)` has 1 group(s)");
	refused("key=\"re:1:((\" count>=3 within=1h", "refused");
	refused("key=\"a b count>=3 within=1h", "column 1 (`key=\"a b count>=3 within=1h`): "
						"unterminated quote");
	refused("passthrough in=a within=1h", "passthrough needs in=FIELD and out=FIELD");
	refused("passthrough in=a out=b key=c within=1h", "not key=");
	refused("passthrough in=a out=b count>=2 within=1h", "passthrough takes no aggregate");
	refused("in=a out=b within=1h passthrough", "passthrough must be the first word");
	refused("key=a in=b count>=2 within=1h", "belong to passthrough");
	refused("key=a count>=3 within=1h word", "expected name=value");
	char nul[] = "key=a count>=3 within=1h";
	nul[5] = '\0';
	struct window_rule *x;
	struct cs_diag d;
	assert_int_equal(window_rule_parse(nul, sizeof(nul) - 1, &x, &d), CS_ERR_PARSE);
	assert_non_null(strstr(d.msg, "NUL"));
}

static void test_engine_refusals(void **state)
{
	(void)state;
	struct window_rule *r = parse_ok("key=a count>=11 within=1h");
	const struct window_rule *rules[] = { r };
	const char *ids[] = { "big" };
	struct window_limits lim;
	window_limits_default(&lim);
	lim.max_records = 10;
	struct window_engine *e = NULL;
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(window_engine_create(rules, ids, 1, &lim, 2024, &e, &d), CS_ERR_INVALID);
	assert_null(e);
	assert_non_null(strstr(d.msg, "rule 0 (big): threshold 11 above max_records 10"));
	lim.max_records = 11;
	assert_int_equal(window_engine_create(rules, ids, 1, &lim, 2024, &e, &d), CS_OK);
	/* feeding outside an input is refused */
	struct window_ref ref = { 0 };
	assert_int_equal(window_feed(e, "x", 1, &ref, NULL, 0, NULL, NULL), CS_ERR_INVALID);
	window_engine_destroy(e);
	lim.max_keys = 0;
	assert_int_equal(window_engine_create(rules, ids, 1, &lim, 2024, &e, &d), CS_ERR_INVALID);
	window_rule_destroy(r);
	window_engine_destroy(NULL);
}

/* ---- thresholds, amounts, window edges ---- */

static void test_structuring(void **state)
{
	(void)state;
	struct run r;
	start1(&r, STRUCTURING);
	tx(&r, 0, "A", "X", "8999.99");    /* below */
	tx(&r, 10, "A", "X", "10000");     /* above */
	tx(&r, 20, "A", "X", "10,000.00"); /* above */
	tx(&r, 30, "A", "X", "9000");      /* 4: low bound */
	tx(&r, 40, "B", "X", "9500");      /* other key */
	tx(&r, 50, "A", "X", "9999.99");   /* 6: high bound */
	tx(&r, 55, "A", "X", "not a number");
	assert_int_equal(r.n_fired, 0);    /* N-1 */
	tx(&r, 60, "A", "X", "9,500.00");  /* 8: N */
	assert_int_equal(r.n_fired, 1);
	const uint64_t want[] = { 4, 6, 8 };
	expect_lines(&r.f[0], want, 3);
	assert_string_equal(r.f[0].key, "A");
	assert_string_equal(r.f[0].value, "3");
	assert_int_equal(r.f[0].rule, 0);
	assert_int_equal(r.f[0].start_ms, (T0 + 30) * 1000);
	assert_int_equal(r.f[0].end_ms, (T0 + 60) * 1000);
	struct window_rule_stats st = rstats(&r, 0);
	assert_int_equal(st.qualified, 4);
	assert_int_equal(st.fired, 1);
	assert_int_equal(st.keys, 1); /* B remains; A was consumed whole */
	stop(&r);
}

static void test_window_edges(void **state)
{
	(void)state;
	struct run r;
	/* exactly 24 h from first to last: one window */
	start1(&r, STRUCTURING);
	tx(&r, 0, "A", "X", "9500");
	tx(&r, 12 * HOUR, "A", "X", "9500");
	tx(&r, 24 * HOUR, "A", "X", "9500");
	assert_int_equal(r.n_fired, 1);
	stop(&r);
	/* one second more: no window holds all three */
	start1(&r, STRUCTURING);
	tx(&r, 0, "A", "X", "9500");
	tx(&r, 12 * HOUR, "A", "X", "9500");
	tx(&r, 24 * HOUR + 1, "A", "X", "9500");
	assert_int_equal(r.n_fired, 0);
	/* ... but the last two with a fourth do */
	tx(&r, 30 * HOUR, "A", "X", "9500");
	assert_int_equal(r.n_fired, 1);
	const uint64_t want[] = { 2, 3, 4 };
	expect_lines(&r.f[0], want, 3);
	stop(&r);
	/* millisecond times: 1 ms over the edge is over */
	start1(&r, "key=from count>=2 within=1s");
	feed(&r, "{\"ts\":1709251200000,\"from\":\"A\"}");
	feed(&r, "{\"ts\":1709251201001,\"from\":\"A\"}");
	assert_int_equal(r.n_fired, 0);
	feed(&r, "{\"ts\":1709251202001,\"from\":\"A\"}");
	assert_int_equal(r.n_fired, 1);
	assert_int_equal(r.f[0].end_ms - r.f[0].start_ms, 1000);
	stop(&r);
}

static void test_consumed(void **state)
{
	(void)state;
	struct run r;
	start1(&r, STRUCTURING);
	for (int i = 0; i < 6; i++)
		tx(&r, i * MIN, "A", "X", "9500");
	assert_int_equal(r.n_fired, 2);
	const uint64_t a[] = { 1, 2, 3 }, b[] = { 4, 5, 6 };
	expect_lines(&r.f[0], a, 3);
	expect_lines(&r.f[1], b, 3);
	tx(&r, 7 * MIN, "A", "X", "9500");
	tx(&r, 8 * MIN, "A", "X", "9500");
	assert_int_equal(r.n_fired, 2);
	assert_int_equal(rstats(&r, 0).fired, 2);
	stop(&r);
}

static void test_count_distinct_sum(void **state)
{
	(void)state;
	struct run r;
	const char *specs[] = { "key=from distinct(to)>=4 within=1h",
				"key=from count>=4 within=1h",
				"key=from sum(amount)>=10000 within=1h",
				"key=to distinct(from)>=3 within=1h" };
	start(&r, specs, 4, NULL);
	tx(&r, 0, "S", "W1", "4000");
	tx(&r, 60, "S", "W1", "4000.25");
	assert_int_equal(r.n_fired, 0);
	tx(&r, 120, "S", "W2", "1999.75");
	/* sum reached exactly 10000 on the third record */
	assert_int_equal(r.n_fired, 1);
	assert_int_equal(r.f[0].rule, 2);
	assert_string_equal(r.f[0].value, "10000");
	tx(&r, 180, "S", "W2", "1");
	/* count fires on the fourth, distinct has only 2 */
	assert_int_equal(r.n_fired, 2);
	assert_int_equal(r.f[1].rule, 1);
	assert_string_equal(r.f[1].value, "4");
	tx(&r, 240, "S", "W3", "1");
	assert_int_equal(r.n_fired, 2);
	tx(&r, 300, "S", "W4", "1.5");
	/* fourth distinct destination: all six records contribute */
	assert_int_equal(r.n_fired, 3);
	assert_int_equal(r.f[2].rule, 0);
	assert_string_equal(r.f[2].value, "4");
	const uint64_t all[] = { 1, 2, 3, 4, 5, 6 };
	expect_lines(&r.f[2], all, 6);
	/* fan-in: three sources into W9; case matters for distinct values */
	tx(&r, 400, "P", "W9", "1");
	tx(&r, 410, "p", "W9", "1");
	tx(&r, 420, "P", "W9", "1");
	assert_int_equal(r.n_fired, 3);
	tx(&r, 430, "Q", "W9", "1");
	assert_int_equal(r.n_fired, 4);
	assert_int_equal(r.f[3].rule, 3);
	assert_string_equal(r.f[3].key, "W9");
	assert_string_equal(r.f[3].value, "3");
	stop(&r);

	/* a sum with a fraction, not reached by records outside the window */
	start1(&r, "key=from sum(amount)>=10000.5 within=1h");
	tx(&r, 0, "S", "X", "9000");
	tx(&r, HOUR + 1, "S", "X", "1000.5");
	assert_int_equal(r.n_fired, 0);
	tx(&r, HOUR + 2, "S", "X", "9000");
	assert_int_equal(r.n_fired, 1);
	assert_string_equal(r.f[0].value, "10000.5");
	tx(&r, HOUR + 3, "S", "X", "10,000.50");
	assert_int_equal(r.n_fired, 2);
	assert_string_equal(r.f[1].value, "10000.5");
	stop(&r);
}

/* ---- time order ---- */

static void test_out_of_order(void **state)
{
	(void)state;
	struct run r;
	start1(&r, STRUCTURING " slack=5m");
	tx(&r, 10 * MIN, "A", "X", "9500");
	tx(&r, 5 * MIN, "A", "X", "9500"); /* exactly clock - slack: on time */
	tx(&r, 7 * MIN, "A", "X", "9500");
	assert_int_equal(r.n_fired, 1);
	const uint64_t want[] = { 2, 3, 1 }; /* time order */
	expect_lines(&r.f[0], want, 3);
	assert_int_equal(r.f[0].start_ms, (T0 + 5 * MIN) * 1000);
	assert_int_equal(rstats(&r, 0).late, 0);
	tx(&r, 20 * MIN, "A", "X", "9500");
	tx(&r, 15 * MIN - 1, "A", "X", "9500"); /* 1 s beyond the slack: late */
	tx(&r, 16 * MIN, "A", "X", "9500");
	assert_int_equal(r.n_fired, 1);
	struct window_rule_stats st = rstats(&r, 0);
	assert_int_equal(st.late, 1);
	assert_int_equal(st.qualified, 6);
	tx(&r, 17 * MIN, "A", "X", "9500");
	assert_int_equal(r.n_fired, 2);
	const uint64_t want2[] = { 6, 7, 4 };
	expect_lines(&r.f[1], want2, 3);
	stop(&r);

	/* without slack= every step back is late */
	start1(&r, STRUCTURING);
	tx(&r, 10, "A", "X", "9500");
	tx(&r, 9, "A", "X", "9500");
	tx(&r, 10, "A", "X", "9500"); /* same time: not late */
	assert_int_equal(rstats(&r, 0).late, 1);
	stop(&r);

	/* an out-of-order record may complete a window ahead of it in time,
	 * and the earliest window is the one fired */
	start1(&r, "key=from count>=3 within=10m slack=1h");
	tx(&r, 30 * MIN, "A", "X", "1");
	tx(&r, 38 * MIN, "A", "X", "1");
	tx(&r, 10 * MIN, "A", "X", "1");
	tx(&r, 19 * MIN, "A", "X", "1");
	assert_int_equal(r.n_fired, 0);
	tx(&r, 25 * MIN, "A", "X", "1");
	/* windows holding 25m: [19m,29m] = {19,25}; [25m,35m] = {25,30}... none of 3;
	 * then 28m completes [19m,29m] */
	assert_int_equal(r.n_fired, 0);
	tx(&r, 28 * MIN, "A", "X", "1");
	assert_int_equal(r.n_fired, 1);
	const uint64_t want3[] = { 4, 5, 6 };
	expect_lines(&r.f[0], want3, 3);
	tx(&r, 31 * MIN, "A", "X", "1");
	assert_int_equal(r.n_fired, 2);
	const uint64_t want4[] = { 1, 7, 2 };
	expect_lines(&r.f[1], want4, 3);
	stop(&r);
}

static void test_inputs(void **state)
{
	(void)state;
	struct run r;
	start1(&r, STRUCTURING);
	tx(&r, 2 * HOUR, "A", "X", "9500");
	tx(&r, 3 * HOUR, "A", "X", "9500");
	next_input(&r);
	/* the clock is per input: an earlier time in a new input is not late,
	 * and the keys of the first input are still there */
	tx(&r, 1 * HOUR, "A", "X", "9500");
	assert_int_equal(rstats(&r, 0).late, 0);
	assert_int_equal(r.n_fired, 1);
	assert_int_equal(r.f[0].input[0], 1);
	assert_int_equal(r.f[0].line[0], 1);
	assert_int_equal(r.f[0].input[1], 0);
	assert_int_equal(r.f[0].line[1], 1);
	assert_int_equal(r.f[0].input[2], 0);
	assert_int_equal(r.f[0].line[2], 2);
	struct window_stats st;
	window_engine_stats(r.e, &st);
	assert_int_equal(st.lines, 3);
	assert_int_equal(st.records, 3);
	stop(&r);
}

/* ---- caps and age ---- */

static void test_evict_cap(void **state)
{
	(void)state;
	struct run r;
	struct window_limits lim;
	window_limits_default(&lim);
	lim.max_keys = 2;
	const char *spec = STRUCTURING;
	start(&r, &spec, 1, &lim);
	tx(&r, 0, "A", "X", "9500");
	tx(&r, 1, "A", "X", "9500");
	tx(&r, 2, "B", "X", "9500");
	tx(&r, 3, "C", "X", "9500"); /* third key: A (oldest newest record) goes */
	struct window_rule_stats st = rstats(&r, 0);
	assert_int_equal(st.evicted_cap, 1);
	assert_int_equal(st.keys, 2);
	tx(&r, 4, "A", "X", "9500"); /* A starts again (and B, now oldest, goes) */
	assert_int_equal(r.n_fired, 0);
	assert_int_equal(rstats(&r, 0).evicted_cap, 2);
	tx(&r, 5, "A", "X", "9500");
	tx(&r, 6, "A", "X", "9500");
	assert_int_equal(r.n_fired, 1);
	const uint64_t want[] = { 5, 6, 7 };
	expect_lines(&r.f[0], want, 3);
	stop(&r);

	/* the record cap drops a key's oldest record */
	lim.max_keys = 10;
	lim.max_records = 3;
	spec = "key=from sum(amount)>=100 within=1h";
	start(&r, &spec, 1, &lim);
	for (int i = 0; i < 5; i++)
		tx(&r, i, "A", "X", "20");
	assert_int_equal(rstats(&r, 0).dropped, 2);
	tx(&r, 5, "A", "X", "40"); /* 20+20+40 held: 80 */
	assert_int_equal(r.n_fired, 0);
	tx(&r, 6, "A", "X", "60"); /* 20+40+60 */
	assert_int_equal(r.n_fired, 1);
	const uint64_t want2[] = { 5, 6, 7 };
	expect_lines(&r.f[0], want2, 3);
	stop(&r);
}

static void test_evict_bytes(void **state)
{
	(void)state;
	struct run r;
	struct window_limits lim;
	window_limits_default(&lim);
	/* Room for the index and a few keys only (about 6 KiB of index, 200
	 * bytes a key): the oldest goes first, across rules too. */
	lim.max_bytes = 7400;
	const char *specs[] = { STRUCTURING, "key=to count>=3 within=24h" };
	start(&r, specs, 2, &lim);
	char key[8];
	for (int i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "K%d", i);
		tx(&r, i, key, key, "9500");
	}
	struct window_stats st;
	window_engine_stats(r.e, &st);
	assert_true(st.bytes_held <= lim.max_bytes + 512); /* index growth may pass it a little */
	uint64_t ev = rstats(&r, 0).evicted_cap + rstats(&r, 1).evicted_cap;
	assert_true(ev > 0);
	assert_int_equal(rstats(&r, 0).keys + rstats(&r, 1).keys + ev, 40);
	assert_true(rstats(&r, 0).keys >= 2 && rstats(&r, 1).keys >= 2);
	assert_int_equal(rstats(&r, 0).dropped + rstats(&r, 1).dropped, 0);
	/* the newest keys survive: K19 still fires on two more records */
	tx(&r, 30, "K19", "-", "9500");
	tx(&r, 31, "K19", "-", "9500");
	assert_int_equal(r.n_fired, 1);
	assert_string_equal(r.f[0].key, "K19");
	stop(&r);
}

static void test_evict_age(void **state)
{
	(void)state;
	struct run r;
	start1(&r, "key=from count>=3 within=1h slack=10m");
	tx(&r, 0, "A", "X", "1");
	tx(&r, 60, "A", "X", "1");
	tx(&r, 0, "B", "X", "1");
	/* newest of A is 60 s; it goes when the clock passes 60 + 1h + 10m */
	tx(&r, 60 + HOUR + 10 * MIN, "C", "X", "1");
	assert_int_equal(rstats(&r, 0).evicted_age, 1); /* B only */
	tx(&r, 61 + HOUR + 10 * MIN, "C", "X", "1");
	struct window_rule_stats st = rstats(&r, 0);
	assert_int_equal(st.evicted_age, 2);
	assert_int_equal(st.keys, 1);
	/* A is gone: two more A records do not make three */
	tx(&r, 62 + HOUR + 10 * MIN, "A", "X", "1");
	tx(&r, 63 + HOUR + 10 * MIN, "A", "X", "1");
	assert_int_equal(r.n_fired, 0);
	tx(&r, 64 + HOUR + 10 * MIN, "A", "X", "1");
	assert_int_equal(r.n_fired, 1);
	const uint64_t want[] = { 6, 7, 8 };
	expect_lines(&r.f[0], want, 3);
	stop(&r);
}

/* ---- formats ---- */

static void test_formats(void **state)
{
	(void)state;
	struct run r;
	/* JSON, nested key and amount */
	start1(&r, "key=tx.from when=tx.amount:9000..9999.99 count>=3 within=24h");
	for (int i = 0; i < 3; i++) {
		char line[200];
		snprintf(line, sizeof(line),
			 "{\"@timestamp\":\"2024-03-01T0%d:00:00Z\",\"tx\":{\"from\":\"N1\","
			 "\"amount\":9100.5}}", i);
		feed(&r, line);
	}
	assert_int_equal(r.n_fired, 1);
	assert_string_equal(r.f[0].key, "N1");
	assert_int_equal(r.f[0].time_ms[2], (T0 + 2 * HOUR) * 1000);
	stop(&r);

	/* CSV with a header and quotes */
	start1(&r, STRUCTURING);
	feed(&r, "date,\"from\",to,amount");
	feed(&r, "2024-03-01 10:00:00,\"ACC, Ltd\",X,\"9,500.00\"");
	feed(&r, "2024-03-01 10:05:00,\"ACC, Ltd\",X,9999.99");
	feed(&r, "2024-03-01 10:06:00,\"ACC, Ltd\",X,10000");
	feed(&r, "2024-03-01 10:09:00,\"ACC, Ltd\",X,\"9000\"");
	assert_int_equal(r.n_fired, 1);
	assert_string_equal(r.f[0].key, "ACC, Ltd");
	const uint64_t csv[] = { 2, 3, 5 };
	expect_lines(&r.f[0], csv, 3);
	stop(&r);

	/* key=value, syslog time at the start of the line */
	start1(&r, STRUCTURING);
	feed(&r, "Mar  1 10:00:00 bank pay[1]: from=K1 to=X amount=9500.00 cur=EUR");
	feed(&r, "Mar  1 11:00:00 bank pay[1]: from=\"K1\", to=X, amount=\"9,600.00\"");
	feed(&r, "Mar  1 12:00:00 bank pay[1]: from=K1;to=X;amount=9700");
	assert_int_equal(r.n_fired, 1);
	assert_int_equal(r.f[0].time_ms[0], (T0 + 10 * HOUR) * 1000);
	stop(&r);

	/* Zeek TSV: key from a dotted column, time from ts */
	start1(&r, "key=id.orig_h distinct(id.resp_h)>=3 within=1h");
	feed(&r, "#separator \\x09");
	feed(&r, "#fields\tts\tuid\tid.orig_h\tid.resp_h");
	feed(&r, "1709251200.000000\tC1\t10.0.0.1\t192.0.2.1");
	feed(&r, "1709251260.000000\tC2\t10.0.0.1\t192.0.2.2");
	feed(&r, "1709251270.000000\tC3\t10.0.0.1\t-");
	feed(&r, "1709251280.000000\tC4\t10.0.0.1\t192.0.2.3");
	assert_int_equal(r.n_fired, 1);
	const uint64_t zeek[] = { 3, 4, 6 };
	expect_lines(&r.f[0], zeek, 3);
	struct window_stats st;
	window_engine_stats(r.e, &st);
	assert_int_equal(st.lines, 6);
	assert_int_equal(st.records, 4);
	stop(&r);

	/* regex captures on free text; CLF time inside the line */
	start1(&r, "key=\"re:1:debit ([A-Z0-9]+) \" when=\"re:1:amount ([0-9.,]+)\":9000..9999.99 "
		   "count>=3 within=24h");
	feed(&r, "10.0.0.1 - - [01/Mar/2024:10:00:00 +0000] \"POST /pay\" debit R1 amount 9500");
	feed(&r, "10.0.0.1 - - [01/Mar/2024:10:01:00 +0000] \"POST /pay\" debit R1 amount 19500");
	feed(&r, "10.0.0.1 - - [01/Mar/2024:10:02:00 +0000] \"POST /pay\" debit R1 amount 9,501");
	feed(&r, "10.0.0.1 - - [01/Mar/2024:11:03:00 +0100] \"POST /pay\" debit R1 amount 9502");
	assert_int_equal(r.n_fired, 1);
	assert_string_equal(r.f[0].key, "R1");
	const uint64_t rx[] = { 1, 3, 4 };
	expect_lines(&r.f[0], rx, 3);
	assert_int_equal(r.f[0].time_ms[2], (T0 + 10 * HOUR + 3 * MIN) * 1000);
	stop(&r);
}

static void test_time_sources(void **state)
{
	(void)state;
	struct run r;
	const char *specs[] = { "key=from count>=2 within=1m", "key=from time=when count>=2 within=1m" };
	start(&r, specs, 2, NULL);
	/* auto: ts, time, timestamp, @timestamp, date in that order; else the line */
	feed(&r, "{\"from\":\"A\",\"time\":\"2024-03-01T00:00:00Z\",\"when\":1709251200}");
	feed(&r, "{\"from\":\"A\",\"timestamp\":1709251259999,\"when\":\"bad\"}");
	assert_int_equal(r.n_fired, 1);
	assert_int_equal(r.f[0].rule, 0);
	assert_int_equal(r.f[0].time_ms[1], 1709251259999LL);
	assert_int_equal(rstats(&r, 1).no_time, 1);
	feed(&r, "{\"from\":\"B\",\"date\":\"[01/Mar/2024:00:01:00 +0000]\",\"when\":\"Mar  1 00:01:00\"}");
	feed(&r, "{\"from\":\"B\",\"ts\":\"junk\",\"date\":\"1709251290\",\"when\":\"2024-03-01 00:01:40\"}");
	assert_int_equal(r.n_fired, 3);
	assert_int_equal(r.f[1].time_ms[1], (T0 + 90) * 1000);
	assert_int_equal(r.f[2].time_ms[1], (T0 + 100) * 1000);
	/* a field named time= is the only source for that rule */
	feed(&r, "2024-03-01T00:01:50Z from=C");
	feed(&r, "2024-03-01T00:01:51Z from=C");
	assert_int_equal(r.n_fired, 4);
	struct window_rule_stats st = rstats(&r, 1);
	assert_int_equal(st.no_time, 3);
	assert_int_equal(st.qualified, 3);
	/* no time anywhere */
	feed(&r, "from=D amount=5");
	assert_int_equal(rstats(&r, 0).no_time, 1);
	stop(&r);
}

/* ---- conditions ---- */

static void test_conditions(void **state)
{
	(void)state;
	struct run r;
	start1(&r, "key=from when=cur=eur when=to!=SELF when=match:scam-7 count>=2 within=1h");
	const char *m1[] = { "other", "scam-7" };
	const char *m2[] = { "scam-77" };
	feedm(&r, "{\"ts\":1709251200,\"from\":\"A\",\"to\":\"B\",\"cur\":\"EUR\"}", m1, 2);
	feedm(&r, "{\"ts\":1709251201,\"from\":\"A\",\"to\":\"B\",\"cur\":\"EUR\"}", m2, 1);
	feedm(&r, "{\"ts\":1709251202,\"from\":\"A\",\"to\":\"self\",\"cur\":\"EUR\"}", m1, 2);
	feedm(&r, "{\"ts\":1709251203,\"from\":\"A\",\"cur\":\"EUR\"}", m1, 2);
	feedm(&r, "{\"ts\":1709251204,\"from\":\"A\",\"to\":\"B\",\"cur\":\"USD\"}", m1, 2);
	feed(&r, "{\"ts\":1709251205,\"from\":\"A\",\"to\":\"B\",\"cur\":\"EUR\"}");
	assert_int_equal(r.n_fired, 0);
	assert_int_equal(rstats(&r, 0).qualified, 1);
	assert_true(window_engine_uses_matches(r.e));
	feedm(&r, "{\"ts\":1709251206,\"from\":\"A\",\"to\":\"C\",\"cur\":\"Eur\"}", m1, 2);
	assert_int_equal(r.n_fired, 1);
	const uint64_t want[] = { 1, 7 };
	expect_lines(&r.f[0], want, 2);
	stop(&r);
	start1(&r, STRUCTURING);
	assert_false(window_engine_uses_matches(r.e));
	stop(&r);
}

/* ---- pass-through ---- */

static void test_passthrough(void **state)
{
	(void)state;
	struct run r;
	start1(&r, "passthrough in=to out=from within=10m");
	tx(&r, 0, "EXT1", "MULE", "5000");        /* IN for MULE */
	tx(&r, 10 * MIN, "MULE", "EXT2", "4900"); /* OUT exactly 10m later */
	assert_int_equal(r.n_fired, 1);
	assert_string_equal(r.f[0].key, "MULE");
	assert_string_equal(r.f[0].value, "2");
	const uint64_t want[] = { 1, 2 };
	expect_lines(&r.f[0], want, 2);
	/* both consumed: another OUT does not fire */
	tx(&r, 11 * MIN, "MULE", "EXT3", "100");
	assert_int_equal(r.n_fired, 1);
	/* OUT before IN never fires */
	tx(&r, 20 * MIN, "M2", "E5", "1");
	tx(&r, 21 * MIN, "E6", "M2", "1");
	assert_int_equal(r.n_fired, 1);
	/* one second too late */
	tx(&r, 30 * MIN, "E7", "M3", "1");
	tx(&r, 40 * MIN + 1, "M3", "E8", "1");
	assert_int_equal(r.n_fired, 1);
	/* same time fires; the earliest IN pairs first */
	tx(&r, 50 * MIN, "E1", "M4", "1");
	tx(&r, 51 * MIN, "E2", "M4", "1");
	tx(&r, 51 * MIN, "M4", "E3", "1");
	assert_int_equal(r.n_fired, 2);
	const uint64_t want2[] = { 8, 10 };
	expect_lines(&r.f[1], want2, 2);
	tx(&r, 51 * MIN, "M4", "E3", "1");
	assert_int_equal(r.n_fired, 3);
	const uint64_t want3[] = { 9, 11 };
	expect_lines(&r.f[2], want3, 2);
	stop(&r);

	/* a chain A -> B -> C: the middle record is an OUT for B... and an IN
	 * for C; a self-transfer is both for one account but never pairs with itself */
	start1(&r, "passthrough in=to out=from within=1h slack=30m");
	tx(&r, 0, "A", "B", "1");
	tx(&r, 60, "B", "C", "1");
	assert_int_equal(r.n_fired, 1);
	assert_string_equal(r.f[0].key, "B");
	tx(&r, 120, "C", "D", "1");
	assert_int_equal(r.n_fired, 2);
	assert_string_equal(r.f[1].key, "C");
	const uint64_t chain[] = { 2, 3 };
	expect_lines(&r.f[1], chain, 2);
	tx(&r, 200, "S", "S", "1");
	assert_int_equal(r.n_fired, 2);
	tx(&r, 210, "S", "S", "1");
	assert_int_equal(r.n_fired, 3); /* IN of line 4, OUT of line 5 */
	const uint64_t self[] = { 4, 5 };
	expect_lines(&r.f[2], self, 2);
	/* an IN arriving late (within the slack) pairs with an earlier-arrived OUT */
	tx(&r, 30 * MIN, "Y", "Z", "1");
	tx(&r, 25 * MIN, "X", "Y", "1");
	assert_int_equal(r.n_fired, 4);
	assert_string_equal(r.f[3].key, "Y");
	const uint64_t late_in[] = { 7, 6 };
	expect_lines(&r.f[3], late_in, 2);
	stop(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_engine_refusals),
		cmocka_unit_test(test_structuring),
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_consumed),
		cmocka_unit_test(test_count_distinct_sum),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_inputs),
		cmocka_unit_test(test_evict_cap),
		cmocka_unit_test(test_evict_bytes),
		cmocka_unit_test(test_evict_age),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_time_sources),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_passthrough),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
