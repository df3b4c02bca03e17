/* Private to match/: indicators confirmed by shape instead of compiled one
 * pattern each. The engine finds candidates of a shape (a hex token of 32, 40
 * or 64 characters) and a set of the listed values confirms them, so compile
 * time and database size do not grow with the number of indicators. IP
 * addresses in text are dotted quads and colon-hex runs confirmed by a
 * longest-prefix lookup (in block scans the hex tokens and addresses come
 * from hexscan.h, ip4scan.h and ip6scan.h, not the engine). Wallet
 * addresses and IBANs are tokens of their forms, confirmed by their
 * checksum (wallet_detect, iban_check) before the normalised token is
 * looked up; "any" indicators take every valid token (of their families,
 * for wallets). Domains, from SHAPES_DOMSET_MIN of them (or always, when
 * asked), are found by their last labels and confirmed by a suffix set
 * (domset.h); URLs with a scheme, from SHAPES_URLSET_MIN of them, by their
 * last bytes and a set of whole values (urlset.h). PDQ hashes share the
 * sha256 shape (a 64-hex token can be both) and are looked up by Hamming
 * distance in a pdq_index.
 *
 * struct shapes belongs to the matcher: filled while it is built, read-only
 * afterwards and shared by all threads. */
#ifndef CS_MATCH_SHAPE_H
#define CS_MATCH_SHAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"
#include "cybersieve/pack.h"
#include "cybersieve/pdq.h"
#include "correlate/lookalike.h"
#include "match/domset.h"
#include "match/hashset.h"
#include "match/ipset.h"
#include "match/strset.h"
#include "match/urlset.h"

/* The first five are found beside the engine in block scans, in this order
 * (shapes_in_engine). */
enum shape_kind {
	SHAPE_MD5 = 0,
	SHAPE_SHA1,
	SHAPE_SHA256,
	SHAPE_IP4,
	SHAPE_IP6,
	SHAPE_WALLET,
	SHAPE_IBAN,
	SHAPE_DOMAIN,
	SHAPE_HOST,   /* any host name: checked against lookalike brands */
	SHAPE_URL,    /* the end of a listed URL: one engine expression per distinct tail */
	SHAPE_COUNT
};

#define SHAPE_NONE UINT32_MAX

struct shapes {
	struct hashset digest[3]; /* md5, sha1, sha256: binary digest -> first indicator */
	struct ipset ip;          /* ip indicators */
	struct strset wallet;     /* normalised address -> first indicator (keys borrowed
				   * from the indicators, which outlive the matcher) */
	struct strset iban;       /* electronic form -> first indicator */
	struct domset dom;        /* listed domains, when held by suffix set */
	struct urlset url;        /* listed URLs, when held by the URL set */
	struct lookalike *look;   /* lookalike brands (correlate/lookalike.h), or NULL */
	struct pdq_index *pdq;    /* pdq indicators, built by shapes_seal() */
	uint8_t (*pdq_hash)[PDQ_HASH_BYTES]; /* while building: the listed hashes */
	uint32_t *pdq_ind;        /* per index entry: the indicator */
	uint8_t *pdq_dist;        /* per index entry: its pack's largest distance */
	size_t n_pdq;
	unsigned pdq_max;         /* largest distance of any entry */
	bool dom_taken;           /* domains go to dom (decided by shapes_reserve) */
	bool url_taken;           /* URLs that fit go to url (decided there too) */
	bool wallet_taken;        /* listed wallets go to the wallet set (decided there too) */
	uint32_t *wmask;          /* per indicator: families a wallet indicator accepts */
	uint32_t *any_wallet;     /* wallet any:FAMILY indicators */
	char wallet_expr[400];    /* the address shape for the families any: asks for */
	uint32_t *any_iban;       /* iban "any" indicators */
	size_t n_any_wallet, n_any_iban;
	uint32_t *next;           /* per indicator: next one with the same key, SHAPE_NONE ends */
	size_t n_ind;
	size_t taken;             /* indicators held in sets */
	bool used[SHAPE_COUNT];
};

/* Ready for n_ind indicators (matcher indexes 0..n_ind-1). */
enum cs_err shapes_init(struct shapes *s, size_t n_ind);
void shapes_fini(struct shapes *s);

/* Domains listed from which the suffix set replaces one literal each. */
#define SHAPES_DOMSET_MIN 256
/* From this many listed wallet addresses they are held in a set behind the
 * address shape instead of compiled one literal each (which is faster to
 * scan for a few hundred, and slow to compile for tens of thousands). */
#define SHAPES_WALLETSET_MIN 4096
/* URLs with a scheme listed from which the URL set replaces one pattern each. */
#define SHAPES_URLSET_MIN 256

/* shapes_reserve() flags: use the set however few values are listed. */
#define SHAPES_FORCE_DOMSET 0x1u
#define SHAPES_FORCE_URLSET 0x2u

/* Size the sets for the indicators of packs[] before shapes_add(); domains
 * go to the suffix set when there are at least SHAPES_DOMSET_MIN of them,
 * URLs to the URL set from SHAPES_URLSET_MIN (urlset_fits() ones), or
 * always with the force flags. */
enum cs_err shapes_reserve(struct shapes *s, struct pack *const *packs, size_t n_packs,
			   unsigned force);

/* Hold indicator idx in a set when its type is confirmed by shape; *taken
 * tells the caller not to compile it. */
enum cs_err shapes_add(struct shapes *s, uint32_t idx, const struct indicator *ind, bool *taken);

/* Hold pdq indicator idx, matched within max_dist bits (<= PDQ_MAX_DIST). */
enum cs_err shapes_add_pdq(struct shapes *s, uint32_t idx, const struct indicator *ind,
			   unsigned max_dist);

/* Hold lookalike indicator idx (a brand and its own domains); the caller
 * counts it in taken. */
enum cs_err shapes_add_lookalike(struct shapes *s, uint32_t idx, const struct indicator *ind);

/* After the last shapes_add(): sort what needs it, decide the shapes used,
 * build expressions that depend on the values. CS_ERR_NOMEM. */
enum cs_err shapes_seal(struct shapes *s);

/* Listed ip indicators covering addr (4 bytes, or 16 when v6) by longest
 * prefix: fn(user, ind) for each; returns how many. */
size_t shapes_ip(const struct shapes *s, bool v6, const uint8_t *addr,
		 void (*fn)(void *user, uint32_t ind), void *user);

/* Make the address shape for the wallet families the set and the any:
 * indicators need (called by shapes_seal, and after a saved matcher's sets
 * are read back). */
void shapes_wallet_expr(struct shapes *s);

/* Expression and engine flags of shape k (a used one other than SHAPE_URL,
 * which has several: shapes_engine_exprs). */
const char *shapes_expr(const struct shapes *s, enum shape_kind k, unsigned *hs_flags);

/* Whether the engine looks for shape k: in block mode (block true) hex
 * digests and IP addresses are found by hexscan.c, ip4scan.c and ip6scan.c
 * instead, which the block scan runs beside the engine (matcher.c); stream
 * mode keeps every shape in the engine. */
static inline bool shapes_in_engine(const struct shapes *s, enum shape_kind k, bool block)
{
	return s->used[k] && !(block && k <= SHAPE_IP6);
}

/* Engine expressions of the used shapes (shapes_in_engine): how many. */
size_t shapes_engine_count(const struct shapes *s, bool block);

/* Fill ex[], fl[] and ids[] (room for shapes_engine_count()) with the
 * engine expressions of the used shapes; each id is base plus a relative id
 * that shapes_engine_kind() maps back to the shape. Returns the count. */
size_t shapes_engine_exprs(const struct shapes *s, bool block, unsigned base, const char **ex,
			   unsigned *fl, unsigned *ids);

/* The shape of an engine hit with id base + rel. */
static inline enum shape_kind shapes_engine_kind(size_t rel)
{
	return rel < SHAPE_COUNT ? (enum shape_kind)rel : SHAPE_URL;
}

/* Bytes before a candidate's end that confirmation reads (token plus one
 * boundary byte); the after-boundary needs two bytes past the end. */
size_t shapes_reach(const struct shapes *s, enum shape_kind k);

/* Longest token a shape confirms (for overlaps of split lines). */
size_t shapes_max_width(const struct shapes *s);

/* Bytes held by the sets. */
size_t shapes_bytes(const struct shapes *s);

/* A listed indicator found at buf[start, end); false stops (out of memory). */
typedef bool (*shapes_emit_fn)(void *ctx, uint32_t ind, uint64_t start, uint64_t end);

/* Confirm an engine hit of shape k ending at end in buf[0..len) (bytes
 * outside it count as boundaries): check the token's boundaries, look it
 * up, emit each listed indicator. Returns false only when emit did. */
bool shapes_confirm(const struct shapes *s, enum shape_kind k, const uint8_t *buf, size_t len,
		    uint64_t end, shapes_emit_fn emit, void *ctx);

/* False when the IPv4 address of a candidate (as ip4scan_next_addr() reads
 * it) surely names no listed entry: its /20 block holds none. A quick look
 * for block scans, before the candidate joins the engine's hits; true says
 * nothing, and fetches into the cache the next word confirm_ip() will read. */
bool shapes_ip4_sift(const struct shapes *s, const uint8_t addr[4]);

/* For a digest candidate of shape k (md5, sha1 or sha256) ending at end in
 * buf, as hexscan.h gives it: fetch into the cache what its confirmation
 * will read first, while the scan goes on. */
void shapes_digest_prefetch(const struct shapes *s, enum shape_kind k, const uint8_t *buf,
			    uint64_t end);

/* A PDQ candidate put aside for a batch: the 32 bytes of the token at
 * buf[start, end); false stops (out of memory). */
typedef bool (*shapes_defer_fn)(void *dctx, const uint8_t key[PDQ_HASH_BYTES], uint64_t start,
				uint64_t end);

/* As shapes_confirm, but a 64-hex token goes to defer instead of being
 * looked up in the PDQ index at once (its sha256 lookup is still done here);
 * shapes_pdq_batch answers what defer queued. Returns false when emit or
 * defer did. */
bool shapes_confirm_defer(const struct shapes *s, enum shape_kind k, const uint8_t *buf,
			  size_t len, uint64_t end, shapes_emit_fn emit, void *ctx,
			  shapes_defer_fn defer, void *dctx);

/* Answer the PDQ candidates queued in b (query i found at pos[i][0] to
 * pos[i][1]): emit each listed hash within its pack's distance. b is empty
 * after. Returns false when emit did. */
bool shapes_pdq_batch(const struct shapes *s, struct pdq_batch *b, const uint64_t (*pos)[2],
		      shapes_emit_fn emit, void *ctx);

#endif
