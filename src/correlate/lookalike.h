/* Lookalike domains of protected brands: typos, homoglyphs and IDN
 * homographs, swapped or added TLDs, and the brand joined with other words.
 *
 * Owner and threads: the caller owns a struct lookalike. Brands are added by
 * one thread, then lookalike_seal() freezes it; after that it is never
 * changed and any number of threads may call lookalike_check() on it at once
 * (the ICU converters it holds are immutable and documented as safe for
 * concurrent use). lookalike_check() allocates nothing and needs no scratch.
 *
 * What is compared. A host is lower-cased (a trailing dot dropped) and split
 * into labels. Its public suffix is the last label, or the last two when the
 * last is a two-letter country code and the one before it is one of com, net,
 * org, co, ac, gov, edu, or, ne, go, gob, mil, nic, ltd, plc, sch, me, nom
 * (co.uk, com.au, com.br, co.jp, or.jp, gov.uk, ...); there is no full public
 * suffix list. The label left of the suffix is the registrable label ("evil"
 * in paypal.com.evil.net). A host with no label left of its suffix, or whose
 * last label is all digits (an IPv4 address), never hits.
 *
 * Skeletons. Every label is compared through its confusable skeleton: for an
 * ASCII label a fold computed here without ICU (lookalike_fold(): the Unicode
 * TR39 skeleton of ASCII, m -> rn, 0 -> o, 1 -> l, plus w -> vv and d -> cl);
 * for a label with non-ASCII characters or an xn-- label, ICU decodes it
 * (UTS 46, nontransitional), takes its TR39 skeleton (uspoof_getSkeleton),
 * drops combining marks (so accented letters fold to their base letter),
 * lower-cases the ASCII and applies the same fold. Any remaining non-ASCII
 * character is one byte that equals no brand byte. A host that UTS 46
 * rejects (bad punycode, disallowed characters) cannot be registered and
 * never hits.
 *
 * A brand is one indicator whose value lists the brand's own registered
 * domains, separated by spaces, optionally followed by options:
 *     "paypal.com paypal.me paypalobjects.com distance=1 min=6"
 * The registrable label of the first domain is the brand label ("paypal"); it
 * must be ASCII letters, digits and inner hyphens, 2 to 63 characters. Other
 * domains may be IDNs (they are converted to xn-- form). The host itself and
 * every subdomain of a listed domain never hit for that brand.
 *   distance=N  (0..3) largest edit distance for LOOKALIKE_EDIT; default 0
 *               for brand labels of up to 4 characters, 1 up to 8, 2 above.
 *   tld=own     the brand label under any public suffix is the brand's own
 *               (google.co.in, google.nl for a brand that holds its name in
 *               every country domain): no TLD hit on the registrable label.
 *   min=N       (1..63) the brand label is searched inside longer words
 *               (LOOKALIKE_COMBO) only when it has at least N characters;
 *               default 6, so "ing" never flags "booking", "chase" never flags
 *               "purchase", "apple" never flags "pineapple".
 *
 * Kinds. One hit per brand and host: the first found, trying in turn HYPHEN,
 * then TLD, HOMOGLYPH and EDIT on the registrable label, then COMBO, then
 * TLD on the labels left of it.
 *   HYPHEN     a hyphen-separated token of the registrable label has the
 *              brand's skeleton, for brand labels of at least
 *              LOOKALIKE_TOKEN_MIN characters (paypal-secure-login.com,
 *              secure-paypal.net), or the label without its hyphens does, for
 *              any brand (pay-pal.com).
 *   TLD        the registrable label is the brand label with another suffix
 *              (paypal.co, paypal.com.au); or the brand's skeleton is a label
 *              or hyphen token left of the registrable label and the token
 *              after it is a TLD (two letters, a common generic TLD, or the
 *              last label of one of the brand's domains): paypal.com.evil.net,
 *              paypal.com-login.net, www-paypal-com.evil.net. A brand label
 *              standing alone in a subdomain (apple.stackexchange.com) is not
 *              a hit.
 *   HOMOGLYPH  the skeletons are equal, the labels are not: paypa1.com,
 *              rnicrosoft.com, xn--pypal-4ve.com (Cyrillic a).
 *   EDIT       the skeletons, or the plain labels, are within the brand's
 *              distance (insertions, deletions, substitutions, adjacent
 *              swaps): paypall.com, mircosoft.com; distance is the smaller.
 *   COMBO      the brand's skeleton occurs inside a longer registrable label,
 *              for brand labels of at least min characters (paypalsecure.com,
 *              mypaypal.net, paypalll.com).
 * Domains a brand owns but its value does not list are hits like any other
 * (googletagmanager.com is a COMBO of google): list them all.
 *
 * Cost: an ASCII host is folded and compared without ICU; only the brands
 * whose skeleton or label length is within their distance of the label's
 * are visited (buckets built at seal time), each rejected on character sets
 * (more missing characters than the distance allows) before any distance is
 * computed; COMBO goes through an index of the brands' first two skeleton
 * bytes. A check uses about 8 KiB of stack. */
#ifndef CS_CORRELATE_LOOKALIKE_H
#define CS_CORRELATE_LOOKALIKE_H

#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"

#define LOOKALIKE_LABEL_MAX 63        /* brand label length, as in DNS */
#define LOOKALIKE_DISTANCE_MAX 3      /* largest distance= accepted */
#define LOOKALIKE_TOKEN_MIN 3         /* shortest brand label matched as a hyphen token */
#define LOOKALIKE_COMBO_MIN 6         /* default min= */
#define LOOKALIKE_MAX_BRANDS (1u << 20)
#define LOOKALIKE_MAX_DOMAINS 256     /* own domains per brand */
#define LOOKALIKE_MAX_HITS 32         /* hits one host can produce */
#define LOOKALIKE_HIT_LABEL_MAX 255   /* bytes of the compared label kept in a hit */

enum lookalike_kind {
	LOOKALIKE_TLD = 1,
	LOOKALIKE_HOMOGLYPH,
	LOOKALIKE_EDIT,
	LOOKALIKE_HYPHEN,
	LOOKALIKE_COMBO,
};

struct lookalike_hit {
	uint32_t ind;              /* the brand's indicator, as given to add_brand */
	enum lookalike_kind kind;
	unsigned distance;         /* EDIT: the edit distance; other kinds: 0 */
	const char *brand;         /* the brand label, owned by the struct lookalike */
	/* The host label compared (UTF-8, decoded from xn-- when it was), NUL-terminated. */
	char label[LOOKALIKE_HIT_LABEL_MAX + 1];
};

struct lookalike;

/* A new, empty set of brands, with its ICU converters open.
 * CS_ERR_NOMEM, or CS_ERR_UNSUPPORTED when ICU cannot open its data. */
enum cs_err lookalike_create(struct lookalike **out);

/* Free l and everything it owns. NULL is a no-op. */
void lookalike_destroy(struct lookalike *l);

/* Add one brand (indicator ind) from value[0..len) as described above.
 * Malformed values (no domain, a bad domain, a first domain with no
 * registrable label or a non-ASCII brand label, an unknown, repeated or
 * out-of-range option) are refused with CS_ERR_PARSE and a message in d;
 * CS_ERR_LIMIT past LOOKALIKE_MAX_BRANDS brands or LOOKALIKE_MAX_DOMAINS
 * domains; CS_ERR_INVALID after lookalike_seal(); CS_ERR_NOMEM. On error l is
 * unchanged. */
enum cs_err lookalike_add_brand(struct lookalike *l, uint32_t ind, const char *value, size_t len,
				struct cs_diag *d);

/* Build the lookup indexes; no brand can be added afterwards. Calling it
 * again is a no-op. CS_ERR_NOMEM (l then stays unsealed). */
enum cs_err lookalike_seal(struct lookalike *l);

/* Number of brands added. */
size_t lookalike_brand_count(const struct lookalike *l);

/* Compare host[0..len) (a host name from text, DNS, SNI or an HTTP Host
 * field: ASCII with or without xn-- labels, or UTF-8; any case; a trailing
 * dot allowed) with every brand. Writes one hit per brand it imitates into
 * out[0..cap) and returns how many brands it imitates (at most
 * LOOKALIKE_MAX_HITS; when that exceeds cap, only cap are written). Returns 0
 * for an unsealed l, for text that is not a host name, and for hosts that
 * are a brand's own domains or their subdomains. out may be NULL when cap
 * is 0. */
size_t lookalike_check(const struct lookalike *l, const char *host, size_t len,
		       struct lookalike_hit *out, size_t cap);

/* The ASCII skeleton of s[0..len) used for ASCII labels: lower case, m -> rn,
 * w -> vv, d -> cl, 0 -> o, 1 -> l; any other byte that is not a letter,
 * digit, '-' or '_' becomes 0x80. Writes at most cap bytes into out and
 * returns the full length (at most 2 * len). */
size_t lookalike_fold(const char *s, size_t len, char *out, size_t cap);

/* "tld", "homoglyph", "edit", "hyphen", "combo", or "?" */
const char *lookalike_kind_name(enum lookalike_kind kind);

#endif
