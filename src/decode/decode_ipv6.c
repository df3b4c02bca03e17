/* IPv6 (RFC 8200): fixed header, then the extension header chain (hop-by-hop,
 * routing, destination options, fragment, AH) up to the transport. Fragments
 * are flagged for ip_frag; atomic fragments (offset 0, no more) are decoded
 * through as RFC 6946 asks. */
#include <string.h>

#include "decode/decode_int.h"

#define DECODE_IPV6_HLEN 40
#define DECODE_IPV6_MAX_EXT 16 /* more is no real traffic, only an attempt to tire us */

/* Length of the extension header at d, or 0 when proto is not one. */
static size_t decode_ipv6_ext_len(uint8_t proto, const uint8_t *d)
{
	switch (proto) {
	case 0:  /* hop-by-hop options */
	case 43: /* routing */
	case 60: /* destination options */
	case 135: /* mobility */
		return ((size_t)d[1] + 1) * 8;
	case 44: /* fragment */
		return 8;
	case 51: /* authentication header: 4-byte units, minus 2 */
		return ((size_t)d[1] + 2) * 4;
	default:
		return 0;
	}
}

static bool decode_ipv6_is_ext(uint8_t proto)
{
	return proto == 0 || proto == 43 || proto == 60 || proto == 135 || proto == 44 ||
	       proto == 51;
}

static enum decode_result decode_ipv6_fragment(struct decode_ctx *c, const uint8_t *d,
					       size_t have, size_t off, size_t nh_off)
{
	struct pkt *p = c->p;
	const uint8_t *f = d + off;
	uint16_t offlg = decode_be16(f + 2);
	p->flags |= PKT_F_FRAGMENT;
	p->ip_proto = f[0];
	p->frag_id = decode_be32(f + 4);
	p->frag_off = offlg & 0xfff8;
	p->frag_more = offlg & 0x0001;
	p->frag_nh_off = (uint16_t)nh_off;
	p->l3_hlen = off;
	p->payload = f + 8;
	p->payload_len = have - off - 8;
	return DECODE_OK;
}

static enum decode_result decode_ipv6_chain(struct decode_ctx *c, const uint8_t *d, size_t have,
					    size_t tot)
{
	struct pkt *p = c->p;
	uint8_t nh = d[6];
	size_t off = DECODE_IPV6_HLEN, nh_off = 6;
	for (unsigned n = 0; decode_ipv6_is_ext(nh); n++) {
		if (n >= DECODE_IPV6_MAX_EXT || (nh == 0 && off != DECODE_IPV6_HLEN))
			return decode_bad(c, DECODE_EV_IPV6_BAD_EXTHDR);
		if (off + 2 > tot)
			return decode_bad(c, DECODE_EV_IPV6_BAD_EXTHDR);
		if (off + 2 > have)
			return decode_bad(c, DECODE_EV_IPV6_TRUNCATED);
		size_t elen = decode_ipv6_ext_len(nh, d + off);
		if (off + elen > tot)
			return decode_bad(c, DECODE_EV_IPV6_BAD_EXTHDR);
		if (off + elen > have)
			return decode_bad(c, DECODE_EV_IPV6_TRUNCATED);
		if (nh == 44) {
			uint16_t offlg = decode_be16(d + off + 2);
			if ((offlg & 0xfff8) || (offlg & 1))
				return decode_ipv6_fragment(c, d, have, off, nh_off);
		}
		nh_off = off;
		nh = d[off];
		off += elen;
	}
	p->ip_proto = nh;
	p->l3_hlen = off;
	c->l4_wire_len = tot - off;
	return decode_l4(c, nh, d + off, have - off);
}

enum decode_result decode_ipv6(struct decode_ctx *c, const uint8_t *d, size_t len)
{
	if (!decode_push_layer(c))
		return DECODE_BAD;
	if (len < DECODE_IPV6_HLEN)
		return decode_bad(c, DECODE_EV_IPV6_TRUNCATED);
	if (d[0] >> 4 != 6)
		return decode_bad(c, DECODE_EV_IPV6_BAD_VERSION);

	struct pkt *p = c->p;
	decode_enter_ip(c);

	/* Payload length 0 with a hop-by-hop header is a jumbogram (RFC 2675):
	 * its real length is in an option; take what was captured. */
	size_t tot = DECODE_IPV6_HLEN + (size_t)decode_be16(d + 4);
	if (tot == DECODE_IPV6_HLEN && d[6] == 0)
		tot = len;
	size_t have = len;
	if (tot < have)
		have = tot;
	else if (tot > have)
		p->flags |= PKT_F_SNAPPED;
	p->src.family = 6;
	p->dst.family = 6;
	memcpy(p->src.bytes, d + 8, 16);
	memcpy(p->dst.bytes, d + 24, 16);
	p->ttl = d[7];
	p->l3 = d;
	p->l3_len = have;
	p->ip_len = (uint32_t)tot;
	return decode_ipv6_chain(c, d, have, tot);
}
