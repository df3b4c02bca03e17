/* Pseudonymisation of addresses in record context (include/cybersieve/pseudo.h).
 * The finder is a hand-written tokenizer: an address must start and end on a
 * token boundary, so parts of longer dotted or coloned tokens (versions,
 * 1.2.3.4.5, times, MAC addresses) are left alone. The key is read-only after
 * creation; every call here may run on any thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "cybersieve/pseudo.h"
#include "cybersieve/util.h"

#define PSEUDO_VALUE_MAX 320     /* longest address hashed (an e-mail: 64 + 1 + 255) */
#define PSEUDO_STACK_SCRATCH 2048

struct pseudo_key {
	uint8_t *key;
	size_t len;
	char id[17];
};

enum cs_err pseudo_key_create(const uint8_t *key, size_t n, struct pseudo_key **out,
			      struct cs_diag *d)
{
	*out = NULL;
	if (n < PSEUDO_KEY_MIN || n > PSEUDO_KEY_MAX) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "a pseudonymisation key holds %d to %d bytes, not %zu "
			    "(make one with: head -c 32 /dev/urandom > KEYFILE)",
			    PSEUDO_KEY_MIN, PSEUDO_KEY_MAX, n);
		return CS_ERR_INVALID;
	}
	struct pseudo_key *k = calloc(1, sizeof(*k));
	if (!k || !(k->key = malloc(n))) {
		free(k);
		return CS_ERR_NOMEM;
	}
	memcpy(k->key, key, n);
	k->len = n;
	uint8_t md[SHA256_DIGEST_LENGTH];
	SHA256(key, n, md);
	util_hex(md, 8, k->id);
	*out = k;
	return CS_OK;
}

enum cs_err pseudo_key_load(const char *path, struct pseudo_key **out, struct cs_diag *d)
{
	uint8_t buf[PSEUDO_KEY_MAX + 1];
	size_t n = 0;
	enum cs_err err = CS_OK;
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "cannot open key file: %s",
			    strerror(errno));
		return CS_ERR_IO;
	}
	while (n < sizeof(buf)) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE,
				    "cannot read key file: %s", strerror(errno));
			err = CS_ERR_IO;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n < PSEUDO_KEY_MIN || n > PSEUDO_KEY_MAX) {
		cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE,
			    "a pseudonymisation key file holds %d to %d bytes, not %s%zu "
			    "(make one with: head -c 32 /dev/urandom > KEYFILE)",
			    PSEUDO_KEY_MIN, PSEUDO_KEY_MAX, n > PSEUDO_KEY_MAX ? "over " : "",
			    n > PSEUDO_KEY_MAX ? (size_t)PSEUDO_KEY_MAX : n);
		err = CS_ERR_INVALID;
		goto out;
	}
	err = pseudo_key_create(buf, n, out, d);
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return err;
}

void pseudo_key_destroy(struct pseudo_key *k)
{
	if (!k)
		return;
	OPENSSL_cleanse(k->key, k->len);
	free(k->key);
	free(k);
}

const char *pseudo_key_id(const struct pseudo_key *k)
{
	return k->id;
}

/* ------------------------------------------------------------ finder --- */

static bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static bool is_alpha(uint8_t c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static bool is_alnum(uint8_t c) { return is_digit(c) || is_alpha(c); }
static bool is_hex(uint8_t c) { return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }
static bool is_word(uint8_t c) { return is_alnum(c) || c == '_'; }
static bool is_local(uint8_t c) { return is_alnum(c) || (c && strchr("._%+-", c)); }
static bool is_dom(uint8_t c) { return is_alnum(c) || c == '.' || c == '-'; }

/* Dotted quad at s[i]; *end is one past it. */
static bool ipv4_at(const uint8_t *s, size_t n, size_t i, size_t *end)
{
	if (i > 0 && (is_word(s[i - 1]) || s[i - 1] == '.'))
		return false;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= n || s[i] != '.')
				return false;
			i++;
		}
		unsigned v = 0, digits = 0;
		while (i < n && is_digit(s[i]) && digits < 4)
			v = v * 10 + (s[i++] - '0'), digits++;
		if (digits == 0 || digits > 3 || v > 255)
			return false;
	}
	if (i < n && (is_word(s[i]) || (s[i] == '.' && i + 1 < n && is_digit(s[i + 1]))))
		return false;
	*end = i;
	return true;
}

static bool ipv6_parse(const uint8_t *s, size_t n, struct in6_addr *a)
{
	char tmp[INET6_ADDRSTRLEN];
	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET6, tmp, a) == 1;
}

/* Hex digits, colons (two at least) and dots (an IPv4 tail) that inet_pton accepts. */
static bool ipv6_at(const uint8_t *s, size_t n, size_t i, size_t *end)
{
	if (i > 0 && (is_word(s[i - 1]) || s[i - 1] == '.'))
		return false;
	/* After "ip:" an address may start; after "1:" we are inside a longer one. */
	if (i > 1 && s[i - 1] == ':' && (is_hex(s[i - 2]) || s[i - 2] == ':'))
		return false;
	size_t j = i, colons = 0, hexd = 0;
	while (j < n && (is_hex(s[j]) || s[j] == ':' || s[j] == '.')) {
		colons += s[j] == ':';
		hexd += is_hex(s[j]);
		j++;
	}
	if (colons < 2 || hexd == 0 || (j < n && is_word(s[j])))
		return false;
	struct in6_addr a;
	/* A sentence may end the address with '.' or ':'; try once without them. */
	for (int pass = 0; pass < 2; pass++) {
		if (ipv6_parse(s + i, j - i, &a)) {
			*end = j;
			return true;
		}
		while (j > i && (s[j - 1] == '.' || s[j - 1] == ':'))
			j--;
	}
	return false;
}

/* Labels of letters, digits and inner hyphens; two labels at least, the last
 * of two letters or more. */
static bool domain_ok(const uint8_t *s, size_t n)
{
	size_t labels = 0, start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		size_t len = i - start;
		if (len == 0 || len > 63 || s[start] == '-' || s[i - 1] == '-')
			return false;
		labels++;
		if (i == n) {
			if (len < 2)
				return false;
			for (size_t k = start; k < n; k++)
				if (!is_alpha(s[k]))
					return false;
		}
		start = i + 1;
	}
	return labels >= 2;
}

static bool email_at(const uint8_t *s, size_t n, size_t i, size_t *end)
{
	if ((i > 0 && (is_local(s[i - 1]) || s[i - 1] == '@')) || s[i] == '.')
		return false;
	size_t at = i;
	while (at < n && is_local(s[at]))
		at++;
	if (at == i || at >= n || s[at] != '@' || at - i > 64 || s[at - 1] == '.')
		return false;
	size_t j = at + 1;
	while (j < n && is_dom(s[j]))
		j++;
	if (j < n && (s[j] == '@' || s[j] == '_'))
		return false;
	while (j > at + 1 && (s[j - 1] == '.' || s[j - 1] == '-'))
		j--;
	if (j - at - 1 > 255 || !domain_ok(s + at + 1, j - at - 1))
		return false;
	*end = j;
	return true;
}

bool pseudo_find(const uint8_t *s, size_t n, size_t from, struct pseudo_span *sp)
{
	for (size_t i = from; i < n; i++) {
		size_t end;
		enum pseudo_kind kind = PSEUDO_NONE;
		if (is_local(s[i]) && email_at(s, n, i, &end))
			kind = PSEUDO_EMAIL;
		else if ((is_hex(s[i]) || s[i] == ':') && ipv6_at(s, n, i, &end))
			kind = PSEUDO_IPV6;
		else if (is_digit(s[i]) && ipv4_at(s, n, i, &end))
			kind = PSEUDO_IPV4;
		if (kind != PSEUDO_NONE) {
			*sp = (struct pseudo_span){.start = i, .end = end, .kind = kind};
			return true;
		}
	}
	return false;
}

size_t pseudo_normalise(enum pseudo_kind kind, const uint8_t *s, size_t n, char *out, size_t cap)
{
	size_t end;
	if (kind == PSEUDO_IPV4) {
		if (!ipv4_at(s, n, 0, &end) || end != n)
			return 0;
		unsigned o[4] = {0};
		for (size_t i = 0, p = 0; i < n; i++)
			if (s[i] == '.')
				p++;
			else
				o[p] = o[p] * 10 + (s[i] - '0');
		int w = snprintf(out, cap, "%u.%u.%u.%u", o[0], o[1], o[2], o[3]);
		return w > 0 && (size_t)w < cap ? (size_t)w : 0;
	}
	if (kind == PSEUDO_IPV6) {
		struct in6_addr a;
		if (cap < INET6_ADDRSTRLEN || !ipv6_parse(s, n, &a) ||
		    !inet_ntop(AF_INET6, &a, out, (socklen_t)cap))
			return 0;
		return strlen(out);
	}
	if (kind == PSEUDO_EMAIL) {
		if (n >= cap || !email_at(s, n, 0, &end) || end != n)
			return 0;
		for (size_t i = 0; i < n; i++)
			out[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] | 0x20 : s[i]);
		out[n] = '\0';
		return n;
	}
	return 0;
}

bool pseudo_token(const struct pseudo_key *k, enum pseudo_kind kind, const uint8_t *s, size_t n,
		  char out[PSEUDO_TOKEN_LEN + 1])
{
	char norm[PSEUDO_VALUE_MAX + 1];
	size_t len = pseudo_normalise(kind, s, n, norm, sizeof(norm));
	if (!len)
		return false;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned md_len = 0;
	if (!HMAC(EVP_sha256(), k->key, (int)k->len, (const uint8_t *)norm, len, md, &md_len) ||
	    md_len < 8)
		return false;
	memcpy(out, PSEUDO_PREFIX, sizeof(PSEUDO_PREFIX) - 1);
	util_hex(md, 8, out + sizeof(PSEUDO_PREFIX) - 1);
	out[PSEUDO_TOKEN_LEN] = '\0';
	return true;
}

/* ---------------------------------------------------------- rewriter --- */

static bool is_frag(uint8_t c) { return is_local(c) || c == ':' || c == '@'; }

/* Could the run s[0, n) be a piece of an address? strict: only an '@' counts. */
static bool looks_partial(const uint8_t *s, size_t n, bool strict)
{
	size_t digits = 0, seps = 0, colons = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '@')
			return true;
		digits += is_digit(s[i]);
		seps += s[i] == '.' || s[i] == ':';
		colons += s[i] == ':';
	}
	return !strict && ((digits && seps) || colons >= 2);
}

static bool same_ci(const uint8_t *a, size_t n, const char *b, size_t m)
{
	if (!b || n != m)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((is_alpha(a[i]) ? a[i] | 0x20 : a[i]) !=
		    (is_alpha((uint8_t)b[i]) ? (uint8_t)b[i] | 0x20 : (uint8_t)b[i]))
			return false;
	return true;
}

size_t pseudo_rewrite(const struct pseudo_key *k, const uint8_t *s, size_t n, unsigned edges,
		      const char *keep, size_t keep_len, uint8_t *out)
{
	size_t lo = 0, hi = n, o = 0;
	if (edges & (PSEUDO_CUT_START | PSEUDO_MATCH_START)) {
		while (lo < n && is_frag(s[lo]))
			lo++;
		if (!looks_partial(s, lo, !(edges & PSEUDO_CUT_START)))
			lo = 0;
	}
	if (edges & (PSEUDO_CUT_END | PSEUDO_MATCH_END)) {
		while (hi > lo && is_frag(s[hi - 1]))
			hi--;
		if (!looks_partial(s + hi, n - hi, !(edges & PSEUDO_CUT_END)))
			hi = n;
		if (hi < lo)
			hi = lo;
	}
	struct pseudo_span sp;
	size_t at = lo;
	while (at < hi && pseudo_find(s, hi, at, &sp)) {
		memcpy(out + o, s + at, sp.start - at);
		o += sp.start - at;
		char tok[PSEUDO_TOKEN_LEN + 1];
		size_t len = sp.end - sp.start;
		bool kept = sp.kind == PSEUDO_EMAIL && same_ci(s + sp.start, len, keep, keep_len);
		if (!kept && pseudo_token(k, sp.kind, s + sp.start, len, tok)) {
			memcpy(out + o, tok, PSEUDO_TOKEN_LEN);
			o += PSEUDO_TOKEN_LEN;
		} else if (kept) {
			memcpy(out + o, s + sp.start, len);
			o += len;
		} /* else: an address that cannot be hashed is left out, never shown */
		at = sp.end;
	}
	memcpy(out + o, s + at, hi > at ? hi - at : 0);
	return o + (hi > at ? hi - at : 0);
}

void pseudo_json_text(struct jbuf *j, const char *key, const struct pseudo_key *k,
		      const uint8_t *s, size_t n, unsigned edges, const char *keep,
		      size_t keep_len)
{
	uint8_t stack[PSEUDO_STACK_SCRATCH];
	size_t cap = PSEUDO_REWRITE_BOUND(n);
	uint8_t *buf = cap <= sizeof(stack) ? stack : malloc(cap);
	if (!buf) {
		j->failed = true;
		return;
	}
	size_t len = pseudo_rewrite(k, s, n, edges, keep, keep_len, buf);
	json_key(j, key);
	bool lossy = json_str(j, buf, len);
	j->need_comma = true;
	if (lossy) {
		char kb[64];
		snprintf(kb, sizeof(kb), "%s_b64", key);
		json_key(j, kb);
		json_base64(j, buf, len);
	}
	if (buf != stack)
		free(buf);
}

void pseudo_json_minimisation(struct jbuf *j, const struct pseudo_key *k)
{
	json_key(j, "minimisation");
	json_obj_open(j);
	json_kv_bool(j, "pseudonymised", true);
	json_kv_str(j, "method", PSEUDO_METHOD);
	json_kv_str(j, "key_id", k->id);
	json_obj_close(j);
}
