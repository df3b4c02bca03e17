/* Packet decode entry points and the dispatch between layers (ethertype and
 * IP protocol numbers). The caller owns struct pkt and struct decode_stats;
 * nothing here keeps state between packets, so one thread per pair. */
#include <string.h>

#include "decode/decode_int.h"

/* Same order as enum decode_event. */
static const char *const decode_event_names[DECODE_EV_COUNT] = {
	"truncated_link",   "unknown_linktype", "unknown_ethertype", "too_many_layers",
	"ipv4_truncated",   "ipv4_bad_hlen",    "ipv4_bad_len",      "ipv4_bad_version",
	"ipv6_truncated",   "ipv6_bad_exthdr",  "tcp_truncated",     "tcp_bad_hlen",
	"udp_truncated",    "udp_bad_len",      "gre_bad",           "vxlan_bad",
	"mpls_bad",         "pppoe_bad",        "not_ip",            "ipv4_bad_opt",
	"ipv6_bad_version", "icmp_truncated",   "sctp_truncated",    "vlan_truncated",
};

const char *decode_event_name(enum decode_event ev)
{
	if ((unsigned)ev >= DECODE_EV_COUNT)
		return "unknown";
	return decode_event_names[ev];
}

enum decode_result decode_bad(struct decode_ctx *c, enum decode_event ev)
{
	c->st->events[ev]++;
	return DECODE_BAD;
}

enum decode_result decode_not_ip(struct decode_ctx *c)
{
	c->st->events[DECODE_EV_NOT_IP]++;
	return DECODE_SKIP;
}

bool decode_push_layer(struct decode_ctx *c)
{
	if (c->p->layers >= DECODE_MAX_LAYERS) {
		c->st->events[DECODE_EV_TOO_MANY_LAYERS]++;
		return false;
	}
	c->p->layers++;
	return true;
}

void decode_enter_ip(struct decode_ctx *c)
{
	struct pkt *p = c->p;
	if (!c->reached_ip) {
		c->st->decoded++;
		c->reached_ip = true;
		return;
	}
	p->flags |= PKT_F_TUNNELLED;
	p->sport = p->dport = 0;
	p->tcp_flags = 0;
	p->tcp_win = 0;
	p->tcp_seq = p->tcp_ack = 0;
	p->payload = NULL;
	p->payload_len = 0;
}

/* Non-IP ethertypes seen on ordinary networks: skipped without calling them unknown. */
static bool decode_known_non_ip(uint16_t type)
{
	switch (type) {
	case 0x0806: /* ARP */
	case 0x8035: /* RARP */
	case 0x8863: /* PPPoE discovery */
	case 0x88cc: /* LLDP */
	case 0x888e: /* EAPOL */
	case 0x8809: /* slow protocols (LACP) */
	case 0x88f7: /* PTP */
	case 0x88e5: /* MACsec */
	case 0x8137: /* IPX */
	case 0x9000: /* loopback test */
	case 0x0842: /* wake-on-LAN */
	case 0x88be: /* ERSPAN */
		return true;
	default:
		return type < 0x0600; /* an 802.3 length field: LLC frames */
	}
}

enum decode_result decode_ethertype(struct decode_ctx *c, uint16_t type, const uint8_t *d,
				    size_t len)
{
	switch (type) {
	case 0x0800:
		return decode_ipv4(c, d, len);
	case 0x86dd:
		return decode_ipv6(c, d, len);
	case 0x8100: /* 802.1Q */
	case 0x88a8: /* 802.1ad service tag */
	case 0x9100: /* pre-standard Q-in-Q */
	case 0x9200:
		return decode_vlan(c, d, len);
	case 0x8847: /* MPLS unicast */
	case 0x8848: /* MPLS multicast */
		return decode_mpls(c, d, len);
	case 0x8864:
		return decode_pppoe(c, d, len);
	case 0x6558: /* transparent Ethernet bridging (GRE) */
		return decode_ether(c, d, len);
	default:
		if (!decode_known_non_ip(type))
			c->st->events[DECODE_EV_UNKNOWN_ETHERTYPE]++;
		return decode_not_ip(c);
	}
}

/* Authentication header (RFC 4302): skip it and go on with what it protects. */
static enum decode_result decode_ah(struct decode_ctx *c, const uint8_t *d, size_t len)
{
	if (len < 8)
		return decode_bad(c, DECODE_EV_IPV6_BAD_EXTHDR);
	size_t hlen = ((size_t)d[1] + 2) * 4;
	if (hlen > len)
		return decode_bad(c, DECODE_EV_IPV6_BAD_EXTHDR);
	c->p->l3_hlen += hlen;
	c->l4_wire_len = c->l4_wire_len > hlen ? c->l4_wire_len - hlen : 0;
	c->p->ip_proto = d[0];
	return decode_l4(c, d[0], d + hlen, len - hlen);
}

enum decode_result decode_l4(struct decode_ctx *c, uint8_t proto, const uint8_t *d, size_t len)
{
	switch (proto) {
	case 6:
		return decode_tcp(c, d, len);
	case 17:
		return decode_udp(c, d, len);
	case 1:
	case 58:
		return decode_icmp(c, d, len);
	case 132:
		return decode_sctp(c, d, len);
	case 47:
		return decode_gre(c, d, len);
	case 4:
	case 41:
		return decode_ipip(c, proto, d, len);
	case 51:
		return decode_ah(c, d, len);
	default:
		/* ESP, OSPF, no-next-header ...: the IP layer is all we read. */
		return DECODE_OK;
	}
}

enum decode_result decode_ip_any(struct decode_ctx *c, const uint8_t *d, size_t len)
{
	if (len < 1)
		return decode_bad(c, DECODE_EV_IPV4_TRUNCATED);
	switch (d[0] >> 4) {
	case 4:
		return decode_ipv4(c, d, len);
	case 6:
		return decode_ipv6(c, d, len);
	default:
		return decode_bad(c, DECODE_EV_IPV4_BAD_VERSION);
	}
}

static void decode_begin(struct pkt *p, struct decode_ctx *c, struct decode_stats *st,
			 const uint8_t *frame, size_t len)
{
	memset(p, 0, sizeof(*p));
	p->frame = frame;
	p->frame_len = len;
	c->p = p;
	c->st = st;
	c->reached_ip = false;
	c->l4_wire_len = 0;
	st->packets++;
}

enum decode_result decode_packet(int linktype, const uint8_t *frame, size_t len, struct pkt *p,
				 struct decode_stats *st)
{
	struct decode_ctx c;
	decode_begin(p, &c, st, frame, len);
	return decode_link(&c, linktype, frame, len);
}

enum decode_result decode_ip(const uint8_t *ip, size_t len, struct pkt *p, struct decode_stats *st)
{
	struct decode_ctx c;
	decode_begin(p, &c, st, ip, len);
	return decode_ip_any(&c, ip, len);
}
