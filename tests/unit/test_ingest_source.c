/* Unit tests for struct source (src/ingest/source.c, src/ingest/inflate.c):
 * plain and gzip reading, multi-member streams, damage and resync, raw-buffer
 * boundaries, SHA-256 of the raw bytes, open errors. Inputs are generated
 * here with zlib into a temporary directory removed at the end. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "cybersieve/ingest.h"
#include "ingest/digest.h"

/* The reader's raw block size; the boundary test places member ends around it. */
#define RAW_BLOCK ((size_t)1 << 20)

struct bytes {
	uint8_t *p;
	size_t n, cap;
};

static char tmpdir[256];

static void bytes_add(struct bytes *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->n + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		assert_non_null(b->p);
		b->cap = cap;
	}
	if (n && p) /* p NULL: just make room, the caller writes the bytes */
		memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void bytes_free(struct bytes *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Log-like text, deterministic from seed. */
static struct bytes make_text(size_t n, uint32_t seed)
{
	static const char *words[] = { "GET", "POST", "/index.html", "200", "404", "alpha",
				       "wallet", "bc1qexample", "user=bob", "ip=10.0.0.7" };
	struct bytes b = { 0 };
	char line[160];
	uint32_t x = seed * 2654435761u + 1;

	while (b.n < n) {
		int len = snprintf(line, sizeof(line), "%08x", x);
		for (int w = 0; w < 6; w++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			len += snprintf(line + len, sizeof(line) - (size_t)len, " %s", words[x % 10]);
		}
		line[len++] = '\n';
		bytes_add(&b, line, (size_t)len < n - b.n ? (size_t)len : n - b.n);
	}
	return b;
}

static struct bytes make_random(size_t n, uint32_t seed)
{
	struct bytes b = { 0 };
	uint32_t x = seed | 1;

	bytes_add(&b, NULL, n);
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		b.p[i] = (uint8_t)(x >> 7);
	}
	return b;
}

/* One gzip member; extra_len > 0 adds an FEXTRA field of that many bytes. */
static struct bytes gz_member(const uint8_t *data, size_t n, int level, size_t extra_len,
			      const char *name)
{
	struct bytes out = { 0 };
	z_stream zs;
	gz_header h;
	uint8_t chunk[65536];
	uint8_t *extra = calloc(extra_len + 1, 1);

	memset(&zs, 0, sizeof(zs));
	memset(&h, 0, sizeof(h));
	assert_int_equal(deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	if (extra_len || name) {
		h.extra = extra_len ? extra : NULL;
		h.extra_len = (uInt)extra_len;
		h.name = (Bytef *)name;
		h.os = 3;
		assert_int_equal(deflateSetHeader(&zs, &h), Z_OK);
	}
	zs.next_in = (Bytef *)data;
	zs.avail_in = (uInt)n;
	int ret;
	do {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		ret = deflate(&zs, Z_FINISH);
		assert_true(ret == Z_OK || ret == Z_STREAM_END);
		bytes_add(&out, chunk, sizeof(chunk) - zs.avail_out);
	} while (ret != Z_STREAM_END);
	deflateEnd(&zs);
	free(extra);
	return out;
}

static struct bytes gz_of(const struct bytes *d)
{
	return gz_member(d->p, d->n, 6, 0, NULL);
}

static char *tmp_path(const char *name)
{
	static char buf[4][512];
	static int next;
	char *p = buf[next++ % 4];
	snprintf(p, 512, "%s/%s", tmpdir, name);
	return p;
}

static const char *write_file(const char *name, const void *p, size_t n)
{
	const char *path = tmp_path(name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	if (n)
		assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void sha256_ref(const void *p, size_t n, uint8_t out[32])
{
	unsigned int len = 0;
	assert_int_equal(EVP_Digest(p, n, out, &len, EVP_sha256(), NULL), 1);
	assert_int_equal(len, 32);
}

static void hex32(const uint8_t d[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* What one whole read of a file gave. */
struct drained {
	struct bytes out;
	int n_err;
	struct cs_diag first;
	struct cs_diag last;
	size_t calls;
	bool short_read;      /* an OK call gave less than cap before the end */
	struct source_info info;
	uint8_t sha[32];
};

static void drain(const char *path, size_t cap, struct drained *r)
{
	struct source *s = NULL;
	struct cs_diag d;
	uint8_t *buf = malloc(cap);
	bool saw_short = false;

	memset(r, 0, sizeof(*r));
	assert_non_null(buf);
	assert_int_equal(source_open(path, &s, &d), CS_OK);
	for (;;) {
		size_t got = 12345;
		enum cs_err err = source_read(s, buf, cap, &got, &d);
		r->calls++;
		if (err == CS_ERR_FORMAT) {
			assert_int_equal(got, 0);
			if (r->n_err++ == 0)
				r->first = d;
			r->last = d;
			assert_true(r->n_err < 100);
			continue;
		}
		assert_int_equal(err, CS_OK);
		assert_true(got <= cap);
		if (got == 0)
			break;
		if (saw_short)
			r->short_read = true;
		saw_short = got < cap;
		bytes_add(&r->out, buf, got);
	}
	source_get_info(s, &r->info);
	assert_int_equal(source_finish(s, r->sha, &d), CS_OK);
	source_destroy(s);
	free(buf);
}

static void assert_bytes_equal(const struct bytes *got, const void *want, size_t n)
{
	assert_int_equal(got->n, n);
	assert_true(n == 0 || memcmp(got->p, want, n) == 0);
}

static void assert_sha_of_file(const uint8_t sha[32], const void *p, size_t n)
{
	uint8_t ref[32];
	sha256_ref(p, n, ref);
	assert_memory_equal(sha, ref, 32);
}

static int setup(void **state)
{
	(void)state;
	const char *base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/cs-ingest-src-XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

static int teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_plain_caps(void **state)
{
	(void)state;
	struct bytes data = make_text(3 * RAW_BLOCK + 17, 1);
	const char *path = write_file("plain.log", data.p, data.n);
	static const size_t caps[] = { 7, 4096, RAW_BLOCK - 1, RAW_BLOCK, 2 * RAW_BLOCK + 5,
				       8 * RAW_BLOCK };
	struct drained r;

	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		drain(path, caps[i], &r);
		assert_int_equal(r.n_err, 0);
		assert_bytes_equal(&r.out, data.p, data.n);
		assert_false(r.short_read);
		assert_false(r.info.is_gzip);
		assert_false(r.info.is_stdin);
		assert_int_equal(r.info.raw_size, data.n);
		assert_int_equal(r.info.raw_read, data.n);
		assert_int_equal(r.info.out_bytes, data.n);
		assert_sha_of_file(r.sha, data.p, data.n);
		bytes_free(&r.out);
	}
	path = write_file("small.log", data.p, 5000);
	drain(path, 1, &r);
	assert_bytes_equal(&r.out, data.p, 5000);
	assert_int_equal(r.calls, 5001);
	bytes_free(&r.out);
	bytes_free(&data);
}

/* Known answers from FIPS 180-2, and the system's sha256sum when present. */
static void test_sha256_reference(void **state)
{
	(void)state;
	static const char abc_hex[] =
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	static const char empty_hex[] =
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	struct drained r;
	char hex[65];

	drain(write_file("abc.txt", "abc", 3), 4096, &r);
	hex32(r.sha, hex);
	assert_string_equal(hex, abc_hex);
	bytes_free(&r.out);

	drain(write_file("empty.txt", "", 0), 4096, &r);
	hex32(r.sha, hex);
	assert_string_equal(hex, empty_hex);
	assert_int_equal(r.out.n, 0);
	assert_false(r.info.is_gzip);
	bytes_free(&r.out);

	struct bytes d = make_text(300000, 9);
	struct bytes gz = gz_of(&d);
	const char *path = write_file("sum.gz", gz.p, gz.n);
	drain(path, 65536, &r);
	hex32(r.sha, hex);
	char cmd[600], line[200] = "";
	snprintf(cmd, sizeof(cmd), "sha256sum '%s' 2>/dev/null", path);
	FILE *p = popen(cmd, "r");
	if (p) {
		if (!fgets(line, sizeof(line), p))
			line[0] = '\0';
		pclose(p);
	}
	if (strlen(line) >= 64 && line[64] == ' ') {
		line[64] = '\0';
		assert_string_equal(hex, line);
	}
	assert_sha_of_file(r.sha, gz.p, gz.n);
	bytes_free(&r.out);
	bytes_free(&gz);
	bytes_free(&d);
}

/* A file under 64 KiB when opened reads through a small raw buffer: still
 * read whole when it grows past that before it is read, and a small gzip
 * file that inflates to far more comes out whole. */
static void test_small_file_grows(void **state)
{
	(void)state;
	struct bytes data = make_text(300000, 4);
	const char *path = write_file("grows.log", data.p, 100);
	struct source *s;
	struct cs_diag d;
	assert_int_equal(source_open(path, &s, &d), CS_OK);
	FILE *app = fopen(path, "ab");
	assert_non_null(app);
	assert_int_equal(fwrite(data.p + 100, 1, data.n - 100, app), data.n - 100);
	assert_int_equal(fclose(app), 0);
	struct bytes out = {0};
	uint8_t buf[5000], sha[32];
	for (;;) {
		size_t got = 0;
		assert_int_equal(source_read(s, buf, sizeof(buf), &got, &d), CS_OK);
		if (got == 0)
			break;
		bytes_add(&out, buf, got);
	}
	assert_int_equal(source_finish(s, sha, &d), CS_OK);
	source_destroy(s);
	assert_bytes_equal(&out, data.p, data.n);
	assert_sha_of_file(sha, data.p, data.n);
	bytes_free(&out);

	struct bytes big = {0};
	static const char line[] = "GET /index.html 200 user=alice agent=curl/8.0 ok\n";
	for (int i = 0; i < 100000; i++)
		bytes_add(&big, line, sizeof(line) - 1); /* 5 MB that compress well */
	struct bytes gz = gz_of(&big);
	assert_true(gz.n < 64 * 1024);
	struct drained r;
	drain(write_file("small.gz", gz.p, gz.n), 4096, &r);
	assert_int_equal(r.n_err, 0);
	assert_true(r.info.is_gzip);
	assert_bytes_equal(&r.out, big.p, big.n);
	assert_sha_of_file(r.sha, gz.p, gz.n);
	bytes_free(&r.out);
	bytes_free(&gz);
	bytes_free(&big);
	bytes_free(&data);
}

static void test_short_files_are_plain(void **state)
{
	(void)state;
	struct drained r;
	static const uint8_t two[] = { 0x1f, 0x8b };

	drain(write_file("two.bin", two, 2), 16, &r);
	assert_false(r.info.is_gzip);
	assert_bytes_equal(&r.out, two, 2);
	bytes_free(&r.out);
	/* A .gz name does not make it gzip. */
	drain(write_file("looks.gz", "hello\n", 6), 16, &r);
	assert_false(r.info.is_gzip);
	assert_bytes_equal(&r.out, "hello\n", 6);
	bytes_free(&r.out);
}

static void test_gzip_single(void **state)
{
	(void)state;
	struct bytes d = make_text(400000, 2);
	struct bytes gz = gz_member(d.p, d.n, 6, 40, "access.log");
	const char *path = write_file("single", gz.p, gz.n);
	static const size_t caps[] = { 1, 100, 65536, RAW_BLOCK, 4 * RAW_BLOCK };
	struct drained r;

	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		drain(path, caps[i], &r);
		assert_int_equal(r.n_err, 0);
		assert_bytes_equal(&r.out, d.p, d.n);
		assert_false(r.short_read);
		assert_true(r.info.is_gzip);
		assert_int_equal(r.info.gz_members, 1);
		assert_int_equal(r.info.gz_resyncs, 0);
		assert_int_equal(r.info.raw_read, gz.n);
		assert_int_equal(r.info.out_bytes, d.n);
		assert_sha_of_file(r.sha, gz.p, gz.n);
		bytes_free(&r.out);
	}
	bytes_free(&gz);
	bytes_free(&d);
}

/* `cat a.gz empty.gz b.gz`, read with a cap that ends exactly at member 1. */
static void test_gzip_multi_member(void **state)
{
	(void)state;
	struct bytes d1 = make_text(70000, 3), d2 = make_text(90001, 4), all = { 0 };
	struct bytes g1 = gz_of(&d1), g0 = gz_member((const uint8_t *)"", 0, 6, 0, NULL);
	struct bytes g2 = gz_of(&d2), file = { 0 };
	struct drained r;

	bytes_add(&file, g1.p, g1.n);
	bytes_add(&file, g0.p, g0.n);
	bytes_add(&file, g2.p, g2.n);
	bytes_add(&all, d1.p, d1.n);
	bytes_add(&all, d2.p, d2.n);
	const char *path = write_file("multi.gz", file.p, file.n);
	static const size_t caps[] = { 1, 333, 70000, RAW_BLOCK };
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		drain(path, caps[i], &r);
		assert_int_equal(r.n_err, 0);
		assert_bytes_equal(&r.out, all.p, all.n);
		assert_false(r.short_read);
		assert_int_equal(r.info.gz_members, 3);
		assert_sha_of_file(r.sha, file.p, file.n);
		bytes_free(&r.out);
	}

	/* The first call with cap = |d1| gives exactly member 1. */
	struct source *s;
	struct cs_diag d;
	uint8_t *buf = malloc(d1.n);
	size_t got;
	assert_int_equal(source_open(path, &s, &d), CS_OK);
	assert_int_equal(source_read(s, buf, d1.n, &got, &d), CS_OK);
	assert_int_equal(got, d1.n);
	assert_memory_equal(buf, d1.p, d1.n);
	assert_int_equal(source_read(s, buf, d1.n, &got, &d), CS_OK);
	assert_int_equal(got, d1.n);
	assert_memory_equal(buf, d2.p, d1.n);
	source_destroy(s);
	free(buf);
	bytes_free(&d1), bytes_free(&d2), bytes_free(&all), bytes_free(&g0);
	bytes_free(&g1), bytes_free(&g2), bytes_free(&file);
}

/* Member 1 ends at, just before and just after the end of the first raw
 * block, so its trailer and member 2's header are cut at every position. */
static void test_gzip_member_at_raw_boundary(void **state)
{
	(void)state;
	struct bytes d1 = make_random(RAW_BLOCK - 8192, 5), d2 = make_text(5000, 6);
	struct bytes g2 = gz_of(&d2), probe = gz_member(d1.p, d1.n, 1, 0, "x");
	size_t f0 = probe.n; /* an FEXTRA field of L bytes adds L + 2 */

	for (int delta = -12; delta <= 3; delta++) {
		size_t target = RAW_BLOCK + (size_t)(ssize_t)delta;
		struct bytes g1 = gz_member(d1.p, d1.n, 1, target - f0 - 2, "x");
		struct bytes file = { 0 };
		struct drained r;
		assert_int_equal(g1.n, target);
		bytes_add(&file, g1.p, g1.n);
		bytes_add(&file, g2.p, g2.n);
		drain(write_file("edge.gz", file.p, file.n), 3 * RAW_BLOCK, &r);
		assert_int_equal(r.n_err, 0);
		assert_int_equal(r.out.n, d1.n + d2.n);
		assert_memory_equal(r.out.p, d1.p, d1.n);
		assert_memory_equal(r.out.p + d1.n, d2.p, d2.n);
		assert_int_equal(r.info.gz_members, 2);
		assert_sha_of_file(r.sha, file.p, file.n);
		bytes_free(&r.out), bytes_free(&g1), bytes_free(&file);
	}
	bytes_free(&d1), bytes_free(&d2), bytes_free(&g2), bytes_free(&probe);
}

struct three {
	struct bytes d[3], g[3], file;
};

static void three_make(struct three *t, size_t n2)
{
	memset(t, 0, sizeof(*t));
	t->d[0] = make_text(50000, 11);
	t->d[1] = make_text(n2, 12);
	t->d[2] = make_text(60000, 13);
	for (int i = 0; i < 3; i++) {
		t->g[i] = gz_of(&t->d[i]);
		bytes_add(&t->file, t->g[i].p, t->g[i].n);
	}
}

static void three_free(struct three *t)
{
	for (int i = 0; i < 3; i++)
		bytes_free(&t->d[i]), bytes_free(&t->g[i]);
	bytes_free(&t->file);
}

/* Expect member 1, one error placed at member 2, then member 3. */
static void assert_resynced(const struct three *t, const struct drained *r, const char *path,
			    uint64_t out_at_error)
{
	char want[128];

	assert_int_equal(r->n_err, 1);
	assert_string_equal(r->first.file, path);
	assert_int_equal(r->first.offset, t->g[0].n);
	snprintf(want, sizeof(want), "at decompressed offset %llu:",
		 (unsigned long long)out_at_error);
	assert_non_null(strstr(r->first.msg, want));
	/* where the damage was met: inside the file, past the damaged member's start */
	const char *met = strstr(r->first.msg, "damage met at byte ");
	assert_non_null(met);
	unsigned long long at = strtoull(met + 19, NULL, 10);
	assert_true(at > t->g[0].n && at <= t->file.n);
	assert_true(r->out.n >= t->d[0].n + t->d[2].n);
	assert_memory_equal(r->out.p, t->d[0].p, t->d[0].n);
	assert_memory_equal(r->out.p + r->out.n - t->d[2].n, t->d[2].p, t->d[2].n);
	assert_int_equal(r->info.gz_resyncs, 1);
	assert_int_equal(r->info.gz_members, 3);
	assert_sha_of_file(r->sha, t->file.p, t->file.n);
}

static void test_gzip_corrupt_block_type(void **state)
{
	(void)state;
	struct three t;
	struct drained r;

	three_make(&t, 80000);
	/* First deflate byte of member 2 (after its 10-byte header): BTYPE = 11. */
	t.file.p[t.g[0].n + 10] |= 0x06;
	const char *path = write_file("btype.gz", t.file.p, t.file.n);
	drain(path, RAW_BLOCK, &r);
	assert_resynced(&t, &r, path, t.d[0].n);
	assert_non_null(strstr(r.first.msg, "corrupt"));
	assert_int_equal(r.out.n, t.d[0].n + t.d[2].n);
	bytes_free(&r.out);

	/* Data before the damage comes first, the error on the next call. */
	struct source *s;
	struct cs_diag d;
	uint8_t *buf = malloc(RAW_BLOCK);
	size_t got;
	assert_int_equal(source_open(path, &s, &d), CS_OK);
	assert_int_equal(source_read(s, buf, RAW_BLOCK, &got, &d), CS_OK);
	assert_int_equal(got, t.d[0].n);
	assert_int_equal(source_read(s, buf, RAW_BLOCK, &got, &d), CS_ERR_FORMAT);
	assert_int_equal(got, 0);
	assert_int_equal(d.offset, t.g[0].n);
	assert_int_equal(source_read(s, buf, RAW_BLOCK, &got, &d), CS_OK);
	assert_int_equal(got, t.d[2].n);
	assert_memory_equal(buf, t.d[2].p, got);
	assert_int_equal(source_read(s, buf, RAW_BLOCK, &got, &d), CS_OK);
	assert_int_equal(got, 0);
	source_destroy(s);
	free(buf);
	three_free(&t);
}

static void test_gzip_corrupt_flipped_bytes(void **state)
{
	(void)state;
	struct three t;
	struct drained r;

	three_make(&t, 400000);
	size_t mid = t.g[0].n + t.g[1].n / 2;
	for (size_t i = 0; i < 64; i++)
		t.file.p[mid + i] ^= 0x5a;
	const char *path = write_file("flip.gz", t.file.p, t.file.n);
	static const size_t caps[] = { 4096, RAW_BLOCK };
	for (size_t i = 0; i < 2; i++) {
		drain(path, caps[i], &r);
		/* Member 2 decodes up to the damage, perhaps into garbage that
		 * only its CRC catches: how far depends on the data. */
		uint64_t at = r.out.n - t.d[2].n;
		assert_resynced(&t, &r, path, at);
		assert_true(at >= t.d[0].n);
		if (at - t.d[0].n >= 1000)
			assert_memory_equal(r.out.p + t.d[0].n, t.d[1].p, 1000);
		bytes_free(&r.out);
	}
	three_free(&t);
}

/* A bad CRC-32 or ISIZE fails member 2 after all its bytes were given out. */
static void test_gzip_bad_trailer(void **state)
{
	(void)state;
	for (int field = 0; field < 2; field++) {
		struct three t;
		struct drained r;
		three_make(&t, 30000);
		size_t end2 = t.g[0].n + t.g[1].n;
		t.file.p[end2 - 8 + 4 * field] ^= 0x01;
		const char *path = write_file("trailer.gz", t.file.p, t.file.n);
		drain(path, 8192, &r);
		assert_resynced(&t, &r, path, t.d[0].n + t.d[1].n);
		assert_int_equal(r.out.n, t.d[0].n + t.d[1].n + t.d[2].n);
		assert_memory_equal(r.out.p + t.d[0].n, t.d[1].p, t.d[1].n);
		bytes_free(&r.out);
		three_free(&t);
	}
}

static void test_gzip_truncated(void **state)
{
	(void)state;
	struct bytes d = make_text(200000, 21);
	struct bytes gz = gz_of(&d);
	const size_t cuts[] = { 5, 12, gz.n / 2, gz.n - 3 };
	struct drained r;

	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		const char *path = write_file("cut.gz", gz.p, cuts[i]);
		drain(path, 65536, &r);
		assert_int_equal(r.n_err, 1);
		assert_int_equal(r.first.offset, 0);
		assert_non_null(strstr(r.first.msg, "truncated"));
		assert_true(r.out.n <= d.n);
		assert_true(r.out.n == 0 || memcmp(r.out.p, d.p, r.out.n) == 0);
		if (i == 3)
			assert_int_equal(r.out.n, d.n);
		assert_sha_of_file(r.sha, gz.p, cuts[i]);
		bytes_free(&r.out);
	}
	bytes_free(&gz);
	bytes_free(&d);
}

static void test_gzip_trailing_bytes(void **state)
{
	(void)state;
	struct bytes d = make_text(100000, 31), d2 = make_text(1000, 32);
	struct bytes gz = gz_of(&d), gz2 = gz_of(&d2), file = { 0 };
	uint8_t zeros[4096] = { 0 };
	struct drained r;

	bytes_add(&file, gz.p, gz.n);
	bytes_add(&file, zeros, sizeof(zeros));
	drain(write_file("zeros.gz", file.p, file.n), 65536, &r);
	assert_int_equal(r.n_err, 0);
	assert_bytes_equal(&r.out, d.p, d.n);
	assert_int_equal(r.info.raw_read, file.n);
	bytes_free(&r.out);

	file.n = gz.n;
	bytes_add(&file, "not gzip\n", 9);
	const char *path = write_file("garbage.gz", file.p, file.n);
	drain(path, 65536, &r);
	assert_int_equal(r.n_err, 1);
	assert_int_equal(r.first.offset, gz.n);
	assert_bytes_equal(&r.out, d.p, d.n);
	assert_int_equal(r.info.gz_resyncs, 0);
	bytes_free(&r.out);

	/* Garbage between members: reported once, the next member still read. */
	bytes_add(&file, gz2.p, gz2.n);
	drain(write_file("between.gz", file.p, file.n), 65536, &r);
	assert_int_equal(r.n_err, 1);
	assert_int_equal(r.first.offset, gz.n);
	assert_int_equal(r.out.n, d.n + d2.n);
	assert_memory_equal(r.out.p + d.n, d2.p, d2.n);
	assert_int_equal(r.info.gz_resyncs, 1);
	bytes_free(&r.out);
	bytes_free(&d), bytes_free(&d2), bytes_free(&gz), bytes_free(&gz2), bytes_free(&file);
}

static int pipe_rd = -1;

/* A child writes b into a pipe; the read end is left in pipe_rd. */
static pid_t pipe_feed(const struct bytes *b)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		size_t off = 0;
		while (off < b->n) {
			ssize_t w = write(fds[1], b->p + off, b->n - off);
			if (w <= 0)
				_exit(1);
			off += (size_t)w;
		}
		_exit(0);
	}
	close(fds[1]);
	pipe_rd = fds[0];
	return pid;
}

/* A member cut short and followed by whole members (`cat cut.gz b.gz c.gz`):
 * the decoder runs on into the next member before it fails, and the members
 * after the cut are still found, in the raw buffer or read again from the
 * file past it. Text makes Huffman blocks, random bytes stored blocks. */
static void test_gzip_cut_member_then_more(void **state)
{
	(void)state;
	static const struct {
		size_t n;
		bool random;
		unsigned cut_pct;
	} cases[] = {
		{ 200000, false, 90 },
		{ 12 << 20, false, 80 },
		{ 3 << 20, true, 70 },
		/* past DIGEST_INLINE_MAX: read through the read-ahead, and the
		 * bytes after the damage read again with pread() */
		{ 10 << 20, true, 70 },
	};
	struct bytes b = make_text(70000, 52), c = make_text(60000, 53);
	struct bytes gb = gz_of(&b), gc = gz_of(&c);
	static const size_t caps[] = { 4096, RAW_BLOCK };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bytes a = cases[i].random ? make_random(cases[i].n, 51)
						 : make_text(cases[i].n, 51);
		struct bytes ga = gz_of(&a), file = { 0 };
		size_t cut = ga.n / 100 * cases[i].cut_pct;
		bytes_add(&file, ga.p, cut);
		bytes_add(&file, gb.p, gb.n);
		bytes_add(&file, gc.p, gc.n);
		if (i > 0) /* the header of b is read again */
			assert_true(cut > 2 * RAW_BLOCK);
		const char *path = write_file("cut-then-more.gz", file.p, file.n);
		/* The small case also through a pipe, which cannot be read again. */
		for (size_t k = 0; k < (i == 0 ? 3u : 2u); k++) {
			struct drained r;
			if (k < 2) {
				drain(path, caps[k], &r);
			} else {
				pid_t pid = pipe_feed(&file);
				char fdpath[64];
				snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", pipe_rd);
				drain(fdpath, 4096, &r);
				close(pipe_rd);
				int status;
				assert_int_equal(waitpid(pid, &status, 0), pid);
				assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
			}
			assert_int_equal(r.n_err, 1);
			assert_int_equal(r.first.offset, 0);
			assert_true(r.out.n >= 1000 + b.n + c.n);
			assert_memory_equal(r.out.p, a.p, 1000);
			assert_memory_equal(r.out.p + r.out.n - c.n - b.n, b.p, b.n);
			assert_memory_equal(r.out.p + r.out.n - c.n, c.p, c.n);
			assert_int_equal(r.info.gz_members, 3);
			assert_int_equal(r.info.gz_resyncs, 1);
			assert_int_equal(r.info.raw_read, file.n);
			assert_sha_of_file(r.sha, file.p, file.n);
			bytes_free(&r.out);
		}
		if (i == 1 || i == 3) {
			/* stdin redirected from the file with a line read off it first
			 * (`{ read l; cybersieve scan -; } < file`): reading again goes
			 * back to offsets counted from where reading began. */
			struct bytes pre = {0};
			bytes_add(&pre, "first line\n", 11);
			bytes_add(&pre, file.p, file.n);
			const char *pp = write_file("prefixed.gz", pre.p, pre.n);
			int fd = open(pp, O_RDONLY), saved = dup(STDIN_FILENO);
			assert_true(fd >= 0 && saved >= 0);
			assert_int_equal(lseek(fd, 11, SEEK_SET), 11);
			assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
			struct drained r;
			drain("-", RAW_BLOCK, &r);
			assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
			close(saved);
			close(fd);
			assert_int_equal(r.n_err, 1);
			assert_int_equal(r.first.offset, 0);
			assert_memory_equal(r.out.p, a.p, 1000);
			assert_memory_equal(r.out.p + r.out.n - c.n - b.n, b.p, b.n);
			assert_memory_equal(r.out.p + r.out.n - c.n, c.p, c.n);
			assert_int_equal(r.info.gz_members, 3);
			assert_int_equal(r.info.raw_read, file.n);
			assert_sha_of_file(r.sha, file.p, file.n);
			bytes_free(&r.out);
			bytes_free(&pre);
		}
		bytes_free(&a), bytes_free(&ga), bytes_free(&file);
	}
	bytes_free(&b), bytes_free(&c), bytes_free(&gb), bytes_free(&gc);
}

/* 64 MiB of zeros from a ~64 KiB file: every call stays within cap. */
static void test_gzip_bomb_bounded(void **state)
{
	(void)state;
	size_t n = 64 * RAW_BLOCK;
	uint8_t *zeros = calloc(n, 1);
	struct bytes gz = gz_member(zeros, n, 9, 0, NULL);
	const char *path = write_file("bomb.gz", gz.p, gz.n);
	struct source *s;
	struct cs_diag d;
	uint8_t buf[65536];
	size_t got, total = 0;

	assert_true(gz.n < n / 500);
	assert_int_equal(source_open(path, &s, &d), CS_OK);
	do {
		assert_int_equal(source_read(s, buf, sizeof(buf), &got, &d), CS_OK);
		assert_true(got <= sizeof(buf));
		for (size_t i = 0; i < got; i++)
			assert_true(buf[i] == 0);
		total += got;
	} while (got);
	assert_int_equal(total, n);
	source_destroy(s);
	bytes_free(&gz);
	free(zeros);
}

/* Stopping early still hashes the whole file. */
static void test_finish_hashes_rest(void **state)
{
	(void)state;
	struct bytes d = make_text(3 * RAW_BLOCK, 41);
	struct bytes gz = gz_of(&d);
	struct source *s;
	struct cs_diag dg;
	uint8_t buf[100], sha[32];
	size_t got;

	assert_true(gz.n > RAW_BLOCK / 4);
	const char *path = write_file("early.gz", gz.p, gz.n);
	assert_int_equal(source_open(path, &s, &dg), CS_OK);
	assert_int_equal(source_read(s, buf, sizeof(buf), &got, &dg), CS_OK);
	assert_int_equal(got, sizeof(buf));
	assert_memory_equal(buf, d.p, sizeof(buf));
	assert_int_equal(source_finish(s, sha, &dg), CS_OK);
	assert_sha_of_file(sha, gz.p, gz.n);
	struct source_info info;
	source_get_info(s, &info);
	assert_int_equal(info.raw_read, gz.n);
	assert_int_equal(info.out_bytes, sizeof(buf));
	source_destroy(s);

	path = write_file("early.txt", d.p, d.n);
	assert_int_equal(source_open(path, &s, &dg), CS_OK);
	assert_int_equal(source_finish(s, sha, &dg), CS_OK);
	assert_sha_of_file(sha, d.p, d.n);
	source_destroy(s);
	bytes_free(&gz);
	bytes_free(&d);
}

/* Inputs past the digest's inline limit are hashed beside the reading
 * (src/ingest/digest.h): the digest is still that of every raw byte, for a
 * plain file, for gzip of bytes that do not compress (so the raw bytes pass
 * the limit too), read whole or left early. */
static void test_large_input_digest(void **state)
{
	(void)state;
	size_t n = DIGEST_INLINE_MAX + 2 * DIGEST_RING + 4099;
	struct bytes d = make_random(n, 77);
	struct bytes gz = gz_member(d.p, d.n, 1, 0, NULL);
	assert_true(gz.n > DIGEST_INLINE_MAX + DIGEST_RING);
	struct drained r;

	const char *path = write_file("large.bin", d.p, d.n);
	drain(path, 3 * RAW_BLOCK + 1, &r);
	assert_bytes_equal(&r.out, d.p, d.n);
	assert_sha_of_file(r.sha, d.p, d.n);
	bytes_free(&r.out);

	const char *gzpath = write_file("large.bin.gz", gz.p, gz.n);
	drain(gzpath, 2 * RAW_BLOCK, &r);
	assert_int_equal(r.n_err, 0);
	assert_bytes_equal(&r.out, d.p, d.n);
	assert_sha_of_file(r.sha, gz.p, gz.n);
	bytes_free(&r.out);

	/* Left after a little: source_finish hashes the rest. */
	struct source *s;
	struct cs_diag dg;
	uint8_t buf[100], sha[32];
	size_t got;
	assert_int_equal(source_open(gzpath, &s, &dg), CS_OK);
	assert_int_equal(source_read(s, buf, sizeof(buf), &got, &dg), CS_OK);
	assert_int_equal(got, sizeof(buf));
	assert_int_equal(source_finish(s, sha, &dg), CS_OK);
	assert_sha_of_file(sha, gz.p, gz.n);
	struct source_info si;
	source_get_info(s, &si);
	assert_false(si.changed);
	source_destroy(s);

	/* Written to while read: told at the finish (the scan rereads what the
	 * read-ahead hashed, so the two may differ). */
	assert_int_equal(source_open(path, &s, &dg), CS_OK);
	assert_int_equal(source_read(s, buf, sizeof(buf), &got, &dg), CS_OK);
	usleep(20 * 1000); /* a file time a clock tick later */
	FILE *app = fopen(path, "ab");
	assert_non_null(app);
	assert_int_equal(fputs("appended\n", app) >= 0, 1);
	assert_int_equal(fclose(app), 0);
	assert_int_equal(source_finish(s, sha, &dg), CS_OK);
	source_get_info(s, &si);
	assert_true(si.changed);
	source_destroy(s);
	assert_int_equal(truncate(path, (off_t)d.n), 0);

	/* Dropped mid-way without a finish: nothing leaks, nothing hangs. */
	uint8_t *big = malloc(DIGEST_INLINE_MAX + RAW_BLOCK);
	assert_non_null(big);
	assert_int_equal(source_open(path, &s, &dg), CS_OK);
	assert_int_equal(source_read(s, big, DIGEST_INLINE_MAX + RAW_BLOCK, &got, &dg), CS_OK);
	assert_int_equal(got, DIGEST_INLINE_MAX + RAW_BLOCK);
	source_destroy(s);
	free(big);
	bytes_free(&gz);
	bytes_free(&d);
}

static void assert_open_fails(const char *path, int e)
{
	struct source *s = (struct source *)&s;
	struct cs_diag d;
	char ebuf[128];

	cs_diag_clear(&d);
	assert_int_equal(source_open(path, &s, &d), CS_ERR_IO);
	assert_null(s);
	assert_string_equal(d.file, path);
	assert_int_equal(d.sys_errno, e);
	assert_non_null(strstr(d.msg, strerror_r(e, ebuf, sizeof(ebuf))));
}

static void test_open_errors(void **state)
{
	(void)state;
	assert_open_fails(tmp_path("does-not-exist"), ENOENT);
	assert_open_fails(tmpdir, EISDIR);
	const char *path = write_file("secret.log", "x", 1);
	assert_int_equal(chmod(path, 0), 0);
	if (geteuid() != 0)
		assert_open_fails(path, EACCES);
	assert_int_equal(chmod(path, 0600), 0);
	source_destroy(NULL);
}

static void test_engine_name(void **state)
{
	(void)state;
#ifdef CS_HAVE_ISAL
	assert_string_equal(source_inflate_engine(), "isa-l");
#else
	assert_string_equal(source_inflate_engine(), "zlib");
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_caps),
		cmocka_unit_test(test_sha256_reference),
		cmocka_unit_test(test_small_file_grows),
		cmocka_unit_test(test_short_files_are_plain),
		cmocka_unit_test(test_gzip_single),
		cmocka_unit_test(test_gzip_multi_member),
		cmocka_unit_test(test_gzip_member_at_raw_boundary),
		cmocka_unit_test(test_gzip_corrupt_block_type),
		cmocka_unit_test(test_gzip_corrupt_flipped_bytes),
		cmocka_unit_test(test_gzip_bad_trailer),
		cmocka_unit_test(test_gzip_truncated),
		cmocka_unit_test(test_gzip_trailing_bytes),
		cmocka_unit_test(test_gzip_cut_member_then_more),
		cmocka_unit_test(test_gzip_bomb_bounded),
		cmocka_unit_test(test_finish_hashes_rest),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_large_input_digest),
		cmocka_unit_test(test_engine_name),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
