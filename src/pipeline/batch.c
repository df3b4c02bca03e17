/* Batch scan pipeline (include/cybersieve/batch.h).
 *
 * A ring of chunk slots passes through three owners in turn: the reader (the
 * calling thread) fills a FREE slot with whole lines, a worker scans a FILLED
 * slot, the emitter writes the records of SCANNED slots strictly in sequence
 * and frees them. Slot k always carries sequence numbers = k mod ring size, so
 * each stage only waits on the one slot it needs next. One mutex guards the
 * states; chunks are megabytes, so the lock is taken a few times per chunk. */
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cybersieve/batch.h"
#include "cybersieve/ingest.h"
#include "cybersieve/util.h"
#include "pipeline/batch_int.h"

const char *input_status_name(enum input_status s)
{
	switch (s) {
	case INPUT_COMPLETE: return "complete";
	case INPUT_PARTIAL: return "partial";
	case INPUT_FAILED: return "failed";
	}
	return "unknown";
}

/* Wait until the slot for *seq (re-read after every wake-up, since other threads
 * of the same stage advance it) is in state st; NULL when the pipeline has ended. */
static struct slot *wait_slot(struct batch *b, const uint64_t *seq, enum slot_state st,
			      pthread_cond_t *cv, bool reader)
{
	for (;;) {
		struct slot *s = &b->ring[*seq % b->n_slots];
		if (s->state == st && (reader || s->seq == *seq))
			return s;
		if (!reader && b->reader_done && *seq >= b->total_seq)
			return NULL;
		pthread_cond_wait(cv, &b->mu);
	}
}

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	struct batch *b = wk->b;
	(void)pthread_setname_np(pthread_self(), "cs-scan");
	/* The reader (read, hash, inflate) is the one stage that cannot be split;
	 * when cores are short it must not wait behind the workers it feeds. */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), 5);
	pthread_mutex_lock(&b->mu);
	for (;;) {
		struct slot *s = wait_slot(b, &b->next_scan, SLOT_FILLED, &b->cv_filled, false);
		if (!s)
			break;
		b->next_scan++;
		s->state = SLOT_SCANNING;
		pthread_mutex_unlock(&b->mu);

		s->hits.n = 0;
		s->hits.dropped = 0;
		s->newlines = 0;
		s->scan_err = CS_OK;
		if (s->len > 0) {
			s->scan_err = matcher_scan_piece(b->m, wk->scratch, s->buf, s->len,
							 s->skip > 2 ? s->skip - 2 : 0, s->split,
							 &s->hits, NULL);
			/* Newlines from skip on; the scan counted up to nl_pos already
			 * (0 when it failed). */
			size_t at = s->hits.nl_pos;
			s->newlines = s->hits.nl_count + util_count_nl(s->buf + at, s->len - at) -
				      util_count_nl(s->buf, s->skip);
		}

		pthread_mutex_lock(&b->mu);
		s->state = SLOT_SCANNED;
		pthread_cond_broadcast(&b->cv_scanned);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

static void *emitter_main(void *arg)
{
	struct batch *b = arg;
	(void)pthread_setname_np(pthread_self(), "cs-emit");
	pthread_mutex_lock(&b->mu);
	for (;;) {
		struct slot *s = wait_slot(b, &b->next_emit, SLOT_SCANNED, &b->cv_scanned, false);
		if (!s)
			break;
		pthread_mutex_unlock(&b->mu);

		batch_emit_slot(b, s);
		/* A buffer grown for a long line goes back now, not when its slot
		 * is filled again, so that only one is ever held. */
		bool shrunk = s->cap > b->opts.chunk_size;
		size_t shrunk_bytes = shrunk ? s->cap : 0;
		if (shrunk) {
			free(s->buf);
			s->buf = NULL;
			s->cap = 0;
		}

		pthread_mutex_lock(&b->mu);
		b->grown -= shrunk;
		b->grown_bytes -= shrunk_bytes;
		b->next_emit++;
		s->state = SLOT_FREE;
		pthread_cond_broadcast(&b->cv_free);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

/* Reader side: the next free slot, in sequence. */
struct slot *batch_acquire(struct batch *b)
{
	pthread_mutex_lock(&b->mu);
	struct slot *s = wait_slot(b, &b->next_fill, SLOT_FREE, &b->cv_free, true);
	pthread_mutex_unlock(&b->mu);
	s->seq = b->next_fill;
	return s;
}

/* Reader side: make s hold at least `need` bytes. Past the chunk size it
 * first waits until no other slot holds a grown buffer (the emitter gives
 * each back), so long lines cost one buffer, not one per slot. */
bool batch_grow_slot(struct batch *b, struct slot *s, size_t need)
{
	if (s->cap >= need)
		return true;
	bool crosses = need > b->opts.chunk_size && s->cap <= b->opts.chunk_size;
	if (crosses) {
		pthread_mutex_lock(&b->mu);
		while (b->grown > 0 && !atomic_load(&b->abort))
			pthread_cond_wait(&b->cv_free, &b->mu);
		pthread_mutex_unlock(&b->mu);
	}
	size_t old = s->cap > b->opts.chunk_size ? s->cap : 0;
	/* Room the pattern engine may read past a full slot (matcher.h). A
	 * slot's first buffer, of the chunk size, is filled again and again:
	 * on huge pages it costs a fault per 2 MiB, not per 4 KiB. */
	uint8_t *p = !s->buf && need <= b->opts.chunk_size
			     ? util_alloc_huge(need + MATCHER_SCAN_SLACK)
			     : realloc(s->buf, need + MATCHER_SCAN_SLACK);
	if (!p)
		return false;
	s->buf = p;
	s->cap = need;
	if (need > b->opts.chunk_size) {
		pthread_mutex_lock(&b->mu);
		b->grown += crosses;
		b->grown_bytes += need - old;
		pthread_mutex_unlock(&b->mu);
		batch_note_line_mem(b);
	}
	return true;
}

/* Reader side: the bytes held for long lines now (grown slots and a grown
 * carry) count toward the run's peak. */
void batch_note_line_mem(struct batch *b)
{
	pthread_mutex_lock(&b->mu);
	size_t now = b->grown_bytes + (b->carry_cap > b->opts.chunk_size ? b->carry_cap : 0);
	if (now > b->res->long_line_peak)
		b->res->long_line_peak = now;
	pthread_mutex_unlock(&b->mu);
}

void batch_publish(struct batch *b, struct slot *s)
{
	pthread_mutex_lock(&b->mu);
	s->state = SLOT_FILLED;
	b->next_fill++;
	pthread_cond_broadcast(&b->cv_filled);
	pthread_mutex_unlock(&b->mu);
}

/* Reader side: wait until every published slot has been emitted. */
void batch_drain(struct batch *b)
{
	pthread_mutex_lock(&b->mu);
	while (b->next_emit < b->next_fill)
		pthread_cond_wait(&b->cv_free, &b->mu);
	pthread_mutex_unlock(&b->mu);
}

static void batch_finish_reading(struct batch *b)
{
	pthread_mutex_lock(&b->mu);
	b->reader_done = true;
	b->total_seq = b->next_fill;
	pthread_cond_broadcast(&b->cv_filled);
	pthread_cond_broadcast(&b->cv_scanned);
	pthread_mutex_unlock(&b->mu);
}

static void batch_free(struct batch *b)
{
	source_destroy(b->opts.first_source); /* when the reading never took it */
	b->opts.first_source = NULL;
	if (b->ring)
		for (size_t i = 0; i < b->n_slots; i++) {
			free(b->ring[i].buf);
			matcher_hits_fini(&b->ring[i].hits);
		}
	free(b->ring);
	if (b->workers)
		for (unsigned i = 0; i < b->opts.threads; i++)
			matcher_scratch_destroy(b->workers[i].scratch);
	free(b->workers);
	free(b->carry);
	ev_pending_destroy(b->pending);
	batch_rules_fini(b);
	jbuf_fini(&b->rec);
	pthread_mutex_destroy(&b->mu);
	pthread_mutex_destroy(&b->note_mu);
	pthread_cond_destroy(&b->cv_free);
	pthread_cond_destroy(&b->cv_filled);
	pthread_cond_destroy(&b->cv_scanned);
}

static enum cs_err batch_setup(struct batch *b, const struct matcher *m,
			       const struct walk_list *inputs, struct ev_writer *w,
			       const struct batch_opts *opts, struct batch_result *res)
{
	memset(b, 0, sizeof(*b));
	b->m = m;
	b->w = w;
	b->opts = *opts;
	if (b->opts.threads < 1)
		b->opts.threads = 1;
	if (b->opts.max_line < b->opts.chunk_size)
		b->opts.max_line = b->opts.chunk_size;
	b->res = res;
	b->list = inputs;
	/* The longest fixed-width match plus the two bytes after it that a
	 * boundary check reads (matcher_scan_piece). */
	b->overlap = matcher_max_fixed_len(m) + 2;
	pthread_mutex_init(&b->mu, NULL);
	pthread_mutex_init(&b->note_mu, NULL);
	pthread_cond_init(&b->cv_free, NULL);
	pthread_cond_init(&b->cv_filled, NULL);
	pthread_cond_init(&b->cv_scanned, NULL);
	b->n_slots = b->opts.threads + 4; /* the reader can run ahead while chunks wait */
	b->ring = calloc(b->n_slots, sizeof(*b->ring));
	b->workers = calloc(b->opts.threads, sizeof(*b->workers));
	res->inputs = calloc(inputs->n ? inputs->n : 1, sizeof(*res->inputs));
	res->ind_matches = calloc(matcher_count(m) ? matcher_count(m) : 1, sizeof(uint64_t));
	if (!b->ring || !b->workers || !res->inputs || !res->ind_matches)
		return CS_ERR_NOMEM;
	res->n_inputs = inputs->n;
	for (size_t i = 0; i < b->n_slots; i++)
		b->ring[i].hits.limit = 1u << 20;
	for (unsigned i = 0; i < b->opts.threads; i++) {
		b->workers[i].b = b;
		if (matcher_scratch_create(m, &b->workers[i].scratch) != CS_OK)
			return CS_ERR_NOMEM;
	}
	if (ev_pending_create(opts->spill_dir, opts->pending_cap, &b->pending) != CS_OK)
		return CS_ERR_NOMEM;
	jbuf_init(&b->rec);
	if (batch_rules_init(b) != CS_OK)
		return CS_ERR_NOMEM;
	for (size_t i = 0; i < inputs->n; i++) {
		const struct walk_entry *e = &inputs->v[i];
		res->inputs[i].path = strdup(e->path);
		if (!res->inputs[i].path)
			return CS_ERR_NOMEM;
		if (e->status == WALK_FILE)
			b->raw_total += e->size;
	}
	return CS_OK;
}

/* After an output failure, inputs whose records never reached the file must not
 * look complete: the summary and the manifest would claim evidence that is not there. */
static void mark_unwritten(struct batch_result *res)
{
	for (size_t i = 0; i < res->n_inputs; i++) {
		struct batch_input *in = &res->inputs[i];
		if (in->records_written || in->status == INPUT_FAILED)
			continue;
		bool read = in->bytes || in->raw_bytes;
		in->status = read ? INPUT_PARTIAL : INPUT_FAILED;
		free(in->reason);
		in->reason = strdup(read ? "records not written: the evidence output failed"
					 : "not read: the evidence output failed");
	}
}

enum cs_err batch_run(const struct matcher *m, const struct walk_list *inputs,
		      struct ev_writer *w, const struct batch_opts *opts, struct batch_result *res)
{
	memset(res, 0, sizeof(*res));
	struct batch b;
	double t0 = util_now_mono();
	enum cs_err err = batch_setup(&b, m, inputs, w, opts, res);
	if (err != CS_OK) {
		batch_free(&b);
		return err;
	}
	b.t0 = t0;
	pthread_t emitter, *tids = calloc(b.opts.threads, sizeof(*tids));
	if (!tids) {
		batch_free(&b);
		return CS_ERR_NOMEM;
	}
	unsigned started = 0;
	bool emitter_up = pthread_create(&emitter, NULL, emitter_main, &b) == 0;
	for (; emitter_up && started < b.opts.threads; started++)
		if (pthread_create(&tids[started], NULL, worker_main, &b.workers[started]) != 0)
			break;
	if (emitter_up && started > 0) {
		for (size_t i = 0; i < inputs->n && !atomic_load(&b.abort); i++) {
			if (b.opts.stop && *b.opts.stop) {
				struct cs_diag d;
				cs_diag_set(&d, inputs->v[i].path, CS_DIAG_NONE, CS_DIAG_NONE,
					    "not read: run interrupted");
				batch_note_stopped(&b, &res->inputs[i], INPUT_FAILED, &d);
				continue;
			}
			batch_read_input(&b, i);
		}
	} else {
		err = CS_ERR_NOMEM;
	}
	batch_finish_reading(&b);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	if (emitter_up)
		pthread_join(emitter, NULL);
	free(tids);
	if (res->output_failed)
		mark_unwritten(res);
	res->seconds = util_now_mono() - t0;
	for (int k = 0; k < COMBO_SCOPE_COUNT; k++)
		if (b.scope_on[k])
			res->rules_held_partial += b.scope[k].held_partial;
	batch_free(&b);
	return err;
}

void batch_result_fini(struct batch_result *res)
{
	for (size_t i = 0; i < res->n_inputs; i++) {
		free(res->inputs[i].path);
		free(res->inputs[i].reason);
	}
	free(res->inputs);
	free(res->ind_matches);
	memset(res, 0, sizeof(*res));
}
