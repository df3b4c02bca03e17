/* Private streaming gzip decoder used by struct source: one member at a time,
 * ISA-L igzip when CS_HAVE_ISAL is defined, zlib otherwise. Each member's
 * CRC-32 and ISIZE are checked. The decoder writes only into the caller's
 * output window and keeps fixed-size state, so a gzip bomb cannot grow it.
 * Owned by one struct source; one thread at a time. */
#ifndef CS_INGEST_INFLATE_H
#define CS_INGEST_INFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"

struct inflate_stream;

enum inflate_status {
	INFLATE_MORE = 0,   /* input used up or output window full: call again */
	INFLATE_MEMBER_END, /* member and its trailer complete and checked */
	INFLATE_BAD,        /* corrupt member: *reason says why */
};

/* One call's windows. in_used and out_made are set by inflate_run(). */
struct inflate_io {
	const uint8_t *in;
	size_t in_len;
	uint8_t *out;
	size_t out_cap;
	size_t in_used;
	size_t out_made;
};

/* Errors: CS_ERR_NOMEM. The stream starts expecting a gzip header. */
enum cs_err inflate_create(struct inflate_stream **out);

/* NULL is a no-op. */
void inflate_destroy(struct inflate_stream *z);

/* Drop the current member and expect a new gzip header. */
void inflate_restart(struct inflate_stream *z);

/* Decode io->in into io->out. Stops at the end of a member (leaving the
 * bytes after it unused), when the input is used up, when the output window
 * is full, or on corrupt data. After INFLATE_BAD call inflate_restart(). */
enum inflate_status inflate_run(struct inflate_stream *z, struct inflate_io *io,
				const char **reason);

/* "isa-l" or "zlib". */
const char *inflate_engine_name(void);

#endif
