/* The read-ahead of a large regular file (src/ingest/readahead.h): bytes
 * handed out in order and whole for any request size, passed over with a
 * NULL buffer, from the descriptor's position, with a lead smaller and larger
 * than the file; the digest of exactly the bytes read; the helper hashing
 * ahead up to its lead and no further before anything is taken; a read error
 * told after the bytes before it; a file cut short after it was hashed (and
 * seen to have changed); a
 * stop while the helper waits for room. */
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
#define BUF_MAX ((size_t)8 << 20)
/* A lead much smaller than the file, so the helper waits for the consumer. */
#define SMALL_LEAD ((uint64_t)4 * READAHEAD_PIECE)
static const size_t data_n = 3 * BUF_MAX + 12345;

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

/* The test file opened at offset `from`, a read-ahead started on it. */
static struct readahead *start_at(size_t from, uint64_t lead, int *fd)
{
	*fd = open(path, O_RDONLY);
	assert_true(*fd >= 0);
	assert_int_equal(lseek(*fd, (off_t)from, SEEK_SET), (off_t)from);
	struct readahead *ra;
	assert_int_equal(readahead_start(*fd, lead, &ra), CS_OK);
	return ra;
}

/* Take the whole file from offset `from` in requests cycling through sizes;
 * every other round passes over its bytes instead (dst NULL) when `skip`. */
static void take_all_lead(uint64_t lead, size_t from, const size_t *sizes, size_t n_sizes,
			  bool skip)
{
	int fd;
	struct readahead *ra = start_at(from, lead, &fd);
	uint8_t *buf = malloc(BUF_MAX);
	assert_non_null(buf);
	size_t at = from, round = 0;
	uint8_t sha[32], want[32];
	for (;;) {
		size_t len = sizes[round % n_sizes], n;
		bool pass = skip && (round & 1);
		if (!pass && len > BUF_MAX)
			len = BUF_MAX; /* a copy asks no more than buf holds */
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
	assert_false(readahead_changed(ra));
	readahead_destroy(ra);
	close(fd);
	free(buf);
}

static void take_all(size_t from, const size_t *sizes, size_t n_sizes, bool skip)
{
	take_all_lead(SMALL_LEAD, from, sizes, n_sizes, skip);
	take_all_lead(READAHEAD_LEAD, from, sizes, n_sizes, skip);
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
	assert_int_equal(readahead_start(fd, SMALL_LEAD, &ra), CS_OK);
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

/* The helper's file position after it has had time to run. */
static off_t helper_position_after_wait(int fd, off_t want)
{
	for (int i = 0; i < 200 && lseek(fd, 0, SEEK_CUR) < want; i++)
		usleep(10 * 1000); /* up to two seconds */
	usleep(50 * 1000); /* had it gone on past want, it would have by now */
	return lseek(fd, 0, SEEK_CUR);
}

/* Before anything is taken the helper reads and hashes up to its lead (all
 * of a file shorter than it: the work overlaps whatever the consumer does
 * first), and no further. */
static void test_lead(void **state)
{
	(void)state;
	int fd;
	struct readahead *ra = start_at(0, SMALL_LEAD, &fd);
	assert_int_equal(helper_position_after_wait(fd, (off_t)SMALL_LEAD), (off_t)SMALL_LEAD);
	uint8_t *buf = malloc(READAHEAD_PIECE);
	assert_non_null(buf);
	size_t n;
	int err;
	assert_int_equal(readahead_take(ra, buf, READAHEAD_PIECE, &n, &err), CS_OK);
	assert_int_equal(n, READAHEAD_PIECE);
	assert_memory_equal(buf, data, n);
	/* one piece taken: room for one more */
	assert_int_equal(helper_position_after_wait(fd, (off_t)(SMALL_LEAD + READAHEAD_PIECE)),
			 (off_t)(SMALL_LEAD + READAHEAD_PIECE));
	uint8_t sha[32], want[32];
	assert_false(readahead_hashed_all(ra, sha)); /* held back by its lead */
	readahead_destroy(ra);
	/* A lead past the file: all of it hashed with nothing taken, and the
	 * digest known before the bytes are; the final one is the same. */
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(readahead_start(fd, READAHEAD_LEAD, &ra), CS_OK);
	assert_int_equal(helper_position_after_wait(fd, (off_t)data_n), (off_t)data_n);
	bool known = false;
	for (int i = 0; i < 200 && !(known = readahead_hashed_all(ra, sha)); i++)
		usleep(10 * 1000); /* until the helper has read its end of file */
	assert_true(known);
	sha256_of(data, data_n, want);
	assert_memory_equal(sha, want, 32);
	assert_true(readahead_hashed_all(ra, sha)); /* asked again: the same */
	assert_memory_equal(sha, want, 32);
	assert_int_equal(readahead_final(ra, sha), CS_ERR_INVALID); /* bytes still to take */
	size_t got = 0;
	while (readahead_take(ra, NULL, SIZE_MAX, &n, &err) == CS_OK && n > 0)
		got += n;
	assert_int_equal(got, data_n);
	memset(sha, 0, sizeof(sha));
	assert_int_equal(readahead_final(ra, sha), CS_OK);
	assert_memory_equal(sha, want, 32);
	readahead_destroy(ra);
	free(buf);
	close(fd);
}

/* A file cut short after the helper hashed it: the bytes still there, then
 * an I/O error with errno 0, and no digest. */
static void test_cut_short(void **state)
{
	(void)state;
	char cut[300];
	snprintf(cut, sizeof(cut), "%s.cut", path);
	int fd = open(cut, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	const size_t full = 4 * READAHEAD_PIECE, keep = READAHEAD_PIECE + 100;
	assert_int_equal(write(fd, data, full), (ssize_t)full);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	struct readahead *ra;
	assert_int_equal(readahead_start(fd, READAHEAD_LEAD, &ra), CS_OK);
	assert_int_equal(helper_position_after_wait(fd, (off_t)full), (off_t)full);
	assert_false(readahead_changed(ra));
	usleep(20 * 1000); /* a file time a clock tick later */
	assert_int_equal(ftruncate(fd, (off_t)keep), 0);
	assert_true(readahead_changed(ra));
	uint8_t *buf = malloc(full), sha[32];
	assert_non_null(buf);
	size_t n, got = 0;
	int err = -1;
	enum cs_err e;
	while ((e = readahead_take(ra, buf + got, full - got, &n, &err)) == CS_OK && n > 0)
		got += n;
	assert_int_equal(e, CS_ERR_IO);
	assert_int_equal(err, 0);
	assert_int_equal(got, keep);
	assert_memory_equal(buf, data, keep);
	assert_int_equal(readahead_final(ra, sha), CS_ERR_INVALID);
	readahead_destroy(ra);
	free(buf);
	close(fd);
	unlink(cut);
}

/* Dropped while the helper waits for room (its lead is full), or at once:
 * nothing hangs, nothing leaks. */
static void test_stop_early(void **state)
{
	(void)state;
	int fd;
	struct readahead *ra = start_at(0, SMALL_LEAD, &fd);
	uint8_t buf[100];
	size_t n;
	int err;
	assert_int_equal(readahead_take(ra, buf, sizeof(buf), &n, &err), CS_OK);
	assert_int_equal(n, sizeof(buf));
	assert_memory_equal(buf, data, n);
	usleep(100 * 1000); /* time for the helper to reach its lead */
	readahead_destroy(ra);
	assert_int_equal(readahead_start(fd, SMALL_LEAD, &ra), CS_OK);
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
		cmocka_unit_test(test_lead),
		cmocka_unit_test(test_cut_short),
		cmocka_unit_test(test_stop_early),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
