/* Private SHA-256 of an input's raw bytes, used by struct source. The first
 * DIGEST_INLINE_MAX bytes are hashed in the caller's thread; past them a
 * helper thread takes over, fed through a fixed ring of copies, so a large
 * input's digest (about 1 CPU-second per GB) runs beside reading, inflating
 * and decoding instead of in front of them. Small inputs never start a
 * thread. The digest is of exactly the bytes given, in order, whichever
 * thread hashed them. A regular file past DIGEST_INLINE_MAX is read and
 * hashed by readahead.h instead. Owned by one struct source; one feeding
 * thread. */
#ifndef CS_INGEST_DIGEST_H
#define CS_INGEST_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"

/* Bytes hashed in the caller's thread before the helper is started. */
#define DIGEST_INLINE_MAX ((size_t)8 << 20)
/* The helper's ring of copies: the most memory a digest holds. */
#define DIGEST_RING ((size_t)8 << 20)

struct digest_stream;

/* Errors: CS_ERR_NOMEM. */
enum cs_err digest_create(struct digest_stream **out);

/* Stops the helper if it runs. NULL is a no-op. */
void digest_destroy(struct digest_stream *h);

/* Add bytes. Waits only while the ring is full. Errors: CS_ERR_NOMEM (the
 * hash library failed). Without a helper (it could not be started) the
 * bytes are hashed here. */
enum cs_err digest_update(struct digest_stream *h, const void *p, size_t n);

/* Wait until every byte given is hashed, then write the digest. Nothing may
 * be added after. Errors: CS_ERR_NOMEM; CS_ERR_INVALID on a second call
 * (the first one's answer stands, right or failed). */
enum cs_err digest_final(struct digest_stream *h, uint8_t out[32]);

/* Whether a helper thread was started (for tests). */
bool digest_threaded(const struct digest_stream *h);

#endif
