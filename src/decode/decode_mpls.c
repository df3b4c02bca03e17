/* MPLS label stacks. After the bottom-of-stack label the payload is told by its
 * first nibble: 4 IPv4, 6 IPv6, 0 a pseudowire control word followed by
 * Ethernet (RFC 4385); anything else is not IP. */
#include "decode/decode_int.h"

enum decode_result decode_mpls(struct decode_ctx *c, const uint8_t *d, size_t len)
{
	for (;;) {
		if (!decode_push_layer(c))
			return DECODE_BAD;
		if (len < 4)
			return decode_bad(c, DECODE_EV_MPLS_BAD);
		bool bottom = d[2] & 0x01;
		d += 4;
		len -= 4;
		if (bottom)
			break;
	}
	if (len < 1)
		return decode_bad(c, DECODE_EV_MPLS_BAD);
	switch (d[0] >> 4) {
	case 4:
		return decode_ipv4(c, d, len);
	case 6:
		return decode_ipv6(c, d, len);
	case 0:
		if (len < 4)
			return decode_bad(c, DECODE_EV_MPLS_BAD);
		return decode_ether(c, d + 4, len - 4);
	default:
		return decode_not_ip(c);
	}
}
