/* Large lookup tables on transparent huge pages (include/cybersieve/util.h).
 * The sets' probes land at random places in tables of hundreds of MB; with
 * 4 KiB pages nearly every probe also misses the TLB. Blocks of 2 MiB or
 * more are aligned to 2 MiB and marked MADV_HUGEPAGE, which the Debian
 * kernel's default ("madvise") honours; where it does not, they stay
 * ordinary pages. The memory is released with free(). Beside them, zeroed
 * arrays that a run may touch only a little (util_alloc_zeroed): their own
 * anonymous mapping, released with util_free_zeroed(). */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cybersieve/util.h"

#define UTIL_HUGE_PAGE ((size_t)2 << 20)
#define UTIL_ZEROED_MAP ((size_t)64 << 10)

void *util_alloc_huge(size_t n)
{
	if (n < UTIL_HUGE_PAGE)
		return malloc(n ? n : 1);
	void *p = NULL;
	if (posix_memalign(&p, UTIL_HUGE_PAGE, n) != 0)
		return NULL;
#ifdef MADV_HUGEPAGE
	(void)madvise(p, n & ~(UTIL_HUGE_PAGE - 1), MADV_HUGEPAGE);
#endif
	return p;
}

/* A table takes whole huge pages: all of it is advised. */
void *util_alloc_table(size_t n)
{
	if (n < UTIL_HUGE_PAGE)
		return malloc(n ? n : 1);
	size_t rounded = (n + UTIL_HUGE_PAGE - 1) & ~(UTIL_HUGE_PAGE - 1);
	return rounded < n ? NULL : util_alloc_huge(rounded);
}

void *util_calloc_table(size_t count, size_t size)
{
	if (size && count > (size_t)-1 / size)
		return NULL;
	void *p = util_alloc_table(count * size);
	if (p)
		memset(p, 0, count * size);
	return p;
}

void *util_alloc_zeroed(size_t n)
{
	if (n < UTIL_ZEROED_MAP)
		return calloc(1, n ? n : 1);
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void util_free_zeroed(void *p, size_t n)
{
	if (!p)
		return;
	if (n < UTIL_ZEROED_MAP)
		free(p);
	else
		(void)munmap(p, n);
}
