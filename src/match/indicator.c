/* Indicator types and the check and normalisation of one value per type
 * (pack.h: ind_type_parse, ind_normalise), plus the legal heading of the
 * built-in categories. No state: safe from any thread. A normalised value
 * is a new heap string owned by the caller; on error nothing is returned. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs.h>
#include <unicode/uidna.h>

#include "cybersieve/iban.h"
#include "cybersieve/pack.h"
#include "cybersieve/util.h"
#include "cybersieve/wallet.h"
#include "correlate/lookalike.h"
#include "match/indicator_int.h"

#define DOMAIN_MAX 253
#define LABEL_MAX 63
#define EMAIL_LOCAL_MAX 64

static const char *const ind_names[IND_TYPE_COUNT] = {
	[IND_LITERAL] = "literal", [IND_REGEX] = "regex", [IND_DOMAIN] = "domain",
	[IND_URL] = "url",         [IND_EMAIL] = "email", [IND_MD5] = "md5",
	[IND_SHA1] = "sha1",       [IND_SHA256] = "sha256", [IND_IP] = "ip",
	[IND_WALLET] = "wallet",   [IND_IBAN] = "iban",     [IND_PDQ] = "pdq",
	[IND_LOOKALIKE] = "lookalike", [IND_COMBO] = "combo", [IND_WINDOW] = "window",
};

bool ind_type_parse(const char *name, size_t len, enum ind_type *out)
{
	for (int t = 0; t < IND_TYPE_COUNT; t++) {
		if (strlen(ind_names[t]) == len && memcmp(ind_names[t], name, len) == 0) {
			*out = (enum ind_type)t;
			return true;
		}
	}
	return false;
}

const char *ind_type_name(enum ind_type t)
{
	if ((unsigned)t >= IND_TYPE_COUNT)
		return "unknown";
	return ind_names[t];
}

const char *pack_legal_default(const char *category)
{
	static const struct {
		const char *category;
		const char *legal;
	} table[] = {
		{"scam", "UN Convention against Cybercrime, art. 13 (ICT-related theft or fraud)"},
		{"csam", "UN Convention against Cybercrime, art. 14 (online child sexual abuse or "
			 "child sexual exploitation material)"},
		{"grooming", "UN Convention against Cybercrime, art. 15 (solicitation or grooming "
			     "for the purpose of committing a sexual offence against a child)"},
		{"laundering",
		 "UN Convention against Cybercrime, art. 17 (laundering of proceeds of crime)"},
	};
	if (!category)
		return NULL;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i].category, category) == 0)
			return table[i].legal;
	return NULL;
}

void ind_quote(char *dst, size_t cap, const char *s, size_t len)
{
	size_t o = 0;
	if (!cap)
		return;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i >= IND_QUOTE_MAX || o + 5 >= cap) {
			if (o + 4 <= cap) {
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (c >= 0x20 && c != 0x7f)
			dst[o++] = (char)c;
		else
			o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", c);
	}
	dst[o] = '\0';
}

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool is_hex(char c)
{
	return util_hex_digit((unsigned char)c) >= 0;
}

/* "invalid <type> '<value>': <why>" into d; always CS_ERR_PARSE. */
static enum cs_err ind_bad(struct cs_diag *d, enum ind_type t, const char *raw, size_t len,
			   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static enum cs_err ind_bad(struct cs_diag *d, enum ind_type t, const char *raw, size_t len,
			   const char *fmt, ...)
{
	char q[IND_QUOTE_MAX * 4 + 8], why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	ind_quote(q, sizeof(q), raw, len);
	cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "invalid %s '%s': %s",
		    t == IND_WALLET ? "wallet address" : ind_type_name(t), q, why);
	return CS_ERR_PARSE;
}

/* A lower-cased copy of s[0..len) as a new NUL-terminated string. */
static char *lower_dup(const char *s, size_t len)
{
	char *o = malloc(len + 1);
	if (!o)
		return NULL;
	for (size_t i = 0; i < len; i++)
		o[i] = ascii_lower(s[i]);
	o[len] = '\0';
	return o;
}

static void char_reason(char *why, size_t cap, unsigned char c)
{
	if (c == ' ')
		snprintf(why, cap, "space in label");
	else if (c == '\t')
		snprintf(why, cap, "tab in label");
	else if (c < 0x20 || c == 0x7f)
		snprintf(why, cap, "control character \\x%02x in label", c);
	else
		snprintf(why, cap, "character '%c' not allowed in a label", c);
}

/* Check an already lower-cased host name; on failure a reason goes to why. */
static bool domain_check(const char *s, size_t len, char *why, size_t cap)
{
	size_t start = 0, dots = 0;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] >= 0x80) {
			snprintf(why, cap, "non-ASCII characters, use the punycode (xn--) form");
			return false;
		}
	}
	if (len == 0) {
		snprintf(why, cap, "empty");
		return false;
	}
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			char c = s[i];
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			      c == '_')) {
				char_reason(why, cap, (unsigned char)c);
				return false;
			}
			continue;
		}
		if (i == start) {
			snprintf(why, cap, "empty label");
			return false;
		}
		if (i - start > LABEL_MAX) {
			snprintf(why, cap, "label longer than %d characters", LABEL_MAX);
			return false;
		}
		if (s[start] == '-' || s[i - 1] == '-') {
			snprintf(why, cap, "label starts or ends with '-'");
			return false;
		}
		dots += i < len;
		start = i + 1;
	}
	if (len > DOMAIN_MAX) {
		snprintf(why, cap, "longer than %d characters", DOMAIN_MAX);
		return false;
	}
	if (dots == 0) {
		snprintf(why, cap, "no dot (a domain has at least two labels)");
		return false;
	}
	/* No top-level domain is numeric; such a name is an address typed as a domain. */
	size_t last = len;
	while (last > 0 && s[last - 1] >= '0' && s[last - 1] <= '9')
		last--;
	if (last > 0 && s[last - 1] == '.') {
		snprintf(why, cap, "numeric last label (an IP address is not a domain)");
		return false;
	}
	return true;
}

/* An internationalised name (UTF-8) in its xn-- form, UTS 46 as browsers
 * map it; NULL when it is not a valid name (why says so) or out of memory. */
static char *idn_to_ascii(const char *s, size_t n, size_t *out_n, char *why, size_t cap)
{
	UErrorCode st = U_ZERO_ERROR;
	UIDNA *idna = uidna_openUTS46(UIDNA_NONTRANSITIONAL_TO_ASCII | UIDNA_CHECK_BIDI, &st);
	char *o = malloc(DOMAIN_MAX + 2);
	if (U_FAILURE(st) || !o || n > INT32_MAX) {
		snprintf(why, cap, "non-ASCII name that could not be converted to its xn-- form");
		uidna_close(idna);
		free(o);
		return NULL;
	}
	UIDNAInfo info = UIDNA_INFO_INITIALIZER;
	int32_t k = uidna_nameToASCII_UTF8(idna, s, (int32_t)n, o, DOMAIN_MAX + 1, &info, &st);
	uidna_close(idna);
	if (U_FAILURE(st) || info.errors || k <= 0 || k > DOMAIN_MAX) {
		snprintf(why, cap, "not a valid internationalised name (UTS 46)");
		free(o);
		return NULL;
	}
	o[k] = '\0';
	*out_n = (size_t)k;
	return o;
}

static enum cs_err norm_domain(const char *raw, size_t len, char **out, size_t *out_len,
			       struct cs_diag *d)
{
	const char *s = raw;
	size_t n = len;
	char why[128];
	if (n >= 2 && s[0] == '*' && s[1] == '.') {
		s += 2;
		n -= 2;
	}
	if (n > 0 && s[n - 1] == '.')
		n--;
	bool ascii = true;
	for (size_t i = 0; i < n; i++)
		ascii &= (unsigned char)s[i] < 0x80;
	char *o = ascii ? lower_dup(s, n) : idn_to_ascii(s, n, &n, why, sizeof(why));
	if (!o && !ascii)
		return ind_bad(d, IND_DOMAIN, raw, len, "%s", why);
	if (!o)
		return CS_ERR_NOMEM;
	if (!domain_check(o, n, why, sizeof(why))) {
		free(o);
		return ind_bad(d, IND_DOMAIN, raw, len, "%s", why);
	}
	*out = o;
	*out_len = n;
	return CS_OK;
}

static enum cs_err norm_hex(enum ind_type t, const char *raw, size_t len, char **out,
			    size_t *out_len, struct cs_diag *d)
{
	size_t want = t == IND_MD5 ? 32 : t == IND_SHA1 ? 40 : 64; /* sha256, pdq */
	if (len != want)
		return ind_bad(d, t, raw, len, "expected %zu hex digits, got %zu characters", want,
			       len);
	for (size_t i = 0; i < len; i++) {
		if (!is_hex(raw[i])) {
			char q[8];
			ind_quote(q, sizeof(q), raw + i, 1);
			return ind_bad(d, t, raw, len, "non-hex character '%s'", q);
		}
	}
	char *o = lower_dup(raw, len);
	if (!o)
		return CS_ERR_NOMEM;
	*out = o;
	*out_len = len;
	return CS_OK;
}

/* Undo \\, \t and \xHH; the result may hold any byte, NUL included. */
static enum cs_err norm_literal(const char *raw, size_t len, char **out, size_t *out_len,
				struct cs_diag *d)
{
	char *o = malloc(len + 1);
	size_t n = 0;
	enum cs_err err = CS_OK;
	if (!o)
		return CS_ERR_NOMEM;
	for (size_t i = 0; i < len; i++) {
		if (raw[i] != '\\') {
			o[n++] = raw[i];
			continue;
		}
		char e = i + 1 < len ? raw[i + 1] : '\0';
		if (e == '\\' || e == 't') {
			o[n++] = e == 't' ? '\t' : '\\';
			i++;
		} else if (e == 'x' && i + 3 < len && is_hex(raw[i + 2]) && is_hex(raw[i + 3])) {
			o[n++] = (char)(util_hex_digit((unsigned char)raw[i + 2]) * 16 +
					util_hex_digit((unsigned char)raw[i + 3]));
			i += 3;
		} else if (e == 'x') {
			err = ind_bad(d, IND_LITERAL, raw, len, "\\x needs two hex digits");
			goto out;
		} else if (i + 1 == len) {
			err = ind_bad(d, IND_LITERAL, raw, len,
				      "lone backslash at the end (write \\\\ for a backslash)");
			goto out;
		} else {
			char q[8];
			ind_quote(q, sizeof(q), raw + i + 1, 1);
			err = ind_bad(d, IND_LITERAL, raw, len,
				      "unknown escape '\\%s' (use \\\\, \\t or \\xHH)", q);
			goto out;
		}
	}
	if (n == 0)
		err = ind_bad(d, IND_LITERAL, raw, len, "empty");
	else if (n > IND_LITERAL_MAX)
		err = ind_bad(d, IND_LITERAL, raw, len, "longer than %d bytes", IND_LITERAL_MAX);
out:
	if (err) {
		free(o);
		return err;
	}
	o[n] = '\0';
	*out = o;
	*out_len = n;
	return CS_OK;
}

/* Taken verbatim; the pattern engine's own parser decides what is valid. */
static enum cs_err norm_regex(unsigned flags, const char *raw, size_t len, char **out,
			      size_t *out_len, struct cs_diag *d)
{
	unsigned hs_flags = HS_FLAG_MULTILINE;
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *cerr = NULL;
	enum cs_err err = CS_OK;
	if (memchr(raw, '\0', len))
		return ind_bad(d, IND_REGEX, raw, len, "NUL byte (write \\x00)");
	char *o = malloc(len + 1);
	if (!o)
		return CS_ERR_NOMEM;
	memcpy(o, raw, len);
	o[len] = '\0';
	if (flags & IND_F_CASELESS)
		hs_flags |= HS_FLAG_CASELESS;
	if (flags & IND_F_DOTALL)
		hs_flags |= HS_FLAG_DOTALL;
	if (hs_expression_info(o, hs_flags, &info, &cerr) != HS_SUCCESS) {
		err = ind_bad(d, IND_REGEX, raw, len, "%s",
			      cerr && cerr->message ? cerr->message : "refused by the pattern engine");
		hs_free_compile_error(cerr);
	} else if (info->min_width == 0) {
		err = ind_bad(d, IND_REGEX, raw, len,
			      "can match the empty string (it would match everywhere)");
	}
	free(info); /* allocated by the engine's misc allocator, malloc by default */
	if (err) {
		free(o);
		return err;
	}
	*out = o;
	*out_len = len;
	return CS_OK;
}

static enum cs_err norm_email(const char *raw, size_t len, char **out, size_t *out_len,
			      struct cs_diag *d)
{
	const char *at = memchr(raw, '@', len);
	char why[128];
	if (!at || memchr(at + 1, '@', len - (size_t)(at - raw) - 1))
		return ind_bad(d, IND_EMAIL, raw, len, "expected exactly one '@'");
	size_t local = (size_t)(at - raw);
	if (local == 0 || local > EMAIL_LOCAL_MAX)
		return ind_bad(d, IND_EMAIL, raw, len, "local part must be 1-%d characters",
			       EMAIL_LOCAL_MAX);
	for (size_t i = 0; i < local; i++) {
		unsigned char c = (unsigned char)raw[i];
		if (c <= 0x20 || c >= 0x7f)
			return ind_bad(d, IND_EMAIL, raw, len,
				       "local part may hold printable ASCII only, no spaces");
	}
	char *o = lower_dup(raw, len);
	if (!o)
		return CS_ERR_NOMEM;
	if (!domain_check(o + local + 1, len - local - 1, why, sizeof(why))) {
		free(o);
		return ind_bad(d, IND_EMAIL, raw, len, "domain: %s", why);
	}
	*out = o;
	*out_len = len;
	return CS_OK;
}

/* Length of a valid scheme ending right before "://" at the start of s,
 * 0 when s has no scheme, SIZE_MAX when it has a malformed one. */
static size_t url_scheme_len(const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len);
	if (!slash || slash == s || slash[-1] != ':' || (size_t)(slash - s) + 1 >= len ||
	    slash[1] != '/')
		return 0;
	size_t n = (size_t)(slash - s) - 1;
	char c0 = ascii_lower(s[0]);
	if (n == 0 || !(c0 >= 'a' && c0 <= 'z'))
		return SIZE_MAX;
	for (size_t i = 1; i < n; i++) {
		char c = ascii_lower(s[i]);
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
		      c == '.'))
			return SIZE_MAX;
	}
	return n;
}

/* Bytes at the start of s[0..n) that are in set (in == true) or not. */
static size_t span(const char *s, size_t n, const char *set, bool in)
{
	size_t i = 0;
	while (i < n && (strchr(set, s[i]) != NULL) == in)
		i++;
	return i;
}

static bool url_port_ok(const char *p, size_t n)
{
	unsigned long v = 0;
	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* Check the host of a URL, lower-cased in place in h[0..*n); a trailing dot
 * of a name is dropped (*n shrinks). */
static bool url_host_check(char *h, size_t *n, char *why, size_t cap)
{
	char buf[INET6_ADDRSTRLEN + 1];
	unsigned char addr[16];
	if (*n >= 2 && h[0] == '[' && h[*n - 1] == ']') {
		size_t in = *n - 2;
		memcpy(buf, h + 1, in < sizeof(buf) ? in : 0);
		buf[in < sizeof(buf) ? in : 0] = '\0';
		if (in == 0 || in >= sizeof(buf) || inet_pton(AF_INET6, buf, addr) != 1) {
			snprintf(why, cap, "invalid IPv6 address");
			return false;
		}
		return true;
	}
	if (*n > 1 && h[*n - 1] == '.')
		(*n)--;
	if (*n < sizeof(buf) && span(h, *n, "0123456789.", true) == *n) {
		memcpy(buf, h, *n);
		buf[*n] = '\0';
		if (inet_pton(AF_INET, buf, addr) == 1)
			return true;
		snprintf(why, cap, "invalid IPv4 address");
		return false;
	}
	return domain_check(h, *n, why, cap);
}

/* scheme://host[:port][/path...] or host[/path...]: scheme and host are
 * lower-cased, everything after the host is kept byte for byte. */
static enum cs_err norm_url(const char *raw, size_t len, char **out, size_t *out_len,
			    struct cs_diag *d)
{
	char why[128];
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)raw[i] <= 0x20 || raw[i] == 0x7f)
			return ind_bad(d, IND_URL, raw, len, "whitespace or control character");
	size_t sl = url_scheme_len(raw, len);
	if (sl == SIZE_MAX)
		return ind_bad(d, IND_URL, raw, len, "invalid scheme");
	size_t hs = sl ? sl + 3 : 0;
	size_t he = hs + span(raw + hs, len - hs, "/?#", false);
	char *o = lower_dup(raw, len); /* scheme and host lower, rest restored below */
	if (!o)
		return CS_ERR_NOMEM;
	/* Split the authority into host and an optional port. */
	size_t host_end = he;
	const char *colon = NULL;
	if (o[hs] == '[') {
		const char *rb = memchr(o + hs, ']', he - hs);
		if (rb)
			host_end = (size_t)(rb - o) + 1;
		if (host_end < he)
			colon = o + host_end;
	} else {
		colon = memchr(o + hs, ':', he - hs);
		if (colon)
			host_end = (size_t)(colon - o);
	}
	size_t hn = host_end - hs;
	const char *bad = NULL;
	if (hn == 0)
		bad = "empty host";
	else if (colon && (*colon != ':' || !url_port_ok(colon + 1, he - (size_t)(colon - o) - 1)))
		bad = "invalid port";
	else if (!url_host_check(o + hs, &hn, why, sizeof(why)))
		bad = why;
	if (bad) {
		enum cs_err err = ind_bad(d, IND_URL, raw, len, "%s%s", bad == why ? "host: " : "",
					  bad);
		free(o);
		return err;
	}
	/* Host may have lost its trailing dot: shift port and rest left. */
	size_t n = hs + hn;
	memcpy(o + n, raw + host_end, len - host_end);
	n += len - host_end;
	o[n] = '\0';
	*out = o;
	*out_len = n;
	return CS_OK;
}

/* An address or a CIDR range; host bits of a range are cleared and a full
 * length is dropped, so each range has one spelling: 10.1.0.0/16, 2001:db8::/32,
 * 192.0.2.7. */
static enum cs_err norm_ip(const char *raw, size_t len, char **out, size_t *out_len,
			   struct cs_diag *d)
{
	char a[INET6_ADDRSTRLEN + 8];
	uint8_t bytes[16];
	const char *slash = memchr(raw, '/', len);
	size_t an = slash ? (size_t)(slash - raw) : len;
	if (an == 0 || an >= INET6_ADDRSTRLEN)
		return ind_bad(d, IND_IP, raw, len, "not an IPv4 or IPv6 address");
	memcpy(a, raw, an);
	a[an] = '\0';
	int family = memchr(a, ':', an) ? AF_INET6 : AF_INET;
	unsigned bits = family == AF_INET6 ? 128 : 32, plen = bits;
	if (inet_pton(family, a, bytes) != 1)
		return ind_bad(d, IND_IP, raw, len, "not an IPv4 or IPv6 address");
	if (slash) {
		size_t pn = len - an - 1;
		plen = 0;
		if (pn == 0 || pn > 3)
			return ind_bad(d, IND_IP, raw, len, "prefix length must be 0-%u", bits);
		for (size_t i = 0; i < pn; i++) {
			if (slash[1 + i] < '0' || slash[1 + i] > '9')
				return ind_bad(d, IND_IP, raw, len, "prefix length must be 0-%u", bits);
			plen = plen * 10 + (unsigned)(slash[1 + i] - '0');
		}
		if (plen > bits)
			return ind_bad(d, IND_IP, raw, len, "prefix length must be 0-%u", bits);
	}
	for (unsigned b = plen; b < bits; b++)
		bytes[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
	if (!inet_ntop(family, bytes, a, INET6_ADDRSTRLEN))
		return CS_ERR_INVALID;
	size_t n = strlen(a);
	if (plen < bits)
		n += (size_t)snprintf(a + n, sizeof(a) - n, "/%u", plen);
	char *o = malloc(n + 1);
	if (!o)
		return CS_ERR_NOMEM;
	memcpy(o, a, n + 1);
	*out = o;
	*out_len = n;
	return CS_OK;
}

/* The family an address most looks like, for naming why no validator took it. */
static enum wallet_family wallet_guess(const char *s, size_t n)
{
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return WALLET_ETH;
	if (n > 4 && (ascii_lower(s[0]) == 'l' && ascii_lower(s[1]) == 't' &&
		      ascii_lower(s[2]) == 'c' && s[3] == '1'))
		return WALLET_LTC;
	if (n > 12 && ascii_lower(s[0]) == 'b' && ascii_lower(s[1]) == 'i')
		return WALLET_BCH; /* bitcoincash: */
	if (n > 40 && n < 50 && (ascii_lower(s[0]) == 'q' || ascii_lower(s[0]) == 'p'))
		return WALLET_BCH;
	if (n > 90 && (s[0] == '4' || s[0] == '8'))
		return WALLET_XMR;
	switch (s[0]) {
	case 'T': return WALLET_TRX;
	case 'r': return WALLET_XRP;
	case 'L': case 'M': return WALLET_LTC;
	case 'X': return WALLET_DASH;
	case 't': return WALLET_ZEC;
	case 'D': return WALLET_XVG;
	case 'G': case 'A': return WALLET_BTG;
	default: return WALLET_BTC;
	}
}

/* Why none of the families in mask accepts s: "bad checksum" when any family
 * got as far as the checksum, else the reason of the family it looks like. */
static const char *wallet_why(uint32_t mask, const char *s, size_t n)
{
	const char *why = NULL, *guess = "not an address of a known family";
	enum wallet_family g = wallet_guess(s, n);
	for (int f = 0; f < WALLET_FAMILY_COUNT; f++) {
		if (!(mask & WALLET_MASK(f)))
			continue;
		why = NULL;
		if (wallet_check((enum wallet_family)f, s, n, &why))
			continue;
		if (why && strcmp(why, "bad checksum") == 0)
			return why;
		if ((f == (int)g || !(mask & WALLET_MASK(g))) && why)
			guess = why;
	}
	return guess;
}

static enum cs_err dup_out(const char *s, size_t n, char **out, size_t *out_len)
{
	char *o = malloc(n + 1);
	if (!o)
		return CS_ERR_NOMEM;
	memcpy(o, s, n);
	o[n] = '\0';
	*out = o;
	*out_len = n;
	return CS_OK;
}

/* ADDRESS, FAMILY:ADDRESS or any:FAMILY. Stored as the address in the form
 * the scanner looks up (wallet_normalise of the first family that accepts it),
 * prefixed by the lower-cased family code when one was given, or as
 * "any:<code>". A normalised address never holds ':' (CashAddr loses its
 * "bitcoincash:"), so the prefix is found again by the first ':'. */
static enum cs_err norm_wallet(const char *raw, size_t len, char **out, size_t *out_len,
			       struct cs_diag *d)
{
	const char *colon = memchr(raw, ':', len);
	size_t pn = colon ? (size_t)(colon - raw) : 0;
	const char *a = raw;
	size_t an = len;
	uint32_t want = WALLET_MASK_ALL;
	char buf[16 + WALLET_MAX_LEN + 2];
	size_t o = 0;
	if (colon && pn == 3 && ascii_lower(raw[0]) == 'a' && ascii_lower(raw[1]) == 'n' &&
	    ascii_lower(raw[2]) == 'y') {
		size_t cn = len - 4;
		if (cn == 0 || cn > 15 || wallet_currency_mask(raw + 4, cn) == 0)
			return ind_bad(d, IND_WALLET, raw, len, "unknown currency after 'any:'");
		for (size_t i = 0; i < len; i++)
			buf[i] = ascii_lower(raw[i]);
		return dup_out(buf, len, out, out_len);
	}
	if (colon && pn > 0 && pn <= 15 && wallet_currency_mask(raw, pn) != 0) {
		want = wallet_currency_mask(raw, pn);
		for (size_t i = 0; i < pn; i++)
			buf[o++] = ascii_lower(raw[i]);
		buf[o++] = ':';
		a = colon + 1;
		an = len - pn - 1;
	}
	if (an == 0 || an > WALLET_MAX_LEN)
		return ind_bad(d, IND_WALLET, raw, len, "not an address (length %zu)", an);
	uint32_t mask = wallet_detect(a, an);
	if ((mask & want) == 0) {
		if (mask && want != WALLET_MASK_ALL)
			return ind_bad(d, IND_WALLET, raw, len, "valid as %s, not as %.*s",
				       wallet_family_name((enum wallet_family)__builtin_ctz(mask)),
				       (int)pn, raw);
		return ind_bad(d, IND_WALLET, raw, len, "%s", wallet_why(want, a, an));
	}
	size_t nn;
	enum cs_err e = wallet_normalise((enum wallet_family)__builtin_ctz(mask), a, an, buf + o,
					 WALLET_MAX_LEN, &nn);
	if (e != CS_OK)
		return ind_bad(d, IND_WALLET, raw, len, "cannot normalise");
	return dup_out(buf, o + nn, out, out_len);
}

/* An IBAN in its electronic form, or "any". */
static enum cs_err norm_iban(const char *raw, size_t len, char **out, size_t *out_len,
			     struct cs_diag *d)
{
	if (len == 3 && ascii_lower(raw[0]) == 'a' && ascii_lower(raw[1]) == 'n' &&
	    ascii_lower(raw[2]) == 'y')
		return dup_out("any", 3, out, out_len);
	char norm[IBAN_MAX_LEN + 1];
	const char *why = NULL;
	if (len > IBAN_MAX_PRINTED || !iban_check(raw, len, norm, &why))
		return ind_bad(d, IND_IBAN, raw, len, "%s", why ? why : "too long");
	return dup_out(norm, strlen(norm), out, out_len);
}

/* A rule's text, kept as written (the line's spaces inside it included). */
static enum cs_err norm_rule(const char *raw, size_t len, char **out, size_t *out_len)
{
	char *o = malloc(len + 1);
	if (!o)
		return CS_ERR_NOMEM;
	memcpy(o, raw, len);
	o[len] = '\0';
	*out = o;
	*out_len = len;
	return CS_OK;
}

enum cs_err ind_normalise(enum ind_type t, unsigned flags, const char *raw, size_t len,
			  char **out, size_t *out_len, struct cs_diag *d)
{
	if ((unsigned)t >= IND_TYPE_COUNT || (!raw && len) || !out || !out_len)
		return CS_ERR_INVALID;
	if (flags & ~(IND_F_CASELESS | IND_F_DOTALL | IND_F_QUIET))
		return ind_bad(d, t, raw, len, "unknown flag bits 0x%x", flags);
	if ((flags & IND_F_CASELESS) && t != IND_LITERAL && t != IND_REGEX) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "modifier 'i' is not allowed on %s (literal and regex only)",
			    ind_type_name(t));
		return CS_ERR_PARSE;
	}
	if ((flags & IND_F_DOTALL) && t != IND_REGEX) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "modifier 's' is not allowed on %s (regex only)", ind_type_name(t));
		return CS_ERR_PARSE;
	}
	if (len == 0)
		return ind_bad(d, t, "", 0, "empty value");
	switch (t) {
	case IND_LITERAL: return norm_literal(raw, len, out, out_len, d);
	case IND_REGEX: return norm_regex(flags, raw, len, out, out_len, d);
	case IND_DOMAIN: return norm_domain(raw, len, out, out_len, d);
	case IND_URL: return norm_url(raw, len, out, out_len, d);
	case IND_EMAIL: return norm_email(raw, len, out, out_len, d);
	case IND_MD5:
	case IND_SHA1:
	case IND_SHA256: return norm_hex(t, raw, len, out, out_len, d);
	case IND_IP: return norm_ip(raw, len, out, out_len, d);
	case IND_WALLET: return norm_wallet(raw, len, out, out_len, d);
	case IND_IBAN: return norm_iban(raw, len, out, out_len, d);
	case IND_PDQ: return norm_hex(t, raw, len, out, out_len, d);
	case IND_LOOKALIKE: {
		/* Checked now, so that a bad brand refuses its pack at file:line. */
		struct lookalike *l;
		enum cs_err e = lookalike_create(&l);
		if (e == CS_OK) {
			e = lookalike_add_brand(l, 0, raw, len, d);
			lookalike_destroy(l);
		}
		if (e != CS_OK)
			return e;
		return norm_rule(raw, len, out, out_len);
	}
	case IND_COMBO:
	case IND_WINDOW:
		/* Parsed by their engines (src/correlate) when the matcher is built. */
		return norm_rule(raw, len, out, out_len);
	case IND_TYPE_COUNT: break;
	}
	return CS_ERR_INVALID;
}
