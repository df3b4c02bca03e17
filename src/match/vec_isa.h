/* Which vector search loop a text scanner runs (ip4scan.h, hexscan.h): the
 * widest the CPU has, or one named, so that tests can run each loop the CPU
 * offers against the plain one. */
#ifndef CS_MATCH_VEC_ISA_H
#define CS_MATCH_VEC_ISA_H

#include <stdbool.h>

enum vec_isa { VEC_AUTO, VEC_PLAIN, VEC_AVX2, VEC_AVX512 };

/* Whether this CPU runs loop isa (VEC_AUTO and VEC_PLAIN always). */
static inline bool vec_has_isa(enum vec_isa isa)
{
	switch (isa) {
	case VEC_AUTO:
	case VEC_PLAIN:
		return true;
#if defined(__x86_64__)
	case VEC_AVX2:
		return __builtin_cpu_supports("avx2");
	case VEC_AVX512:
		return __builtin_cpu_supports("avx512bw");
#endif
	default:
		return false;
	}
}

/* The loop to run for isa: VEC_AUTO becomes the widest the CPU has. */
static inline enum vec_isa vec_pick(enum vec_isa isa)
{
	if (isa != VEC_AUTO)
		return isa;
	return vec_has_isa(VEC_AVX512) ? VEC_AVX512 : vec_has_isa(VEC_AVX2) ? VEC_AVX2 : VEC_PLAIN;
}

/* For a scanner's entry point: false when the CPU lacks *isa, else *isa
 * becomes the loop to run (vec_pick). */
static inline bool vec_choose(enum vec_isa *isa)
{
	if (!vec_has_isa(*isa))
		return false;
	*isa = vec_pick(*isa);
	return true;
}

#endif
