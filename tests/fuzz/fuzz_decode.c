/* Fuzz target: packet decode (decode_packet) and IP fragment reassembly.
 * Input: one byte choosing the link type, then frames as [u16 length][bytes].
 * Fragments go to a reassembler made for this input (small caps, so eviction
 * runs too); each datagram it completes is decoded again with decode_ip. */
#include <string.h>

#include "cybersieve/decode.h"
#include "cybersieve/ip_frag.h"
#include "fuzz.h"

static const int links[] = {
	DECODE_LINK_ETHERNET, DECODE_LINK_RAW, DECODE_LINK_NULL, DECODE_LINK_LOOP,
	DECODE_LINK_SLL, DECODE_LINK_SLL2, DECODE_LINK_IPV4, DECODE_LINK_IPV6,
	DECODE_LINK_DLT_RAW, DECODE_LINK_DLT_RAW14, 9999,
};

static void check_pkt(const struct pkt *p, const uint8_t *frame, size_t len)
{
	const uint8_t *end = frame + len;
	if (p->l3) {
		FUZZ_CHECK(p->l3 >= frame && p->l3 + p->l3_len <= end);
		FUZZ_CHECK(p->l3_hlen <= p->l3_len || (p->flags & PKT_F_FRAGMENT));
	}
	if (p->payload_len) {
		FUZZ_CHECK(p->payload >= frame && p->payload + p->payload_len <= end);
	}
	FUZZ_CHECK(p->layers <= DECODE_MAX_LAYERS + 1);
	char cid[DECODE_COMMUNITY_ID_LEN];
	decode_community_id(&p->src, &p->dst, p->ip_proto, p->sport, p->dport, 0, cid,
			    sizeof cid);
	FUZZ_CHECK(memchr(cid, '\0', sizeof cid) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_cur c = { data, size };
	int link = links[fuzz_u8(&c) % (sizeof links / sizeof links[0])];
	struct ip_frag_config cfg = { .mem_cap = 16384, .timeout_ns = 1000,
				      .max_datagrams = 4 };
	struct ip_frag *fr = NULL;
	if (ip_frag_create(&cfg, &fr, NULL) != CS_OK)
		return 0;
	struct decode_stats st;
	memset(&st, 0, sizeof st);
	uint64_t now = 0;
	while (c.n > 0) {
		size_t len;
		const uint8_t *frame = fuzz_take(&c, fuzz_u16(&c), &len);
		struct pkt p;
		memset(&p, 0, sizeof p);
		enum decode_result r = decode_packet(link, frame, len, &p, &st);
		now += 100;
		if (r != DECODE_OK)
			continue;
		check_pkt(&p, frame, len);
		if (!(p.flags & PKT_F_FRAGMENT))
			continue;
		const uint8_t *dg;
		size_t dlen;
		if (ip_frag_add(fr, &p, now, &dg, &dlen) == IP_FRAG_DONE) {
			struct pkt q;
			memset(&q, 0, sizeof q);
			if (decode_ip(dg, dlen, &q, &st) == DECODE_OK)
				check_pkt(&q, dg, dlen);
		}
	}
	struct ip_frag_stats fs;
	ip_frag_get_stats(fr, &fs);
	FUZZ_CHECK(fs.mem_used <= cfg.mem_cap + 65536);
	ip_frag_destroy(fr);
	FUZZ_CHECK(st.decoded <= st.packets);
	return 0;
}
