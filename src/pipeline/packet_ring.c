/* Reader-to-worker packet ring: one preallocated byte ring per worker, a
 * single producer (the reading thread) and a single consumer (the worker).
 * Packets are copied in once (capture bytes are borrowed until the next read),
 * so nothing is allocated per packet. Positions are free-running byte counts;
 * an entry never wraps: when it does not fit before the end, a wrap marker
 * (or a gap too short for a header) sends both sides back to the start.
 * A side that must wait sleeps on the condition variable after raising its
 * flag; the other side signals only when the flag is up and there is enough
 * to do: a sleeping worker is woken once PK_WAKE_USED bytes wait for it (or
 * the reader itself has to wait for room), a waiting reader once a quarter of
 * the ring is free. Below that, the sleeper's own timeout brings it back
 * (pk_ring_peek's wait, 20 ms for the reader). Waking the other thread for
 * every packet cost a system call each time: on a 2-vCPU VM, with two
 * workers, 15 % of all the run's samples. Each side keeps the other's
 * position as last read and reads it again only when that one says the
 * ring is full (or empty), so the two lines are not passed back and forth
 * for every packet. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/packet_int.h"

#define PK_ALIGN 8u
#define PK_HDR sizeof(struct pk_ent)
/* Bytes that wake a sleeping worker: about 170 full-size frames. */
#define PK_WAKE_USED ((uint64_t)256 << 10)

enum cs_err pk_ring_init(struct pk_ring *r, size_t cap)
{
	memset(r, 0, sizeof(*r));
	r->buf = malloc(cap);
	if (!r->buf)
		return CS_ERR_NOMEM;
	r->cap = cap;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	atomic_init(&r->done, false);
	atomic_init(&r->prod_wait, false);
	atomic_init(&r->cons_wait, false);
	pthread_mutex_init(&r->mu, NULL);
	/* Waits are measured on the monotonic clock: a tap runs for days, and a step
	 * of the wall clock must not stretch them. */
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	return CS_OK;
}

void pk_ring_fini(struct pk_ring *r)
{
	if (!r->buf)
		return;
	free(r->buf);
	r->buf = NULL;
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
}

static void wake(struct pk_ring *r, atomic_bool *flag)
{
	if (atomic_load(flag)) {
		pthread_mutex_lock(&r->mu);
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
	}
}

static void wait_ms(struct pk_ring *r, int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += (long)ms * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_cond_timedwait(&r->cv, &r->mu, &ts);
}

/* Free bytes by the tail the reader last read; read it again when they are
 * fewer than need. */
static bool has_room(struct pk_ring *r, uint64_t head, size_t need)
{
	if (r->cap - (head - r->tail_seen) >= need)
		return true;
	r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
	return r->cap - (head - r->tail_seen) >= need;
}

/* Wait until `need` bytes are free. */
static void wait_room(struct pk_ring *r, uint64_t head, size_t need)
{
	for (int spin = 0; spin < 64; spin++)
		if (has_room(r, head, need))
			return;
	wake(r, &r->cons_wait); /* a full ring is reason enough */
	pthread_mutex_lock(&r->mu);
	atomic_store(&r->prod_wait, true);
	while (!has_room(r, head, need))
		wait_ms(r, 20);
	atomic_store(&r->prod_wait, false);
	pthread_mutex_unlock(&r->mu);
}

void pk_ring_push(struct pk_ring *r, const uint8_t *data, uint32_t caplen, int32_t linktype,
		  uint64_t number, uint64_t ts_ns)
{
	size_t size = (PK_HDR + caplen + PK_ALIGN - 1) & ~(size_t)(PK_ALIGN - 1);
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed); /* ours */
	size_t pos = (size_t)(head % r->cap), rem = r->cap - pos;
	if (rem < size) {
		wait_room(r, head, rem + size);
		if (rem >= PK_HDR)
			((struct pk_ent *)(r->buf + pos))->size = 0;
		head += rem;
		pos = 0;
	} else {
		wait_room(r, head, size);
	}
	struct pk_ent *e = (struct pk_ent *)(r->buf + pos);
	*e = (struct pk_ent){.size = (uint32_t)size, .caplen = caplen, .linktype = linktype,
			     .number = number, .ts_ns = ts_ns};
	memcpy(e + 1, data, caplen);
	atomic_store_explicit(&r->head, head + size, memory_order_release);
	/* A worker asleep is woken once enough waits (one whose flag this read
	 * missed comes back by its timeout). */
	if (atomic_load(&r->cons_wait) && head + size - r->tail_seen >= PK_WAKE_USED) {
		r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (head + size - r->tail_seen >= PK_WAKE_USED)
			wake(r, &r->cons_wait);
	}
}

void pk_ring_close(struct pk_ring *r)
{
	atomic_store(&r->done, true);
	pthread_mutex_lock(&r->mu);
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* Skip wrap markers and short ends; true when an entry is ready at tail. */
static bool ready(struct pk_ring *r)
{
	for (;;) {
		uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed); /* ours */
		if (tail == r->head_seen) {
			r->head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
			if (tail == r->head_seen)
				return false;
		}
		size_t pos = (size_t)(tail % r->cap), rem = r->cap - pos;
		if (rem >= PK_HDR && ((struct pk_ent *)(r->buf + pos))->size != 0)
			return true;
		atomic_store_explicit(&r->tail, tail + rem, memory_order_release);
	}
}

const struct pk_ent *pk_ring_peek(struct pk_ring *r, int wait, bool *idle)
{
	*idle = false;
	for (int spin = 0; spin < 64; spin++)
		if (ready(r))
			goto got;
	pthread_mutex_lock(&r->mu);
	atomic_store(&r->cons_wait, true);
	while (!ready(r)) {
		if (atomic_load(&r->done) && !ready(r)) {
			*idle = false;
			atomic_store(&r->cons_wait, false);
			pthread_mutex_unlock(&r->mu);
			return NULL;
		}
		if (*idle) {
			atomic_store(&r->cons_wait, false);
			pthread_mutex_unlock(&r->mu);
			return NULL;
		}
		wait_ms(r, wait);
		*idle = !ready(r);
	}
	atomic_store(&r->cons_wait, false);
	pthread_mutex_unlock(&r->mu);
got:
	return (const struct pk_ent *)(r->buf +
				       atomic_load_explicit(&r->tail, memory_order_relaxed) % r->cap);
}

void pk_ring_pop(struct pk_ring *r, const struct pk_ent *e)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed) + e->size;
	atomic_store_explicit(&r->tail, tail, memory_order_release);
	if (atomic_load(&r->prod_wait) && r->cap - (r->head_seen - tail) >= r->cap / 4) {
		r->head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
		if (r->cap - (r->head_seen - tail) >= r->cap / 4)
			wake(r, &r->prod_wait);
	}
}
