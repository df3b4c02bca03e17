/* IPv4 and IPv6 fragment reassembly (include/cybersieve/ip_frag.h). Each
 * datagram in progress owns a copy of its first fragment's header, a data
 * buffer grown as fragments arrive, and a bitmap of the 8-byte blocks held.
 * The reassembler owns all of them and one output buffer; one thread. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cybersieve/ip_frag.h"

#define IP_FRAG_BUCKETS 4096u          /* power of two */
#define IP_FRAG_MAX_DATA 65535u        /* fragment data of one datagram */
#define IP_FRAG_MAX_HDR 512u           /* IPv4 60; IPv6 unfragmentable part, bounded */
#define IP_FRAG_BLOCKS ((IP_FRAG_MAX_DATA + 7) / 8)
#define IP_FRAG_DEF_MEM (32u << 20)
#define IP_FRAG_DEF_TIMEOUT 30000000000ull
#define IP_FRAG_DEF_MAX 8192u

struct ip_frag_entry {
	struct ip_frag_entry *hnext;          /* hash chain */
	struct ip_frag_entry *older, *newer;  /* age list */
	uint8_t family, proto;
	uint8_t src[16], dst[16];
	uint32_t id;
	uint32_t bucket;
	uint64_t first_ns;
	bool have_first, have_last;
	uint32_t total;                       /* data length, known once the last came */
	uint32_t received;                    /* data bytes held */
	uint32_t max_end;                     /* end of the furthest data held */
	uint16_t hdr_len, nh_off;
	uint8_t hdr[IP_FRAG_MAX_HDR];
	uint8_t *data;
	size_t cap;
	uint8_t seen[(IP_FRAG_BLOCKS + 7) / 8];
};

struct ip_frag {
	struct ip_frag_config cfg;
	struct ip_frag_stats st;
	struct ip_frag_entry **buckets;
	struct ip_frag_entry *oldest, *newest;
	uint8_t *out;                         /* the last completed datagram */
};

enum cs_err ip_frag_create(const struct ip_frag_config *cfg, struct ip_frag **out,
			   struct cs_diag *d)
{
	*out = NULL;
	struct ip_frag *f = calloc(1, sizeof(*f));
	if (!f)
		goto nomem;
	if (cfg)
		f->cfg = *cfg;
	if (!f->cfg.mem_cap)
		f->cfg.mem_cap = IP_FRAG_DEF_MEM;
	if (!f->cfg.timeout_ns)
		f->cfg.timeout_ns = IP_FRAG_DEF_TIMEOUT;
	if (!f->cfg.max_datagrams)
		f->cfg.max_datagrams = IP_FRAG_DEF_MAX;
	f->buckets = calloc(IP_FRAG_BUCKETS, sizeof(*f->buckets));
	f->out = malloc(IP_FRAG_MAX_HDR + IP_FRAG_MAX_DATA);
	if (!f->buckets || !f->out)
		goto nomem;
	*out = f;
	return CS_OK;
nomem:
	ip_frag_destroy(f);
	cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "out of memory for fragment reassembly");
	return CS_ERR_NOMEM;
}

static size_t ip_frag_entry_mem(const struct ip_frag_entry *e)
{
	return sizeof(*e) + e->cap;
}

static void ip_frag_unlink(struct ip_frag *f, struct ip_frag_entry *e)
{
	struct ip_frag_entry **pp = &f->buckets[e->bucket];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	if (e->older)
		e->older->newer = e->newer;
	else
		f->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		f->newest = e->older;
	f->st.mem_used -= ip_frag_entry_mem(e);
	f->st.in_progress--;
	free(e->data);
	free(e);
}

void ip_frag_destroy(struct ip_frag *f)
{
	if (!f)
		return;
	while (f->oldest)
		ip_frag_unlink(f, f->oldest);
	free(f->buckets);
	free(f->out);
	free(f);
}

void ip_frag_expire(struct ip_frag *f, uint64_t now_ns)
{
	while (f->oldest && now_ns > f->oldest->first_ns &&
	       now_ns - f->oldest->first_ns > f->cfg.timeout_ns) {
		ip_frag_unlink(f, f->oldest);
		f->st.timeouts++;
	}
}

void ip_frag_get_stats(const struct ip_frag *f, struct ip_frag_stats *st)
{
	*st = f->st;
}

/* Evict the oldest datagrams other than keep until extra more bytes fit. */
static bool ip_frag_make_room(struct ip_frag *f, size_t extra, const struct ip_frag_entry *keep)
{
	while (f->st.mem_used + extra > f->cfg.mem_cap) {
		struct ip_frag_entry *victim = f->oldest;
		if (victim == keep)
			victim = victim->newer;
		if (!victim)
			return false;
		ip_frag_unlink(f, victim);
		f->st.evicted++;
	}
	return true;
}

static uint32_t ip_frag_hash(const struct pkt *p, size_t alen)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < alen; i++)
		h = (h ^ p->src.bytes[i]) * 16777619u;
	for (size_t i = 0; i < alen; i++)
		h = (h ^ p->dst.bytes[i]) * 16777619u;
	for (int i = 0; i < 4; i++)
		h = (h ^ (uint8_t)(p->frag_id >> (8 * i))) * 16777619u;
	return h & (IP_FRAG_BUCKETS - 1);
}

/* IPv4 datagrams are told apart by protocol too (RFC 791); IPv6 by
 * addresses and identification only (RFC 8200). */
static struct ip_frag_entry *ip_frag_find(struct ip_frag *f, const struct pkt *p, uint32_t b)
{
	size_t alen = p->src.family == 4 ? 4 : 16;
	for (struct ip_frag_entry *e = f->buckets[b]; e; e = e->hnext) {
		if (e->family == p->src.family && e->id == p->frag_id &&
		    (e->family == 6 || e->proto == p->ip_proto) &&
		    !memcmp(e->src, p->src.bytes, alen) && !memcmp(e->dst, p->dst.bytes, alen))
			return e;
	}
	return NULL;
}

static struct ip_frag_entry *ip_frag_new(struct ip_frag *f, const struct pkt *p, uint32_t b,
					 uint64_t now_ns)
{
	if (f->st.in_progress >= f->cfg.max_datagrams && f->oldest) {
		ip_frag_unlink(f, f->oldest);
		f->st.evicted++;
	}
	if (!ip_frag_make_room(f, sizeof(struct ip_frag_entry), NULL))
		return NULL;
	struct ip_frag_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->family = p->src.family;
	e->proto = p->ip_proto;
	memcpy(e->src, p->src.bytes, 16);
	memcpy(e->dst, p->dst.bytes, 16);
	e->id = p->frag_id;
	e->bucket = b;
	e->first_ns = now_ns;
	e->hnext = f->buckets[b];
	f->buckets[b] = e;
	e->older = f->newest;
	if (f->newest)
		f->newest->newer = e;
	else
		f->oldest = e;
	f->newest = e;
	f->st.mem_used += ip_frag_entry_mem(e);
	f->st.in_progress++;
	return e;
}

static bool ip_frag_grow(struct ip_frag *f, struct ip_frag_entry *e, size_t need)
{
	if (need <= e->cap)
		return true;
	size_t cap = e->cap ? e->cap * 2 : 2048;
	while (cap < need)
		cap *= 2;
	if (cap > IP_FRAG_MAX_DATA)
		cap = IP_FRAG_MAX_DATA;
	if (!ip_frag_make_room(f, cap - e->cap, e))
		return false;
	uint8_t *n = realloc(e->data, cap);
	if (!n)
		return false;
	f->st.mem_used += cap - e->cap;
	e->data = n;
	e->cap = cap;
	return true;
}

/* The checks that need no state: is this a fragment we can take at all? */
static bool ip_frag_valid(const struct pkt *p)
{
	if (!(p->flags & PKT_F_FRAGMENT) || (p->flags & PKT_F_SNAPPED) || !p->payload_len)
		return false;
	if (p->l3_hlen > IP_FRAG_MAX_HDR || (p->src.family != 4 && p->src.family != 6))
		return false;
	if (p->frag_more && p->payload_len % 8)
		return false;
	size_t end = (size_t)p->frag_off + p->payload_len;
	size_t unfrag = p->src.family == 4 ? p->l3_hlen : p->l3_hlen - 40;
	return end <= IP_FRAG_MAX_DATA && unfrag + end <= 65535;
}

/* Copy the fragment's data block by block; blocks already held stay as they
 * are. Returns whether any block was already held. */
static bool ip_frag_copy(struct ip_frag_entry *e, const struct pkt *p)
{
	bool overlap = false;
	size_t end = (size_t)p->frag_off + p->payload_len;
	for (size_t off = p->frag_off; off < end; off += 8) {
		size_t blk = off / 8, n = end - off < 8 ? end - off : 8;
		if (e->seen[blk / 8] & (1u << (blk % 8))) {
			overlap = true;
			continue;
		}
		e->seen[blk / 8] |= (uint8_t)(1u << (blk % 8));
		memcpy(e->data + off, p->payload + (off - p->frag_off), n);
		e->received += (uint32_t)n;
	}
	if (end > e->max_end)
		e->max_end = (uint32_t)end;
	return overlap;
}

static void ip_frag_ipv4_checksum(uint8_t *h, size_t hlen)
{
	uint32_t sum = 0;
	h[10] = h[11] = 0;
	for (size_t i = 0; i < hlen; i += 2)
		sum += (uint32_t)h[i] << 8 | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	h[10] = (uint8_t)(sum >> 8);
	h[11] = (uint8_t)sum;
}

/* Write the finished datagram to f->out and forget the entry. */
static size_t ip_frag_finish(struct ip_frag *f, struct ip_frag_entry *e)
{
	uint8_t *o = f->out;
	memcpy(o, e->hdr, e->hdr_len);
	memcpy(o + e->hdr_len, e->data, e->total);
	size_t len = (size_t)e->hdr_len + e->total;
	if (e->family == 4) {
		o[2] = (uint8_t)(len >> 8);
		o[3] = (uint8_t)len;
		o[6] &= 0x40; /* keep don't-fragment, clear more-fragments and offset */
		o[7] = 0;
		ip_frag_ipv4_checksum(o, e->hdr_len);
	} else {
		size_t plen = len - 40;
		o[4] = (uint8_t)(plen >> 8);
		o[5] = (uint8_t)plen;
		o[e->nh_off] = e->proto;
	}
	ip_frag_unlink(f, e);
	f->st.reassembled++;
	return len;
}

/* Record what this fragment says about the datagram's two ends. */
static bool ip_frag_ends(struct ip_frag_entry *e, const struct pkt *p)
{
	uint32_t end = p->frag_off + (uint32_t)p->payload_len;
	if (!p->frag_more) {
		if ((e->have_last && e->total != end) || e->max_end > end)
			return false;
		e->have_last = true;
		e->total = end;
	} else if (e->have_last && end > e->total) {
		return false;
	}
	if (p->frag_off == 0 && !e->have_first) {
		e->have_first = true;
		e->hdr_len = (uint16_t)p->l3_hlen;
		e->nh_off = p->frag_nh_off;
		e->proto = p->ip_proto;
		memcpy(e->hdr, p->l3, p->l3_hlen);
	}
	return true;
}

enum ip_frag_result ip_frag_add(struct ip_frag *f, const struct pkt *p, uint64_t now_ns,
				const uint8_t **dgram, size_t *len)
{
	*dgram = NULL;
	*len = 0;
	f->st.fragments++;
	ip_frag_expire(f, now_ns);
	if (!ip_frag_valid(p)) {
		f->st.invalid++;
		return IP_FRAG_DROPPED;
	}
	uint32_t b = ip_frag_hash(p, p->src.family == 4 ? 4 : 16);
	struct ip_frag_entry *e = ip_frag_find(f, p, b);
	if (!e)
		e = ip_frag_new(f, p, b, now_ns);
	if (!e) {
		f->st.evicted++;
		return IP_FRAG_DROPPED;
	}
	if (!ip_frag_ends(e, p)) {
		f->st.invalid++;
		ip_frag_unlink(f, e);
		return IP_FRAG_DROPPED;
	}
	if (!ip_frag_grow(f, e, (size_t)p->frag_off + p->payload_len)) {
		f->st.evicted++;
		ip_frag_unlink(f, e);
		return IP_FRAG_DROPPED;
	}
	if (ip_frag_copy(e, p)) {
		f->st.overlaps++;
		if (e->family == 6) {
			ip_frag_unlink(f, e);
			return IP_FRAG_DROPPED;
		}
	}
	if (e->have_first && e->have_last && e->received == e->total) {
		*len = ip_frag_finish(f, e);
		*dgram = f->out;
		return IP_FRAG_DONE;
	}
	return IP_FRAG_HELD;
}
