/* Run a cmocka group once for each vector search loop this CPU has
 * (src/match/vec_isa.h), with the loop under test set before each run;
 * loops the CPU lacks are named and left out. Adds the failures to failed. */
#ifndef CS_TESTS_EACH_ISA_H
#define CS_TESTS_EACH_ISA_H

#include <stdio.h>

#include "match/vec_isa.h"

#define RUN_EACH_ISA(failed, name, tests, isa_var)                                           \
	for (enum vec_isa i_ = VEC_AUTO; i_ <= VEC_AVX512; i_++) {                          \
		if (!vec_has_isa(i_)) {                                                      \
			printf("%s: search loop %d not on this CPU\n", name, (int)i_);       \
			continue;                                                            \
		}                                                                            \
		isa_var = i_;                                                                \
		failed += cmocka_run_group_tests(tests, NULL, NULL);                         \
	}

#endif
