/* Small shared pieces: time stamps, random ids, hex. Thread-safe, no state. */
#ifndef CYBERSIEVE_UTIL_H
#define CYBERSIEVE_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cybersieve/error.h"

/* "2026-11-30T03:14:39.123Z" (RFC 3339, UTC, milliseconds); out >= 32 bytes. */
void util_rfc3339(const struct timespec *ts, char *out, size_t cap);
/* Same from nanoseconds since the epoch, with nanosecond precision. */
void util_rfc3339_ns(uint64_t ns, char *out, size_t cap);

/* Random UUID version 4 in canonical text form; out >= 37 bytes. */
void util_uuid4(char *out, size_t cap);

/* Lower-case hex of n bytes; out >= 2n + 1. */
void util_hex(const uint8_t *b, size_t n, char *out);
/* The value of a hex digit of either case, -1 for any other byte: a table
 * lookup, not a branch per character (a digest's digits and letters follow
 * no pattern a branch predictor could learn). */
extern const int8_t util_hex_tab[256];
static inline int util_hex_digit(unsigned char c)
{
	return util_hex_tab[c];
}
/* Decode 2n hex digits of either case into n bytes; false on any other
 * character (out is then undefined). */
bool util_hex_decode(const void *hex, size_t n, uint8_t *out);

double util_now_mono(void);



/* Number of '\n' bytes in p[0..n). */
uint64_t util_count_nl(const uint8_t *p, size_t n);
/* Move *s past leading spaces and tabs and shorten *n past trailing ones. */
void util_trim_blanks(const char **s, size_t *n);
/* Write all of p[0..n) to fd, retried on EINTR and short writes; false on
 * an error (errno says which) or a write of nothing. */
bool util_write_all(int fd, const void *p, size_t n);
/* Read a whole file (at most max bytes; `what` names it in the error) into a new
 * NUL-terminated buffer. CS_ERR_IO (errno in d), CS_ERR_LIMIT, CS_ERR_NOMEM. */
enum cs_err util_read_file(const char *path, size_t max, const char *what, char **out,
			   size_t *out_len, struct cs_diag *d);
/* A block of n bytes for read() to fill, starting on a page (NULL when no
 * memory); release with free(). On some x86 CPUs the kernel's copy out of
 * the page cache runs three to four times slower when each byte lands 1 to
 * 31 bytes past the page offset it has in the file: a read from a page
 * boundary of the file into a block from malloc(), which starts 16 bytes
 * past a page (bench/README.md, "Where read() puts the bytes"). From 2 MiB
 * up the block is util_alloc_huge()'s (below). */
void *util_alloc_io(size_t n);
/* False for a POSIX pattern that glibc's regcomp could blow up on: longer
 * than 1024 bytes, or with stacked repetitions ("a+++", "a*{2}"). Callers
 * refuse such patterns (or skip them, counted) instead of compiling them. */
bool util_regex_tame(const char *p);
/* A block for a large read-mostly lookup table (n bytes; zeroed by the
 * calloc form, NULL on overflow or no memory). From 2 MiB up it sits on
 * transparent huge pages where the kernel allows. Release with free(). */
void *util_alloc_table(size_t n);
void *util_calloc_table(size_t count, size_t size);
/* A large buffer written and read over and over (a chunk): n bytes, its
 * whole 2 MiB stretches on huge pages where the kernel grants them, the rest
 * on ordinary pages, so that filling it faults once per 2 MiB rather than
 * per 4 KiB. free() releases it; realloc() may move it off huge pages. */
void *util_alloc_huge(size_t n);
/* n zeroed bytes for a large array of which a run may touch only a little
 * (a hash table's buckets): from 64 KiB up an anonymous mapping, whose pages
 * cost neither time nor memory until first touched; calloc() below. NULL
 * when no memory. Release with util_free_zeroed(p, n), the same n. */
void *util_alloc_zeroed(size_t n);
void util_free_zeroed(void *p, size_t n);
/* pthread_create with every signal blocked in the new thread, so that
 * signals go to the threads that act on them; pthread_create's result. */
int util_thread_start_quiet(pthread_t *th, void *(*fn)(void *), void *arg);

#endif
