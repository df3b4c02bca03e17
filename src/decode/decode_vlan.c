/* 802.1Q VLAN tags and 802.1ad / Q-in-Q service tags, stacked to any depth up
 * to the layer limit. The first two VLAN ids seen are kept, outermost first. */
#include "decode/decode_int.h"

enum decode_result decode_vlan(struct decode_ctx *c, const uint8_t *d, size_t len)
{
	if (!decode_push_layer(c))
		return DECODE_BAD;
	if (len < 4)
		return decode_bad(c, DECODE_EV_VLAN_TRUNCATED);
	uint16_t vid = decode_be16(d) & 0x0fff;
	struct pkt *p = c->p;
	if (!p->vlan[0])
		p->vlan[0] = vid;
	else if (!p->vlan[1])
		p->vlan[1] = vid;
	return decode_ethertype(c, decode_be16(d + 2), d + 4, len - 4);
}
