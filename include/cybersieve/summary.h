/* The run summary: what was read, what matched, what went wrong.
 * Rendered as JSON (summary.json) and as text for stderr. */
#ifndef CYBERSIEVE_SUMMARY_H
#define CYBERSIEVE_SUMMARY_H

#include <stdio.h>

#include "cybersieve/batch.h"
#include "cybersieve/json.h"
#include "cybersieve/pack.h"

struct window_set;

struct summary_pack_error {
	char *where;    /* "file:line: reason" */
};

struct summary_info {
	const char *run_id;
	const char *started;       /* RFC 3339 */
	const char *finished;
	const char *command_line;
	const char *out_dir;       /* NULL for --out - */
	const char *inflate_engine;
	unsigned threads;
	struct pack *const *packs;
	size_t n_packs;
	const struct matcher *matcher;
	const struct summary_pack_error *pack_errors;
	size_t n_pack_errors;
	const struct batch_result *res;
	int exit_code;
	size_t indicators_suppressed; /* dropped from the packs by --allow lists */
	const struct window_set *windows; /* window rules of the run, NULL when none */
};

void summary_render_json(struct jbuf *j, const struct summary_info *s);
/* Plain text for a terminal, appended to out (used as a byte buffer). */
void summary_render_text(struct jbuf *out, const struct summary_info *s);

#endif
