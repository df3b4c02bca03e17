/* Compiled rules files (include/cybersieve/savedb.h). The body is written
 * through a SHA-256 context as it goes, then the header with its digest is
 * written over the placeholder at the front. Loading reads the whole file,
 * checks length and digest before it trusts any field, and parses with a
 * bounds-checked cursor; every array is copied into memory the matcher owns,
 * so the usual destructors free a loaded matcher like a built one. */
#include <errno.h>
#include <fcntl.h>
#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cybersieve/pdq.h"
#include "cybersieve/savedb.h"
#include "cybersieve/util.h"
#include "cybersieve/import.h"
#include "match/matcher_int.h"

#define SAVEDB_FORMAT 6u /* 2: the host shape of lookalike brands; 3: the URL set;
			    * 4: IPv4 addresses out of the block database (ip4scan.c);
			    * 5: an imported feed's format and refused count;
			    * 6: hex digests and IPv6 addresses out of the block
			    * database (hexscan.c, ip6scan.c) */
#define SAVEDB_HEAD (SAVEDB_MAGIC_LEN + 4 + 4 + 8 + 32)
#define SAVEDB_FILE_MAX ((size_t)1 << 36)
#define NO_STR UINT32_MAX

/* ------------------------------------------------------------ writing --- */

struct wr {
	FILE *fp;
	EVP_MD_CTX *sha;
	uint64_t n;
	bool err;
};

static void wr_bytes(struct wr *w, const void *p, size_t n)
{
	if (w->err || n == 0)
		return;
	if (fwrite(p, 1, n, w->fp) != n || !EVP_DigestUpdate(w->sha, p, n))
		w->err = true;
	w->n += n;
}

static void wr_u8(struct wr *w, uint8_t v) { wr_bytes(w, &v, 1); }
static void wr_u32(struct wr *w, uint32_t v) { wr_bytes(w, &v, 4); }
static void wr_u64(struct wr *w, uint64_t v) { wr_bytes(w, &v, 8); }

static void wr_str(struct wr *w, const char *s, size_t n)
{
	if (!s) {
		wr_u32(w, NO_STR);
		return;
	}
	wr_u32(w, (uint32_t)n);
	wr_bytes(w, s, n);
}

static void wr_cstr(struct wr *w, const char *s)
{
	wr_str(w, s, s ? strlen(s) : 0);
}

static void wr_blob(struct wr *w, const void *p, uint64_t n)
{
	wr_u64(w, n);
	wr_bytes(w, p, (size_t)n);
}

void savedb_env_current(struct savedb_env *env)
{
	memset(env, 0, sizeof(*env));
	snprintf(env->hs_version, sizeof(env->hs_version), "%s", hs_version());
	hs_platform_info_t plat;
	if (hs_populate_platform(&plat) == HS_SUCCESS) {
		env->cpu_features = plat.cpu_features;
		env->tune = plat.tune;
	}
}

bool savedb_detect(const uint8_t *head, size_t n)
{
	return n >= SAVEDB_MAGIC_LEN && memcmp(head, SAVEDB_MAGIC, SAVEDB_MAGIC_LEN) == 0;
}

static void wr_packs(struct wr *w, struct pack *const *packs, size_t n_packs)
{
	wr_u64(w, n_packs);
	for (size_t p = 0; p < n_packs; p++) {
		wr_cstr(w, packs[p]->path);
		wr_bytes(w, packs[p]->digest, 32);
	}
	for (size_t p = 0; p < n_packs; p++) {
		const struct pack *pk = packs[p];
		wr_cstr(w, pk->name);
		wr_cstr(w, pk->category);
		wr_cstr(w, pk->source);
		wr_cstr(w, pk->licence);
		wr_cstr(w, pk->tlp);
		wr_cstr(w, pk->legal);
		wr_cstr(w, pk->date);
		wr_u8(w, pk->confidence);
		wr_u8(w, pk->pdq_distance);
		wr_cstr(w, pk->format);
		wr_u64(w, pk->refused);
		wr_u64(w, pk->n_ind);
		for (size_t i = 0; i < pk->n_ind; i++) {
			const struct indicator *ind = &pk->ind[i];
			wr_cstr(w, ind->id);
			wr_u32(w, (uint32_t)ind->type);
			wr_u32(w, ind->flags);
			wr_str(w, ind->value, ind->value_len);
			wr_u8(w, ind->confidence);
			wr_u32(w, ind->line);
		}
	}
}

/* A string set's slots, each key written as its offset in the value of the
 * indicator the slot names (keys are borrowed from indicator values). */
static bool wr_strset(struct wr *w, const struct matcher *m, const struct strset *s)
{
	wr_u64(w, s->cap);
	wr_u64(w, s->n);
	for (size_t i = 0; i < s->cap; i++) {
		const struct strset_slot *e = &s->slot[i];
		if (!e->key) {
			wr_u32(w, NO_STR);
			continue;
		}
		if (e->value >= m->n)
			return false;
		const struct indicator *ind = m->ind[e->value].ind;
		if (e->key < ind->value || e->key + e->len > ind->value + ind->value_len)
			return false;
		wr_u32(w, e->value);
		wr_u32(w, (uint32_t)(e->key - ind->value));
		wr_u32(w, (uint32_t)e->len);
		wr_u64(w, e->hash);
	}
	return true;
}

static bool wr_shapes(struct wr *w, const struct matcher *m)
{
	const struct shapes *s = &m->shapes;
	for (int k = 0; k < SHAPE_COUNT; k++)
		wr_u8(w, s->used[k]);
	wr_u64(w, s->taken);
	wr_bytes(w, s->next, s->n_ind * sizeof(*s->next));
	for (int k = 0; k < 3; k++) {
		const struct hashset *h = &s->digest[k];
		wr_u64(w, h->cap);
		wr_u64(w, h->n);
		wr_bytes(w, h->keys, h->cap * h->width);
		wr_bytes(w, h->val, h->cap * sizeof(*h->val));
	}
	wr_u64(w, s->ip.n);
	wr_bytes(w, s->ip.e, s->ip.n * sizeof(*s->ip.e));
	for (int f = 0; f < 2; f++) {
		wr_u64(w, s->ip.n_run[f]);
		for (size_t r = 0; r < s->ip.n_run[f]; r++) {
			wr_u64(w, s->ip.run[f][r].first);
			wr_u64(w, s->ip.run[f][r].n);
			wr_u8(w, s->ip.run[f][r].plen);
		}
	}
	if (!wr_strset(w, m, &s->wallet) || !wr_strset(w, m, &s->iban) ||
	    !wr_strset(w, m, &s->dom.names))
		return false;
	wr_u8(w, s->dom_taken);
	wr_u64(w, s->dom.max_len);
	wr_cstr(w, s->dom.expr);
	if (!wr_strset(w, m, &s->url.urls))
		return false;
	wr_u8(w, s->url_taken);
	wr_u8(w, s->wmask != NULL);
	if (s->wmask)
		wr_bytes(w, s->wmask, s->n_ind * sizeof(*s->wmask));
	wr_u64(w, s->n_any_wallet);
	wr_bytes(w, s->any_wallet, s->n_any_wallet * sizeof(uint32_t));
	wr_u64(w, s->n_any_iban);
	wr_bytes(w, s->any_iban, s->n_any_iban * sizeof(uint32_t));
	wr_u64(w, s->n_pdq);
	wr_bytes(w, s->pdq_ind, s->n_pdq * sizeof(*s->pdq_ind));
	wr_bytes(w, s->pdq_dist, s->n_pdq);
	wr_u32(w, s->pdq_max);
	return true;
}

static bool wr_db(struct wr *w, const hs_database_t *db)
{
	char *bytes = NULL;
	size_t len = 0;
	if (db && hs_serialize_database(db, &bytes, &len) != HS_SUCCESS)
		return false;
	wr_blob(w, bytes, len);
	free(bytes);
	return true;
}

static bool wr_matcher(struct wr *w, const struct matcher *m)
{
	wr_u64(w, m->n);
	wr_bytes(w, m->fixed_len, m->n * sizeof(*m->fixed_len));
	wr_bytes(w, m->in_set, m->n);
	wr_bytes(w, m->has_som, m->n);
	wr_u64(w, m->max_fixed);
	const struct matcher_stats *st = &m->stats;
	wr_u64(w, st->patterns);
	wr_u64(w, st->regex_without_som);
	wr_bytes(w, &st->compile_seconds, sizeof(st->compile_seconds));
	wr_u64(w, st->db_bytes);
	wr_u64(w, st->set_entries);
	wr_u64(w, st->set_bytes);
	if (!wr_db(w, m->db))
		return false;
	bool stream = atomic_load(&((struct matcher *)m)->stream_state) == ST_READY;
	wr_u8(w, stream);
	if (stream) {
		if (!wr_db(w, m->stream_db))
			return false;
		wr_bytes(w, m->stream_som, m->n);
		wr_u64(w, m->stream_size);
		wr_u64(w, m->stream_patterns);
	}
	return wr_shapes(w, m);
}

/* The fixed header: magic, format, body length and digest. */
static void head_fill(uint8_t *h, uint64_t body_len, const uint8_t sha[32])
{
	uint32_t fmt = SAVEDB_FORMAT, zero = 0;
	memcpy(h, SAVEDB_MAGIC, SAVEDB_MAGIC_LEN);
	memcpy(h + 8, &fmt, 4);
	memcpy(h + 12, &zero, 4);
	memcpy(h + 16, &body_len, 8);
	memcpy(h + 24, sha, 32);
}

enum cs_err savedb_write(const char *path, struct pack *const *packs, size_t n_packs,
			 const struct matcher *m, struct cs_diag *d)
{
	if (!path || !m || (n_packs && !packs))
		return CS_ERR_INVALID;
	size_t total = 0;
	for (size_t p = 0; p < n_packs; p++)
		total += packs[p]->n_ind;
	if (total != m->n) {
		cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "the packs do not match the matcher");
		return CS_ERR_INVALID;
	}
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	struct wr w = {.fp = fd >= 0 ? fdopen(fd, "wb") : NULL, .sha = EVP_MD_CTX_new()};
	enum cs_err err = CS_ERR_IO;
	if (!w.fp || !w.sha || !EVP_DigestInit_ex(w.sha, EVP_sha256(), NULL)) {
		cs_diag_set(d, tmp, CS_DIAG_NONE, CS_DIAG_NONE, "cannot create: %s", strerror(errno));
		if (fd >= 0 && !w.fp)
			close(fd);
		goto out;
	}
	uint8_t head[SAVEDB_HEAD] = {0};
	if (fwrite(head, 1, sizeof(head), w.fp) != sizeof(head))
		w.err = true;
	struct savedb_env env;
	savedb_env_current(&env);
	wr_cstr(&w, env.hs_version);
	wr_u64(&w, env.cpu_features);
	wr_u32(&w, env.tune);
	wr_packs(&w, packs, n_packs);
	if (!wr_matcher(&w, m)) {
		err = CS_ERR_INVALID;
		cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "the matcher could not be serialized");
		goto out;
	}
	uint8_t sha[32];
	if (!EVP_DigestFinal_ex(w.sha, sha, NULL))
		w.err = true;
	head_fill(head, w.n, sha);
	if (w.err || fseek(w.fp, 0, SEEK_SET) != 0 || fwrite(head, 1, sizeof(head), w.fp) != sizeof(head) ||
	    fflush(w.fp) != 0 || fsync(fileno(w.fp)) != 0) {
		cs_diag_set(d, tmp, CS_DIAG_NONE, CS_DIAG_NONE, "write failed: %s", strerror(errno));
		goto out;
	}
	if (fclose(w.fp) != 0) {
		w.fp = NULL;
		cs_diag_set(d, tmp, CS_DIAG_NONE, CS_DIAG_NONE, "write failed: %s", strerror(errno));
		goto out;
	}
	w.fp = NULL;
	if (rename(tmp, path) != 0) {
		cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "cannot rename %s: %s", tmp,
			    strerror(errno));
		goto out;
	}
	err = CS_OK;
out:
	if (w.fp)
		fclose(w.fp);
	if (err != CS_OK)
		unlink(tmp);
	EVP_MD_CTX_free(w.sha);
	return err;
}

/* ------------------------------------------------------------ reading --- */

struct rd {
	const uint8_t *p;
	size_t n, off;
	bool err;
};

static const void *rd_take(struct rd *r, uint64_t n)
{
	if (r->err || n > r->n - r->off) {
		r->err = true;
		return NULL;
	}
	const void *q = r->p + r->off;
	r->off += (size_t)n;
	return q;
}

static uint8_t rd_u8(struct rd *r)
{
	const uint8_t *q = rd_take(r, 1);
	return q ? *q : 0;
}

static uint32_t rd_u32(struct rd *r)
{
	uint32_t v = 0;
	const void *q = rd_take(r, 4);
	if (q)
		memcpy(&v, q, 4);
	return v;
}

static uint64_t rd_u64(struct rd *r)
{
	uint64_t v = 0;
	const void *q = rd_take(r, 8);
	if (q)
		memcpy(&v, q, 8);
	return v;
}

/* A copy of n * size bytes from the file (n may be 0: a 1-byte block). */
static void *rd_copy(struct rd *r, uint64_t n, size_t size, bool *oom)
{
	if (size && n > (r->n - r->off) / size) {
		r->err = true;
		return NULL;
	}
	const void *q = rd_take(r, n * size);
	if (!q)
		return NULL;
	size_t bytes = (size_t)(n * size);
	void *o = util_alloc_table(bytes);
	if (!o) {
		*oom = true;
		r->err = true;
		return NULL;
	}
	memcpy(o, q, bytes);
	return o;
}

/* A string as written by wr_str: *out NULL for a missing one. It goes to
 * *block, which then moves past it, when block is given (room is the
 * caller's affair: rd_strings_size), else to a new allocation. False on
 * error. */
static bool rd_str_at(struct rd *r, char **block, char **out, size_t *len, bool *oom)
{
	uint32_t n = rd_u32(r);
	*out = NULL;
	if (len)
		*len = 0;
	if (r->err || n == NO_STR)
		return !r->err;
	const void *q = rd_take(r, n);
	if (!q)
		return false;
	char *s = block ? *block : malloc((size_t)n + 1);
	if (block)
		*block += (size_t)n + 1;
	if (!s) {
		*oom = true;
		r->err = true;
		return false;
	}
	memcpy(s, q, n);
	s[n] = '\0';
	*out = s;
	if (len)
		*len = n;
	return true;
}

static bool rd_str(struct rd *r, char **out, size_t *len, bool *oom)
{
	return rd_str_at(r, NULL, out, len, oom);
}

/* Bytes the ids and values of the n indicators ahead take with their NULs,
 * read without moving r; false on a damaged file. */
static bool rd_strings_size(const struct rd *r, uint64_t n, size_t *out)
{
	struct rd s = *r;
	size_t total = 0;
	for (uint64_t i = 0; i < n && !s.err; i++) {
		for (int k = 0; k < 2; k++) {
			uint32_t len = rd_u32(&s);
			if (len != NO_STR && rd_take(&s, len))
				total += (size_t)len + 1;
			if (k == 0)
				(void)rd_take(&s, 8); /* type, flags */
		}
		(void)rd_take(&s, 5); /* confidence, line */
	}
	*out = total;
	return !s.err;
}

static bool rd_pack(struct rd *r, struct pack *pk, size_t total_left, bool *oom)
{
	char **fields[] = {&pk->name, &pk->category, &pk->source, &pk->licence, &pk->tlp,
			   &pk->legal, &pk->date};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!rd_str(r, fields[i], NULL, oom))
			return false;
	pk->confidence = rd_u8(r);
	pk->pdq_distance = rd_u8(r);
	char *format;
	if (!rd_str(r, &format, NULL, oom))
		return false;
	/* pk->format points at the importer's own name of the format */
	for (int f = 0; format && f < IMPORT_FORMAT_COUNT; f++)
		if (strcmp(format, import_format_name((enum import_format)f)) == 0)
			pk->format = import_format_name((enum import_format)f);
	free(format);
	pk->refused = (size_t)rd_u64(r);
	uint64_t n = rd_u64(r);
	/* Each indicator takes at least 21 bytes: a bound before allocating. */
	if (r->err || n > total_left || n > (r->n - r->off) / 21 || !pk->name || !pk->category ||
	    !pk->tlp) {
		r->err = true;
		return false;
	}
	size_t bytes;
	if (!rd_strings_size(r, n, &bytes)) {
		r->err = true;
		return false;
	}
	pk->ind = util_calloc_table(n ? n : 1, sizeof(*pk->ind)); /* huge pages past 2 MiB */
	pk->strings = util_alloc_huge(bytes ? bytes : 1);
	if (!pk->ind || !pk->strings) {
		*oom = true;
		return false;
	}
	pk->strings_len = bytes ? bytes : 1;
	pk->cap_ind = n ? n : 1;
	char *at = pk->strings;
	for (size_t i = 0; i < n; i++) {
		struct indicator *ind = &pk->ind[i];
		if (!rd_str_at(r, &at, &ind->id, NULL, oom))
			return false;
		pk->n_ind = i + 1;
		ind->type = (enum ind_type)rd_u32(r);
		ind->flags = rd_u32(r);
		if (!rd_str_at(r, &at, &ind->value, &ind->value_len, oom))
			return false;
		ind->confidence = rd_u8(r);
		ind->line = rd_u32(r);
		if (r->err || !ind->id || !ind->value || (unsigned)ind->type >= IND_TYPE_COUNT) {
			r->err = true;
			return false;
		}
	}
	return true;
}

static bool rd_strset(struct rd *r, const struct matcher *m, struct strset *s, bool *oom)
{
	uint64_t cap = rd_u64(r), n = rd_u64(r);
	if (r->err || (cap & (cap - 1)) || n > cap || cap > (r->n - r->off) / 4) {
		r->err = true;
		return false;
	}
	if (cap == 0)
		return true;
	s->slot = util_calloc_table(cap, sizeof(*s->slot));
	if (!s->slot) {
		*oom = true;
		return false;
	}
	s->cap = cap;
	s->n = n;
	for (size_t i = 0; i < cap; i++) {
		uint32_t v = rd_u32(r);
		if (v == NO_STR)
			continue;
		uint32_t koff = rd_u32(r), len = rd_u32(r);
		uint64_t hash = rd_u64(r);
		if (r->err || v >= m->n)
			return r->err = true, false;
		const struct indicator *ind = m->ind[v].ind;
		if ((uint64_t)koff + len > ind->value_len)
			return r->err = true, false;
		s->slot[i] = (struct strset_slot){ind->value + koff, len, hash, v};
	}
	return !r->err;
}

/* Every stored indicator index must name an indicator. */
static bool idx_ok(const uint32_t *v, size_t n, size_t limit, bool none_ok)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] >= limit && !(none_ok && v[i] == SHAPE_NONE))
			return false;
	return true;
}

static bool rd_shapes(struct rd *r, struct matcher *m, bool *oom)
{
	struct shapes *s = &m->shapes;
	for (int k = 0; k < SHAPE_COUNT; k++)
		s->used[k] = rd_u8(r) != 0;
	s->taken = rd_u64(r);
	free(s->next);
	s->next = rd_copy(r, m->n, sizeof(*s->next), oom);
	if (!s->next || !idx_ok(s->next, m->n, m->n, true))
		return false;
	for (int k = 0; k < 3; k++) {
		struct hashset *h = &s->digest[k];
		uint64_t cap = rd_u64(r), n = rd_u64(r);
		if (r->err || (cap & (cap - 1)) || n > cap || (cap && n * 4 > cap * 3))
			return r->err = true, false;
		h->keys = rd_copy(r, cap, h->width, oom);
		h->val = rd_copy(r, cap, sizeof(*h->val), oom);
		if (!h->keys || !h->val)
			return false;
		h->cap = cap;
		h->n = n;
		for (size_t i = 0; i < cap; i++)
			if (h->val[i] > m->n)
				return r->err = true, false;
		if (hashset_index(h) != CS_OK)
			return *oom = true, false;
	}
	uint64_t nip = rd_u64(r);
	s->ip.e = rd_copy(r, nip, sizeof(*s->ip.e), oom);
	if (!s->ip.e)
		return false;
	s->ip.n = s->ip.cap = nip;
	for (size_t i = 0; i < nip; i++)
		if (s->ip.e[i].ind >= m->n || s->ip.e[i].plen > 128)
			return r->err = true, false;
	for (int f = 0; f < 2; f++) {
		s->ip.n_run[f] = rd_u64(r);
		if (s->ip.n_run[f] > 129)
			return r->err = true, false;
		for (size_t i = 0; i < s->ip.n_run[f]; i++) {
			struct ipset_run *run = &s->ip.run[f][i];
			run->first = rd_u64(r);
			run->n = rd_u64(r);
			run->plen = rd_u8(r);
			if (run->first > nip || run->n > nip - run->first)
				return r->err = true, false;
		}
	}
	if (ipset_index(&s->ip) != CS_OK)
		return *oom = true, false;
	if (!rd_strset(r, m, &s->wallet, oom) || !rd_strset(r, m, &s->iban, oom) ||
	    !rd_strset(r, m, &s->dom.names, oom))
		return false;
	s->dom_taken = rd_u8(r) != 0;
	s->dom.max_len = rd_u64(r);
	if (!rd_str(r, &s->dom.expr, NULL, oom) || s->dom.max_len > DOMSET_NAME_MAX ||
	    (s->used[SHAPE_DOMAIN] && !s->dom.expr))
		return r->err = true, false;
	if (domset_index(&s->dom) != CS_OK)
		return *oom = true, false;
	if (!rd_strset(r, m, &s->url.urls, oom))
		return false;
	s->url_taken = rd_u8(r) != 0;
	/* The tails are derived from the values (sorted, so in the order the
	 * saved database's ids were given). */
	for (size_t i = 0; i < s->url.urls.cap; i++) {
		const struct strset_slot *e = &s->url.urls.slot[i];
		if (e->key && (m->ind[e->value].ind->type != IND_URL ||
			       e->key != m->ind[e->value].ind->value ||
			       e->len != m->ind[e->value].ind->value_len ||
			       !urlset_fits(e->key, e->len)))
			return r->err = true, false;
	}
	urlset_measure(&s->url);
	if (urlset_seal(&s->url) != CS_OK)
		return *oom = true, false;
	if (s->used[SHAPE_URL] != (s->url.n_tails > 0))
		return r->err = true, false;
	if (rd_u8(r)) {
		s->wmask = rd_copy(r, m->n, sizeof(*s->wmask), oom);
		if (!s->wmask)
			return false;
	}
	s->n_any_wallet = rd_u64(r);
	s->any_wallet = rd_copy(r, s->n_any_wallet, sizeof(uint32_t), oom);
	s->n_any_iban = rd_u64(r);
	s->any_iban = rd_copy(r, s->n_any_iban, sizeof(uint32_t), oom);
	if (!s->any_wallet || !s->any_iban || !idx_ok(s->any_wallet, s->n_any_wallet, m->n, false) ||
	    !idx_ok(s->any_iban, s->n_any_iban, m->n, false) ||
	    ((s->n_any_wallet || s->n_any_iban || s->wallet.n || s->iban.n) && !s->wmask))
		return r->err = true, false;
	s->n_pdq = rd_u64(r);
	s->pdq_ind = rd_copy(r, s->n_pdq, sizeof(*s->pdq_ind), oom);
	s->pdq_dist = rd_copy(r, s->n_pdq, 1, oom);
	s->pdq_max = rd_u32(r);
	if (!s->pdq_ind || !s->pdq_dist || r->err || !idx_ok(s->pdq_ind, s->n_pdq, m->n, false) ||
	    s->pdq_max > PDQ_MAX_DIST)
		return r->err = true, false;
	if (s->n_pdq) {
		/* The index is rebuilt from the listed values: its tables are derived data. */
		uint8_t(*h)[PDQ_HASH_BYTES] = malloc(s->n_pdq * sizeof(*h));
		if (!h)
			return *oom = true, false;
		bool ok = true;
		for (size_t i = 0; i < s->n_pdq && ok; i++) {
			const struct indicator *ind = m->ind[s->pdq_ind[i]].ind;
			ok = ind->type == IND_PDQ && pdq_hash_parse(ind->value, ind->value_len, h[i]);
		}
		enum cs_err e = ok ? pdq_index_create((const uint8_t(*)[PDQ_HASH_BYTES])h, s->n_pdq,
						      &s->pdq, NULL)
				   : CS_ERR_FORMAT;
		free(h);
		if (e == CS_ERR_NOMEM)
			*oom = true;
		if (e != CS_OK)
			return r->err = true, false;
	}
	return !r->err;
}

static hs_database_t *rd_db(struct rd *r, bool *bad)
{
	uint64_t n = rd_u64(r);
	const void *q = rd_take(r, n);
	hs_database_t *db = NULL;
	if (!q || n == 0)
		return NULL;
	if (hs_deserialize_database(q, (size_t)n, &db) != HS_SUCCESS) {
		*bad = true;
		return NULL;
	}
	return db;
}

static bool rd_matcher(struct rd *r, struct matcher *m, struct pack **packs, size_t n_packs,
		       bool *oom, bool *bad_db)
{
	uint64_t n = rd_u64(r);
	size_t total = 0;
	for (size_t p = 0; p < n_packs; p++)
		total += packs[p]->n_ind;
	if (r->err || n != total)
		return r->err = true, false;
	m->n = n;
	m->ind = util_calloc_table(n ? n : 1, sizeof(*m->ind));
	if (!m->ind || shapes_init(&m->shapes, n) != CS_OK)
		return *oom = true, false;
	size_t i = 0;
	for (size_t p = 0; p < n_packs; p++)
		for (size_t j = 0; j < packs[p]->n_ind; j++, i++) {
			m->ind[i] = (struct matcher_ind){&packs[p]->ind[j], packs[p], (uint32_t)p,
							 (uint32_t)i, NULL};
			m->type_n[packs[p]->ind[j].type]++;
		}
	m->fixed_len = rd_copy(r, n, sizeof(*m->fixed_len), oom);
	m->in_set = rd_copy(r, n, 1, oom);
	m->has_som = rd_copy(r, n, 1, oom);
	m->max_fixed = rd_u64(r);
	struct matcher_stats *st = &m->stats;
	st->patterns = rd_u64(r);
	st->regex_without_som = rd_u64(r);
	const void *cs = rd_take(r, sizeof(st->compile_seconds));
	if (cs)
		memcpy(&st->compile_seconds, cs, sizeof(st->compile_seconds));
	st->db_bytes = rd_u64(r);
	st->set_entries = rd_u64(r);
	st->set_bytes = rd_u64(r);
	if (!m->fixed_len || !m->in_set || !m->has_som || r->err)
		return false;
	m->db = rd_db(r, bad_db);
	if (*bad_db || r->err || (!m->db && st->patterns))
		return false;
	if (rd_u8(r)) {
		m->stream_db = rd_db(r, bad_db);
		m->stream_som = rd_copy(r, n, 1, oom);
		m->stream_size = rd_u64(r);
		m->stream_patterns = rd_u64(r);
		if (*bad_db || !m->stream_som || r->err)
			return false;
		atomic_store(&m->stream_state, ST_READY);
	}
	if (!rd_shapes(r, m, oom))
		return false;
	shapes_wallet_expr(&m->shapes);
	/* Lookalike brands are rebuilt from their values: a brand is a few
	 * labels, cheap to index again. */
	for (size_t k = 0; k < n; k++) {
		if (m->ind[k].ind->type != IND_LOOKALIKE)
			continue;
		if (shapes_add_lookalike(&m->shapes, (uint32_t)k, m->ind[k].ind) != CS_OK)
			return *oom = true, false;
	}
	if (m->shapes.look) {
		if (lookalike_seal(m->shapes.look) != CS_OK)
			return *oom = true, false;
		for (size_t k = 0; k < n; k++)
			if (m->ind[k].ind->type == IND_LOOKALIKE)
				m->ind[k].look = m->shapes.look;
	}
	return true;
}

/* SHA-256 of a file's bytes; false when it cannot be read. */
static bool file_digest(const char *path, uint8_t out[32])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	bool ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	uint8_t buf[1 << 14];
	ssize_t n;
	while (ok && (n = read(fd, buf, sizeof(buf))) > 0)
		ok = EVP_DigestUpdate(c, buf, (size_t)n);
	ok = ok && n == 0 && EVP_DigestFinal_ex(c, out, NULL);
	EVP_MD_CTX_free(c);
	close(fd);
	return ok;
}

/* A recorded pack that is present as a regular file must still have its digest. */
static bool packs_current(const struct savedb_load *out, const uint8_t (*digest)[32], char *why,
			  size_t cap)
{
	for (size_t p = 0; p < out->n_paths; p++) {
		struct stat sb;
		uint8_t now[32];
		const char *path = out->paths[p];
		if (!path || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		if (!file_digest(path, now) || memcmp(now, digest[p], 32) != 0) {
			snprintf(why, cap, "pack %s has changed since the file was compiled", path);
			return false;
		}
	}
	return true;
}

/* Header and environment: decide stale or go on; false on a damaged file. */
static bool rd_env(struct rd *r, const struct savedb_env *env, struct savedb_load *out, bool *oom)
{
	char *ver = NULL;
	if (!rd_str(r, &ver, NULL, oom) || !ver)
		return r->err = true, false;
	uint64_t feat = rd_u64(r);
	uint32_t tune = rd_u32(r);
	if (strcmp(ver, env->hs_version) != 0) {
		out->stale = true;
		snprintf(out->why, sizeof(out->why), "compiled with Hyperscan %.60s, this is %.60s", ver,
			 env->hs_version);
	} else if (feat != env->cpu_features || tune != env->tune) {
		out->stale = true;
		snprintf(out->why, sizeof(out->why),
			 "compiled for CPU features 0x%llx (tune %u), this machine has 0x%llx (tune %u)",
			 (unsigned long long)feat, tune, (unsigned long long)env->cpu_features,
			 env->tune);
	}
	free(ver);
	return !r->err;
}

enum cs_err savedb_read(const char *path, const struct savedb_env *env,
			struct savedb_load *out, struct cs_diag *d)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(out, 0, sizeof(*out));
	struct savedb_env here;
	if (!env) {
		savedb_env_current(&here);
		env = &here;
	}
	char *buf = NULL;
	size_t len = 0;
	enum cs_err err = util_read_file(path, SAVEDB_FILE_MAX, "compiled rules file", &buf, &len, d);
	if (err != CS_OK)
		return err;
	const uint8_t *b = (const uint8_t *)buf;
	uint8_t (*digest)[32] = NULL;
	bool oom = false, bad_db = false;
	struct matcher *m = NULL;
	const char *bad = NULL;
	uint32_t fmt;
	uint64_t body_len;
	if (len < SAVEDB_HEAD || !savedb_detect(b, len)) {
		bad = "not a compiled rules file";
		goto out;
	}
	memcpy(&fmt, b + 8, 4);
	memcpy(&body_len, b + 16, 8);
	if (fmt != SAVEDB_FORMAT) {
		bad = "compiled rules file of another format version (compile it again)";
		goto out;
	}
	if (body_len != len - SAVEDB_HEAD) {
		bad = body_len > len - SAVEDB_HEAD ? "truncated" : "trailing bytes after the body";
		goto out;
	}
	uint8_t sha[32];
	if (!EVP_Digest(b + SAVEDB_HEAD, body_len, sha, NULL, EVP_sha256(), NULL)) {
		err = CS_ERR_NOMEM;
		goto out;
	}
	if (memcmp(sha, b + 24, 32) != 0) {
		bad = "the SHA-256 of the body does not match its header (damaged or altered)";
		goto out;
	}
	struct rd r = {.p = b + SAVEDB_HEAD, .n = body_len};
	if (!rd_env(&r, env, out, &oom))
		goto out;
	uint64_t np = rd_u64(&r);
	if (r.err || np > body_len / 36) {
		r.err = true;
		goto out;
	}
	out->paths = calloc(np ? np : 1, sizeof(*out->paths));
	digest = calloc(np ? np : 1, sizeof(*digest));
	if (!out->paths || !digest) {
		oom = true;
		goto out;
	}
	for (size_t p = 0; p < np; p++) {
		if (!rd_str(&r, &out->paths[p], NULL, &oom))
			goto out;
		out->n_paths = p + 1;
		const void *dg = rd_take(&r, 32);
		if (!dg)
			goto out;
		memcpy(digest[p], dg, 32);
	}
	if (!out->stale && !packs_current(out, (const uint8_t(*)[32])digest, out->why,
					  sizeof(out->why)))
		out->stale = true;
	if (out->stale)
		goto out;
	out->packs = calloc(np ? np : 1, sizeof(*out->packs));
	if (!out->packs) {
		oom = true;
		goto out;
	}
	size_t left = body_len;
	for (size_t p = 0; p < np; p++) {
		struct pack *pk = calloc(1, sizeof(*pk));
		if (!pk || !(pk->path = strdup(out->paths[p] ? out->paths[p] : "-"))) {
			free(pk);
			oom = true;
			goto out;
		}
		out->packs[p] = pk;
		out->n_packs = p + 1;
		memcpy(pk->digest, digest[p], 32);
		if (!rd_pack(&r, pk, left, &oom))
			goto out;
		left -= pk->n_ind;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		oom = true;
		goto out;
	}
	if (!rd_matcher(&r, m, out->packs, out->n_packs, &oom, &bad_db) || r.off != r.n)
		r.err = true;
	if (!r.err && !oom) {
		out->m = m;
		m = NULL;
	}
out:
	if (oom) {
		err = CS_ERR_NOMEM;
		cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "out of memory loading compiled rules");
	} else if (bad_db) {
		err = CS_ERR_FORMAT;
		cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE,
			    "compiled rules file refused: the pattern database does not load");
	} else if (bad || (err == CS_OK && !out->stale && !out->m)) {
		err = CS_ERR_FORMAT;
		cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "compiled rules file refused: %s",
			    bad ? bad : "malformed contents");
	}
	matcher_destroy(m);
	free(digest);
	free(buf);
	if (err != CS_OK)
		savedb_load_fini(out);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	out->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return err;
}

void savedb_load_fini(struct savedb_load *out)
{
	if (!out)
		return;
	matcher_destroy(out->m);
	for (size_t p = 0; p < out->n_packs; p++)
		pack_destroy(out->packs ? out->packs[p] : NULL);
	free(out->packs);
	for (size_t p = 0; p < out->n_paths; p++)
		free(out->paths[p]);
	free(out->paths);
	double s = out->seconds;
	memset(out, 0, sizeof(*out));
	out->seconds = s;
}
