/* Packet pipeline (include/cybersieve/packet.h): the reading thread decodes
 * each packet far enough to know its flow, puts IP fragments back together,
 * and hands TCP/UDP packets to a worker chosen by the symmetric flow hash
 * (inline when there is one worker). Workers are in packet_worker.c, records
 * in packet_emit.c, rule switches in packet_swap.c. The run owns the
 * workers; the caller owns the capture, the matchers and the writer. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cybersieve/ip_frag.h"
#include "cybersieve/util.h"
#include "pipeline/packet_int.h"

#define PK_HELD_CAP ((uint64_t)4 << 30)
#define PK_HELD_MEM ((size_t)64 << 20)
#define PK_HELD_MEM_NO_FILE ((size_t)256 << 20)
#define PK_HASH_SEED 0x5eedc0deu

void packet_opts_default(struct packet_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->threads = 1;
	flow_table_config_default(&o->flow);
	o->context = 64;
}

struct pk_reader {
	struct pk_run *run;
	struct capture *cap;
	struct ip_frag *frag;
	struct packet_stats *st;
	struct decode_stats dec_frag; /* reassembled datagrams: not packets of the capture */
	double last_stats;
};

static void dispatch(struct pk_reader *r, const struct pkt *p, const uint8_t *frame, size_t len,
		     int32_t linktype, uint64_t number, uint64_t ts)
{
	struct pk_run *run = r->run;
	if (p->ip_proto != 6 && p->ip_proto != 17) {
		r->st->not_tcp_udp++;
		return;
	}
	if (run->n == 1) {
		pk_worker_packet(&run->workers[0], p, number, ts);
		return;
	}
	uint32_t k = flow_hash_spread(flow_hash_symmetric(p, PK_HASH_SEED), run->n);
	if (len > PK_RING_BYTES / 4)
		return; /* cannot happen with libpcap's snap length cap; kept as a guard */
	pk_ring_push(&run->workers[k].ring, frame, (uint32_t)len, linktype, number, ts);
}

static void reader_packet(struct pk_reader *r, const struct capture_packet *cp)
{
	struct pkt p;
	if (decode_packet(cp->linktype, cp->data, cp->caplen, &p, &r->st->decode) != DECODE_OK)
		return;
	if (!(p.flags & PKT_F_FRAGMENT)) {
		dispatch(r, &p, cp->data, cp->caplen, cp->linktype, cp->number, cp->ts_ns);
		return;
	}
	const uint8_t *dg;
	size_t dl;
	if (ip_frag_add(r->frag, &p, cp->ts_ns, &dg, &dl) != IP_FRAG_DONE)
		return;
	r->st->frag_reassembled++;
	if (decode_ip(dg, dl, &p, &r->dec_frag) == DECODE_OK && !(p.flags & PKT_F_FRAGMENT))
		dispatch(r, &p, dg, dl, PK_LINK_IP, cp->number, cp->ts_ns);
}

static void live_stats(struct pk_reader *r)
{
	const struct packet_opts *o = r->run->o;
	if (!o->on_stats || o->stats_interval <= 0)
		return;
	double now = util_now_mono();
	if (now - r->last_stats < o->stats_interval)
		return;
	r->last_stats = now;
	struct capture_stats cs;
	if (capture_stats(r->cap, &cs, NULL) == CS_OK && cs.have_kernel) {
		r->st->pcap_received = cs.kernel_recv;
		r->st->pcap_dropped = cs.kernel_drop;
		r->st->pcap_if_dropped = cs.kernel_ifdrop;
	}
	uint64_t m = 0;
	for (unsigned i = 0; i < r->run->n; i++)
		m += atomic_load_explicit(&r->run->workers[i].matches, memory_order_relaxed);
	r->st->matches = m;
	o->on_stats(o->cb_ctx, r->st);
}

static void read_loop(struct pk_reader *r)
{
	const struct packet_opts *o = r->run->o;
	for (;;) {
		if (o->stop && *o->stop) {
			r->st->stopped = true;
			break;
		}
		if (atomic_load(&r->run->abort))
			break;
		struct capture_packet cp;
		enum capture_status status;
		struct cs_diag d;
		cs_diag_clear(&d);
		enum cs_err e = capture_next(r->cap, &cp, &status, &d);
		if (e != CS_OK) {
			r->st->read_error = true;
			r->st->read_diag = d;
			if (o->on_event)
				o->on_event(o->cb_ctx, &d);
			break;
		}
		if (status == CAPTURE_END)
			break;
		if (status == CAPTURE_TIMEOUT) {
			/* One worker runs on this thread: an idle link is its boundary. */
			if (r->run->n == 1)
				pk_swap_poll(&r->run->workers[0]);
			live_stats(r);
			continue;
		}
		r->st->packets++;
		r->st->bytes += cp.caplen;
		reader_packet(r, &cp);
		if (o->live && (r->st->packets & 1023) == 0)
			live_stats(r);
	}
}

/* Sum what the workers counted into st. */
static void collect(struct pk_run *run, struct packet_stats *st)
{
	for (unsigned i = 0; i < run->n; i++) {
		struct pk_worker *w = &run->workers[i];
		struct flow_stats fs;
		flow_table_stats(w->ft, &fs);
		uint64_t *a = (uint64_t *)&st->flow;
		const uint64_t *b = (const uint64_t *)&fs;
		/* struct flow_stats is all uint64_t counters: sum them field by field. */
		for (size_t k = 0; k < sizeof(fs) / sizeof(uint64_t); k++)
			a[k] += b[k];
		st->matches += w->matches;
		st->rule_records += w->rule_records;
		st->parts_dropped += w->parts_dropped;
		st->rules_held_partial += w->rules_held_partial;
		st->http_bodies_hashed += w->bodies_hashed;
		st->http_bodies_truncated += w->bodies_truncated;
		st->dns_names += w->dns_names;
		st->tls_snis += w->tls_snis;
		st->http_requests += w->http_requests;
		st->records_dropped += w->out.dropped;
		st->streams_peak += w->streams_peak;
		st->stream_errors += w->stream_errors;
		if (st->ind_matches && w->ind_matches)
			for (size_t k = 0; k < matcher_count(run->m); k++)
				st->ind_matches[k] += w->ind_matches[k];
	}
	/* Per the rules in force at the end (the same size for every worker). */
	st->stream_bytes_peak = st->streams_peak * matcher_stream_size(run->workers[0].m);
}

static enum cs_err workers_start(struct pk_run *run, struct cs_diag *d)
{
	for (unsigned i = 0; i < run->n; i++) {
		enum cs_err e = pk_worker_init(&run->workers[i], run, i, d);
		if (e != CS_OK)
			return e;
		struct pk_out *o = &run->workers[i].out;
		o->cap_bytes = (run->o->held_cap ? run->o->held_cap : PK_HELD_CAP) / run->n;
		o->mem_cap = (run->o->held_mem ? run->o->held_mem : PK_HELD_MEM) / run->n;
		o->mem_cap_max = PK_HELD_MEM_NO_FILE / run->n;
		o->spill_dir = run->o->spill_dir;
	}
	if (run->n == 1)
		return CS_OK;
	for (unsigned i = 0; i < run->n; i++) {
		if (pthread_create(&run->workers[i].th, NULL, pk_worker_main, &run->workers[i]) != 0) {
			cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "cannot start worker thread");
			return CS_ERR_NOMEM;
		}
		run->workers[i].started = true;
	}
	return CS_OK;
}

static void workers_stop(struct pk_run *run)
{
	if (run->n == 1) {
		if (run->workers[0].ft)
			pk_worker_finish(&run->workers[0]);
		return;
	}
	for (unsigned i = 0; i < run->n; i++)
		if (run->workers[i].ring.buf)
			pk_ring_close(&run->workers[i].ring);
	for (unsigned i = 0; i < run->n; i++)
		if (run->workers[i].started)
			pthread_join(run->workers[i].th, NULL);
}

static enum cs_err finish_output(struct pk_run *run, packet_sha256_fn sha_fn, void *sha_ctx,
				 struct cs_diag *d)
{
	if (atomic_load(&run->abort)) {
		if (d)
			*d = run->out_diag;
		return CS_ERR_IO;
	}
	if (run->o->live)
		return CS_OK;
	char hex[65] = { 0 };
	bool known = sha_fn && sha_fn(sha_ctx, hex);
	return pk_emit_merge(run, known ? hex : NULL, d);
}

/* What the run could not do in full, told once at its end. */
static void report_shortfalls(const struct packet_opts *o, const struct packet_stats *st)
{
	struct cs_diag ev;
	if (!o->on_event)
		return;
	if (st->records_dropped) {
		cs_diag_clear(&ev);
		cs_diag_set(&ev, o->source_label, CS_DIAG_NONE, CS_DIAG_NONE,
			    "%llu matches not recorded: held records reached their cap",
			    (unsigned long long)st->records_dropped);
		o->on_event(o->cb_ctx, &ev);
	}
	if (st->parts_dropped) {
		cs_diag_clear(&ev);
		cs_diag_set(&ev, o->source_label, CS_DIAG_NONE, CS_DIAG_NONE,
			    "%llu matches not kept for flow rules (more than %d in a flow, or "
			    "no room under the flow memory cap)",
			    (unsigned long long)st->parts_dropped, PACKET_FLOW_PARTS);
		o->on_event(o->cb_ctx, &ev);
	}
	if (st->rules_held_partial) {
		cs_diag_clear(&ev);
		cs_diag_set(&ev, o->source_label, CS_DIAG_NONE, CS_DIAG_NONE,
			    "%llu flow rules with a NOT held over flows not read whole (a gap, "
			    "parts not kept, a reload): not recorded",
			    (unsigned long long)st->rules_held_partial);
		o->on_event(o->cb_ctx, &ev);
	}
}

enum cs_err packet_run(const struct matcher *m, struct capture *cap, struct ev_writer *w,
		       const struct packet_opts *o, packet_sha256_fn sha256_hex_fn, void *sha_ctx,
		       struct packet_stats *st, struct cs_diag *d)
{
	if (!m || !cap || !w || !o || !st || o->threads < 1 ||
	    (o->swap && (!o->live || st->ind_matches || o->scratch))) {
		packet_swap_close(o ? o->swap : NULL);
		return CS_ERR_INVALID;
	}
	uint64_t *ind = st->ind_matches;
	memset(st, 0, sizeof(*st));
	st->ind_matches = ind;
	struct pk_run run = {.m = m, .o = o, .w = w, .n = o->threads,
			     .count_ind = st->ind_matches != NULL};
	clock_gettime(CLOCK_REALTIME, &run.detected);
	pthread_mutex_init(&run.out_mu, NULL);
	atomic_init(&run.abort, false);
	struct pk_reader r = {.run = &run, .cap = cap, .st = st};
	enum cs_err err = CS_ERR_NOMEM;
	run.workers = calloc(run.n, sizeof(*run.workers));
	if (!run.workers)
		goto out;
	err = ip_frag_create(NULL, &r.frag, d);
	if (err == CS_OK)
		err = workers_start(&run, d);
	if (err != CS_OK) {
		packet_swap_close(o->swap);
		workers_stop(&run);
		goto out;
	}
	if (o->swap)
		pk_swap_attach(o->swap, &run);
	read_loop(&r);
	/* No new switch from here on; one already published is taken by each
	 * worker before it flushes its flows. */
	packet_swap_close(o->swap);
	workers_stop(&run);
	if (o->swap)
		pk_swap_detach(o->swap);
	collect(&run, st);
	err = finish_output(&run, sha256_hex_fn, sha_ctx, d);
	if (err == CS_OK)
		report_shortfalls(o, st);
out:
	if (o->swap)
		pk_swap_detach(o->swap);
	if (run.workers)
		for (unsigned i = 0; i < run.n; i++)
			pk_worker_fini(&run.workers[i]);
	free(run.workers);
	ip_frag_destroy(r.frag);
	pthread_mutex_destroy(&run.out_mu);
	return err;
}
