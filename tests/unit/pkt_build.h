/* Test helper: builds frames header by header into a fixed buffer, then
 * patches the length fields once the inner layers are known. Header-only so
 * that each test program stays one file plus this. */
#ifndef CS_TEST_PKT_BUILD_H
#define CS_TEST_PKT_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct pb {
	uint8_t b[4096];
	size_t n;
};

static inline void pb_bytes(struct pb *p, const void *d, size_t n)
{
	memcpy(p->b + p->n, d, n);
	p->n += n;
}

static inline void pb_u8(struct pb *p, uint8_t v)
{
	p->b[p->n++] = v;
}

static inline void pb_u16(struct pb *p, uint16_t v)
{
	pb_u8(p, (uint8_t)(v >> 8));
	pb_u8(p, (uint8_t)v);
}

static inline void pb_u32(struct pb *p, uint32_t v)
{
	pb_u16(p, (uint16_t)(v >> 16));
	pb_u16(p, (uint16_t)v);
}

static inline void pb_zero(struct pb *p, size_t n)
{
	memset(p->b + p->n, 0, n);
	p->n += n;
}

static inline void pb_set16(struct pb *p, size_t off, uint16_t v)
{
	p->b[off] = (uint8_t)(v >> 8);
	p->b[off + 1] = (uint8_t)v;
}

/* Ethernet header with the given ethertype. */
static inline void pb_eth(struct pb *p, uint16_t type)
{
	static const uint8_t macs[12] = { 0, 1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 10 };
	pb_bytes(p, macs, 12);
	pb_u16(p, type);
}

/* IPv4 header (20 bytes) src a.b.c.d style as 32-bit values; returns its offset.
 * Total length patched by pb_ipv4_fix. */
static inline size_t pb_ipv4(struct pb *p, uint8_t proto, uint32_t src, uint32_t dst,
			     uint16_t id, uint16_t frag)
{
	size_t off = p->n;
	pb_u8(p, 0x45);
	pb_u8(p, 0);
	pb_u16(p, 0);
	pb_u16(p, id);
	pb_u16(p, frag);
	pb_u8(p, 64);
	pb_u8(p, proto);
	pb_u16(p, 0);
	pb_u32(p, src);
	pb_u32(p, dst);
	return off;
}

static inline void pb_ipv4_fix(struct pb *p, size_t off)
{
	pb_set16(p, off + 2, (uint16_t)(p->n - off));
}

/* IPv6 header; src/dst are 16 bytes each. Payload length patched by pb_ipv6_fix. */
static inline size_t pb_ipv6(struct pb *p, uint8_t nh, const uint8_t *src, const uint8_t *dst)
{
	size_t off = p->n;
	pb_u32(p, 0x60000000u);
	pb_u16(p, 0);
	pb_u8(p, nh);
	pb_u8(p, 64);
	pb_bytes(p, src, 16);
	pb_bytes(p, dst, 16);
	return off;
}

static inline void pb_ipv6_fix(struct pb *p, size_t off)
{
	pb_set16(p, off + 4, (uint16_t)(p->n - off - 40));
}

static inline void pb_tcp(struct pb *p, uint16_t sport, uint16_t dport, uint32_t seq,
			  uint8_t flags)
{
	pb_u16(p, sport);
	pb_u16(p, dport);
	pb_u32(p, seq);
	pb_u32(p, 0x01020304u);
	pb_u8(p, 0x50);
	pb_u8(p, flags);
	pb_u16(p, 8192);
	pb_u16(p, 0);
	pb_u16(p, 0);
}

/* UDP header; returns its offset, length patched by pb_udp_fix. */
static inline size_t pb_udp(struct pb *p, uint16_t sport, uint16_t dport)
{
	size_t off = p->n;
	pb_u16(p, sport);
	pb_u16(p, dport);
	pb_u16(p, 0);
	pb_u16(p, 0);
	return off;
}

static inline void pb_udp_fix(struct pb *p, size_t off)
{
	pb_set16(p, off + 4, (uint16_t)(p->n - off));
}

/* A minimal TLS ClientHello record: version, random, empty session id, one suite, null
 * compression, then the given extensions block (ext may be NULL: none). */
static inline size_t pb_tls_hello(uint8_t *out, const uint8_t *ext, size_t ext_len)
{
	uint8_t body[2048];
	size_t n = 0;

	body[n++] = 3; body[n++] = 3;
	memset(body + n, 0x5a, 32); n += 32;
	body[n++] = 0;
	body[n++] = 0; body[n++] = 2; body[n++] = 0x13; body[n++] = 0x01;
	body[n++] = 1; body[n++] = 0;
	if (ext) {
		body[n++] = (uint8_t)(ext_len >> 8); body[n++] = (uint8_t)ext_len;
		memcpy(body + n, ext, ext_len);
		n += ext_len;
	}
	size_t o = 0;
	out[o++] = 22; out[o++] = 3; out[o++] = 1;
	out[o++] = (uint8_t)((n + 4) >> 8); out[o++] = (uint8_t)(n + 4);
	out[o++] = 1; out[o++] = 0; out[o++] = (uint8_t)(n >> 8); out[o++] = (uint8_t)n;
	memcpy(out + o, body, n);
	return o + n;
}

#define PB_IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

#endif
