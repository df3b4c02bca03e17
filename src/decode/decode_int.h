/* Private to src/decode: the walk state passed between layer decoders, and the
 * entry point of each layer. Every decoder takes the bytes of its own header
 * onward (already clipped to what the enclosing layer says is present) and
 * either hands the rest to the next layer or returns a result. */
#ifndef CYBERSIEVE_DECODE_INT_H
#define CYBERSIEVE_DECODE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/decode.h"

struct decode_ctx {
	struct pkt *p;
	struct decode_stats *st;
	bool reached_ip;
	size_t l4_wire_len;     /* transport bytes the innermost IP header claims */
};

static inline uint16_t decode_be16(const uint8_t *b)
{
	return (uint16_t)((uint16_t)b[0] << 8 | b[1]);
}

static inline uint32_t decode_be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Count ev and return DECODE_BAD. */
enum decode_result decode_bad(struct decode_ctx *c, enum decode_event ev);
/* Count DECODE_EV_NOT_IP and return DECODE_SKIP. */
enum decode_result decode_not_ip(struct decode_ctx *c);
/* One more encapsulation header: false (and counted) past DECODE_MAX_LAYERS. */
bool decode_push_layer(struct decode_ctx *c);
/* An IP header passed its checks: count the packet as decoded the first time,
 * mark an inner one as tunnelled and forget the outer transport fields. */
void decode_enter_ip(struct decode_ctx *c);

enum decode_result decode_link(struct decode_ctx *c, int linktype, const uint8_t *d, size_t len);
enum decode_result decode_ether(struct decode_ctx *c, const uint8_t *d, size_t len);
enum decode_result decode_ethertype(struct decode_ctx *c, uint16_t type, const uint8_t *d,
				    size_t len);
enum decode_result decode_vlan(struct decode_ctx *c, const uint8_t *d, size_t len);
enum decode_result decode_mpls(struct decode_ctx *c, const uint8_t *d, size_t len);
enum decode_result decode_pppoe(struct decode_ctx *c, const uint8_t *d, size_t len);
enum decode_result decode_ppp(struct decode_ctx *c, const uint8_t *d, size_t len);
enum decode_result decode_ip_any(struct decode_ctx *c, const uint8_t *d, size_t len);
enum decode_result decode_ipv4(struct decode_ctx *c, const uint8_t *d, size_t len);
enum decode_result decode_ipv6(struct decode_ctx *c, const uint8_t *d, size_t len);
/* Transport (or tunnel) after an IP header; len is what is present. */
enum decode_result decode_l4(struct decode_ctx *c, uint8_t proto, const uint8_t *d, size_t len);
enum decode_result decode_tcp(struct decode_ctx *c, const uint8_t *d, size_t len);
enum decode_result decode_udp(struct decode_ctx *c, const uint8_t *d, size_t len);
enum decode_result decode_icmp(struct decode_ctx *c, const uint8_t *d, size_t len);
enum decode_result decode_sctp(struct decode_ctx *c, const uint8_t *d, size_t len);
enum decode_result decode_gre(struct decode_ctx *c, const uint8_t *d, size_t len);
enum decode_result decode_vxlan(struct decode_ctx *c, const uint8_t *d, size_t len);
/* IP-in-IP / 6in4: proto 4 or 41 after an outer IP header. */
enum decode_result decode_ipip(struct decode_ctx *c, uint8_t proto, const uint8_t *d, size_t len);

#endif
