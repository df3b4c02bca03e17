/*
 * gen_txlog: deterministic generator of payment transaction logs (JSON lines,
 * CSV, key=value after a syslog prefix, Zeek TSV) for the window rules of
 * rules/laundering-behaviour.pack, with planted structuring, fan-out, fan-in,
 * pass-through and large-volume patterns, near misses of each, and the ground
 * truth of which rule must fire for which account.
 *
 * Background traffic is generated in time order under per-account limits that
 * keep every account below each rule with a margin of minutes, so nothing but
 * the planted patterns can fire; every pattern has accounts of its own. One
 * seed gives the same records in every format and with any --disorder (the
 * shuffle draws from a stream of its own). Single threaded; all state lives
 * in struct gen.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Rule ids and thresholds of rules/laundering-behaviour.pack. */
#define RULE_STRUCT "aml-structuring-24h"
#define RULE_FANOUT "aml-fanout-1h"
#define RULE_FANIN "aml-fanin-1h"
#define RULE_PASS "aml-passthrough-30m"
#define RULE_VOLUME "aml-volume-24h"

/* Amounts are fixed point with 8 decimals, so BTC and fiat share one type. */
#define UNIT 100000000LL
#define CENTS(c) ((int64_t)(c) * 1000000LL)
#define BAND_LO CENTS(900000) /* structuring band 9000.00 .. 9999.99 */
#define BAND_HI CENTS(999999)
#define BIG_MIN CENTS(500000) /* pass-through counts amounts from 5000 */
#define FAN_MAX 9u            /* distinct counterparties that stay below the fan rules */

/* Background limits. Each keeps an account clear of one rule with a margin,
 * so whole-second timestamps and any slack cannot make background fire. */
#define BG_FAN_SPAN 4200u    /* s: at most FAN_MAX sends and FAN_MAX receipts in any 70 min */
#define BG_BAND_SPAN 93600u  /* s: at most two band amounts sent in any 26 h */
#define BG_VOL_SPAN 93600u   /* s: sends summed per 26 h bucket; a 24 h window meets two */
#define BG_VOL_CAP 2499999u  /* cents per bucket, so any 24 h stays below 50000 */
#define BG_PASS_GAP 2400u    /* s: no big send within 40 min after a big receipt */
#define BG_PASS_TIE 60u      /* s: no big receipt within 60 s after a big send */

#define OUT_CAP (4u << 20)
#define LINE_MAX_LEN 1024u
#define PAT_TX_MAX 16
#define PAT_ACCT_MAX 20
#define MAX_ACCOUNTS 20000000u
#define MAX_RECORDS 2000000000ULL
#define HOUR_MS 3600000ULL
#define MIN_S 60u
#define HOUR_S 3600u

enum fmt { FMT_JSON, FMT_CSV, FMT_KV, FMT_ZEEK };
enum cur { CUR_EUR, CUR_GBP, CUR_PLN, CUR_CHF, CUR_USDT, CUR_USDC, CUR_BTC, CUR_ETH };
enum chan { CH_SEPA, CH_INSTANT, CH_CARD, CH_SWIFT, CH_FPS, CH_DOMESTIC, CH_ERC20, CH_TRC20, CH_BTC };
enum txtype { TT_TRANSFER, TT_CARD, TT_DEBIT, TT_SALARY, TT_REFUND, TT_CRYPTO };
enum flavor { FL_IBAN, FL_IBAN_EUR, FL_ETH, FL_TRON, FL_BTC };
enum ev { EV_CARD, EV_P2P, EV_BILL, EV_CRYPTO, EV_B2B, EV_REFUND, EV_LARGE, EV_BAND };
enum status { ST_BOOKED, ST_PENDING, ST_REJECTED };

/* A name with its length, so that writing it needs no strlen. */
struct word {
    const char *s;
    uint8_t len;
};
#define W(x) {x, sizeof(x) - 1}

static const struct word CUR_NAME[] = {W("EUR"), W("GBP"), W("PLN"), W("CHF"), W("USDT"), W("USDC"), W("BTC"), W("ETH")};
static const uint8_t CUR_DEC[] = {2, 2, 2, 2, 2, 2, 8, 8};
static const struct word CHAN_NAME[] = {W("sepa"),     W("sepa_instant"), W("card"),  W("swift"),  W("faster_payments"),
                                        W("domestic"), W("erc20"),        W("trc20"), W("bitcoin")};
static const struct word TYPE_NAME[] = {W("transfer"), W("card_payment"), W("direct_debit"),
                                        W("salary"),   W("refund"),       W("crypto_transfer")};
static const struct word STATUS_NAME[] = {W("booked"), W("pending"), W("rejected")};
static const char *const MONTHS[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char HEX[] = "0123456789abcdef";
static const char B58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
static const char BECH32[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/* IBAN layout: bank code, `fill` random digits, ten digits unique to the
 * account, `tail` random digits; check digits by ISO 13616 (mod 97). */
struct iban_fmt {
    char cc[3];
    uint8_t cur, weight, fill, tail;
    const char *banks[4];
};
static const struct iban_fmt IBANS[] = {
    {"DE", CUR_EUR, 30, 0, 0, {"10010010", "37040044", "50010517", "70020270"}},
    {"FR", CUR_EUR, 14, 6, 2, {"30004", "30003", "20041", "10278"}},
    {"NL", CUR_EUR, 12, 0, 0, {"ABNA", "INGB", "RABO", "TRIO"}},
    {"ES", CUR_EUR, 10, 6, 0, {"2100", "0049", "0182", "2085"}},
    {"IT", CUR_EUR, 10, 7, 0, {"X03069", "A02008", "K05034", "N03062"}},
    {"AT", CUR_EUR, 5, 1, 0, {"20111", "12000", "32000", "14000"}},
    {"GB", CUR_GBP, 8, 4, 0, {"NWBK", "BARC", "HBUK", "MIDL"}},
    {"PL", CUR_PLN, 6, 6, 0, {"10201026", "10901014", "11402004", "12401037"}},
    {"CH", CUR_CHF, 5, 2, 0, {"00762", "00230", "04835", "00700"}},
};
#define IBAN_EUR_COUNT 6 /* the first six layouts are euro countries */

struct memo {
    struct word text;
    uint8_t num;   /* append a number */
    uint8_t comma; /* quoted in CSV */
};
static const struct memo MEMOS[] = {
    {W("Groceries"), 0, 0}, {W("Dinner split"), 0, 0}, {W("Thanks!"), 0, 0}, {W("Birthday present"), 0, 0},
    {W("Invoice"), 1, 0}, {W("Rent"), 0, 0}, {W("Electricity, account"), 1, 1}, {W("Insurance policy"), 1, 0},
    {W("Refund, order"), 1, 1}, {W("Salary"), 0, 0}, {W("Order"), 1, 0}, {W("Savings"), 0, 0},
    {W("Car deposit"), 0, 0}, {W("Tuition fee, term"), 1, 1}, {W("Consulting services"), 0, 0},
    {W("Loan repayment"), 0, 0}, {W("Investment"), 0, 0}, {W("Services rendered"), 1, 0},
    {W("Payout"), 1, 0}, {W("Deposit"), 0, 0},
};
/* memo ranges per event kind: first index, count */
static const uint8_t EV_MEMO[][2] = {{10, 1}, {0, 4}, {5, 3}, {18, 2}, {4, 1}, {8, 1}, {11, 3}, {12, 2}};
#define MEMO_SALARY 9
#define MEMO_PLANT 14 /* planted patterns use the last six */
#define MEMO_PLANT_N 6

/* Patterns. The first five must fire; the rest are near misses that must not. */
enum pk {
    PK_STRUCT, PK_FANOUT, PK_FANIN, PK_PASS, PK_VOLUME,
    PK_STRUCT_TWO, PK_STRUCT_SPREAD, PK_STRUCT_EDGE, PK_STRUCT_REJECTED,
    PK_FANOUT_NINE, PK_FANOUT_REPEAT, PK_FANOUT_SLOW, PK_FANOUT_REJECTED,
    PK_FANIN_NINE, PK_FANIN_REPEAT,
    PK_PASS_LATE, PK_PASS_REVERSE, PK_PASS_SMALL,
    PK_VOLUME_BELOW, PK_VOLUME_SPREAD, PK_COUNT
};
#define PK_FIRE_KINDS 5
#define PK_FIRE_WEIGHT 3 /* a cycle holds each firing kind three times, each near miss once */
#define PK_CYCLE (PK_FIRE_KINDS * PK_FIRE_WEIGHT + PK_COUNT - PK_FIRE_KINDS)
static const char *const PK_NAME[] = {
    "structuring", "fan-out", "fan-in", "pass-through", "large-volume",
    "struct-two", "struct-spread-25h", "struct-edge-amounts", "struct-one-rejected",
    "fanout-nine", "fanout-repeat", "fanout-slow-70m", "fanout-one-rejected",
    "fanin-nine", "fanin-repeat",
    "pass-late-31m", "pass-out-before-in", "pass-small",
    "volume-below", "volume-spread-25h"};
static const char *const PK_RULE[] = {
    RULE_STRUCT, RULE_FANOUT, RULE_FANIN, RULE_PASS, RULE_VOLUME,
    RULE_STRUCT, RULE_STRUCT, RULE_STRUCT, RULE_STRUCT,
    RULE_FANOUT, RULE_FANOUT, RULE_FANOUT, RULE_FANOUT,
    RULE_FANIN, RULE_FANIN,
    RULE_PASS, RULE_PASS, RULE_PASS,
    RULE_VOLUME, RULE_VOLUME};

struct acct {
    char id[47]; /* copied whole, written up to len */
    uint8_t len;
};

/* What drawing a record needs of an account, apart from its long name. */
struct acct_meta {
    uint8_t cur;
    uint8_t country; /* index into IBANS, or 0xff for a wallet */
    uint8_t chain;   /* enum flavor */
};

/* Background limits per account, split by the side that reads them so that a
 * record touches one line of each; times are seconds since --start plus one,
 * 0 = none. */
struct send_state {
    _Alignas(64) uint32_t sent[FAN_MAX];
    uint32_t band[2];
    uint32_t big_in; /* last big receipt */
    uint32_t vol_bucket, vol_cents;
    uint8_t si, bi;
};
struct recv_state {
    _Alignas(64) uint32_t recv[FAN_MAX];
    uint32_t big_out; /* last big send */
    uint8_t ri;
};

struct tx {
    uint64_t ms;    /* event time, ms since the epoch */
    uint64_t order; /* output position: ms plus the disorder jitter */
    uint64_t seq;   /* creation number; names the txid */
    int64_t amt;
    uint32_t from, to;
    uint32_t slot; /* planted: index into gen.ptx plus one; 0 for background */
    uint8_t type, chan, status, memo, cur;
    uint32_t memo_n;
};

struct pattern {
    uint8_t kind;
    uint32_t key;          /* account the rule keys on */
    uint32_t first, count; /* its records in gen.ptx */
};

struct gen_opts {
    int fmt;
    uint64_t records, seed, accounts, start_ms, disorder_s, days, patterns;
    int patterns_set;
    const char *out, *truth, *start_text;
};

struct gen {
    uint64_t s[4], js[4]; /* xoshiro256** states: records, disorder jitter */
    struct gen_opts o;
    uint64_t start_ms, ms, seq, line, bg_made, n_bg;
    double rate; /* background events per ms at profile weight 1 */
    struct acct *names;
    struct acct_meta *meta;
    struct send_state *ss;
    struct recv_state *rs;
    uint32_t n_acct, n_names, cap_names;
    uint32_t base_emp, n_emp, base_merch, n_merch, base_bus, n_bus, base_wal, n_wal, base_pers, n_pers;
    struct tx *ptx;
    uint64_t *ptx_line;
    uint32_t n_ptx;
    struct pattern *pat;
    uint32_t n_pat;
    struct tx *heap;
    size_t n_heap, cap_heap;
    int fd;
    char *out;
    size_t out_len;
    uint64_t written;
    time_t cached_day;
    struct tm tm;
    uint32_t key32;
};

/* ---- random numbers ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t xoshiro(uint64_t *s)
{
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

static inline uint64_t rnd(struct gen *g) { return xoshiro(g->s); }
static inline uint32_t rndn(struct gen *g, uint32_t n) { return (uint32_t)(((rnd(g) >> 32) * n) >> 32); }
static inline double rnd01(struct gen *g) { return (double)(rnd(g) >> 11) * (1.0 / 9007199254740992.0); }

/* Uniform in [lo, hi], both inclusive. */
static inline uint64_t rnd_range(struct gen *g, uint64_t lo, uint64_t hi) { return lo + rnd(g) % (hi - lo + 1); }
static inline int64_t cents_range(struct gen *g, uint32_t lo, uint32_t hi) { return CENTS(rnd_range(g, lo, hi)); }

/* A bijection on 32 bits: distinct accounts get distinct digits. */
static uint32_t mix32(uint32_t x, uint32_t key)
{
    x ^= key;
    x *= 0x9E3779B1u;
    x ^= x >> 16;
    x *= 0x85EBCA6Bu;
    x ^= x >> 13;
    x *= 0xC2B2AE35u;
    return x ^ (x >> 16);
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* ---- appenders into a line under construction ---- */

static inline char *put_mem(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

static inline char *put_str(char *p, const char *s) { return put_mem(p, s, strlen(s)); }
static inline char *put_word(char *p, struct word w) { return put_mem(p, w.s, w.len); }

static char *put_u(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *put_u_pad(char *p, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + width;
}

static char *put_rand(struct gen *g, char *p, const char *alpha, uint32_t alen, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = alpha[rndn(g, alen)];
    return p + n;
}

/* v in base `radix`, most significant digit first, exactly n digits. */
static char *put_base(char *p, uint64_t v, const char *alpha, uint32_t radix, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= radix)
        p[i] = alpha[v % radix];
    return p + n;
}

/* ---- accounts ---- */

static void iban_make(struct gen *g, uint32_t idx, int eur_only)
{
    struct acct *a = &g->names[idx];
    struct acct_meta *m = &g->meta[idx];
    uint32_t c = 0;
    if (eur_only) {
        c = rndn(g, IBAN_EUR_COUNT);
    } else {
        for (uint32_t w = rndn(g, 100); w >= IBANS[c].weight; c++)
            w -= IBANS[c].weight;
    }
    const struct iban_fmt *f = &IBANS[c];
    char bban[40], *p = put_str(bban, f->banks[rndn(g, 4)]);
    p = put_rand(g, p, HEX, 10, f->fill);
    p = put_base(p, mix32(idx, g->key32), HEX, 10, 10);
    p = put_rand(g, p, HEX, 10, f->tail);
    /* ISO 13616 check digits: BBAN, country letters and "00" read as a number, mod 97 */
    memcpy(p, f->cc, 2);
    memcpy(p + 2, "00", 3);
    uint32_t r = 0;
    for (const char *q = bban; *q; q++)
        r = *q >= 'A' ? (r * 100 + (uint32_t)(*q - 'A' + 10)) % 97 : (r * 10 + (uint32_t)(*q - '0')) % 97;
    *p = '\0';
    a->len = (uint8_t)snprintf(a->id, sizeof a->id, "%s%02u%s", f->cc, 98 - r, bban);
    m->cur = f->cur;
    m->country = (uint8_t)c;
    m->chain = FL_IBAN;
}

static void wallet_make(struct gen *g, uint32_t idx, int chain, int stable_only)
{
    struct acct *a = &g->names[idx];
    struct acct_meta *m = &g->meta[idx];
    uint32_t u = mix32(idx, g->key32);
    char *p = a->id;
    m->country = 0xff;
    m->chain = (uint8_t)chain;
    if (chain == FL_ETH) {
        p = put_rand(g, put_base(put_str(p, "0x"), u, HEX, 16, 8), HEX, 16, 32);
        uint32_t r = stable_only ? 0 : rndn(g, 10);
        m->cur = r < 5 ? CUR_USDT : r < 8 ? CUR_USDC : CUR_ETH;
    } else if (chain == FL_TRON) {
        /* the unique digits start small, so random characters go first */
        p = put_rand(g, put_base(put_rand(g, put_str(p, "T"), B58 + 8, 50, 3), u, B58, 58, 6), B58, 58, 24);
        m->cur = CUR_USDT;
    } else {
        p = put_rand(g, put_base(put_rand(g, put_str(p, "bc1q"), BECH32, 32, 3), u, BECH32, 32, 7), BECH32, 32, 28);
        m->cur = CUR_BTC;
    }
    a->len = (uint8_t)(p - a->id);
}

/* Wallet accounts by chain: the first 45 % Ethereum, 35 % Tron, the rest Bitcoin. */
static void wallet_range(const struct gen *g, int chain, uint32_t *base, uint32_t *n)
{
    uint32_t eth = g->n_wal * 45 / 100, tron = g->n_wal * 35 / 100;
    if (chain == FL_ETH) {
        *base = g->base_wal;
        *n = eth;
    } else if (chain == FL_TRON) {
        *base = g->base_wal + eth;
        *n = tron;
    } else {
        *base = g->base_wal + eth + tron;
        *n = g->n_wal - eth - tron;
    }
}

/* Background accounts by index: employers, merchants, businesses, wallets, persons. */
static int accounts_init(struct gen *g, uint32_t n, uint32_t planted_max)
{
    g->n_acct = n;
    g->n_emp = n / 200;
    g->n_merch = n / 50;
    g->n_bus = n * 3 / 100;
    g->n_wal = n * 12 / 100;
    g->base_emp = 0;
    g->base_merch = g->n_emp;
    g->base_bus = g->base_merch + g->n_merch;
    g->base_wal = g->base_bus + g->n_bus;
    g->base_pers = g->base_wal + g->n_wal;
    g->n_pers = n - g->base_pers;
    g->cap_names = n + planted_max;
    g->names = calloc(g->cap_names, sizeof *g->names);
    g->meta = calloc(g->cap_names, sizeof *g->meta);
    g->ss = aligned_alloc(64, (size_t)n * sizeof *g->ss); /* one cache line an account */
    g->rs = aligned_alloc(64, (size_t)n * sizeof *g->rs);
    if (!g->names || !g->meta || !g->ss || !g->rs)
        return -1;
    memset(g->ss, 0, (size_t)n * sizeof *g->ss);
    memset(g->rs, 0, (size_t)n * sizeof *g->rs);
    for (uint32_t i = 0; i < n; i++) {
        if (i < g->base_wal || i >= g->base_pers) {
            iban_make(g, i, 0);
            continue;
        }
        uint32_t b, c;
        int chain = FL_ETH;
        for (; chain <= FL_BTC; chain++) {
            wallet_range(g, chain, &b, &c);
            if (i < b + c)
                break;
        }
        wallet_make(g, i, chain, 0);
    }
    g->n_names = n;
    return 0;
}

/* An index in [base, base+n); skew 1 and 2 favour low indices (busy accounts). */
static uint32_t pick(struct gen *g, uint32_t base, uint32_t n, int skew)
{
    double u = rnd01(g);
    if (skew == 1)
        u *= u;
    else if (skew >= 2)
        u *= u * u;
    uint32_t i = (uint32_t)(u * n);
    return base + (i < n ? i : n - 1);
}

static uint8_t chan_for(struct gen *g, uint32_t from, uint32_t to)
{
    const struct acct_meta *a = &g->meta[from], *b = &g->meta[to];
    if (a->country == 0xff)
        return a->chain == FL_ETH ? CH_ERC20 : a->chain == FL_TRON ? CH_TRC20 : CH_BTC;
    if (a->cur != b->cur)
        return CH_SWIFT;
    if (a->cur == CUR_EUR)
        return rndn(g, 10) < 3 ? CH_INSTANT : CH_SEPA;
    return a->cur == CUR_GBP ? CH_FPS : CH_DOMESTIC;
}

/* ---- background traffic ---- */

/* Log-normal amount in the sender's currency, clamped to [lo, hi] and rounded to its decimals. */
static int64_t amount_lognormal(struct gen *g, uint8_t cur, double median, double sigma, double lo, double hi)
{
    double u1 = 1.0 - rnd01(g), u2 = rnd01(g);
    double v = median * exp(sigma * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
    v = v < lo ? lo : v > hi ? hi : v;
    int64_t step = CUR_DEC[cur] == 8 ? 1 : CENTS(1);
    return (int64_t)(v * (double)(UNIT / step)) * step;
}

static int64_t crypto_amount(struct gen *g, uint8_t cur)
{
    if (cur == CUR_BTC)
        return amount_lognormal(g, cur, 0.004, 1.3, 0.00001, 0.5);
    if (cur == CUR_ETH)
        return amount_lognormal(g, cur, 0.15, 1.3, 0.0005, 8.0);
    return amount_lognormal(g, cur, 180, 1.5, 1, 20000);
}

struct cand {
    uint32_t from, to;
    int64_t amt;
    uint8_t type, chan;
};

/* One candidate record of an event kind; 0 when it is unusable (sender = receiver). */
static int bg_draw(struct gen *g, int ev, int skew, struct cand *c)
{
    uint32_t b, n;
    c->type = TT_TRANSFER;
    c->chan = 0xff;
    switch (ev) {
    case EV_CARD:
        c->from = pick(g, g->base_pers, g->n_pers, skew);
        c->to = pick(g, g->base_merch, g->n_merch, skew ? 2 : 0);
        c->amt = amount_lognormal(g, g->meta[c->from].cur, 38, 1.0, 1.5, 4000);
        c->type = TT_CARD;
        c->chan = CH_CARD;
        break;
    case EV_BILL:
        c->from = pick(g, g->base_pers, g->n_pers, skew);
        c->to = pick(g, g->base_bus, g->n_bus, skew);
        c->amt = amount_lognormal(g, g->meta[c->from].cur, 140, 0.9, 5, 4000);
        c->type = TT_DEBIT;
        break;
    case EV_CRYPTO:
        wallet_range(g, rndn(g, 100) < 55 ? FL_ETH : rndn(g, 100) < 60 ? FL_TRON : FL_BTC, &b, &n);
        c->from = pick(g, b, n, skew);
        c->to = pick(g, b, n, skew);
        c->amt = crypto_amount(g, g->meta[c->from].cur);
        c->type = TT_CRYPTO;
        break;
    case EV_B2B:
        c->from = rndn(g, 3) ? pick(g, g->base_bus, g->n_bus, skew) : pick(g, g->base_merch, g->n_merch, skew);
        c->to = pick(g, g->base_bus, g->n_bus, skew);
        c->amt = amount_lognormal(g, g->meta[c->from].cur, 1800, 1.1, 50, 24000);
        break;
    case EV_REFUND:
        c->from = pick(g, g->base_merch, g->n_merch, skew);
        c->to = pick(g, g->base_pers, g->n_pers, skew);
        c->amt = amount_lognormal(g, g->meta[c->from].cur, 35, 1.0, 1, 2000);
        c->type = TT_REFUND;
        break;
    case EV_LARGE:
    case EV_BAND:
        c->from = pick(g, g->base_pers, g->n_pers, skew);
        c->to = rndn(g, 2) ? pick(g, g->base_bus, g->n_bus, skew) : pick(g, g->base_pers, g->n_pers, 0);
        c->amt = ev == EV_BAND ? cents_range(g, 900000, 999999) : cents_range(g, 500000, 2000000);
        break;
    default: /* EV_P2P */
        c->from = pick(g, g->base_pers, g->n_pers, skew);
        c->to = pick(g, g->base_pers, g->n_pers, skew);
        c->amt = amount_lognormal(g, g->meta[c->from].cur, 60, 1.2, 1, 4900);
    }
    if (c->from == c->to)
        return 0;
    if (c->chan == 0xff)
        c->chan = chan_for(g, c->from, c->to);
    return 1;
}

static inline int ring_ok(const uint32_t *ring, uint8_t oldest, uint32_t s, uint32_t span)
{
    return ring[oldest] == 0 || s - ring[oldest] >= span;
}

/* Whether a background record keeps both accounts below every rule; if so,
 * records it in their limits. Background records come in time order. */
static int admit(struct gen *g, uint32_t from, uint32_t to, int64_t amt)
{
    struct send_state *f = &g->ss[from];
    struct recv_state *t = &g->rs[to];
    uint32_t s = (uint32_t)((g->ms - g->start_ms) / 1000) + 1;
    int band = amt >= BAND_LO && amt <= BAND_HI, big = amt >= BIG_MIN;
    uint32_t bucket = s / BG_VOL_SPAN, cents = (uint32_t)((amt + CENTS(1) - 1) / CENTS(1));
    uint32_t vol = f->vol_bucket == bucket ? f->vol_cents : 0;
    if (!ring_ok(f->sent, f->si, s, BG_FAN_SPAN) || !ring_ok(t->recv, t->ri, s, BG_FAN_SPAN))
        return 0;
    if (band && !ring_ok(f->band, f->bi, s, BG_BAND_SPAN))
        return 0;
    if (big && ((f->big_in && s - f->big_in < BG_PASS_GAP) || (t->big_out && s - t->big_out < BG_PASS_TIE)))
        return 0;
    if (vol + cents > BG_VOL_CAP)
        return 0;
    f->sent[f->si] = s;
    f->si = (uint8_t)((f->si + 1) % FAN_MAX);
    t->recv[t->ri] = s;
    t->ri = (uint8_t)((t->ri + 1) % FAN_MAX);
    if (band) {
        f->band[f->bi] = s;
        f->bi ^= 1;
    }
    if (big) {
        g->rs[from].big_out = s;
        g->ss[to].big_in = s;
    }
    f->vol_bucket = bucket;
    f->vol_cents = vol + cents;
    return 1;
}

/* ---- output order: a heap on (order, seq) ---- */

static inline int tx_before(const struct tx *a, const struct tx *b)
{
    return a->order < b->order || (a->order == b->order && a->seq < b->seq);
}

static int heap_push(struct gen *g, struct tx *t)
{
    if (g->n_heap == g->cap_heap) {
        size_t cap = g->cap_heap ? g->cap_heap * 2 : 1024;
        struct tx *h = realloc(g->heap, cap * sizeof *h);
        if (!h)
            return -1;
        g->heap = h;
        g->cap_heap = cap;
    }
    /* the jitter stream is separate, so --disorder never changes the records */
    t->order = t->ms + (g->o.disorder_s ? xoshiro(g->js) % (g->o.disorder_s * 1000 + 1) : 0);
    size_t i = g->n_heap++;
    while (i > 0 && tx_before(t, &g->heap[(i - 1) / 2])) {
        g->heap[i] = g->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    g->heap[i] = *t;
    return 0;
}

static void heap_pop(struct gen *g, struct tx *out)
{
    *out = g->heap[0];
    struct tx last = g->heap[--g->n_heap];
    size_t i = 0, n = g->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && tx_before(&g->heap[c + 1], &g->heap[c]))
            c++;
        if (!tx_before(&g->heap[c], &last))
            break;
        g->heap[i] = g->heap[c];
        i = c;
    }
    if (n)
        g->heap[i] = last;
}

/* ---- background events ---- */

/* Relative activity by hour of day (UTC taken as local time). */
static const double HOUR_W[24] = {0.25, 0.15, 0.10, 0.08, 0.08, 0.12, 0.30, 0.60, 0.90, 1.10, 1.20, 1.30,
                                  1.40, 1.30, 1.20, 1.20, 1.30, 1.40, 1.50, 1.50, 1.30, 1.00, 0.70, 0.45};

static double profile(uint64_t ms)
{
    uint64_t h = ms / HOUR_MS;
    uint64_t weekday = (h / 24 + 3) % 7; /* 0 = Monday; 1970-01-01 was a Thursday */
    return weekday >= 5 ? HOUR_W[h % 24] * 0.75 : HOUR_W[h % 24];
}

static int business_hours(uint64_t ms)
{
    uint64_t h = ms / HOUR_MS;
    return (h / 24 + 3) % 7 < 5 && h % 24 >= 8 && h % 24 < 17;
}

static int bg_push(struct gen *g, const struct cand *c, uint8_t memo)
{
    uint32_t st = rndn(g, 1000);
    struct tx t = {.ms = g->ms, .seq = g->seq++, .amt = c->amt, .from = c->from, .to = c->to,
                   .type = c->type, .chan = c->chan, .memo = memo, .memo_n = rndn(g, 100000)};
    t.status = st < 6 ? ST_REJECTED : st < 16 ? ST_PENDING : ST_BOOKED;
    t.cur = g->meta[c->from].cur;
    g->bg_made++;
    return heap_push(g, &t);
}

/* A few draws, the later ones without preference for busy accounts; the event
 * is dropped when every draw would bring an account near a rule. */
static int bg_one(struct gen *g, int ev)
{
    struct cand c;
    for (int attempt = 0; attempt < 6; attempt++) {
        if (bg_draw(g, ev, attempt < 3, &c) && admit(g, c.from, c.to, c.amt))
            return bg_push(g, &c, (uint8_t)(EV_MEMO[ev][0] + rndn(g, EV_MEMO[ev][1])));
    }
    return 0;
}

/* An employer pays its three to nine staff in one batch. */
static int bg_payroll(struct gen *g)
{
    uint32_t e = g->base_emp + rndn(g, g->n_emp);
    uint32_t staff = 3 + mix32(e, 0x5a1au) % 7;
    for (uint32_t j = 0; j < staff && g->bg_made < g->n_bg; j++) {
        g->ms += rndn(g, 1000); /* one batch file, booked within seconds */
        struct cand c = {.from = e, .to = g->base_pers + mix32(e * 16 + j, 0xe3b1u) % g->n_pers,
                         .amt = cents_range(g, 140000, 340000), .type = TT_SALARY};
        c.chan = chan_for(g, c.from, c.to);
        if (admit(g, c.from, c.to, c.amt) && bg_push(g, &c, MEMO_SALARY) != 0)
            return -1;
    }
    return 0;
}

static int bg_event(struct gen *g)
{
    double gap = -log(1.0 - rnd01(g)) / (g->rate * profile(g->ms));
    g->ms += (uint64_t)gap;
    uint32_t r = rndn(g, 1000);
    if (r < 480)
        return bg_one(g, EV_CARD);
    if (r < 700)
        return bg_one(g, EV_P2P);
    if (r < 780)
        return bg_one(g, EV_BILL);
    if (r < 880)
        return bg_one(g, EV_CRYPTO);
    if (r < 930)
        return bg_one(g, EV_B2B);
    if (r < 955)
        return bg_one(g, EV_REFUND);
    if (r < 975)
        return bg_one(g, EV_LARGE);
    if (r < 977)
        return bg_one(g, EV_BAND);
    if (r < 979 && business_hours(g->ms))
        return bg_payroll(g);
    return bg_one(g, EV_P2P);
}

/* Background events per ms at weight 1, so that n_bg records fill --days. */
static void rate_init(struct gen *g)
{
    double w = 0;
    for (uint64_t h = 0; h < g->o.days * 24; h++)
        w += profile(g->start_ms + h * HOUR_MS) * (double)HOUR_MS;
    g->rate = (double)(g->n_bg ? g->n_bg : 1) / w;
}

/* ---- planted patterns ---- */

static uint32_t pat_acct(struct gen *g, int flavor)
{
    uint32_t idx = g->n_names++;
    if (flavor == FL_IBAN_EUR)
        iban_make(g, idx, 1);
    else
        wallet_make(g, idx, flavor, 1);
    return idx;
}

static void pat_tx(struct gen *g, uint64_t ms, uint32_t from, uint32_t to, int64_t amt, int rejected)
{
    struct tx *t = &g->ptx[g->n_ptx++];
    *t = (struct tx){.ms = ms, .seq = g->seq++, .amt = amt, .from = from, .to = to, .slot = g->n_ptx};
    t->type = g->meta[from].country == 0xff ? TT_CRYPTO : TT_TRANSFER;
    t->cur = g->meta[from].cur;
    t->chan = chan_for(g, from, to);
    t->status = rejected ? ST_REJECTED : rndn(g, 10) ? ST_BOOKED : ST_PENDING;
    t->memo = (uint8_t)(MEMO_PLANT + rndn(g, MEMO_PLANT_N));
    t->memo_n = rndn(g, 100000);
}

/* n sorted offsets in ms, uniform in [0, span_s] seconds. */
static void spread(struct gen *g, uint64_t *off, int n, uint64_t span_s)
{
    for (int i = 0; i < n; i++) {
        uint64_t v = rnd_range(g, 0, span_s * 1000);
        int j = i;
        for (; j > 0 && off[j - 1] > v; j--)
            off[j] = off[j - 1];
        off[j] = v;
    }
}

/* Structuring bursts and their near misses: band amounts from one account. */
static uint32_t plant_struct(struct gen *g, int kind, uint64_t t0, int fl)
{
    uint32_t src = pat_acct(g, fl), dst[2] = {pat_acct(g, fl), pat_acct(g, fl)};
    uint64_t off[5];
    int n = kind == PK_STRUCT ? 3 + (int)rndn(g, 3) : kind == PK_STRUCT_TWO ? 2 : kind == PK_STRUCT_EDGE ? 3 + (int)rndn(g, 2) : 3;
    int rejected = kind == PK_STRUCT_REJECTED ? (int)rndn(g, 3) : -1;
    if (kind == PK_STRUCT_SPREAD) { /* pairs within 24 h, first to last over 25 h */
        off[0] = 0;
        off[1] = (12 * HOUR_S + rnd_range(g, 0, HOUR_S)) * 1000ULL;
        off[2] = (25 * HOUR_S + rnd_range(g, 0, HOUR_S)) * 1000ULL;
    } else {
        spread(g, off, n, 20 * HOUR_S);
    }
    for (int i = 0; i < n; i++) {
        int64_t amt;
        uint32_t r = rndn(g, 10);
        if (kind == PK_STRUCT_EDGE) /* just outside 9000 .. 9999.99 */
            amt = r < 3 ? CENTS(899999) : r < 6 ? CENTS(1000000) : r < 8 ? cents_range(g, 850000, 899998)
                                                                        : cents_range(g, 1000001, 1010000);
        else /* inside, the bounds themselves included */
            amt = r == 0 ? BAND_LO : r == 1 ? BAND_HI : cents_range(g, 900000, 999999);
        pat_tx(g, t0 + off[i], src, dst[rndn(g, 2)], amt, i == rejected);
    }
    return src;
}

/* Fan-out and fan-in around a hub, and their near misses. */
static uint32_t plant_fan(struct gen *g, int kind, uint64_t t0, int fl)
{
    int out = kind == PK_FANOUT || (kind >= PK_FANOUT_NINE && kind <= PK_FANOUT_REJECTED);
    uint32_t hub = pat_acct(g, fl), peer[PAT_TX_MAX];
    uint64_t off[PAT_TX_MAX];
    int n, distinct, rejected = 0;
    if (kind == PK_FANOUT || kind == PK_FANIN) {
        n = distinct = 10 + (int)rndn(g, 6);
    } else if (kind == PK_FANOUT_NINE || kind == PK_FANIN_NINE) {
        n = distinct = (int)FAN_MAX;
    } else if (kind == PK_FANOUT_REPEAT || kind == PK_FANIN_REPEAT) {
        distinct = 5 + (int)rndn(g, 5);
        n = 12 + (int)rndn(g, 5);
    } else { /* slow, or one too many of them rejected */
        n = distinct = 10 + (int)rndn(g, 3);
        rejected = kind == PK_FANOUT_REJECTED ? n - (int)FAN_MAX : 0;
    }
    for (int i = 0; i < distinct; i++)
        peer[i] = pat_acct(g, fl);
    if (kind == PK_FANOUT_SLOW) { /* 8-9 min apart: at most 8 in any hour */
        uint64_t gap = rnd_range(g, 8 * MIN_S, 9 * MIN_S) * 1000ULL;
        for (int i = 0; i < n; i++)
            off[i] = (uint64_t)i * gap;
    } else {
        spread(g, off, n, 50 * MIN_S);
    }
    for (int i = 0; i < n; i++) {
        uint32_t p = i < distinct ? peer[i] : peer[rndn(g, (uint32_t)distinct)];
        int64_t amt = !out ? cents_range(g, 5000, 499999)
                           : kind == PK_FANOUT_REPEAT ? cents_range(g, 10000, 250000) : cents_range(g, 20000, 300000);
        /* the first `rejected` peers each get their only transfer refused */
        pat_tx(g, t0 + off[i], out ? hub : p, out ? p : hub, amt, i < rejected);
    }
    return hub;
}

/* Pass-through: in to an account, then out of it; near misses by time, order, amount. */
static uint32_t plant_pass(struct gen *g, int kind, uint64_t t0, int fl)
{
    uint32_t x = pat_acct(g, fl), a = pat_acct(g, fl), y = pat_acct(g, fl);
    int64_t in = cents_range(g, 530000, 4500000);
    int64_t out = in / 1000 * (int64_t)rnd_range(g, 950, 995) / CENTS(1) * CENTS(1);
    uint64_t t_in = t0, t_out = t0 + rnd_range(g, MIN_S, 28 * MIN_S) * 1000ULL;
    if (kind == PK_PASS_LATE) {
        t_out = t0 + rnd_range(g, 31 * MIN_S, 45 * MIN_S) * 1000ULL;
    } else if (kind == PK_PASS_REVERSE) {
        t_out = t0;
        t_in = t0 + rnd_range(g, 2 * MIN_S, 28 * MIN_S) * 1000ULL;
        out = cents_range(g, 530000, 4500000);
    } else if (kind == PK_PASS_SMALL) {
        uint32_t v = rndn(g, 3);
        in = v == 0 ? cents_range(g, 100000, 499999) : v == 1 ? cents_range(g, 530000, 900000) : cents_range(g, 400000, 499999);
        out = v == 0 ? in / 1000 * (int64_t)rnd_range(g, 950, 995) / CENTS(1) * CENTS(1)
                     : v == 1 ? cents_range(g, 400000, 499999) : cents_range(g, 500000, 600000);
    }
    if (t_in <= t_out) {
        pat_tx(g, t_in, x, a, in, 0);
        pat_tx(g, t_out, a, y, out, 0);
    } else {
        pat_tx(g, t_out, a, y, out, 0);
        pat_tx(g, t_in, x, a, in, 0);
    }
    return a;
}

/* Large volume from one account in a day, below it, or spread over two days. */
static uint32_t plant_volume(struct gen *g, int kind, uint64_t t0, int fl)
{
    uint32_t v = pat_acct(g, fl), dst[3] = {pat_acct(g, fl), pat_acct(g, fl), pat_acct(g, fl)};
    int64_t amt[6], sum = 0;
    uint64_t off[6];
    int n = 0;
    if (kind == PK_VOLUME) { /* 10000-30000 each until 50000 is reached: under 80000 */
        while (sum < CENTS(5000000))
            sum += amt[n++] = cents_range(g, 1000000, 3000000);
        spread(g, off, n, 20 * HOUR_S);
    } else if (kind == PK_VOLUME_BELOW) { /* 45000-49990 in two or three parts, none in the band */
        int64_t target = cents_range(g, 4500000, 4999000);
        n = 2 + (int)rndn(g, 2);
        for (int i = 0; i < n - 1; i++)
            sum += amt[i] = n == 2 ? cents_range(g, 2000000, 2500000) : cents_range(g, 1500000, 1700000);
        amt[n - 1] = target - sum;
        spread(g, off, n, 20 * HOUR_S);
    } else { /* two pairs 25 h or more apart, together 52000 or more */
        n = 4;
        for (int i = 0; i < 4; i++) {
            amt[i] = cents_range(g, 1300000, 2000000);
            off[i] = (rnd_range(g, 0, 2 * HOUR_S) + (i >= 2 ? 27 * HOUR_S : 0)) * 1000ULL;
        }
        if (off[0] > off[1]) {
            uint64_t t = off[0];
            off[0] = off[1];
            off[1] = t;
        }
        if (off[2] > off[3]) {
            uint64_t t = off[2];
            off[2] = off[3];
            off[3] = t;
        }
    }
    for (int i = 0; i < n; i++)
        pat_tx(g, t0 + off[i], v, dst[rndn(g, 3)], amt[i], 0);
    return v;
}

/* Interleaves firing kinds (each three times a cycle) with near misses (once). */
static int pattern_kind(uint32_t p)
{
    uint32_t c = p % PK_CYCLE;
    return c % 2 == 0 ? (int)((c / 2) % PK_FIRE_KINDS) : (int)(PK_FIRE_KINDS + c / 2);
}

static int cmp_tx_time(const void *a, const void *b)
{
    const struct tx *x = a, *y = b;
    if (x->ms != y->ms)
        return x->ms < y->ms ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Plants every pattern; pq gets their records sorted by time for merging. */
static int plant_all(struct gen *g, struct tx **pq)
{
    uint64_t span_ms = g->o.days * 24 * HOUR_MS - 32 * HOUR_MS;
    g->pat = calloc(g->n_pat ? g->n_pat : 1, sizeof *g->pat);
    g->ptx = calloc((size_t)g->n_pat * PAT_TX_MAX + 1, sizeof *g->ptx);
    g->ptx_line = calloc((size_t)g->n_pat * PAT_TX_MAX + 1, sizeof *g->ptx_line);
    if (!g->pat || !g->ptx || !g->ptx_line)
        return -1;
    for (uint32_t p = 0; p < g->n_pat; p++) {
        int kind = pattern_kind(p);
        uint32_t r = rndn(g, 10);
        int fl = r < 7 ? FL_IBAN_EUR : r < 9 ? FL_ETH : FL_TRON;
        uint64_t t0 = g->start_ms + HOUR_MS + rnd_range(g, 0, span_ms);
        struct pattern *pt = &g->pat[p];
        pt->kind = (uint8_t)kind;
        pt->first = g->n_ptx;
        if (kind == PK_STRUCT || (kind >= PK_STRUCT_TWO && kind <= PK_STRUCT_REJECTED))
            pt->key = plant_struct(g, kind, t0, fl);
        else if (kind == PK_FANOUT || kind == PK_FANIN || (kind >= PK_FANOUT_NINE && kind <= PK_FANIN_REPEAT))
            pt->key = plant_fan(g, kind, t0, fl);
        else if (kind == PK_PASS || (kind >= PK_PASS_LATE && kind <= PK_PASS_SMALL))
            pt->key = plant_pass(g, kind, t0, fl);
        else
            pt->key = plant_volume(g, kind, t0, fl);
        pt->count = g->n_ptx - pt->first;
    }
    *pq = malloc(((size_t)g->n_ptx + 1) * sizeof **pq);
    if (!*pq)
        return -1;
    memcpy(*pq, g->ptx, (size_t)g->n_ptx * sizeof **pq);
    qsort(*pq, g->n_ptx, sizeof **pq, cmp_tx_time);
    return 0;
}

/* ---- output ---- */

static int out_flush(struct gen *g)
{
    size_t off = 0;
    while (off < g->out_len) {
        ssize_t n = write(g->fd, g->out + off, g->out_len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    g->out_len = 0;
    return 0;
}

/* Header and footer text; counts its lines. */
static int out_text(struct gen *g, const char *s)
{
    size_t n = strlen(s);
    if (OUT_CAP - g->out_len < n && out_flush(g) != 0)
        return -1;
    memcpy(g->out + g->out_len, s, n);
    g->out_len += n;
    g->written += n;
    for (size_t i = 0; i < n; i++)
        g->line += s[i] == '\n';
    return 0;
}

/* Calendar fields of ms in g->tm; the date is converted once a day. */
static void tm_set(struct gen *g, uint64_t ms)
{
    uint64_t sec = ms / 1000;
    time_t day = (time_t)(sec / 86400 * 86400);
    if (day != g->cached_day) {
        g->cached_day = day;
        gmtime_r(&day, &g->tm);
    }
    g->tm.tm_hour = (int)(sec % 86400 / 3600);
    g->tm.tm_min = (int)(sec % 3600 / 60);
    g->tm.tm_sec = (int)(sec % 60);
}

/* RFC 3339 in UTC, with milliseconds or without. */
static char *put_iso(const struct gen *g, char *p, uint64_t ms, int with_ms)
{
    p = put_u_pad(p, (uint64_t)g->tm.tm_year + 1900, 4);
    *p++ = '-';
    p = put_u_pad(p, (uint64_t)g->tm.tm_mon + 1, 2);
    *p++ = '-';
    p = put_u_pad(p, (uint64_t)g->tm.tm_mday, 2);
    *p++ = 'T';
    p = put_u_pad(p, (uint64_t)g->tm.tm_hour, 2);
    *p++ = ':';
    p = put_u_pad(p, (uint64_t)g->tm.tm_min, 2);
    *p++ = ':';
    p = put_u_pad(p, (uint64_t)g->tm.tm_sec, 2);
    if (with_ms)
        p = put_u_pad(put_str(p, "."), ms % 1000, 3);
    return put_str(p, "Z");
}

/* "Mar  1 08:14:03" as syslog writes it */
static char *put_syslog_time(const struct gen *g, char *p)
{
    p = put_str(p, MONTHS[g->tm.tm_mon]);
    *p++ = ' ';
    if (g->tm.tm_mday < 10)
        *p++ = ' ';
    p = put_u(p, (uint64_t)g->tm.tm_mday);
    *p++ = ' ';
    p = put_u_pad(p, (uint64_t)g->tm.tm_hour, 2);
    *p++ = ':';
    p = put_u_pad(p, (uint64_t)g->tm.tm_min, 2);
    *p++ = ':';
    return put_u_pad(p, (uint64_t)g->tm.tm_sec, 2);
}

static char *put_amount(char *p, int64_t amt, uint8_t cur)
{
    int dec = CUR_DEC[cur];
    int64_t div = 1;
    for (int i = dec; i < 8; i++)
        div *= 10;
    p = put_u(p, (uint64_t)(amt / UNIT));
    *p++ = '.';
    return put_u_pad(p, (uint64_t)(amt % UNIT / div), dec);
}

static char *put_txid(const struct gen *g, char *p, uint64_t seq)
{
    return put_base(put_str(p, "tx"), mix64(seq ^ ((uint64_t)g->key32 << 32)), HEX, 16, 16);
}

static char *put_acct(const struct gen *g, char *p, uint32_t idx)
{
    memcpy(p, g->names[idx].id, sizeof g->names[idx].id); /* a fixed size copies faster */
    return p + g->names[idx].len;
}

static char *put_memo(char *p, const struct tx *t)
{
    p = put_word(p, MEMOS[t->memo].text);
    return MEMOS[t->memo].num ? put_u(put_str(p, " "), t->memo_n) : p;
}

/* Fields in the order of every format but JSON, each followed by sep. */
static char *put_fields(const struct gen *g, char *p, const struct tx *t, char sep)
{
    p = put_txid(g, p, t->seq);
    *p++ = sep;
    p = put_word(p, TYPE_NAME[t->type]);
    *p++ = sep;
    p = put_acct(g, p, t->from);
    *p++ = sep;
    p = put_acct(g, p, t->to);
    *p++ = sep;
    p = put_amount(p, t->amt, t->cur);
    *p++ = sep;
    p = put_word(p, CUR_NAME[t->cur]);
    *p++ = sep;
    p = put_word(p, CHAN_NAME[t->chan]);
    *p++ = sep;
    p = put_word(p, STATUS_NAME[t->status]);
    *p++ = sep;
    return p;
}

static char *line_json(struct gen *g, char *p, const struct tx *t)
{
    p = put_str(put_iso(g, put_str(p, "{\"ts\":\""), t->ms, 0), "\",\"txid\":\"");
    p = put_str(put_txid(g, p, t->seq), "\",\"type\":\"");
    p = put_str(put_word(p, TYPE_NAME[t->type]), "\",\"from\":\"");
    p = put_str(put_acct(g, p, t->from), "\",\"to\":\"");
    p = put_str(put_acct(g, p, t->to), "\",\"amount\":");
    p = put_str(put_amount(p, t->amt, t->cur), ",\"currency\":\"");
    p = put_str(put_word(p, CUR_NAME[t->cur]), "\",\"channel\":\"");
    p = put_str(put_word(p, CHAN_NAME[t->chan]), "\",\"status\":\"");
    p = put_str(put_word(p, STATUS_NAME[t->status]), "\",\"memo\":\"");
    p = put_str(put_memo(p, t), "\",\"src\":{\"system\":\"corebank\",\"node\":");
    return put_str(put_u(p, 1 + t->seq % 4), "}}");
}

static char *line_csv(struct gen *g, char *p, const struct tx *t)
{
    p = put_fields(g, put_str(put_iso(g, p, t->ms, 1), ","), t, ',');
    if (!MEMOS[t->memo].comma)
        return put_memo(p, t);
    return put_str(put_memo(put_str(p, "\""), t), "\"");
}

static char *line_kv(struct gen *g, char *p, const struct tx *t)
{
    p = put_str(put_syslog_time(g, p), " corebank-");
    p = put_str(put_u(p, 1 + t->seq % 4), " txlog[2211]: ts=");
    p = put_str(put_u(p, t->ms), " txid=");
    p = put_str(put_txid(g, p, t->seq), " type=");
    p = put_str(put_word(p, TYPE_NAME[t->type]), " from=");
    p = put_str(put_acct(g, p, t->from), " to=");
    p = put_str(put_acct(g, p, t->to), " amount=");
    p = put_str(put_amount(p, t->amt, t->cur), " currency=");
    p = put_str(put_word(p, CUR_NAME[t->cur]), " channel=");
    p = put_str(put_word(p, CHAN_NAME[t->chan]), " status=");
    p = put_str(put_word(p, STATUS_NAME[t->status]), " memo=\"");
    return put_str(put_memo(p, t), "\"");
}

static char *line_zeek(struct gen *g, char *p, const struct tx *t)
{
    p = put_u(p, t->ms / 1000);
    p = put_str(put_u_pad(put_str(p, "."), t->ms % 1000 * 1000, 6), "\t");
    return put_memo(put_fields(g, p, t, '\t'), t);
}

static int emit(struct gen *g, const struct tx *t)
{
    if (OUT_CAP - g->out_len < LINE_MAX_LEN && out_flush(g) != 0)
        return -1;
    g->line++;
    if (t->slot)
        g->ptx_line[t->slot - 1] = g->line;
    tm_set(g, t->ms);
    char *start = g->out + g->out_len, *p;
    switch (g->o.fmt) {
    case FMT_CSV:
        p = line_csv(g, start, t);
        break;
    case FMT_KV:
        p = line_kv(g, start, t);
        break;
    case FMT_ZEEK:
        p = line_zeek(g, start, t);
        break;
    default:
        p = line_json(g, start, t);
    }
    *p++ = '\n';
    g->out_len += (size_t)(p - start);
    g->written += (size_t)(p - start);
    return 0;
}

/* Writes every record whose output position is at or before `until`. */
static int drain(struct gen *g, uint64_t until)
{
    struct tx t;
    while (g->n_heap && g->heap[0].order <= until) {
        heap_pop(g, &t);
        if (emit(g, &t) != 0)
            return -1;
    }
    return 0;
}

static void zeek_stamp(char *buf, size_t cap, uint64_t ms)
{
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    strftime(buf, cap, "%Y-%m-%d-%H-%M-%S", &tm);
}

static int write_header(struct gen *g)
{
    char buf[512], stamp[32];
    switch (g->o.fmt) {
    case FMT_CSV:
        return out_text(g, "ts,txid,type,from,to,amount,currency,channel,status,memo\n");
    case FMT_ZEEK:
        zeek_stamp(stamp, sizeof stamp, g->start_ms);
        snprintf(buf, sizeof buf,
                 "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\ttxlog\n"
                 "#open\t%s\n#fields\tts\ttxid\ttype\tfrom\tto\tamount\tcurrency\tchannel\tstatus\tmemo\n"
                 "#types\ttime\tstring\tstring\tstring\tstring\tdouble\tstring\tstring\tstring\tstring\n",
                 stamp);
        return out_text(g, buf);
    default:
        return 0;
    }
}

static int write_footer(struct gen *g)
{
    char buf[64], stamp[32];
    if (g->o.fmt != FMT_ZEEK)
        return 0;
    zeek_stamp(stamp, sizeof stamp, g->ms);
    snprintf(buf, sizeof buf, "#close\t%s\n", stamp);
    return out_text(g, buf);
}

/* One line a pattern: expectation, rule, key, kind, txids, line numbers. */
static int write_truth(struct gen *g)
{
    FILE *f = fopen(g->o.truth, "w");
    if (!f)
        return -1;
    static const char *const FMT_NAME[] = {"json", "csv", "kv", "zeek"};
    fprintf(f, "# gen_txlog ground truth: format=%s records=%" PRIu64 " seed=%" PRIu64 " accounts=%u start=%s days=%"
            PRIu64 " disorder=%" PRIu64 " patterns=%u\n",
            FMT_NAME[g->o.fmt], g->o.records, g->o.seed, g->n_acct, g->o.start_text, g->o.days, g->o.disorder_s,
            g->n_pat);
    fputs("# fire: the rule must fire for the key; nofire: a near miss, it must not.\n"
          "# Nothing else may fire: no other (rule, key) pair.\n"
          "#expect\trule\tkey\tpattern\ttxids\tlines\n", f);
    char txid[24];
    for (uint32_t p = 0; p < g->n_pat; p++) {
        const struct pattern *pt = &g->pat[p];
        fprintf(f, "%s\t%s\t%.*s\t%s\t", pt->kind < PK_FIRE_KINDS ? "fire" : "nofire", PK_RULE[pt->kind],
                g->names[pt->key].len, g->names[pt->key].id, PK_NAME[pt->kind]);
        for (uint32_t i = 0; i < pt->count; i++) {
            *put_txid(g, txid, g->ptx[pt->first + i].seq) = '\0';
            fprintf(f, "%s%s", i ? "," : "", txid);
        }
        for (uint32_t i = 0; i < pt->count; i++)
            fprintf(f, "%c%" PRIu64, i ? ',' : '\t', g->ptx_line[pt->first + i]);
        fputc('\n', f);
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* ---- main ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS[Z]", UTC. */
static int parse_start(const char *s, uint64_t *ms)
{
    unsigned y, mo, d, h = 0, mi = 0, sec = 0;
    int n = 0;
    if (sscanf(s, "%4u-%2u-%2u%n", &y, &mo, &d, &n) != 3 || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31)
        return -1;
    s += n;
    if (*s == 'T' || *s == ' ') {
        if (sscanf(s + 1, "%2u:%2u:%2u%n", &h, &mi, &sec, &n) != 3 || h > 23 || mi > 59 || sec > 59)
            return -1;
        s += 1 + n;
        if (*s == 'Z')
            s++;
    }
    if (*s)
        return -1;
    *ms = ((uint64_t)days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * 1000;
    return 0;
}

static int parse_u64(const char *s, uint64_t *out, uint64_t max)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v > max)
        return -1;
    *out = v;
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: gen_txlog [--format json|csv|kv|zeek] [--records N] [--seed S] --out FILE|- --truth FILE\n"
            "                 [--accounts N] [--start YYYY-MM-DD[THH:MM:SSZ]] [--days D] [--disorder SECONDS]\n"
            "                 [--patterns P]\n");
}

static int parse_args(int argc, char **argv, struct gen_opts *o)
{
    static const char *const fmts[] = {"json", "csv", "kv", "zeek"};
    *o = (struct gen_opts){.records = 1000000, .seed = 1, .days = 7, .start_text = "2026-03-01T00:00:00Z"};
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = !v;
        if (bad) {
        } else if (strcmp(a, "--format") == 0) {
            for (o->fmt = 0; o->fmt < 4 && strcmp(v, fmts[o->fmt]) != 0; o->fmt++)
                ;
            bad = o->fmt == 4;
        } else if (strcmp(a, "--records") == 0) {
            bad = parse_u64(v, &o->records, MAX_RECORDS) || o->records == 0;
        } else if (strcmp(a, "--seed") == 0) {
            bad = parse_u64(v, &o->seed, UINT64_MAX);
        } else if (strcmp(a, "--accounts") == 0) {
            bad = parse_u64(v, &o->accounts, MAX_ACCOUNTS) || o->accounts < 1000;
        } else if (strcmp(a, "--start") == 0) {
            o->start_text = v;
        } else if (strcmp(a, "--days") == 0) {
            bad = parse_u64(v, &o->days, 3650) || o->days < 2;
        } else if (strcmp(a, "--disorder") == 0) {
            bad = parse_u64(v, &o->disorder_s, 86400);
        } else if (strcmp(a, "--patterns") == 0) {
            bad = parse_u64(v, &o->patterns, 10000000);
            o->patterns_set = 1;
        } else if (strcmp(a, "--out") == 0) {
            o->out = v;
        } else if (strcmp(a, "--truth") == 0) {
            o->truth = v;
        } else {
            bad = 1;
        }
        if (bad) {
            fprintf(stderr, "gen_txlog: bad option %s%s%s\n", a, v ? " " : "", v ? v : "");
            usage();
            return -1;
        }
    }
    if (parse_start(o->start_text, &o->start_ms) != 0) {
        fprintf(stderr, "gen_txlog: bad --start %s\n", o->start_text);
        return -1;
    }
    if (!o->out || !o->truth) {
        usage();
        return -1;
    }
    return 0;
}

/* Sizes that follow from the options: accounts and patterns. -2 when they do
 * not fit (said on stderr), -1 when memory is short. */
static int gen_size(struct gen *g)
{
    const struct gen_opts *o = &g->o;
    uint64_t acc = o->accounts ? o->accounts : o->records / 10 > 1000 ? o->records / 10 : 1000;
    if (acc > MAX_ACCOUNTS)
        acc = MAX_ACCOUNTS;
    if (o->records / acc > 50) {
        fprintf(stderr, "gen_txlog: %" PRIu64 " accounts are too few for %" PRIu64 " records (at least one per 50)\n",
                acc, o->records);
        return -2;
    }
    uint64_t pat = o->patterns;
    if (!o->patterns_set) {
        pat = o->records / 10000 > PK_CYCLE ? o->records / 10000 : PK_CYCLE;
        if (pat > o->records / 32)
            pat = o->records / 32;
    }
    if (pat * PAT_TX_MAX > o->records || acc + pat * PAT_ACCT_MAX > UINT32_MAX / 2) {
        fprintf(stderr, "gen_txlog: %" PRIu64 " patterns need more than %" PRIu64 " records\n", pat, o->records);
        return -2;
    }
    g->n_pat = (uint32_t)pat;
    return accounts_init(g, (uint32_t)acc, (uint32_t)pat * PAT_ACCT_MAX);
}

/* 0, -1 on a system error (errno set), -2 on sizes that do not fit (said). */
static int gen_run(struct gen *g)
{
    struct tx *pq = NULL;
    uint32_t pi = 0;
    int rc = -1;
    if ((rc = gen_size(g)) != 0 || (rc = -1, plant_all(g, &pq) != 0))
        goto out;
    g->n_bg = g->o.records - g->n_ptx;
    rate_init(g);
    if (write_header(g) != 0)
        goto out;
    while (g->bg_made < g->n_bg) {
        if (bg_event(g) != 0)
            goto out;
        for (; pi < g->n_ptx && pq[pi].ms <= g->ms; pi++)
            if (heap_push(g, &pq[pi]) != 0)
                goto out;
        if (drain(g, g->ms) != 0)
            goto out;
    }
    for (; pi < g->n_ptx; pi++)
        if (heap_push(g, &pq[pi]) != 0)
            goto out;
    if (drain(g, UINT64_MAX) != 0 || write_footer(g) != 0 || out_flush(g) != 0)
        goto out;
    rc = 0;
out:
    free(pq);
    return rc;
}

int main(int argc, char **argv)
{
    struct gen g = {.fd = -1, .cached_day = -1};
    struct timespec t0, t1;
    int rc = 1;
    if (parse_args(argc, argv, &g.o) != 0)
        return 2;
    uint64_t sm = g.o.seed;
    for (int i = 0; i < 4; i++)
        g.s[i] = splitmix64(&sm);
    for (int i = 0; i < 4; i++)
        g.js[i] = splitmix64(&sm);
    g.key32 = (uint32_t)splitmix64(&sm);
    g.start_ms = g.ms = g.o.start_ms;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    g.fd = strcmp(g.o.out, "-") == 0 ? STDOUT_FILENO : open(g.o.out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (g.fd < 0 || !(g.out = malloc(OUT_CAP))) {
        perror(g.o.out);
        goto out;
    }
    int run = gen_run(&g);
    if (run != 0 || write_truth(&g) != 0) {
        if (run != -2)
            perror("gen_txlog");
        goto out;
    }
    if (g.fd != STDOUT_FILENO && close(g.fd) != 0) {
        g.fd = -1;
        perror("gen_txlog: close");
        goto out;
    }
    g.fd = -1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    uint32_t fire = 0;
    for (uint32_t p = 0; p < g.n_pat; p++)
        fire += g.pat[p].kind < PK_FIRE_KINDS;
    fprintf(stderr,
            "gen_txlog: %" PRIu64 " records (%" PRIu64 " background, %u planted in %u patterns: %u must fire, %u near "
            "misses), %u accounts, %" PRIu64 " bytes, %.2f s (%.2f M records/s)\n",
            g.o.records, g.bg_made, g.n_ptx, g.n_pat, fire, g.n_pat - fire, g.n_acct, g.written, secs,
            (double)g.o.records / secs / 1e6);
    rc = 0;
out:
    if (g.fd > STDOUT_FILENO)
        close(g.fd);
    free(g.out);
    free(g.names);
    free(g.meta);
    free(g.ss);
    free(g.rs);
    free(g.ptx);
    free(g.ptx_line);
    free(g.pat);
    free(g.heap);
    return rc;
}
