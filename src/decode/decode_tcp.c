/* TCP header (RFC 9293): ports, sequence numbers, flags, window; the payload
 * points into the frame and ends where the IP datagram (or the capture) ends. */
#include "decode/decode_int.h"

#define DECODE_TCP_MIN_HLEN 20

enum decode_result decode_tcp(struct decode_ctx *c, const uint8_t *d, size_t len)
{
	if (len < DECODE_TCP_MIN_HLEN)
		return decode_bad(c, DECODE_EV_TCP_TRUNCATED);
	size_t hlen = (size_t)(d[12] >> 4) * 4;
	if (hlen < DECODE_TCP_MIN_HLEN || hlen > c->l4_wire_len)
		return decode_bad(c, DECODE_EV_TCP_BAD_HLEN);
	if (hlen > len)
		return decode_bad(c, DECODE_EV_TCP_TRUNCATED);
	struct pkt *p = c->p;
	p->sport = decode_be16(d);
	p->dport = decode_be16(d + 2);
	p->tcp_seq = decode_be32(d + 4);
	p->tcp_ack = decode_be32(d + 8);
	p->tcp_flags = d[13];
	p->tcp_win = decode_be16(d + 14);
	p->payload = d + hlen;
	p->payload_len = len - hlen;
	return DECODE_OK;
}
