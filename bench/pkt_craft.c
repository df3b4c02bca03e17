/* Frame headers for the bench generators (pkt_craft.h). */
#include <string.h>

#include "pkt_craft.h"

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, (uint16_t)v); }

size_t pkt_craft(uint8_t h[PKT_CRAFT_HDR_MAX], int proto, const struct endpoint *src,
		 const struct endpoint *dst, uint8_t flags, uint32_t ack, const uint8_t *pl,
		 size_t n)
{
	size_t l4 = proto == 6 ? 20 : 8;
	memset(h, 0, PKT_CRAFT_HDR_MAX);
	memcpy(h, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	uint8_t *ip = h + 14, *t = ip + 20;
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + l4 + n));
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = (uint8_t)proto;
	put32(ip + 12, src->ip);
	put32(ip + 16, dst->ip);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	put16(t, src->port);
	put16(t + 2, dst->port);
	if (proto == 6) {
		put32(t + 4, src->seq);
		put32(t + 8, ack);
		t[12] = 5 << 4;
		t[13] = flags;
		put16(t + 14, 65535);
	} else {
		put16(t + 4, (uint16_t)(8 + n));
	}
	uint32_t sum = csum_add(0, ip + 12, 8) + (uint32_t)proto + (uint32_t)(l4 + n);
	sum = csum_add(sum, t, l4);
	sum = csum_add(sum, pl, n);
	put16(t + (proto == 6 ? 16 : 6), csum_fold(sum));
	return 14 + 20 + l4;
}
