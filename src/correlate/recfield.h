/* Named fields of log records, whatever the format of each line: a JSON
 * object (dotted path for nesting), CSV named by the input's header line,
 * Zeek TSV named by its #fields line, key=value tokens, or a capture group
 * of a POSIX extended regular expression run on the raw line.
 *
 * A struct recfield_set lists the fields wanted (each distinct spec once); it
 * is built before any reader, then read-only and shareable between threads.
 * A struct recfield_reader holds the state of one input stream (CSV header,
 * Zeek columns and separator) and the values of its current line; it belongs
 * to one thread. Every plain field of a line is found in one pass over it,
 * made on the first request; each regex runs at most once per line. Values
 * point into the caller's line, or into the reader's scratch when they had
 * to be unescaped: both stay valid until the next recfield_reader_line(). */
#ifndef CS_CORRELATE_RECFIELD_H
#define CS_CORRELATE_RECFIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"

#define RECFIELD_MAX_FIELDS 64     /* distinct specs in one set */
#define RECFIELD_MAX_NAME 256      /* bytes of a plain name (a JSON path included) */
#define RECFIELD_MAX_COLUMNS 4096  /* CSV / Zeek columns that can be named */
#define RECFIELD_MAX_GROUP 9       /* highest capture group of re:N:REGEX */

/* What a line was to the reader. */
enum recfield_kind {
	RECFIELD_RECORD, /* a record: fields may be asked for */
	RECFIELD_HEADER, /* a CSV header or a Zeek '#' directive: state changed */
	RECFIELD_SKIP,   /* empty line or other '#' comment */
};

enum recfield_format { RECFIELD_JSON, RECFIELD_CSV, RECFIELD_ZEEK, RECFIELD_KV };

struct recfield_set;
struct recfield_reader;

enum cs_err recfield_set_create(struct recfield_set **out);
/* No-op on NULL. Every reader of the set must be destroyed first. */
void recfield_set_destroy(struct recfield_set *s);

/* Check a field spec without adding it: a plain name (1 to RECFIELD_MAX_NAME
 * bytes, no control characters) or "re:N:REGEX" (N 0-9, REGEX a POSIX ERE
 * with at least N groups). CS_ERR_PARSE with the reason in d->msg. */
enum cs_err recfield_spec_check(const char *spec, size_t len, struct cs_diag *d);

/* Add a spec (checked as above) and give its index; the same spec gives the
 * same index. CS_ERR_LIMIT past RECFIELD_MAX_FIELDS, CS_ERR_INVALID once a
 * reader exists, CS_ERR_NOMEM. */
enum cs_err recfield_set_add(struct recfield_set *s, const char *spec, size_t len,
			     uint32_t *index, struct cs_diag *d);
size_t recfield_set_count(const struct recfield_set *s);

/* A reader over set s (s must outlive it; no field can be added to s from
 * now on). CS_ERR_NOMEM. */
enum cs_err recfield_reader_create(struct recfield_set *s, struct recfield_reader **out);
void recfield_reader_destroy(struct recfield_reader *r);

/* A new input stream begins: forget its CSV header, Zeek columns and
 * directives. */
void recfield_reader_reset(struct recfield_reader *r);

/* Take the next line of the stream, without its '\n' (a trailing "\r" is
 * ignored). line is borrowed until the next call. A '#' line is a directive
 * or comment; the first other non-empty line of a stream that is not JSON,
 * holds a ',' and no '=' is the CSV header. */
enum recfield_kind recfield_reader_line(struct recfield_reader *r, const char *line, size_t len);

/* Format of the current record. */
enum recfield_format recfield_reader_format(const struct recfield_reader *r);

/* Value of field idx in the current record: true with *v, *len when present
 * and not empty (JSON null, Zeek unset and empty fields count as absent). */
bool recfield_get(struct recfield_reader *r, uint32_t idx, const char **v, size_t *len);

/* Values that could not be unescaped for want of memory (they count as
 * absent), since the reader was created. */
uint64_t recfield_reader_nomem(const struct recfield_reader *r);

/* A decimal amount as millionths: blanks around allowed, optional sign,
 * digits with optional ',' thousands groups ("9,500.00") or an exponent
 * ("9.5e3", not both), fraction digits past the sixth truncated. False when
 * s is not such a number or |value| >= 2^63 millionths. */
bool recfield_decimal(const char *s, size_t n, int64_t *micro);

#endif
