/* Combination rules: parsing (precedence, atoms, scopes, every refusal with
 * its column), evaluation over the matches of a scope (AND, OR, NOT, type
 * atoms, parts named), and a run through the real matcher on log lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "correlate/combo.h"
#include "cybersieve/matcher.h"
#include "cybersieve/pack.h"

#define HEAD "@name %s\n@category scam\n@source test\n@licence CC0-1.0\n@tlp clear\n"

struct fx {
	struct pack *p[2];
	size_t n;
	struct matcher *m;
	struct combo_set *cs;
	struct combo_scope sc;
	char fired[16][64];
	size_t n_fired;
	char parts[16][256];
};

static struct pack *parse(const char *name, const char *body)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), HEAD "%s", name, body);
	struct pack *p = NULL;
	struct cs_diag d;
	cs_diag_clear(&d);
	if (pack_parse(name, buf, strlen(buf), &p, &d) != CS_OK)
		fail_msg("pack: %s", d.msg);
	return p;
}

/* Build from one or two packs; returns the combo build result, d set. */
static enum cs_err build(struct fx *f, const char *body, const char *other, struct cs_diag *d)
{
	memset(f, 0, sizeof(*f));
	f->p[f->n++] = parse("scam", body);
	if (other)
		f->p[f->n++] = parse("brands", other);
	cs_diag_clear(d);
	assert_int_equal(matcher_build(f->p, f->n, NULL, NULL, &f->m, d), CS_OK);
	return combo_set_create(f->m, NULL, NULL, &f->cs, d);
}

static void fx_free(struct fx *f)
{
	combo_scope_fini(&f->sc);
	combo_set_destroy(f->cs);
	matcher_destroy(f->m);
	for (size_t i = 0; i < f->n; i++)
		pack_destroy(f->p[i]);
}

static uint32_t idx(const struct fx *f, const char *id)
{
	for (size_t i = 0; i < matcher_count(f->m); i++)
		if (strcmp(matcher_get(f->m, (uint32_t)i)->ind->id, id) == 0)
			return (uint32_t)i;
	fail_msg("no indicator %s", id);
	return 0;
}

static bool on_fire(void *user, const struct combo_fire *f)
{
	struct fx *x = user;
	assert_true(x->n_fired < 16);
	snprintf(x->fired[x->n_fired], 64, "%s", matcher_get(x->m, f->rule)->ind->id);
	char *o = x->parts[x->n_fired];
	o[0] = '\0';
	for (size_t i = 0; i < f->n_parts; i++) {
		size_t l = strlen(o);
		snprintf(o + l, 256 - l, "%s%s@%llu:%.*s", i ? " " : "",
			 matcher_get(x->m, f->parts[i].ind)->ind->id,
			 (unsigned long long)f->parts[i].line, (int)f->parts[i].text_len,
			 (const char *)f->parts[i].text);
	}
	x->n_fired++;
	return true;
}

static void add(struct fx *f, const char *id, uint64_t line, const char *text)
{
	struct combo_part p = {.ind = idx(f, id), .line = line, .offset = line * 100,
			       .length = (uint32_t)strlen(text), .text = (const uint8_t *)text,
			       .text_len = (uint32_t)strlen(text)};
	assert_int_equal(combo_scope_add(&f->sc, &p), CS_OK);
}

static void end(struct fx *f)
{
	f->n_fired = 0;
	assert_true(combo_scope_end(&f->sc, on_fire, f));
}

static const char *const BODY = "g literal/iq guaranteed returns\n"
				"t literal/q telegram\n"
				"w literal/q whatsapp\n"
				"b wallet/q any:btc\n"
				"x literal unrelated\n"
				"r1 combo g & (t | w)\n"
				"r2 combo g and type:wallet and not t\n"
				"r3 combo g | t & w\n"
				"r4 combo scope=message t & w\n";

static void test_evaluate(void **state)
{
	(void)state;
	struct fx f;
	struct cs_diag d;
	assert_int_equal(build(&f, BODY, NULL, &d), CS_OK);
	assert_int_equal(combo_count(f.cs, COMBO_SCOPE_LINE), 3);
	assert_int_equal(combo_count(f.cs, COMBO_SCOPE_MESSAGE), 1);
	assert_true(combo_wants(f.cs, COMBO_SCOPE_LINE, idx(&f, "g")));
	assert_true(combo_wants(f.cs, COMBO_SCOPE_LINE, idx(&f, "b")));
	assert_false(combo_wants(f.cs, COMBO_SCOPE_LINE, idx(&f, "x")));
	assert_false(combo_wants(f.cs, COMBO_SCOPE_MESSAGE, idx(&f, "g")));
	assert_int_equal(combo_scope_init(&f.sc, f.cs, COMBO_SCOPE_LINE, 8), CS_OK);

	/* g alone: r3 (g | (t & w)) only. */
	add(&f, "g", 1, "guaranteed returns");
	end(&f);
	assert_int_equal(f.n_fired, 1);
	assert_string_equal(f.fired[0], "r3");
	assert_string_equal(f.parts[0], "g@1:guarante"); /* text cut at max_text */

	/* g and t: r1 and r3; r2 lacks a wallet. */
	add(&f, "t", 2, "telegram");
	add(&f, "g", 2, "guaranteed");
	end(&f);
	assert_int_equal(f.n_fired, 2);
	assert_string_equal(f.fired[0], "r1");
	assert_string_equal(f.parts[0], "t@2:telegram g@2:guarante");
	assert_string_equal(f.fired[1], "r3");

	/* g and a wallet and no t: r2 and r3; with t, r2 is off (NOT). */
	add(&f, "g", 3, "g");
	add(&f, "b", 3, "1Bv");
	end(&f);
	assert_int_equal(f.n_fired, 2);
	assert_string_equal(f.fired[0], "r2");
	assert_string_equal(f.parts[0], "g@3:g b@3:1Bv");
	add(&f, "g", 4, "g");
	add(&f, "b", 4, "1Bv");
	add(&f, "t", 4, "t");
	end(&f);
	assert_int_equal(f.n_fired, 2);
	assert_string_equal(f.fired[0], "r1");
	assert_string_equal(f.fired[1], "r3");

	/* Precedence: t & w without g fires r3 (AND before OR), not r1. */
	add(&f, "w", 5, "w");
	add(&f, "t", 5, "t");
	end(&f);
	assert_int_equal(f.n_fired, 1);
	assert_string_equal(f.fired[0], "r3");
	assert_string_equal(f.parts[0], "w@5:w t@5:t");

	/* Nothing, or only an unrelated match: no rule. */
	add(&f, "x", 6, "unrelated");
	assert_true(combo_scope_empty(&f.sc)); /* not wanted by any rule: not kept */
	end(&f);
	assert_int_equal(f.n_fired, 0);
	/* The scope forgets: a match in the next scope stands alone. */
	add(&f, "t", 7, "t");
	end(&f);
	assert_int_equal(f.n_fired, 0);
	/* The first match of an indicator is the one named. */
	add(&f, "g", 8, "first");
	add(&f, "g", 8, "second");
	end(&f);
	assert_string_equal(f.parts[0], "g@8:first");
	fx_free(&f);
}

static void test_cross_pack(void **state)
{
	(void)state;
	struct fx f;
	struct cs_diag d;
	assert_int_equal(build(&f, "g literal guaranteed\nr combo g & brands/bank & !brands/own\n",
			       "bank literal/q Example Bank\nown literal/q examplebank.test\n", &d),
			 CS_OK);
	assert_int_equal(combo_scope_init(&f.sc, f.cs, COMBO_SCOPE_LINE, 64), CS_OK);
	add(&f, "g", 1, "guaranteed");
	add(&f, "bank", 1, "Example Bank");
	end(&f);
	assert_int_equal(f.n_fired, 1);
	add(&f, "g", 2, "guaranteed");
	add(&f, "bank", 2, "Example Bank");
	add(&f, "own", 2, "examplebank.test");
	end(&f);
	assert_int_equal(f.n_fired, 0);
	fx_free(&f);
}

static void expect_refused(const char *rule, const char *msg)
{
	struct fx f;
	struct cs_diag d;
	char body[512];
	snprintf(body, sizeof(body), "a literal alpha\nb literal beta\nr0 combo a & b\nbad combo %s\n",
		 rule);
	assert_int_equal(build(&f, body, NULL, &d), CS_ERR_PARSE);
	if (!strstr(d.msg, msg))
		fail_msg("rule '%s': message '%s' lacks '%s'", rule, d.msg, msg);
	assert_int_equal(d.line, 9); /* the rule's line in the pack (after 5 headers) */
	assert_null(f.cs);
	fx_free(&f);
}

static void test_refused(void **state)
{
	(void)state;
	expect_refused("a & zz", "unknown indicator 'zz' (column 5)");
	expect_refused("a & nopack/a", "unknown indicator 'nopack/a'");
	expect_refused("!a", "holds when nothing matched");
	expect_refused("a | !b", "holds when nothing matched");
	expect_refused("(a & b", "expected ')'");
	expect_refused("a & b)", "unexpected ')' (column 6)");
	expect_refused("a & & b", "expected an indicator at '&' (column 5)");
	expect_refused("a &", "expression ends early");
	expect_refused("a & bad", "refers to itself");
	expect_refused("a & r0", "is a rule");
	expect_refused("a & type:nosuch", "unknown indicator type");
	expect_refused("a & type:combo", "unknown indicator type");
	expect_refused("scope=flowish a", "unknown scope");
	expect_refused("a # b", "unexpected '#'");
	expect_refused("scope=message a & zz", "unknown indicator 'zz' (column 19)");
}

/* Through the real matcher: hits of a line, as the pipeline feeds them. */
static void test_with_matcher(void **state)
{
	(void)state;
	struct fx f;
	struct cs_diag d;
	assert_int_equal(build(&f, BODY, NULL, &d), CS_OK);
	assert_int_equal(combo_scope_init(&f.sc, f.cs, COMBO_SCOPE_LINE, 64), CS_OK);
	struct matcher_scratch *s;
	struct matcher_hits h = {0};
	h.limit = 1000;
	assert_int_equal(matcher_scratch_create(f.m, &s), CS_OK);
	const char *line = "Guaranteed Returns! pay 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 now";
	assert_int_equal(matcher_scan(f.m, s, (const uint8_t *)line, strlen(line), 0, &h, &d),
			 CS_OK);
	assert_int_equal(h.n, 2);
	for (size_t i = 0; i < h.n; i++) {
		struct combo_part p = {.ind = h.v[i].ind, .line = 1, .offset = h.v[i].start,
				       .length = (uint32_t)(h.v[i].end - h.v[i].start),
				       .text = (const uint8_t *)line + h.v[i].start,
				       .text_len = (uint32_t)(h.v[i].end - h.v[i].start)};
		assert_int_equal(combo_scope_add(&f.sc, &p), CS_OK);
	}
	end(&f);
	assert_int_equal(f.n_fired, 2);
	assert_string_equal(f.fired[0], "r2");
	assert_string_equal(f.parts[0],
			    "g@1:Guaranteed Returns b@1:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2");
	assert_string_equal(f.fired[1], "r3");
	matcher_hits_fini(&h);
	matcher_scratch_destroy(s);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evaluate),
		cmocka_unit_test(test_cross_pack),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_with_matcher),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
