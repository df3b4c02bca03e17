/* Private to match/: longest-prefix lookup of IPv4 and IPv6 addresses in the
 * listed addresses and CIDR ranges.
 *
 * A sorted array per family, ordered by prefix length (longest first) and
 * network address; a lookup masks the address to each listed length in turn
 * and binary-searches that length's run, so it costs at most one search per
 * distinct length. Before each search a bit filter of the run (bitfilter.h,
 * 16 bits per entry) turns away about 99.5 % of the addresses that are not
 * listed: on logs where nearly every line holds an address, the
 * searches' cache misses were a fifth of a scan's time. 24 bytes per entry
 * and 2 bytes of filter. In front of all that, an IPv4 address is first
 * checked in a bitmap of the /20 blocks some listed IPv4 entry meets (128
 * KiB, held in the second-level cache): with 150,000 listed addresses it
 * turns away about 87 % of the addresses a log holds with one read.
 * Filled by one thread, then ipset_seal(); read-only and shareable
 * afterwards. */
#ifndef CS_MATCH_IPSET_H
#define CS_MATCH_IPSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"

#define IPSET_MAX_ENTRIES (1u << 26)

struct ipset_entry {
	uint8_t addr[16]; /* network address, host bits zero; IPv4 in the first 4 */
	uint8_t plen;
	uint8_t v6;
	uint32_t ind;
};

struct ipset_run {
	size_t first, n; /* entries of one prefix length */
	uint8_t plen;
	uint64_t *filter; /* bitfilter.h, 1 << filter_log2 bits, built by ipset_index() */
	unsigned filter_log2;
};

struct ipset {
	struct ipset_entry *e;
	size_t n, cap;
	struct ipset_run run[2][129]; /* per family, longest length first */
	size_t n_run[2];
	/* By ipset_index(): a bit per /20 block met by an IPv4 entry (128 KiB,
	 * which stays in a core's cache), then a bit per /24 block for the
	 * addresses that pass it (2 MiB of address space, resident only where
	 * entries set bits). Both or neither. */
	uint64_t *v4_blocks, *v4_fine;
};

/* Prefix lengths of the IPv4 blocks of struct ipset's first two checks. */
#define IPSET_V4_BLOCK_BITS 20
#define IPSET_V4_FINE_BITS 24

void ipset_init(struct ipset *s);
void ipset_fini(struct ipset *s);

/* Parse a normalised ip value ("192.0.2.0/24", "2001:db8::1") and add it for
 * indicator ind. CS_ERR_INVALID when the value does not parse. */
enum cs_err ipset_add(struct ipset *s, const char *value, uint32_t ind);

/* Sort and index; call once after the last ipset_add(). */
void ipset_seal(struct ipset *s);

/* Build the runs' filters from the sorted entries (ipset_seal does; a set
 * read back from a file needs it). CS_ERR_NOMEM. */
enum cs_err ipset_index(struct ipset *s);

/* Bytes held by the entries and the filters. */
size_t ipset_bytes(const struct ipset *s);

/* Entries of the longest listed prefix holding addr (4 or 16 bytes): *first
 * and the count returned (0 when none). */
size_t ipset_lookup(const struct ipset *s, bool v6, const uint8_t *addr, size_t *first);

/* False when no listed IPv4 entry can hold addr (its /20 or its /24 block
 * holds none); true also when the set has no block bitmap. */
bool ipset_v4_maybe(const struct ipset *s, const uint8_t addr[4]);

/* The /20 check of ipset_v4_maybe() alone; when it passes, the word of the
 * /24 check is fetched into the cache, for a lookup of addr soon after. */
bool ipset_v4_sift(const struct ipset *s, const uint8_t addr[4]);

/* An IPv4 address written p[0, n) into addr, accepted exactly as
 * inet_pton(AF_INET) accepts it (four groups of at most 255, no leading
 * zeros), without a copy to terminate it: a log holds one a line. */
bool ipset_parse4(const uint8_t *p, size_t n, uint8_t addr[4]);

/* True when the set holds entries of that family. */
bool ipset_has(const struct ipset *s, bool v6);

#endif
