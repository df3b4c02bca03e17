/* Shape candidates confirmed by set lookup (shape.h). A hex token is taken
 * whole: the expression requires a non-hex byte (or a line start) before it
 * and confirmation rejects a hex byte after it, so the 32-character windows
 * inside a 64-character token are never candidates. Several indicators may
 * list the same value (in different packs): the set maps the value to the
 * first, and next[] chains the others. */
#include <hs/hs.h>
#include <stdlib.h>
#include <string.h>

#include "match/shape.h"

static const struct {
	const char *expr;
	size_t width;
} shape_tab[SHAPE_COUNT] = {
	[SHAPE_MD5] = {"(?:^|[^0-9A-Fa-f])[0-9A-Fa-f]{32}", 32},
	[SHAPE_SHA1] = {"(?:^|[^0-9A-Fa-f])[0-9A-Fa-f]{40}", 40},
	[SHAPE_SHA256] = {"(?:^|[^0-9A-Fa-f])[0-9A-Fa-f]{64}", 64},
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
	free(s->next);
	s->next = NULL;
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
	enum shape_kind k;
	switch (ind->type) {
	case IND_MD5: k = SHAPE_MD5; break;
	case IND_SHA1: k = SHAPE_SHA1; break;
	case IND_SHA256: k = SHAPE_SHA256; break;
	default: return CS_OK;
	}
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

size_t shapes_bytes(const struct shapes *s)
{
	size_t b = s->n_ind * sizeof(*s->next);
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

bool shapes_confirm(const struct shapes *s, enum shape_kind k, const uint8_t *buf, size_t len,
		    uint64_t end, shapes_emit_fn emit, void *ctx)
{
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
