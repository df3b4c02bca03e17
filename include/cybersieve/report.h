/* The report of an evidence folder for the person who receives it: one
 * self-contained HTML page (inline CSS and SVG, one inline script allowed by
 * its hash, no fetches) showing the verification result, the run, its inputs
 * and packs, matches per category and over time, the top indicators and a
 * table of records. Every text taken from the folder is escaped. Nothing is
 * printed here; the page goes to the caller's stream. Single-threaded. */
#ifndef CYBERSIEVE_REPORT_H
#define CYBERSIEVE_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cybersieve/error.h"

#define EV_REPORT_DEFAULT_ROWS 10000u
#define EV_REPORT_MAX_ROWS 1000000u

enum ev_report_verdict {
	EV_REPORT_VERIFIED,   /* sealed and every check passed */
	EV_REPORT_TAMPERED,   /* sealed, but some check failed */
	EV_REPORT_UNSEALED,   /* no manifest: a run that did not finish */
};

struct ev_report_opts {
	const char *pubkey_path;   /* NULL: the folder's key.pub.pem */
	uint64_t max_rows;         /* rows in the records table; 0: EV_REPORT_DEFAULT_ROWS */
	const char *generated;     /* RFC 3339 time shown as "generated"; NULL: now */
};

struct ev_report_result {
	enum ev_report_verdict verdict;
	char first_failure[2048];  /* the first failing check, "" when verified */
	uint64_t records;          /* match records read (rule reloads not counted) */
	uint64_t rows;             /* rows in the table */
	uint64_t unreadable;       /* lines that were not JSON records */
};

/* Verify dir and write its report to out. An error is returned only when the
 * folder cannot be read at all or out fails; a tampered or unsealed run is a
 * report that says so (res->verdict). */
enum cs_err ev_report_html_write(const char *dir, FILE *out, const struct ev_report_opts *o,
				 struct ev_report_result *res, struct cs_diag *d);

#endif
