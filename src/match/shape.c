/* Shape candidates confirmed by set lookup (shape.h). A hex token is taken
 * whole: confirmation rejects a window with a hex byte before or after it, so
 * the 32-character windows inside a 64-character token never match. The hex
 * expressions are bare class repeats: measured on mixed logs, the engine runs
 * those three together at about 0.9 GB/s, against 0.3 GB/s when the
 * expression itself asks for a non-hex byte before the token. Several indicators may
 * list the same value (in different packs): the set maps the value to the
 * first, and next[] chains the others. */
#include <arpa/inet.h>
#include <hs/hs.h>
#include <stdlib.h>
#include <string.h>

#include "match/shape.h"

static const struct {
	const char *expr;
	size_t width;
} shape_tab[SHAPE_COUNT] = {
	[SHAPE_MD5] = {"[0-9A-Fa-f]{32}", 32},
	[SHAPE_SHA1] = {"[0-9A-Fa-f]{40}", 40},
	[SHAPE_SHA256] = {"[0-9A-Fa-f]{64}", 64},
	[SHAPE_IP4] = {"(?:^|[^0-9.])[0-9]{1,3}(?:\\.[0-9]{1,3}){3}", 15},
	[SHAPE_IP6] = {"(?:^|[^0-9A-Fa-f:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}", 39},
};

static int hex_val(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode 2*n hex characters; false on a non-hex one. */
static bool hex_decode(const uint8_t *h, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int a = hex_val(h[2 * i]), b = hex_val(h[2 * i + 1]);
		if (a < 0 || b < 0)
			return false;
		out[i] = (uint8_t)(a << 4 | b);
	}
	return true;
}

enum cs_err shapes_init(struct shapes *s, size_t n_ind)
{
	memset(s, 0, sizeof(*s));
	hashset_init(&s->digest[SHAPE_MD5], 16);
	hashset_init(&s->digest[SHAPE_SHA1], 20);
	hashset_init(&s->digest[SHAPE_SHA256], 32);
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
	free(s->next);
	s->next = NULL;
}

static int digest_kind(enum ind_type t)
{
	return t == IND_MD5 ? SHAPE_MD5 : t == IND_SHA1 ? SHAPE_SHA1 : t == IND_SHA256 ? SHAPE_SHA256 : -1;
}

enum cs_err shapes_reserve(struct shapes *s, struct pack *const *packs, size_t n_packs)
{
	size_t count[3] = {0};
	for (size_t p = 0; p < n_packs; p++)
		for (size_t i = 0; i < packs[p]->n_ind; i++) {
			int k = digest_kind(packs[p]->ind[i].type);
			if (k >= 0)
				count[k]++;
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

enum cs_err shapes_add(struct shapes *s, uint32_t idx, const struct indicator *ind, bool *taken)
{
	*taken = false;
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
	    !hex_decode((const uint8_t *)ind->value, w, key))
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

const char *shapes_expr(enum shape_kind k, unsigned *hs_flags)
{
	*hs_flags = HS_FLAG_MULTILINE;
	return shape_tab[k].expr;
}

size_t shapes_reach(enum shape_kind k)
{
	return shape_tab[k].width + 1;
}

size_t shapes_max_width(const struct shapes *s)
{
	size_t w = 0;
	for (int k = 0; k < SHAPE_COUNT; k++)
		if (s->used[k] && shape_tab[k].width > w)
			w = shape_tab[k].width;
	return w;
}

void shapes_seal(struct shapes *s)
{
	ipset_seal(&s->ip);
	s->used[SHAPE_IP4] = ipset_has(&s->ip, false);
	s->used[SHAPE_IP6] = ipset_has(&s->ip, true);
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
	size_t b = s->n_ind * sizeof(*s->next) + s->ip.cap * sizeof(*s->ip.e);
	for (int k = 0; k < 3; k++)
		b += hashset_bytes(&s->digest[k]);
	return b;
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

static bool ip_char(bool v6, uint8_t c)
{
	return v6 ? hex_val(c) >= 0 || c == ':' : is_digit(c) || c == '.';
}

/* An address token ending at end: nothing of an address right after it
 * (1.2.3.4.5 and 1.2.3.45 are not 1.2.3.4), walked back to its start,
 * parsed, looked up by longest prefix. */
static bool confirm_ip(const struct shapes *s, bool v6, const uint8_t *buf, size_t len,
		       uint64_t end, shapes_emit_fn emit, void *ctx)
{
	size_t max = v6 ? 39 : 15;
	if (end < len) {
		uint8_t a = buf[end];
		if (ip_char(v6, a) || (a == '.' && end + 1 < len && is_digit(buf[end + 1])))
			return true;
	}
	uint64_t start = end;
	while (start > 0 && end - start <= max && ip_char(v6, buf[start - 1]))
		start--;
	if (end - start > max || end == start || (start > 0 && (ip_char(true, buf[start - 1]) ||
								 buf[start - 1] == '.')))
		return true;
	char text[48];
	uint8_t addr[16];
	memcpy(text, buf + start, end - start);
	text[end - start] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, text, addr) != 1)
		return true;
	size_t first, n = ipset_lookup(&s->ip, v6, addr, &first);
	for (size_t i = 0; i < n; i++)
		if (!emit(ctx, s->ip.e[first + i].ind, start, end))
			return false;
	return true;
}

bool shapes_confirm(const struct shapes *s, enum shape_kind k, const uint8_t *buf, size_t len,
		    uint64_t end, shapes_emit_fn emit, void *ctx)
{
	if (k == SHAPE_IP4 || k == SHAPE_IP6)
		return confirm_ip(s, k == SHAPE_IP6, buf, len, end, emit, ctx);
	size_t w = shape_tab[k].width;
	if (end > len || end < w)
		return true;
	uint64_t start = end - w;
	if ((start > 0 && hex_val(buf[start - 1]) >= 0) || (end < len && hex_val(buf[end]) >= 0))
		return true;
	uint8_t key[HASHSET_KEY_MAX];
	uint32_t first;
	if (!hex_decode(buf + start, w / 2, key) || !hashset_get(&s->digest[k], key, &first))
		return true;
	return emit_chain(s, first, start, end, emit, ctx);
}
