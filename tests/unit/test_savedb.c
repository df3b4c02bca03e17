/* Compiled rules files: a matcher saved and loaded again gives the same hits
 * as the one built from the packs (block scans, streams, fields, flow
 * addresses) over every indicator type; a damaged, truncated or foreign file
 * is refused; another Hyperscan, another CPU or a changed pack file makes the
 * file stale, a pack file that is gone does not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "cybersieve/allowlist.h"
#include "cybersieve/matcher.h"
#include "cybersieve/pack.h"
#include "cybersieve/savedb.h"

#define N_DOM 600
#define N_URL 300
/* A URL longer than a stream's kept tail, held by the URL set. */
#define LONG_URL                                                                      \
	"https://dl.shop2.example/files/aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeee" \
	"ffffffffffgggggggggghhhhhhhhhhiiiiiiiiiijjjjjjjjjj/Invoice.zip"

struct fx {
	char dir[64];
	char pack_path[2][128];
	char db_path[128];
	struct pack *packs[2];
	struct matcher *m;
	char *text;
	size_t text_len;
};

static void write_file(const char *path, const char *s, size_t n)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(s, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

static char *read_all(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	long len = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	char *b = malloc((size_t)len + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	*n = (size_t)len;
	return b;
}

/* Pack 0: one or more of every type the matcher searches; pack 1: N_DOM
 * domains (enough for the suffix set), N_URL URLs and a long one (enough
 * for the URL set) and pdq hashes at distance 8. */
static const char pack0[] =
	"@name every-type\n@category scam\n@source test\n@licence CC0-1.0\n@tlp clear\n"
	"l1 literal/i wire transfer fee\n"
	"r1 regex \\bacct-[0-9]{4}\\b\n"
	"d1 domain evil.example\n"
	"u1 url http://bad.test/x/y\n"
	"e1 email pay@evil.example\n"
	"m1 md5 0123456789abcdef0123456789abcdef\n"
	"s1 sha1 0123456789abcdef0123456789abcdef01234567\n"
	"s2 sha256 aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd\n"
	"i1 ip 192.0.2.0/24\n"
	"i2 ip 2001:db8::/32\n"
	"w1 wallet eth:0x52908400098527886e0f7030069857d2e4169ee7\n"
	"w2 wallet any:btc\n"
	"b1 iban GB82 WEST 1234 5698 7654 32\n";

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/cs-savedb-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->pack_path[0], sizeof(f->pack_path[0]), "%s/a.pack", f->dir);
	snprintf(f->pack_path[1], sizeof(f->pack_path[1]), "%s/b.pack", f->dir);
	snprintf(f->db_path, sizeof(f->db_path), "%s/r.csdb", f->dir);
	write_file(f->pack_path[0], pack0, strlen(pack0));
	size_t cap = N_DOM * 64 + N_URL * 80 + 4096, n = 0;
	char *b = malloc(cap);
	assert_non_null(b);
	n += (size_t)snprintf(b + n, cap - n, "@name many\n@category scam\n@source t\n"
			      "@licence CC0-1.0\n@tlp clear\n@pdq-distance 8\n");
	for (int i = 0; i < N_DOM; i++)
		n += (size_t)snprintf(b + n, cap - n, "d%d domain host%d.shop%d.example\n", i, i,
				      i % 7);
	for (int i = 0; i < N_URL; i++)
		n += (size_t)snprintf(b + n, cap - n, "u%d url https://pay%d.shop%d.example/n/%d/login.php\n",
				      i, i, i % 5, i);
	n += (size_t)snprintf(b + n, cap - n, "ulong url %s\n", LONG_URL);
	n += (size_t)snprintf(b + n, cap - n, "p1 pdq %s\n",
			      "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22");
	write_file(f->pack_path[1], b, n);
	free(b);
	struct cs_diag d;
	cs_diag_clear(&d);
	for (int p = 0; p < 2; p++)
		if (pack_load_file(f->pack_path[p], &f->packs[p], &d) != CS_OK)
			fail_msg("%s", d.msg);
	assert_int_equal(matcher_build_ex(f->packs, 2, NULL, NULL, MATCHER_BUILD_STREAM, &f->m, &d),
			 CS_OK);
	const char *lines[] = {
		"pay the WIRE TRANSFER FEE now acct-1234 at x.evil.example/login",
		"GET http://bad.test/x/y HTTP/1.1 from pay@evil.example",
		"md5=0123456789ABCDEF0123456789abcdef sha1=0123456789abcdef0123456789abcdef01234567",
		"h=aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd",
		"from 192.0.2.77 and [2001:db8::5]:443 not 192.0.3.1",
		"to 0x52908400098527886E0F7030069857D2E4169EE7 and 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
		"IBAN GB82 WEST 1234 5698 7654 32 ok; cdn.host17.shop3.example host18.shop4.example.org",
		"pdq f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b23 near",
		"nothing here notevil.example host5.shop5.example",
		"see HTTPS://PAY17.shop2.example/n/17/login.php and https://pay18.shop3.example/n/18/Login.php",
		"get " LONG_URL " now",
	};
	size_t tn = 0;
	f->text = malloc(8192);
	assert_non_null(f->text);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		tn += (size_t)snprintf(f->text + tn, 8192 - tn, "%s\n", lines[i]);
	f->text_len = tn;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	matcher_destroy(f->m);
	pack_destroy(f->packs[0]);
	pack_destroy(f->packs[1]);
	unlink(f->pack_path[0]);
	unlink(f->pack_path[1]);
	unlink(f->db_path);
	rmdir(f->dir);
	free(f->text);
	free(f);
	return 0;
}

/* Hits as "id start end line count", one per line of out. */
static void hits_text(const struct matcher *m, const char *text, size_t len, char *out, size_t cap)
{
	struct matcher_scratch *s;
	struct matcher_hits h = {0};
	assert_int_equal(matcher_scratch_create(m, &s), CS_OK);
	assert_int_equal(matcher_scan(m, s, (const uint8_t *)text, len, 0, &h, NULL), CS_OK);
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < h.n; i++)
		n += (size_t)snprintf(out + n, cap - n, "%s %llu %llu %llu %u\n",
				      matcher_get(m, h.v[i].ind)->ind->id,
				      (unsigned long long)h.v[i].start, (unsigned long long)h.v[i].end,
				      (unsigned long long)h.v[i].line, h.v[i].count);
	matcher_hits_fini(&h);
	matcher_scratch_destroy(s);
}

struct sgot {
	char *out;
	size_t n, cap;
	const struct matcher *m;
};

static void on_stream(void *user, const struct matcher_stream_hit *h)
{
	struct sgot *g = user;
	g->n += (size_t)snprintf(g->out + g->n, g->cap - g->n, "%s %llu %llu\n",
				 matcher_get(g->m, h->ind)->ind->id, (unsigned long long)h->start,
				 (unsigned long long)h->end);
}

/* The text fed as a stream in pieces of 7 bytes. */
static void stream_text(const struct matcher *m, const char *text, size_t len, char *out,
			size_t cap)
{
	struct matcher_scratch *s;
	assert_int_equal(matcher_scratch_create(m, &s), CS_OK);
	assert_int_equal(matcher_stream_prepare(m, s, NULL), CS_OK);
	struct matcher_stream ms;
	matcher_stream_init(&ms);
	struct sgot g = {out, 0, cap, m};
	out[0] = '\0';
	for (size_t off = 0; off < len; off += 7) {
		size_t k = len - off < 7 ? len - off : 7;
		assert_int_equal(matcher_stream_scan(m, s, &ms, (const uint8_t *)text + off, k, off, 1,
						     1, 8, on_stream, &g), CS_OK);
	}
	assert_int_equal(matcher_stream_end(m, s, &ms, on_stream, &g), CS_OK);
	matcher_scratch_destroy(s);
}

static void on_ip(void *user, uint32_t ind)
{
	*(uint32_t *)user = ind;
}

/* The fixture's packs and matcher written to its file and read back. */
static void save_and_load(struct fx *f, struct savedb_load *ld)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(savedb_write(f->db_path, f->packs, 2, f->m, &d), CS_OK);
	if (savedb_read(f->db_path, NULL, ld, &d) != CS_OK)
		fail_msg("savedb_read: %s", d.msg);
}

static void test_roundtrip(void **state)
{
	struct fx *f = *state;
	struct savedb_load ld;
	save_and_load(f, &ld);
	assert_false(ld.stale);
	assert_non_null(ld.m);
	assert_int_equal(ld.n_packs, 2);
	assert_int_equal(ld.n_paths, 2);
	assert_string_equal(ld.paths[0], f->pack_path[0]);
	for (int p = 0; p < 2; p++) {
		const struct pack *a = f->packs[p], *b = ld.packs[p];
		assert_string_equal(a->name, b->name);
		assert_string_equal(a->legal ? a->legal : "", b->legal ? b->legal : "");
		assert_memory_equal(a->digest, b->digest, 32);
		assert_int_equal(a->pdq_distance, b->pdq_distance);
		assert_int_equal(a->n_ind, b->n_ind);
		for (size_t i = 0; i < a->n_ind; i++) {
			assert_string_equal(a->ind[i].id, b->ind[i].id);
			assert_int_equal(a->ind[i].type, b->ind[i].type);
			assert_int_equal(a->ind[i].value_len, b->ind[i].value_len);
			assert_memory_equal(a->ind[i].value, b->ind[i].value, a->ind[i].value_len);
		}
	}
	assert_int_equal(matcher_count(ld.m), matcher_count(f->m));
	for (int t = 0; t < IND_TYPE_COUNT; t++)
		assert_int_equal(matcher_type_count(ld.m, (enum ind_type)t),
				 matcher_type_count(f->m, (enum ind_type)t));
	assert_true(matcher_type_count(ld.m, IND_MD5) > 0);
	assert_int_equal(matcher_max_fixed_len(ld.m), matcher_max_fixed_len(f->m));
	static char want[8192], got[8192];
	hits_text(f->m, f->text, f->text_len, want, sizeof(want));
	hits_text(ld.m, f->text, f->text_len, got, sizeof(got));
	assert_string_equal(got, want);
	/* Every type above is found: the comparison is not between two empty lists. */
	static const char *const ids[] = {"l1", "r1", "d1", "u1", "e1", "m1", "s1", "s2", "i1",
					  "i2", "w1", "w2", "b1", "d17", "p1", "u17", "ulong"};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		char key[16];
		snprintf(key, sizeof(key), "\n%s ", ids[i]);
		char with_nl[8200];
		snprintf(with_nl, sizeof(with_nl), "\n%s", got);
		if (!strstr(with_nl, key))
			fail_msg("no hit of %s in:\n%s", ids[i], got);
	}
	assert_null(strstr(got, "d18 "));
	assert_null(strstr(got, "u18 "));
	struct matcher_stats st;
	matcher_get_stats(ld.m, &st);
	assert_true(st.set_entries >= N_DOM + N_URL + 1); /* the sets came back */
	stream_text(f->m, f->text, f->text_len, want, sizeof(want));
	stream_text(ld.m, f->text, f->text_len, got, sizeof(got));
	assert_string_equal(got, want);
	assert_true(strlen(got) > 100);
	assert_non_null(strstr(got, "\nu17 "));
	assert_non_null(strstr(got, "\nulong "));
	uint8_t a4[4] = {192, 0, 2, 9};
	uint32_t ia = UINT32_MAX, ib = UINT32_MAX;
	assert_int_equal(matcher_match_ip(f->m, 4, a4, on_ip, &ia), 1);
	assert_int_equal(matcher_match_ip(ld.m, 4, a4, on_ip, &ib), 1);
	assert_int_equal(ia, ib);
	savedb_load_fini(&ld);
}

/* A loaded pack keeps its indicators' ids and values in one block; an
 * allow-list can still drop some, and new ones still be added, and the
 * pack then frees what it owns (the sanitizer build catches a wrong free). */
static void test_loaded_strings(void **state)
{
	struct fx *f = *state;
	struct cs_diag d;
	cs_diag_clear(&d);
	struct savedb_load ld;
	save_and_load(f, &ld);
	struct pack *pk = ld.packs[0];
	assert_non_null(pk->strings);
	size_t need = 0;
	for (size_t i = 0; i < pk->n_ind; i++) {
		const struct indicator *ind = &pk->ind[i];
		uintptr_t a = (uintptr_t)pk->strings, id = (uintptr_t)ind->id,
			  v = (uintptr_t)ind->value;
		assert_true(id >= a && id + strlen(ind->id) < a + pk->strings_len);
		assert_true(v >= a && v + ind->value_len < a + pk->strings_len);
		assert_int_equal(ind->value[ind->value_len], '\0');
		need += strlen(ind->id) + 1 + ind->value_len + 1;
	}
	assert_int_equal(pk->strings_len, need); /* sized exactly, no room to spare */
	size_t before = pk->n_ind;
	struct allowlist *a = NULL;
	assert_int_equal(allowlist_create(&a), CS_OK);
	static const char list[] = "{\"name\":\"x\",\"type\":\"hostname\",\"list\":"
				   "[\"evil.example\"],\"matching_attributes\":[\"domain\"]}";
	assert_int_equal(allowlist_load_buf(a, "x", list, sizeof(list) - 1, NULL, &d), CS_OK);
	assert_int_equal(allowlist_filter_pack(a, pk), 1);
	allowlist_destroy(a);
	assert_int_equal(pk->n_ind, before - 1);
	for (size_t i = 0; i < pk->n_ind; i++)
		assert_string_not_equal(pk->ind[i].id, "d1");
	assert_int_equal(pack_add(pk, "new-1", IND_LITERAL, 0, "added later", 11, 0, &d), CS_OK);
	assert_string_equal(pk->ind[pk->n_ind - 1].value, "added later");
	savedb_load_fini(&ld);
}

static enum cs_err load_err(const char *path, char *msg, size_t cap)
{
	struct savedb_load ld;
	struct cs_diag d;
	cs_diag_clear(&d);
	enum cs_err e = savedb_read(path, NULL, &ld, &d);
	snprintf(msg, cap, "%s", d.msg);
	if (e == CS_OK)
		savedb_load_fini(&ld);
	return e;
}

/* Damage inside an indicator of a file whose digest is then made right
 * again, so that the reading gets that far: each is refused with a message
 * and nothing it had read is leaked or freed twice (the sanitizer build). */
static void test_damaged_indicator(void **state)
{
	struct fx *f = *state;
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(savedb_write(f->db_path, f->packs, 2, f->m, &d), CS_OK);
	size_t n;
	char *orig = read_all(f->db_path, &n);
	char *b = malloc(n);
	assert_non_null(b);
	/* Header: magic (8), format (4), 4 more, body length (8), body SHA-256 (32). */
	const size_t head = 8 + 4 + 4 + 8 + 32;
	static const char key[] = "\x02\0\0\0d1"; /* the length and bytes of id "d1" */
	for (int k = 0; k < 5; k++) {
		memcpy(b, orig, n);
		char *q = memmem(b, n, key, sizeof(key) - 1);
		assert_non_null(q);
		if (k == 0)
			q[6] = 99;           /* its type: no such type */
		else if (k == 1)
			q[0] = 10;           /* its id runs over its type and flags */
		else if (k == 2)
			memset(q, 0xff, 4);  /* no id */
		else if (k == 3)
			q[3] = 0x7f;         /* an id longer than the file */
		/* k == 4: undamaged, the digest made again: it loads */
		unsigned int len = 32;
		assert_int_equal(EVP_Digest(b + head, n - head, (unsigned char *)b + 24, &len,
					    EVP_sha256(), NULL), 1);
		write_file(f->db_path, b, n);
		char msg[512];
		enum cs_err e = load_err(f->db_path, msg, sizeof(msg));
		if (k == 4) {
			assert_int_equal(e, CS_OK);
		} else {
			assert_int_not_equal(e, CS_OK);
			/* past the digest check, refused by what it read */
			if (!strstr(msg, "malformed contents"))
				fail_msg("damage %d: %s", k, msg);
		}
	}
	free(b);
	free(orig);
}

static void test_damaged(void **state)
{
	struct fx *f = *state;
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(savedb_write(f->db_path, f->packs, 2, f->m, &d), CS_OK);
	size_t n;
	char *b = read_all(f->db_path, &n);
	char bad[160], msg[600];
	snprintf(bad, sizeof(bad), "%s/bad.csdb", f->dir);
	/* One byte changed in the body, in the middle and near the end. */
	size_t at[] = {n / 2, n - 3, 100};
	for (size_t i = 0; i < 3; i++) {
		b[at[i]] ^= 0x20;
		write_file(bad, b, n);
		b[at[i]] ^= 0x20;
		assert_int_equal(load_err(bad, msg, sizeof(msg)), CS_ERR_FORMAT);
		assert_non_null(strstr(msg, "SHA-256"));
	}
	/* Cut short, and one byte more. */
	write_file(bad, b, n - 1000);
	assert_int_equal(load_err(bad, msg, sizeof(msg)), CS_ERR_FORMAT);
	assert_non_null(strstr(msg, "truncated"));
	write_file(bad, b, 30);
	assert_int_equal(load_err(bad, msg, sizeof(msg)), CS_ERR_FORMAT);
	char *more = malloc(n + 1);
	assert_non_null(more);
	memcpy(more, b, n);
	more[n] = '\n';
	write_file(bad, more, n + 1);
	free(more);
	assert_int_equal(load_err(bad, msg, sizeof(msg)), CS_ERR_FORMAT);
	/* Not one at all. */
	b[0] = 'X';
	write_file(bad, b, n);
	assert_int_equal(load_err(bad, msg, sizeof(msg)), CS_ERR_FORMAT);
	assert_non_null(strstr(msg, "not a compiled rules file"));
	free(b);
	unlink(bad);
}

static void test_stale(void **state)
{
	struct fx *f = *state;
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(savedb_write(f->db_path, f->packs, 2, f->m, &d), CS_OK);
	struct savedb_env env;
	savedb_env_current(&env);
	struct savedb_load ld;
	/* Another engine version. */
	struct savedb_env other = env;
	snprintf(other.hs_version, sizeof(other.hs_version), "9.9.9 2099-01-01");
	assert_int_equal(savedb_read(f->db_path, &other, &ld, &d), CS_OK);
	assert_true(ld.stale);
	assert_null(ld.m);
	assert_null(ld.packs);
	assert_int_equal(ld.n_paths, 2);
	assert_non_null(strstr(ld.why, "9.9.9"));
	savedb_load_fini(&ld);
	/* Another CPU. */
	other = env;
	other.cpu_features ^= 0x4;
	assert_int_equal(savedb_read(f->db_path, &other, &ld, &d), CS_OK);
	assert_true(ld.stale);
	assert_non_null(strstr(ld.why, "CPU"));
	savedb_load_fini(&ld);
	/* The same machine: fits. */
	assert_int_equal(savedb_read(f->db_path, &env, &ld, &d), CS_OK);
	assert_false(ld.stale);
	savedb_load_fini(&ld);
	/* A pack changed on disk. */
	size_t n;
	char *b = read_all(f->pack_path[0], &n);
	write_file(f->pack_path[0], "# changed\n", 10);
	assert_int_equal(savedb_read(f->db_path, NULL, &ld, &d), CS_OK);
	assert_true(ld.stale);
	assert_non_null(strstr(ld.why, "a.pack"));
	savedb_load_fini(&ld);
	/* Gone: the file is all the sensor needs. */
	unlink(f->pack_path[0]);
	assert_int_equal(savedb_read(f->db_path, NULL, &ld, &d), CS_OK);
	assert_false(ld.stale);
	assert_non_null(ld.m);
	savedb_load_fini(&ld);
	write_file(f->pack_path[0], b, n);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_loaded_strings),
		cmocka_unit_test(test_damaged_indicator),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_stale),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
