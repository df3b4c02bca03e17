/*
 * gen_logs: deterministic generator of mixed log text for throughput runs.
 *
 * Writes DIR/logs.txt (Apache combined, bind and dnsmasq query logs, squid
 * access lines, postfix mail log, payment JSON), nested indicator sets
 * DIR/literals-<N>.txt (each set is a prefix of the next larger one) and
 * DIR/truth.tsv naming every planted occurrence.  Every indicator carries a
 * random token that the background text never produces, so a set matches only
 * where it was planted.  Single threaded; all state lives in struct gen.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GEN_OUT_CAP (4u << 20)
#define GEN_LINE_MAX 4096u /* no generated line comes near this */
#define GEN_LIT_MAX 64u
#define GEN_MAX_SETS 4
#define GEN_TOKEN_BITS 40

enum gen_kind { KIND_DOMAIN, KIND_PATH, KIND_PHRASE, KIND_HASH, KIND_WALLET, KIND_IBAN };

struct gen_lit {
    char s[GEN_LIT_MAX];
    uint8_t len;
    uint8_t kind;
    uint8_t tier; /* index of the smallest set holding it */
};

struct gen {
    uint64_t s[4]; /* xoshiro256** state */
    int fd;
    char *out;
    size_t out_len;
    uint64_t written, limit, line_no, planted_lines, planted_occ;
    uint64_t ms; /* simulated clock, milliseconds since the epoch */
    time_t cached_sec;
    struct tm tm;
    struct gen_lit *lits;
    size_t n_lits;
    size_t set_size[GEN_MAX_SETS];
    char set_name[GEN_MAX_SETS][24];
    int n_sets;
    uint32_t plant_every;
    FILE *truth;
};

static const char *const MONTHS[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char B36L[] = "0123456789abcdefghijklmnopqrstuvwxyz";
static const char B36U[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char HEX[] = "0123456789abcdef";
static const char B58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
static const char BECH32[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/* Background vocabulary: fixed benign names only, never random labels. */
static const char *const SITES[] = {
    "www.example.com", "shop.example.org", "cdn.jsdelivr.net", "fonts.googleapis.com",
    "www.google.com", "api.github.com", "static.cloudflareinsights.com", "www.wikipedia.org",
    "login.microsoftonline.com", "update.mozilla.org", "news.ycombinator.com", "www.bbc.co.uk",
    "images.unsplash.com", "mail.example.net", "portal.uni-example.edu", "ocsp.digicert.com",
    "connectivity-check.ubuntu.com", "time.cloudflare.com", "www.lemonde.fr", "ajax.googleapis.com"};
static const char *const WORDS[] = {
    "account", "invoice", "report", "summer", "sale", "photo", "travel", "garden", "music",
    "coffee", "update", "review", "meeting", "project", "budget", "family", "weekend", "order",
    "delivery", "ticket", "school", "library", "football", "recipe", "holiday", "network"};
static const char *const UAS[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15",
    "curl/8.5.0", "python-requests/2.31.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"};
static const char *const PATHS[] = {
    "/", "/index.html", "/favicon.ico", "/robots.txt", "/login", "/wp-login.php",
    "/api/v1/status", "/static/css/site.css", "/images/logo.png", "/search", "/cart", "/news/latest"};
static const char *const SUBJECTS[] = {
    "Re: meeting notes for", "Your order has shipped", "Weekly report", "Fwd: holiday photos",
    "Invoice attached", "Reminder: library books due", "Team lunch on", "Password changed"};
static const char *const CURRENCIES[] = {"EUR", "USD", "GBP", "CHF", "PLN", "USDT", "BTC"};
static const char *const TLDS[] = {".top", ".xyz", ".ru", ".click", ".icu", ".shop", ".online", ".info", ".cc", ".biz"};
static const char *const SCAM_WORDS[] = {"secure", "login", "verify", "wallet", "support", "bonus",
                                         "refund", "parcel", "bank", "airdrop", "crypto", "invest"};
static const char *const PHRASES[] = {
    "your parcel is held, pay the fee ref", "claim your airdrop bonus with code",
    "urgent: verify your account id", "guaranteed 300% return, invite code",
    "send the recovery phrase to support case", "tax refund pending, confirm ref",
    "investment slot reserved for", "your wallet is locked, unlock code"};
static const char *const PATH_TPL[] = {"/wp-content/plugins/", "/admin/", "/gate/", "/panel/", "/cdn/"};
static const char *const PATH_FILES[] = {"/gate.php", "/login.php", "/inject.js", "/payload.bin", "/"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rnd(struct gen *g)
{
    uint64_t *s = g->s;
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

/* Uniform-enough integer in [0, n) for the small n used here. */
static inline uint32_t rndn(struct gen *g, uint32_t n) { return (uint32_t)(((rnd(g) >> 32) * n) >> 32); }

/* ---- appenders into a line under construction ---- */

static inline char *put_mem(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

static inline char *put_str(char *p, const char *s) { return put_mem(p, s, strlen(s)); }

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

/* Right-aligned in a field of width, as squid prints its elapsed time. */
static char *put_u_spaced(char *p, uint64_t v, int width)
{
    char tmp[24];
    char *e = put_u(tmp, v);
    for (int pad = width - (int)(e - tmp); pad > 0; pad--)
        *p++ = ' ';
    return put_mem(p, tmp, (size_t)(e - tmp));
}

static char *put_rand(struct gen *g, char *p, const char *alpha, uint32_t alen, size_t n)
{
    uint64_t r = rnd(g);
    for (size_t i = 0; i < n; i++) {
        if ((i & 7) == 7)
            r = rnd(g);
        p[i] = alpha[(uint32_t)(r & 0xff) * alen >> 8];
        r >>= 8;
    }
    return p + n;
}

static inline char *put_hex(struct gen *g, char *p, size_t n) { return put_rand(g, p, HEX, 16, n); }

static char *put_ip(struct gen *g, char *p, int internal)
{
    uint64_t r = rnd(g);
    if (internal) {
        p = put_str(p, "10.");
        p = put_u(p, (r >> 8) & 0xff);
    } else {
        p = put_u(p, 11 + ((r & 0xff) * 212 >> 8));
        *p++ = '.';
        p = put_u(p, (r >> 8) & 0xff);
    }
    *p++ = '.';
    p = put_u(p, (r >> 16) & 0xff);
    *p++ = '.';
    return put_u(p, 1 + ((r >> 24) & 0xfe));
}

/* ---- clock ---- */

static void clock_tick(struct gen *g)
{
    g->ms += rndn(g, 24);
    time_t sec = (time_t)(g->ms / 1000);
    if (sec != g->cached_sec) {
        g->cached_sec = sec;
        gmtime_r(&sec, &g->tm);
    }
}

static char *put_hms(struct gen *g, char *p)
{
    p = put_u_pad(p, (uint64_t)g->tm.tm_hour, 2);
    *p++ = ':';
    p = put_u_pad(p, (uint64_t)g->tm.tm_min, 2);
    *p++ = ':';
    return put_u_pad(p, (uint64_t)g->tm.tm_sec, 2);
}

/* "Mar  1 00:00:00" as syslog writes it */
static char *put_syslog_time(struct gen *g, char *p)
{
    p = put_str(p, MONTHS[g->tm.tm_mon]);
    *p++ = ' ';
    if (g->tm.tm_mday < 10)
        *p++ = ' ';
    p = put_u(p, (uint64_t)g->tm.tm_mday);
    *p++ = ' ';
    return put_hms(g, p);
}

/* "01/Mar/2024:00:00:00 +0000" (Apache) or "01-Mar-2024 00:00:00.123" (bind) */
static char *put_dmy_time(struct gen *g, char *p, int bind)
{
    p = put_u_pad(p, (uint64_t)g->tm.tm_mday, 2);
    *p++ = bind ? '-' : '/';
    p = put_str(p, MONTHS[g->tm.tm_mon]);
    *p++ = bind ? '-' : '/';
    p = put_u(p, (uint64_t)g->tm.tm_year + 1900);
    *p++ = bind ? ' ' : ':';
    p = put_hms(g, p);
    if (!bind)
        return put_str(p, " +0000");
    *p++ = '.';
    return put_u_pad(p, g->ms % 1000, 3);
}

static char *put_iso_time(struct gen *g, char *p)
{
    p = put_u(p, (uint64_t)g->tm.tm_year + 1900);
    *p++ = '-';
    p = put_u_pad(p, (uint64_t)g->tm.tm_mon + 1, 2);
    *p++ = '-';
    p = put_u_pad(p, (uint64_t)g->tm.tm_mday, 2);
    *p++ = 'T';
    p = put_hms(g, p);
    *p++ = '.';
    p = put_u_pad(p, g->ms % 1000, 3);
    return put_str(p, "Z");
}

/* ---- indicators ---- */

/* A bijection on 40 bits keeps tokens unique while looking random. */
static uint64_t token_mix(uint64_t x, uint64_t key)
{
    const uint64_t m = (1ULL << GEN_TOKEN_BITS) - 1;
    x = (x ^ key) & m;
    for (int r = 0; r < 3; r++) {
        x = (x * 0x9E3779B97F4A7C15ULL + key) & m; /* odd multiplier: invertible mod 2^40 */
        x ^= x >> 17;
    }
    return x;
}

static char *put_token(char *p, uint64_t t, const char *alpha)
{
    for (int i = 0; i < 8; i++, t /= 36)
        p[i] = alpha[t % 36];
    return p + 8;
}

static void lit_make(struct gen *g, struct gen_lit *l, uint64_t idx, uint64_t key)
{
    static const uint8_t kinds[20] = {0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 5};
    uint64_t tok = token_mix(idx, key);
    char *p = l->s, *s = l->s;
    l->kind = kinds[rndn(g, 20)];
    switch (l->kind) {
    case KIND_DOMAIN:
        p = put_str(p, SCAM_WORDS[rndn(g, NELEM(SCAM_WORDS))]);
        *p++ = '-';
        p = put_token(p, tok, B36L);
        p = put_str(p, TLDS[rndn(g, NELEM(TLDS))]);
        break;
    case KIND_PATH:
        p = put_str(p, PATH_TPL[rndn(g, NELEM(PATH_TPL))]);
        p = put_token(p, tok, B36L);
        p = put_str(p, PATH_FILES[rndn(g, NELEM(PATH_FILES))]);
        break;
    case KIND_PHRASE:
        p = put_str(p, PHRASES[rndn(g, NELEM(PHRASES))]);
        *p++ = ' ';
        p = put_token(p, tok, B36U);
        break;
    case KIND_HASH:
        p = put_hex(g, p, rndn(g, 2) ? 32 : 40);
        break;
    case KIND_WALLET:
        switch (rndn(g, 3)) {
        case 0:
            p = put_rand(g, put_str(p, "bc1q"), BECH32, 32, 38);
            break;
        case 1:
            p = put_hex(g, put_str(p, "0x"), 40);
            break;
        default:
            p = put_rand(g, put_str(p, "T"), B58, 58, 33);
        }
        break;
    default: /* IBAN-like: country, check digits, 18 digit BBAN */
        p = put_str(p, rndn(g, 2) ? "DE" : "NL");
        p = put_rand(g, p, B36L, 10, 20);
    }
    l->len = (uint8_t)(p - s);
}

static void set_label(char *dst, size_t cap, size_t n)
{
    if (n % 1000 == 0)
        snprintf(dst, cap, "%zuk", n / 1000);
    else
        snprintf(dst, cap, "%zu", n);
}

static int lits_build(struct gen *g, size_t n, uint64_t seed)
{
    static const size_t std_sizes[] = {1000, 10000, 100000};
    g->n_lits = n;
    g->n_sets = 0;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < NELEM(std_sizes) && std_sizes[i] < n; i++)
        g->set_size[g->n_sets++] = std_sizes[i];
    g->set_size[g->n_sets++] = n;
    for (int i = 0; i < g->n_sets; i++)
        set_label(g->set_name[i], sizeof g->set_name[i], g->set_size[i]);
    g->lits = calloc(n, sizeof *g->lits);
    if (!g->lits)
        return -1;
    uint64_t key = seed * 0x2545F4914F6CDD1DULL + 1;
    int tier = 0;
    for (size_t i = 0; i < n; i++) {
        while (i >= g->set_size[tier])
            tier++;
        lit_make(g, &g->lits[i], i, key);
        g->lits[i].tier = (uint8_t)tier;
    }
    return 0;
}

static int lits_write(const struct gen *g, const char *dir)
{
    char path[4096];
    for (int t = 0; t < g->n_sets; t++) {
        snprintf(path, sizeof path, "%s/literals-%s.txt", dir, g->set_name[t]);
        FILE *f = fopen(path, "w");
        if (!f)
            return -1;
        for (size_t i = 0; i < g->set_size[t]; i++)
            fprintf(f, "%.*s\n", g->lits[i].len, g->lits[i].s);
        if (fclose(f) != 0)
            return -1;
    }
    return 0;
}

/* Pick a literal: each set tier gets an equal share of the plants. */
static const struct gen_lit *lit_pick(struct gen *g)
{
    uint32_t tier = rndn(g, (uint32_t)g->n_sets);
    size_t lo = tier ? g->set_size[tier - 1] : 0;
    size_t hi = g->set_size[tier];
    return &g->lits[lo + rndn(g, (uint32_t)(hi - lo))];
}

static void lit_record(struct gen *g, const struct gen_lit *l)
{
    fprintf(g->truth, "%s\t%.*s\t%" PRIu64 "\n", g->set_name[l->tier], l->len, l->s, g->line_no);
    g->planted_occ++;
}

/* ---- log lines ---- */

static const char *const MAILDOMS[] = {"example.com", "example.org", "gmail.com", "outlook.com",
                                       "posteo.de", "web.de", "yahoo.co.jp", "mail.example.net"};
static const char HEXU[] = "0123456789ABCDEF";

/* Indicators waiting to be embedded in the current line, by kind. */
struct plant {
    const struct gen_lit *slot[KIND_IBAN + 1];
    const struct gen_lit *used[2];
    int n_used;
};

static const struct gen_lit *take(struct plant *pl, int kind)
{
    const struct gen_lit *l = pl ? pl->slot[kind] : NULL;
    if (l && pl->n_used < 2) {
        pl->slot[kind] = NULL;
        pl->used[pl->n_used++] = l;
        return l;
    }
    return NULL;
}

static inline char *put_lit(char *p, const struct gen_lit *l) { return put_mem(p, l->s, l->len); }

static char *put_domain(struct gen *g, char *p, struct plant *pl, int sub)
{
    const struct gen_lit *l = take(pl, KIND_DOMAIN);
    if (!l)
        return put_str(p, SITES[rndn(g, NELEM(SITES))]);
    if (sub && rndn(g, 2))
        p = put_str(p, rndn(g, 2) ? "www." : "cdn.");
    return put_lit(p, l);
}

static char *put_mailbox(struct gen *g, char *p, struct plant *pl)
{
    p = put_str(p, WORDS[rndn(g, NELEM(WORDS))]);
    p = put_u(p, rndn(g, 100));
    *p++ = '@';
    const struct gen_lit *l = take(pl, KIND_DOMAIN);
    return l ? put_lit(p, l) : put_str(p, MAILDOMS[rndn(g, NELEM(MAILDOMS))]);
}

static char *put_web_path(struct gen *g, char *p, struct plant *pl)
{
    const struct gen_lit *path = take(pl, KIND_PATH), *hash = take(pl, KIND_HASH);
    if (path)
        p = put_lit(p, path);
    else if (hash)
        p = put_str(p, "/files/download");
    else if (rndn(g, 3) == 0)
        p = put_hex(g, put_str(p, "/assets/app."), 12), p = put_str(p, ".js");
    else
        p = put_str(p, PATHS[rndn(g, NELEM(PATHS))]);
    if (hash)
        return put_lit(put_str(p, "?sha="), hash);
    if (rndn(g, 4) == 0)
        p = put_u(put_str(p, "?id="), rndn(g, 100000));
    return p;
}

static char *line_apache(struct gen *g, char *p, struct plant *pl)
{
    static const char *const methods[] = {"GET", "GET", "GET", "POST", "HEAD"};
    static const unsigned statuses[] = {200, 200, 200, 200, 304, 301, 404, 403, 500};
    p = put_ip(g, p, 0);
    p = put_dmy_time(g, put_str(p, " - - ["), 0);
    p = put_str(put_str(p, "] \""), methods[rndn(g, NELEM(methods))]);
    *p++ = ' ';
    p = put_web_path(g, p, pl);
    p = put_str(p, " HTTP/1.1\" ");
    p = put_u(p, statuses[rndn(g, NELEM(statuses))]);
    *p++ = ' ';
    p = put_u(p, 200 + rndn(g, 60000));
    p = put_str(p, " \"");
    if (pl && pl->slot[KIND_DOMAIN])
        p = put_str(put_domain(g, put_str(p, "https://"), pl, 1), "/");
    else if (rndn(g, 2))
        p = put_str(put_domain(g, put_str(p, "https://"), NULL, 0), "/");
    else
        *p++ = '-';
    p = put_str(p, "\" \"");
    p = put_str(p, UAS[rndn(g, NELEM(UAS))]);
    *p++ = '"';
    return p;
}

static char *line_dns(struct gen *g, char *p, struct plant *pl)
{
    char q[128];
    char *qe = put_domain(g, q, pl, 1);
    static const char *const types[] = {"A", "A", "AAAA", "HTTPS", "MX", "TXT"};
    const char *type = types[rndn(g, NELEM(types))];
    if (rndn(g, 2)) {
        p = put_dmy_time(g, p, 1);
        p = put_hex(g, put_str(p, " queries: info: client @0x7f"), 10);
        *p++ = ' ';
        p = put_ip(g, p, 1);
        *p++ = '#';
        p = put_u(p, 1024 + rndn(g, 64000));
        p = put_mem(put_str(p, " ("), q, (size_t)(qe - q));
        p = put_mem(put_str(p, "): query: "), q, (size_t)(qe - q));
        p = put_str(put_str(put_str(p, " IN "), type), " +E(0)K (10.0.0.53)");
    } else {
        p = put_str(put_syslog_time(g, p), " dnsmasq[");
        p = put_u(p, 800 + rndn(g, 40));
        p = put_str(put_str(put_str(p, "]: query["), type), "] ");
        p = put_mem(p, q, (size_t)(qe - q));
        p = put_ip(g, put_str(p, " from "), 1);
    }
    return p;
}

static char *line_squid(struct gen *g, char *p, struct plant *pl)
{
    static const char *const codes[] = {"TCP_MISS/200", "TCP_HIT/200", "TCP_MISS/304",
                                        "TCP_TUNNEL/200", "TCP_DENIED/403"};
    int tunnel = !(pl && (pl->slot[KIND_PATH] || pl->slot[KIND_HASH])) && rndn(g, 4) == 0;
    p = put_u(p, g->ms / 1000);
    *p++ = '.';
    p = put_u_pad(p, g->ms % 1000, 3);
    *p++ = ' ';
    p = put_u_spaced(p, 1 + rndn(g, rndn(g, 2) ? 400 : 90000), 6);
    *p++ = ' ';
    p = put_ip(g, p, 1);
    p = put_str(put_str(p, " "), tunnel ? "TCP_TUNNEL/200" : codes[rndn(g, NELEM(codes))]);
    p = put_u(put_str(p, " "), 300 + rndn(g, 900000));
    if (tunnel) {
        p = put_str(put_domain(g, put_str(p, " CONNECT "), pl, 1), ":443");
    } else {
        p = put_domain(g, put_str(p, " GET http://"), pl, 1);
        p = put_web_path(g, p, pl);
    }
    p = put_ip(g, put_str(p, " - HIER_DIRECT/"), 0);
    return put_str(p, tunnel ? " -" : " text/html");
}

static char *put_postfix_head(struct gen *g, char *p, const char *daemon, int with_qid)
{
    p = put_str(put_syslog_time(g, p), " mail01 postfix/");
    p = put_str(p, daemon);
    *p++ = '[';
    p = put_u(p, 1000 + rndn(g, 30000));
    p = put_str(p, "]: ");
    if (with_qid)
        p = put_str(put_rand(g, p, HEXU, 16, 10), ": ");
    return p;
}

static char *line_postfix(struct gen *g, char *p, struct plant *pl)
{
    const struct gen_lit *phrase = take(pl, KIND_PHRASE);
    uint32_t form = rndn(g, 5);
    if (phrase || form == 0) {
        p = put_postfix_head(g, p, "cleanup", 1);
        p = put_str(p, "warning: header Subject: ");
        if (phrase)
            p = put_lit(p, phrase);
        else
            p = put_str(put_str(put_str(p, SUBJECTS[rndn(g, NELEM(SUBJECTS))]), " "),
                        WORDS[rndn(g, NELEM(WORDS))]);
        p = put_ip(g, put_str(p, " from unknown["), 0);
        p = put_mailbox(g, put_str(p, "]; from=<"), pl);
        p = put_mailbox(g, put_str(p, "> to=<"), NULL);
        return put_str(p, "> proto=ESMTP helo=<mx.example.org>");
    }
    if ((pl && pl->slot[KIND_DOMAIN]) || form == 1) {
        p = put_mailbox(g, put_str(put_postfix_head(g, p, "qmgr", 1), "from=<"), pl);
        p = put_u(put_str(p, ">, size="), 800 + rndn(g, 90000));
        return put_str(p, ", nrcpt=1 (queue active)");
    }
    if (form == 2) {
        p = put_ip(g, put_str(put_postfix_head(g, p, "smtpd", 0), "connect from unknown["), 0);
        return put_str(p, "]");
    }
    p = put_mailbox(g, put_str(put_postfix_head(g, p, "smtp", 1), "to=<"), NULL);
    p = put_str(p, ">, relay=mx.example.org[");
    p = put_ip(g, p, 0);
    p = put_u(put_str(p, "]:25, delay=0."), rndn(g, 100));
    return put_str(p, ", delays=0.1/0/0.2/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)");
}

static char *put_counterparty(struct gen *g, char *p, struct plant *pl)
{
    const struct gen_lit *l = take(pl, KIND_WALLET);
    if (!l)
        l = take(pl, KIND_IBAN);
    if (l)
        return put_lit(p, l);
    switch (rndn(g, 5)) {
    case 0:
        return put_rand(g, put_str(p, "bc1q"), BECH32, 32, 38);
    case 1:
        return put_hex(g, put_str(p, "0x"), 40);
    case 2:
        return put_rand(g, put_str(p, "T"), B58, 58, 33);
    default:
        return put_rand(g, put_str(p, rndn(g, 2) ? "DE" : "FR"), B36L, 10, 20);
    }
}

static char *line_payment(struct gen *g, char *p, struct plant *pl)
{
    static const char *const memos[] = {"rent", "invoice", "salary", "groceries", "refund", "loan"};
    static const char *const channels[] = {"mobile", "web", "branch", "api"};
    const struct gen_lit *hash = take(pl, KIND_HASH), *phrase;
    p = put_iso_time(g, put_str(p, "{\"ts\":\""));
    p = put_str(p, rndn(g, 4) ? "\",\"type\":\"transfer\",\"txid\":\"" : "\",\"type\":\"payment\",\"txid\":\"");
    p = hash ? put_lit(p, hash) : put_hex(g, p, 32);
    p = put_u_pad(put_str(p, "\",\"account\":\"ACC"), rnd(g) % 10000000000ULL, 10);
    p = put_u(put_str(p, "\",\"amount\":\""), rndn(g, 20000));
    p = put_u_pad(put_str(p, "."), rndn(g, 100), 2);
    p = put_str(put_str(p, "\",\"currency\":\""), CURRENCIES[rndn(g, NELEM(CURRENCIES))]);
    p = put_counterparty(g, put_str(p, "\",\"counterparty\":\""), pl);
    p = put_str(put_str(p, "\",\"channel\":\""), channels[rndn(g, NELEM(channels))]);
    p = put_str(p, "\",\"memo\":\"");
    if ((phrase = take(pl, KIND_PHRASE)) != NULL)
        p = put_lit(p, phrase);
    else
        p = put_u(put_str(put_str(p, memos[rndn(g, NELEM(memos))]), " "), rndn(g, 10000));
    return put_str(p, "\",\"status\":\"ok\"}");
}

typedef char *(*line_fn)(struct gen *, char *, struct plant *);

/* Line types able to carry each kind of indicator. */
static line_fn host_for(struct gen *g, int kind)
{
    static const line_fn domain[] = {line_apache, line_dns, line_dns, line_squid, line_postfix};
    static const line_fn path[] = {line_apache, line_squid};
    static const line_fn phrase[] = {line_postfix, line_payment};
    static const line_fn hash[] = {line_squid, line_apache, line_payment};
    switch (kind) {
    case KIND_DOMAIN:
        return domain[rndn(g, NELEM(domain))];
    case KIND_PATH:
        return path[rndn(g, NELEM(path))];
    case KIND_PHRASE:
        return phrase[rndn(g, NELEM(phrase))];
    case KIND_HASH:
        return hash[rndn(g, NELEM(hash))];
    default:
        return line_payment;
    }
}

static line_fn background_line(struct gen *g)
{
    uint32_t r = rndn(g, 100);
    if (r < 35)
        return line_apache;
    if (r < 55)
        return line_dns;
    if (r < 75)
        return line_squid;
    if (r < 90)
        return line_postfix;
    return line_payment;
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

/* Writes one line; returns 1 when the size limit is reached, -1 on error. */
static int emit_line(struct gen *g)
{
    struct plant pl = {0};
    struct plant *use = NULL;
    line_fn fn;
    if (GEN_OUT_CAP - g->out_len < GEN_LINE_MAX && out_flush(g) != 0)
        return -1;
    clock_tick(g);
    g->line_no++;
    if (g->n_lits && rndn(g, g->plant_every) == 0) {
        const struct gen_lit *a = lit_pick(g);
        use = &pl;
        pl.slot[a->kind] = a;
        fn = host_for(g, a->kind);
        if (rndn(g, 20) == 0) { /* a second indicator; kept only if the line has room for its kind */
            const struct gen_lit *b = lit_pick(g);
            if (b->kind != a->kind)
                pl.slot[b->kind] = b;
        }
    } else {
        fn = background_line(g);
    }
    char *start = g->out + g->out_len;
    char *end = fn(g, start, use);
    *end++ = '\n';
    size_t len = (size_t)(end - start);
    if (g->written + len > g->limit)
        return 1;
    g->out_len += len;
    g->written += len;
    for (int i = 0; i < pl.n_used; i++)
        lit_record(g, pl.used[i]);
    g->planted_lines += pl.n_used > 0;
    return 0;
}

/* ---- main ---- */

struct gen_opts {
    uint64_t size, seed, indicators, plant_every;
    const char *dir;
};

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    switch (*end) {
    case 'k': case 'K': v <<= 10; end++; break;
    case 'm': case 'M': v <<= 20; end++; break;
    case 'g': case 'G': v <<= 30; end++; break;
    default: break;
    }
    if (*end != '\0' && strcmp(end, "iB") != 0 && strcmp(end, "B") != 0)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, struct gen_opts *o)
{
    *o = (struct gen_opts){.size = 1ULL << 30, .seed = 1, .indicators = 100000, .plant_every = 200, .dir = "."};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (!v) {
            bad = 1;
        } else if (strcmp(a, "--size") == 0) {
            bad = parse_size(v, &o->size);
        } else if (strcmp(a, "--seed") == 0) {
            bad = parse_size(v, &o->seed);
        } else if (strcmp(a, "--indicators") == 0) {
            bad = parse_size(v, &o->indicators) || o->indicators > 10000000;
        } else if (strcmp(a, "--plant-every") == 0) {
            bad = parse_size(v, &o->plant_every) || o->plant_every == 0 || o->plant_every > 1u << 30;
        } else if (strcmp(a, "--out-dir") == 0) {
            o->dir = v;
        } else {
            bad = 1;
        }
        if (bad) {
            fprintf(stderr, "usage: gen_logs [--size BYTES[K|M|G]] [--seed N] [--indicators N]\n"
                            "                [--plant-every LINES] [--out-dir DIR]\n");
            return -1;
        }
        i++;
    }
    return 0;
}

static int gen_run(struct gen *g, const struct gen_opts *o)
{
    char path[4096];
    uint64_t sm = o->seed;
    for (int i = 0; i < 4; i++)
        g->s[i] = splitmix64(&sm);
    g->limit = o->size;
    g->plant_every = (uint32_t)o->plant_every;
    g->ms = 1709251200000ULL + (o->seed % 1000) * 86400000ULL; /* 2024-03-01 plus a day per seed */
    g->cached_sec = -1;
    if (lits_build(g, (size_t)o->indicators, o->seed) != 0 || lits_write(g, o->dir) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/truth.tsv", o->dir);
    if (!(g->truth = fopen(path, "w")))
        return -1;
    fputs("#set\tliteral\tline\n", g->truth);
    snprintf(path, sizeof path, "%s/logs.txt", o->dir);
    g->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (g->fd < 0 || !(g->out = malloc(GEN_OUT_CAP)))
        return -1;
    int rc;
    while ((rc = emit_line(g)) == 0)
        ;
    if (rc < 0 || out_flush(g) != 0)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    struct gen_opts o;
    struct gen g = {.fd = -1};
    struct timespec t0, t1;
    int rc = 1;
    if (parse_args(argc, argv, &o) != 0)
        return 2;
    if (mkdir(o.dir, 0755) != 0 && errno != EEXIST) {
        perror(o.dir);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (gen_run(&g, &o) != 0) {
        perror("gen_logs");
        goto out;
    }
    if (fclose(g.truth) != 0 || close(g.fd) != 0) {
        g.truth = NULL;
        g.fd = -1;
        perror("gen_logs: close");
        goto out;
    }
    g.truth = NULL;
    g.fd = -1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "gen_logs: %" PRIu64 " bytes, %" PRIu64 " lines, %" PRIu64 " planted lines, %" PRIu64
                    " planted occurrences, %zu indicators, %.2f s (%.0f MB/s)\n",
            g.written, g.line_no - 1, g.planted_lines, g.planted_occ, g.n_lits, secs, (double)g.written / secs / 1e6);
    rc = 0;
out:
    if (g.truth)
        fclose(g.truth);
    if (g.fd >= 0)
        close(g.fd);
    free(g.out);
    free(g.lits);
    return rc;
}
