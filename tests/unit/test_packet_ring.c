/* The reader-to-worker packet ring: a reading thread pushes packets of
 * many sizes through a ring far smaller than them all together, so it
 * wraps and fills again and again, while the worker checks every packet's
 * number, length and bytes in order; once with a worker that keeps up, once
 * with one that pauses (the reader then waits for room), once with packets
 * so few that the worker is never woken before the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "pipeline/packet_int.h"

#define RING_BYTES (64u << 10)
#define MAX_FRAME 9000u

struct run {
	struct pk_ring ring;
	unsigned packets;
	bool slow;       /* the worker pauses now and then */
	unsigned got, bad;
};

/* Packet i: its length and its k-th byte, from i alone. */
static uint32_t len_of(unsigned i)
{
	return i % 97 == 0 ? MAX_FRAME : 1 + (i * 2654435761u) % 1600u;
}

static uint8_t byte_of(unsigned i, uint32_t k)
{
	return (uint8_t)(i * 31u + k * 7u);
}

static void *reader(void *arg)
{
	struct run *r = arg;
	static uint8_t frame[MAX_FRAME];
	for (unsigned i = 0; i < r->packets; i++) {
		uint32_t n = len_of(i);
		for (uint32_t k = 0; k < n; k++)
			frame[k] = byte_of(i, k);
		pk_ring_push(&r->ring, frame, n, 1, i, 1000u + i);
	}
	pk_ring_close(&r->ring);
	return NULL;
}

static void run_ring(unsigned packets, bool slow)
{
	struct run r = {.packets = packets, .slow = slow};
	assert_int_equal(pk_ring_init(&r.ring, RING_BYTES), CS_OK);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, reader, &r), 0);
	for (;;) {
		bool idle;
		const struct pk_ent *e = pk_ring_peek(&r.ring, 50, &idle);
		if (!e) {
			if (!idle)
				break; /* closed and drained */
			continue;
		}
		const uint8_t *p = (const uint8_t *)(e + 1);
		unsigned i = r.got;
		bool ok = e->number == i && e->ts_ns == 1000u + i && e->linktype == 1 &&
			  e->caplen == len_of(i);
		for (uint32_t k = 0; ok && k < e->caplen; k++)
			ok = p[k] == byte_of(i, k);
		r.bad += !ok;
		r.got++;
		pk_ring_pop(&r.ring, e);
		if (slow && r.got % 500 == 0) {
			struct timespec ts = {0, 2000000}; /* 2 ms: the ring fills meanwhile */
			nanosleep(&ts, NULL);
		}
	}
	pthread_join(th, NULL);
	assert_int_equal(r.bad, 0);
	assert_int_equal(r.got, packets);
	pk_ring_fini(&r.ring);
}

static void test_keeping_up(void **state)
{
	(void)state;
	run_ring(200000, false);
}

static void test_worker_pauses(void **state)
{
	(void)state;
	run_ring(20000, true);
}

static void test_few_packets(void **state)
{
	(void)state;
	run_ring(3, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keeping_up),
		cmocka_unit_test(test_worker_pauses),
		cmocka_unit_test(test_few_packets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
