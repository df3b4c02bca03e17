/* Indicator -> Hyperscan expression, and boundary confirmation of hits.
 * Fixed-width types are compiled as escaped literals so the engine's literal
 * matchers apply; the boundaries the engine cannot express without lookaround
 * (label, hex-token and address boundaries) are checked here on each hit. */
#include <hs/hs.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cybersieve/wallet.h"
#include "match/pattern.h"

static bool is_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_label(uint8_t c)
{
	return is_alnum(c) || c == '-' || c == '_';
}

static bool is_email_local(uint8_t c)
{
	return is_alnum(c) || (c && strchr(".!#$%&'*+/=?^_`{|}~-", c));
}

static bool is_url_cont(uint8_t c)
{
	return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '%';
}

static bool wallet_caseless(const char *a, size_t n)
{
	if (n > 2 && a[0] == '0' && (a[1] == 'x' || a[1] == 'X'))
		return true;
	static const char *const bech[] = {"bc1", "ltc1", "tb1", "btg1"};
	for (size_t i = 0; i < sizeof(bech) / sizeof(bech[0]); i++)
		if (n > strlen(bech[i]) && strncasecmp(a, bech[i], strlen(bech[i])) == 0)
			return true;
	return n == 42 && (a[0] == 'q' || a[0] == 'p'); /* CashAddr without its prefix */
}

/* The text found must itself be a valid address (a mixed-case 0x address must
 * pass EIP-55) of the listed currency, when the listing names one. */
static bool wallet_listed_ok(const struct indicator *ind, const uint8_t *t, size_t n)
{
	uint32_t found = wallet_detect((const char *)t, n);
	if (!found)
		return false;
	const char *colon = memchr(ind->value, ':', ind->value_len);
	if (!colon)
		return true;
	uint32_t want = wallet_currency_mask(ind->value, (size_t)(colon - ind->value));
	return (found & want) != 0;
}

/* Append value[0..n) to o as an expression matching exactly those bytes. */
static char *escape_into(char *o, const char *value, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)value[i];
		if (is_alnum(c)) {
			*o++ = (char)c;
		} else {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 0xf];
		}
	}
	return o;
}

/* Length of "scheme://host" in a normalised url value, 0 if it has no scheme. */
static size_t url_authority_len(const char *v, size_t n)
{
	const char *sep = memmem(v, n, "://", 3);
	if (!sep)
		return 0;
	size_t i = (size_t)(sep - v) + 3;
	while (i < n && v[i] != '/' && v[i] != '?' && v[i] != '#')
		i++;
	return i;
}

enum cs_err pattern_expr(const struct indicator *ind, char **expr, unsigned *hs_flags,
			 size_t *fixed_len)
{
	size_t n = ind->value_len;
	char *e = malloc(n * 4 + 16);
	if (!e)
		return CS_ERR_NOMEM;
	char *o = e;
	unsigned flags = 0;
	*fixed_len = n;
	switch (ind->type) {
	case IND_REGEX:
		memcpy(o, ind->value, n);
		o += n;
		flags = HS_FLAG_MULTILINE | HS_FLAG_SOM_LEFTMOST;
		if (ind->flags & IND_F_CASELESS)
			flags |= HS_FLAG_CASELESS;
		if (ind->flags & IND_F_DOTALL)
			flags |= HS_FLAG_DOTALL;
		*fixed_len = 0;
		break;
	case IND_LITERAL:
		o = escape_into(o, ind->value, n);
		if (ind->flags & IND_F_CASELESS)
			flags |= HS_FLAG_CASELESS;
		break;
	case IND_URL: {
		size_t a = url_authority_len(ind->value, n);
		if (a == 0) {
			o = escape_into(o, ind->value, n);
			flags |= HS_FLAG_CASELESS;
		} else {
			/* Scheme and host are caseless, the path is exact. */
			memcpy(o, "(?i:", 4);
			o = escape_into(o + 4, ind->value, a);
			*o++ = ')';
			o = escape_into(o, ind->value + a, n - a);
		}
		break;
	}
	case IND_WALLET: {
		/* "cur:address" or "address"; hex (0x), Bech32 and CashAddr forms are
		 * caseless, Base58 ones are not. */
		const char *a = memchr(ind->value, ':', n);
		a = a ? a + 1 : ind->value;
		size_t an = n - (size_t)(a - ind->value);
		o = escape_into(o, a, an);
		*fixed_len = an;
		if (wallet_caseless(a, an))
			flags |= HS_FLAG_CASELESS;
		break;
	}
	case IND_DOMAIN:
	case IND_EMAIL:
	case IND_MD5:
	case IND_SHA1:
	case IND_SHA256:
		o = escape_into(o, ind->value, n);
		flags |= HS_FLAG_CASELESS;
		break;
	default:
		free(e);
		return CS_ERR_UNSUPPORTED;
	}
	*o = '\0';
	*expr = e;
	*hs_flags = flags;
	return CS_OK;
}

/* After a host name: not a label character, and not a dot that continues
 * into another label (evil.com must not match evil.com.au). */
static bool host_end_ok(const uint8_t *buf, size_t len, uint64_t end)
{
	if (end >= len)
		return true;
	if (is_label(buf[end]))
		return false;
	if (buf[end] == '.' && end + 1 < len && is_label(buf[end + 1]))
		return false;
	return true;
}

bool pattern_url_end_ok(const uint8_t *buf, size_t len, uint64_t end)
{
	if (end >= len || !is_url_cont(buf[end]))
		return true;
	return buf[end] == '.' && (end + 1 >= len || !is_url_cont(buf[end + 1]));
}

bool pattern_confirm(const struct indicator *ind, const uint8_t *buf, size_t len, uint64_t start,
		     uint64_t end)
{
	uint8_t before = start > 0 ? buf[start - 1] : '\n';
	uint8_t after = end < len ? buf[end] : '\n';
	switch (ind->type) {
	case IND_DOMAIN:
		/* A dot before is a subdomain boundary and is fine. */
		return !is_label(before) && host_end_ok(buf, len, end);
	case IND_EMAIL:
		return !is_email_local(before) && host_end_ok(buf, len, end);
	case IND_URL:
		if (!memmem(ind->value, ind->value_len, "://", 3) && is_label(before))
			return false;
		return pattern_url_end_ok(buf, len, end);
	case IND_MD5:
	case IND_SHA1:
	case IND_SHA256:
		return !is_hex(before) && !is_hex(after);
	case IND_WALLET:
		/* An empty match: its bytes are no longer at hand (a stream), the
		 * literal matched them; only the boundaries can still be judged. */
		return !is_alnum(before) && !is_alnum(after) &&
		       (start == end || wallet_listed_ok(ind, buf + start, end - start));
	default:
		return true;
	}
}
