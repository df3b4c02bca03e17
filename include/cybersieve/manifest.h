/* The run's manifest and the seals of rotated records files (docs/EVIDENCE.md):
 * rendered as one JSON line, signed with Ed25519, written beside the records as
 * NAME and NAME.sig. Pure rendering plus whole-file writes; the caller owns
 * every string it passes. */
#ifndef CYBERSIEVE_MANIFEST_H
#define CYBERSIEVE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cybersieve/chain.h"
#include "cybersieve/error.h"
#include "cybersieve/json.h"
#include "cybersieve/pack.h"
#include "cybersieve/ruleset.h"
#include "cybersieve/sign.h"

#define EV_MANIFEST_FORMAT "cybersieve-manifest-1"
#define EV_SEAL_FORMAT "cybersieve-seal-1"

struct ev_manifest_input {
	const char *path;
	uint64_t size;
	bool have_sha256;
	uint8_t sha256[32];
	const char *status;     /* complete, partial, failed */
	const char *reason;     /* NULL when complete */
};

struct ev_manifest {
	const char *run_id, *started, *finished;
	const char *operator_name, *sensor_id, *host, *command_line;
	const char *fingerprint;               /* hex SHA-256 of the DER public key */
	const struct ev_manifest_input *inputs;
	size_t n_inputs;
	struct pack *const *packs;
	size_t n_packs;
	/* Live runs whose rules were reloaded: every set in force, oldest first.
	 * When given, "packs" lists each distinct pack of the sets once (packs
	 * and n_packs are not used) and "rule_sets" follows it, each set with its
	 * times and the name and digest of its packs. */
	struct ev_ruleset *const *rule_sets;
	size_t n_rule_sets;
	const struct ev_chain_counts *counts;
	const struct ev_chain_file *files;
	size_t n_files;
	bool complete;
};

/* The manifest as one line, newline included. */
void ev_manifest_render(struct jbuf *j, const struct ev_manifest *m);
/* The seal of one closed records file, newline included. */
void ev_manifest_render_seal(struct jbuf *j, const char *run_id, const char *fingerprint,
			     const struct ev_chain_file *f);
/* "records-000001.ndjson" -> "records-000001.seal.json" (cap >= 64). */
void ev_manifest_seal_name(const char *file_name, char *out, size_t cap);
/* Create dir_fd/name (must not exist) with mode, write it whole and sync, or leave none. */
enum cs_err ev_manifest_put_file(int dir_fd, const char *name, const void *buf, size_t len,
				 mode_t mode, struct cs_diag *d);
/* Write dir_fd/name holding text, and dir_fd/name.sig its raw signature by k. */
enum cs_err ev_manifest_put_signed(int dir_fd, const char *name, const struct jbuf *text,
				   const struct ev_sign_key *k, struct cs_diag *d);

#endif
