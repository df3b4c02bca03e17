/* Unit tests for walk_paths (src/ingest/walk.c): sorted recursive listing,
 * symlinks followed, loops and second visits reported, special files,
 * unreadable entries, and the shard split. Trees are built in a temporary
 * directory removed at the end. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cybersieve/ingest.h"

static char tmpdir[256];

static const char *tp(const char *rel)
{
	static char buf[8][512];
	static int next;
	char *p = buf[next++ % 8];
	snprintf(p, 512, "%s/%s", tmpdir, rel);
	return p;
}

static void mk_dir(const char *rel)
{
	assert_int_equal(mkdir(tp(rel), 0755), 0);
}

static void mk_file(const char *rel, size_t size)
{
	FILE *f = fopen(tp(rel), "wb");
	assert_non_null(f);
	for (size_t i = 0; i < size; i++)
		fputc('x', f);
	assert_int_equal(fclose(f), 0);
}

static void mk_link(const char *target, const char *rel)
{
	assert_int_equal(symlink(target, tp(rel)), 0);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	chmod(p, 0755);
	return remove(p);
}

static int setup(void **state)
{
	(void)state;
	const char *base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/cs-ingest-walk-XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	/* Directories made unreadable by a failed test must become removable. */
	chmod(tp("t3/locked"), 0755);
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void walk_one(const char *path, unsigned k, unsigned n, struct walk_list *l)
{
	const char *paths[] = { path };
	struct walk_opts o = { k, n };
	assert_int_equal(walk_paths(paths, 1, &o, l), CS_OK);
}

static const struct walk_entry *find(const struct walk_list *l, const char *path)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].path, path))
			return &l->v[i];
	return NULL;
}

static void test_nested_sorted(void **state)
{
	(void)state;
	mk_dir("t1");
	mk_dir("t1/b");
	mk_dir("t1/a");
	mk_dir("t1/a/x");
	mk_dir("t1/empty");
	mk_file("t1/b/z.txt", 3);
	mk_file("t1/b/a.txt", 1);
	mk_file("t1/a/x/y.txt", 10);
	mk_file("t1/c.txt", 0);
	mk_file("t1/B.txt", 7);
	mk_file("t1/a-1", 2);
	mk_link("b/z.txt", "t1/zlink");
	const char *want[] = { "B.txt", "a/x/y.txt", "a-1", "b/a.txt", "b/z.txt", "c.txt",
			       "zlink" };
	struct walk_list l;

	walk_one(tp("t1"), 0, 1, &l);
	assert_int_equal(l.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < l.n; i++) {
		char p[512];
		snprintf(p, sizeof(p), "%s/t1/%s", tmpdir, want[i]);
		assert_string_equal(l.v[i].path, p);
		assert_int_equal(l.v[i].status, WALK_FILE);
		assert_null(l.v[i].reason);
	}
	assert_int_equal(l.v[0].size, 7);
	assert_int_equal(l.v[1].size, 10);
	assert_int_equal(l.v[6].size, 3); /* the link's target */
	walk_list_fini(&l);
	assert_int_equal(l.n, 0);
	assert_null(l.v);

	/* A trailing slash does not double the separator. */
	char arg[512];
	snprintf(arg, sizeof(arg), "%s/t1/b/", tmpdir);
	walk_one(arg, 0, 0, &l);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].path, tp("t1/b/a.txt"));
	walk_list_fini(&l);
}

static void test_symlink_loop(void **state)
{
	(void)state;
	mk_dir("t2");
	mk_dir("t2/a");
	mk_dir("t2/a/x");
	mk_file("t2/a/x/f.log", 5);
	mk_link("../..", "t2/a/x/up");      /* back to t2: a loop */
	mk_link("a", "t2/again");           /* t2/a a second time: not a loop */
	mk_link("nowhere", "t2/broken");
	struct walk_list l;

	walk_one(tp("t2"), 0, 1, &l);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.v[0].path, tp("t2/a/x/f.log"));
	assert_int_equal(l.v[0].status, WALK_FILE);

	const struct walk_entry *up = find(&l, tp("t2/a/x/up"));
	assert_non_null(up);
	assert_int_equal(up->status, WALK_LOOP);
	assert_non_null(strstr(up->reason, tp("t2/a/x/up")));
	char back[600];
	snprintf(back, sizeof(back), "points back to %s", tp("t2"));
	assert_non_null(strstr(up->reason, back));

	const struct walk_entry *again = find(&l, tp("t2/again"));
	assert_non_null(again);
	assert_int_equal(again->status, WALK_LOOP);
	assert_non_null(strstr(again->reason, tp("t2/a")));

	const struct walk_entry *broken = find(&l, tp("t2/broken"));
	assert_non_null(broken);
	assert_int_equal(broken->status, WALK_ERROR);
	assert_non_null(broken->reason);
	/* Order is the sorted order: a/..., again, broken. */
	assert_ptr_equal(again, &l.v[2]);
	assert_ptr_equal(broken, &l.v[3]);
	walk_list_fini(&l);
}

/* Thousands of directories: the table of directories seen grows many times
 * while others are on the current path. The path must still be known after
 * each growth (a loop back to a directory on it is still a loop) and the
 * old table must not be read once freed (it was: a crash past ~4,000). */
static void test_many_dirs(void **state)
{
	(void)state;
	enum { N = 6000 };
	mk_dir("t6");
	mk_dir("t6/x");
	mk_dir("t6/x/y");
	char rel[64];
	for (int i = 0; i < N; i++) {
		snprintf(rel, sizeof(rel), "t6/x/y/d%04d", i);
		mk_dir(rel);
	}
	mk_file("t6/x/y/d5999/last.log", 4);
	mk_link("../..", "t6/x/y/d5999/up"); /* back to t6/x, on the path */
	struct walk_list l;

	walk_one(tp("t6"), 0, 1, &l);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].path, tp("t6/x/y/d5999/last.log"));
	assert_int_equal(l.v[0].status, WALK_FILE);
	assert_string_equal(l.v[1].path, tp("t6/x/y/d5999/up"));
	assert_int_equal(l.v[1].status, WALK_LOOP);
	char back[600];
	snprintf(back, sizeof(back), "points back to %s", tp("t6/x"));
	if (!strstr(l.v[1].reason, back))
		fail_msg("reason: %s", l.v[1].reason);
	walk_list_fini(&l);
}

static void test_special_and_unreadable(void **state)
{
	(void)state;
	mk_dir("t3");
	mk_file("t3/ok.log", 1);
	assert_int_equal(mkfifo(tp("t3/pipe"), 0600), 0);
	mk_dir("t3/locked");
	mk_file("t3/locked/in.log", 1);
	mk_file("t3/secret.log", 1);
	assert_int_equal(chmod(tp("t3/locked"), 0), 0);
	assert_int_equal(chmod(tp("t3/secret.log"), 0), 0);
	struct walk_list l;

	walk_one(tp("t3"), 0, 1, &l);
	const struct walk_entry *e = find(&l, tp("t3/pipe"));
	assert_non_null(e);
	assert_int_equal(e->status, WALK_ERROR);
	assert_string_equal(e->reason, "not a regular file");
	assert_int_equal(find(&l, tp("t3/ok.log"))->status, WALK_FILE);
	if (geteuid() != 0) {
		char ebuf[128];
		const char *denied = strerror_r(EACCES, ebuf, sizeof(ebuf));
		e = find(&l, tp("t3/locked"));
		assert_non_null(e);
		assert_int_equal(e->status, WALK_ERROR);
		assert_non_null(strstr(e->reason, denied));
		e = find(&l, tp("t3/secret.log"));
		assert_non_null(e);
		assert_int_equal(e->status, WALK_ERROR);
		assert_non_null(strstr(e->reason, denied));
		assert_int_equal(l.n, 4);
	}
	walk_list_fini(&l);
	assert_int_equal(chmod(tp("t3/locked"), 0755), 0);
	assert_int_equal(chmod(tp("t3/secret.log"), 0644), 0);

	/* The same fifo named on the command line is an input. */
	walk_one(tp("t3/pipe"), 0, 1, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].status, WALK_FILE);
	walk_list_fini(&l);
}

static void test_missing_and_stdin_in_every_shard(void **state)
{
	(void)state;
	const char *paths[] = { tp("no/such/file"), "-" };
	char ebuf[128];
	const char *enoent = strerror_r(ENOENT, ebuf, sizeof(ebuf));

	for (unsigned k = 0; k < 5; k++) {
		struct walk_opts o = { k, 5 };
		struct walk_list l;
		assert_int_equal(walk_paths(paths, 2, &o, &l), CS_OK);
		assert_int_equal(l.n, 2);
		assert_string_equal(l.v[0].path, paths[0]);
		assert_int_equal(l.v[0].status, WALK_ERROR);
		assert_non_null(strstr(l.v[0].reason, enoent));
		assert_string_equal(l.v[1].path, "-");
		assert_int_equal(l.v[1].status, WALK_FILE);
		walk_list_fini(&l);
	}
}

static void test_shard_of_known_values(void **state)
{
	(void)state;
	/* FNV-1a 64 test vectors: "" -> cbf29ce484222325, "a" -> af63dc4c8601ec8c. */
	assert_int_equal(walk_shard_of("", 1000003), (unsigned)(0xcbf29ce484222325ULL % 1000003));
	assert_int_equal(walk_shard_of("a", 7), (unsigned)(0xaf63dc4c8601ec8cULL % 7));
	assert_int_equal(walk_shard_of("foobar", 1000003),
			 (unsigned)(0x85944171f73967e8ULL % 1000003));
	assert_int_equal(walk_shard_of("anything", 1), 0);
	assert_int_equal(walk_shard_of("anything", 0), 0);
}

static void test_shards_partition(void **state)
{
	(void)state;
	mk_dir("t4");
	for (int d = 0; d < 8; d++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "t4/d%d", d);
		mk_dir(rel);
		for (int f = 0; f < 25; f++) {
			snprintf(rel, sizeof(rel), "t4/d%d/f%02d.log", d, f);
			mk_file(rel, (size_t)f);
		}
	}
	assert_int_equal(mkfifo(tp("t4/d3/pipe"), 0600), 0);
	struct walk_list all, again;
	walk_one(tp("t4"), 0, 1, &all);
	walk_one(tp("t4"), 0, 1, &again);
	assert_int_equal(all.n, 201);
	assert_int_equal(again.n, all.n);
	for (size_t i = 0; i < all.n; i++)
		assert_string_equal(all.v[i].path, again.v[i].path);
	walk_list_fini(&again);

	const unsigned n = 4;
	size_t total = 0;
	int *owner = calloc(all.n, sizeof(int));
	for (unsigned k = 0; k < n; k++) {
		struct walk_list s;
		walk_one(tp("t4"), k, n, &s);
		assert_true(s.n > 0 && s.n < all.n);
		size_t pos = 0;
		for (size_t i = 0; i < s.n; i++) {
			assert_int_equal(walk_shard_of(s.v[i].path, n), k);
			/* Same relative order as the full list. */
			while (pos < all.n && strcmp(all.v[pos].path, s.v[i].path))
				pos++;
			assert_true(pos < all.n);
			assert_int_equal(all.v[pos].status, s.v[i].status);
			owner[pos]++;
		}
		total += s.n;
		walk_list_fini(&s);
	}
	assert_int_equal(total, all.n);
	for (size_t i = 0; i < all.n; i++)
		assert_int_equal(owner[i], 1);
	free(owner);
	walk_list_fini(&all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_sorted),
		cmocka_unit_test(test_symlink_loop),
		cmocka_unit_test(test_many_dirs),
		cmocka_unit_test(test_special_and_unreadable),
		cmocka_unit_test(test_missing_and_stdin_in_every_shard),
		cmocka_unit_test(test_shard_of_known_values),
		cmocka_unit_test(test_shards_partition),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
