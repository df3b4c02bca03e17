/* The run's manifest and the seals of rotated records files
 * (include/cybersieve/manifest.h). Field order is fixed, and every value the
 * shell-only check reads (docs/EVIDENCE.md) stays on one line in a known order. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cybersieve/manifest.h"
#include "cybersieve/util.h"

static void render_file(struct jbuf *j, const struct ev_chain_file *f)
{
	json_kv_str(j, "name", f->name);
	json_kv_u64(j, "records", f->records);
	json_kv_u64(j, "bytes", f->bytes);
	json_kv_hex(j, "sha256", f->sha256, 32);
	json_kv_hex(j, "genesis", f->genesis, 32);
	json_kv_hex(j, "chain_head", f->head, 32);
	json_kv_str(j, "closed", f->closed[0] ? f->closed : NULL);
}

static void render_inputs(struct jbuf *j, const struct ev_manifest *m)
{
	json_key(j, "inputs");
	json_arr_open(j);
	for (size_t i = 0; i < m->n_inputs; i++) {
		const struct ev_manifest_input *in = &m->inputs[i];
		json_obj_open(j);
		json_kv_bytes(j, "path", (const uint8_t *)in->path, strlen(in->path));
		json_kv_u64(j, "size", in->size);
		if (in->have_sha256)
			json_kv_hex(j, "sha256", in->sha256, 32);
		else
			json_kv_str(j, "sha256", NULL);
		json_kv_str(j, "status", in->status);
		json_kv_str(j, "reason", in->reason);
		json_obj_close(j);
	}
	json_arr_close(j);
}

static void render_packs(struct jbuf *j, const struct ev_manifest *m)
{
	json_key(j, "packs");
	json_arr_open(j);
	for (size_t i = 0; i < m->n_packs; i++) {
		const struct pack *p = m->packs[i];
		json_obj_open(j);
		json_kv_str(j, "name", p->name);
		json_kv_str(j, "path", p->path);
		json_kv_hex(j, "sha256", p->digest, 32);
		json_kv_str(j, "category", p->category);
		json_kv_u64(j, "indicators", p->n_ind);
		json_kv_str(j, "tlp", p->tlp);
		json_obj_close(j);
	}
	json_arr_close(j);
}

static void render_pack_entry(struct jbuf *j, const struct ev_ruleset_pack *p)
{
	json_obj_open(j);
	json_kv_str(j, "name", p->name);
	json_kv_str(j, "path", p->path);
	json_kv_hex(j, "sha256", p->sha256, 32);
	json_kv_str(j, "category", p->category);
	json_kv_u64(j, "indicators", p->indicators);
	json_kv_str(j, "tlp", p->tlp);
	json_obj_close(j);
}

static bool pack_seen(const struct ev_manifest *m, size_t set, size_t k)
{
	const struct ev_ruleset_pack *p = &m->rule_sets[set]->packs[k];
	for (size_t s = 0; s <= set; s++)
		for (size_t i = 0; i < (s == set ? k : m->rule_sets[s]->n_packs); i++) {
			const struct ev_ruleset_pack *q = &m->rule_sets[s]->packs[i];
			if (memcmp(p->sha256, q->sha256, 32) == 0 && strcmp(p->name, q->name) == 0 &&
			    strcmp(p->path ? p->path : "", q->path ? q->path : "") == 0)
				return true;
		}
	return false;
}

/* Every distinct pack of every set, then the sets themselves. */
static void render_rule_sets(struct jbuf *j, const struct ev_manifest *m)
{
	json_key(j, "packs");
	json_arr_open(j);
	for (size_t s = 0; s < m->n_rule_sets; s++)
		for (size_t k = 0; k < m->rule_sets[s]->n_packs; k++)
			if (!pack_seen(m, s, k))
				render_pack_entry(j, &m->rule_sets[s]->packs[k]);
	json_arr_close(j);
	json_key(j, "rule_sets");
	json_arr_open(j);
	for (size_t s = 0; s < m->n_rule_sets; s++) {
		const struct ev_ruleset *rs = m->rule_sets[s];
		json_obj_open(j);
		json_kv_str(j, "from", rs->from[0] ? rs->from : NULL);
		json_kv_str(j, "until", rs->until[0] ? rs->until : NULL);
		json_kv_u64(j, "indicators", rs->indicators);
		json_key(j, "packs");
		json_arr_open(j);
		for (size_t k = 0; k < rs->n_packs; k++) {
			json_obj_open(j);
			json_kv_str(j, "name", rs->packs[k].name);
			json_kv_hex(j, "sha256", rs->packs[k].sha256, 32);
			json_obj_close(j);
		}
		json_arr_close(j);
		json_obj_close(j);
	}
	json_arr_close(j);
}

static void render_counts(struct jbuf *j, const struct ev_manifest *m)
{
	uint64_t total = 0;
	for (size_t i = 0; i < m->n_files; i++)
		total += m->files[i].records;
	json_key(j, "counts");
	json_obj_open(j);
	json_kv_u64(j, "records", total);
	json_key(j, "by_category");
	json_obj_open(j);
	const struct ev_chain_counts *c = m->counts;
	for (size_t i = 0; c && i < c->n; i++)
		json_kv_u64(j, c->cat[i].name, c->cat[i].records);
	if (c && c->other)
		json_kv_u64(j, "(other)", c->other);
	json_obj_close(j);
	json_obj_close(j);
}

void ev_manifest_render(struct jbuf *j, const struct ev_manifest *m)
{
	json_obj_open(j);
	json_kv_str(j, "format", EV_MANIFEST_FORMAT);
	json_kv_str(j, "run_id", m->run_id);
	json_kv_str(j, "started", m->started);
	json_kv_str(j, "finished", m->finished);
	json_kv_str(j, "operator", m->operator_name);
	json_kv_str(j, "sensor_id", m->sensor_id);
	json_kv_str(j, "host", m->host);
	json_key(j, "tool");
	json_obj_open(j);
	json_kv_str(j, "name", "cybersieve");
	json_kv_str(j, "version", CS_VERSION);
	json_obj_close(j);
	json_kv_bytes(j, "command_line", (const uint8_t *)m->command_line, strlen(m->command_line));
	json_key(j, "key");
	json_obj_open(j);
	json_kv_str(j, "algorithm", "Ed25519");
	json_kv_str(j, "fingerprint_sha256", m->fingerprint);
	json_obj_close(j);
	render_inputs(j, m);
	if (m->n_rule_sets)
		render_rule_sets(j, m);
	else
		render_packs(j, m);
	render_counts(j, m);
	json_key(j, "files");
	json_arr_open(j);
	for (size_t i = 0; i < m->n_files; i++) {
		json_obj_open(j);
		render_file(j, &m->files[i]);
		json_obj_close(j);
	}
	json_arr_close(j);
	static const uint8_t zero[32];
	const uint8_t *head = m->n_files ? m->files[m->n_files - 1].head : zero;
	json_kv_hex(j, "chain_head", head, 32);
	json_kv_bool(j, "complete", m->complete);
	json_obj_close(j);
	jbuf_raw(j, "\n", 1);
}

void ev_manifest_render_seal(struct jbuf *j, const char *run_id, const char *fingerprint,
			     const struct ev_chain_file *f)
{
	json_obj_open(j);
	json_kv_str(j, "format", EV_SEAL_FORMAT);
	json_kv_str(j, "run_id", run_id);
	render_file(j, f);
	json_key(j, "key");
	json_obj_open(j);
	json_kv_str(j, "algorithm", "Ed25519");
	json_kv_str(j, "fingerprint_sha256", fingerprint);
	json_obj_close(j);
	json_obj_close(j);
	jbuf_raw(j, "\n", 1);
}

void ev_manifest_seal_name(const char *file_name, char *out, size_t cap)
{
	const char *dot = strrchr(file_name, '.');
	int stem = dot ? (int)(dot - file_name) : (int)strlen(file_name);
	snprintf(out, cap, "%.*s.seal.json", stem, file_name);
}

enum cs_err ev_manifest_put_file(int dir_fd, const char *name, const void *buf, size_t len,
				 mode_t mode, struct cs_diag *d)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		int e = errno;
		cs_diag_set(d, name, CS_DIAG_NONE, CS_DIAG_NONE, "cannot create: %s", strerror(e));
		return e == EEXIST ? CS_ERR_EXISTS : CS_ERR_IO;
	}
	const char *p = buf;
	size_t done = 0;
	int e = 0;
	while (done < len && !e) {
		ssize_t n = write(fd, p + done, len - done);
		if (n > 0)
			done += (size_t)n;
		else if (!(n < 0 && errno == EINTR))
			e = n < 0 ? errno : ENOSPC;
	}
	if (!e && fsync(fd) != 0 && errno != EINVAL)
		e = errno;
	if (close(fd) != 0 && !e)
		e = errno;
	/* The new name must survive a power loss too, not only the bytes. */
	if (!e && fsync(dir_fd) != 0 && errno != EINVAL && errno != EBADF)
		e = errno;
	if (e) {
		unlinkat(dir_fd, name, 0);
		cs_diag_set(d, name, CS_DIAG_NONE, CS_DIAG_NONE, "cannot write: %s", strerror(e));
		return CS_ERR_IO;
	}
	return CS_OK;
}

enum cs_err ev_manifest_put_signed(int dir_fd, const char *name, const struct jbuf *text,
				   const struct ev_sign_key *k, struct cs_diag *d)
{
	if (text->failed)
		return CS_ERR_NOMEM;
	uint8_t sig[EV_SIGN_LEN];
	enum cs_err err = ev_sign_sign(k, text->p, text->len, sig, d);
	if (err != CS_OK)
		return err;
	char sig_name[256];
	snprintf(sig_name, sizeof(sig_name), "%s.sig", name);
	/* The signature first: a manifest is never there without one. */
	err = ev_manifest_put_file(dir_fd, sig_name, sig, sizeof(sig), 0600, d);
	if (err == CS_OK)
		err = ev_manifest_put_file(dir_fd, name, text->p, text->len, 0600, d);
	return err;
}
