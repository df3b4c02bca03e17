/* Community ID v1 flow hash: SHA-1 over seed, the ordered endpoint pair,
 * protocol, a zero pad byte and (for port protocols) the ports, rendered as
 * "1:" + base64. ICMP type/code are mapped to port-like values so that a
 * request and its reply give the same id. Pure function, any thread. */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "cybersieve/decode.h"

/* The request/reply counterpart of an ICMP (v4 or v6) type, or -1 when the
 * message is one-way. */
static int community_id_icmp_peer(uint8_t proto, uint16_t type)
{
	static const uint8_t v4[][2] = { { 8, 0 }, { 13, 14 }, { 15, 16 }, { 10, 9 }, { 17, 18 } };
	static const uint8_t v6[][2] = { { 128, 129 }, { 130, 131 }, { 133, 134 },
					 { 135, 136 }, { 139, 140 }, { 144, 145 } };
	const uint8_t(*map)[2] = proto == 1 ? v4 : v6;
	size_t n = proto == 1 ? sizeof(v4) / sizeof(v4[0]) : sizeof(v6) / sizeof(v6[0]);
	for (size_t i = 0; i < n; i++) {
		if (map[i][0] == type)
			return map[i][1];
		if (map[i][1] == type)
			return map[i][0];
	}
	return -1;
}

void decode_community_id(const struct pkt_addr *src, const struct pkt_addr *dst, uint8_t proto,
			 uint16_t sport, uint16_t dport, uint16_t seed, char *out, size_t cap)
{
	if (!out || cap == 0)
		return;
	out[0] = '\0';
	if (cap < DECODE_COMMUNITY_ID_LEN || src->family != dst->family ||
	    (src->family != 4 && src->family != 6))
		return;
	size_t alen = src->family == 4 ? 4 : 16;
	bool ports = proto == 6 || proto == 17 || proto == 132 || proto == 1 || proto == 58;
	bool one_way = false;
	if (proto == 1 || proto == 58) {
		int peer = community_id_icmp_peer(proto, sport);
		if (peer >= 0)
			dport = (uint16_t)peer;
		else
			one_way = true; /* type and code as they are, never swapped */
	}
	int cmp = memcmp(src->bytes, dst->bytes, alen);
	bool ordered = one_way || cmp < 0 || (cmp == 0 && ports && sport < dport);
	const struct pkt_addr *a = ordered ? src : dst, *b = ordered ? dst : src;
	uint16_t pa = ordered ? sport : dport, pb = ordered ? dport : sport;

	uint8_t buf[2 + 16 + 16 + 2 + 4];
	size_t n = 0;
	buf[n++] = (uint8_t)(seed >> 8);
	buf[n++] = (uint8_t)seed;
	memcpy(buf + n, a->bytes, alen);
	n += alen;
	memcpy(buf + n, b->bytes, alen);
	n += alen;
	buf[n++] = proto;
	buf[n++] = 0;
	if (ports) {
		buf[n++] = (uint8_t)(pa >> 8);
		buf[n++] = (uint8_t)pa;
		buf[n++] = (uint8_t)(pb >> 8);
		buf[n++] = (uint8_t)pb;
	}
	unsigned char md[SHA_DIGEST_LENGTH];
	SHA1(buf, n, md);
	out[0] = '1';
	out[1] = ':';
	/* 20 bytes -> 28 base64 characters and a NUL: fits DECODE_COMMUNITY_ID_LEN. */
	EVP_EncodeBlock((unsigned char *)out + 2, md, SHA_DIGEST_LENGTH);
}
