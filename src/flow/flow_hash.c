/* Symmetric flow keys and their hash (see cybersieve/flow.h).
 * Pure functions: no state, safe from any thread. */
#include <string.h>

#include "cybersieve/flow.h"

_Static_assert(sizeof(struct flow_key) == 40, "flow_key must have no padding");

static void flow_addr_copy(uint8_t out[16], const struct pkt_addr *a)
{
	/* IPv4 leaves bytes 4..15 to whatever the decoder had there. */
	if (a->family == 6) {
		memcpy(out, a->bytes, 16);
	} else {
		memset(out, 0, 16);
		memcpy(out, a->bytes, 4);
	}
}

unsigned flow_key_from_pkt(const struct pkt *p, bool use_vlan, struct flow_key *k)
{
	uint8_t s[16], d[16];
	/* ICMP carries type/code in the port fields; they differ between a
	 * request and its reply, so ports count only for port protocols. */
	bool ports = p->ip_proto == 6 || p->ip_proto == 17 || p->ip_proto == 132;
	uint16_t sport = ports ? p->sport : 0, dport = ports ? p->dport : 0;
	int c;

	flow_addr_copy(s, &p->src);
	flow_addr_copy(d, &p->dst);
	c = memcmp(s, d, 16);
	if (c == 0)
		c = (sport > dport) - (sport < dport);
	k->vlan = use_vlan ? (uint16_t)(p->vlan[0] & 0x0fff) : 0;
	k->proto = p->ip_proto;
	k->family = p->src.family == 6 ? 6 : 4;
	if (c <= 0) {
		memcpy(k->addr_a, s, 16);
		memcpy(k->addr_b, d, 16);
		k->port_a = sport;
		k->port_b = dport;
		return 0;
	}
	memcpy(k->addr_a, d, 16);
	memcpy(k->addr_b, s, 16);
	k->port_a = dport;
	k->port_b = sport;
	return 1;
}

static uint64_t flow_hash_fold(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

uint32_t flow_hash_key(const struct flow_key *k, uint32_t seed)
{
	uint64_t w[5];
	uint64_t h = 0x243f6a8885a308d3ull ^ seed;

	memcpy(w, k, sizeof(w));
	for (int i = 0; i < 5; i++)
		h = flow_hash_fold(h, w[i]);
	/* 64-bit finaliser: spreads the last word's bits over all of h. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)h ^ (uint32_t)(h >> 32);
}

uint32_t flow_hash_symmetric(const struct pkt *p, uint32_t seed)
{
	struct flow_key k;

	flow_key_from_pkt(p, false, &k);
	return flow_hash_key(&k, seed);
}
