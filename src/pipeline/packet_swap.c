/* Rule swap for a running live pipeline (include/cybersieve/packet.h). The
 * caller's thread prepares what each worker needs and publishes the switch by
 * raising a generation number; every worker compares it with its own at each
 * packet boundary (one atomic load) and switches on its own thread, and the
 * last one to switch writes the caller's record and wakes the caller. Nothing
 * here ever makes the reading thread wait. */
#include <stdlib.h>
#include <string.h>

#include "pipeline/packet_int.h"

enum cs_err packet_swap_create(struct packet_swap **out)
{
	struct packet_swap *sw = calloc(1, sizeof(*sw));
	if (!sw)
		return CS_ERR_NOMEM;
	if (pthread_mutex_init(&sw->mu, NULL) != 0) {
		free(sw);
		return CS_ERR_NOMEM;
	}
	if (pthread_cond_init(&sw->cv, NULL) != 0) {
		pthread_mutex_destroy(&sw->mu);
		free(sw);
		return CS_ERR_NOMEM;
	}
	atomic_init(&sw->gen, 0);
	atomic_init(&sw->pending, 0);
	*out = sw;
	return CS_OK;
}

static void slots_free(struct pk_swap_slot *v, unsigned n)
{
	for (unsigned i = 0; v && i < n; i++) {
		matcher_scratch_destroy(v[i].scr);
		pk_scopes_fini(&v[i].rules);
	}
	free(v);
}

void packet_swap_destroy(struct packet_swap *sw)
{
	if (!sw)
		return;
	slots_free(sw->slots, sw->n_slots);
	pthread_cond_destroy(&sw->cv);
	pthread_mutex_destroy(&sw->mu);
	free(sw);
}

void packet_swap_close(struct packet_swap *sw)
{
	if (!sw)
		return;
	pthread_mutex_lock(&sw->mu);
	sw->closed = true;
	pthread_cond_broadcast(&sw->cv);
	pthread_mutex_unlock(&sw->mu);
}

void pk_swap_attach(struct packet_swap *sw, struct pk_run *run)
{
	pthread_mutex_lock(&sw->mu);
	if (!sw->closed) {
		sw->run = run;
		sw->cur = run->m;
	}
	pthread_cond_broadcast(&sw->cv);
	pthread_mutex_unlock(&sw->mu);
}

void pk_swap_detach(struct packet_swap *sw)
{
	pthread_mutex_lock(&sw->mu);
	sw->closed = true;
	sw->run = NULL;
	pthread_cond_broadcast(&sw->cv);
	pthread_mutex_unlock(&sw->mu);
}

/* The last worker has switched: record it, then let the caller go on. */
static void swap_complete(struct packet_swap *sw, struct pk_worker *w)
{
	struct timespec at;
	struct cs_diag d;
	cs_diag_clear(&d);
	clock_gettime(CLOCK_REALTIME, &at);
	enum cs_err e = pk_emit_event(w->run, &w->rec, sw->render, sw->render_ctx, &at, &d);
	pthread_mutex_lock(&sw->mu);
	sw->at = at;
	sw->result = e;
	sw->diag = d;
	sw->old = sw->cur;
	sw->cur = sw->next;
	sw->done = true;
	pthread_cond_broadcast(&sw->cv);
	pthread_mutex_unlock(&sw->mu);
}

void pk_swap_poll(struct pk_worker *w)
{
	struct packet_swap *sw = w->run->o->swap;
	if (!sw)
		return;
	uint64_t g = atomic_load_explicit(&sw->gen, memory_order_acquire);
	if (g == w->swap_gen)
		return;
	w->swap_gen = g;
	pk_worker_switch(w, sw->next, &sw->slots[w->index]);
	if (atomic_fetch_sub_explicit(&sw->pending, 1, memory_order_acq_rel) == 1)
		swap_complete(sw, w);
}

/* One scratch and one set of rule scopes per worker for m, made here so that
 * no worker allocates or waits for the stream database while packets queue
 * up behind it. */
static enum cs_err slots_make(const struct matcher *m, const struct combo_set *cs, unsigned n,
			      struct pk_swap_slot **out, struct cs_diag *d)
{
	struct pk_swap_slot *v = calloc(n, sizeof(*v));
	if (!v)
		return CS_ERR_NOMEM;
	for (unsigned i = 0; i < n; i++) {
		enum cs_err e = matcher_scratch_create(m, &v[i].scr);
		if (e == CS_OK)
			e = matcher_stream_prepare(m, v[i].scr, d);
		if (e == CS_OK)
			e = pk_scopes_init(&v[i].rules, cs);
		if (e != CS_OK) {
			slots_free(v, n);
			return e;
		}
		v[i].stream_ok = true;
	}
	*out = v;
	return CS_OK;
}

/* Wait (sw->mu held) until a run is attached and no other call is under way;
 * false once the swap is closed. */
static bool wait_turn(struct packet_swap *sw, struct cs_diag *d)
{
	while (!sw->closed && (sw->busy || !sw->run))
		pthread_cond_wait(&sw->cv, &sw->mu);
	if (sw->closed) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "capture has stopped: the rules were not changed");
		return false;
	}
	sw->busy = true;
	return true;
}

static void release_turn(struct packet_swap *sw)
{
	sw->busy = false;
	pthread_cond_broadcast(&sw->cv);
	pthread_mutex_unlock(&sw->mu);
}

/* Publish the switch to m and wait until every worker has taken it. */
static enum cs_err publish(struct packet_swap *sw, struct matcher *m, struct pk_swap_slot *slots,
			   unsigned n, packet_swap_render_fn render, void *ctx,
			   const struct matcher **old, struct timespec *at, struct cs_diag *d)
{
	sw->next = m;
	sw->slots = slots;
	sw->n_slots = n;
	sw->render = render;
	sw->render_ctx = ctx;
	sw->done = false;
	atomic_store_explicit(&sw->pending, n, memory_order_relaxed);
	atomic_fetch_add_explicit(&sw->gen, 1, memory_order_release);
	/* Workers switch even when the run stops meanwhile (their last act
	 * before flushing), so this wait always ends. */
	while (!sw->done)
		pthread_cond_wait(&sw->cv, &sw->mu);
	*old = sw->old;
	*at = sw->at;
	if (sw->result != CS_OK && d)
		*d = sw->diag;
	slots_free(sw->slots, sw->n_slots);
	sw->slots = NULL;
	sw->n_slots = 0;
	sw->next = NULL;
	sw->render = NULL;
	return sw->result;
}

enum cs_err packet_swap_apply(struct packet_swap *sw, struct matcher *m,
			      packet_swap_render_fn render, void *ctx, const struct matcher **old,
			      struct timespec *at, struct cs_diag *d)
{
	return packet_swap_apply_rules(sw, m, NULL, render, ctx, old, at, d);
}

enum cs_err packet_swap_apply_rules(struct packet_swap *sw, struct matcher *m,
				    const struct combo_set *combos, packet_swap_render_fn render,
				    void *ctx, const struct matcher **old, struct timespec *at,
				    struct cs_diag *d)
{
	if (!sw || !render || !old || !at)
		return CS_ERR_INVALID;
	*old = NULL;
	pthread_mutex_lock(&sw->mu);
	if (!wait_turn(sw, d)) {
		pthread_mutex_unlock(&sw->mu);
		return CS_ERR_INVALID;
	}
	if (!m) {
		/* The run stays attached while mu is held: its lock and writer live. */
		struct jbuf j;
		jbuf_init(&j);
		clock_gettime(CLOCK_REALTIME, at);
		enum cs_err e = pk_emit_event(sw->run, &j, render, ctx, at, d);
		jbuf_fini(&j);
		release_turn(sw);
		return e;
	}
	unsigned n = sw->run->n;
	pthread_mutex_unlock(&sw->mu);
	struct pk_swap_slot *slots = NULL;
	enum cs_err e = slots_make(m, combos, n, &slots, d);
	pthread_mutex_lock(&sw->mu);
	if (e == CS_OK && sw->closed) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "capture has stopped: the rules were not changed");
		e = CS_ERR_INVALID;
	}
	if (e != CS_OK) {
		slots_free(slots, n);
		release_turn(sw);
		return e;
	}
	e = publish(sw, m, slots, n, render, ctx, old, at, d);
	release_turn(sw);
	return e;
}
