/* Private read-ahead of a large regular file, used by struct source: a helper
 * thread read()s the file from its descriptor's position into a fixed ring,
 * hashes each piece (SHA-256) as soon as it is read, and only then hands it
 * on. The consumer's thread copies bytes out of the ring, so the read
 * syscall's copy and the digest run beside it rather than in it (the
 * feeding ring of digest.h copies every byte once more in the consumer's
 * thread). The digest is of exactly the bytes read, in order, up to the end
 * of the file; the consumer sees only hashed bytes. The helper alone uses
 * the descriptor's position: the consumer may still pread() what it has
 * passed. Owned by one struct source; one consuming thread. */
#ifndef CS_INGEST_READAHEAD_H
#define CS_INGEST_READAHEAD_H

#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"

/* The ring: the most memory a read-ahead holds. */
#define READAHEAD_RING ((size_t)8 << 20)
/* The helper reads (and hashes) at most this much per turn. */
#define READAHEAD_PIECE ((size_t)1 << 20)

struct readahead;

/* Start reading fd. Errors: CS_ERR_NOMEM (memory, the hash library or the
 * thread): the caller reads by itself instead. */
enum cs_err readahead_start(int fd, struct readahead **out);

/* Hand out up to len next bytes into dst, or pass over them when dst is
 * NULL; waits only until some are read. *n = 0 for len > 0 is the end of
 * the file.
 * Errors, once every byte read before them has been handed out: CS_ERR_IO
 * with *err set to the read's errno; CS_ERR_NOMEM when the hash library
 * failed. */
enum cs_err readahead_take(struct readahead *ra, uint8_t *dst, size_t len, size_t *n, int *err);

/* The SHA-256 of every byte read, once the end has been taken. Errors:
 * CS_ERR_INVALID before the end or on a second call, CS_ERR_NOMEM. */
enum cs_err readahead_final(struct readahead *ra, uint8_t out[32]);

/* Stops the helper (mid-file too). NULL is a no-op. */
void readahead_destroy(struct readahead *ra);

#endif
