/* Wallet and IBAN indicators: shape candidates confirmed by checksum, then
 * by set lookup of the normalised token (listed values) or by family (any).
 * Checks one-character changes, letter case of 0x and Bech32 addresses,
 * token boundaries, printed IBANs with spaces, stream splits and the load
 * errors of a pack. Addresses are entries of rules/laundering-ofac.pack. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cybersieve/matcher.h"
#include "cybersieve/pack.h"

#define BTC "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h"
#define BTC_BAD "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9i"
#define ETH "0x8589427373D6D84E98730D7795D8f6f8731FDA16"
#define ETH_LOWER "0x8589427373d6d84e98730d7795d8f6f8731fda16"
#define ETH_UPPER "0x8589427373D6D84E98730D7795D8F6F8731FDA16"
#define ETH_BADCASE "0x8589427373D6D84E98730D7795D8f6f8731FDa16"
#define ETH_OTHER "0x178169B423a011fff22B9e3F3abeA13414dDD0F1"
#define BECH "bc1q05aktddf9ce4p7hh3stgsf253m4vweu7nkhtmw"
#define BECH_UPPER "BC1Q05AKTDDF9CE4P7HH3STGSF253M4VWEU7NKHTMW"
#define CASH "qpf2cphc5dkuclkqur7lhj2yuqq9pk3hmukle77vhq"
#define XMR                                                                                        \
	"49HqitRzdnhYjgTEAhgGpCfsjdTeMbUTU6cyR4JV1R7k2Eej9rGT8JpFiYDa4tZM6RZiFrHmMzgSrhHEqpDYKBe5B2" \
	"ufNsL"
#define TRX "TFdTr9C3BqQrzKBXqSxJfAZFTh8UwBAfSg"
#define IBAN_GB "GB82WEST12345698765432"
#define IBAN_GB_PRINTED "GB82 WEST 1234 5698 7654 32"
#define IBAN_GB_BAD "GB82WEST12345698765433"
#define IBAN_DE "DE89370400440532013000"

struct fx {
	struct pack *p;
	struct matcher *m;
	struct matcher_scratch *s;
	struct matcher_hits hits;
	char out[1024];
};

static void add(struct pack *p, const char *id, enum ind_type t, const char *v)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	if (pack_add(p, id, t, 0, v, strlen(v), 0, &d) != CS_OK)
		fail_msg("pack_add %s: %s", v, d.msg);
}

/* Seal f->p and build its matcher and scratch. */
static void fx_seal(struct fx *f)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	pack_seal(f->p);
	if (matcher_build(&f->p, 1, NULL, NULL, &f->m, &d) != CS_OK)
		fail_msg("build: %s", d.msg);
	assert_int_equal(matcher_scratch_create(f->m, &f->s), CS_OK);
}

static void build(struct fx *f, const char *const (*v)[3], size_t n)
{
	memset(f, 0, sizeof(*f));
	assert_int_equal(pack_create_adhoc("w", &f->p), CS_OK);
	for (size_t i = 0; i < n; i++)
		add(f->p, v[i][0], strcmp(v[i][1], "iban") == 0 ? IND_IBAN : IND_WALLET, v[i][2]);
	add(f->p, "lit", IND_LITERAL, "needle");
	fx_seal(f);
}

/* n random Ethereum addresses from seed x, ids e0, e1, ...; e<at> is value
 * (an "eth:" one) instead, when at < n. */
static void add_eth_many(struct pack *p, uint64_t x, int n, int at, const char *value)
{
	char v[64], id[16];
	for (int i = 0; i < n; i++) {
		snprintf(v, sizeof(v), "eth:0x");
		for (int k = 0; k < 40; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			v[6 + k] = "0123456789abcdef"[x & 15];
		}
		v[46] = '\0';
		snprintf(id, sizeof(id), "e%d", i);
		add(p, id, IND_WALLET, i == at ? value : v);
	}
}

static void fx_free(struct fx *f)
{
	matcher_hits_fini(&f->hits);
	matcher_scratch_destroy(f->s);
	matcher_destroy(f->m);
	pack_destroy(f->p);
}

/* "id=text" of each hit of one scan, space separated, in hit order. */
static const char *scan(struct fx *f, const char *text)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	f->hits.n = 0;
	assert_int_equal(matcher_scan(f->m, f->s, (const uint8_t *)text, strlen(text), 0, &f->hits,
				      &d), CS_OK);
	size_t o = 0;
	f->out[0] = '\0';
	for (size_t i = 0; i < f->hits.n && o < sizeof(f->out); i++) {
		const struct matcher_hit *h = &f->hits.v[i];
		o += (size_t)snprintf(f->out + o, sizeof(f->out) - o, "%s%s=%.*s", i ? " " : "",
				      matcher_get(f->m, h->ind)->ind->id, (int)(h->end - h->start),
				      text + h->start);
	}
	return f->out;
}

static const char *const listed[][3] = {
	{"btc", "wallet", BTC},         {"eth", "wallet", "eth:" ETH},
	{"bech", "wallet", BECH},       {"cash", "wallet", "bch:" CASH},
	{"xmr", "wallet", "xmr:" XMR},  {"usdt", "wallet", "usdt:" TRX},
	{"gb", "iban", IBAN_GB_PRINTED},
};

static void test_listed(void **state)
{
	(void)state;
	struct fx f;
	build(&f, listed, sizeof(listed) / sizeof(listed[0]));
	assert_string_equal(scan(&f, "pay " BTC " now"), "btc=" BTC);
	assert_string_equal(scan(&f, "to=" ETH "&x"), "eth=" ETH);
	assert_string_equal(scan(&f, "to=" ETH_LOWER "\n"), "eth=" ETH_LOWER);
	assert_string_equal(scan(&f, "(" BECH_UPPER ")"), "bech=" BECH_UPPER);
	/* A listed CashAddr is found as the address; the prefix stays in the context. */
	assert_string_equal(scan(&f, "addr bitcoincash:" CASH "."), "cash=" CASH);
	assert_string_equal(scan(&f, "addr " CASH), "cash=" CASH);
	assert_string_equal(scan(&f, "xmr:" XMR "\n"), "xmr=" XMR);
	assert_string_equal(scan(&f, "usdt " TRX "\n"), "usdt=" TRX);
	assert_string_equal(scan(&f, "lit needle " BTC "\n" ETH),
			    "lit=needle btc=" BTC " eth=" ETH);
	fx_free(&f);
}

static void test_not_found(void **state)
{
	(void)state;
	struct fx f;
	build(&f, listed, sizeof(listed) / sizeof(listed[0]));
	/* One character changed: the checksum fails, nothing is looked up. */
	assert_string_equal(scan(&f, "pay " BTC_BAD " now"), "");
	assert_string_equal(scan(&f, "to " ETH_BADCASE), "");
	/* Inside a longer token. */
	assert_string_equal(scan(&f, "x" BTC), "");
	assert_string_equal(scan(&f, BTC "z"), "");
	assert_string_equal(scan(&f, "0" ETH), "");
	assert_string_equal(scan(&f, ETH "0"), "");
	assert_string_equal(scan(&f, "a" BECH), "");
	/* Valid, but not listed. */
	assert_string_equal(scan(&f, "to " ETH_OTHER), "");
	fx_free(&f);
}

static const char *const anys[][3] = {
	{"any-eth", "wallet", "any:eth"},
	{"any-usdc", "wallet", "any:USDC"},
	{"any-iban", "iban", "any"},
	{"de", "iban", IBAN_DE},
};

static void test_any(void **state)
{
	(void)state;
	struct fx f;
	build(&f, anys, sizeof(anys) / sizeof(anys[0]));
	assert_string_equal(scan(&f, ETH), "any-eth=" ETH " any-usdc=" ETH);
	assert_string_equal(scan(&f, " " ETH_LOWER), "any-eth=" ETH_LOWER " any-usdc=" ETH_LOWER);
	assert_string_equal(scan(&f, ETH_UPPER " "), "any-eth=" ETH_UPPER " any-usdc=" ETH_UPPER);
	assert_string_equal(scan(&f, ETH_BADCASE), "");
	/* usdc is eth or trx, not btc. */
	assert_string_equal(scan(&f, TRX), "any-usdc=" TRX);
	assert_string_equal(scan(&f, BTC " " BECH), "");
	fx_free(&f);
}

static void test_iban(void **state)
{
	(void)state;
	struct fx f;
	build(&f, anys, sizeof(anys) / sizeof(anys[0]));
	assert_string_equal(scan(&f, "IBAN: " IBAN_GB_PRINTED " thanks"),
			    "any-iban=" IBAN_GB_PRINTED);
	assert_string_equal(scan(&f, IBAN_GB "."), "any-iban=" IBAN_GB);
	assert_string_equal(scan(&f, "iban " IBAN_GB_BAD), "");
	assert_string_equal(scan(&f, "x" IBAN_GB), "");
	assert_string_equal(scan(&f, "to " IBAN_DE " ok"), "any-iban=" IBAN_DE " de=" IBAN_DE);
	assert_string_equal(scan(&f, "DE89 3704 0044 0532 0130 00 AB"),
			    "any-iban=DE89 3704 0044 0532 0130 00 de=DE89 3704 0044 0532 0130 00");
	/* Country-code groups before it, printed the same way: each one a start
	 * with the wrong number of characters after it; only the IBAN counts. */
	assert_string_equal(scan(&f, "DE12 DE12 DE12 DE89 3704 0044 0532 0130 00"),
			    "any-iban=DE89 3704 0044 0532 0130 00 de=DE89 3704 0044 0532 0130 00");
	assert_string_equal(scan(&f, "DE12 DE12 DE12 DE12 DE12 DE12 DE12 DE12 DE12"), "");
	/* A start whose country wants another length does not hide it. */
	assert_string_equal(scan(&f, "NL00 DE89 3704 0044 0532 0130 00"),
			    "any-iban=DE89 3704 0044 0532 0130 00 de=DE89 3704 0044 0532 0130 00");
	fx_free(&f);

	static const char *const gb[][3] = {{"gb", "iban", IBAN_GB}};
	build(&f, gb, 1);
	assert_string_equal(scan(&f, "a " IBAN_GB_PRINTED "\n" IBAN_GB "\n" IBAN_DE),
			    "gb=" IBAN_GB_PRINTED " gb=" IBAN_GB);
	assert_string_equal(scan(&f, IBAN_GB_BAD), "");
	fx_free(&f);
}

struct got {
	char text[4][128];
	size_t n;
};

static void collect(void *user, const struct matcher_stream_hit *h)
{
	struct got *g = user;
	assert_true(g->n < 4);
	snprintf(g->text[g->n], sizeof(g->text[0]), "%.*s", (int)h->text_len, h->text);
	g->n++;
}

/* Split anywhere: the address is found once, whole. */
static void test_stream(void **state)
{
	(void)state;
	struct fx f;
	build(&f, listed, sizeof(listed) / sizeof(listed[0]));
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(matcher_stream_prepare(f.m, f.s, &d), CS_OK);
	const char *data = "POST to=" ETH " amount=3";
	int n = (int)strlen(data);
	for (int cut = 1; cut < n; cut++) {
		struct matcher_stream ms;
		struct got g = {0};
		matcher_stream_init(&ms);
		assert_int_equal(matcher_stream_scan(f.m, f.s, &ms, (const uint8_t *)data,
						     (size_t)cut, 0, 1, 1, 0, collect, &g), CS_OK);
		assert_int_equal(matcher_stream_scan(f.m, f.s, &ms, (const uint8_t *)data + cut,
						     (size_t)(n - cut), (uint64_t)cut, 2, 2, 0,
						     collect, &g), CS_OK);
		assert_int_equal(matcher_stream_end(f.m, f.s, &ms, collect, &g), CS_OK);
		if (g.n != 1)
			fail_msg("cut %d: %zu hits", cut, g.n);
		assert_string_equal(g.text[0], ETH);
	}
	fx_free(&f);
}

static void load_bad(const char *line, const char *why)
{
	char text[512];
	snprintf(text, sizeof(text),
		 "@name t\n@category laundering\n@source s\n@licence CC0-1.0\n@tlp clear\n"
		 "ok-1 wallet %s\n%s\n",
		 BTC, line);
	struct pack *p = NULL;
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_not_equal(pack_parse("bad.pack", text, strlen(text), &p, &d), CS_OK);
	assert_null(p);
	assert_string_equal(d.file, "bad.pack");
	assert_int_equal(d.line, 7);
	if (!strstr(d.msg, why))
		fail_msg("message '%s' lacks '%s'", d.msg, why);
}

static void test_load_errors(void **state)
{
	(void)state;
	load_bad("x-1 wallet " BTC_BAD,
		 "invalid wallet address '" BTC_BAD "': bad checksum");
	load_bad("x-1 wallet " ETH_BADCASE, "bad checksum");
	load_bad("x-1 wallet trx:" ETH, "valid as eth, not as trx");
	load_bad("x-1 wallet any:doge", "unknown currency");
	load_bad("x-1 wallet hello", "invalid wallet address 'hello'");
	load_bad("x-1 wallet/i " BTC, "modifier 'i'");
	load_bad("x-1 iban " IBAN_GB_BAD, "invalid iban '" IBAN_GB_BAD "'");
	load_bad("x-1 iban GB82", "invalid iban");

	/* The stored forms the scanner looks up. */
	struct pack *p;
	assert_int_equal(pack_create_adhoc("n", &p), CS_OK);
	add(p, "a", IND_WALLET, "ETH:" ETH);
	add(p, "b", IND_WALLET, "bitcoincash:" CASH);
	add(p, "c", IND_IBAN, IBAN_GB_PRINTED);
	add(p, "d", IND_WALLET, "Any:XBT");
	assert_string_equal(p->ind[0].value, "eth:" ETH_LOWER);
	assert_string_equal(p->ind[1].value, CASH);
	assert_string_equal(p->ind[2].value, IBAN_GB);
	assert_string_equal(p->ind[3].value, "any:xbt");
	pack_destroy(p);
}

/* any:CODE finds every address of the OFAC pack (twelve currencies) by its
 * own family's shape: the address shape is narrowed to the families asked
 * for, and no real address may fall outside it. Each address is looked for
 * with only its own any:CODE loaded. */
static void test_any_real(void **state)
{
	(void)state;
	const char *root = getenv("CS_SOURCE_DIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/rules/laundering-ofac.pack", root ? root : ".");
	struct pack *ofac = NULL;
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(pack_load_file(path, &ofac, &d), CS_OK);
	size_t checked = 0;
	for (size_t i = 0; i < ofac->n_ind; i++) {
		const struct indicator *ind = &ofac->ind[i];
		const char *colon = ind->type == IND_WALLET ? strchr(ind->value, ':') : NULL;
		if (!colon)
			continue;
		char any[32];
		snprintf(any, sizeof(any), "any:%.*s", (int)(colon - ind->value), ind->value);
		struct pack *p;
		assert_int_equal(pack_create_adhoc("a", &p), CS_OK);
		add(p, "a", IND_WALLET, any);
		pack_seal(p);
		struct matcher *m;
		struct matcher_scratch *sc;
		assert_int_equal(matcher_build(&p, 1, NULL, NULL, &m, &d), CS_OK);
		assert_int_equal(matcher_scratch_create(m, &sc), CS_OK);
		char line[256];
		snprintf(line, sizeof(line), "pay %s now", colon + 1);
		struct matcher_hits h = {.limit = 100};
		assert_int_equal(matcher_scan(m, sc, (const uint8_t *)line, strlen(line), 0, &h, &d),
				 CS_OK);
		if (h.n != 1)
			fail_msg("%s not found by %s", colon + 1, any);
		checked++;
		matcher_hits_fini(&h);
		matcher_scratch_destroy(sc);
		matcher_destroy(m);
		pack_destroy(p);
	}
	assert_true(checked >= 600);
	pack_destroy(ofac);
}

/* From SHAPES_WALLETSET_MIN listed addresses on, they are held in the set
 * behind the address shape instead of compiled one literal each: the same
 * matches, with a handful of patterns. */
static void test_listed_set(void **state)
{
	(void)state;
	struct fx f = {0};
	assert_int_equal(pack_create_adhoc("many", &f.p), CS_OK);
	add_eth_many(f.p, 88172645463325252ull, 5000, -1, NULL);
	add(f.p, "btc", IND_WALLET, "xbt:" BTC);
	add(f.p, "any", IND_WALLET, "any:trx");
	fx_seal(&f);
	struct pack *p = f.p;
	struct matcher *m = f.m;
	struct matcher_stats st;
	matcher_get_stats(m, &st);
	assert_true(st.patterns < 10);
	assert_true(st.set_entries >= 5002);
	struct cs_diag d;
	cs_diag_clear(&d);
	char line[512];
	/* e4999 (the last listed), its hex in upper case; the BTC one; a TRX address by
	 * any:; an unlisted address and a broken checksum are not matches. */
	const char *e4999 = p->ind[4999].value + 4;
	snprintf(line, sizeof(line), "to 0x%s and %s and %s; 0x%040d; %s", e4999 + 2, BTC, TRX, 7,
		 BTC_BAD);
	for (char *c = line + 5; *c && *c != ' '; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 'a' + 'A');
	struct matcher_hits *h = &f.hits;
	h->limit = 100;
	assert_int_equal(matcher_scan(m, f.s, (const uint8_t *)line, strlen(line), 0, h, &d), CS_OK);
	assert_int_equal(h->n, 3);
	assert_string_equal(matcher_get(m, h->v[0].ind)->ind->id, "e4999");
	assert_string_equal(matcher_get(m, h->v[1].ind)->ind->id, "btc");
	assert_string_equal(matcher_get(m, h->v[2].ind)->ind->id, "any");
	fx_free(&f);
}

/* More addresses than are compiled one each, and no rule for any valid
 * address: a token is looked up in lower case before its checksum is
 * worked out, and still only a valid one counts: the EIP-55 form, all upper
 * case and all lower case of a listed address match, a broken checksum
 * does not. */
static void test_listed_set_lookup_first(void **state)
{
	(void)state;
	struct fx f = {0};
	assert_int_equal(pack_create_adhoc("many", &f.p), CS_OK);
	add_eth_many(f.p, 0x9e3779b97f4a7c15ull, 5000, 2500, "eth:" ETH_LOWER);
	fx_seal(&f);
	struct matcher *m = f.m;
	struct matcher_stats st;
	matcher_get_stats(m, &st);
	assert_true(st.patterns < 10);
	struct cs_diag d;
	cs_diag_clear(&d);
	/* a line each: one hit per line and indicator */
	const char *line = "a " ETH "\nb " ETH_UPPER "\nc " ETH_BADCASE "\nd " ETH_LOWER "\ne "
			   ETH_OTHER "\n";
	struct matcher_hits *h = &f.hits;
	h->limit = 100;
	assert_int_equal(matcher_scan(m, f.s, (const uint8_t *)line, strlen(line), 0, h, &d), CS_OK);
	assert_int_equal(h->n, 3);
	static const char *const want[] = {ETH, ETH_UPPER, ETH_LOWER};
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(matcher_get(m, h->v[i].ind)->ind->id, "e2500");
		assert_int_equal(h->v[i].end - h->v[i].start, 42);
		assert_memory_equal(line + h->v[i].start, want[i], 42);
	}
	fx_free(&f);
}

/* A digest found beside the engine and an engine hit ending at the same
 * offset (an Ethereum token's 40 hex digits are also a SHA-1), after an
 * earlier engine hit: under a limit of two the digest, the lower shape,
 * comes before the address, as the engine would have ordered them. */
static void test_tie_under_limit(void **state)
{
	(void)state;
	struct fx f = {0};
	assert_int_equal(pack_create_adhoc("tie", &f.p), CS_OK);
	add(f.p, "sha1", IND_SHA1, ETH_LOWER + 2);
	add(f.p, "anyeth", IND_WALLET, "any:eth");
	add(f.p, "lit", IND_LITERAL, "needle");
	fx_seal(&f);
	struct matcher *m = f.m;
	struct cs_diag d;
	cs_diag_clear(&d);
	const char *line = "needle to " ETH_LOWER " x";
	/* kept under limits 1, 2 and 3, in the order the hits come out (by start) */
	static const char *const want[3] = {"lit", "lit sha1", "lit anyeth sha1"};
	for (size_t limit = 1; limit <= 3; limit++) {
		struct matcher_hits h = {.limit = limit};
		assert_int_equal(matcher_scan(m, f.s, (const uint8_t *)line, strlen(line), 0, &h, &d),
				 CS_OK);
		assert_int_equal(h.n, limit);
		assert_int_equal(h.dropped, 3 - limit);
		char got[64] = "";
		for (size_t i = 0; i < h.n; i++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? " " : "",
				 matcher_get(m, h.v[i].ind)->ind->id);
		assert_string_equal(got, want[limit - 1]);
		matcher_hits_fini(&h);
	}
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listed),     cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_any),        cmocka_unit_test(test_iban),
		cmocka_unit_test(test_stream),     cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_any_real),   cmocka_unit_test(test_listed_set),
		cmocka_unit_test(test_listed_set_lookup_first),
		cmocka_unit_test(test_tie_under_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
