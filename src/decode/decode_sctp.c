/* SCTP common header (RFC 9260): ports; the payload is the chunk list. */
#include "decode/decode_int.h"

#define DECODE_SCTP_HLEN 12

enum decode_result decode_sctp(struct decode_ctx *c, const uint8_t *d, size_t len)
{
	if (len < DECODE_SCTP_HLEN)
		return decode_bad(c, DECODE_EV_SCTP_TRUNCATED);
	struct pkt *p = c->p;
	p->sport = decode_be16(d);
	p->dport = decode_be16(d + 2);
	p->payload = d + DECODE_SCTP_HLEN;
	p->payload_len = len - DECODE_SCTP_HLEN;
	return DECODE_OK;
}
