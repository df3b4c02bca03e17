/* Bench generators: the headers of one synthetic Ethernet/IPv4/TCP-or-UDP frame
 * with correct IP and transport checksums. Shared by gen_pcap and gen_flood. */
#ifndef CS_BENCH_PKT_CRAFT_H
#define CS_BENCH_PKT_CRAFT_H

#include <stddef.h>
#include <stdint.h>

struct endpoint {
	uint32_t ip;
	uint16_t port;
	uint32_t seq;
};

#define PKT_CRAFT_HDR_MAX (14 + 20 + 20)

/* Write the headers of a frame src -> dst carrying pl[0..n) into h; returns
 * their length. proto is 6 (TCP, with flags and ack) or 17 (UDP). */
size_t pkt_craft(uint8_t h[PKT_CRAFT_HDR_MAX], int proto, const struct endpoint *src,
		 const struct endpoint *dst, uint8_t flags, uint32_t ack, const uint8_t *pl,
		 size_t n);

#endif
