/* IP fragment reassembly for IPv4 and IPv6.
 *
 * Feed every packet decode_packet() marked PKT_F_FRAGMENT to ip_frag_add();
 * when the last missing piece arrives it returns IP_FRAG_DONE with the whole
 * datagram (header fixed up: length, fragment fields, IPv4 checksum, IPv6
 * next-header) in a buffer the reassembler owns, valid until the next call on
 * it; hand that to decode_ip(). Datagrams in progress are bounded by a memory
 * cap and a count cap (the oldest is evicted, counted) and by a timeout
 * (counted). Overlapping fragments are counted; for IPv4 the first copy of a
 * byte wins, for IPv6 the datagram is discarded (RFC 5722).
 * Owner: the caller; one thread per reassembler (each worker has its own). */
#ifndef CYBERSIEVE_IP_FRAG_H
#define CYBERSIEVE_IP_FRAG_H

#include <stddef.h>
#include <stdint.h>

#include "cybersieve/decode.h"
#include "cybersieve/error.h"

struct ip_frag;

struct ip_frag_config {
	size_t mem_cap;           /* bytes held for datagrams in progress; 0: 32 MiB */
	uint64_t timeout_ns;      /* drop an incomplete datagram this long after its first
				   * fragment; 0: 30 s */
	uint32_t max_datagrams;   /* datagrams in progress at once; 0: 8192 */
};

struct ip_frag_stats {
	uint64_t fragments;       /* fragments fed */
	uint64_t reassembled;     /* datagrams completed */
	uint64_t overlaps;        /* fragments overlapping data already held */
	uint64_t timeouts;        /* datagrams dropped incomplete after the timeout */
	uint64_t evicted;         /* datagrams dropped to stay under the caps */
	uint64_t invalid;         /* fragments refused: past 65535 bytes, a non-last
				   * fragment not a multiple of 8, ends that disagree,
				   * empty, or cut short by the capture's snap length */
	uint64_t in_progress;     /* datagrams held now */
	size_t mem_used;          /* bytes held now */
};

enum ip_frag_result {
	IP_FRAG_HELD = 0,         /* kept; the datagram is not complete yet */
	IP_FRAG_DONE,             /* *dgram and *len give the whole datagram */
	IP_FRAG_DROPPED,          /* refused or its datagram discarded (counted) */
};

/* cfg NULL means all defaults. CS_ERR_NOMEM. */
enum cs_err ip_frag_create(const struct ip_frag_config *cfg, struct ip_frag **out,
			   struct cs_diag *d);

/* Add the fragment p (PKT_F_FRAGMENT set; bytes borrowed for the call only,
 * they are copied) seen at now_ns. Datagrams older than the timeout are
 * expired first. On IP_FRAG_DONE *dgram and *len give the datagram, valid
 * until the next call on f. */
enum ip_frag_result ip_frag_add(struct ip_frag *f, const struct pkt *p, uint64_t now_ns,
				const uint8_t **dgram, size_t *len);

/* Drop datagrams whose first fragment is older than now_ns - timeout. */
void ip_frag_expire(struct ip_frag *f, uint64_t now_ns);

void ip_frag_get_stats(const struct ip_frag *f, struct ip_frag_stats *st);

/* NULL is a no-op. */
void ip_frag_destroy(struct ip_frag *f);

#endif
