/* IPv4 (RFC 791): header checks, options walked for well-formedness,
 * fragments flagged for ip_frag, total length clipped to what was captured
 * (a short snap length is normal; only headers cut short are malformed). */
#include <string.h>

#include "decode/decode_int.h"

#define DECODE_IPV4_MIN_HLEN 20

/* Options are type-length-value, except end-of-list (0) and no-op (1). */
static bool decode_ipv4_options_ok(const uint8_t *o, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint8_t type = o[i];
		if (type == 0)
			return true;
		if (type == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || o[i + 1] < 2 || o[i + 1] > len - i)
			return false;
		i += o[i + 1];
	}
	return true;
}

enum decode_result decode_ipv4(struct decode_ctx *c, const uint8_t *d, size_t len)
{
	if (!decode_push_layer(c))
		return DECODE_BAD;
	if (len < DECODE_IPV4_MIN_HLEN)
		return decode_bad(c, DECODE_EV_IPV4_TRUNCATED);
	if (d[0] >> 4 != 4)
		return decode_bad(c, DECODE_EV_IPV4_BAD_VERSION);
	size_t hlen = (size_t)(d[0] & 0x0f) * 4;
	size_t tot = decode_be16(d + 2);
	if (hlen < DECODE_IPV4_MIN_HLEN)
		return decode_bad(c, DECODE_EV_IPV4_BAD_HLEN);
	if (tot < hlen)
		return decode_bad(c, DECODE_EV_IPV4_BAD_LEN);
	if (hlen > len)
		return decode_bad(c, DECODE_EV_IPV4_TRUNCATED);
	if (!decode_ipv4_options_ok(d + DECODE_IPV4_MIN_HLEN, hlen - DECODE_IPV4_MIN_HLEN))
		return decode_bad(c, DECODE_EV_IPV4_BAD_OPT);

	struct pkt *p = c->p;
	decode_enter_ip(c);

	size_t have = len;
	if (tot < have)
		have = tot; /* link-layer padding is not part of the datagram */
	else if (tot > have)
		p->flags |= PKT_F_SNAPPED;
	p->src.family = 4;
	p->dst.family = 4;
	memset(p->src.bytes, 0, sizeof(p->src.bytes));
	memset(p->dst.bytes, 0, sizeof(p->dst.bytes));
	memcpy(p->src.bytes, d + 12, 4);
	memcpy(p->dst.bytes, d + 16, 4);
	p->ip_proto = d[9];
	p->ttl = d[8];
	p->l3 = d;
	p->l3_len = have;
	p->l3_hlen = hlen;
	p->ip_len = (uint32_t)tot;
	c->l4_wire_len = tot - hlen;

	uint16_t frag = decode_be16(d + 6);
	if (frag & 0x3fff) { /* more-fragments or a non-zero offset */
		p->flags |= PKT_F_FRAGMENT;
		p->frag_id = decode_be16(d + 4);
		p->frag_off = (uint32_t)(frag & 0x1fff) * 8;
		p->frag_more = frag & 0x2000;
		p->payload = d + hlen;
		p->payload_len = have - hlen;
		return DECODE_OK;
	}
	return decode_l4(c, d[9], d + hlen, have - hlen);
}
