/* Result names and the diagnostic struct (include/cybersieve/error.h). */
#include <stdio.h>
#include <string.h>

#include "cybersieve/error.h"

const char *cs_err_str(enum cs_err err)
{
	switch (err) {
	case CS_OK: return "ok";
	case CS_ERR_NOMEM: return "out of memory";
	case CS_ERR_IO: return "i/o error";
	case CS_ERR_PARSE: return "parse error";
	case CS_ERR_FORMAT: return "corrupt data";
	case CS_ERR_LIMIT: return "limit reached";
	case CS_ERR_COMPILE: return "pattern compile error";
	case CS_ERR_INVALID: return "invalid argument";
	case CS_ERR_UNSUPPORTED: return "unsupported";
	case CS_ERR_EXISTS: return "already exists";
	case CS_ERR_STOPPED: return "stopped";
	}
	return "unknown error";
}

void cs_diag_clear(struct cs_diag *d)
{
	if (!d)
		return;
	d->file[0] = '\0';
	d->line = CS_DIAG_NONE;
	d->offset = CS_DIAG_NONE;
	d->sys_errno = 0;
	d->msg[0] = '\0';
}

void cs_diag_set(struct cs_diag *d, const char *file, uint64_t line, uint64_t offset,
		 const char *fmt, ...)
{
	if (!d)
		return;
	snprintf(d->file, sizeof(d->file), "%s", file ? file : "");
	d->line = line;
	d->offset = offset;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
}

void cs_diag_format(const struct cs_diag *d, char *out, size_t cap)
{
	if (!cap)
		return;
	if (!d->file[0])
		snprintf(out, cap, "%s", d->msg);
	else if (d->line != CS_DIAG_NONE)
		snprintf(out, cap, "%s:%llu: %s", d->file, (unsigned long long)d->line, d->msg);
	else if (d->offset != CS_DIAG_NONE)
		snprintf(out, cap, "%s: offset %llu: %s", d->file, (unsigned long long)d->offset,
			 d->msg);
	else
		snprintf(out, cap, "%s: %s", d->file, d->msg);
}
