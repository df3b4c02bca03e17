/* One result type for every fallible call, and the diagnostic a caller
 * passes down so that the callee can say where and why (file, line, offset).
 * Only main() prints; everything below fills a struct cs_diag and returns. */
#ifndef CYBERSIEVE_ERROR_H
#define CYBERSIEVE_ERROR_H

#include <stdarg.h>
#include <stdint.h>

enum cs_err {
	CS_OK = 0,
	CS_ERR_NOMEM,       /* an allocation failed */
	CS_ERR_IO,          /* a read or write failed; errno kept in diag */
	CS_ERR_PARSE,       /* malformed text: pack line, option, value */
	CS_ERR_FORMAT,      /* corrupt binary data: gzip member, capture */
	CS_ERR_LIMIT,       /* a configured cap was reached */
	CS_ERR_COMPILE,     /* the pattern engine refused an expression */
	CS_ERR_INVALID,     /* bad argument from the caller */
	CS_ERR_UNSUPPORTED, /* valid but not handled (yet) */
	CS_ERR_EXISTS,      /* refusing to overwrite */
	CS_ERR_STOPPED,     /* a stop was asked for (SIGTERM, SIGINT) while waiting */
};

#define CS_DIAG_NONE UINT64_MAX

/* Where and why. `line` and `offset` are CS_DIAG_NONE when they do not apply. */
struct cs_diag {
	char file[1024];
	uint64_t line;   /* 1-based */
	uint64_t offset; /* byte offset in the stream the file names */
	int sys_errno;
	char msg[512];
};

const char *cs_err_str(enum cs_err err);

/* Reset to "nothing to say". */
void cs_diag_clear(struct cs_diag *d);

/* Fill d (NULL allowed: then nothing happens). file may be NULL. */
void cs_diag_set(struct cs_diag *d, const char *file, uint64_t line, uint64_t offset,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Render "file:line: msg" / "file: offset N: msg" / "msg" into out. */
void cs_diag_format(const struct cs_diag *d, char *out, size_t cap);

#endif
