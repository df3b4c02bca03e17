/* MD5 of many messages at once. A body's bytes are copied into a slot of
 * the set as they stream; when a slot is full (or its message ends), its
 * whole blocks are compressed together with those of the fifteen other
 * slots holding the most, one block of each slot per step, in the sixteen
 * 32-bit lanes of an AVX-512 vector; with too few others beside it, the
 * slot is compressed alone. MD5 takes one block after another (each needs
 * the last one's result), so one message cannot go faster than libcrypto
 * takes it (about 650 MB/s here); sixteen side by side can. Bodies that
 * find no free slot, and CPUs without AVX-512, keep libcrypto's MD5
 * (app_body.c).
 * Memory: MD5_LANES_SLOTS slots of MD5_LANES_SLOT_BYTES, 512 KiB a set.
 * Owner: one per HTTP environment (one worker thread); not thread-safe. */
#ifndef CYBERSIEVE_MD5_LANES_H
#define CYBERSIEVE_MD5_LANES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cybersieve/error.h"

#define MD5_LANES_SLOTS 64
#define MD5_LANES_SLOT_BYTES 8192

struct md5_lanes;

/* True when this CPU runs the lanes (AVX-512 F). */
bool md5_lanes_supported(void);

/* Errors: CS_ERR_UNSUPPORTED without AVX-512, CS_ERR_NOMEM. */
enum cs_err md5_lanes_create(struct md5_lanes **out);

/* NULL is a no-op. */
void md5_lanes_destroy(struct md5_lanes *ml);

/* A new message: its slot, or -1 when every slot is taken. */
int md5_lanes_open(struct md5_lanes *ml);

void md5_lanes_update(struct md5_lanes *ml, int slot, const uint8_t *p, size_t n);

/* The digest of everything given to slot; the slot is free again. */
void md5_lanes_final(struct md5_lanes *ml, int slot, uint8_t out[16]);

/* Free slot without a digest (the message was dropped). */
void md5_lanes_close(struct md5_lanes *ml, int slot);

/* Work done so far: vector steps (up to sixteen blocks each) and blocks
 * compressed one at a time, for tests and benchmarks. */
void md5_lanes_counts(const struct md5_lanes *ml, uint64_t *vector_steps,
		      uint64_t *scalar_blocks);

#endif
