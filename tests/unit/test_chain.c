/* Hash chain: genesis, links made by the writer over the exact bytes, rotation
 * into sealed files, and the checks verify builds on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "cybersieve/evidence.h"

#define REC(cat) "{\"prev\":\"" EV_PREV_PLACEHOLDER "\",\"indicator\":{\"category\":\"" cat "\"}}\n"

static void test_genesis(void **state)
{
	(void)state;
	const char *text = "cybersieve-chain-v1:run-9:records.ndjson";
	uint8_t want[32], got[32];
	SHA256((const unsigned char *)text, strlen(text), want);
	ev_chain_genesis("run-9", "records.ndjson", got);
	assert_memory_equal(got, want, 32);
	ev_chain_genesis("run-9", "records-000001.ndjson", got);
	assert_memory_not_equal(got, want, 32);
}

static void test_patch_and_prev(void **state)
{
	(void)state;
	char line[] = REC("scam");
	uint8_t prev[32], back[32];
	for (int i = 0; i < 32; i++)
		prev[i] = (uint8_t)(i * 7);
	assert_false(ev_chain_prev(line, strlen(line), back));
	assert_true(ev_chain_patch(line, strlen(line), prev));
	assert_true(ev_chain_prev(line, strlen(line), back));
	assert_memory_equal(prev, back, 32);
	assert_false(ev_chain_patch(line, strlen(line), prev)); /* no placeholder left */
	char other[] = "{\"a\":1}\n";
	assert_false(ev_chain_patch(other, strlen(other), prev));
	char cat[64];
	assert_true(ev_chain_category(line, strlen(line), cat, sizeof(cat)));
	assert_string_equal(cat, "scam");
}

static char *slurp(int dir_fd, const char *name, size_t *len)
{
	int fd = openat(dir_fd, name, O_RDONLY);
	assert_true(fd >= 0);
	char *b = calloc(1, 1 << 16);
	ssize_t n = read(fd, b, (1 << 16) - 1);
	assert_true(n >= 0);
	close(fd);
	*len = (size_t)n;
	return b;
}

/* Each line's prev is H(previous line incl. newline); the first is the genesis. */
static void check_file(int dir_fd, const struct ev_chain_file *f, const char *run)
{
	size_t len;
	char *b = slurp(dir_fd, f->name, &len);
	uint8_t head[32], prev[32], sum[32];
	ev_chain_genesis(run, f->name, head);
	assert_memory_equal(head, f->genesis, 32);
	uint64_t n = 0;
	for (char *s = b; s < b + len; n++) {
		char *nl = strchr(s, '\n');
		size_t l = (size_t)(nl - s) + 1;
		assert_true(ev_chain_prev(s, l, prev));
		assert_memory_equal(prev, head, 32);
		SHA256((const unsigned char *)s, l, head);
		s += l;
	}
	assert_int_equal(n, f->records);
	assert_int_equal(len, f->bytes);
	assert_memory_equal(head, f->head, 32);
	SHA256((const unsigned char *)b, len, sum);
	assert_memory_equal(sum, f->sha256, 32);
	free(b);
}

static int seals;
static enum cs_err on_seal(void *ctx, const struct ev_chain_file *f, struct cs_diag *d)
{
	(void)ctx;
	(void)d;
	assert_true(f->closed[0] != '\0');
	seals++;
	return CS_OK;
}

static void test_writer_chain_rotation(void **state)
{
	(void)state;
	char dir[] = "/tmp/cs-chain-XXXXXX";
	assert_non_null(mkdtemp(dir));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	struct ev_writer_opts o = {.dir_fd = dfd, .run_id = "run-1", .rotate_bytes = 300,
				   .on_seal = on_seal};
	struct ev_writer *w;
	struct cs_diag d;
	seals = 0;
	assert_int_equal(ev_writer_create(&o, &w, &d), CS_OK);
	/* One write of two lines, then single lines: links run across writes. */
	const char two[] = REC("scam") REC("csam");
	assert_int_equal(ev_writer_write(w, two, strlen(two), &d), CS_OK);
	for (int i = 0; i < 7; i++)
		assert_int_equal(ev_writer_write(w, REC("scam"), strlen(REC("scam")), &d), CS_OK);
	assert_int_equal(ev_writer_finish(w, &d), CS_OK);
	const struct ev_chain_file *f;
	size_t n = ev_writer_files(w, &f);
	assert_true(n >= 2);
	assert_int_equal(seals, (int)n);
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		char want[64];
		snprintf(want, sizeof(want), "records-%06zu.ndjson", i + 1);
		assert_string_equal(f[i].name, want);
		check_file(dfd, &f[i], "run-1");
		total += f[i].records;
	}
	assert_int_equal(total, 9);
	const struct ev_chain_counts *c = ev_writer_counts(w);
	assert_int_equal(c->n, 2);
	assert_string_equal(c->cat[0].name, "scam");
	assert_int_equal(c->cat[0].records, 8);
	assert_int_equal(c->cat[1].records, 1);
	assert_int_equal(ev_writer_close(w, &d), CS_OK);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	close(dfd);
}
/* Written in place, the caller's buffer ends up holding the linked bytes,
 * and links run on across copied and in-place writes and across files. */
static void test_writer_inplace(void **state)
{
	(void)state;
	char dir[] = "/tmp/cs-chain-XXXXXX";
	assert_non_null(mkdtemp(dir));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	struct ev_writer_opts o = {.dir_fd = dfd, .run_id = "run-2", .rotate_bytes = 400};
	struct ev_writer *w;
	struct cs_diag d;
	assert_int_equal(ev_writer_create(&o, &w, &d), CS_OK);
	char two[] = REC("scam") REC("csam");
	assert_int_equal(ev_writer_write_inplace(w, two, strlen(two), &d), CS_OK);
	uint8_t genesis[32], prev[32];
	ev_chain_genesis("run-2", "records-000001.ndjson", genesis);
	assert_true(ev_chain_prev(two, strlen(two), prev));
	assert_memory_equal(prev, genesis, 32);
	size_t first_len = strlen(REC("scam"));
	uint8_t h1[32];
	SHA256((const unsigned char *)two, first_len, h1);
	assert_true(ev_chain_prev(two + first_len, strlen(two) - first_len, prev));
	assert_memory_equal(prev, h1, 32);
	for (int i = 0; i < 6; i++) {
		char one[] = REC("laundering");
		if (i % 2)
			assert_int_equal(ev_writer_write(w, one, strlen(one), &d), CS_OK);
		else
			assert_int_equal(ev_writer_write_inplace(w, one, strlen(one), &d), CS_OK);
		/* A copied write leaves the caller's bytes alone. */
		assert_int_equal(ev_chain_prev(one, strlen(one), prev), i % 2 == 0);
	}
	char empty[1] = "";
	assert_int_equal(ev_writer_write_inplace(w, empty, 0, &d), CS_OK);
	char cut[] = "{\"a\":1}";
	assert_int_equal(ev_writer_write_inplace(w, cut, strlen(cut), &d), CS_ERR_INVALID);
	assert_int_equal(ev_writer_finish(w, &d), CS_OK);
	const struct ev_chain_file *f;
	size_t n = ev_writer_files(w, &f);
	assert_true(n >= 2);
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		check_file(dfd, &f[i], "run-2");
		total += f[i].records;
	}
	assert_int_equal(total, 8);
	/* The buffer written in place holds the bytes the file got. */
	size_t flen;
	char *fb = slurp(dfd, f[0].name, &flen);
	assert_true(flen >= strlen(two));
	assert_memory_equal(fb, two, strlen(two));
	free(fb);
	/* Finished: nothing more is taken. */
	char late[] = REC("scam");
	assert_int_equal(ev_writer_write_inplace(w, late, strlen(late), &d), CS_ERR_IO);
	assert_int_equal(ev_writer_close(w, &d), CS_OK);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	close(dfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_genesis),
		cmocka_unit_test(test_patch_and_prev),
		cmocka_unit_test(test_writer_chain_rotation),
		cmocka_unit_test(test_writer_inplace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
