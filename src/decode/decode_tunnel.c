/* Tunnels: GRE (RFC 2784/2890, and the enhanced GRE of PPTP, RFC 2637) with
 * IPv4, IPv6, Ethernet (TEB), MPLS or PPP inside; VXLAN (RFC 7348); IP-in-IP
 * and IPv6-in-IPv4. The inner IP header replaces the outer in struct pkt and
 * PKT_F_TUNNELLED is set. A tunnel whose payload is not IP is DECODE_SKIP. */
#include "decode/decode_int.h"

#define DECODE_GRE_C 0x8000u
#define DECODE_GRE_R 0x4000u
#define DECODE_GRE_K 0x2000u
#define DECODE_GRE_S 0x1000u
#define DECODE_GRE_A 0x0080u /* acknowledgment number present (version 1) */
#define DECODE_GRE_PPP 0x880b

static enum decode_result decode_gre_v0(struct decode_ctx *c, uint16_t flags, uint16_t proto,
					const uint8_t *d, size_t len)
{
	/* Source routing (RFC 1701) is obsolete and its SRE list unbounded. */
	if (flags & DECODE_GRE_R)
		return decode_bad(c, DECODE_EV_GRE_BAD);
	size_t hlen = 4;
	hlen += (flags & DECODE_GRE_C) ? 4 : 0;
	hlen += (flags & DECODE_GRE_K) ? 4 : 0;
	hlen += (flags & DECODE_GRE_S) ? 4 : 0;
	if (hlen > len)
		return decode_bad(c, DECODE_EV_GRE_BAD);
	if (proto == DECODE_GRE_PPP)
		return decode_ppp(c, d + hlen, len - hlen);
	return decode_ethertype(c, proto, d + hlen, len - hlen);
}

/* Enhanced GRE: PPP only, key (payload length + call id) always present. */
static enum decode_result decode_gre_v1(struct decode_ctx *c, uint16_t flags, uint16_t proto,
					const uint8_t *d, size_t len)
{
	if (proto != DECODE_GRE_PPP || !(flags & DECODE_GRE_K) ||
	    (flags & (DECODE_GRE_C | DECODE_GRE_R)))
		return decode_bad(c, DECODE_EV_GRE_BAD);
	size_t hlen = 8;
	hlen += (flags & DECODE_GRE_S) ? 4 : 0;
	hlen += (flags & DECODE_GRE_A) ? 4 : 0;
	if (hlen > len)
		return decode_bad(c, DECODE_EV_GRE_BAD);
	size_t plen = decode_be16(d + 4);
	if (plen == 0) /* acknowledgment only: the outer packet is all there is */
		return DECODE_OK;
	if (plen < len - hlen)
		len = hlen + plen;
	return decode_ppp(c, d + hlen, len - hlen);
}

enum decode_result decode_gre(struct decode_ctx *c, const uint8_t *d, size_t len)
{
	if (!decode_push_layer(c))
		return DECODE_BAD;
	if (len < 4)
		return decode_bad(c, DECODE_EV_GRE_BAD);
	uint16_t flags = decode_be16(d);
	uint16_t proto = decode_be16(d + 2);
	switch (flags & 0x7) {
	case 0:
		return decode_gre_v0(c, flags, proto, d, len);
	case 1:
		return decode_gre_v1(c, flags, proto, d, len);
	default:
		return decode_bad(c, DECODE_EV_GRE_BAD);
	}
}

enum decode_result decode_vxlan(struct decode_ctx *c, const uint8_t *d, size_t len)
{
	if (!decode_push_layer(c))
		return DECODE_BAD;
	/* 8 bytes: flags (I bit = VNI valid), reserved, 24-bit VNI, reserved. */
	if (len < 8 || !(d[0] & 0x08))
		return decode_bad(c, DECODE_EV_VXLAN_BAD);
	return decode_ether(c, d + 8, len - 8);
}

enum decode_result decode_ipip(struct decode_ctx *c, uint8_t proto, const uint8_t *d, size_t len)
{
	if (proto == 4)
		return decode_ipv4(c, d, len);
	return decode_ipv6(c, d, len);
}
