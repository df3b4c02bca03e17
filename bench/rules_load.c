/* Load time of a compiled rules file (cybersieve rules compile): the time
 * savedb_read() takes to check and load it (best of REPEAT), the process's
 * CPU seconds per load and peak resident set, and what was loaded.
 * Usage: rules_load FILE [REPEAT] */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "cybersieve/savedb.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: rules_load FILE [REPEAT]\n");
		return 2;
	}
	int rep = argc > 2 ? atoi(argv[2]) : 1;
	double best = 1e9;
	size_t n = 0, packs = 0;
	for (int i = 0; i < (rep > 0 ? rep : 1); i++) {
		struct savedb_load ld;
		struct cs_diag d;
		cs_diag_clear(&d);
		if (savedb_read(argv[1], NULL, &ld, &d) != CS_OK) {
			fprintf(stderr, "rules_load: %s: %s\n", argv[1], d.msg);
			return 1;
		}
		if (ld.stale) {
			fprintf(stderr, "rules_load: %s: stale: %s\n", argv[1], ld.why);
			savedb_load_fini(&ld);
			return 1;
		}
		n = matcher_count(ld.m);
		packs = ld.n_packs;
		if (ld.seconds < best)
			best = ld.seconds;
		savedb_load_fini(&ld);
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	printf("%s\t%zu indicators\t%zu packs\tload %.3f s\tpeak RSS %ld KB\tcpu %.3f s per load\n",
	       argv[1], n, packs, best, ru.ru_maxrss, cpu / (rep > 0 ? rep : 1));
	return 0;
}
