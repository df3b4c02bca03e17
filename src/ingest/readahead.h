/* Private read-ahead of a large regular file, used by struct source: a helper
 * thread read()s the file from its descriptor's position into one small
 * buffer and hashes it (SHA-256), running up to a lead ahead of the consumer;
 * the consumer pread()s, straight into its own buffer, only bytes the helper
 * has already hashed. So the digest runs on another core beside the reading,
 * no byte is copied twice in user space, and the helper may start before the
 * consumer is ready (while the indicators compile, say) and hash up to the
 * lead meanwhile. The two reads of a byte come moments apart from the same
 * page cache: the digest is of the file's bytes as the helper read them, up
 * to the end the helper met, and the consumer sees exactly that many bytes
 * (a file appended to while it is read ends where the helper ended; one cut
 * short under the consumer is an error; any write is seen in the file's
 * times: readahead_changed). The helper alone uses the
 * descriptor's position. Owned by one struct source; one consuming thread. */
#ifndef CS_INGEST_READAHEAD_H
#define CS_INGEST_READAHEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"

/* How far the helper may hash ahead of the consumer: page cache, not memory
 * of the process; at about 1.5 GB/s of SHA-256 it covers a third of a second
 * of compiling, and on a machine short of memory the consumer's reads of it
 * are still likely to hit the cache. */
#define READAHEAD_LEAD ((uint64_t)512 << 20)
/* The helper reads (and hashes) this much per turn, into a buffer that stays
 * in the core's cache between the read and the digest. */
#define READAHEAD_PIECE ((size_t)256 << 10)

struct readahead;

/* Start reading fd, at most `lead` bytes (>= READAHEAD_PIECE) ahead of the
 * consumer. Errors: CS_ERR_NOMEM (memory, the hash library or the thread):
 * the caller reads by itself instead. */
enum cs_err readahead_start(int fd, uint64_t lead, struct readahead **out);

/* Hand out up to len next bytes into dst, or pass over them when dst is
 * NULL; waits only until some are hashed. *n = 0 for len > 0 is the end of
 * the file.
 * Errors, once every byte read before them has been handed out: CS_ERR_IO
 * with *err set to the read's errno, or to 0 when the file ended before
 * bytes already hashed (cut short while read); CS_ERR_NOMEM when the hash
 * library failed. */
enum cs_err readahead_take(struct readahead *ra, uint8_t *dst, size_t len, size_t *n, int *err);

/* Once the helper has hashed to the end of the file without a failure,
 * true and the SHA-256 that readahead_final() will give, though bytes are
 * still to be taken; false before. */
bool readahead_hashed_all(struct readahead *ra, uint8_t out[32]);

/* The SHA-256 of every byte read, once the end has been taken. Errors:
 * CS_ERR_INVALID before the end or on a second call, CS_ERR_NOMEM. */
enum cs_err readahead_final(struct readahead *ra, uint8_t out[32]);

/* Whether the file's modification or status-change time now differs from
 * when reading began: another program wrote to it meanwhile, so the bytes
 * the consumer read may differ from those hashed. */
bool readahead_changed(const struct readahead *ra);

/* Stops the helper (mid-file too). NULL is a no-op. */
void readahead_destroy(struct readahead *ra);

#endif
