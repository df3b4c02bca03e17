/* Shared by the fuzz targets: the libFuzzer entry point's prototype, a
 * check that aborts (so both libFuzzer and the replay runner see a finding),
 * and a cursor that reads small control values off the front of an input.
 * Every target is stateless between inputs unless its file says otherwise. */
#ifndef CS_FUZZ_H
#define CS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a finding: say which and abort. */
#define FUZZ_CHECK(cond)                                                                  \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                   \
			abort();                                                          \
		}                                                                         \
	} while (0)

struct fuzz_cur {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fuzz_u8(struct fuzz_cur *c)
{
	if (c->n == 0)
		return 0;
	c->n--;
	return *c->p++;
}

static inline uint16_t fuzz_u16(struct fuzz_cur *c)
{
	uint16_t lo = fuzz_u8(c);
	return (uint16_t)(lo | (uint16_t)fuzz_u8(c) << 8);
}

static inline uint32_t fuzz_u32(struct fuzz_cur *c)
{
	uint32_t lo = fuzz_u16(c);
	return lo | (uint32_t)fuzz_u16(c) << 16;
}

/* Up to want bytes off the front; *got says how many were there. */
static inline const uint8_t *fuzz_take(struct fuzz_cur *c, size_t want, size_t *got)
{
	const uint8_t *p = c->p;
	*got = want < c->n ? want : c->n;
	c->p += *got;
	c->n -= *got;
	return p;
}

#endif
