/* The read-ahead of a large regular file (src/ingest/readahead.h): bytes
 * handed out in order and whole for any request size, passed over with a
 * NULL buffer, from the descriptor's position; the digest of exactly the
 * bytes read; a read error told after the bytes before it; a stop while the
 * helper waits for room. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "ingest/readahead.h"

static char path[256];
static uint8_t *data;
static const size_t data_n = 3 * READAHEAD_RING + 12345;

static void sha256_of(const uint8_t *p, size_t n, uint8_t out[32])
{
	unsigned len = 0;
	assert_int_equal(EVP_Digest(p, n, out, &len, EVP_sha256(), NULL), 1);
}

static int setup(void **state)
{
	(void)state;
	const char *base = getenv("TMPDIR");
	snprintf(path, sizeof(path), "%s/cs-readahead-XXXXXX", base && *base ? base : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0 || !(data = malloc(data_n)))
		return -1;
	uint32_t x = 12345;
	for (size_t i = 0; i < data_n; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (uint8_t)(x >> 24);
	}
	size_t off = 0;
	while (off < data_n) {
		ssize_t w = write(fd, data + off, data_n - off);
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	free(data);
	return 0;
}

/* Take the whole file from offset `from` in requests cycling through sizes;
 * every other round passes over its bytes instead (dst NULL) when `skip`. */
static void take_all(size_t from, const size_t *sizes, size_t n_sizes, bool skip)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, (off_t)from, SEEK_SET), (off_t)from);
	struct readahead *ra;
	assert_int_equal(readahead_start(fd, &ra), CS_OK);
	uint8_t *buf = malloc(READAHEAD_RING);
	assert_non_null(buf);
	size_t at = from, round = 0;
	uint8_t sha[32], want[32];
	for (;;) {
		size_t len = sizes[round % n_sizes], n;
		bool pass = skip && (round & 1);
		if (!pass && len > READAHEAD_RING)
			len = READAHEAD_RING; /* a copy asks no more than buf holds */
		int err = -1;
		round++;
		assert_int_equal(readahead_take(ra, pass ? NULL : buf, len, &n, &err), CS_OK);
		assert_int_equal(err, 0);
		assert_true(n <= len);
		if (n == 0)
			break;
		assert_true(at + n <= data_n);
		if (!pass)
			assert_memory_equal(buf, data + at, n);
		at += n;
		/* no digest while bytes are left */
		if (round == 1 && at < data_n)
			assert_int_equal(readahead_final(ra, sha), CS_ERR_INVALID);
	}
	assert_int_equal(at, data_n);
	assert_int_equal(readahead_final(ra, sha), CS_OK);
	sha256_of(data + from, data_n - from, want);
	assert_memory_equal(sha, want, 32);
	assert_int_equal(readahead_final(ra, sha), CS_ERR_INVALID); /* once only */
	readahead_destroy(ra);
	close(fd);
	free(buf);
}

static void test_sizes(void **state)
{
	(void)state;
	static const size_t odd[] = { 1, 4097, READAHEAD_PIECE + 3, 17, 3 * READAHEAD_PIECE };
	static const size_t whole[] = { 4 * READAHEAD_PIECE };
	take_all(0, odd, sizeof(odd) / sizeof(odd[0]), false);
	take_all(0, whole, 1, false);
	take_all(0, odd, sizeof(odd) / sizeof(odd[0]), true);
	static const size_t rest[] = { SIZE_MAX };
	take_all(0, rest, 1, true); /* the first round copies, the rest is passed over */
}

/* Reading starts where the descriptor stands (stdin with a line read off). */
static void test_from_position(void **state)
{
	(void)state;
	static const size_t sizes[] = { 65536, 777 };
	take_all(11, sizes, 2, false);
	take_all(data_n - 5, sizes, 2, false);
}

/* A read that fails: every byte before it, then the error with its errno. */
static void test_read_error(void **state)
{
	(void)state;
	int fd = open(".", O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	struct readahead *ra;
	assert_int_equal(readahead_start(fd, &ra), CS_OK);
	uint8_t buf[16], sha[32];
	size_t n = 1;
	int err = 0;
	assert_int_equal(readahead_take(ra, buf, sizeof(buf), &n, &err), CS_ERR_IO);
	assert_int_equal(n, 0);
	assert_int_equal(err, EISDIR);
	assert_int_equal(readahead_take(ra, buf, sizeof(buf), &n, &err), CS_ERR_IO);
	assert_int_equal(readahead_final(ra, sha), CS_ERR_INVALID);
	readahead_destroy(ra);
	close(fd);
}

/* Dropped while the helper waits for room in a full ring, or at once:
 * nothing hangs, nothing leaks. */
static void test_stop_early(void **state)
{
	(void)state;
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	struct readahead *ra;
	assert_int_equal(readahead_start(fd, &ra), CS_OK);
	uint8_t buf[100];
	size_t n;
	int err;
	assert_int_equal(readahead_take(ra, buf, sizeof(buf), &n, &err), CS_OK);
	assert_int_equal(n, sizeof(buf));
	assert_memory_equal(buf, data, n);
	usleep(100 * 1000); /* time for the helper to fill the ring */
	readahead_destroy(ra);
	assert_int_equal(readahead_start(fd, &ra), CS_OK);
	readahead_destroy(ra);
	readahead_destroy(NULL);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_from_position),
		cmocka_unit_test(test_read_error),
		cmocka_unit_test(test_stop_early),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
