/* Front end: helpers every subcommand shares (sizes, the evidence folder,
 * the command line, time stamps, files written whole). They print what the
 * user must see, as the rest of src/cli/ does. */
#ifndef CS_CLI_COMMON_H
#define CS_CLI_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"

/* "16M", "4096", "1g" -> bytes; false on anything else or overflow. */
bool cli_parse_size(const char *s, uint64_t *out);

/* Create the evidence folder (0700), or accept an existing one that is empty
 * and not writable by group or others; print why not and return -1 otherwise.
 * *created says whether this call made it. */
int cli_make_out_dir(const char *dir, bool *created);

/* The evidence folder of a run: out_opt, or cybersieve-<UTC time>-<run id> when
 * NULL, made or checked by cli_make_out_dir, then opened; out_dir receives its
 * name. Returns the folder's descriptor, or -1 after printing why. */
int cli_open_evidence_dir(const char *out_opt, const char *run_id, char *out_dir, size_t cap,
			  bool *created);

/* "cybersieve <argv...>" for the manifest and summary. */
void cli_command_line(int argc, char **argv, char *out, size_t cap);

void cli_now_rfc3339(char *out, size_t cap);

/* matcher_build's refusal callback: ctx is the struct cli_rules. */
void cli_on_refused(void *ctx, size_t pack_index, const struct cs_diag *d);

/* Write a new file (mode 0600) relative to dir_fd (AT_FDCWD for a path),
 * whole or not at all. */
bool cli_write_file(int dir_fd, const char *name, const char *buf, size_t len);

#endif
