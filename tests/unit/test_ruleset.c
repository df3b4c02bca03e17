/* Rule sets in the evidence: the identity copied out of packs, the reload
 * record (applied and failed, never with a category key, so the writer and
 * verify count it alike), and the manifest's rule sets with every distinct
 * pack listed once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cybersieve/chain.h"
#include "cybersieve/evidence.h"
#include "cybersieve/json_read.h"
#include "cybersieve/manifest.h"
#include "cybersieve/ruleset.h"

static struct pack *pack_of(const char *name, const char *value)
{
	struct pack *p;
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(pack_create_adhoc("-e", &p), CS_OK);
	assert_int_equal(pack_add(p, "i1", IND_DOMAIN, 0, value, strlen(value), 1, &d), CS_OK);
	pack_seal(p);
	free(p->name);
	p->name = strdup(name);
	return p;
}

static void test_ruleset_copy(void **state)
{
	(void)state;
	struct pack *a = pack_of("alpha", "a.example"), *b = pack_of("beta", "b.example");
	struct pack *both[2] = {a, b};
	struct ev_ruleset *r1, *r2, *r3;
	assert_int_equal(ev_ruleset_create(both, 2, 2, &r1), CS_OK);
	assert_int_equal(ev_ruleset_create(both, 2, 2, &r2), CS_OK);
	assert_int_equal(ev_ruleset_create(both, 1, 1, &r3), CS_OK);
	/* The copy outlives the packs. */
	uint8_t digest_a[32];
	memcpy(digest_a, a->digest, 32);
	pack_destroy(a);
	pack_destroy(b);
	assert_string_equal(r1->packs[0].name, "alpha");
	assert_string_equal(r1->packs[1].name, "beta");
	assert_memory_equal(r1->packs[0].sha256, digest_a, 32);
	assert_int_equal(r1->packs[0].indicators, 1);
	assert_true(ev_ruleset_same(r1, r2));
	assert_false(ev_ruleset_same(r1, r3));
	r2->packs[1].sha256[0] ^= 1;
	assert_false(ev_ruleset_same(r1, r2));
	struct jbuf j;
	jbuf_init(&j);
	ev_ruleset_render(&j, r3);
	char hex[65];
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest_a[i]);
	char want[512];
	snprintf(want, sizeof(want),
		 "{\"indicators\":1,\"packs\":[{\"name\":\"alpha\",\"path\":\"-e\",\"sha256\":\"%s\","
		 "\"indicators\":1,\"tlp\":\"clear\"}]}", hex);
	assert_false(j.failed);
	assert_string_equal(j.p, want);
	jbuf_fini(&j);
	ev_ruleset_destroy(r1);
	ev_ruleset_destroy(r2);
	ev_ruleset_destroy(r3);
	ev_ruleset_destroy(NULL);
}

static struct json_read_val *parse(const struct jbuf *j)
{
	struct json_read_val *v = NULL;
	assert_int_equal(json_read_parse(j->p, j->len, &v, NULL), CS_OK);
	return v;
}

static void test_reload_record(void **state)
{
	(void)state;
	struct pack *a = pack_of("alpha", "a.example"), *b = pack_of("beta", "b.example");
	struct ev_ruleset *before, *after;
	assert_int_equal(ev_ruleset_create(&a, 1, 1, &before), CS_OK);
	assert_int_equal(ev_ruleset_create(&b, 1, 1, &after), CS_OK);
	struct ev_reload_record r = {.run_id = "run", .seq = 9, .at = {1700000000, 5000000},
				     .requested = "2023-11-14T22:13:19.000Z",
				     .ready = "2023-11-14T22:13:19.900Z", .applied = true,
				     .before = before, .after = after};
	struct jbuf j;
	jbuf_init(&j);
	ev_reload_record_render(&j, &r);
	assert_false(j.failed);
	assert_non_null(strstr(j.p, "{\"prev\":\"" EV_PREV_PLACEHOLDER "\",\"record_id\":\"run:9\","
				    "\"run_id\":\"run\",\"seq\":9,\"time\":\"2023-11-14T22:13:20.005Z\","));
	/* Counted as a record without a category, by the writer and by verify. */
	char cat[64];
	assert_false(ev_chain_category(j.p, j.len, cat, sizeof(cat)));
	struct json_read_val *v = parse(&j);
	const struct json_read_val *ev = json_read_get(v, "event");
	assert_string_equal(json_read_str(ev, "type"), EV_RELOAD_EVENT);
	assert_string_equal(json_read_str(ev, "status"), "applied");
	assert_string_equal(json_read_str(ev, "ready"), "2023-11-14T22:13:19.900Z");
	assert_null(json_read_str(ev, "reason"));
	const struct json_read_val *pk = json_read_get(json_read_get(ev, "rules_after"), "packs");
	assert_int_equal(pk->n, 1);
	assert_string_equal(json_read_str(&pk->items[0], "name"), "beta");
	assert_null(json_read_get(v, "indicator"));
	json_read_free(v);

	/* Failed: the reason, the rules kept, nothing after. */
	r.applied = false;
	r.ready = NULL;
	r.after = NULL;
	r.reason = "p.pack:8: unknown indicator type 'x\"y'";
	jbuf_reset(&j);
	ev_reload_record_render(&j, &r);
	v = parse(&j);
	ev = json_read_get(v, "event");
	assert_string_equal(json_read_str(ev, "status"), "failed");
	assert_string_equal(json_read_str(ev, "reason"), r.reason);
	assert_int_equal(json_read_get(ev, "rules_after")->type, JSON_READ_NULL);
	assert_int_equal(json_read_get(ev, "ready")->type, JSON_READ_NULL);
	pk = json_read_get(json_read_get(ev, "rules_before"), "packs");
	assert_string_equal(json_read_str(&pk->items[0], "name"), "alpha");
	json_read_free(v);
	jbuf_fini(&j);
	ev_ruleset_destroy(before);
	ev_ruleset_destroy(after);
	pack_destroy(a);
	pack_destroy(b);
}

static void test_manifest_rule_sets(void **state)
{
	(void)state;
	struct pack *a = pack_of("alpha", "a.example"), *b = pack_of("beta", "b.example");
	struct pack *ab[2] = {a, b};
	struct ev_ruleset *s1, *s2, *s3;
	assert_int_equal(ev_ruleset_create(ab, 2, 2, &s1), CS_OK);
	assert_int_equal(ev_ruleset_create(&b, 1, 1, &s2), CS_OK);
	assert_int_equal(ev_ruleset_create(ab, 2, 2, &s3), CS_OK);
	snprintf(s1->from, sizeof(s1->from), "T1");
	snprintf(s1->until, sizeof(s1->until), "T2");
	snprintf(s2->from, sizeof(s2->from), "T2");
	snprintf(s2->until, sizeof(s2->until), "T3");
	snprintf(s3->from, sizeof(s3->from), "T3");
	struct ev_ruleset *sets[3] = {s1, s2, s3};
	struct ev_chain_counts counts = {.n = 0};
	struct ev_manifest m = {.run_id = "run", .started = "T0", .finished = "T9", .host = "h",
				.command_line = "cybersieve tap", .fingerprint = "f",
				.rule_sets = sets, .n_rule_sets = 3, .counts = &counts,
				.complete = true};
	struct jbuf j;
	jbuf_init(&j);
	ev_manifest_render(&j, &m);
	assert_false(j.failed);
	struct json_read_val *v = parse(&j);
	/* Each distinct pack once, in the order first in force. */
	const struct json_read_val *packs = json_read_get(v, "packs");
	assert_int_equal(packs->n, 2);
	assert_string_equal(json_read_str(&packs->items[0], "name"), "alpha");
	assert_string_equal(json_read_str(&packs->items[1], "name"), "beta");
	assert_string_equal(json_read_str(&packs->items[0], "category"), "adhoc");
	const struct json_read_val *rs = json_read_get(v, "rule_sets");
	assert_int_equal(rs->n, 3);
	assert_string_equal(json_read_str(&rs->items[1], "from"), "T2");
	assert_string_equal(json_read_str(&rs->items[1], "until"), "T3");
	assert_int_equal(json_read_get(&rs->items[2], "until")->type, JSON_READ_NULL);
	assert_int_equal(json_read_get(&rs->items[0], "packs")->n, 2);
	assert_int_equal(json_read_get(&rs->items[1], "packs")->n, 1);
	json_read_free(v);
	jbuf_fini(&j);
	/* Without rule sets the packs are those given, as for scan. */
	m.rule_sets = NULL;
	m.n_rule_sets = 0;
	m.packs = &b;
	m.n_packs = 1;
	jbuf_init(&j);
	ev_manifest_render(&j, &m);
	v = parse(&j);
	assert_int_equal(json_read_get(v, "packs")->n, 1);
	assert_null(json_read_get(v, "rule_sets"));
	json_read_free(v);
	jbuf_fini(&j);
	for (int i = 0; i < 3; i++)
		ev_ruleset_destroy(sets[i]);
	pack_destroy(a);
	pack_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ruleset_copy),
		cmocka_unit_test(test_reload_record),
		cmocka_unit_test(test_manifest_rule_sets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
