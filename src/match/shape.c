/* Shape candidates confirmed by set lookup (shape.h). A hex token is taken
 * whole: confirmation rejects a window with a hex byte before or after it, so
 * the 32-character windows inside a 64-character token never match. The hex
 * expressions are bare class repeats: measured on mixed logs, the engine runs
 * those three together at about 0.9 GB/s, against 0.3 GB/s when the
 * expression itself asks for a non-hex byte before the token. Several indicators may
 * list the same value (in different packs): the set maps the value to the
 * first, and next[] chains the others. Wallet and IBAN expressions are
 * variable-length, so their hits give only an end: confirmation requires a
 * non-address byte after it, walks back to the token's start, and lets the
 * checksum decide before any lookup. */
#include <arpa/inet.h>
#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cybersieve/iban.h"
#include "cybersieve/util.h"
#include "cybersieve/wallet.h"
#include "match/shape.h"
#include "match/tld.h"

static const struct {
	const char *expr;
	size_t width;
} shape_tab[SHAPE_COUNT] = {
	[SHAPE_MD5] = {"[0-9A-Fa-f]{32}", 32},
	[SHAPE_SHA1] = {"[0-9A-Fa-f]{40}", 40},
	[SHAPE_SHA256] = {"[0-9A-Fa-f]{64}", 64},
	[SHAPE_IP4] = {"(?:^|[^0-9.])[0-9]{1,3}(?:\\.[0-9]{1,3}){3}", 15},
	/* An IPv6 address holds "::" or has eight groups; times such as 12:30:59
	 * are neither (on web logs the looser shape gave a candidate per line). */
	[SHAPE_IP6] = {"::[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{1,4}){0,6}"
		       "|[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){7}", 39},
	/* Base58Check (btc, bch/bsv legacy, btg, ltc, dash, zec t-addr, xvg,
	 * trx, xrp), Monero, Bech32 (caseless), 0x, CashAddr. */
	[SHAPE_WALLET] = {"(?:^|[^0-9A-Za-z])(?:[1-9A-HJ-NP-Za-km-z]{25,35}"
			  "|[48][1-9A-HJ-NP-Za-km-z]{94,105}"
			  "|(?i:(?:bc|ltc|btg|tb)1[02-9ac-hj-np-z]{6,87})"
			  "|0[xX][0-9A-Fa-f]{40}"
			  "|(?i:(?:bitcoincash:)?[qp][02-9ac-hj-np-z]{41}))",
			  WALLET_MAX_LEN},
	[SHAPE_IBAN] = {"(?:^|[^0-9A-Za-z])[A-Z]{2}[0-9]{2}(?: ?[0-9A-Za-z]){11,30}",
			IBAN_MAX_PRINTED},
	[SHAPE_DOMAIN] = {NULL, 0}, /* built from the listed last labels (domset.c) */
	/* The end of a host name: a dot and a last label of letters (or an
	 * xn-- label); confirmation walks back to the host's start. */
	[SHAPE_HOST] = {"\\.(?:[a-z]{2,24}|xn--[a-z0-9-]{1,59})", 253},
	[SHAPE_URL] = {NULL, 0}, /* the listed tails (urlset.c) */
};

enum cs_err shapes_init(struct shapes *s, size_t n_ind)
{
	memset(s, 0, sizeof(*s));
	hashset_init(&s->digest[SHAPE_MD5], 16);
	hashset_init(&s->digest[SHAPE_SHA1], 20);
	hashset_init(&s->digest[SHAPE_SHA256], 32);
	strset_init(&s->wallet);
	strset_init(&s->iban);
	domset_init(&s->dom);
	urlset_init(&s->url);
	s->n_ind = n_ind;
	s->next = malloc((n_ind ? n_ind : 1) * sizeof(*s->next));
	if (!s->next)
		return CS_ERR_NOMEM;
	for (size_t i = 0; i < n_ind; i++)
		s->next[i] = SHAPE_NONE;
	return CS_OK;
}

void shapes_fini(struct shapes *s)
{
	for (int k = 0; k < 3; k++)
		hashset_fini(&s->digest[k]);
	ipset_fini(&s->ip);
	strset_fini(&s->wallet);
	strset_fini(&s->iban);
	domset_fini(&s->dom);
	urlset_fini(&s->url);
	lookalike_destroy(s->look);
	s->look = NULL;
	free(s->next);
	free(s->wmask);
	free(s->any_wallet);
	free(s->any_iban);
	pdq_index_destroy(s->pdq);
	free(s->pdq_hash);
	free(s->pdq_ind);
	free(s->pdq_dist);
	s->pdq = NULL;
	s->pdq_hash = NULL;
	s->pdq_ind = NULL;
	s->pdq_dist = NULL;
	s->next = NULL;
	s->wmask = s->any_wallet = s->any_iban = NULL;
}

static int digest_kind(enum ind_type t)
{
	return t == IND_MD5 ? SHAPE_MD5 : t == IND_SHA1 ? SHAPE_SHA1 : t == IND_SHA256 ? SHAPE_SHA256 : -1;
}

enum cs_err shapes_reserve(struct shapes *s, struct pack *const *packs, size_t n_packs,
			   unsigned force)
{
	size_t count[3] = {0}, any = 0, domains = 0, pdq = 0, listed = 0, urls = 0;
	for (size_t p = 0; p < n_packs; p++)
		for (size_t i = 0; i < packs[p]->n_ind; i++) {
			const struct indicator *ind = &packs[p]->ind[i];
			int k = digest_kind(ind->type);
			if (k >= 0)
				count[k]++;
			any += ind->type == IND_WALLET || ind->type == IND_IBAN;
			listed += ind->type == IND_WALLET &&
				  !(ind->value_len > 4 && memcmp(ind->value, "any:", 4) == 0);
			domains += ind->type == IND_DOMAIN;
			urls += ind->type == IND_URL && urlset_fits(ind->value, ind->value_len);
			pdq += ind->type == IND_PDQ;
		}
	if (pdq) {
		s->pdq_hash = malloc(pdq * sizeof(*s->pdq_hash));
		s->pdq_ind = malloc(pdq * sizeof(*s->pdq_ind));
		s->pdq_dist = malloc(pdq * sizeof(*s->pdq_dist));
		if (!s->pdq_hash || !s->pdq_ind || !s->pdq_dist)
			return CS_ERR_NOMEM;
	}
	s->dom_taken =
		domains > 0 && ((force & SHAPES_FORCE_DOMSET) || domains >= SHAPES_DOMSET_MIN);
	s->url_taken = urls > 0 && ((force & SHAPES_FORCE_URLSET) || urls >= SHAPES_URLSET_MIN);
	s->wallet_taken = listed >= SHAPES_WALLETSET_MIN;
	if (any) {
		/* Sized by the matcher's count, the indexes shapes_add() receives. */
		size_t n = s->n_ind ? s->n_ind : 1;
		s->wmask = calloc(n, sizeof(*s->wmask));
		s->any_wallet = malloc(any * sizeof(*s->any_wallet));
		s->any_iban = malloc(any * sizeof(*s->any_iban));
		if (!s->wmask || !s->any_wallet || !s->any_iban)
			return CS_ERR_NOMEM;
	}
	for (int k = 0; k < 3; k++) {
		enum cs_err e = count[k] ? hashset_reserve(&s->digest[k], count[k]) : CS_OK;
		if (e != CS_OK)
			return e;
	}
	return CS_OK;
}

/* Append idx to the chain that starts at first. */
static void chain_append(struct shapes *s, uint32_t first, uint32_t idx)
{
	uint32_t i = first;
	while (s->next[i] != SHAPE_NONE)
		i = s->next[i];
	s->next[i] = idx;
}

/* Hold a listed token under key in set, chaining indicators of one value. */
static enum cs_err token_put(struct shapes *s, struct strset *set, uint32_t idx, const char *key,
			     size_t n)
{
	bool dup;
	uint32_t first;
	enum cs_err e = strset_add(set, key, n, idx, &dup, &first);
	if (e == CS_OK && dup)
		chain_append(s, first, idx);
	return e;
}

/* A wallet value as ind_normalise left it: ADDRESS, code:ADDRESS or any:code. */
static enum cs_err wallet_add(struct shapes *s, uint32_t idx, const struct indicator *ind)
{
	const char *v = ind->value, *colon = memchr(v, ':', ind->value_len);
	if (!colon) {
		s->wmask[idx] = WALLET_MASK_ALL;
		return token_put(s, &s->wallet, idx, v, ind->value_len);
	}
	size_t pn = (size_t)(colon - v), rn = ind->value_len - pn - 1;
	if (pn == 3 && memcmp(v, "any", 3) == 0) {
		s->wmask[idx] = wallet_currency_mask(colon + 1, rn);
		s->any_wallet[s->n_any_wallet++] = idx;
		return s->wmask[idx] ? CS_OK : CS_ERR_INVALID;
	}
	s->wmask[idx] = wallet_currency_mask(v, pn);
	if (!s->wmask[idx] || rn == 0)
		return CS_ERR_INVALID;
	return token_put(s, &s->wallet, idx, colon + 1, rn);
}

static enum cs_err token_add(struct shapes *s, uint32_t idx, const struct indicator *ind)
{
	if (idx >= s->n_ind || !s->wmask)
		return CS_ERR_INVALID;
	enum cs_err e;
	if (ind->type == IND_WALLET) {
		e = wallet_add(s, idx, ind);
		s->used[SHAPE_WALLET] = true;
	} else if (ind->value_len == 3 && memcmp(ind->value, "any", 3) == 0) {
		s->any_iban[s->n_any_iban++] = idx;
		e = CS_OK;
		s->used[SHAPE_IBAN] = true;
	} else {
		e = token_put(s, &s->iban, idx, ind->value, ind->value_len);
		s->used[SHAPE_IBAN] = true;
	}
	s->taken += e == CS_OK;
	return e;
}

enum cs_err shapes_add(struct shapes *s, uint32_t idx, const struct indicator *ind, bool *taken)
{
	*taken = false;
	/* A listed wallet is a fixed string: the literal matcher finds it far faster
	 * than the address shape, which is only needed for "any:FAMILY". */
	if (ind->type == IND_WALLET && !s->wallet_taken &&
	    !(ind->value_len > 4 && memcmp(ind->value, "any:", 4) == 0))
		return CS_OK;
	if (ind->type == IND_WALLET || ind->type == IND_IBAN) {
		enum cs_err e = token_add(s, idx, ind);
		*taken = e == CS_OK;
		return e;
	}
	/* Domains and URLs held by value when their sets are in use. */
	if (ind->type == IND_DOMAIN || ind->type == IND_URL) {
		bool dom = ind->type == IND_DOMAIN;
		if (dom ? !s->dom_taken
			: !s->url_taken || !urlset_fits(ind->value, ind->value_len))
			return CS_OK;
		if (idx >= s->n_ind)
			return CS_ERR_INVALID;
		bool dup;
		uint32_t first;
		enum cs_err e =
			dom ? domset_add(&s->dom, ind->value, ind->value_len, idx, &dup, &first)
			    : urlset_add(&s->url, ind->value, ind->value_len, idx, &dup, &first);
		if (e != CS_OK)
			return e;
		if (dup)
			chain_append(s, first, idx);
		s->used[dom ? SHAPE_DOMAIN : SHAPE_URL] = true;
		s->taken++;
		*taken = true;
		return CS_OK;
	}
	if (ind->type == IND_IP) {
		enum cs_err e = ipset_add(&s->ip, ind->value, idx);
		*taken = e == CS_OK;
		s->taken += *taken;
		return e;
	}
	int dk = digest_kind(ind->type);
	if (dk < 0)
		return CS_OK;
	enum shape_kind k = (enum shape_kind)dk;
	if (idx >= s->n_ind)
		return CS_ERR_INVALID;
	uint8_t key[HASHSET_KEY_MAX];
	size_t w = shape_tab[k].width / 2;
	if (ind->value_len != shape_tab[k].width ||
	    !util_hex_decode((const uint8_t *)ind->value, w, key))
		return CS_ERR_INVALID;
	bool dup;
	uint32_t first;
	enum cs_err e = hashset_put(&s->digest[k], key, idx, &dup, &first);
	if (e != CS_OK)
		return e;
	if (dup)
		chain_append(s, first, idx);
	s->used[k] = true;
	s->taken++;
	*taken = true;
	return CS_OK;
}

enum cs_err shapes_add_pdq(struct shapes *s, uint32_t idx, const struct indicator *ind,
			   unsigned max_dist)
{
	if (!s->pdq_hash || idx >= s->n_ind || max_dist > PDQ_MAX_DIST ||
	    !pdq_hash_parse(ind->value, ind->value_len, s->pdq_hash[s->n_pdq]))
		return CS_ERR_INVALID;
	s->pdq_ind[s->n_pdq] = idx;
	s->pdq_dist[s->n_pdq] = (uint8_t)max_dist;
	if (max_dist > s->pdq_max)
		s->pdq_max = max_dist;
	s->n_pdq++;
	s->used[SHAPE_SHA256] = true;
	s->taken++;
	return CS_OK;
}

const char *shapes_expr(const struct shapes *s, enum shape_kind k, unsigned *hs_flags)
{
	*hs_flags = HS_FLAG_MULTILINE;
	if (k == SHAPE_DOMAIN) {
		*hs_flags |= HS_FLAG_CASELESS;
		return domset_expr(&s->dom);
	}
	if (k == SHAPE_HOST)
		*hs_flags |= HS_FLAG_CASELESS;
	if (k == SHAPE_WALLET && s->wallet_expr[0])
		return s->wallet_expr;
	return shape_tab[k].expr;
}

/* Tail t of the URL shape has engine id base + SHAPE_URL + t: the ids
 * after the last shape (shapes_engine_kind maps them back). */
_Static_assert(SHAPE_URL == SHAPE_COUNT - 1, "URL tails take the ids after the last shape");

size_t shapes_engine_count(const struct shapes *s, bool block)
{
	size_t n = 0;
	for (int k = 0; k < SHAPE_COUNT; k++)
		if (shapes_in_engine(s, (enum shape_kind)k, block))
			n += k == SHAPE_URL ? s->url.n_tails : 1;
	return n;
}

size_t shapes_engine_exprs(const struct shapes *s, bool block, unsigned base, const char **ex,
			   unsigned *fl, unsigned *ids)
{
	size_t n = 0;
	for (int k = 0; k < SHAPE_COUNT; k++) {
		if (!shapes_in_engine(s, (enum shape_kind)k, block))
			continue;
		if (k != SHAPE_URL) {
			ex[n] = shapes_expr(s, (enum shape_kind)k, &fl[n]);
			ids[n++] = base + (unsigned)k;
			continue;
		}
		/* One id per tail: the engine compiles literals sharing an id far
		 * more slowly (as one pattern), and SHAPE_URL + t maps back here. */
		for (size_t t = 0; t < s->url.n_tails; t++) {
			ex[n] = s->url.tails[t];
			fl[n] = HS_FLAG_CASELESS;
			ids[n++] = base + (unsigned)SHAPE_URL + (unsigned)t;
		}
	}
	return n;
}

static size_t shape_width(const struct shapes *s, enum shape_kind k)
{
	return k == SHAPE_DOMAIN ? s->dom.max_len
	       : k == SHAPE_URL  ? s->url.max_len
				 : shape_tab[k].width;
}

size_t shapes_reach(const struct shapes *s, enum shape_kind k)
{
	return shape_width(s, k) + 1;
}

size_t shapes_max_width(const struct shapes *s)
{
	size_t w = 0;
	for (int k = 0; k < SHAPE_COUNT; k++)
		if (s->used[k] && shape_width(s, (enum shape_kind)k) > w)
			w = shape_width(s, (enum shape_kind)k);
	return w;
}

enum cs_err shapes_add_lookalike(struct shapes *s, uint32_t idx, const struct indicator *ind)
{
	if (!s->look) {
		enum cs_err e = lookalike_create(&s->look);
		if (e != CS_OK)
			return e;
	}
	/* The value was checked when the pack was read (indicator.c). */
	enum cs_err e = lookalike_add_brand(s->look, idx, ind->value, ind->value_len, NULL);
	if (e != CS_OK)
		return e;
	s->used[SHAPE_HOST] = true;
	return CS_OK;
}

/* First characters of each family's Base58Check addresses, from their
 * version bytes (wallet.c): every payload of a version encodes with the same
 * first character (checked by encoding the lowest and highest payloads and
 * 20,000 random ones of each version). */
static const char *const b58_first[WALLET_FAMILY_COUNT] = {
	[WALLET_BTC] = "13", [WALLET_BCH] = "13", [WALLET_BSV] = "13", [WALLET_BTG] = "AG",
	[WALLET_LTC] = "3LM", [WALLET_DASH] = "7X", [WALLET_ZEC] = "t", [WALLET_XVG] = "DE",
	[WALLET_TRX] = "T", [WALLET_XRP] = "r",
};

/* Append "|alt" (or "alt" first) to the expression being built. */
static void expr_alt(char **o, const char *end, bool *first_alt, const char *alt)
{
	int n = snprintf(*o, (size_t)(end - *o), "%s%s", *first_alt ? "" : "|", alt);
	if (n > 0 && n < end - *o)
		*o += n;
	*first_alt = false;
}

void shapes_wallet_expr(struct shapes *s)
{
	/* The families of the any: indicators and of the listed addresses the
	 * set holds (a listed one without a currency code takes them all). */
	uint32_t m = 0;
	for (size_t i = 0; s->wmask && i < s->n_ind; i++)
		m |= s->wmask[i];
	s->wallet_expr[0] = '\0';
	if (!m)
		return;
	char first[32] = "", b58[64];
	for (int f = 0; f < WALLET_FAMILY_COUNT; f++)
		if ((m & WALLET_MASK(f)) && b58_first[f])
			for (const char *c = b58_first[f]; *c; c++)
				if (!strchr(first, *c))
					strncat(first, c, 1);
	char *o = s->wallet_expr, *end = s->wallet_expr + sizeof(s->wallet_expr) - 1;
	bool first_alt = true;
	expr_alt(&o, end, &first_alt, "(?:^|[^0-9A-Za-z])(?:");
	first_alt = true;
	if (first[0]) {
		snprintf(b58, sizeof(b58), "[%s][1-9A-HJ-NP-Za-km-z]{24,34}", first);
		expr_alt(&o, end, &first_alt, b58);
	}
	if (m & WALLET_MASK(WALLET_XMR))
		expr_alt(&o, end, &first_alt, "[48][1-9A-HJ-NP-Za-km-z]{94,105}");
	if (m & (WALLET_MASK(WALLET_BTC) | WALLET_MASK(WALLET_LTC) | WALLET_MASK(WALLET_BTG)))
		expr_alt(&o, end, &first_alt, "(?i:(?:bc|ltc|btg|tb)1[02-9ac-hj-np-z]{6,87})");
	if (m & WALLET_MASK(WALLET_ETH))
		expr_alt(&o, end, &first_alt, "0[xX][0-9A-Fa-f]{40}");
	if (m & WALLET_MASK(WALLET_BCH))
		expr_alt(&o, end, &first_alt, "(?i:(?:bitcoincash:)?[qp][02-9ac-hj-np-z]{41})");
	first_alt = true;
	expr_alt(&o, end, &first_alt, ")");
}

enum cs_err shapes_seal(struct shapes *s)
{
	shapes_wallet_expr(s);
	if (s->look) {
		enum cs_err e = lookalike_seal(s->look);
		if (e != CS_OK)
			return e;
	}
	ipset_seal(&s->ip);
	enum cs_err ie = ipset_index(&s->ip);
	for (int k = 0; k < 3 && ie == CS_OK; k++)
		ie = hashset_index(&s->digest[k]);
	if (ie != CS_OK)
		return ie;
	s->used[SHAPE_IP4] = ipset_has(&s->ip, false);
	s->used[SHAPE_IP6] = ipset_has(&s->ip, true);
	if (s->n_pdq) {
		enum cs_err e = pdq_index_create((const uint8_t(*)[PDQ_HASH_BYTES])s->pdq_hash,
						 s->n_pdq, &s->pdq, NULL);
		if (e != CS_OK)
			return e;
		free(s->pdq_hash); /* the index keeps its own copy */
		s->pdq_hash = NULL;
	}
	enum cs_err e = urlset_seal(&s->url);
	if (e != CS_OK)
		return e;
	s->used[SHAPE_URL] = s->url.n_tails > 0;
	return domset_seal(&s->dom);
}

size_t shapes_ip(const struct shapes *s, bool v6, const uint8_t *addr,
		 void (*fn)(void *user, uint32_t ind), void *user)
{
	size_t first, n = ipset_lookup(&s->ip, v6, addr, &first);
	for (size_t i = 0; i < n; i++)
		fn(user, s->ip.e[first + i].ind);
	return n;
}

size_t shapes_bytes(const struct shapes *s)
{
	size_t b = s->n_ind * sizeof(*s->next) + ipset_bytes(&s->ip) +
		   (s->wallet.cap + s->iban.cap) * sizeof(struct strset_slot);
	if (s->wmask)
		b += s->n_ind * 3 * sizeof(uint32_t);
	for (int k = 0; k < 3; k++)
		b += hashset_bytes(&s->digest[k]);
	if (s->pdq)
		b += pdq_index_memory(s->pdq) + s->n_pdq * (sizeof(*s->pdq_ind) + 1);
	return b + domset_bytes(&s->dom) + urlset_bytes(&s->url);
}

static bool emit_chain(const struct shapes *s, uint32_t first, uint64_t start, uint64_t end,
		       shapes_emit_fn emit, void *ctx)
{
	for (uint32_t i = first; i != SHAPE_NONE; i = s->next[i])
		if (!emit(ctx, i, start, end))
			return false;
	return true;
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(uint8_t c)
{
	return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* A byte that continues a word or name: ASCII letter, digit or '_'. */
static bool is_word(uint8_t c)
{
	return is_alnum(c) || c == '_';
}

static bool ip_char(bool v6, uint8_t c)
{
	return v6 ? util_hex_digit(c) >= 0 || c == ':' : is_digit(c) || c == '.';
}

/* An address token ending at end: nothing of an address right after it
 * (1.2.3.4.5 and 1.2.3.45 are not 1.2.3.4), walked back to its start,
 * parsed, looked up by longest prefix. */
static bool confirm_ip(const struct shapes *s, bool v6, const uint8_t *buf, size_t len,
		       uint64_t end, shapes_emit_fn emit, void *ctx)
{
	size_t max = v6 ? 39 : 15;
	if (end < len) {
		/* IPv4 may be followed by a letter or a sentence's dot, not a digit or ".5" */
		uint8_t a = buf[end];
		/* IPv6 is not followed by a letter either: "Foo::add(" holds no "::add" */
		bool more = v6 ? ip_char(true, a) || is_word(a) : is_digit(a);
		if (more || (a == '.' && end + 1 < len && is_digit(buf[end + 1])))
			return true;
	}
	uint64_t start = end;
	while (start > 0 && end - start <= max && ip_char(v6, buf[start - 1]))
		start--;
	if (end - start > max || end == start)
		return true;
	if (start > 0) {
		/* IPv4 only needs no digit or dot before it (::ffff:1.2.3.4 has its IPv4 part) */
		uint8_t b = buf[start - 1];
		if (v6 ? ip_char(true, b) || b == '.' || is_word(b) : is_digit(b) || b == '.')
			return true;
	}
	uint8_t addr[16];
	if (!v6 && !ipset_parse4(buf + start, (size_t)(end - start), addr))
		return true;
	if (v6) {
		char text[48];
		memcpy(text, buf + start, end - start);
		text[end - start] = '\0';
		if (inet_pton(AF_INET6, text, addr) != 1)
			return true;
	}
	size_t first, n = ipset_lookup(&s->ip, v6, addr, &first);
	for (size_t i = 0; i < n; i++)
		if (!emit(ctx, s->ip.e[first + i].ind, start, end))
			return false;
	return true;
}

bool shapes_ip4_sift(const struct shapes *s, const uint8_t addr[4])
{
	return ipset_v4_sift(&s->ip, addr);
}

void shapes_digest_prefetch(const struct shapes *s, enum shape_kind k, const uint8_t *buf,
			    uint64_t end)
{
	uint8_t head[8];
	size_t w = shape_tab[k].width;
	if (k > SHAPE_SHA256 || end < w)
		return;
	if (util_hex_decode(buf + end - w, 8, head))
		hashset_prefetch(&s->digest[k], head);
}

static bool is_upper(uint8_t c)
{
	return c >= 'A' && c <= 'Z';
}

/* Emit the listed indicators of key in set whose family mask meets fam (0 =
 * no family check), then each "any" indicator of the list whose mask meets it. */
static bool emit_token(const struct shapes *s, const struct strset *set, const char *key,
		       size_t n, uint32_t fam, const uint32_t *any, size_t n_any, uint64_t start,
		       uint64_t end, shapes_emit_fn emit, void *ctx)
{
	uint32_t first;
	if (set->n && strset_get(set, key, n, &first))
		for (uint32_t i = first; i != SHAPE_NONE; i = s->next[i])
			if ((!fam || (s->wmask[i] & fam)) && !emit(ctx, i, start, end))
				return false;
	for (size_t i = 0; i < n_any; i++)
		if ((!fam || (s->wmask[any[i]] & fam)) && !emit(ctx, any[i], start, end))
			return false;
	return true;
}

/* A wallet token ending at end: a whole run of letters and digits (with a
 * "bitcoincash:" before it when written), valid for some family, looked up
 * in the form its first family gives. */
static bool confirm_wallet(const struct shapes *s, const uint8_t *buf, size_t len, uint64_t end,
			   shapes_emit_fn emit, void *ctx)
{
	static const char cash[] = "bitcoincash:";
	const size_t cn = sizeof(cash) - 1;
	if (end > len || (end < len && is_alnum(buf[end])))
		return true;
	uint64_t start = end;
	while (start > 0 && end - start <= WALLET_MAX_LEN && is_alnum(buf[start - 1]))
		start--;
	if (end - start > WALLET_MAX_LEN || end - start < 14)
		return true;
	if (start >= cn && strncasecmp((const char *)buf + start - cn, cash, cn) == 0 &&
	    (start == cn || !is_alnum(buf[start - cn - 1])))
		start -= cn;
	const char *tok = (const char *)buf + start;
	size_t n = (size_t)(end - start);
	char key[WALLET_MAX_LEN];
	size_t kn;
	/* An Ethereum-shaped token can be of no other family: unless a rule
	 * asks for any valid address, its lower case (the form listed) is
	 * looked up before its EIP-55 checksum (a Keccak-256) is worked out,
	 * as most in a log are not listed. */
	if (s->n_any_wallet == 0 && n == 42 && tok[0] == '0' && tok[1] == 'x') {
		uint32_t listed;
		for (size_t i = 0; i < n; i++)
			key[i] = (char)(is_upper((uint8_t)tok[i]) ? tok[i] | 0x20 : tok[i]);
		if (!strset_get(&s->wallet, key, n, &listed))
			return true;
	}
	uint32_t fam = wallet_detect(tok, n);
	if (!fam)
		return true;
	if (wallet_normalise((enum wallet_family)__builtin_ctz(fam), tok, n, key, sizeof(key),
			     &kn) != CS_OK)
		return true;
	return emit_token(s, &s->wallet, key, kn, fam, s->any_wallet, s->n_any_wallet, start, end,
			  emit, ctx);
}

/* An IBAN ending at end: walked back over letters, digits and single
 * spaces, the longest stretch that starts at a boundary with CCdd and passes
 * iban_check is the IBAN as written. One pass back, no further than an IBAN's
 * most characters, notes the starts whose country has as many characters as
 * lie from there to end; only those are checked, longest first (text such
 * as "DE12 " repeated offers a start at every group, none of them right). */
static bool confirm_iban(const struct shapes *s, const uint8_t *buf, size_t len, uint64_t end,
			 shapes_emit_fn emit, void *ctx)
{
	if (end > len || end == 0 || (end < len && is_alnum(buf[end])) || buf[end - 1] == ' ')
		return true;
	uint64_t starts[IBAN_MAX_LEN];
	size_t n_starts = 0, chars = 0;
	for (uint64_t p = end; p > 0 && end - p < IBAN_MAX_PRINTED; p--) {
		uint8_t c = buf[p - 1];
		if (c == ' ') {
			if (p - 1 == 0 || buf[p - 2] == ' ')
				break;
			continue;
		}
		if (!is_alnum(c) || ++chars > IBAN_MAX_LEN)
			break;
		const uint8_t *t = buf + p - 1;
		if (chars >= 15 && is_upper(t[0]) && is_upper(t[1]) && is_digit(t[2]) &&
		    is_digit(t[3]) && (p - 1 == 0 || !is_alnum(buf[p - 2])) &&
		    iban_country_length(t) == chars)
			starts[n_starts++] = p - 1;
	}
	char norm[IBAN_MAX_LEN + 1];
	while (n_starts > 0) {
		uint64_t p = starts[--n_starts];
		if (!iban_check((const char *)buf + p, (size_t)(end - p), norm, NULL))
			continue;
		return emit_token(s, &s->iban, norm, strlen(norm), 0, s->any_iban, s->n_any_iban, p,
				  end, emit, ctx);
	}
	return true;
}

struct chain_emit {
	const struct shapes *s;
	shapes_emit_fn emit;
	void *ctx;
};

static bool chain_found(void *vctx, uint32_t first, uint64_t start, uint64_t end)
{
	struct chain_emit *de = vctx;
	return emit_chain(de->s, first, start, end, de->emit, de->ctx);
}

struct pdq_emit {
	const struct shapes *s;
	uint64_t start, end;
	shapes_emit_fn emit;
	void *ctx;
	bool ok;
};

/* Listed hash id at distance dist from the token at [start, end): emit it
 * when within its pack's distance. False when emit asked to stop. */
static bool pdq_report(const struct shapes *s, uint32_t id, unsigned dist, uint64_t start,
		       uint64_t end, shapes_emit_fn emit, void *ctx)
{
	return dist > s->pdq_dist[id] || emit(ctx, s->pdq_ind[id], start, end);
}

static bool pdq_found(void *vctx, uint32_t id, unsigned dist)
{
	struct pdq_emit *pe = vctx;
	pe->ok = pdq_report(pe->s, id, dist, pe->start, pe->end, pe->emit, pe->ctx);
	return pe->ok;
}

static bool host_byte(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c >= 0x80;
}

/* Last labels that name file types, not top-level domains (none of these is
 * a delegated TLD): "apple-touch-icon.png" is a file, not a host. */
static bool file_suffix(const uint8_t *p, size_t n)
{
	/* By length, back to back: "js" "gz" "xz" "7z" under 2, and so on. */
	static const char *const ext[6] = {
		[2] = "jsgzxz7z",
		[3] = "pnggifjpgcsshtmphpaspjspcgitxtxmlicosvgpdftgztarbz2exedlllogcsv"
		      "ttfeotmp3mp4aviwavbmptifdocxlspptbaktmpcfginibatjarwarswfflvrss"
		      "ymlrarisoimgbin",
		[4] = "jpeghtmlaspxjsonwoffwebmwebptiffdocxxlsxpptxconfyamlphp3",
		[5] = "shtmlxhtmlwoff2",
	};
	if (n < 2 || n > 5)
		return false;
	char low[5];
	for (size_t i = 0; i < n; i++)
		low[i] = (char)(p[i] | 0x20);
	for (const char *e = ext[n]; *e; e += n) {
		size_t i = 0;
		while (i < n && e[i] == low[i])
			i++;
		if (i == n)
			return true;
	}
	return false;
}

/* A host name ends at end: not followed by a label byte, nor by a dot that
 * goes on into another label. Walk back to its start and ask every brand.
 * Not hosts: a name whose last label is a file type, and a name that is a
 * path segment (one '/' before it; "//" starts an authority). */
static bool confirm_host(const struct shapes *s, const uint8_t *buf, size_t len, uint64_t end,
			 shapes_emit_fn emit, void *ctx)
{
	if (!s->look || end > len)
		return true;
	if (end < len && (host_byte(buf[end]) && buf[end] != '.'))
		return true;
	if (end + 1 < len && buf[end] == '.' && host_byte(buf[end + 1]) && buf[end + 1] != '.')
		return true;
	uint64_t start = end;
	while (start > 0 && end - start < 253 && host_byte(buf[start - 1]))
		start--;
	if (start > 0 && end - start >= 253 && host_byte(buf[start - 1]))
		return true; /* longer than a host name can be */
	while (start < end && (buf[start] == '.' || buf[start] == '-'))
		start++;
	/* URL-encoded delimiters before it ("%2F%2Fgoogle.com") are not part of it. */
	while (start > 0 && buf[start - 1] == '%' && end - start > 2 &&
	       util_hex_digit(buf[start]) >= 0 && util_hex_digit(buf[start + 1]) >= 0) {
		start += 2;
		while (start < end && buf[start] == '%' && end - start > 3)
			start += 3;
	}
	if (end - start < 4)
		return true;
	if (start > 0 && buf[start - 1] == '/' && !(start > 1 && buf[start - 2] == '/'))
		return true;
	uint64_t dot = end;
	while (dot > start && buf[dot - 1] != '.')
		dot--;
	if (file_suffix(buf + dot, (size_t)(end - dot)))
		return true;
	/* Dotted names of code (Microsoft.XMLHTTP, google.hs.init) end in a word
	 * that is no TLD. */
	if (!tld_known(buf + dot, (size_t)(end - dot)))
		return true;
	/* Reverse-DNS identifiers (com.apple.finder, org.mozilla.firefox) name
	 * software, not hosts: they start with a generic TLD and end in a word
	 * that is none. A name after "//" or "@", or ending in a two-letter or
	 * common TLD (com.paypal-secure.net), is a host whatever its start. */
	static const char *const rev[] = {"com.", "org.", "net.", "edu.", "gov."};
	static const char *const tlds[] = {"com", "net", "org", "info", "biz", "xyz", "top",
					   "online", "site", "shop", "app", "dev", "club", "live",
					   "io", "co", "me", "cc", "tk", "ru", "cn"};
	bool rev_start = false;
	for (size_t i = 0; !rev_start && i < sizeof(rev) / sizeof(rev[0]); i++)
		rev_start = end - start > 4 && strncasecmp((const char *)buf + start, rev[i], 4) == 0;
	if (rev_start) {
		bool after_auth = (start >= 2 && buf[start - 1] == '/' && buf[start - 2] == '/') ||
				  (start >= 1 && buf[start - 1] == '@');
		bool tld_end = end - dot == 2;
		for (size_t i = 0; !tld_end && i < sizeof(tlds) / sizeof(tlds[0]); i++)
			tld_end = strlen(tlds[i]) == end - dot &&
				  strncasecmp((const char *)buf + dot, tlds[i], end - dot) == 0;
		if (!after_auth && !tld_end)
			return true;
	}
	struct lookalike_hit hits[LOOKALIKE_MAX_HITS];
	size_t n = lookalike_check(s->look, (const char *)buf + start, (size_t)(end - start), hits,
				   LOOKALIKE_MAX_HITS);
	for (size_t i = 0; i < n && i < LOOKALIKE_MAX_HITS; i++)
		if (!emit(ctx, hits[i].ind, start, end))
			return false;
	return true;
}

bool shapes_confirm(const struct shapes *s, enum shape_kind k, const uint8_t *buf, size_t len,
		    uint64_t end, shapes_emit_fn emit, void *ctx)
{
	return shapes_confirm_defer(s, k, buf, len, end, emit, ctx, NULL, NULL);
}

struct pdq_batch_emit {
	const struct shapes *s;
	const uint64_t (*pos)[2];
	shapes_emit_fn emit;
	void *ctx;
	bool ok;
};

static bool pdq_batch_found(void *vctx, size_t q, uint32_t id, unsigned dist)
{
	struct pdq_batch_emit *pe = vctx;
	pe->ok = pdq_report(pe->s, id, dist, pe->pos[q][0], pe->pos[q][1], pe->emit, pe->ctx);
	return pe->ok;
}

bool shapes_pdq_batch(const struct shapes *s, struct pdq_batch *b, const uint64_t (*pos)[2],
		      shapes_emit_fn emit, void *ctx)
{
	struct pdq_batch_emit pe = {s, pos, emit, ctx, true};
	pdq_index_query_batch(s->pdq, b, s->pdq_max, pdq_batch_found, &pe);
	return pe.ok;
}

bool shapes_confirm_defer(const struct shapes *s, enum shape_kind k, const uint8_t *buf,
			  size_t len, uint64_t end, shapes_emit_fn emit, void *ctx,
			  shapes_defer_fn defer, void *dctx)
{
	if (k == SHAPE_HOST)
		return confirm_host(s, buf, len, end, emit, ctx);
	if (k == SHAPE_DOMAIN) {
		struct chain_emit de = {s, emit, ctx};
		return domset_confirm(&s->dom, buf, len, end, chain_found, &de);
	}
	if (k == SHAPE_URL) {
		struct chain_emit de = {s, emit, ctx};
		return urlset_confirm(&s->url, buf, len, end, chain_found, &de);
	}
	if (k == SHAPE_IP4 || k == SHAPE_IP6)
		return confirm_ip(s, k == SHAPE_IP6, buf, len, end, emit, ctx);
	if (k == SHAPE_WALLET)
		return confirm_wallet(s, buf, len, end, emit, ctx);
	if (k == SHAPE_IBAN)
		return confirm_iban(s, buf, len, end, emit, ctx);
	size_t w = shape_tab[k].width;
	if (end > len || end < w)
		return true;
	uint64_t start = end - w;
	if ((start > 0 && util_hex_digit(buf[start - 1]) >= 0) ||
	    (end < len && util_hex_digit(buf[end]) >= 0))
		return true;
	uint8_t key[HASHSET_KEY_MAX];
	uint32_t first;
	/* The first 8 bytes say whether the set may hold it; a PDQ index
	 * needs the whole token whatever the set says. */
	bool pdq = k == SHAPE_SHA256 && s->pdq;
	if (!util_hex_decode(buf + start, 8, key) || (!pdq && !hashset_maybe(&s->digest[k], key)) ||
	    !util_hex_decode(buf + start + 16, w / 2 - 8, key + 8))
		return true;
	if (hashset_get(&s->digest[k], key, &first) && !emit_chain(s, first, start, end, emit, ctx))
		return false;
	if (k != SHAPE_SHA256 || !s->pdq)
		return true;
	if (defer)
		return defer(dctx, key, start, end);
	struct pdq_emit pe = {s, start, end, emit, ctx, true};
	pdq_index_query(s->pdq, key, s->pdq_max, pdq_found, &pe, NULL);
	return pe.ok;
}
