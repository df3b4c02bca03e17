/* ICMP and ICMPv6: type and code go in sport/dport (the Community ID and flow
 * keys read them there); the payload is what follows the 8-byte header. */
#include "decode/decode_int.h"

enum decode_result decode_icmp(struct decode_ctx *c, const uint8_t *d, size_t len)
{
	if (len < 4)
		return decode_bad(c, DECODE_EV_ICMP_TRUNCATED);
	struct pkt *p = c->p;
	p->sport = d[0];
	p->dport = d[1];
	size_t hlen = len < 8 ? len : 8;
	p->payload = d + hlen;
	p->payload_len = len - hlen;
	return DECODE_OK;
}
