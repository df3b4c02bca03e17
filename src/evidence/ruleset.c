/* Rule set identities (include/cybersieve/ruleset.h): copied out of the
 * packs, so the evidence can name a set after its packs are gone. */
#include <stdlib.h>
#include <string.h>

#include "cybersieve/ruleset.h"

static bool dup_str(char **out, const char *s)
{
	*out = NULL;
	return !s || (*out = strdup(s)) != NULL;
}

enum cs_err ev_ruleset_create(struct pack *const *packs, size_t n, uint64_t indicators,
			      struct ev_ruleset **out)
{
	struct ev_ruleset *rs = calloc(1, sizeof(*rs));
	if (!rs)
		return CS_ERR_NOMEM;
	rs->indicators = indicators;
	if (n && !(rs->packs = calloc(n, sizeof(*rs->packs)))) {
		free(rs);
		return CS_ERR_NOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct pack *p = packs[i];
		struct ev_ruleset_pack *e = &rs->packs[rs->n_packs++];
		memcpy(e->sha256, p->digest, 32);
		e->indicators = p->n_ind;
		if (!dup_str(&e->name, p->name) || !dup_str(&e->path, p->path) ||
		    !dup_str(&e->category, p->category) || !dup_str(&e->tlp, p->tlp)) {
			ev_ruleset_destroy(rs);
			return CS_ERR_NOMEM;
		}
	}
	*out = rs;
	return CS_OK;
}

void ev_ruleset_destroy(struct ev_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n_packs; i++) {
		free(rs->packs[i].name);
		free(rs->packs[i].path);
		free(rs->packs[i].category);
		free(rs->packs[i].tlp);
	}
	free(rs->packs);
	free(rs);
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

bool ev_ruleset_same(const struct ev_ruleset *a, const struct ev_ruleset *b)
{
	if (a->n_packs != b->n_packs)
		return false;
	for (size_t i = 0; i < a->n_packs; i++) {
		const struct ev_ruleset_pack *x = &a->packs[i], *y = &b->packs[i];
		if (!str_eq(x->name, y->name) || !str_eq(x->path, y->path) ||
		    memcmp(x->sha256, y->sha256, 32) != 0)
			return false;
	}
	return true;
}

void ev_ruleset_render(struct jbuf *j, const struct ev_ruleset *rs)
{
	json_obj_open(j);
	json_kv_u64(j, "indicators", rs->indicators);
	json_key(j, "packs");
	json_arr_open(j);
	for (size_t i = 0; i < rs->n_packs; i++) {
		const struct ev_ruleset_pack *p = &rs->packs[i];
		json_obj_open(j);
		json_kv_str(j, "name", p->name);
		json_kv_bytes(j, "path", (const uint8_t *)(p->path ? p->path : ""),
			      p->path ? strlen(p->path) : 0);
		json_kv_hex(j, "sha256", p->sha256, 32);
		json_kv_u64(j, "indicators", p->indicators);
		json_kv_str(j, "tlp", p->tlp);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_obj_close(j);
}
