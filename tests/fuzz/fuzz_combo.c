/* Fuzz target: combination rules. The input's first line is the text of a
 * combo rule in a pack of five literals; the bytes after it say which of
 * them matched in a scope. A rule that parses must hold what combo.h
 * promises: it never holds on an empty scope, fires at most once per scope,
 * and names only parts that matched. The matcher is built once. */
#include <stdlib.h>
#include <string.h>

#include "correlate/combo.h"
#include "cybersieve/matcher.h"
#include "cybersieve/pack.h"
#include "fuzz.h"

static const char PACK[] = "@name fz\n@category scam\n@source fuzz\n@licence CC0-1.0\n"
			   "@tlp clear\na literal alpha\nb literal/q beta\nc wallet/q any:btc\n"
			   "d iban/q any\ne literal epsilon\nr combo a\n";

static struct pack *g_pack;
static struct matcher *g_m;

static void setup(void)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	FUZZ_CHECK(pack_parse("fz", PACK, sizeof(PACK) - 1, &g_pack, &d) == CS_OK);
	FUZZ_CHECK(matcher_build(&g_pack, 1, NULL, NULL, &g_m, &d) == CS_OK);
}

struct seen {
	size_t fires;
	uint32_t mask; /* indicators added to the scope */
};

static bool on_fire(void *user, const struct combo_fire *f)
{
	struct seen *s = user;
	s->fires++;
	FUZZ_CHECK(f->rule == 5);
	for (size_t i = 0; i < f->n_parts; i++)
		FUZZ_CHECK(f->parts[i].ind < 5 && (s->mask >> f->parts[i].ind & 1));
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!g_m)
		setup();
	const uint8_t *nl = memchr(data, '\n', size);
	size_t rn = nl ? (size_t)(nl - data) : size;
	char *rule = malloc(rn + 1);
	FUZZ_CHECK(rule != NULL);
	memcpy(rule, data, rn);
	rule[rn] = '\0';
	/* The rule indicator's text is swapped for the input (the matcher
	 * compiles no rule, so it does not depend on it). */
	struct indicator *ri = &g_pack->ind[5];
	char *keep = ri->value;
	size_t keep_len = ri->value_len;
	ri->value = rule;
	ri->value_len = rn;
	struct combo_set *cs = NULL;
	struct cs_diag d;
	cs_diag_clear(&d);
	enum cs_err e = combo_set_create(g_m, NULL, NULL, &cs, &d);
	if (e != CS_OK) {
		FUZZ_CHECK(cs == NULL && memchr(d.msg, '\0', sizeof(d.msg)) != NULL);
	} else {
		size_t total = combo_count(cs, COMBO_SCOPE_LINE) + combo_count(cs, COMBO_SCOPE_MESSAGE);
		FUZZ_CHECK(total == 1);
		enum combo_scope_kind k = combo_count(cs, COMBO_SCOPE_LINE) ? COMBO_SCOPE_LINE
									     : COMBO_SCOPE_MESSAGE;
		struct combo_scope sc;
		FUZZ_CHECK(combo_scope_init(&sc, cs, k, 16) == CS_OK);
		const uint8_t *p = nl ? nl + 1 : data + size;
		/* An empty scope never fires. */
		struct seen s = {0};
		FUZZ_CHECK(combo_scope_end(&sc, on_fire, &s) && s.fires == 0);
		for (; p < data + size; p++) {
			s = (struct seen){0};
			for (uint32_t i = 0; i < 5; i++) {
				if (!(*p >> i & 1))
					continue;
				struct combo_part part = {.ind = i, .line = 1, .length = 5,
							  .text = (const uint8_t *)"xxxxx", .text_len = 5};
				FUZZ_CHECK(combo_scope_add(&sc, &part) == CS_OK);
				if (combo_wants(cs, k, i))
					s.mask |= 1u << i;
			}
			FUZZ_CHECK(combo_scope_end(&sc, on_fire, &s));
			FUZZ_CHECK(s.fires <= 1);
			FUZZ_CHECK(s.fires == 0 || s.mask != 0);
		}
		combo_scope_fini(&sc);
		combo_set_destroy(cs);
	}
	ri->value = keep;
	ri->value_len = keep_len;
	free(rule);
	return 0;
}
