/* Unit tests for lookalike domains of brands: each kind with real-world
 * style examples (ASCII, UTF-8 and xn-- forms), the brands' own domains,
 * 270 popular real domains whose exact set of hits is asserted, the
 * distance and min options at their bounds, refused values, the ASCII fold
 * against ICU's TR39 skeleton, and the edit distance against a plain
 * reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unicode/uspoof.h>

#include "correlate/edit_distance.h"
#include "correlate/lookalike.h"

enum { PAYPAL, MICROSOFT, APPLE, AMAZON, GOOGLE, NETFLIX, CHASE, WELLSFARGO, ING, DHL, NBRANDS };

static const char *const brands[NBRANDS] = {
	[PAYPAL] = "paypal.com paypal.me paypalobjects.com paypal-community.com",
	[MICROSOFT] = "microsoft.com live.com office.com outlook.com hotmail.com "
		      "microsoftonline.com windows.net",
	[APPLE] = "apple.com icloud.com",
	[AMAZON] = "amazon.com amazon.co.uk amazon.de amazonaws.com primevideo.com",
	[GOOGLE] = "google.com google.co.uk google.de gmail.com youtube.com googleapis.com "
		   "gstatic.com",
	[NETFLIX] = "netflix.com nflxvideo.net",
	[CHASE] = "chase.com",
	[WELLSFARGO] = "wellsfargo.com wf.com",
	[ING] = "ing.com ing.nl ing.de",
	[DHL] = "dhl.com dhl.de",
};

static struct lookalike *build(const char *const *values, size_t n)
{
	struct lookalike *l = NULL;
	assert_int_equal(lookalike_create(&l), CS_OK);
	for (size_t i = 0; i < n; i++) {
		struct cs_diag d;
		cs_diag_clear(&d);
		enum cs_err err = lookalike_add_brand(l, (uint32_t)i, values[i], strlen(values[i]), &d);
		if (err)
			fail_msg("brand '%s' refused: %s", values[i], d.msg);
	}
	assert_int_equal(lookalike_seal(l), CS_OK);
	return l;
}

static struct lookalike *one_brand(const char *value)
{
	return build(&value, 1);
}

static int setup(void **state)
{
	*state = build(brands, NBRANDS);
	return 0;
}

static int teardown(void **state)
{
	lookalike_destroy(*state);
	return 0;
}

static size_t check(const struct lookalike *l, const char *host, struct lookalike_hit *h,
		    size_t cap)
{
	return lookalike_check(l, host, strlen(host), h, cap);
}

/* host imitates exactly one brand, ind, in this way. */
static void hit(const struct lookalike *l, const char *host, uint32_t ind,
		enum lookalike_kind kind, unsigned dist, const char *label)
{
	struct lookalike_hit h[4];
	size_t n = check(l, host, h, 4);
	if (n != 1)
		fail_msg("'%s': %zu hits, expected 1", host, n);
	if (h[0].ind != ind || h[0].kind != kind || h[0].distance != dist)
		fail_msg("'%s': brand %u %s d=%u, expected brand %u %s d=%u", host, h[0].ind,
			 lookalike_kind_name(h[0].kind), h[0].distance, ind,
			 lookalike_kind_name(kind), dist);
	if (label)
		assert_string_equal(h[0].label, label);
}

static void none(const struct lookalike *l, const char *host)
{
	struct lookalike_hit h[4];
	size_t n = check(l, host, h, 4);
	if (n)
		fail_msg("'%s': %zu hits, first %s %s '%s'", host, n, h[0].brand,
			 lookalike_kind_name(h[0].kind), h[0].label);
}

static void test_homoglyphs(void **state)
{
	const struct lookalike *l = *state;
	hit(l, "paypa1.com", PAYPAL, LOOKALIKE_HOMOGLYPH, 0, "paypa1");
	hit(l, "rnicrosoft.com", MICROSOFT, LOOKALIKE_HOMOGLYPH, 0, "rnicrosoft");
	hit(l, "micr0soft.com", MICROSOFT, LOOKALIKE_HOMOGLYPH, 0, "micr0soft");
	hit(l, "arnazon.com", AMAZON, LOOKALIKE_HOMOGLYPH, 0, "arnazon");
	hit(l, "vvellsfargo.com", WELLSFARGO, LOOKALIKE_HOMOGLYPH, 0, NULL);
	hit(l, "clhl.com", DHL, LOOKALIKE_HOMOGLYPH, 0, NULL);
	hit(l, "g00gle.net", GOOGLE, LOOKALIKE_HOMOGLYPH, 0, NULL);
	hit(l, "PAYPA1.COM.", PAYPAL, LOOKALIKE_HOMOGLYPH, 0, "paypa1");
	/* Cyrillic a (U+0430), as UTF-8 and as the punycode ICU and python3 agree on */
	hit(l, "p\xd0\xb0ypal.com", PAYPAL, LOOKALIKE_HOMOGLYPH, 0, "p\xd0\xb0ypal");
	hit(l, "xn--pypal-4ve.com", PAYPAL, LOOKALIKE_HOMOGLYPH, 0, "p\xd0\xb0ypal");
	hit(l, "XN--PYPAL-4VE.COM", PAYPAL, LOOKALIKE_HOMOGLYPH, 0, "p\xd0\xb0ypal");
	hit(l, "login.xn--pypal-4ve.com", PAYPAL, LOOKALIKE_HOMOGLYPH, 0, NULL);
	/* Cyrillic o twice, Cyrillic o in microsoft, all-Cyrillic paypal */
	hit(l, "xn--ggle-55da.com", GOOGLE, LOOKALIKE_HOMOGLYPH, 0, NULL);
	hit(l, "xn--micrsoft-qbh.com", MICROSOFT, LOOKALIKE_HOMOGLYPH, 0, NULL);
	hit(l, "xn--l-7sba6dbr.com", PAYPAL, LOOKALIKE_HOMOGLYPH, 0, NULL);
	/* an accent is dropped with the combining mark */
	hit(l, "xn--paypl-0qa.com", PAYPAL, LOOKALIKE_HOMOGLYPH, 0, "payp\xc3\xa1l");
	/* TR39 maps the Cyrillic palochka to i, not l: one edit from apple */
	hit(l, "xn--80ak6aa92e.com", APPLE, LOOKALIKE_EDIT, 1, NULL);
	/* fullwidth letters and dot: UTS 46 maps them to paypal.com itself */
	none(l, "\xef\xbd\x90\xef\xbd\x81\xef\xbd\x99\xef\xbd\x90\xef\xbd\x81\xef\xbd\x8c"
		"\xef\xbc\x8e\xef\xbd\x83\xef\xbd\x8f\xef\xbd\x8d");
}

static void test_edits(void **state)
{
	const struct lookalike *l = *state;
	hit(l, "paypall.com", PAYPAL, LOOKALIKE_EDIT, 1, "paypall");
	hit(l, "paypa.com", PAYPAL, LOOKALIKE_EDIT, 1, NULL);
	hit(l, "paypai.com", PAYPAL, LOOKALIKE_EDIT, 1, NULL);
	hit(l, "mircosoft.com", MICROSOFT, LOOKALIKE_EDIT, 1, NULL);
	hit(l, "micosoft.com", MICROSOFT, LOOKALIKE_EDIT, 1, NULL);
	hit(l, "mcrosft.com", MICROSOFT, LOOKALIKE_EDIT, 2, NULL);
	hit(l, "amazom.com", AMAZON, LOOKALIKE_EDIT, 1, NULL);
	hit(l, "gooogle.com", GOOGLE, LOOKALIKE_EDIT, 1, NULL);
	hit(l, "netfliix.com", NETFLIX, LOOKALIKE_EDIT, 1, NULL);
	hit(l, "welsfargo.com", WELLSFARGO, LOOKALIKE_EDIT, 1, NULL);
	hit(l, "wellsfagro.com", WELLSFARGO, LOOKALIKE_EDIT, 1, NULL);
	hit(l, "chasse.com", CHASE, LOOKALIKE_EDIT, 1, NULL);
	/* a typo and a homoglyph together */
	hit(l, "paypa1l.com", PAYPAL, LOOKALIKE_EDIT, 1, NULL);
	/* m typed as another letter: the plain distance, not the skeleton's */
	hit(l, "axazon.com", AMAZON, LOOKALIKE_EDIT, 1, NULL);
	hit(l, "paypalll.com", PAYPAL, LOOKALIKE_COMBO, 0, NULL);
	none(l, "paaypall.com");
	none(l, "mcrsft.com");
}

static void test_tlds(void **state)
{
	const struct lookalike *l = *state;
	hit(l, "paypal.co", PAYPAL, LOOKALIKE_TLD, 0, "paypal");
	hit(l, "paypal.net", PAYPAL, LOOKALIKE_TLD, 0, NULL);
	hit(l, "www.paypal.co.uk", PAYPAL, LOOKALIKE_TLD, 0, "paypal");
	hit(l, "amazon.com.au", AMAZON, LOOKALIKE_TLD, 0, NULL);
	hit(l, "ing.co", ING, LOOKALIKE_TLD, 0, NULL);
	hit(l, "dhl.support", DHL, LOOKALIKE_TLD, 0, NULL);
	hit(l, "paypal.com.login-check.net", PAYPAL, LOOKALIKE_TLD, 0, "paypal");
	hit(l, "www.paypal.com.evil.net", PAYPAL, LOOKALIKE_TLD, 0, "paypal");
	hit(l, "paypal.com-account-verify.info", PAYPAL, LOOKALIKE_TLD, 0, "paypal");
	hit(l, "paypal.com.net", PAYPAL, LOOKALIKE_TLD, 0, "paypal");
	hit(l, "www-paypal-com.evil.net", PAYPAL, LOOKALIKE_TLD, 0, "www-paypal-com");
	hit(l, "chase.online.secure-auth.ru", CHASE, LOOKALIKE_TLD, 0, "chase");
	hit(l, "dhl.de.tracking-parcel.top", DHL, LOOKALIKE_TLD, 0, "dhl");
	hit(l, "paypa1.com.evil.net", PAYPAL, LOOKALIKE_TLD, 0, "paypa1");
	/* the brand standing alone in a subdomain is not enough */
	none(l, "paypal.evil.net");
	none(l, "apple.stackexchange.com");
	none(l, "paypal.login.evil.net");
}

static void test_hyphens_and_combos(void **state)
{
	const struct lookalike *l = *state;
	hit(l, "paypal-secure-login.com", PAYPAL, LOOKALIKE_HYPHEN, 0, "paypal-secure-login");
	hit(l, "secure-paypal.net", PAYPAL, LOOKALIKE_HYPHEN, 0, NULL);
	hit(l, "paypa1-verify.com", PAYPAL, LOOKALIKE_HYPHEN, 0, NULL);
	hit(l, "pay-pal.com", PAYPAL, LOOKALIKE_HYPHEN, 0, NULL);
	hit(l, "dhl-express-delivery.com", DHL, LOOKALIKE_HYPHEN, 0, NULL);
	hit(l, "ing-bank-login.com", ING, LOOKALIKE_HYPHEN, 0, NULL);
	hit(l, "apple-id-support.com", APPLE, LOOKALIKE_HYPHEN, 0, NULL);
	hit(l, "my-chase-alerts.com", CHASE, LOOKALIKE_HYPHEN, 0, NULL);
	hit(l, "login.micr0soft-office365.com", MICROSOFT, LOOKALIKE_HYPHEN, 0, NULL);
	hit(l, "p\xd0\xb0ypal-login.com", PAYPAL, LOOKALIKE_HYPHEN, 0, NULL);
	hit(l, "paypalsecure.com", PAYPAL, LOOKALIKE_COMBO, 0, "paypalsecure");
	hit(l, "mypaypal.net", PAYPAL, LOOKALIKE_COMBO, 0, NULL);
	hit(l, "wellsfargoonline.com", WELLSFARGO, LOOKALIKE_COMBO, 0, NULL);
	hit(l, "netflixbilling.com", NETFLIX, LOOKALIKE_COMBO, 0, NULL);
	hit(l, "microsoftsupport.help", MICROSOFT, LOOKALIKE_COMBO, 0, NULL);
	hit(l, "paypa1account.com", PAYPAL, LOOKALIKE_COMBO, 0, NULL);
	/* short brands are not searched inside words */
	none(l, "booking.com");
	none(l, "kingston.com");
	none(l, "purchase.com");
	none(l, "pineapple.com");
	none(l, "dhlparcel.nl");
	none(l, "mychasealerts.com");
}

static void test_own_domains(void **state)
{
	const struct lookalike *l = *state;
	const char *own[] = {
		"paypal.com", "www.paypal.com", "PayPal.com.", "x.paypal.me", "paypal.me",
		"www.paypalobjects.com", "paypal-community.com", "login.microsoftonline.com",
		"teams.microsoft.com", "outlook.office.com", "aws.amazon.com", "s3.amazonaws.com",
		"amazon.co.uk", "www.amazon.de", "mail.google.com", "www.google.co.uk",
		"fonts.googleapis.com", "secure.chase.com", "connect.secure.wellsfargo.com",
		"mijn.ing.nl", "www.dhl.de", "assets.nflxvideo.net", "wf.com",
	};
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		none(l, own[i]);
}

/* Popular real domains and subdomains. */
static const char *const popular[] = {
	"google.com", "youtube.com", "facebook.com", "baidu.com", "wikipedia.org", "amazon.com",
	"twitter.com", "instagram.com", "yahoo.com", "linkedin.com", "netflix.com",
	"microsoft.com", "apple.com", "reddit.com", "bing.com", "office.com", "live.com",
	"zoom.us", "tiktok.com", "whatsapp.com", "github.com", "stackoverflow.com",
	"wordpress.com", "ebay.com", "paypal.com", "adobe.com", "dropbox.com", "salesforce.com",
	"cnn.com", "bbc.co.uk", "bbc.com", "nytimes.com", "theguardian.com", "washingtonpost.com",
	"forbes.com", "bloomberg.com", "reuters.com", "wsj.com", "espn.com", "imdb.com",
	"pinterest.com", "tumblr.com", "quora.com", "twitch.tv", "spotify.com", "soundcloud.com",
	"vimeo.com", "yandex.ru", "vk.com", "mail.ru", "ok.ru", "qq.com", "taobao.com",
	"tmall.com", "jd.com", "weibo.com", "sohu.com", "163.com", "alibaba.com",
	"aliexpress.com", "booking.com", "expedia.com", "tripadvisor.com", "airbnb.com",
	"uber.com", "lyft.com", "walmart.com", "target.com", "bestbuy.com", "homedepot.com",
	"lowes.com", "costco.com", "etsy.com", "craigslist.org", "zillow.com", "indeed.com",
	"glassdoor.com", "bankofamerica.com", "chase.com", "wellsfargo.com", "citi.com",
	"capitalone.com", "americanexpress.com", "discover.com", "usbank.com", "hsbc.com",
	"barclays.co.uk", "lloydsbank.com", "santander.com", "bnpparibas.com",
	"societegenerale.fr", "deutsche-bank.de", "commerzbank.de", "ing.com", "ing.nl",
	"rabobank.nl", "abnamro.nl", "ubs.com", "credit-suisse.com", "visa.com",
	"mastercard.com", "stripe.com", "squareup.com", "shopify.com", "wix.com",
	"squarespace.com", "godaddy.com", "namecheap.com", "cloudflare.com", "akamai.com",
	"fastly.com", "digitalocean.com", "heroku.com", "oracle.com", "ibm.com", "intel.com",
	"amd.com", "nvidia.com", "cisco.com", "dell.com", "hp.com", "lenovo.com", "samsung.com",
	"sony.com", "lg.com", "huawei.com", "xiaomi.com", "asus.com", "acer.com", "logitech.com",
	"canon.com", "nikon.com", "fedex.com", "ups.com", "usps.com", "dhl.com", "dpd.com",
	"gls-group.eu", "tnt.com", "royalmail.com", "bild.de", "spiegel.de", "zeit.de",
	"lemonde.fr", "lefigaro.fr", "elpais.com", "corriere.it", "repubblica.it", "nos.nl",
	"news.com.au", "abc.net.au", "cbc.ca", "globo.com", "uol.com.br", "mercadolibre.com.ar",
	"rakuten.co.jp", "yahoo.co.jp", "nhk.or.jp", "naver.com", "daum.net", "flipkart.com",
	"paytm.com", "hotstar.com", "zomato.com", "ndtv.com", "timesofindia.indiatimes.com",
	"gov.uk", "www.gov.uk", "nhs.uk", "irs.gov", "usa.gov", "nasa.gov", "nih.gov", "cdc.gov",
	"who.int", "un.org", "europa.eu", "mozilla.org", "python.org", "apache.org", "gnu.org",
	"kernel.org", "debian.org", "ubuntu.com", "redhat.com", "gitlab.com", "bitbucket.org",
	"atlassian.com", "slack.com", "discord.com", "telegram.org", "signal.org", "skype.com",
	"teams.microsoft.com", "outlook.com", "hotmail.com", "gmail.com", "protonmail.com",
	"icloud.com", "steamcommunity.com", "steampowered.com", "epicgames.com", "roblox.com",
	"minecraft.net", "ea.com", "blizzard.com", "playstation.com", "xbox.com", "nintendo.com",
	"hulu.com", "disneyplus.com", "hbomax.com", "primevideo.com", "crunchyroll.com",
	"deezer.com", "pandora.com", "medium.com", "substack.com", "blogger.com", "wikihow.com",
	"britannica.com", "archive.org", "duckduckgo.com", "startpage.com", "ecosia.org",
	"openai.com", "chatgpt.com", "anthropic.com", "coinbase.com", "binance.com", "kraken.com",
	"blockchain.com", "coursera.org", "udemy.com", "edx.org", "khanacademy.org",
	"duolingo.com", "nature.com", "sciencedirect.com", "springer.com", "researchgate.net",
	"arxiv.org", "weather.com", "accuweather.com", "tradingview.com", "investing.com",
	"yelp.com", "doordash.com", "grubhub.com", "instacart.com", "kayak.com",
	"skyscanner.net", "ryanair.com", "easyjet.com", "lufthansa.com", "emirates.com",
	"delta.com", "united.com", "aa.com", "marriott.com", "hilton.com", "netlify.com",
	"chess.com", "appleinsider.com", "dhlparcel.nl", "kingston.com", "aws.amazon.com",
	"maps.google.com", "www.google.co.uk", "mail.google.com", "login.live.com",
	"www.chase.com", "connect.secure.wellsfargo.com", "apple.stackexchange.com",
	"r3---sn-4g5e6nsz.googlevideo.com", "paypay.ne.jp", "googletagmanager.com",
	"amazon-adsystem.com",
};

static void test_popular_domains(void **state)
{
	const struct lookalike *l = *state;
	/* Genuine lookalikes among them: PayPay is one edit from PayPal, and two
	 * domains the brands own but the test packs do not list. */
	const char *const want[] = {
		"paypay.ne.jp>paypal:edit:1",
		"r3---sn-4g5e6nsz.googlevideo.com>google:combo:0",
		"googletagmanager.com>google:combo:0",
		"amazon-adsystem.com>amazon:hyphen:0",
	};
	size_t n_popular = sizeof(popular) / sizeof(popular[0]);
	assert_true(n_popular >= 250);
	size_t found = 0;
	for (size_t i = 0; i < n_popular; i++) {
		struct lookalike_hit h[4];
		size_t n = check(l, popular[i], h, 4);
		for (size_t k = 0; k < n; k++) {
			char got[256];
			snprintf(got, sizeof(got), "%s>%s:%s:%u", popular[i], h[k].brand,
				 lookalike_kind_name(h[k].kind), h[k].distance);
			bool expected = false;
			for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++)
				expected |= strcmp(got, want[w]) == 0;
			if (!expected)
				fail_msg("unexpected hit %s", got);
			found++;
		}
	}
	assert_int_equal(found, sizeof(want) / sizeof(want[0]));
}

static void test_not_hosts(void **state)
{
	const struct lookalike *l = *state;
	const char *bad[] = {
		"", ".", "paypa1", "paypa1 .com", "http://paypa1.com", "paypa1.com/login",
		"paypa1..com", ".paypa1.com", "10.0.0.1", "co.uk", "xn--zz.com",
		"xn--pypal-4ve..com", "pay\xffpal.com", "paypa1.com:443",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		none(l, bad[i]);
	char longhost[400];
	memset(longhost, 'a', sizeof(longhost));
	memcpy(longhost + sizeof(longhost) - 11, ".paypa1.com", 11);
	assert_int_equal(lookalike_check(l, longhost, sizeof(longhost), NULL, 0), 0);
	assert_int_equal(lookalike_check(l, NULL, 3, NULL, 0), 0);
	/* NUL inside the given length is not a host byte */
	assert_int_equal(lookalike_check(l, "paypa1.com\0x", 12, NULL, 0), 0);
	/* a count without an output buffer */
	assert_int_equal(lookalike_check(l, "paypa1.com", 10, NULL, 0), 1);
}

static void test_cap_and_several_brands(void **state)
{
	const struct lookalike *l = *state;
	struct lookalike_hit h[4];
	memset(h, 0x5a, sizeof(h));
	const char *host = "paypal-amazon-apple.com";
	assert_int_equal(check(l, host, h, 1), 3);
	assert_int_equal(h[0].ind, PAYPAL);
	assert_int_equal((unsigned char)h[1].label[0], 0x5a); /* nothing past cap */
	assert_int_equal(check(l, host, h, 4), 3);
	uint32_t seen = 0;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(h[i].kind, LOOKALIKE_HYPHEN);
		seen |= 1u << h[i].ind;
	}
	assert_int_equal(seen, (1u << PAYPAL) | (1u << AMAZON) | (1u << APPLE));
	/* a host that is one brand's own domain still imitates another */
	struct lookalike *two = build((const char *const[]){ "paypal.com", "paypal.me" }, 2);
	assert_int_equal(check(two, "www.paypal.me", h, 4), 1);
	assert_int_equal(h[0].ind, 0);
	assert_int_equal(h[0].kind, LOOKALIKE_TLD);
	lookalike_destroy(two);
}

static void test_distance_option(void **state)
{
	(void)state;
	struct lookalike *l = one_brand("paypal.com distance=0");
	none(l, "paypai.com");
	hit(l, "paypa1.com", 0, LOOKALIKE_HOMOGLYPH, 0, NULL);
	hit(l, "paypal.org", 0, LOOKALIKE_TLD, 0, NULL);
	lookalike_destroy(l);

	l = one_brand("microsoft.com");
	hit(l, "mcrosft.com", 0, LOOKALIKE_EDIT, 2, NULL);
	none(l, "mcrsft.com");
	lookalike_destroy(l);
	l = one_brand("microsoft.com distance=3");
	hit(l, "mcrsft.com", 0, LOOKALIKE_EDIT, 3, NULL);
	none(l, "mcrst.com");
	lookalike_destroy(l);

	/* defaults: 0 up to 4 characters, 1 up to 8, 2 above */
	l = one_brand("ing.com");
	none(l, "ong.com");
	none(l, "bing.com");
	lookalike_destroy(l);
	l = one_brand("ing.com distance=1");
	hit(l, "ong.com", 0, LOOKALIKE_EDIT, 1, NULL);
	hit(l, "bing.com", 0, LOOKALIKE_EDIT, 1, NULL); /* why short brands default to 0 */
	lookalike_destroy(l);
	l = one_brand("abcdefgh.com");
	hit(l, "abcdefg.com", 0, LOOKALIKE_EDIT, 1, NULL);
	none(l, "abcdef.com");
	lookalike_destroy(l);
	l = one_brand("abcdefghi.com");
	hit(l, "abcdefg.com", 0, LOOKALIKE_EDIT, 2, NULL);
	none(l, "abcdef.com");
	lookalike_destroy(l);
}

static void test_min_option(void **state)
{
	(void)state;
	struct lookalike *l = one_brand("apple.com");
	none(l, "appleidverify.com");
	hit(l, "apple-id-verify.com", 0, LOOKALIKE_HYPHEN, 0, NULL);
	lookalike_destroy(l);
	l = one_brand("apple.com min=5");
	hit(l, "appleidverify.com", 0, LOOKALIKE_COMBO, 0, NULL);
	hit(l, "pineapple.com", 0, LOOKALIKE_COMBO, 0, NULL); /* why the default is 6 */
	lookalike_destroy(l);
	l = one_brand("paypal.com min=7");
	none(l, "paypalsecure.com");
	hit(l, "paypal-secure.com", 0, LOOKALIKE_HYPHEN, 0, NULL);
	lookalike_destroy(l);
}

static void test_idn_brand_domains(void **state)
{
	(void)state;
	struct lookalike *l = one_brand("mueller.de m\xc3\xbcller.de");
	none(l, "www.m\xc3\xbcller.de");
	none(l, "xn--mller-kva.de");
	none(l, "shop.mueller.de");
	hit(l, "mueller.com", 0, LOOKALIKE_TLD, 0, NULL);
	hit(l, "rnueller.de", 0, LOOKALIKE_HOMOGLYPH, 0, NULL);
	lookalike_destroy(l);
}

static void refused(const char *value, enum cs_err want, const char *msg_part)
{
	struct lookalike *l = NULL;
	assert_int_equal(lookalike_create(&l), CS_OK);
	struct cs_diag d;
	cs_diag_clear(&d);
	enum cs_err err = lookalike_add_brand(l, 7, value, strlen(value), &d);
	if (err != want)
		fail_msg("'%s': %s, expected %s (%s)", value, cs_err_str(err), cs_err_str(want),
			 d.msg);
	if (!strstr(d.msg, msg_part))
		fail_msg("'%s': message '%s' lacks '%s'", value, d.msg, msg_part);
	assert_int_equal(lookalike_brand_count(l), 0);
	lookalike_destroy(l);
}

static void test_malformed(void **state)
{
	(void)state;
	refused("", CS_ERR_PARSE, "names no domain");
	refused("   ", CS_ERR_PARSE, "names no domain");
	refused("distance=1", CS_ERR_PARSE, "names no domain");
	refused("paypal..com", CS_ERR_PARSE, "labels must be");
	refused("*.paypal.com", CS_ERR_PARSE, "labels must be");
	refused("paypal.com/login", CS_ERR_PARSE, "labels must be");
	refused("paypal", CS_ERR_PARSE, "no label left of the public suffix");
	refused("co.uk", CS_ERR_PARSE, "no label left of the public suffix");
	refused("paypal.com distance=4", CS_ERR_PARSE, "from 0 to 3");
	refused("paypal.com distance=", CS_ERR_PARSE, "from 0 to 3");
	refused("paypal.com distance=-1", CS_ERR_PARSE, "from 0 to 3");
	refused("paypal.com distance=1x", CS_ERR_PARSE, "from 0 to 3");
	refused("paypal.com min=0", CS_ERR_PARSE, "from 1 to 63");
	refused("paypal.com min=64", CS_ERR_PARSE, "from 1 to 63");
	refused("paypal.com distance=1 distance=2", CS_ERR_PARSE, "given twice");
	refused("paypal.com colour=red", CS_ERR_PARSE, "unknown brand option 'colour=red'");
	refused("xn--zz.com", CS_ERR_PARSE, "bad xn-- label");
	refused("pay\xffpal.com", CS_ERR_PARSE, "not a valid internationalised domain name");
	refused("-paypal.com", CS_ERR_PARSE, "brand label '-paypal'");
	refused("p.com", CS_ERR_PARSE, "brand label 'p'");
	refused("pay_pal.com", CS_ERR_PARSE, "brand label 'pay_pal'");
	refused("m\xc3\xbcller.de", CS_ERR_PARSE, "give the brand's ASCII domain first");
	refused("paypal.com paypal..me", CS_ERR_PARSE, "'paypal..me'");
	char many[300 * 9];
	size_t n = 0;
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "p%03d.de ", i);
	refused(many, CS_ERR_LIMIT, "more than 256 domains");

	struct lookalike *l = one_brand("paypal.com");
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(lookalike_add_brand(l, 1, "chase.com", 9, &d), CS_ERR_INVALID);
	assert_non_null(strstr(d.msg, "after sealing"));
	assert_int_equal(lookalike_seal(l), CS_OK);
	assert_int_equal(lookalike_brand_count(l), 1);
	lookalike_destroy(l);
	lookalike_destroy(NULL);

	/* nothing is found before sealing */
	assert_int_equal(lookalike_create(&l), CS_OK);
	assert_int_equal(lookalike_add_brand(l, 1, "chase.com", 9, &d), CS_OK);
	assert_int_equal(lookalike_check(l, "chase.net", 9, NULL, 0), 0);
	assert_int_equal(lookalike_seal(l), CS_OK);
	assert_int_equal(lookalike_check(l, "chase.net", 9, NULL, 0), 1);
	lookalike_destroy(l);
}

/* The ASCII fold is TR39's skeleton of ASCII (as ICU computes it), lower-cased,
 * with the fold's own additions applied on top. */
static void test_fold_matches_icu(void **state)
{
	(void)state;
	UErrorCode st = U_ZERO_ERROR;
	USpoofChecker *sc = uspoof_open(&st);
	assert_true(U_SUCCESS(st));
	const char *chars = "abcdefghijklmnopqrstuvwxyz0123456789-_ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	for (const char *p = chars; *p; p++) {
		char sk[16], ours[8], twice[16];
		st = U_ZERO_ERROR;
		char in = *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p;
		int32_t k = uspoof_getSkeletonUTF8(sc, 0, &in, 1, sk, sizeof(sk), &st);
		assert_true(U_SUCCESS(st) && k > 0 && k < 8);
		size_t a = lookalike_fold(sk, (size_t)k, twice, sizeof(twice));
		size_t b = lookalike_fold(p, 1, ours, sizeof(ours));
		if (a != b || memcmp(twice, ours, a) != 0)
			fail_msg("'%c': TR39 skeleton '%.*s' folds to '%.*s', fold gives '%.*s'", *p,
				 (int)k, sk, (int)a, twice, (int)b, ours);
	}
	st = U_ZERO_ERROR;
	char sk[16];
	int32_t k = uspoof_getSkeletonUTF8(sc, 0, "m01", 3, sk, sizeof(sk), &st);
	assert_int_equal(k, 4);
	assert_memory_equal(sk, "rnOl", 4);
	uspoof_close(sc);

	char out[32];
	assert_int_equal(lookalike_fold("Microsoft-0wd1_", 15, out, sizeof(out)), 18);
	assert_memory_equal(out, "rnicrosoft-ovvcll_", 18);
	assert_int_equal(lookalike_fold("a.b", 3, out, 2), 3);
	assert_int_equal((unsigned char)out[1], 0x80);
	assert_string_equal(lookalike_kind_name(LOOKALIKE_COMBO), "combo");
	assert_string_equal(lookalike_kind_name((enum lookalike_kind)99), "?");
}

/* Plain full-table OSA distance. */
static unsigned osa_ref(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	unsigned d[32][32];
	for (size_t i = 0; i <= n; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= n; i++)
		for (size_t j = 1; j <= m; j++) {
			unsigned v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + (a[i - 1] != b[j - 1]) < v)
				v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[n][m];
}

static unsigned osa(const char *a, const char *b, unsigned max)
{
	return edit_distance_osa((const uint8_t *)a, strlen(a), (const uint8_t *)b, strlen(b),
				 max);
}

static void test_edit_distance(void **state)
{
	(void)state;
	assert_int_equal(osa("microsoft", "mircosoft", 3), 1);
	assert_int_equal(osa("paypal", "paypal", 0), 0);
	assert_int_equal(osa("", "abc", 5), 3);
	assert_int_equal(osa("abc", "", 1), 2);
	assert_int_equal(osa("kitten", "sitting", 5), 3);
	assert_int_equal(osa("kitten", "sitting", 2), 3);
	assert_int_equal(osa("ca", "abc", 5), 3); /* OSA, not Damerau: no edit inside a swap */
	/* random strings over a small alphabet against the full table, at every bound */
	uint64_t s = 0x9e3779b97f4a7c15ull;
	for (int t = 0; t < 20000; t++) {
		char a[16], b[16];
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		size_t n = s % 12, m = (s >> 8) % 12;
		for (size_t i = 0; i < n; i++)
			a[i] = (char)('a' + (s >> (16 + 2 * i)) % 3);
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		for (size_t i = 0; i < m; i++)
			b[i] = (char)('a' + (s >> (2 * i)) % 3);
		a[n] = b[m] = '\0';
		unsigned want = osa_ref(a, b);
		for (unsigned max = 0; max <= 4; max++) {
			unsigned got = osa(a, b, max);
			unsigned expect = want <= max ? want : max + 1;
			if (got != expect)
				fail_msg("'%s' '%s' max %u: %u, expected %u", a, b, max, got, expect);
		}
	}
	char big[300];
	memset(big, 'x', sizeof(big));
	assert_int_equal(edit_distance_osa((uint8_t *)big, 300, (uint8_t *)big, 300, 2), 0);
	assert_int_equal(edit_distance_osa((uint8_t *)big, 300, (uint8_t *)big, 299, 2), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_homoglyphs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tlds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hyphens_and_combos, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_domains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_popular_domains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_hosts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap_and_several_brands, setup, teardown),
		cmocka_unit_test(test_distance_option),
		cmocka_unit_test(test_min_option),
		cmocka_unit_test(test_idn_brand_domains),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_fold_matches_icu),
		cmocka_unit_test(test_edit_distance),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
