/* Checking an evidence folder (docs/EVIDENCE.md): each records file's chain
 * from its genesis, the manifest's files, counts and chain head, the
 * signatures, and optionally the inputs still present. One line per check goes
 * to the caller's callback; nothing is printed here. Single-threaded. */
#ifndef CYBERSIEVE_VERIFY_H
#define CYBERSIEVE_VERIFY_H

#include <stdbool.h>

#include "cybersieve/error.h"

struct ev_verify_opts {
	const char *pubkey_path;   /* NULL: the folder's key.pub.pem */
	bool inputs;               /* re-hash the inputs still present */
	void (*on_line)(void *ctx, bool ok, const char *text);
	void *ctx;
};

/* *all_ok is true only when the run is sealed and every check passed. An error
 * is returned only when the folder cannot be read at all. */
enum cs_err ev_verify_run(const char *dir, const struct ev_verify_opts *o, bool *all_ok,
			  struct cs_diag *d);

#endif
