/* Ingest: where bytes come from.
 *
 * struct source is one input opened for sequential reading: a plain file, a
 * gzip file (one or many members, found by its magic bytes, never its name),
 * or stdin ("-"). It hands out the decompressed bytes and keeps the SHA-256
 * of the raw bytes as read from disk. Owned by the caller; one thread at a time.
 *
 * walk_paths() expands the command line's paths (files, directories walked
 * recursively with symlink loops detected, "-") into an ordered list of
 * inputs, keeps this shard's share, and reports what it could not enter. */
#ifndef CYBERSIEVE_INGEST_H
#define CYBERSIEVE_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"

struct source;

struct source_info {
	bool is_gzip;
	bool is_stdin;
	uint64_t raw_size;      /* st_size at open, 0 for stdin/pipes */
	bool changed;           /* a large regular file written to while it was read (known at
				 * source_finish): the digest is of its bytes as the hashing read
				 * them, and the scan's reads of them came moments later */
	uint64_t raw_read;      /* raw (compressed) bytes consumed so far */
	uint64_t out_bytes;     /* decompressed bytes handed out so far */
	uint32_t gz_members;    /* gzip members started so far */
	uint32_t gz_resyncs;    /* corrupt stretches skipped to reach a later member */
};

/* A regular file larger than this is read and hashed ahead by a helper
 * thread (src/ingest/readahead.h); smaller ones are hashed as they are read. */
#define SOURCE_READAHEAD_MIN ((uint64_t)8 << 20)

/* Open path ("-" is stdin). Errors: CS_ERR_IO (d names path and errno). */
enum cs_err source_open(const char *path, struct source **out, struct cs_diag *d);
/* The same, with a stop flag (may be NULL): once *stop is non-zero, a read
 * that would wait on a pipe, FIFO, socket or terminal returns CS_ERR_STOPPED
 * within a fifth of a second instead (source_finish too: the digest of a
 * pipe read only in part is not known). Regular files are read as usual. */
enum cs_err source_open_ex(const char *path, const volatile int *stop, struct source **out,
			   struct cs_diag *d);

/* Read up to cap decompressed bytes into buf; *got = 0 means end of input.
 * On corrupt gzip data returns CS_ERR_FORMAT with d->offset = raw offset of the
 * damage and the message giving the decompressed offset too; the caller may call
 * again: the reader skips to the next gzip member header if there is one (counted
 * in gz_resyncs), or reports end of input. CS_ERR_IO on a read error. */
enum cs_err source_read(struct source *s, uint8_t *buf, size_t cap, size_t *got,
			struct cs_diag *d);

/* The SHA-256 of all raw bytes, known before they are all read when a
 * read-ahead has hashed the whole file (a large regular file: the helper runs
 * ahead of the reading): true then, with the digest source_finish() gives
 * unless reading fails before the end. False while unknown. */
bool source_digest_known(struct source *s, uint8_t sha256[32]);

/* Read and hash whatever raw bytes are left (so the digest covers the whole
 * file even if decoding stopped early), then give the SHA-256 of all raw bytes. */
enum cs_err source_finish(struct source *s, uint8_t sha256[32], struct cs_diag *d);

void source_get_info(const struct source *s, struct source_info *info);

/* NULL is a no-op. */
void source_destroy(struct source *s);

/* Name of the inflate engine compiled in: "isa-l" or "zlib". */
const char *source_inflate_engine(void);

enum walk_status {
	WALK_FILE = 0,      /* an input to scan */
	WALK_ERROR,         /* could not be opened or entered: reason given */
	WALK_LOOP,          /* directory already visited through a symlink */
};

struct walk_entry {
	char *path;            /* as reached from the command-line argument */
	enum walk_status status;
	char *reason;          /* NULL for WALK_FILE */
	uint64_t size;         /* st_size for regular files */
};

struct walk_list {
	struct walk_entry *v;
	size_t n;
	size_t cap;
};

struct walk_opts {
	unsigned shard_k;       /* keep entries whose shard is k (0-based) ... */
	unsigned shard_n;       /* ... of n; n = 0 or 1 keeps everything */
};

/* Expand paths in command-line order; directory entries sorted bytewise so
 * that the order (and so the shard split) is the same on every machine.
 * Only regular files, "-" and errors are listed; special files are errors.
 * Sharding is by a stable hash of the path (FNV-1a 64 of the bytes) mod n;
 * "-" is never sharded away. Errors for entries go in the list, not the return:
 * the return is CS_ERR_NOMEM only. */
enum cs_err walk_paths(const char *const *paths, size_t n, const struct walk_opts *opts,
		       struct walk_list *out);

/* Which shard a path belongs to (exposed for tests). */
unsigned walk_shard_of(const char *path, unsigned shard_n);

void walk_list_fini(struct walk_list *l);

#endif
