/* Compiled rules files: the packs, the compiled databases and the shape sets
 * of a matcher saved in one file (`cybersieve rules compile`), so that a
 * sensor starts without reading packs or compiling patterns.
 *
 * The file holds a fixed header (magic, format version, body length, SHA-256
 * of the body) and a body: the Hyperscan version and the CPU it was built for,
 * each pack's path and digest, the packs' metadata and indicators, the
 * serialized block and stream databases and the sets as flat arrays that load
 * without re-hashing (the PDQ index alone is rebuilt). A file built by another
 * Hyperscan or for another CPU, or whose recorded pack files have changed on
 * disk, is "stale": the caller rebuilds from the packs. A file that fails its
 * checks (magic, length, digest, structure) is refused.
 * Functions here hold no state; a struct savedb_load belongs to its caller. */
#ifndef CYBERSIEVE_SAVEDB_H
#define CYBERSIEVE_SAVEDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"
#include "cybersieve/matcher.h"
#include "cybersieve/pack.h"

#define SAVEDB_MAGIC "CSRULES\x01"
#define SAVEDB_MAGIC_LEN 8

/* What the machine that loads (or wrote) a file offers. */
struct savedb_env {
	char hs_version[128];   /* hs_version() */
	uint64_t cpu_features;  /* hs_populate_platform() */
	uint32_t tune;
};

/* The running machine's. */
void savedb_env_current(struct savedb_env *env);

/* True when head[0..n) starts like a compiled rules file. */
bool savedb_detect(const uint8_t *head, size_t n);

/* Save m, built from packs[0..n_packs) (in that order), to path: written to a
 * temporary file beside it, synced, then renamed over path. The stream
 * database is saved when it was built. CS_ERR_IO (d names the file). */
enum cs_err savedb_write(const char *path, struct pack *const *packs, size_t n_packs,
			 const struct matcher *m, struct cs_diag *d);

struct savedb_load {
	struct pack **packs;     /* owned by the caller once loaded; NULL when stale */
	size_t n_packs;
	struct matcher *m;       /* built over packs; NULL when stale */
	char **paths;            /* recorded pack paths (always filled) */
	size_t n_paths;
	bool stale;              /* rebuild from paths[]; why says the reason */
	char why[512];
	double seconds;          /* time the load took */
};

/* Load path. env: the machine to compare with (NULL: the running one; tests
 * pass another to take the stale path). On CS_OK either out->m and
 * out->packs are set, or out->stale is true. CS_ERR_FORMAT for a file that is
 * damaged, truncated or not a compiled rules file; CS_ERR_IO, CS_ERR_NOMEM. */
enum cs_err savedb_read(const char *path, const struct savedb_env *env,
			struct savedb_load *out, struct cs_diag *d);

/* Free what out still owns (paths, and packs/m unless the caller took them
 * and set the pointers to NULL). */
void savedb_load_fini(struct savedb_load *out);

#endif
