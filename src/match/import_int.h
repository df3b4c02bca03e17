/* Shared by the importers (src/match/import_*.c): the state of one import and
 * the helpers that add an indicator or count one that is not imported. */
#ifndef CYBERSIEVE_IMPORT_INT_H
#define CYBERSIEVE_IMPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/import.h"

struct import_ctx {
	struct pack *p;
	const struct import_opts *o;
	struct import_report *rep; /* never NULL inside an importer */
	struct cs_diag *d;
	bool category_set; /* the caller or the file chose a category */
	bool tlp_set;
};

/* Normalise and add one indicator. A value its type refuses is counted as
 * invalid (reason "<what> invalid") and CS_OK returned; only running out of
 * memory or the pack cap stops an import. */
enum cs_err import_add(struct import_ctx *c, const char *id, enum ind_type t, unsigned flags,
		       const char *value, size_t len, uint32_t line, const char *what);

/* Count one entry not imported under reason; kind selects the counter. */
enum import_kind { IMPORT_K_UNSUPPORTED, IMPORT_K_INVALID, IMPORT_K_IGNORED };
void import_note(struct import_ctx *c, enum import_kind kind, const char *reason,
		 const char *id);

/* An indicator type by name, for types the tool may or may not have yet
 * ("ip", "btc", "iban"): false when this build has no such type. */
bool import_type_by_name(const char *name, enum ind_type *t);

/* Replace a pack string field (category, tlp, source, date) with a copy. */
enum cs_err import_set_str(char **field, const char *s, size_t len);

/* Line iteration over a buffer: *line gets [s, s+n) without "\r\n". Returns
 * false at the end. pos is the caller's cursor, start at 0. */
bool import_next_line(const char *buf, size_t len, size_t *pos, const char **s, size_t *n);

/* Split one CSV record (RFC 4180 quoting, no embedded newlines) into at most
 * max fields, unquoting into scratch (cap bytes). Returns the field count,
 * or -1 when scratch is too small. */
int import_csv_split(const char *s, size_t n, char *scratch, size_t cap, const char **f,
		     size_t *fl, int max);

/* A plain list's leading "# key: value" comment line (s[0] == '#'): the key
 * and the value, blanks trimmed. False when the line holds no ':'. */
bool import_comment_kv(const char *s, size_t n, const char **key, size_t *kn, const char **v,
		       size_t *vn);

bool import_is_hex(const char *s, size_t n);
/* The hash type of a hex string of 32/40/64 characters. */
bool import_hash_type(const char *s, size_t n, enum ind_type *t);
/* Guess the type of one value of a list without a type: hash by length, url
 * with "://", email with '@', ip (when the build has it), else domain. */
bool import_guess_type(const char *s, size_t n, enum ind_type *t, const char **name);

enum cs_err import_zeek(struct import_ctx *c, const char *buf, size_t len);
enum cs_err import_stix(struct import_ctx *c, const char *buf, size_t len);
enum cs_err import_misp_json(struct import_ctx *c, const char *buf, size_t len);
enum cs_err import_misp_csv(struct import_ctx *c, const char *buf, size_t len);
enum cs_err import_csv(struct import_ctx *c, const char *buf, size_t len);
enum cs_err import_suricata(struct import_ctx *c, const char *buf, size_t len);
enum cs_err import_hashlist(struct import_ctx *c, const char *buf, size_t len);
enum cs_err import_plain(struct import_ctx *c, const char *buf, size_t len);

#endif
