/* Unit tests for evidence: record rendering (key order, withheld content,
 * exact bytes of invalid UTF-8), the records writer (no overwrite, rollback
 * of a failed write) and pending records (spill file, placeholder patching). */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cybersieve/evidence.h"
#include "cybersieve/json.h"
#include "cybersieve/pack.h"

/* ---- a strict JSON checker that lists the keys it meets, with their depth ---- */

#define MAX_KEYS 128

struct keyseen {
	int depth;
	char name[48];
};

struct jc {
	const char *s;
	size_t n, i;
	struct keyseen keys[MAX_KEYS];
	size_t n_keys;
};

static void jc_ws(struct jc *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\n' || p->s[p->i] == '\t' ||
			       p->s[p->i] == '\r'))
		p->i++;
}

/* UTF-8 sequence length when valid and not overlong, surrogate or > U+10FFFF. */
static size_t utf8_len(const uint8_t *s, size_t n)
{
	if (s[0] < 0x80)
		return 1;
	size_t need = s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : s[0] >= 0xe0 && s[0] <= 0xef ? 3
		     : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
	if (!need || n < need)
		return 0;
	uint32_t cp = s[0] & (need == 2 ? 0x1f : need == 3 ? 0x0f : 0x07);
	for (size_t k = 1; k < need; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
	return cp < min[need] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0 : need;
}

static bool jc_string(struct jc *p, char *copy, size_t cap)
{
	size_t w = 0;
	if (p->i >= p->n || p->s[p->i++] != '"')
		return false;
	while (p->i < p->n) {
		uint8_t c = (uint8_t)p->s[p->i];
		if (c == '"') {
			p->i++;
			if (copy)
				copy[w] = '\0';
			return true;
		}
		if (c < 0x20)
			return false;
		size_t l = 1;
		if (c == '\\') {
			if (p->i + 1 >= p->n)
				return false;
			char e = p->s[p->i + 1];
			l = e == 'u' ? 6 : 2;
			if (!strchr("\"\\/bfnrtu", e) || p->i + l > p->n)
				return false;
			for (size_t k = 2; k < l; k++)
				if (!strchr("0123456789abcdefABCDEF", p->s[p->i + k]))
					return false;
		} else if ((l = utf8_len((const uint8_t *)p->s + p->i, p->n - p->i)) == 0) {
			return false;
		}
		if (copy && w + l < cap) {
			memcpy(copy + w, p->s + p->i, l);
			w += l;
		}
		p->i += l;
	}
	return false;
}

static bool jc_value(struct jc *p, int depth)
{
	jc_ws(p);
	if (p->i >= p->n)
		return false;
	char c = p->s[p->i];
	if (c == '{' || c == '[') {
		char close = c == '{' ? '}' : ']';
		p->i++;
		jc_ws(p);
		if (p->i < p->n && p->s[p->i] == close)
			return ++p->i, true;
		for (;;) {
			if (c == '{') {
				jc_ws(p);
				struct keyseen *k = p->n_keys < MAX_KEYS ? &p->keys[p->n_keys++] : NULL;
				if (!jc_string(p, k ? k->name : NULL, sizeof(k->name)))
					return false;
				if (k)
					k->depth = depth + 1;
				jc_ws(p);
				if (p->i >= p->n || p->s[p->i++] != ':')
					return false;
			}
			if (!jc_value(p, depth + 1))
				return false;
			jc_ws(p);
			if (p->i >= p->n)
				return false;
			if (p->s[p->i] == close)
				return ++p->i, true;
			if (p->s[p->i++] != ',')
				return false;
		}
	}
	if (c == '"')
		return jc_string(p, NULL, 0);
	size_t st = p->i;
	while (p->i < p->n && strchr("-+.0123456789eEtruefalsn", p->s[p->i]))
		p->i++;
	size_t l = p->i - st;
	if (l == 0)
		return false;
	if ((l == 4 && !memcmp(p->s + st, "true", 4)) || (l == 5 && !memcmp(p->s + st, "false", 5)) ||
	    (l == 4 && !memcmp(p->s + st, "null", 4)))
		return true;
	char *end;
	char tmp[64];
	if (l >= sizeof(tmp))
		return false;
	memcpy(tmp, p->s + st, l);
	tmp[l] = '\0';
	(void)strtod(tmp, &end);
	return *end == '\0' && (tmp[0] == '-' || (tmp[0] >= '0' && tmp[0] <= '9'));
}

static bool jc_check(struct jc *p, const char *s, size_t n)
{
	memset(p, 0, sizeof(*p));
	p->s = s;
	p->n = n;
	if (!jc_value(p, 0))
		return false;
	jc_ws(p);
	return p->i == n;
}

/* Keys of depth `depth` that follow the key `after` at depth-1 (NULL: all of that depth). */
static size_t keys_at(const struct jc *p, int depth, const char *after, const char **out,
		      size_t cap)
{
	size_t k = 0;
	bool in = after == NULL;
	for (size_t i = 0; i < p->n_keys; i++) {
		const struct keyseen *ks = &p->keys[i];
		if (after && ks->depth == depth - 1)
			in = strcmp(ks->name, after) == 0;
		if (in && ks->depth == depth && k < cap)
			out[k++] = ks->name;
	}
	return k;
}

static void expect_keys(const struct jc *p, int depth, const char *after, const char *const *want,
			size_t n_want)
{
	const char *got[32];
	size_t n = keys_at(p, depth, after, got, 32);
	for (size_t i = 0; i < n && i < n_want; i++)
		if (strcmp(got[i], want[i]) != 0)
			fail_msg("key %zu under %s: '%s', want '%s'", i, after ? after : "top", got[i],
				 want[i]);
	if (n != n_want)
		fail_msg("%zu keys under %s, want %zu", n, after ? after : "top", n_want);
}

/* ---- buffers ---- */

/* A buffer grown past 2 MiB moves onto a 2 MiB-aligned block (huge pages)
 * with its bytes and its terminating NUL kept; reset keeps the block. */
static void test_jbuf_grows_large(void **state)
{
	(void)state;
	struct jbuf j;
	jbuf_init(&j);
	char piece[1000];
	size_t total = 0;
	for (unsigned i = 0; total < 6u << 20; i++) {
		memset(piece, 'a' + (int)(i % 26), sizeof(piece));
		jbuf_raw(&j, piece, sizeof(piece));
		total += sizeof(piece);
		assert_false(j.failed);
		assert_int_equal(j.p[j.len], '\0');
	}
	assert_int_equal(j.len, total);
	assert_int_equal((uintptr_t)j.p % (2u << 20), 0);
	for (size_t k = 0; k < total; k += 997)
		assert_int_equal(j.p[k], 'a' + (int)((k / sizeof(piece)) % 26));
	char *block = j.p;
	jbuf_reset(&j);
	jbuf_raw(&j, "x", 1);
	assert_ptr_equal(j.p, block);
	assert_string_equal(j.p, "x");
	jbuf_fini(&j);
}

/* ---- records ---- */

struct recfx {
	struct pack *pack;
	struct matcher_ind mi;
	struct ev_record r;
	struct jbuf j;
};

static void recfx_init(struct recfx *f, const char *category)
{
	struct cs_diag d;
	memset(f, 0, sizeof(*f));
	assert_int_equal(pack_create_adhoc("-e", &f->pack), CS_OK);
	assert_int_equal(pack_add(f->pack, "dom-1", IND_DOMAIN, 0, "evil.com", 8, 0, &d), CS_OK);
	pack_seal(f->pack);
	if (category) {
		free(f->pack->category);
		f->pack->category = strdup(category);
		assert_non_null(f->pack->category);
	}
	f->mi = (struct matcher_ind){&f->pack->ind[0], f->pack, 0, 0, NULL};
	f->r = (struct ev_record){
		.run_id = "run-1", .seq = 7, .detected = {1700000000, 123000000}, .mi = &f->mi,
		.path = "/var/log/x.log", .gzip = false, .line = 12, .offset = 345,
		.text = (const uint8_t *)"SECRETTEXT", .text_len = 10,
		.before = (const uint8_t *)"pre ", .before_len = 4,
		.after = (const uint8_t *)" post", .after_len = 5, .count = 2,
	};
	jbuf_init(&f->j);
}

static void recfx_fini(struct recfx *f)
{
	jbuf_fini(&f->j);
	pack_destroy(f->pack);
}

/* The Convention's article: from the category, unless the heading names another. */
static void test_record_article(void **state)
{
	(void)state;
	static const struct {
		const char *category, *legal, *want;
	} cases[] = {
		{"scam", NULL, "\"article\":13,"},       {"csam", NULL, "\"article\":14,"},
		{"grooming", NULL, "\"article\":15,"},   {"laundering", NULL, "\"article\":17,"},
		{"mine", NULL, "\"article\":null,"},     {"mine", "Art. 16 (x)", "\"article\":16,"},
		{"scam", "national law, article 7", "\"article\":7,"},
		{"scam", "no number here", "\"article\":13,"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct recfx f;
		recfx_init(&f, cases[i].category);
		free(f.pack->legal);
		f.pack->legal = cases[i].legal ? strdup(cases[i].legal) : NULL;
		ev_record_render(&f.j, &f.r);
		jbuf_raw(&f.j, "", 1);
		if (!strstr(f.j.p, cases[i].want))
			fail_msg("case %zu: no %s in %s", i, cases[i].want, f.j.p);
		recfx_fini(&f);
	}
}

static void test_record_keys_in_order(void **state)
{
	(void)state;
	struct recfx f;
	recfx_init(&f, NULL);
	ev_record_render(&f.j, &f.r);
	assert_false(f.j.failed);
	assert_int_not_equal(f.j.p[f.j.len - 1], '\n');
	struct jc p;
	if (!jc_check(&p, f.j.p, f.j.len))
		fail_msg("not JSON: %s", f.j.p);
	static const char *const top[] = {"prev", "record_id", "run_id", "seq", "time_detected",
					  "tool", "indicator", "legal", "article", "tlp", "source",
					  "match"};
	expect_keys(&p, 1, NULL, top, 12);
	static const char *const src[] = {"kind", "path", "sha256", "gzip", "line", "offset"};
	expect_keys(&p, 2, "source", src, 6);
	static const char *const match[] = {"length", "count", "text", "context"};
	expect_keys(&p, 2, "match", match, 4);
	static const char *const ind[] = {"id", "type", "value", "category", "confidence", "pack"};
	expect_keys(&p, 2, "indicator", ind, 6);
	static const char *const ctx[] = {"before", "after"};
	expect_keys(&p, 3, "context", ctx, 2);
	assert_non_null(strstr(f.j.p, "\"record_id\":\"run-1:7\""));
	assert_non_null(strstr(f.j.p, "\"seq\":7,"));
	assert_non_null(strstr(f.j.p, "\"sha256\":\"" EV_SHA256_PLACEHOLDER "\""));
	assert_non_null(strstr(f.j.p, "\"line\":12,\"offset\":345}"));
	assert_non_null(strstr(f.j.p, "\"text\":\"SECRETTEXT\""));
	assert_non_null(strstr(f.j.p, "\"before\":\"pre \",\"after\":\" post\""));
	assert_non_null(strstr(f.j.p, "\"length\":10,\"count\":2,"));
	assert_null(strstr(f.j.p, "line_split"));
	assert_null(strstr(f.j.p, "_b64"));

	/* A split line is flagged; rendering twice gives the same bytes. */
	f.r.line_split = true;
	jbuf_reset(&f.j);
	ev_record_render(&f.j, &f.r);
	assert_true(jc_check(&p, f.j.p, f.j.len));
	assert_non_null(strstr(f.j.p, "\"count\":2,\"line_split\":true,"));
	char *first = strdup(f.j.p);
	assert_non_null(first);
	jbuf_reset(&f.j);
	ev_record_render(&f.j, &f.r);
	assert_string_equal(first, f.j.p);
	free(first);
	recfx_fini(&f);
}

static void test_record_csam_withheld(void **state)
{
	(void)state;
	assert_true(ev_category_withholds_content("csam"));
	assert_false(ev_category_withholds_content("scam"));
	assert_false(ev_category_withholds_content(NULL));
	struct recfx f;
	recfx_init(&f, "csam");
	ev_record_render(&f.j, &f.r);
	struct jc p;
	if (!jc_check(&p, f.j.p, f.j.len))
		fail_msg("not JSON: %s", f.j.p);
	static const char *const match[] = {"length", "count", "content_withheld"};
	expect_keys(&p, 2, "match", match, 3);
	assert_non_null(strstr(f.j.p, "\"content_withheld\":true"));
	assert_null(strstr(f.j.p, "SECRETTEXT"));
	assert_null(strstr(f.j.p, "pre "));
	assert_null(strstr(f.j.p, " post"));
	assert_null(strstr(f.j.p, "\"text\""));
	assert_null(strstr(f.j.p, "\"context\""));
	/* Location is still there. */
	assert_non_null(strstr(f.j.p, "\"line\":12,\"offset\":345}"));
	recfx_fini(&f);
}

static void test_record_invalid_utf8(void **state)
{
	(void)state;
	struct recfx f;
	recfx_init(&f, NULL);
	static const uint8_t bad[] = {'a', 'b', 0xff, 0xfe};
	static const uint8_t ctx[] = {0xc3, 0xa9, 0xc3};
	f.r.text = bad;
	f.r.text_len = sizeof(bad);
	f.r.before = ctx;
	f.r.before_len = sizeof(ctx);
	f.r.path = "/logs/caf\xe9.log";
	ev_record_render(&f.j, &f.r);
	struct jc p;
	if (!jc_check(&p, f.j.p, f.j.len))
		fail_msg("not JSON: %s", f.j.p);
	assert_non_null(strstr(f.j.p, "\"text\":\"ab\xef\xbf\xbd\xef\xbf\xbd\",\"text_b64\":\"YWL//g==\""));
	assert_non_null(strstr(f.j.p, "\"before\":\"\xc3\xa9\xef\xbf\xbd\",\"before_b64\":\"w6nD\""));
	assert_non_null(strstr(f.j.p, "\"path\":\"/logs/caf\xef\xbf\xbd.log\",\"path_b64\":\"L2xvZ3MvY2Fm6S5sb2c=\""));
	assert_null(strstr(f.j.p, "after_b64"));
	static const char *const match[] = {"length", "count", "text", "text_b64", "context"};
	expect_keys(&p, 2, "match", match, 5);
	recfx_fini(&f);
}

/* ---- writer ---- */

static char *tmp_path(const char *tag)
{
	char *p = malloc(256);
	assert_non_null(p);
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(p, 256, "%s/cs-test-ev-%s-%ld", dir, tag, (long)getpid());
	unlink(p);
	return p;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	assert_non_null(buf);
	for (;;) {
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n < cap)
			break;
		cap *= 2;
		buf = realloc(buf, cap + 1);
		assert_non_null(buf);
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void test_writer_refuses_existing(void **state)
{
	(void)state;
	char *path = tmp_path("excl");
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("keep me\n", f);
	fclose(f);
	struct ev_writer *w = NULL;
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(ev_writer_open(path, &w, &d), CS_ERR_EXISTS);
	assert_null(w);
	assert_string_equal(d.file, path);
	size_t n;
	char *got = slurp(path, &n);
	assert_string_equal(got, "keep me\n");
	free(got);
	unlink(path);

	/* A new file: mode 0600, bytes as written, seq numbers from 1. */
	assert_int_equal(ev_writer_open(path, &w, &d), CS_OK);
	assert_int_equal(ev_writer_next_seq(w), 1);
	assert_int_equal(ev_writer_next_seq(w), 2);
	assert_int_equal(ev_writer_write(w, "{\"a\":1}\n", 8, &d), CS_OK);
	assert_int_equal(ev_writer_write(w, "{\"b\":2}\n", 8, &d), CS_OK);
	assert_int_equal(ev_writer_bytes(w), 16);
	assert_int_equal(ev_writer_close(w, &d), CS_OK);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	got = slurp(path, &n);
	assert_string_equal(got, "{\"a\":1}\n{\"b\":2}\n");
	free(got);
	unlink(path);
	/* A directory that does not exist: an I/O error, not EXISTS. */
	assert_int_equal(ev_writer_open("/nonexistent-dir-cs/x.ndjson", &w, &d), CS_ERR_IO);
	free(path);
}

static void test_writer_rollback_on_full(void **state)
{
	(void)state;
	char *path = tmp_path("fsize");
	char good[100], bad[400];
	memset(good, 'g', sizeof(good));
	good[sizeof(good) - 1] = '\n';
	memset(bad, 'b', sizeof(bad));
	bad[sizeof(bad) - 1] = '\n';
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Child: the file size limit makes the second write stop part-way. */
		signal(SIGXFSZ, SIG_IGN);
		struct ev_writer *w;
		struct cs_diag d;
		if (ev_writer_open(path, &w, &d) != CS_OK)
			_exit(10);
		if (ev_writer_write(w, good, sizeof(good), &d) != CS_OK)
			_exit(11);
		struct rlimit rl = {.rlim_cur = 250, .rlim_max = RLIM_INFINITY};
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(12);
		if (ev_writer_write(w, bad, sizeof(bad), &d) != CS_ERR_IO)
			_exit(13);
		if (d.sys_errno == 0)
			_exit(14);
		/* Once failed, the writer refuses further records. */
		if (ev_writer_write(w, good, 10, &d) != CS_ERR_IO)
			_exit(15);
		if (ev_writer_bytes(w) != sizeof(good))
			_exit(16);
		ev_writer_close(w, &d);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	size_t n;
	char *got = slurp(path, &n);
	assert_int_equal(n, sizeof(good));
	assert_memory_equal(got, good, sizeof(good));
	free(got);
	unlink(path);
	free(path);
}

/* ---- pending ---- */

static size_t make_record(char *out, size_t cap, unsigned i)
{
	/* The placeholder appears twice: every occurrence in the record must be patched. */
	return (size_t)snprintf(out, cap,
				"{\"seq\":%u,\"source\":{\"sha256\":\"" EV_SHA256_PLACEHOLDER
				"\"},\"pad\":\"%0*u\",\"x\":{\"sha256\":\"" EV_SHA256_PLACEHOLDER
				"\"}}",
				i, (int)(i % 50), i);
}

static void expect_flushed(struct ev_pending *p, unsigned n_rec, const char *hex, const char *tag)
{
	char *path = tmp_path(tag);
	struct ev_writer *w;
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(ev_writer_open(path, &w, &d), CS_OK);
	assert_int_equal(ev_pending_count(p), n_rec);
	if (ev_pending_flush(p, hex, w, &d) != CS_OK)
		fail_msg("flush: %s", d.msg);
	assert_int_equal(ev_pending_count(p), 0);
	assert_int_equal(ev_writer_close(w, &d), CS_OK);

	size_t cap = (size_t)n_rec * 400 + 1, len = 0;
	char *want = malloc(cap);
	assert_non_null(want);
	char rec[400];
	for (unsigned i = 0; i < n_rec; i++) {
		size_t l = make_record(rec, sizeof(rec), i);
		for (char *q = strstr(rec, EV_SHA256_PLACEHOLDER); q; q = strstr(q, EV_SHA256_PLACEHOLDER))
			memcpy(q, hex, 64);
		memcpy(want + len, rec, l);
		len += l;
		want[len++] = '\n';
	}
	want[len] = '\0';
	size_t n;
	char *got = slurp(path, &n);
	if (n != len || memcmp(got, want, len) != 0) {
		size_t k = 0;
		while (k < n && k < len && got[k] == want[k])
			k++;
		fail_msg("%s: flushed records differ at byte %zu of %zu (got %zu bytes, byte 0x%02x)",
			 tag, k, len, n, k < n ? (unsigned char)got[k] : 0);
	}
	free(got);
	free(want);
	unlink(path);
	free(path);
}

static void add_records(struct ev_pending *p, unsigned n_rec)
{
	char rec[400];
	struct cs_diag d;
	cs_diag_clear(&d);
	for (unsigned i = 0; i < n_rec; i++) {
		size_t l = make_record(rec, sizeof(rec), i);
		if (ev_pending_add(p, rec, l, &d) != CS_OK)
			fail_msg("add %u: %s", i, d.msg);
	}
}

static void test_pending_in_memory(void **state)
{
	(void)state;
	struct ev_pending *p;
	assert_int_equal(ev_pending_create(NULL, 1 << 20, &p), CS_OK);
	add_records(p, 5);
	expect_flushed(p, 5, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		       "mem");
	/* Nothing pending: the flush writes nothing. */
	expect_flushed(p, 0, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		       "none");
	ev_pending_destroy(p);
}

static void test_pending_spills(void **state)
{
	(void)state;
	struct ev_pending *p;
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	assert_int_equal(ev_pending_create(dir, 300, &p), CS_OK);
	add_records(p, 200);
	expect_flushed(p, 200, "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90",
		       "spill1");
	ev_pending_destroy(p);
}

/* The same pending set reused for the next input after a spilled one. */
static void test_pending_spills_twice(void **state)
{
	(void)state;
	struct ev_pending *p;
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	assert_int_equal(ev_pending_create(dir, 300, &p), CS_OK);
	add_records(p, 40);
	expect_flushed(p, 40, "1111111111111111111111111111111111111111111111111111111111111111",
		       "twice1");
	add_records(p, 30);
	expect_flushed(p, 30, "2222222222222222222222222222222222222222222222222222222222222222",
		       "twice2");
	ev_pending_destroy(p);
}

/* A record longer than the spill file's 1 MiB read block (a window record
 * listing many parts) comes out whole, patched, and counted once. */
static void test_pending_spills_long_record(void **state)
{
	(void)state;
	struct ev_pending *p;
	struct ev_writer *w;
	struct cs_diag d;
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	const char *hex = "abababababababababababababababababababababababababababababababab";
	cs_diag_clear(&d);
	assert_int_equal(ev_pending_create(dir, 1000, &p), CS_OK);
	size_t long_len = (size_t)2600 * 1024;
	char *lr = malloc(long_len + 1);
	assert_non_null(lr);
	/* {"sha256":"<placeholder>","pad":"xxx..."sha256":"<placeholder>...xxx","z":{"sha256":
	 * "<placeholder>"}} with the middle placeholder across the first 1 MiB boundary of
	 * the spill file. */
	size_t k = (size_t)snprintf(lr, long_len,
				    "{\"sha256\":\"" EV_SHA256_PLACEHOLDER "\",\"pad\":\"");
	memset(lr + k, 'x', long_len - k);
	size_t mid = (1u << 20) - 30;
	memcpy(lr + mid - 10, "\"sha256\":\"" EV_SHA256_PLACEHOLDER, 74);
	const char *tail = "\",\"z\":{\"sha256\":\"" EV_SHA256_PLACEHOLDER "\"}}";
	memcpy(lr + long_len - strlen(tail), tail, strlen(tail));
	const char *recs[3] = { "{\"seq\":1}", lr, "{\"seq\":3,\"sha256\":\"" EV_SHA256_PLACEHOLDER "\"}" };
	size_t lens[3] = { strlen(recs[0]), long_len, strlen(recs[2]) };
	for (int i = 0; i < 3; i++)
		if (ev_pending_add(p, recs[i], lens[i], &d) != CS_OK)
			fail_msg("add %d: %s", i, d.msg);
	char *path = tmp_path("longrec");
	assert_int_equal(ev_writer_open(path, &w, &d), CS_OK);
	if (ev_pending_flush(p, hex, w, &d) != CS_OK)
		fail_msg("flush: %s", d.msg);
	const struct ev_chain_file *files;
	assert_int_equal(ev_writer_files(w, &files), 1);
	assert_int_equal(files[0].records, 3);
	assert_int_equal(ev_writer_close(w, &d), CS_OK);
	size_t n;
	char *got = slurp(path, &n);
	size_t want_len = lens[0] + lens[1] + lens[2] + 3;
	assert_int_equal(n, want_len);
	assert_null(strstr(got, EV_SHA256_PLACEHOLDER));
	const char *nl1 = memchr(got, '\n', n);
	assert_non_null(nl1);
	assert_int_equal((size_t)(nl1 - got), lens[0]);
	const char *l2 = nl1 + 1;
	assert_int_equal(l2[long_len], '\n');
	assert_memory_equal(l2 + mid, hex, 64);
	assert_memory_equal(l2 + 11, hex, 64);
	assert_memory_equal(l2 + long_len - 67, hex, 64);
	assert_int_equal(got[n - 1], '\n');
	free(got);
	free(lr);
	unlink(path);
	free(path);
	ev_pending_destroy(p);
}

/* The writer takes whole records only. */
static void test_writer_refuses_cut_record(void **state)
{
	(void)state;
	struct ev_writer *w;
	struct cs_diag d;
	cs_diag_clear(&d);
	char *path = tmp_path("cutrec");
	assert_int_equal(ev_writer_open(path, &w, &d), CS_OK);
	assert_int_equal(ev_writer_write(w, "{\"a\":1}\n{\"b\"", 13, &d), CS_ERR_INVALID);
	assert_non_null(strstr(d.msg, "whole record"));
	assert_int_equal(ev_writer_write(w, "{\"a\":1}\n", 8, &d), CS_OK);
	const struct ev_chain_file *files;
	assert_int_equal(ev_writer_files(w, &files), 1);
	assert_int_equal(files[0].records, 1);
	assert_int_equal(ev_writer_close(w, &d), CS_OK);
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jbuf_grows_large),
		cmocka_unit_test(test_record_keys_in_order),
		cmocka_unit_test(test_record_article),
		cmocka_unit_test(test_record_csam_withheld),
		cmocka_unit_test(test_record_invalid_utf8),
		cmocka_unit_test(test_writer_refuses_existing),
		cmocka_unit_test(test_writer_rollback_on_full),
		cmocka_unit_test(test_pending_in_memory),
		cmocka_unit_test(test_pending_spills),
		cmocka_unit_test(test_pending_spills_twice),
		cmocka_unit_test(test_pending_spills_long_record),
		cmocka_unit_test(test_writer_refuses_cut_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
