/* Unit tests for the batch log scan run in-process on temporary files:
 * indicators across chunk cuts, over-long lines scanned in pieces, line
 * counts, identical output whatever the thread count, empty and gzip inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "cybersieve/batch.h"
#include "cybersieve/evidence.h"
#include "cybersieve/ingest.h"
#include "cybersieve/matcher.h"
#include "cybersieve/pack.h"

#define MD5 "d41d8cd98f00b204e9800998ecf8427e"
#define DOM "evil.example.com"
#define LIT "XYZZY-MARK"

/* The reader peeks this many bytes, then fills the first chunk with 64 KiB more:
 * the first cut of a plain file falls at this offset (when no newline is later). */
#define FIRST_CUT (16 + 65536)

enum { I_MD5 = 0, I_DOM, I_LIT, N_IND };
static const char *const ind_value[N_IND] = {MD5, DOM, LIT};
static const char *const ind_id[N_IND] = {"md5", "dom", "lit"};

static int ind_of(const char *id)
{
	for (int i = 0; i < N_IND; i++)
		if (strcmp(id, ind_id[i]) == 0)
			return i;
	fail_msg("unknown indicator id %s", id);
	return -1;
}

struct env {
	char dir[256];
	struct pack *pack;
	struct matcher *m;
	unsigned n_files;
};

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	const char *t = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(e->dir, sizeof(e->dir), "%s/cs-test-batch-XXXXXX", t);
	assert_non_null(mkdtemp(e->dir));
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(pack_create_adhoc("-e", &e->pack), CS_OK);
	static const enum ind_type types[N_IND] = {IND_MD5, IND_DOMAIN, IND_LITERAL};
	for (int i = 0; i < N_IND; i++)
		assert_int_equal(pack_add(e->pack, ind_id[i], types[i], 0, ind_value[i],
					  strlen(ind_value[i]), 0, &d), CS_OK);
	pack_seal(e->pack);
	if (matcher_build(&e->pack, 1, NULL, NULL, &e->m, &d) != CS_OK)
		fail_msg("build: %s", d.msg);
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;
	char cmd[300];
	/* Only the directory this test made. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", e->dir);
	matcher_destroy(e->m);
	pack_destroy(e->pack);
	free(e);
	return 0;
}

static char *env_path(struct env *e, const char *name)
{
	char *p = malloc(512);
	assert_non_null(p);
	snprintf(p, 512, "%s/%03u-%s", e->dir, e->n_files++, name);
	return p;
}

static char *write_file(struct env *e, const char *name, const char *data, size_t n)
{
	char *p = env_path(e, name);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	return p;
}

/* ---- a growing text buffer for building inputs ---- */

struct text {
	char *p;
	size_t n, cap;
};

static void text_add(struct text *t, const char *s, size_t n)
{
	if (t->n + n + 1 > t->cap) {
		t->cap = (t->n + n + 1) * 2;
		t->p = realloc(t->p, t->cap);
		assert_non_null(t->p);
	}
	memcpy(t->p + t->n, s, n);
	t->n += n;
	t->p[t->n] = '\0';
}

static void text_adds(struct text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

static void text_fill(struct text *t, char c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		text_add(t, &c, 1);
}

/* ---- the run, and what came out ---- */

struct rec {
	char id[16];
	char path[512];
	uint64_t line, offset, count;
	bool split, gzip;
};

struct out {
	struct batch_result res;
	char *text;            /* the records file */
	size_t len;
	struct rec *r;
	size_t n;
};

static bool field_u64(const char *rec, const char *key, uint64_t *v)
{
	const char *p = strstr(rec, key);
	if (!p)
		return false;
	*v = strtoull(p + strlen(key), NULL, 10);
	return true;
}

static void field_str(const char *rec, const char *key, char *out, size_t cap)
{
	const char *p = strstr(rec, key);
	assert_non_null(p);
	p += strlen(key);
	size_t i = 0;
	while (p[i] && p[i] != '"' && i + 1 < cap) {
		out[i] = p[i];
		i++;
	}
	out[i] = '\0';
}

static void parse_records(struct out *o)
{
	if (memchr(o->text, '\0', o->len))
		fail_msg("records file holds NUL bytes");
	size_t n = 0;
	for (size_t i = 0; i < o->len; i++)
		n += o->text[i] == '\n';
	o->r = calloc(n ? n : 1, sizeof(*o->r));
	assert_non_null(o->r);
	char *line = o->text;
	for (size_t k = 0; k < n; k++) {
		char *nl = strchr(line, '\n');
		assert_non_null(nl);
		*nl = '\0';
		struct rec *r = &o->r[k];
		field_str(line, "\"indicator\":{\"id\":\"", r->id, sizeof(r->id));
		field_str(line, "\"path\":\"", r->path, sizeof(r->path));
		assert_true(field_u64(line, "\"line\":", &r->line));
		assert_true(field_u64(line, "\"offset\":", &r->offset));
		assert_true(field_u64(line, "\"count\":", &r->count));
		r->split = strstr(line, "\"line_split\":true") != NULL;
		r->gzip = strstr(line, "\"gzip\":true") != NULL;
		/* The placeholder never reaches the file. */
		assert_null(strstr(line, "????????"));
		*nl = '\n';
		line = nl + 1;
	}
	o->n = n;
}

static struct batch_opts default_opts(void)
{
	struct batch_opts o = {
		.threads = 2, .chunk_size = 4096, .max_line = 4096, .context = 8,
		.max_text = 256, .pending_cap = 1 << 20, .run_id = "run-test",
	};
	o.spill_dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	return o;
}

/* A file listed by the walk and gone before it is read: its open fails. */
static const char *unlink_after_walk;

static void run(struct env *e, char **paths, size_t n_paths, const struct batch_opts *opts,
		struct out *o)
{
	memset(o, 0, sizeof(*o));
	struct walk_list wl = {0};
	struct walk_opts wo = {0};
	assert_int_equal(walk_paths((const char *const *)paths, n_paths, &wo, &wl), CS_OK);
	assert_int_equal(wl.n, n_paths);
	if (unlink_after_walk)
		assert_int_equal(unlink(unlink_after_walk), 0);
	char *outp = env_path(e, "records.ndjson");
	struct ev_writer *w;
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(ev_writer_open(outp, &w, &d), CS_OK);
	assert_int_equal(batch_run(e->m, &wl, w, opts, &o->res), CS_OK);
	assert_int_equal(ev_writer_close(w, &d), CS_OK);
	assert_false(o->res.output_failed);
	FILE *f = fopen(outp, "rb");
	assert_non_null(f);
	struct stat st;
	assert_int_equal(stat(outp, &st), 0);
	o->len = (size_t)st.st_size;
	o->text = malloc(o->len + 1);
	assert_non_null(o->text);
	assert_int_equal(fread(o->text, 1, o->len, f), o->len);
	o->text[o->len] = '\0';
	fclose(f);
	free(outp);
	walk_list_fini(&wl);
	parse_records(o);
}

static void out_fini(struct out *o)
{
	batch_result_fini(&o->res);
	free(o->text);
	free(o->r);
}

static void free_paths(char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
}

/* ---- tests ---- */

/* Each indicator placed so that the first chunk cut falls before, inside
 * (at every byte) and after it; lines around it have varied lengths. */
static void test_chunk_boundaries(void **state)
{
	struct env *e = *state;
	enum { MAXF = 3 * 40 };
	char *paths[MAXF];
	uint64_t want_line[MAXF], want_off[MAXF];
	int want_ind[MAXF];
	size_t nf = 0;
	for (int ind = 0; ind < N_IND; ind++) {
		size_t l = strlen(ind_value[ind]);
		for (size_t k = 0; k <= l + 1; k++) {
			struct text t = {0};
			uint64_t lines = 0;
			size_t at = FIRST_CUT - k; /* where the indicator starts */
			/* Lines of lengths 1..97 until the indicator's line. */
			for (size_t len = 1 + k % 7; t.n + len + 1 + 8 < at; len = len % 97 + 1) {
				text_fill(&t, 'q', len);
				text_adds(&t, "\n");
				lines++;
			}
			text_fill(&t, ' ', at - t.n);
			text_adds(&t, ind_value[ind]);
			text_adds(&t, " tail\n");
			for (int i = 0; i < 100; i++)
				text_adds(&t, "after the cut\n");
			want_line[nf] = lines + 1;
			want_off[nf] = at;
			want_ind[nf] = ind;
			paths[nf] = write_file(e, "cut.log", t.p, t.n);
			nf++;
			free(t.p);
		}
	}
	struct batch_opts opts = default_opts();
	struct out o;
	run(e, paths, nf, &opts, &o);
	assert_int_equal(o.n, nf);
	for (size_t i = 0; i < nf; i++) {
		const struct rec *r = &o.r[i];
		if (strcmp(r->path, paths[i]) != 0 || strcmp(r->id, ind_id[want_ind[i]]) != 0 ||
		    r->line != want_line[i] || r->offset != want_off[i] || r->count != 1)
			fail_msg("file %zu (%s): got %s line %llu offset %llu, want line %llu offset %llu",
				 i, paths[i], r->id, (unsigned long long)r->line,
				 (unsigned long long)r->offset, (unsigned long long)want_line[i],
				 (unsigned long long)want_off[i]);
		assert_int_equal(o.res.inputs[i].status, INPUT_COMPLETE);
		assert_int_equal(o.res.inputs[i].lines, want_line[i] + 100);
		assert_int_equal(o.res.inputs[i].lines_split, 0);
	}
	out_fini(&o);
	free_paths(paths, nf);
}

/* A large file whose every line holds an indicator at a varying column: many
 * chunks, every alignment, each hit at its exact line and offset. */
static void test_every_line_many_chunks(void **state)
{
	struct env *e = *state;
	struct text t = {0};
	size_t n_lines = 20000;
	uint64_t *off = malloc(n_lines * sizeof(*off));
	assert_non_null(off);
	for (size_t i = 0; i < n_lines; i++) {
		text_fill(&t, '.', i % 61);
		text_adds(&t, " ");
		off[i] = t.n;
		text_adds(&t, ind_value[i % N_IND]);
		text_adds(&t, " ");
		text_fill(&t, 'z', (i * 7) % 53);
		text_adds(&t, "\n");
	}
	char *p = write_file(e, "many.log", t.p, t.n);
	struct batch_opts opts = default_opts();
	opts.threads = 3;
	struct out o;
	run(e, &p, 1, &opts, &o);
	assert_int_equal(o.n, n_lines);
	for (size_t i = 0; i < n_lines; i++) {
		if (o.r[i].line != i + 1 || o.r[i].offset != off[i])
			fail_msg("record %zu: line %llu offset %llu, want %zu %llu", i,
				 (unsigned long long)o.r[i].line, (unsigned long long)o.r[i].offset,
				 i + 1, (unsigned long long)off[i]);
	}
	assert_int_equal(o.res.inputs[0].lines, n_lines);
	assert_int_equal(o.res.inputs[0].bytes, t.n);
	assert_int_equal(o.res.lines, n_lines);
	assert_int_equal(o.res.matches, n_lines);
	assert_int_equal(o.res.ind_matches[I_MD5] + o.res.ind_matches[I_DOM] +
			 o.res.ind_matches[I_LIT], n_lines);
	out_fini(&o);
	free(p);
	free(off);
	free(t.p);
}

struct planted {
	size_t at;
	int ind;
};

/* Records of line `line` (1-based): every offset is a planted occurrence of its
 * indicator and, over the pieces of a split line, the counts add up to what was
 * planted. */
static void verify_planted(const struct out *o, uint64_t line, const struct planted *pl, size_t np,
			   bool want_split)
{
	uint64_t seen[N_IND] = {0}, want[N_IND] = {0};
	for (size_t c = 0; c < np; c++)
		want[pl[c].ind]++;
	for (size_t i = 0; i < o->n; i++) {
		const struct rec *r = &o->r[i];
		if (r->line != line)
			continue;
		if (want_split && !r->split)
			fail_msg("record %zu on the long line is not marked line_split", i);
		int ind = ind_of(r->id);
		seen[ind] += r->count;
		bool ok = false;
		for (size_t c = 0; c < np && !ok; c++)
			ok = pl[c].ind == ind && pl[c].at == r->offset;
		if (!ok)
			fail_msg("record %zu (%s) at offset %llu: nothing planted there", i, r->id,
				 (unsigned long long)r->offset);
	}
	for (int k = 0; k < N_IND; k++)
		if (seen[k] != want[k])
			fail_msg("%s: %llu occurrences reported, %llu planted", ind_id[k],
				 (unsigned long long)seen[k], (unsigned long long)want[k]);
}

/* One over-long line with indicators across the given cut points, between short lines. */
static void long_line_case(struct env *e, size_t line_len, const size_t *cuts, size_t n_cuts)
{
	struct text t = {0};
	text_adds(&t, "first line " LIT "\n");
	size_t base = t.n;
	struct planted pl[64];
	size_t np = 0;
	text_fill(&t, '.', line_len);
	for (size_t c = 0; c < n_cuts; c++) {
		int ind = (int)(c % N_IND);
		size_t l = strlen(ind_value[ind]);
		/* Straddle the cut with a different share on each side each time. */
		size_t k = 1 + (c * 5) % (l - 1);
		size_t at = cuts[c] - k;
		assert_true(at > base && at + l < base + line_len);
		memcpy(t.p + at, ind_value[ind], l);
		t.p[at - 1] = ' ';
		t.p[at + l] = ' ';
		pl[np++] = (struct planted){at, ind};
	}
	text_adds(&t, "\nlast " DOM "\nend\n");
	char *p = write_file(e, "long.log", t.p, t.n);
	struct batch_opts opts = default_opts();
	struct out o;
	run(e, &p, 1, &opts, &o);
	assert_int_equal(o.res.inputs[0].lines, 4);
	assert_int_equal(o.r[0].line, 1);
	assert_false(o.r[0].split);
	assert_int_equal(o.r[o.n - 1].line, 3);
	assert_false(o.r[o.n - 1].split);
	verify_planted(&o, 2, pl, np, true);
	assert_int_equal(o.res.inputs[0].lines_split, 1);
	out_fini(&o);
	free(p);
	free(t.p);
}

/* max_line = chunk_size = 4096 and a 20000-byte line: the contract says lines
 * longer than max_line are split, with pieces overlapping so nothing is lost. */
static void test_long_line_20000(void **state)
{
	struct env *e = *state;
	size_t base = strlen("first line " LIT "\n");
	size_t cuts[] = {base + 4096, base + 8192, base + 12288, base + 16384};
	long_line_case(e, 20000, cuts, 4);
}

/* A line far longer than a chunk: the reader cuts it every 64 KiB. Every
 * indicator straddling a cut is found, at the right offset. */
static void test_long_line_cut_points(void **state)
{
	struct env *e = *state;
	struct text t = {0};
	size_t line_len = 400000;
	text_fill(&t, '.', line_len);
	/* Plant an indicator across every 4 KiB boundary and every 64 KiB + 16 cut. */
	struct planted pl[256];
	size_t np = 0;
	for (size_t c = 1; c * 4096 + 64 < line_len; c++) {
		size_t cut = c * 4096 + (c % 16 == 0 ? 16 : 0);
		int ind = (int)(c % N_IND);
		size_t l = strlen(ind_value[ind]);
		size_t at = cut - (1 + c % (l - 1));
		memcpy(t.p + at, ind_value[ind], l);
		t.p[at - 1] = ' ';
		t.p[at + l] = ' ';
		pl[np++] = (struct planted){at, ind};
	}
	text_adds(&t, "\nnext " LIT "\n");
	char *p = write_file(e, "cuts.log", t.p, t.n);
	struct batch_opts opts = default_opts();
	struct out o;
	run(e, &p, 1, &opts, &o);
	assert_int_equal(o.res.inputs[0].lines_split, 1);
	assert_int_equal(o.res.inputs[0].lines, 2);
	verify_planted(&o, 1, pl, np, true);
	assert_int_equal(o.r[o.n - 1].line, 2);
	assert_false(o.r[o.n - 1].split);
	out_fini(&o);
	free(p);
	free(t.p);
}

/* A hex token cut by a split: a hex byte on either side makes it part of a
 * longer run, so it is no hash, even when the run's edge is in another piece. */
static void test_long_line_cut_keeps_boundaries(void **state)
{
	struct env *e = *state;
	size_t l = strlen(MD5);
	struct text t = {0};
	text_fill(&t, '.', 300000);
	/* The first piece of this line ends at FIRST_CUT; the next starts overlap bytes before. */
	size_t a = FIRST_CUT - (l - 1);  /* starts where the second piece starts */
	t.p[a - 1] = 'f';
	memcpy(t.p + a, MD5, l);
	size_t b = 2 * FIRST_CUT - 16 - l; /* ends where the second piece ends */
	memcpy(t.p + b, MD5, l);
	t.p[b + l] = '0';
	text_adds(&t, "\n");
	char *p = write_file(e, "hexcut.log", t.p, t.n);
	struct batch_opts opts = default_opts();
	struct out o;
	run(e, &p, 1, &opts, &o);
	assert_int_equal(o.res.inputs[0].lines, 1);
	assert_int_equal(o.res.inputs[0].lines_split, 1);
	for (size_t i = 0; i < o.n; i++)
		print_message("false hit %s at offset %llu count %llu (a=%zu, b=%zu)\n", o.r[i].id,
			      (unsigned long long)o.r[i].offset, (unsigned long long)o.r[i].count,
			      a, b);
	assert_int_equal(o.n, 0);
	out_fini(&o);
	free(p);
	free(t.p);
}

static void test_line_counts(void **state)
{
	struct env *e = *state;
	static const struct {
		const char *data;
		uint64_t lines;
	} cases[] = {
		{"", 0}, {"\n", 1}, {"a", 1}, {"a\n", 1}, {"a\nb", 2}, {"a\nb\n", 2},
		{"\n\n\n", 3}, {"x\r\ny\r\n", 2}, {"a\n\nb", 3},
	};
	size_t n = sizeof(cases) / sizeof(cases[0]);
	char *paths[16];
	for (size_t i = 0; i < n; i++)
		paths[i] = write_file(e, "count.log", cases[i].data, strlen(cases[i].data));
	/* And a big one, with and without its final newline. */
	struct text t = {0};
	for (int i = 0; i < 30000; i++)
		text_adds(&t, i % 3 ? "some log line\n" : "\n");
	paths[n] = write_file(e, "big.log", t.p, t.n);
	paths[n + 1] = write_file(e, "big-nonl.log", t.p, t.n - 1);
	struct batch_opts opts = default_opts();
	struct out o;
	run(e, paths, n + 2, &opts, &o);
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		if (o.res.inputs[i].lines != cases[i].lines)
			fail_msg("case %zu: %llu lines, want %llu", i,
				 (unsigned long long)o.res.inputs[i].lines,
				 (unsigned long long)cases[i].lines);
		assert_int_equal(o.res.inputs[i].bytes, strlen(cases[i].data));
		assert_int_equal(o.res.inputs[i].status, INPUT_COMPLETE);
		total += cases[i].lines;
	}
	assert_int_equal(o.res.inputs[n].lines, 30000);
	assert_int_equal(o.res.inputs[n + 1].lines, 30000);
	assert_int_equal(o.res.lines, total + 60000);
	assert_int_equal(o.n, 0);
	/* The empty file: complete, hashed (SHA-256 of nothing), no records. */
	static const uint8_t empty_sha[32] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
		0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
	assert_true(o.res.inputs[0].have_sha256);
	assert_memory_equal(o.res.inputs[0].sha256, empty_sha, 32);
	assert_int_equal(o.res.inputs[0].raw_bytes, 0);
	out_fini(&o);
	free_paths(paths, n + 2);
	free(t.p);
}

/* Remove the fields that must vary between runs, in one pass. */
static void strip_varying(char *s)
{
	static const char *const keys[] = {"\"prev\":\"", "\"record_id\":\"", "\"run_id\":\"",
					   "\"time_detected\":\""};
	char *w = s;
	for (const char *r = s; *r;) {
		size_t k = 0;
		while (k < 4 && strncmp(r, keys[k], strlen(keys[k])) != 0)
			k++;
		if (k == 4) {
			*w++ = *r++;
			continue;
		}
		const char *q = strchr(r + strlen(keys[k]), '"');
		assert_non_null(q);
		r = q + 1 + (q[1] == ',');
	}
	*w = '\0';
}

static void test_threads_identical(void **state)
{
	struct env *e = *state;
	char *paths[4];
	struct text t = {0};
	for (int i = 0; i < 60000; i++) {
		char line[200];
		snprintf(line, sizeof(line), "%d %s %s\n", i, i % 5 ? "noise" : ind_value[i % N_IND],
			 i % 7 ? "" : DOM " " DOM);
		text_adds(&t, line);
	}
	paths[0] = write_file(e, "t1.log", t.p, t.n);
	paths[1] = write_file(e, "t2.log", "", 0);
	paths[2] = write_file(e, "t3.log", t.p, t.n / 2);
	paths[3] = write_file(e, "t4.log", LIT, strlen(LIT));
	struct batch_opts opts = default_opts();
	struct out a, b;
	opts.pending_cap = (size_t)1 << 30; /* spilling is tested on its own */
	opts.threads = 1;
	opts.run_id = "run-one";
	run(e, paths, 4, &opts, &a);
	opts.threads = 3;
	opts.run_id = "run-three";
	run(e, paths, 4, &opts, &b);
	assert_true(a.n > 10000);
	assert_int_equal(a.n, b.n);
	strip_varying(a.text);
	strip_varying(b.text);
	if (strcmp(a.text, b.text) != 0) {
		size_t k = 0;
		while (a.text[k] && a.text[k] == b.text[k])
			k++;
		fail_msg("outputs differ at byte %zu: ...%.60s... vs ...%.60s...", k,
			 a.text + (k > 20 ? k - 20 : 0), b.text + (k > 20 ? k - 20 : 0));
	}
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(a.res.inputs[i].lines, b.res.inputs[i].lines);
		assert_int_equal(a.res.inputs[i].matches, b.res.inputs[i].matches);
		assert_memory_equal(a.res.inputs[i].sha256, b.res.inputs[i].sha256, 32);
	}
	assert_int_equal(a.res.inputs[3].lines, 1);
	assert_int_equal(a.res.inputs[3].matches, 1);
	out_fini(&a);
	out_fini(&b);
	free_paths(paths, 4);
	free(t.p);
}

/* Records held in a spill file, input after input, come out as when held in memory. */
static void test_spill_across_inputs(void **state)
{
	struct env *e = *state;
	char *paths[3];
	struct text t = {0};
	for (int i = 0; i < 3000; i++) {
		char line[100];
		snprintf(line, sizeof(line), "%d %s\n", i, i % 2 ? "noise" : ind_value[i % N_IND]);
		text_adds(&t, line);
	}
	for (int i = 0; i < 3; i++)
		paths[i] = write_file(e, "spill.log", t.p, t.n);
	struct batch_opts opts = default_opts();
	struct out a, b;
	run(e, paths, 3, &opts, &a);
	opts.pending_cap = 500;
	run(e, paths, 3, &opts, &b);
	assert_int_equal(a.n, 4500);
	assert_int_equal(a.len, b.len);
	assert_null(memchr(b.text, '\0', b.len));
	assert_int_equal(b.n, 4500);
	strip_varying(a.text);
	strip_varying(b.text);
	assert_string_equal(a.text, b.text);
	out_fini(&a);
	out_fini(&b);
	free_paths(paths, 3);
	free(t.p);
}

static void test_gzip_input(void **state)
{
	struct env *e = *state;
	char *p = env_path(e, "in.log.gz");
	gzFile gz = gzopen(p, "wb");
	assert_non_null(gz);
	struct text t = {0};
	uint64_t off_lit = 0, off_md5 = 0;
	for (int i = 0; i < 50000; i++) {
		if (i == 3) {
			text_adds(&t, "x ");
			off_lit = t.n;
			text_adds(&t, LIT "\n");
		} else if (i == 49990) {
			text_adds(&t, "hash=");
			off_md5 = t.n;
			text_adds(&t, MD5 "\n");
		} else {
			text_adds(&t, "plain text line of a log\n");
		}
	}
	assert_int_equal(gzwrite(gz, t.p, (unsigned)t.n), (int)t.n);
	assert_int_equal(gzclose(gz), Z_OK);
	struct batch_opts opts = default_opts();
	struct out o;
	run(e, &p, 1, &opts, &o);
	assert_int_equal(o.n, 2);
	assert_string_equal(o.r[0].id, "lit");
	assert_int_equal(o.r[0].line, 4);
	assert_int_equal(o.r[0].offset, off_lit);
	assert_string_equal(o.r[1].id, "md5");
	assert_int_equal(o.r[1].line, 49991);
	assert_int_equal(o.r[1].offset, off_md5);
	assert_true(o.res.inputs[0].gzip);
	assert_int_equal(o.res.inputs[0].lines, 50000);
	assert_int_equal(o.res.inputs[0].bytes, t.n);
	assert_int_equal(o.res.inputs[0].status, INPUT_COMPLETE);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(o.res.inputs[0].raw_bytes, (uint64_t)st.st_size);
	assert_int_equal(o.res.inputs[0].gz_members, 1);
	/* Every record of a gzip input says so, the first chunk's included. */
	assert_true(o.r[1].gzip);
	assert_true(o.r[0].gzip);
	out_fini(&o);
	free(p);
	free(t.p);
}

/* Many lines longer than a chunk, back to back, with the reader free to run
 * ahead of the workers: only one slot at a time holds a grown buffer, so the
 * bytes held for long lines stay within twice max_line whatever the threads. */
static void test_long_lines_one_buffer(void **state)
{
	struct env *e = *state;
	struct text t = {0};
	for (int i = 0; i < 40; i++) {
		size_t at = t.n;
		text_fill(&t, 'a' + (char)(i % 26), 40000);
		memcpy(t.p + at + 20000, " " LIT " ", strlen(LIT) + 2);
		text_adds(&t, "\n");
	}
	char *p = write_file(e, "long-lines.log", t.p, t.n);
	struct batch_opts opts = default_opts();
	opts.max_line = 65536;
	for (unsigned threads = 1; threads <= 4; threads *= 2) {
		opts.threads = threads;
		struct out o;
		run(e, &p, 1, &opts, &o);
		assert_int_equal(o.n, 40);
		for (size_t k = 0; k < o.n; k++) {
			assert_string_equal(o.r[k].id, "lit");
			assert_int_equal(o.r[k].line, k + 1);
			assert_false(o.r[k].split);
		}
		assert_int_equal(o.res.inputs[0].lines_split, 0);
		assert_true(o.res.long_line_peak > opts.chunk_size);
		assert_true(o.res.long_line_peak <= 2 * opts.max_line);
		out_fini(&o);
	}
	free(p);
	free(t.p);
}

static volatile int stop_flag;

/* Stands for a signal handler: a stop asked when the input that fails to
 * open is met, that is while the run reads it. */
static void stop_on_event(void *ctx, const struct cs_diag *d)
{
	(void)ctx;
	if (strstr(d->file, "gone.log"))
		stop_flag = 1;
}

/* A stop after the last input was read leaves the run whole; a stop with an
 * input still to read leaves that input unread and the run interrupted. */
static void test_stop_after_last_input(void **state)
{
	struct env *e = *state;
	static const char text[] = "x " LIT "\n";
	struct batch_opts opts = default_opts();
	opts.stop = &stop_flag;
	opts.on_event = stop_on_event;
	for (int more = 0; more < 2; more++) {
		char *paths[3];
		paths[0] = write_file(e, "first.log", text, sizeof(text) - 1);
		paths[1] = write_file(e, "gone.log", text, sizeof(text) - 1);
		paths[2] = write_file(e, "last.log", text, sizeof(text) - 1);
		struct out o;
		stop_flag = 0;
		unlink_after_walk = paths[1];
		run(e, paths, 2 + (size_t)more, &opts, &o);
		unlink_after_walk = NULL;
		assert_int_equal(stop_flag, 1);
		assert_int_equal(o.n, 1);
		assert_int_equal(o.res.inputs[0].status, INPUT_COMPLETE);
		assert_int_equal(o.res.inputs[1].status, INPUT_FAILED);
		if (more) {
			assert_int_equal(o.res.inputs[2].status, INPUT_FAILED);
			assert_true(o.res.interrupted);
		} else {
			assert_false(o.res.interrupted);
		}
		out_fini(&o);
		free_paths(paths, 3);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunk_boundaries),
		cmocka_unit_test(test_every_line_many_chunks),
		cmocka_unit_test(test_long_line_20000),
		cmocka_unit_test(test_long_line_cut_points),
		cmocka_unit_test(test_long_line_cut_keeps_boundaries),
		cmocka_unit_test(test_line_counts),
		cmocka_unit_test(test_threads_identical),
		cmocka_unit_test(test_spill_across_inputs),
		cmocka_unit_test(test_gzip_input),
		cmocka_unit_test(test_stop_after_last_input),
		cmocka_unit_test(test_long_lines_one_buffer),
	};
	return cmocka_run_group_tests(tests, env_setup, env_teardown);
}
