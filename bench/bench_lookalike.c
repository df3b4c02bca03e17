/* Lookalike-domain checks per second: 100 brands against host names that
 * are all loaded before timing, either read from a file (one per line) or
 * generated here, deterministically: subdomains of popular sites, word
 * combinations, cloud and CDN names, random DGA-like names, planted
 * lookalikes of the brands (typos, homoglyphs, TLD swaps, hyphen and
 * subdomain tricks) and IDN names as UTF-8 and as xn--.
 * Usage: bench_lookalike [hosts=1000000 | FILE] [rounds=3] */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unicode/uidna.h>

#include "correlate/lookalike.h"

static const char *const brands[] = {
	"paypal.com paypal.me paypalobjects.com", "microsoft.com live.com office.com outlook.com",
	"apple.com icloud.com", "amazon.com amazon.de amazon.co.uk amazonaws.com",
	"google.com gmail.com youtube.com googleapis.com gstatic.com googlevideo.com "
	"googlesyndication.com",
	"netflix.com",
	"chase.com", "wellsfargo.com", "ing.com ing.nl", "dhl.com dhl.de", "facebook.com fb.com",
	"instagram.com", "whatsapp.com", "linkedin.com", "twitter.com x.com", "yahoo.com",
	"ebay.com", "adobe.com", "dropbox.com", "docusign.com", "bankofamerica.com",
	"citibank.com citi.com", "hsbc.com", "barclays.co.uk", "santander.com",
	"lloydsbank.com", "natwest.com", "capitalone.com", "americanexpress.com",
	"discover.com", "usbank.com", "pnc.com", "td.com", "rbc.com", "scotiabank.com",
	"bmo.com", "commbank.com.au", "westpac.com.au", "anz.com", "nab.com.au",
	"deutsche-bank.de", "commerzbank.de", "sparkasse.de", "postbank.de",
	"bnpparibas.com", "societegenerale.fr", "credit-agricole.fr", "lcl.fr", "abnamro.nl",
	"rabobank.nl", "unicredit.it", "intesasanpaolo.com", "bbva.com", "caixabank.com",
	"ubs.com", "revolut.com", "n26.com", "wise.com", "coinbase.com", "binance.com",
	"kraken.com", "blockchain.com", "metamask.io", "ledger.com", "trezor.io",
	"opensea.io", "steampowered.com steamcommunity.com", "epicgames.com", "roblox.com",
	"playstation.com", "xbox.com", "spotify.com", "disneyplus.com", "hulu.com",
	"fedex.com", "ups.com", "usps.com", "royalmail.com", "dpd.com", "hermesworld.com",
	"postnl.nl", "laposte.fr", "correos.es", "auspost.com.au", "canadapost.ca", "att.com",
	"verizon.com", "t-mobile.com", "vodafone.com", "orange.fr", "telekom.de", "xfinity.com",
	"walmart.com", "target.com", "bestbuy.com", "costco.com", "aliexpress.com",
	"booking.com", "airbnb.com", "github.com",
};

static const char *const sites[] = {
	"google.com", "youtube.com", "facebook.com", "wikipedia.org", "amazon.com", "yahoo.com",
	"reddit.com", "bing.com", "live.com", "github.com", "stackoverflow.com", "ebay.com",
	"cnn.com", "bbc.co.uk", "nytimes.com", "theguardian.com", "imdb.com", "spotify.com",
	"twitch.tv", "yandex.ru", "vk.com", "baidu.com", "qq.com", "taobao.com", "booking.com",
	"walmart.com", "etsy.com", "zillow.com", "indeed.com", "chase.com", "wellsfargo.com",
	"cloudflare.com", "akamai.net", "akamaiedge.net", "fastly.net", "cloudfront.net",
	"azureedge.net", "windows.net", "office.com", "apple.com", "icloud.com", "mozilla.org",
	"debian.org", "ubuntu.com", "slack.com", "zoom.us", "dropbox.com", "salesforce.com",
	"doubleclick.net", "googlesyndication.com", "criteo.com", "outbrain.com", "taboola.com",
	"spiegel.de", "lemonde.fr", "corriere.it", "nos.nl", "abc.net.au", "globo.com",
	"rakuten.co.jp", "naver.com", "flipkart.com", "gov.uk", "nhs.uk", "europa.eu",
	"booking.com", "tripadvisor.com", "airbnb.com", "paypal.com", "netflix.com",
};

static const char *const words[] = {
	"green", "garden", "house", "city", "news", "shop", "online", "store", "market",
	"blue", "red", "sun", "moon", "star", "tech", "data", "cloud", "net", "web", "home",
	"auto", "car", "travel", "food", "coffee", "pizza", "health", "care", "life", "bank",
	"money", "pay", "secure", "login", "account", "verify", "update", "service", "support",
	"help", "mail", "post", "box", "parcel", "track", "delivery", "express", "global",
	"world", "best", "top", "my", "the", "first", "smart", "quick", "easy", "free", "deal",
	"apple", "orange", "lemon", "book", "king", "ring", "sing", "wing", "chase", "purchase",
	"amazing", "goggle", "pal", "friend", "team", "group", "studio", "media", "design",
	"photo", "music", "game", "play", "sport", "club", "school", "learn", "code", "dev",
};

static const char *const tlds[] = { "com", "net", "org", "de", "co.uk", "io", "fr", "nl",
				    "info", "ru", "com.br", "xyz", "top", "online", "it",
				    "es", "com.au", "co", "us", "ca" };
static const char *const subs[] = { "www", "mail", "api", "cdn", "static", "img", "m",
				    "login", "auth", "app", "media", "assets", "shop", "blog" };

#define N(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static const char *pick(uint64_t *s, const char *const *a, size_t n)
{
	return a[rng(s) % n];
}

/* The label of a brand value's first domain (the text up to its first dot). */
static void brand_label(const char *value, char *out, size_t cap)
{
	size_t n = strcspn(value, ".");
	if (n >= cap)
		n = cap - 1;
	memcpy(out, value, n);
	out[n] = '\0';
}

/* A typo or a homoglyph of label into out. */
static void mutate(uint64_t *s, const char *label, char *out)
{
	size_t n = strlen(label), p = rng(s) % n;
	static const char *const glyph[][2] = { { "l", "1" }, { "o", "0" }, { "m", "rn" },
						{ "w", "vv" }, { "i", "1" }, { "a", "4" } };
	switch (rng(s) % 5) {
	case 0: /* substitution */
		strcpy(out, label);
		out[p] = (char)('a' + rng(s) % 26);
		break;
	case 1: /* insertion */
		memcpy(out, label, p);
		out[p] = label[p];
		strcpy(out + p + 1, label + p);
		break;
	case 2: /* deletion */
		memcpy(out, label, p);
		strcpy(out + p, label + p + 1);
		break;
	case 3: /* swap */
		strcpy(out, label);
		if (p + 1 < n) {
			out[p] = label[p + 1];
			out[p + 1] = label[p];
		}
		break;
	default: { /* homoglyph */
		strcpy(out, label);
		for (size_t g = 0; g < N(glyph); g++) {
			char *at = strstr(out, glyph[g][0]);
			if (at) {
				char rest[128];
				snprintf(rest, sizeof(rest), "%s", at + 1);
				sprintf(at, "%s%s", glyph[g][1], rest);
				break;
			}
		}
	}
	}
}

/* One lookalike of a brand, in one of the styles attackers use. */
static void planted(uint64_t *s, char *out, size_t cap)
{
	char label[80], m[160];
	brand_label(pick(s, brands, N(brands)), label, sizeof(label));
	switch (rng(s) % 5) {
	case 0:
	case 1:
		mutate(s, label, m);
		snprintf(out, cap, "%s.%s", m, pick(s, tlds, N(tlds)));
		break;
	case 2:
		snprintf(out, cap, "%s.%s", label, pick(s, tlds, N(tlds)));
		break;
	case 3:
		snprintf(out, cap, "%s-%s-%s.%s", label, pick(s, words, N(words)),
			 pick(s, words, N(words)), pick(s, tlds, N(tlds)));
		break;
	default:
		snprintf(out, cap, "%s.com.%s-%s.%s", label, pick(s, words, N(words)),
			 pick(s, words, N(words)), pick(s, tlds, N(tlds)));
	}
}

/* An IDN name: a brand with one Latin letter replaced by its Cyrillic
 * lookalike, or an ordinary accented name; half of them in xn-- form. */
static void idn(uint64_t *s, UIDNA *u, char *out, size_t cap)
{
	static const char *const cyr[][2] = { { "a", "\xd0\xb0" }, { "o", "\xd0\xbe" },
					      { "e", "\xd0\xb5" }, { "p", "\xd1\x80" },
					      { "c", "\xd1\x81" } };
	static const char *const plain[] = { "m\xc3\xbcnchen-shop", "caf\xc3\xa9-paris",
					     "stra\xc3\x9f" "e", "espa\xc3\xb1" "a-viajes",
					     "\xc3\xa5lesund" };
	char label[80], utf[256];
	if (rng(s) % 2) {
		brand_label(pick(s, brands, N(brands)), label, sizeof(label));
		size_t g = rng(s) % N(cyr);
		char *at = strstr(label, cyr[g][0]);
		if (!at) {
			g = 0;
			at = strstr(label, cyr[0][0]);
		}
		if (at) {
			*at = '\0';
			snprintf(utf, sizeof(utf), "%s%s%s.%s", label, cyr[g][1], at + 1,
				 pick(s, tlds, N(tlds)));
		} else {
			snprintf(utf, sizeof(utf), "%s\xd0\xb0.%s", label, pick(s, tlds, N(tlds)));
		}
	} else {
		snprintf(utf, sizeof(utf), "%s.%s", pick(s, plain, N(plain)), pick(s, tlds, N(tlds)));
	}
	if (rng(s) % 2) {
		snprintf(out, cap, "%s", utf);
		return;
	}
	UIDNAInfo info = UIDNA_INFO_INITIALIZER;
	UErrorCode st = U_ZERO_ERROR;
	int32_t k = uidna_nameToASCII_UTF8(u, utf, -1, out, (int32_t)cap, &info, &st);
	if (U_FAILURE(st) || k <= 0 || (size_t)k >= cap)
		snprintf(out, cap, "%s", utf);
	else
		out[k] = '\0';
}

static void generate(uint64_t *s, UIDNA *u, char *out, size_t cap)
{
	unsigned r = (unsigned)(rng(s) % 1000);
	if (r < 400) {
		snprintf(out, cap, "%s.%s", pick(s, subs, N(subs)), pick(s, sites, N(sites)));
	} else if (r < 700) {
		const char *sep = rng(s) % 3 ? "" : "-";
		snprintf(out, cap, "%s%s%s.%s", pick(s, words, N(words)), sep,
			 pick(s, words, N(words)), pick(s, tlds, N(tlds)));
	} else if (r < 850) {
		uint64_t x = rng(s);
		switch (x % 4) {
		case 0: snprintf(out, cap, "d%012llx.cloudfront.net", (unsigned long long)(x >> 16)); break;
		case 1:
			snprintf(out, cap, "ec2-%u-%u-%u-%u.compute-1.amazonaws.com",
				 (unsigned)(x >> 8) & 255, (unsigned)(x >> 16) & 255,
				 (unsigned)(x >> 24) & 255, (unsigned)(x >> 32) & 255);
			break;
		case 2: snprintf(out, cap, "r%u---sn-%06llx.googlevideo.com", (unsigned)(x >> 60),
				 (unsigned long long)(x >> 20) & 0xffffff); break;
		default: snprintf(out, cap, "e%llu.a.akamaiedge.net",
				  (unsigned long long)(x >> 40)); break;
		}
	} else if (r < 950) {
		char lab[20];
		size_t n = 8 + rng(s) % 9;
		for (size_t i = 0; i < n; i++)
			lab[i] = (char)('a' + rng(s) % 26);
		lab[n] = '\0';
		snprintf(out, cap, "%s.%s", lab, pick(s, tlds, N(tlds)));
	} else if (r < 990) {
		planted(s, out, cap);
	} else {
		idn(s, u, out, cap);
	}
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	size_t n = 1000000;
	const char *file = NULL;
	if (argc > 1) {
		char *end;
		unsigned long long v = strtoull(argv[1], &end, 10);
		if (*end)
			file = argv[1];
		else
			n = (size_t)v;
	}
	int rounds = argc > 2 ? atoi(argv[2]) : 3;
	if (rounds < 1)
		rounds = 1;

	struct lookalike *l = NULL;
	if (lookalike_create(&l) != CS_OK) {
		fprintf(stderr, "cannot open ICU\n");
		return 1;
	}
	for (size_t i = 0; i < N(brands); i++) {
		struct cs_diag d;
		cs_diag_clear(&d);
		if (lookalike_add_brand(l, (uint32_t)i, brands[i], strlen(brands[i]), &d) != CS_OK) {
			fprintf(stderr, "brand '%s': %s\n", brands[i], d.msg);
			return 1;
		}
	}
	if (lookalike_seal(l) != CS_OK)
		return 1;

	/* all host names in one buffer, NUL-separated, before any timing */
	size_t cap = 0, used = 0, count = 0;
	char *buf = NULL;
	FILE *f = file ? fopen(file, "r") : NULL;
	if (file && !f) {
		perror(file);
		return 1;
	}
	UErrorCode st = U_ZERO_ERROR;
	UIDNA *u = uidna_openUTS46(UIDNA_NONTRANSITIONAL_TO_ASCII, &st);
	uint64_t seed = 0x2545f4914f6cdd1dull;
	char line[1024];
	while (f ? fgets(line, sizeof(line), f) != NULL : count < n) {
		if (f)
			line[strcspn(line, "\r\n")] = '\0';
		else
			generate(&seed, u, line, sizeof(line));
		size_t len = strlen(line);
		if (!len)
			continue;
		if (used + len + 1 > cap) {
			cap = cap ? cap * 2 : 1 << 20;
			buf = realloc(buf, cap);
			if (!buf)
				return 1;
		}
		memcpy(buf + used, line, len + 1);
		used += len + 1;
		count++;
	}
	if (f)
		fclose(f);
	uidna_close(u);

	size_t kinds[LOOKALIKE_COMBO + 1] = { 0 }, hits = 0, idn_hosts = 0;
	double best = 1e30;
	for (int r = 0; r < rounds; r++) {
		double t0 = now();
		size_t h = 0;
		for (size_t off = 0; off < used;) {
			size_t len = strlen(buf + off);
			struct lookalike_hit out[4];
			size_t k = lookalike_check(l, buf + off, len, out, 4);
			h += k;
			if (r == 0)
				for (size_t i = 0; i < k && i < 4; i++)
					kinds[out[i].kind]++;
			off += len + 1;
		}
		double dt = now() - t0;
		if (dt < best)
			best = dt;
		hits = h;
	}
	for (size_t off = 0; off < used; off += strlen(buf + off) + 1) {
		const char *s = buf + off;
		bool high = false;
		for (const char *p = s; *p; p++)
			high |= (unsigned char)*p >= 0x80;
		idn_hosts += high || strstr(s, "xn--") != NULL;
	}
	printf("brands %zu, hosts %zu (%zu IDN: UTF-8 or xn--), %.1f MB\n", N(brands), count,
	       idn_hosts, used / 1e6);
	printf("best of %d: %.3f s, %.0f checks/s, %.2f us/check\n", rounds, best, count / best,
	       best * 1e6 / (double)count);
	printf("hits %zu: tld %zu, homoglyph %zu, edit %zu, hyphen %zu, combo %zu\n", hits,
	       kinds[LOOKALIKE_TLD], kinds[LOOKALIKE_HOMOGLYPH], kinds[LOOKALIKE_EDIT],
	       kinds[LOOKALIKE_HYPHEN], kinds[LOOKALIKE_COMBO]);
	free(buf);
	lookalike_destroy(l);
	return 0;
}
