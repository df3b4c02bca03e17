/* Packet pipeline, records: a worker renders each match into its own store
 * (files) or straight to the writer under the run's lock (live). Held records
 * carry no number yet; at the end of a file they are ordered by packet number
 * (then by their order within the worker: one flow is one worker's), numbered,
 * given the capture's SHA-256 and written, so the output does not depend on
 * the number of threads. Records of flow rules are held and written in the
 * same way, keyed by the last packet of their parts. Records that are not
 * matches (a rule switch) are rendered by their caller and written in the
 * same way as live records. Held bodies past the worker's memory share go
 * to an unlinked file in the evidence folder and are read back in order. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cybersieve/pack.h"
#include "cybersieve/util.h"
#include "pipeline/packet_int.h"

#define PK_WRITE_BLOCK ((size_t)1 << 20)

void pk_out_fini(struct pk_out *o)
{
	free(o->v);
	jbuf_fini(&o->bytes);
	if (o->spill_fd >= 0)
		close(o->spill_fd);
	memset(o, 0, sizeof(*o));
	o->spill_fd = -1;
}

/* Room for one more held record: memory and file together under the cap,
 * and memory under its limit when there is no file. */
static bool out_room(const struct pk_out *o)
{
	return o->spilled + o->bytes.len < o->cap_bytes &&
	       (!o->spill_failed || o->bytes.len < o->mem_cap_max);
}

/* Past the memory share, the bodies go to the spill file. Where it cannot
 * be made or written they stay in memory (out_room then bounds them). No
 * share set (a worker made outside a run): all in memory, under cap_bytes. */
static void out_spill(struct pk_out *o)
{
	if (!o->mem_cap || o->bytes.len < o->mem_cap || o->spill_failed)
		return;
	if (o->spill_fd < 0 && o->spill_dir)
		o->spill_fd = open(o->spill_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (o->spill_fd < 0 || !util_write_all(o->spill_fd, o->bytes.p, o->bytes.len)) {
		/* A short write leaves bytes past `spilled` that nothing points at. */
		o->spill_failed = true;
		return;
	}
	o->spilled += o->bytes.len;
	jbuf_reset(&o->bytes);
}

static void fill_record(struct pk_worker *w, struct pk_flow *pf, const struct pk_match *mt,
			struct ev_packet_record *r)
{
	const struct pk_run *run = w->run;
	pk_flow_texts(pf);
	*r = (struct ev_packet_record){
		.run_id = run->o->run_id, .detected = run->detected,
		.mi = matcher_get(w->m, mt->ind), .live = run->o->live,
		.source = run->o->source_label, .pkt_first = mt->pkt_first,
		.pkt_last = mt->pkt_last, .ts_first = mt->ts_first, .ts_last = mt->ts_last,
		.src_ip = pf->client, .dest_ip = pf->server, .src_port = pf->cport,
		.dest_port = pf->sport, .proto = pf->proto, .community_id = pf->cid,
		.to_client = mt->dir == FLOW_DIR_S2C, .field = mt->field, .text = mt->text,
		.text_len = mt->text_len, .length = mt->length, .before = mt->before,
		.before_len = mt->before_len, .after = mt->after, .after_len = mt->after_len,
		.has_offset = mt->has_offset, .offset = mt->offset, .has_body = mt->has_body,
		.body_length = mt->body_length, .content_encoding = mt->content_encoding,
		.body_as_sent = mt->body_as_sent, .pseudo = run->o->pseudo};
	if (run->o->live)
		clock_gettime(CLOCK_REALTIME, &r->detected);
}

/* What a live record is rendered from: a match or a rule's aggregate. */
struct live_rec {
	struct ev_packet_record *r;
	const struct ev_aggregate *a;
};

static bool emit_live(struct pk_worker *w, const struct live_rec *lr)
{
	struct pk_run *run = w->run;
	jbuf_reset(&w->rec);
	pthread_mutex_lock(&run->out_mu);
	uint64_t seq = ev_writer_next_seq(run->w);
	if (lr->r) {
		lr->r->seq = seq;
		ev_packet_record_render(&w->rec, lr->r);
	} else {
		ev_record_render_head(&w->rec, lr->a->run_id, seq);
		ev_aggregate_render_body(&w->rec, lr->a);
	}
	jbuf_raw(&w->rec, "\n", 1);
	struct cs_diag d;
	cs_diag_clear(&d);
	bool ok = !w->rec.failed && !atomic_load(&run->abort) &&
		  ev_writer_write_inplace(run->w, w->rec.p, w->rec.len, &d) == CS_OK;
	if (!ok && !atomic_load(&run->abort)) {
		if (w->rec.failed && !d.msg[0])
			cs_diag_set(&d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
				    "out of memory rendering a record");
		run->out_diag = d;
		atomic_store(&run->abort, true);
	}
	pthread_mutex_unlock(&run->out_mu);
	return ok;
}

static void counted(struct pk_worker *w, uint32_t ind)
{
	w->matches++;
	if (w->ind_matches)
		w->ind_matches[ind]++;
}

enum cs_err pk_emit_event(struct pk_run *run, struct jbuf *j, packet_swap_render_fn render,
			  void *ctx, const struct timespec *at, struct cs_diag *d)
{
	enum cs_err e = CS_ERR_IO;
	pthread_mutex_lock(&run->out_mu);
	if (atomic_load(&run->abort)) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "the evidence output failed earlier: record not written");
	} else {
		jbuf_reset(j);
		render(ctx, j, run->o->run_id, ev_writer_next_seq(run->w), at);
		jbuf_raw(j, "\n", 1);
		struct cs_diag wd;
		cs_diag_clear(&wd);
		if (j->failed) {
			cs_diag_set(&wd, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "out of memory rendering a record");
			e = CS_ERR_NOMEM;
		} else {
			e = ev_writer_write_inplace(run->w, j->p, j->len, &wd);
		}
		if (e != CS_OK) {
			/* A number was taken and not written: the run cannot go on. */
			run->out_diag = wd;
			atomic_store(&run->abort, true);
			if (d)
				*d = wd;
			e = CS_ERR_IO;
		}
	}
	pthread_mutex_unlock(&run->out_mu);
	return e;
}

static bool held_push(struct pk_out *o, const struct pk_held *h)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 256;
		struct pk_held *v = realloc(o->v, cap * sizeof(*v));
		if (!v)
			return false;
		o->v = v;
		o->cap = cap;
	}
	o->v[o->n++] = *h;
	return true;
}

/* Hold the record body the last render appended to o->bytes from mark. */
static bool hold(struct pk_worker *w, size_t mark, uint64_t key)
{
	struct pk_out *o = &w->out;
	struct pk_held h = {.key = key, .wseq = w->wseq++, .off = o->spilled + mark,
			    .len = (uint32_t)(o->bytes.len - mark), .worker = w->index};
	if (o->bytes.failed || !held_push(o, &h)) {
		o->bytes.failed = false;
		o->bytes.len = mark;
		o->dropped++;
		return false;
	}
	return true;
}

void pk_emit(struct pk_worker *w, struct pk_flow *pf, const struct pk_match *mt)
{
	if (pk_rules_on(w))
		pk_rules_keep(w, pf, mt);
	if (matcher_get(w->m, mt->ind)->ind->flags & IND_F_QUIET)
		return; /* a part of rules only */
	struct ev_packet_record r;
	fill_record(w, pf, mt, &r);
	if (w->run->o->live) {
		struct live_rec lr = {&r, NULL};
		if (emit_live(w, &lr))
			counted(w, mt->ind);
		return;
	}
	struct pk_out *o = &w->out;
	size_t mark = o->bytes.len;
	if (!out_room(o)) {
		o->dropped++;
		return;
	}
	ev_packet_record_render_body(&o->bytes, &r);
	if (hold(w, mark, mt->pkt_last))
		counted(w, mt->ind);
	out_spill(o);
}

void pk_emit_rule(struct pk_worker *w, const struct ev_aggregate *a, uint32_t rule, uint64_t key)
{
	bool ok;
	if (w->run->o->live) {
		struct ev_aggregate la = *a;
		clock_gettime(CLOCK_REALTIME, &la.detected);
		struct live_rec lr = {NULL, &la};
		ok = emit_live(w, &lr);
	} else {
		struct pk_out *o = &w->out;
		size_t mark = o->bytes.len;
		if (!out_room(o)) {
			o->dropped++;
			return;
		}
		ev_aggregate_render_body(&o->bytes, a);
		ok = hold(w, mark, key);
		out_spill(o);
	}
	if (ok) {
		counted(w, rule);
		w->rule_records++;
	}
}

/* The body of h from its worker's spill file into *buf. */
static enum cs_err read_back(const struct pk_out *o, const struct pk_held *h, char **buf,
			     size_t *cap, const char *label, struct cs_diag *d)
{
	if (*cap < h->len) {
		char *nb = realloc(*buf, h->len);
		if (!nb) {
			cs_diag_set(d, label, CS_DIAG_NONE, CS_DIAG_NONE,
				    "out of memory reading held records back");
			return CS_ERR_NOMEM;
		}
		*buf = nb;
		*cap = h->len;
	}
	size_t got = 0;
	while (got < h->len) {
		ssize_t k = pread(o->spill_fd, *buf + got, h->len - got, (off_t)(h->off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			cs_diag_set(d, label, CS_DIAG_NONE, CS_DIAG_NONE,
				    "cannot read held records back from their spill file: %s",
				    k < 0 ? strerror(errno) : "file shorter than written");
			return CS_ERR_IO;
		}
		got += (size_t)k;
	}
	return CS_OK;
}

static int cmp_held(const void *a, const void *b)
{
	const struct pk_held *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->worker != y->worker)
		return x->worker < y->worker ? -1 : 1;
	return x->wseq < y->wseq ? -1 : x->wseq > y->wseq;
}

/* Replace the placeholders (source.sha256, and each part's sha256 in a
 * rule's record: the only places it can stand, since a quote inside a JSON
 * string is escaped) with the digest. */
enum cs_err pk_emit_merge(struct pk_run *run, const char *sha256_hex, struct cs_diag *d)
{
	size_t total = 0;
	for (unsigned i = 0; i < run->n; i++)
		total += run->workers[i].out.n;
	if (total == 0)
		return CS_OK;
	struct pk_held *all = malloc(total * sizeof(*all));
	if (!all) {
		cs_diag_set(d, run->o->source_label, CS_DIAG_NONE, CS_DIAG_NONE,
			    "out of memory ordering %zu held records", total);
		return CS_ERR_NOMEM;
	}
	size_t k = 0;
	for (unsigned i = 0; i < run->n; i++) {
		if (run->workers[i].out.n)
			memcpy(all + k, run->workers[i].out.v, run->workers[i].out.n * sizeof(*all));
		k += run->workers[i].out.n;
	}
	qsort(all, total, sizeof(*all), cmp_held);
	struct jbuf j;
	jbuf_init(&j);
	char *back = NULL; /* a body read back from a spill file */
	size_t back_cap = 0;
	enum cs_err err = CS_OK;
	for (size_t i = 0; i < total && err == CS_OK; i++) {
		const struct pk_held *h = &all[i];
		const struct pk_out *o = &run->workers[h->worker].out;
		const char *body;
		if (h->off >= o->spilled) {
			body = o->bytes.p + (h->off - o->spilled);
		} else {
			err = read_back(o, h, &back, &back_cap, run->o->source_label, d);
			body = back; /* read_back may have moved it */
		}
		if (err != CS_OK)
			break;
		size_t start = j.len;
		ev_record_render_head(&j, run->o->run_id, ev_writer_next_seq(run->w));
		jbuf_raw(&j, body, h->len);
		jbuf_raw(&j, "\n", 1);
		if (j.failed) {
			cs_diag_set(d, run->o->source_label, CS_DIAG_NONE, CS_DIAG_NONE,
				    "out of memory writing held records");
			err = CS_ERR_NOMEM;
			break;
		}
		ev_sha256_patch(j.p + start, j.len - start, sha256_hex);
		if (j.len >= PK_WRITE_BLOCK || i + 1 == total) {
			err = ev_writer_write_inplace(run->w, j.p, j.len, d);
			jbuf_reset(&j);
		}
	}
	jbuf_fini(&j);
	free(back);
	free(all);
	return err;
}
