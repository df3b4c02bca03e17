/* The time of a log record, read from the record itself (never the wall
 * clock): RFC 3339 / ISO 8601, syslog "Mmm dd hh:mm:ss", Apache CLF
 * "[10/Oct/2000:13:55:36 -0700]", epoch seconds (10 digits) or milliseconds
 * (13 digits). Times are milliseconds since 1970-01-01T00:00:00Z; finer
 * fractions are truncated; *ms is written only on success. Pure functions
 * over the caller's bytes: no state, no allocation, thread-safe. */
#ifndef CS_CORRELATE_RECTIME_H
#define CS_CORRELATE_RECTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rectime_format {
	RECTIME_ISO8601,  /* 2024-03-01T10:00:00.250+01:00, T or space, zone optional (UTC) */
	RECTIME_SYSLOG,   /* Mar  1 10:00:00 (year from the caller, UTC) */
	RECTIME_CLF,      /* [01/Mar/2024:10:00:00 +0100], brackets optional */
	RECTIME_EPOCH_S,  /* 1709287200 or 1709287200.250 */
	RECTIME_EPOCH_MS, /* 1709287200250 */
};

/* Parse one time at the very start of s[0..n). The byte after it (if any)
 * must not be a letter or digit. Returns the bytes consumed and fills *ms
 * (and *fmt when not NULL), or returns 0 when no time starts there.
 * syslog_year is the year given to syslog stamps, which carry none. */
size_t rectime_parse(const char *s, size_t n, int syslog_year, int64_t *ms,
		     enum rectime_format *fmt);

/* True when the field value s[0..n) is exactly one time: blanks around it
 * are allowed, and CLF brackets; anything else after the time refuses it. */
bool rectime_value(const char *s, size_t n, int syslog_year, int64_t *ms);

/* The time of a raw line that names no time field: first at its start
 * (after an optional syslog "<PRI>", an RFC 5424 version "1 " and an
 * opening '['), else inside the first '[' that opens a CLF stamp. */
bool rectime_line(const char *s, size_t n, int syslog_year, int64_t *ms);

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d (m 1-12). */
int64_t rectime_days(int64_t y, unsigned m, unsigned d);

#endif
