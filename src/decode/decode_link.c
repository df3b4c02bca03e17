/* Link layers: Ethernet, Linux cooked (SLL v1 and v2), BSD null/loop, raw IP.
 * Each finds the network protocol of the frame and hands the rest on. */
#include "decode/decode_int.h"

#define DECODE_ETH_HLEN 14
#define DECODE_SLL_HLEN 16
#define DECODE_SLL2_HLEN 20

enum decode_result decode_ether(struct decode_ctx *c, const uint8_t *d, size_t len)
{
	if (len < DECODE_ETH_HLEN)
		return decode_bad(c, DECODE_EV_TRUNCATED_LINK);
	return decode_ethertype(c, decode_be16(d + 12), d + DECODE_ETH_HLEN, len - DECODE_ETH_HLEN);
}

/* Address families as the capturing host wrote them: AF_INET is 2 everywhere,
 * AF_INET6 differs (Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30). */
static enum decode_result decode_family(struct decode_ctx *c, uint32_t fam, const uint8_t *d,
					size_t len)
{
	switch (fam) {
	case 2:
		return decode_ipv4(c, d, len);
	case 10:
	case 24:
	case 28:
	case 30:
		return decode_ipv6(c, d, len);
	default:
		return decode_not_ip(c);
	}
}

static enum decode_result decode_null(struct decode_ctx *c, const uint8_t *d, size_t len,
				      bool network_order)
{
	if (len < 4)
		return decode_bad(c, DECODE_EV_TRUNCATED_LINK);
	uint32_t be = decode_be32(d);
	uint32_t le = (uint32_t)d[3] << 24 | (uint32_t)d[2] << 16 | (uint32_t)d[1] << 8 | d[0];
	/* DLT_NULL is in the byte order of the host that wrote it, which the file
	 * does not say; family values are small, so the order that gives one wins. */
	uint32_t fam = network_order || be < 0x10000 ? be : le;
	return decode_family(c, fam, d + 4, len - 4);
}

enum decode_result decode_link(struct decode_ctx *c, int linktype, const uint8_t *d, size_t len)
{
	switch (linktype) {
	case DECODE_LINK_ETHERNET:
		return decode_ether(c, d, len);
	case DECODE_LINK_SLL:
		if (len < DECODE_SLL_HLEN)
			return decode_bad(c, DECODE_EV_TRUNCATED_LINK);
		return decode_ethertype(c, decode_be16(d + 14), d + DECODE_SLL_HLEN,
					len - DECODE_SLL_HLEN);
	case DECODE_LINK_SLL2:
		if (len < DECODE_SLL2_HLEN)
			return decode_bad(c, DECODE_EV_TRUNCATED_LINK);
		return decode_ethertype(c, decode_be16(d), d + DECODE_SLL2_HLEN,
					len - DECODE_SLL2_HLEN);
	case DECODE_LINK_NULL:
		return decode_null(c, d, len, false);
	case DECODE_LINK_LOOP:
		return decode_null(c, d, len, true);
	case DECODE_LINK_RAW:
	case DECODE_LINK_DLT_RAW:
	case DECODE_LINK_DLT_RAW14:
		if (len < 1)
			return decode_bad(c, DECODE_EV_TRUNCATED_LINK);
		return decode_ip_any(c, d, len);
	case DECODE_LINK_IPV4:
		return decode_ipv4(c, d, len);
	case DECODE_LINK_IPV6:
		return decode_ipv6(c, d, len);
	default:
		return decode_bad(c, DECODE_EV_UNKNOWN_LINKTYPE);
	}
}
