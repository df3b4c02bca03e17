/* Indicator packs: the line-oriented text format of rules/README.md.
 *
 * A struct pack owns its metadata strings and its indicators. Packs are
 * built once at start-up and read-only afterwards (shared by all threads).
 * A pack file with any error is refused whole: pack_load_file() returns the
 * first error as "file:line: reason" in the diag and gives no pack. */
#ifndef CYBERSIEVE_PACK_H
#define CYBERSIEVE_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"

enum ind_type {
	IND_LITERAL = 0,
	IND_REGEX,
	IND_DOMAIN,
	IND_URL,
	IND_EMAIL,
	IND_MD5,
	IND_SHA1,
	IND_SHA256,
	IND_IP,       /* address or CIDR range, IPv4 or IPv6 */
	IND_WALLET,   /* crypto-currency address (checksum-validated) or any:FAMILY */
	IND_IBAN,     /* IBAN (mod 97 checked), or "any" */
	IND_PDQ,      /* PDQ perceptual hash, 64 hex; matched within a Hamming distance */
	IND_LOOKALIKE, /* a protected brand: its own domains; lookalikes of them match */
	IND_COMBO,    /* rule: AND/OR/NOT of other indicators within one scope */
	IND_WINDOW,   /* rule: aggregate of records per key over a time window */
	IND_TYPE_COUNT
};

#define IND_F_CASELESS 0x1u /* literal, regex: match ignoring ASCII case */
#define IND_F_DOTALL 0x2u   /* regex: '.' also matches '\n' (still one line) */
#define IND_F_QUIET 0x4u    /* any type: a part of combination rules only, no record of its own */

/* Rule types are not searched for themselves: they combine other matches. */
static inline bool ind_type_is_rule(enum ind_type t)
{
	return t == IND_COMBO || t == IND_WINDOW;
}

struct indicator {
	char *id;          /* stable id, unique within its pack */
	enum ind_type type;
	unsigned flags;    /* IND_F_* */
	char *value;       /* normalised value, NUL-terminated (may hold NULs for literals) */
	size_t value_len;
	uint8_t confidence; /* 0-100; pack default unless the line sets it */
	uint32_t line;      /* line in the pack file, 0 for ad-hoc */
};

struct pack {
	char *path;        /* file it came from, or a label such as "-e" */
	char *name;
	char *category;    /* scam, csam, laundering, grooming, or the user's own */
	char *source;
	char *licence;
	char *tlp;         /* clear, green, amber, amber+strict, red */
	char *legal;       /* legal heading; defaults from the category */
	char *date;        /* optional: date of the source snapshot */
	uint8_t confidence;
	uint8_t pdq_distance; /* @pdq-distance: largest Hamming distance of a pdq match */
	uint8_t digest[32]; /* SHA-256 of the pack file's bytes (or of the ad-hoc lines) */
	const char *format; /* an imported feed's format (import_format_name); NULL for a pack */
	size_t refused;     /* an imported feed's entries not loaded: invalid or unsupported */
	struct indicator *ind;
	size_t n_ind;
	size_t cap_ind;
	/* One block holding every indicator's id and value, for a pack read from
	 * a compiled rules file (two million small allocations were about a
	 * quarter of the CPU of loading a million indicators); NULL otherwise,
	 * each string then its own allocation. Release an indicator's strings
	 * with pack_ind_release(). */
	char *strings;
	size_t strings_len;
};

/* "literal" -> IND_LITERAL ...; returns false for an unknown name. */
bool ind_type_parse(const char *name, size_t len, enum ind_type *out);
const char *ind_type_name(enum ind_type t);

/* Default legal heading for a category, NULL when the category has none. */
const char *pack_legal_default(const char *category);

/* Check and normalise one value of a type (domains lower-cased, hex lower-cased,
 * URL scheme and host lower-cased, regex checked by the pattern engine's parser).
 * On success *out is a new NUL-terminated string of *out_len bytes. On failure
 * returns CS_ERR_PARSE with a reason in d->msg (file/line left for the caller). */
enum cs_err ind_normalise(enum ind_type t, unsigned flags, const char *raw, size_t len,
			  char **out, size_t *out_len, struct cs_diag *d);

/* Parse a pack from memory; `label` names it in diagnostics. */
enum cs_err pack_parse(const char *label, const char *buf, size_t len, struct pack **out,
		       struct cs_diag *d);

/* Read and parse a pack file. */
enum cs_err pack_load_file(const char *path, struct pack **out, struct cs_diag *d);

/* An empty pack for ad-hoc indicators (-e / -f); category "adhoc". */
enum cs_err pack_create_adhoc(const char *label, struct pack **out);

/* Add one ad-hoc indicator "TYPE:VALUE"-style after the caller split it;
 * the value is normalised; the pack digest is updated when the caller
 * calls pack_seal(). */
enum cs_err pack_add(struct pack *p, const char *id, enum ind_type t, unsigned flags,
		     const char *value, size_t len, uint32_t line, struct cs_diag *d);

/* Compute the digest of an ad-hoc pack from its indicators (type, flags, value). */
void pack_seal(struct pack *p);

void pack_destroy(struct pack *p);
/* Free one indicator's id and value (those of p->strings stay with it). */
void pack_ind_release(struct pack *p, struct indicator *ind);

#endif
