/* PPPoE session frames (RFC 2516) and the PPP protocol field under them (also
 * reached from enhanced GRE, PPTP). Discovery frames are not IP. */
#include "decode/decode_int.h"

#define DECODE_PPPOE_HLEN 6

enum decode_result decode_ppp(struct decode_ctx *c, const uint8_t *d, size_t len)
{
	/* Address/control bytes, present unless compressed away (RFC 1662). */
	if (len >= 2 && d[0] == 0xff && d[1] == 0x03) {
		d += 2;
		len -= 2;
	}
	if (len < 1)
		return decode_bad(c, DECODE_EV_PPPOE_BAD);
	uint16_t proto;
	if (d[0] & 0x01) { /* protocol field compression: one byte */
		proto = d[0];
		d += 1;
		len -= 1;
	} else {
		if (len < 2)
			return decode_bad(c, DECODE_EV_PPPOE_BAD);
		proto = decode_be16(d);
		d += 2;
		len -= 2;
	}
	switch (proto) {
	case 0x0021:
		return decode_ipv4(c, d, len);
	case 0x0057:
		return decode_ipv6(c, d, len);
	case 0x0281:
		return decode_mpls(c, d, len);
	default: /* LCP, IPCP, CHAP ... */
		return decode_not_ip(c);
	}
}

enum decode_result decode_pppoe(struct decode_ctx *c, const uint8_t *d, size_t len)
{
	if (!decode_push_layer(c))
		return DECODE_BAD;
	if (len < DECODE_PPPOE_HLEN)
		return decode_bad(c, DECODE_EV_PPPOE_BAD);
	if (d[0] != 0x11 || d[1] != 0x00) /* version 1 type 1, session data code */
		return decode_bad(c, DECODE_EV_PPPOE_BAD);
	size_t plen = decode_be16(d + 4);
	size_t have = len - DECODE_PPPOE_HLEN;
	/* The length field also trims Ethernet padding; a capture cut short by
	 * the snap length simply has less. */
	if (plen < have)
		have = plen;
	return decode_ppp(c, d + DECODE_PPPOE_HLEN, have);
}
