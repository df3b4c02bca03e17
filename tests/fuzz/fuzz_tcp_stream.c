/* Fuzz target: TCP ordering (tcp_stream) of one direction under small caps.
 * Input: records [u8 ctl][seq][u8 len][len bytes]; ctl bit 0x80 means an
 * absolute u32 sequence number follows, else a u16 offset from the first
 * sequence number (so segments overlap often); ctl bits 0x17 are the TCP
 * flags; ctl bit 0x40 asks for a flush after the segment; bit 0x08 gives the
 * segment a wire length past what was captured. The sink checks that stream
 * offsets advance exactly by the bytes and gaps delivered, and the budget is
 * checked to come back to zero. */
#include <string.h>

#include "cybersieve/tcp_stream.h"
#include "fuzz.h"

struct sink_state {
	uint64_t next;  /* offset the next byte must have */
	uint64_t gap_bytes;
};

static void on_data(void *arg, const uint8_t *data, size_t len, uint64_t offset,
		    uint64_t pkt_no, uint64_t ts_ns)
{
	struct sink_state *s = arg;
	(void)pkt_no;
	(void)ts_ns;
	FUZZ_CHECK(len > 0 && data != NULL);
	FUZZ_CHECK(offset == s->next);
	volatile uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum ^= data[i];
	(void)sum;
	s->next += len;
}

static void on_gap(void *arg, uint64_t bytes)
{
	struct sink_state *s = arg;
	FUZZ_CHECK(bytes > 0);
	s->next += bytes;
	s->gap_bytes += bytes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_cur c = { data, size };
	struct tcp_stream_stats st;
	memset(&st, 0, sizeof st);
	struct tcp_reasm r = { .mem_cap = 4096, .dir_buf_max = 2048, .st = &st };
	struct sink_state ss = { 0, 0 };
	struct tcp_sink k = { on_data, on_gap, &ss };
	struct tcp_stream s;
	tcp_stream_init(&s);
	uint32_t base = 0;
	bool have_base = false;
	uint64_t pkt_no = 0;
	while (c.n > 0) {
		uint8_t ctl = fuzz_u8(&c);
		uint32_t seq;
		if ((ctl & 0x80) || !have_base) {
			seq = fuzz_u32(&c);
			if (!have_base) {
				base = seq;
				have_base = true;
			}
		} else {
			seq = base + fuzz_u16(&c);
		}
		size_t len;
		const uint8_t *p = fuzz_take(&c, fuzz_u8(&c), &len);
		pkt_no++;
		struct tcp_seg_in in = {
			.seq = seq, .flags = (uint8_t)(ctl & 0x17), .data = p, .len = len,
			.wire_len = (ctl & 0x08) ? len + (ctl & 0x20 ? 3000 : 7) : 0,
			.pkt_no = pkt_no, .ts_ns = pkt_no * 1000,
		};
		tcp_stream_segment(&s, &r, &in, &k);
		FUZZ_CHECK(r.mem_used <= r.mem_cap);
		FUZZ_CHECK(s.buffered <= r.dir_buf_max);
		FUZZ_CHECK(s.buffered == r.mem_used);
		if (ctl & 0x40)
			tcp_stream_flush(&s, &r, &k);
	}
	tcp_stream_flush(&s, &r, &k);
	tcp_stream_release(&s, &r);
	FUZZ_CHECK(r.mem_used == 0);
	FUZZ_CHECK(st.gap_bytes == ss.gap_bytes);
	return 0;
}
