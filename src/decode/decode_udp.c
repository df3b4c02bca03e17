/* UDP header (RFC 768). The UDP length bounds the payload (trailing bytes
 * inside the IP datagram are not payload). Port 4789 carries VXLAN. */
#include "decode/decode_int.h"

#define DECODE_UDP_HLEN 8
#define DECODE_VXLAN_PORT 4789

enum decode_result decode_udp(struct decode_ctx *c, const uint8_t *d, size_t len)
{
	if (len < DECODE_UDP_HLEN)
		return decode_bad(c, DECODE_EV_UDP_TRUNCATED);
	size_t ulen = decode_be16(d + 4);
	if (ulen < DECODE_UDP_HLEN || ulen > c->l4_wire_len)
		return decode_bad(c, DECODE_EV_UDP_BAD_LEN);
	struct pkt *p = c->p;
	p->sport = decode_be16(d);
	p->dport = decode_be16(d + 2);
	size_t have = len < ulen ? len : ulen;
	p->payload = d + DECODE_UDP_HLEN;
	p->payload_len = have - DECODE_UDP_HLEN;
	if (p->dport == DECODE_VXLAN_PORT)
		return decode_vxlan(c, p->payload, p->payload_len);
	return DECODE_OK;
}
