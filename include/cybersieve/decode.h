/* Decode: packet headers from link layer to transport.
 *
 * decode_packet() reads a captured frame (bytes borrowed from the capture
 * reader, valid only during the call chain) and fills a struct pkt that points
 * into those bytes. Nothing is allocated per packet. A malformed or truncated
 * header is a counted event in struct decode_stats, never a crash.
 * Tunnels (GRE, VXLAN, IP-in-IP, 6in4, MPLS, PPPoE, stacked VLANs) are walked
 * down to the innermost IP header and its transport.
 * Owner: the caller owns both struct pkt and struct decode_stats; one thread each.
 * Fragments (IPv4 and IPv6): handed to the caller marked PKT_F_FRAGMENT with
 * payload = the fragment's data; see ip_frag.h for reassembly, then
 * decode_ip() on the reassembled datagram. */
#ifndef CYBERSIEVE_DECODE_H
#define CYBERSIEVE_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Link types: the libpcap DLT_/LINKTYPE_ numbers we accept. */
#define DECODE_LINK_NULL 0      /* BSD loopback, host byte order family */
#define DECODE_LINK_ETHERNET 1
#define DECODE_LINK_RAW 101     /* LINKTYPE_RAW: IPv4 or IPv6 by version nibble */
#define DECODE_LINK_LOOP 108    /* OpenBSD loopback, network byte order family */
#define DECODE_LINK_SLL 113     /* Linux cooked v1 */
#define DECODE_LINK_SLL2 276    /* Linux cooked v2 */
#define DECODE_LINK_IPV4 228
#define DECODE_LINK_IPV6 229
#define DECODE_LINK_DLT_RAW 12  /* DLT_RAW on some systems */
#define DECODE_LINK_DLT_RAW14 14

/* Encapsulation headers walked before giving up: each VLAN tag, MPLS label,
 * PPPoE header, IP header, GRE and VXLAN header counts as one. */
#define DECODE_MAX_LAYERS 8

#define PKT_F_FRAGMENT 0x1u     /* IPv4/IPv6 fragment: l4 not decoded */
#define PKT_F_TUNNELLED 0x2u    /* inner packet of GRE / VXLAN / IP-in-IP */
#define PKT_F_SNAPPED 0x4u      /* fewer bytes captured than the IP length says
				 * (snaplen): payload is what is present */

struct pkt_addr {
	uint8_t family;         /* 4 or 6 */
	uint8_t bytes[16];      /* IPv4 in the first 4 bytes */
};

struct pkt {
	const uint8_t *frame;   /* the whole captured frame */
	size_t frame_len;
	struct pkt_addr src, dst;
	uint8_t ip_proto;       /* 6 TCP, 17 UDP, others as in the IP header; for an
				 * IPv6 fragment, the next header after the fragment header */
	uint8_t ttl;            /* IPv4 TTL or IPv6 hop limit */
	uint8_t layers;         /* encapsulation headers walked (see DECODE_MAX_LAYERS) */
	uint16_t vlan[2];       /* outermost first; 0 = none */
	uint16_t sport, dport;  /* TCP/UDP/SCTP ports; ICMP/ICMPv6: type in sport, code in dport */
	uint8_t tcp_flags;      /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80 */
	uint16_t tcp_win;
	uint32_t tcp_seq, tcp_ack;
	const uint8_t *l3;      /* IP header (innermost) */
	size_t l3_len;          /* bytes of the IP datagram present (clipped to capture) */
	size_t l3_hlen;         /* IP header bytes before the transport header (IPv4 IHL*4,
				 * IPv6 40 + extension headers); for an IPv6 fragment the
				 * offset of the fragment header */
	uint32_t ip_len;        /* IP datagram length the header claims */
	const uint8_t *payload; /* transport payload (TCP/UDP/SCTP), clipped to the IP length;
				 * for a fragment, the fragment's data */
	size_t payload_len;
	unsigned flags;         /* PKT_F_* */
	/* fragment info when PKT_F_FRAGMENT: id, offset in bytes, more-fragments */
	uint32_t frag_id;
	uint32_t frag_off;
	bool frag_more;
	uint16_t frag_nh_off;   /* IPv6: offset in l3 of the next-header byte that names
				 * the fragment header (rewritten on reassembly) */
};

enum decode_event {
	DECODE_EV_TRUNCATED_LINK = 0,
	DECODE_EV_UNKNOWN_LINKTYPE,
	DECODE_EV_UNKNOWN_ETHERTYPE,
	DECODE_EV_TOO_MANY_LAYERS,
	DECODE_EV_IPV4_TRUNCATED,
	DECODE_EV_IPV4_BAD_HLEN,
	DECODE_EV_IPV4_BAD_LEN,
	DECODE_EV_IPV4_BAD_VERSION,
	DECODE_EV_IPV6_TRUNCATED,
	DECODE_EV_IPV6_BAD_EXTHDR,
	DECODE_EV_TCP_TRUNCATED,
	DECODE_EV_TCP_BAD_HLEN,
	DECODE_EV_UDP_TRUNCATED,
	DECODE_EV_UDP_BAD_LEN,
	DECODE_EV_GRE_BAD,
	DECODE_EV_VXLAN_BAD,
	DECODE_EV_MPLS_BAD,
	DECODE_EV_PPPOE_BAD,
	DECODE_EV_NOT_IP,          /* ARP, LLDP ...: not an error, counted */
	DECODE_EV_IPV4_BAD_OPT,    /* an option runs past the header or has length < 2 */
	DECODE_EV_IPV6_BAD_VERSION,
	DECODE_EV_ICMP_TRUNCATED,  /* ICMP/ICMPv6 shorter than type+code+checksum */
	DECODE_EV_SCTP_TRUNCATED,
	DECODE_EV_VLAN_TRUNCATED,
	DECODE_EV_COUNT
};

struct decode_stats {
	uint64_t packets;
	uint64_t decoded;          /* reached an IP header */
	uint64_t events[DECODE_EV_COUNT];
};

enum decode_result {
	DECODE_OK = 0,      /* p is filled (may be a fragment, or non-TCP/UDP) */
	DECODE_SKIP,        /* not IP (counted as DECODE_EV_NOT_IP) */
	DECODE_BAD,         /* malformed: an event was counted */
};

/* Decode one captured frame of the given link type. An unknown link type is
 * DECODE_BAD with DECODE_EV_UNKNOWN_LINKTYPE. */
enum decode_result decode_packet(int linktype, const uint8_t *frame, size_t len, struct pkt *p,
				 struct decode_stats *st);

/* Decode starting at an IPv4 or IPv6 header (by version nibble): used for a
 * datagram put back together by ip_frag. Counts st->packets like decode_packet. */
enum decode_result decode_ip(const uint8_t *ip, size_t len, struct pkt *p, struct decode_stats *st);

/* Stable lower-case name ("ipv4_bad_hlen"), "unknown" out of range. */
const char *decode_event_name(enum decode_event ev);

/* Longest Community ID string with its NUL: "1:" + 28 base64 chars + NUL. */
#define DECODE_COMMUNITY_ID_LEN 31

/* Community ID v1 of a flow: "1:<base64 sha1>" into out (cap >= DECODE_COMMUNITY_ID_LEN,
 * else out gets ""). Ports are used for TCP (6), UDP (17) and SCTP (132); for
 * ICMP (1) and ICMPv6 (58) sport is the type and dport the code, mapped as the
 * spec says; other protocols hash addresses only. Both addresses must be of one
 * family, else out gets "". */
void decode_community_id(const struct pkt_addr *src, const struct pkt_addr *dst, uint8_t proto,
			 uint16_t sport, uint16_t dport, uint16_t seed, char *out, size_t cap);

#endif
