/* Unit tests for TCP stream ordering: in-order zero-copy delivery, shuffled
 * segments, retransmissions, overlaps (first wins), gaps, wraparound,
 * mid-stream pickup, FIN and SYN data, and the memory budget. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cybersieve/tcp_stream.h"

#define REC_CAP (1u << 20)
#define GAP_BYTE 0xEE

/* What the sink heard, laid out by stream offset (gaps filled with GAP_BYTE). */
struct rec {
	uint8_t *buf;
	size_t len;
	unsigned chunks;
	uint64_t gaps, gap_bytes;
	const uint8_t *first_ptr;
	const uint8_t *last_ptr;
	uint64_t last_pkt;
};

struct fixture {
	struct tcp_stream s;
	struct tcp_reasm r;
	struct tcp_stream_stats st;
	struct rec rec;
	struct tcp_sink k;
};

static void rec_data(void *arg, const uint8_t *data, size_t len, uint64_t off, uint64_t pkt_no,
		     uint64_t ts_ns)
{
	struct rec *r = arg;

	(void)ts_ns;
	assert_int_equal(off, r->len); /* contiguous in offset space */
	assert_true(len > 0);
	assert_true(r->len + len <= REC_CAP);
	memcpy(r->buf + r->len, data, len);
	r->len += len;
	if (r->chunks++ == 0)
		r->first_ptr = data;
	r->last_ptr = data;
	r->last_pkt = pkt_no;
}

static void rec_gap(void *arg, uint64_t bytes)
{
	struct rec *r = arg;

	assert_true(bytes > 0);
	assert_true(r->len + bytes <= REC_CAP);
	memset(r->buf + r->len, GAP_BYTE, bytes);
	r->len += bytes;
	r->gaps++;
	r->gap_bytes += bytes;
}

static struct fixture *fx_new(uint64_t mem_cap, uint32_t dir_buf_max)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->rec.buf = malloc(REC_CAP);
	assert_non_null(f->rec.buf);
	tcp_stream_init(&f->s);
	f->r.mem_cap = mem_cap;
	f->r.dir_buf_max = dir_buf_max;
	f->r.st = &f->st;
	f->k.data = rec_data;
	f->k.gap = rec_gap;
	f->k.arg = &f->rec;
	return f;
}

static void fx_free(struct fixture *f)
{
	tcp_stream_release(&f->s, &f->r);
	assert_int_equal(f->r.mem_used, 0);
	free(f->rec.buf);
	free(f);
}

static void feed(struct fixture *f, uint32_t seq, uint8_t flags, const uint8_t *data, size_t len,
		 uint64_t pkt_no)
{
	struct tcp_seg_in in = { .seq = seq, .flags = flags, .data = data, .len = len,
				 .pkt_no = pkt_no, .ts_ns = pkt_no * 1000 };

	tcp_stream_segment(&f->s, &f->r, &in, &f->k);
	assert_true(f->r.mem_used <= f->r.mem_cap);
	assert_true(f->s.buffered <= f->r.dir_buf_max);
}

static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void fill_random(uint8_t *b, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rng_next(&seed);
}

static void test_in_order_zero_copy(void **state)
{
	struct fixture *f = fx_new(1 << 20, 1 << 16);
	uint8_t data[1000];

	(void)state;
	fill_random(data, sizeof(data), 1);
	feed(f, 5000, TCP_FLAG_SYN, NULL, 0, 1);
	for (unsigned i = 0; i < 10; i++) {
		feed(f, 5001 + i * 100, TCP_FLAG_ACK, data + i * 100, 100, 2 + i);
		assert_ptr_equal(f->rec.last_ptr, data + i * 100); /* no copy */
		assert_int_equal(f->rec.last_pkt, 2 + i);
	}
	assert_int_equal(f->rec.len, 1000);
	assert_memory_equal(f->rec.buf, data, 1000);
	assert_int_equal(f->st.segs_in_order, 10);
	assert_int_equal(f->st.segs_out_of_order, 0);
	assert_int_equal(f->r.mem_used, 0);
	assert_int_equal(f->r.mem_peak, 0);
	fx_free(f);
}

/* 100 segments of varied length, delivered in a random order. */
static void shuffled_run(uint32_t isn, uint64_t seed, bool with_dups)
{
	enum { NSEG = 100 };
	struct fixture *f = fx_new(1 << 22, 1 << 20);
	uint8_t *data = malloc(NSEG * 300);
	uint32_t off[NSEG + 1], order[NSEG];
	uint64_t x = seed;

	assert_non_null(data);
	off[0] = 0;
	for (unsigned i = 0; i < NSEG; i++)
		off[i + 1] = off[i] + 1 + (uint32_t)(rng_next(&x) % 300);
	fill_random(data, off[NSEG], seed + 7);
	for (unsigned i = 0; i < NSEG; i++)
		order[i] = i;
	for (unsigned i = NSEG - 1; i > 0; i--) {
		unsigned j = (unsigned)(rng_next(&x) % (i + 1)), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	feed(f, isn, TCP_FLAG_SYN, NULL, 0, 1);
	for (unsigned i = 0; i < NSEG; i++) {
		unsigned s = order[i];
		feed(f, isn + 1 + off[s], TCP_FLAG_ACK, data + off[s], off[s + 1] - off[s], 2 + i);
		if (with_dups && i % 3 == 0) {
			unsigned d = order[i / 2];
			feed(f, isn + 1 + off[d], TCP_FLAG_ACK, data + off[d], off[d + 1] - off[d], 2 + i);
		}
	}
	assert_int_equal(f->rec.len, off[NSEG]);
	assert_memory_equal(f->rec.buf, data, off[NSEG]);
	assert_int_equal(f->rec.gaps, 0);
	assert_int_equal(f->st.overlaps_conflicting, 0);
	assert_int_equal(f->st.segs_in_order + f->st.segs_out_of_order, NSEG);
	assert_true(f->st.segs_out_of_order > 0);
	assert_int_equal(f->s.buffered, 0);
	assert_int_equal(f->r.mem_used, 0); /* every piece freed */
	assert_true(f->r.mem_peak > 0);
	fx_free(f);
	free(data);
}

static void test_shuffled(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 20; seed++)
		shuffled_run(0x12345678u * (uint32_t)seed, seed, false);
}

static void test_shuffled_with_duplicates(void **state)
{
	(void)state;
	for (uint64_t seed = 100; seed < 110; seed++)
		shuffled_run((uint32_t)seed * 77777u, seed, true);
}

static void test_wraparound(void **state)
{
	(void)state;
	/* ISN just below 2^32: the stream's sequence numbers wrap to 0. */
	for (uint64_t seed = 1; seed <= 5; seed++)
		shuffled_run(0xFFFFF000u + (uint32_t)seed * 100, seed, false);
	shuffled_run(0xFFFFFFFFu, 42, true);
}

static void test_retransmission(void **state)
{
	struct fixture *f = fx_new(1 << 20, 1 << 16);
	const uint8_t *a = (const uint8_t *)"hello ", *b = (const uint8_t *)"world";

	(void)state;
	feed(f, 99, TCP_FLAG_SYN, NULL, 0, 1);
	feed(f, 100, TCP_FLAG_ACK, a, 6, 2);
	feed(f, 100, TCP_FLAG_ACK, a, 6, 3);                     /* full repeat */
	feed(f, 100, TCP_FLAG_ACK, (const uint8_t *)"HELLO ", 6, 4); /* differs: still dropped */
	feed(f, 106, TCP_FLAG_ACK, b, 5, 5);
	feed(f, 103, TCP_FLAG_ACK, (const uint8_t *)"lo world!", 9, 6); /* 1 new byte */
	assert_int_equal(f->rec.len, 12);
	assert_memory_equal(f->rec.buf, "hello world!", 12);
	assert_int_equal(f->st.segs_retransmitted, 2);
	assert_int_equal(f->st.segs_overlap, 1);
	assert_int_equal(f->rec.last_pkt, 6);
	fx_free(f);
}

static void test_overlap_conflict_first_wins(void **state)
{
	struct fixture *f = fx_new(1 << 20, 1 << 16);
	uint8_t as[10], bs[20];

	(void)state;
	memset(as, 'A', sizeof(as));
	memset(bs, 'B', sizeof(bs));
	feed(f, 999, TCP_FLAG_SYN, NULL, 0, 1);
	feed(f, 1010, TCP_FLAG_ACK, as, 10, 2);   /* [10,20) buffered first */
	feed(f, 1005, TCP_FLAG_ACK, bs, 20, 3);   /* [5,25): overlaps it, differs */
	assert_int_equal(f->st.segs_overlap, 1);
	assert_int_equal(f->st.overlaps_conflicting, 1);
	assert_int_equal(f->rec.len, 0);
	feed(f, 1000, TCP_FLAG_ACK, (const uint8_t *)"01234", 5, 4);
	assert_int_equal(f->rec.len, 25);
	assert_memory_equal(f->rec.buf, "01234BBBBBAAAAAAAAAABBBBB", 25);
	/* Same bytes again over buffered data: an overlap, not a conflict. */
	feed(f, 1030, TCP_FLAG_ACK, (const uint8_t *)"xyz", 3, 5);
	feed(f, 1029, TCP_FLAG_ACK, (const uint8_t *)"wxyz", 4, 6);
	assert_int_equal(f->st.segs_overlap, 2);
	assert_int_equal(f->st.overlaps_conflicting, 1);
	feed(f, 1025, TCP_FLAG_ACK, (const uint8_t *)"CCCC", 4, 7);
	assert_int_equal(f->rec.len, 33);
	assert_memory_equal(f->rec.buf + 25, "CCCCwxyz", 8);
	fx_free(f);
}

static void test_in_order_overlapping_buffered(void **state)
{
	struct fixture *f = fx_new(1 << 20, 1 << 16);

	(void)state;
	feed(f, 0, TCP_FLAG_SYN, NULL, 0, 1);
	feed(f, 5, TCP_FLAG_ACK, (const uint8_t *)"XY", 2, 2);       /* [4,6) */
	const uint8_t *in = (const uint8_t *)"abcdefgh";
	feed(f, 1, TCP_FLAG_ACK, in, 8, 3); /* [0,8) in order */
	assert_int_equal(f->rec.len, 8);
	assert_int_equal(f->rec.chunks, 3);
	assert_ptr_equal(f->rec.first_ptr, in); /* the part before the piece: no copy */
	assert_memory_equal(f->rec.buf, "abcdXYgh", 8);
	assert_int_equal(f->st.overlaps_conflicting, 1);
	fx_free(f);
}

static void test_gap_at_close(void **state)
{
	struct fixture *f = fx_new(1 << 20, 1 << 16);

	(void)state;
	feed(f, 0, TCP_FLAG_SYN, NULL, 0, 1);
	feed(f, 1, TCP_FLAG_ACK, (const uint8_t *)"0123456789", 10, 2);
	feed(f, 21, TCP_FLAG_ACK, (const uint8_t *)"klmnopqrst", 10, 3);
	feed(f, 41, TCP_FLAG_ACK, (const uint8_t *)"ABCDE", 5, 4);
	assert_int_equal(f->rec.len, 10);
	tcp_stream_flush(&f->s, &f->r, &f->k);
	assert_int_equal(f->rec.gaps, 2);
	assert_int_equal(f->rec.gap_bytes, 20);
	assert_int_equal(f->st.gaps, 2);
	assert_int_equal(f->st.gap_bytes, 20);
	assert_int_equal(f->rec.len, 45);
	assert_memory_equal(f->rec.buf + 20, "klmnopqrst", 10);
	assert_memory_equal(f->rec.buf + 40, "ABCDE", 5);
	assert_int_equal(f->rec.buf[15], GAP_BYTE);
	assert_int_equal(f->r.mem_used, 0);
	fx_free(f);
}

static void test_gap_dir_cap(void **state)
{
	/* Room for two 100-byte pieces per direction. */
	struct fixture *f = fx_new(1 << 20, 2 * (100 + TCP_STREAM_SEG_OVERHEAD));
	uint8_t data[600];

	(void)state;
	fill_random(data, sizeof(data), 9);
	feed(f, 0, TCP_FLAG_SYN, NULL, 0, 1);
	/* [0,100) lost; [100,200) and [200,300) buffered; [300,400) overflows. */
	feed(f, 101, TCP_FLAG_ACK, data + 100, 100, 2);
	feed(f, 201, TCP_FLAG_ACK, data + 200, 100, 3);
	assert_int_equal(f->rec.len, 0);
	feed(f, 301, TCP_FLAG_ACK, data + 300, 100, 4);
	assert_int_equal(f->st.dir_cap_hits, 1);
	assert_int_equal(f->rec.gaps, 1);
	assert_int_equal(f->rec.gap_bytes, 100);
	assert_int_equal(f->rec.len, 400);
	assert_memory_equal(f->rec.buf + 100, data + 100, 300);
	assert_int_equal(f->s.buffered, 0);
	/* The lost bytes arrive late: already skipped, so dropped. */
	feed(f, 1, TCP_FLAG_ACK, data, 100, 5);
	assert_int_equal(f->st.segs_retransmitted, 1);
	feed(f, 401, TCP_FLAG_ACK, data + 400, 200, 6);
	assert_int_equal(f->rec.len, 600);
	assert_memory_equal(f->rec.buf + 100, data + 100, 500);
	fx_free(f);
}

static void test_mem_budget(void **state)
{
	/* The shared budget is smaller than the direction cap; nothing frees room. */
	struct fixture *f = fx_new(300, 1 << 16);
	uint8_t data[1000];

	(void)state;
	fill_random(data, sizeof(data), 3);
	feed(f, 0, TCP_FLAG_SYN, NULL, 0, 1);
	for (unsigned i = 9; i >= 1; i--)
		feed(f, 1 + i * 100, TCP_FLAG_ACK, data + i * 100, 100, 10 - i);
	assert_true(f->st.mem_cap_hits > 0);
	assert_true(f->r.mem_peak <= 300);
	feed(f, 1, TCP_FLAG_ACK, data, 100, 20);
	tcp_stream_flush(&f->s, &f->r, &f->k);
	/* Whatever was delivered sits at its true offset. */
	for (size_t i = 0; i < f->rec.len; i++)
		if (f->rec.buf[i] != GAP_BYTE)
			assert_int_equal(f->rec.buf[i], data[i]);
	assert_int_equal(f->rec.len, 1000);
	fx_free(f);
}

static void test_pickup_mid_stream(void **state)
{
	struct fixture *f = fx_new(1 << 20, 1 << 16);

	(void)state;
	feed(f, 777000, TCP_FLAG_ACK, NULL, 0, 1); /* bare ACK: not an anchor */
	assert_false(f->s.flags & TCP_STREAM_F_KNOWN);
	feed(f, 777100, TCP_FLAG_ACK, (const uint8_t *)"GET / ", 6, 2);
	feed(f, 777112, TCP_FLAG_ACK, (const uint8_t *)"1.1\r\n", 5, 3);
	feed(f, 777106, TCP_FLAG_ACK, (const uint8_t *)"HTTP/1", 6, 4);
	feed(f, 777090, TCP_FLAG_ACK, (const uint8_t *)"earlier...", 10, 5);
	assert_int_equal(f->rec.len, 17);
	assert_memory_equal(f->rec.buf, "GET / HTTP/11.1\r\n", 17);
	assert_int_equal(f->st.segs_retransmitted, 1);
	fx_free(f);
}

static void test_fin(void **state)
{
	struct fixture *f = fx_new(1 << 20, 1 << 16);

	(void)state;
	feed(f, 10, TCP_FLAG_SYN, NULL, 0, 1);
	feed(f, 16, TCP_FLAG_ACK | TCP_FLAG_FIN, (const uint8_t *)"world", 5, 2);
	assert_false(tcp_stream_fin_done(&f->s)); /* hole before the FIN */
	feed(f, 11, TCP_FLAG_ACK, (const uint8_t *)"hello", 5, 3);
	assert_true(tcp_stream_fin_done(&f->s));
	assert_int_equal(f->rec.len, 10);
	assert_memory_equal(f->rec.buf, "helloworld", 10);
	assert_int_equal(f->s.next_seq, 22); /* FIN took one number */
	feed(f, 21, TCP_FLAG_ACK, (const uint8_t *)"junk", 4, 4);
	assert_int_equal(f->st.segs_after_fin, 1);
	assert_int_equal(f->rec.len, 10);
	fx_free(f);
}

static void test_fin_before_buffered_data(void **state)
{
	struct fixture *f = fx_new(1 << 20, 1 << 16);

	(void)state;
	feed(f, 0, TCP_FLAG_SYN, NULL, 0, 1);
	feed(f, 21, TCP_FLAG_ACK, (const uint8_t *)"beyond", 6, 2); /* [20,26) */
	feed(f, 11, TCP_FLAG_ACK | TCP_FLAG_FIN, (const uint8_t *)"fin", 3, 3); /* FIN at 13 */
	feed(f, 1, TCP_FLAG_ACK, (const uint8_t *)"0123456789", 10, 4);
	assert_true(tcp_stream_fin_done(&f->s));
	assert_int_equal(f->rec.len, 13);
	tcp_stream_flush(&f->s, &f->r, &f->k);
	assert_int_equal(f->rec.len, 13); /* nothing past the FIN */
	assert_int_equal(f->rec.gaps, 0);
	assert_int_equal(f->st.segs_after_fin, 1);
	assert_int_equal(f->r.mem_used, 0);
	fx_free(f);
}

static void test_fin_hole_at_close(void **state)
{
	struct fixture *f = fx_new(1 << 20, 1 << 16);

	(void)state;
	feed(f, 10, TCP_FLAG_SYN, NULL, 0, 1);
	feed(f, 11, TCP_FLAG_ACK, (const uint8_t *)"abc", 3, 2);
	feed(f, 20, TCP_FLAG_ACK | TCP_FLAG_FIN, NULL, 0, 3); /* bytes 3..9 never seen */
	tcp_stream_flush(&f->s, &f->r, &f->k);
	assert_int_equal(f->rec.gap_bytes, 6);
	assert_true(tcp_stream_fin_done(&f->s));
	fx_free(f);
}

static void test_syn_data(void **state)
{
	struct fixture *f = fx_new(1 << 20, 1 << 16);

	(void)state;
	feed(f, 4000000000u, TCP_FLAG_SYN, (const uint8_t *)"early", 5, 1);
	feed(f, 4000000006u, TCP_FLAG_ACK, (const uint8_t *)"-data", 5, 2);
	/* The SYN retransmitted with its data: nothing new. */
	feed(f, 4000000000u, TCP_FLAG_SYN, (const uint8_t *)"early", 5, 3);
	assert_int_equal(f->rec.len, 10);
	assert_memory_equal(f->rec.buf, "early-data", 10);
	assert_int_equal(f->st.segs_retransmitted, 1);
	fx_free(f);
}

static void test_snapped_segment(void **state)
{
	struct fixture *f = fx_new(1 << 20, 1 << 16);
	struct tcp_seg_in in = { .seq = 1, .flags = TCP_FLAG_ACK, .data = (const uint8_t *)"abcd",
				 .len = 4, .wire_len = 10, .pkt_no = 2 };

	(void)state;
	feed(f, 0, TCP_FLAG_SYN, NULL, 0, 1);
	tcp_stream_segment(&f->s, &f->r, &in, &f->k);
	assert_int_equal(f->rec.gap_bytes, 6);
	feed(f, 11, TCP_FLAG_ACK, (const uint8_t *)"next", 4, 3);
	assert_int_equal(f->rec.len, 14);
	assert_memory_equal(f->rec.buf + 10, "next", 4);
	assert_int_equal(f->s.buffered, 0);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_zero_copy),
		cmocka_unit_test(test_shuffled),
		cmocka_unit_test(test_shuffled_with_duplicates),
		cmocka_unit_test(test_wraparound),
		cmocka_unit_test(test_retransmission),
		cmocka_unit_test(test_overlap_conflict_first_wins),
		cmocka_unit_test(test_in_order_overlapping_buffered),
		cmocka_unit_test(test_gap_at_close),
		cmocka_unit_test(test_gap_dir_cap),
		cmocka_unit_test(test_mem_budget),
		cmocka_unit_test(test_pickup_mid_stream),
		cmocka_unit_test(test_fin),
		cmocka_unit_test(test_fin_before_buffered_data),
		cmocka_unit_test(test_fin_hole_at_close),
		cmocka_unit_test(test_syn_data),
		cmocka_unit_test(test_snapped_segment),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
