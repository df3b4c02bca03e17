/* Unit tests for the large-table allocator: sizes, zeroing, overflow, the
 * 2 MiB alignment of large blocks and, where the kernel has transparent huge
 * pages, the huge-page advice on the block's mapping (VmFlags "hg"); the
 * same for util_alloc_huge's buffers, which realloc() can still grow. Then
 * the blocks read() fills: util_alloc_io's, and util_read_file's for a
 * regular file, start on a page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "cybersieve/util.h"

#define MIB ((size_t)1 << 20)

static void test_small_blocks(void **state)
{
	(void)state;
	unsigned char *p = util_alloc_table(0);
	assert_non_null(p);
	free(p);
	p = util_calloc_table(1000, 3);
	assert_non_null(p);
	for (size_t i = 0; i < 3000; i++)
		assert_int_equal(p[i], 0);
	free(p);
}

static void test_large_blocks(void **state)
{
	(void)state;
	size_t n = 5 * MIB + 123;
	unsigned char *p = util_alloc_table(n);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % (2 * MIB), 0);
	memset(p, 0xab, n);
	assert_int_equal(p[n - 1], 0xab);
	free(p);
	uint32_t *z = util_calloc_table(3 * MIB, sizeof(uint32_t));
	assert_non_null(z);
	assert_int_equal((uintptr_t)z % (2 * MIB), 0);
	for (size_t i = 0; i < 3 * MIB; i += 4099)
		assert_int_equal(z[i], 0);
	assert_int_equal(z[3 * MIB - 1], 0);
	free(z);
}

static void test_overflow(void **state)
{
	(void)state;
	assert_null(util_calloc_table(SIZE_MAX / 2, 3));
	assert_null(util_alloc_table(SIZE_MAX - 5));
}

/* The VmFlags line of the mapping that holds address a, from /proc/self/smaps. */
static int vmflags_of(uintptr_t a, char *flags, size_t cap)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0, found = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = a >= lo && a < hi;
			continue;
		}
		if (in && strncmp(line, "VmFlags:", 8) == 0) {
			snprintf(flags, cap, "%s", line + 8);
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

static void test_huge_page_advice(void **state)
{
	(void)state;
	if (access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) != 0) {
		print_message("no transparent huge pages in this kernel: advice not checked\n");
		skip();
	}
	size_t n = 8 * MIB;
	unsigned char *p = util_alloc_table(n);
	assert_non_null(p);
	p[0] = 1;
	char flags[512];
	assert_int_equal(vmflags_of((uintptr_t)p + MIB, flags, sizeof(flags)), 0);
	if (!strstr(flags, " hg"))
		fail_msg("no huge-page advice on the table's mapping: VmFlags:%s", flags);
	free(p);
}

/* util_alloc_huge: small sizes plain; a chunk-sized buffer 2 MiB-aligned, its
 * whole 2 MiB stretches advised (where the kernel has huge pages), and
 * realloc() still growing it with its bytes kept; util_alloc_io's blocks from
 * 2 MiB up the same. */
static void test_huge_buffers(void **state)
{
	(void)state;
	unsigned char *q = util_alloc_huge(100);
	assert_non_null(q);
	memset(q, 7, 100);
	free(q);
	size_t n = 4 * MIB + 64;
	unsigned char *p = util_alloc_huge(n);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % (2 * MIB), 0);
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 31);
	if (access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0) {
		char flags[512];
		assert_int_equal(vmflags_of((uintptr_t)p + MIB, flags, sizeof(flags)), 0);
		if (!strstr(flags, " hg"))
			fail_msg("no huge-page advice on the buffer's mapping: VmFlags:%s", flags);
	}
	/* A read block from 2 MiB up (a compiled rules file read whole) is one. */
	unsigned char *io = util_alloc_io(8 * MIB);
	assert_non_null(io);
	assert_int_equal((uintptr_t)io % (2 * MIB), 0);
	io[0] = 1;
	if (access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0) {
		char flags[512];
		assert_int_equal(vmflags_of((uintptr_t)io + MIB, flags, sizeof(flags)), 0);
		if (!strstr(flags, " hg"))
			fail_msg("no huge-page advice on a large read block: VmFlags:%s", flags);
	}
	free(io);
	unsigned char *g = realloc(p, 9 * MIB);
	assert_non_null(g);
	for (size_t i = 0; i < n; i++)
		if (g[i] != (unsigned char)(i * 31))
			fail_msg("byte %zu lost in realloc", i);
	free(g);
}

static void test_io_blocks(void **state)
{
	(void)state;
	size_t sizes[] = {0, 1, 16, 4095, 4096, 65537, 8 * MIB + 4096};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = util_alloc_io(sizes[i]);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 4096, 0);
		memset(p, 0xa5, sizes[i]);
		if (sizes[i])
			assert_int_equal(p[sizes[i] - 1], 0xa5);
		free(p);
	}
	/* A file of 300,001 bytes read whole: its block starts on a page, and
	 * holds the bytes and the closing NUL. */
	char path[] = "/tmp/cs_test_io_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t n = 300001;
	unsigned char *want = malloc(n);
	assert_non_null(want);
	for (size_t i = 0; i < n; i++)
		want[i] = (unsigned char)('a' + i % 26);
	assert_int_equal(write(fd, want, n), (ssize_t)n);
	close(fd);
	char *got = NULL;
	size_t len = 0;
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(util_read_file(path, 1 << 20, "test file", &got, &len, &d), CS_OK);
	unlink(path);
	assert_int_equal(len, n);
	assert_int_equal((uintptr_t)got % 4096, 0);
	assert_memory_equal(got, want, n);
	assert_int_equal(got[n], '\0');
	free(got);
	free(want);
}

/* util_alloc_zeroed: zeroed at either size; a large block is its own
 * mapping, whose pages are not resident until touched (mincore). */
static void test_zeroed(void **state)
{
	(void)state;
	static const size_t sizes[] = {0, 100, 64 << 10, 4 * MIB + 12};
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		unsigned char *p = util_alloc_zeroed(n);
		assert_non_null(p);
		if (n >= MIB) {
			long pg = sysconf(_SC_PAGESIZE);
			unsigned char vec[4];
			/* Untouched: not resident; written: resident. */
			assert_int_equal(mincore(p + 3 * MIB, (size_t)pg, vec), 0);
			assert_int_equal(vec[0] & 1, 0);
			p[3 * MIB] = 9;
			assert_int_equal(mincore(p + 3 * MIB, (size_t)pg, vec), 0);
			assert_int_equal(vec[0] & 1, 1);
			p[3 * MIB] = 0;
		}
		for (size_t i = 0; i < n; i += 997)
			assert_int_equal(p[i], 0);
		if (n)
			memset(p, 0x5a, n);
		util_free_zeroed(p, n);
	}
	util_free_zeroed(NULL, 1 << 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_blocks),
		cmocka_unit_test(test_large_blocks),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_huge_page_advice),
		cmocka_unit_test(test_io_blocks),
		cmocka_unit_test(test_huge_buffers),
		cmocka_unit_test(test_zeroed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
