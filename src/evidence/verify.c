/* Checking an evidence folder (include/cybersieve/verify.h). The records are
 * re-chained from each file's genesis line by line, so the first record that
 * fails is named by file, line and seq; then what the files add up to is
 * compared with the signed manifest (and with each rotated file's seal). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cybersieve/chain.h"
#include "cybersieve/json_read.h"
#include "cybersieve/manifest.h"
#include "cybersieve/sign.h"
#include "cybersieve/util.h"
#include "cybersieve/verify.h"

#define VERIFY_MAX_LINE (64u << 20)      /* far above any record the writer makes */
#define VERIFY_MAX_MANIFEST (256u << 20)
#define VERIFY_MAX_FILES 1000000u

struct vr {
	const struct ev_verify_opts *o;
	int dir_fd;
	bool ok;
	char run_id[128];
	struct ev_chain_counts counts;
};

static void say(struct vr *v, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(struct vr *v, bool ok, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!ok)
		v->ok = false;
	if (v->o->on_line)
		v->o->on_line(v->o->ctx, ok, buf);
}

/* What one records file holds, re-chained. */
struct vfile {
	uint64_t records;        /* lines that verified */
	uint64_t lines;
	uint64_t bytes;
	uint8_t sha256[32];
	uint8_t head[32];
	bool broken;
	uint64_t bad_line, bad_seq;
	const char *why;
	char first_run_id[128];
};

static void check_line(struct vfile *f, char *line, size_t n, struct ev_chain_counts *c)
{
	uint8_t prev[32];
	struct json_read_val *rec = NULL;
	uint64_t seq = 0;
	if (n == 0 || line[n - 1] != '\n') {
		f->why = "incomplete last line";
	} else if (json_read_parse(line, n - 1, &rec, NULL) != CS_OK ||
		   rec->type != JSON_READ_OBJ) {
		f->why = "not valid JSON";
	} else if (!ev_chain_prev(line, n, prev) || memcmp(prev, f->head, 32) != 0) {
		f->why = "prev does not match the previous record";
	}
	if (rec) {
		json_read_u64(rec, "seq", &seq);
		const char *rid = json_read_str(rec, "run_id");
		if (rid && f->lines == 1)
			snprintf(f->first_run_id, sizeof(f->first_run_id), "%s", rid);
	}
	if (f->why) {
		f->broken = true;
		f->bad_line = f->lines;
		f->bad_seq = seq;
	} else {
		char cat[64];
		const struct json_read_val *ind = json_read_get(rec, "indicator");
		const char *s = json_read_str(ind, "category");
		snprintf(cat, sizeof(cat), "%s", s ? s : "");
		ev_chain_counts_add(c, s ? cat : NULL);
		ev_chain_hash(line, n, f->head);
		f->records++;
	}
	json_read_free(rec);
}

/* Re-chain dir/name from genesis; the whole file is hashed even past a break. */
static enum cs_err read_chain(int dir_fd, const char *name, const uint8_t genesis[32],
			      struct ev_chain_counts *c, struct vfile *f)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->head, genesis, 32);
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
	FILE *fp = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!fp) {
		if (fd >= 0)
			close(fd);
		return CS_ERR_IO;
	}
	EVP_MD_CTX *sha = EVP_MD_CTX_new();
	if (!sha || !EVP_DigestInit_ex(sha, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(sha);
		fclose(fp);
		return CS_ERR_NOMEM;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, fp)) > 0) {
		EVP_DigestUpdate(sha, line, (size_t)n);
		f->bytes += (uint64_t)n;
		f->lines++;
		if (f->broken)
			continue;
		if ((size_t)n > VERIFY_MAX_LINE) {
			f->broken = true;
			f->bad_line = f->lines;
			f->why = "line longer than any record";
			continue;
		}
		check_line(f, line, (size_t)n, c);
	}
	unsigned int len = 32;
	EVP_DigestFinal_ex(sha, f->sha256, &len);
	EVP_MD_CTX_free(sha);
	free(line);
	fclose(fp);
	return CS_OK;
}

static void report_chain(struct vr *v, const char *name, const struct vfile *f)
{
	if (f->broken)
		say(v, false, "FAIL: %s line %llu (seq %llu): %s", name,
		    (unsigned long long)f->bad_line, (unsigned long long)f->bad_seq, f->why);
	else
		say(v, true, "ok: %s: %llu records, chain intact", name,
		    (unsigned long long)f->records);
}

static char *read_all(int dir_fd, const char *name, size_t cap, size_t *len)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	char *buf = NULL;
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_size <= cap &&
	    (buf = malloc((size_t)st.st_size + 1))) {
		size_t got = 0;
		ssize_t n;
		while (got < (size_t)st.st_size &&
		       (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
			got += (size_t)n;
		buf[got] = '\0';
		*len = got;
	}
	close(fd);
	return buf;
}

/* name.sig over name's exact bytes; out gets name's parsed JSON when it verifies. */
static bool check_signed(struct vr *v, const char *name, const struct ev_sign_key *k,
			 struct json_read_val **out)
{
	char sig_name[256];
	size_t len = 0, sl = 0;
	snprintf(sig_name, sizeof(sig_name), "%s.sig", name);
	char *text = read_all(v->dir_fd, name, VERIFY_MAX_MANIFEST, &len);
	char *sig = read_all(v->dir_fd, sig_name, 4096, &sl);
	bool ok = false;
	if (!text)
		say(v, false, "FAIL: %s cannot be read", name);
	else if (!sig)
		say(v, false, "FAIL: %s has no signature (%s)", name, sig_name);
	else if (!ev_sign_verify(k, text, len, (const uint8_t *)sig, sl))
		say(v, false, "FAIL: %s: signature does not verify with the public key", name);
	else if (json_read_parse(text, len, out, NULL) != CS_OK)
		say(v, false, "FAIL: %s: signed but not valid JSON", name);
	else
		ok = true;
	if (ok)
		say(v, true, "ok: %s: signature verifies", name);
	free(text);
	free(sig);
	return ok;
}

static bool hex_eq(const char *hex, const uint8_t b[32])
{
	uint8_t x[32];
	return hex && ev_chain_unhex(hex, strlen(hex), x, 32) && memcmp(x, b, 32) == 0;
}

/* One file entry (manifest or seal) against what the file holds. */
static void check_entry(struct vr *v, const char *where, const struct json_read_val *e,
			const char *name, const struct vfile *f)
{
	uint64_t records = UINT64_MAX, bytes = UINT64_MAX;
	json_read_u64(e, "records", &records);
	json_read_u64(e, "bytes", &bytes);
	if (records != f->lines)
		say(v, false, "FAIL: %s: %s: record count differs (%llu listed, %llu in the file)",
		    where, name, (unsigned long long)records, (unsigned long long)f->lines);
	else if (bytes != f->bytes)
		say(v, false, "FAIL: %s: %s: size differs (%llu listed, %llu in the file)", where,
		    name, (unsigned long long)bytes, (unsigned long long)f->bytes);
	else if (!hex_eq(json_read_str(e, "sha256"), f->sha256))
		say(v, false, "FAIL: %s: %s: sha256 differs", where, name);
	else if (!f->broken && !hex_eq(json_read_str(e, "chain_head"), f->head))
		say(v, false, "FAIL: %s: %s: chain head differs", where, name);
	else
		say(v, true, "ok: %s: %s: records, size, sha256 and chain head match", where, name);
}

static void check_seal(struct vr *v, const char *name, const struct ev_sign_key *k,
		       const struct vfile *f)
{
	char seal[96];
	ev_manifest_seal_name(name, seal, sizeof(seal));
	if (faccessat(v->dir_fd, seal, F_OK, 0) != 0)
		return; /* only rotated files are sealed one by one */
	struct json_read_val *s = NULL;
	if (check_signed(v, seal, k, &s))
		check_entry(v, seal, s, name, f);
	json_read_free(s);
}

static bool name_is_records(const char *n)
{
	size_t l = strlen(n);
	return strcmp(n, "records.ndjson") == 0 ||
	       (l == 21 && strncmp(n, "records-", 8) == 0 && strcmp(n + 14, ".ndjson") == 0);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The records files in the folder, sorted by name. */
static enum cs_err list_records(int dir_fd, char ***out, size_t *n_out)
{
	int fd = dup(dir_fd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return CS_ERR_IO;
	}
	char **v = NULL;
	size_t n = 0, cap = 0;
	enum cs_err err = CS_OK;
	struct dirent *de;
	while ((de = readdir(dir)) && err == CS_OK) {
		if (!name_is_records(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			char **nv = cap <= VERIFY_MAX_FILES ? realloc(v, cap * sizeof(*v)) : NULL;
			if (!nv) {
				err = CS_ERR_NOMEM;
				break;
			}
			v = nv;
		}
		if (!(v[n] = strdup(de->d_name)))
			err = CS_ERR_NOMEM;
		else
			n++;
	}
	closedir(dir);
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	*out = v;
	*n_out = n;
	return err;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* No manifest: say how much of the chain still holds. */
static void check_unsealed(struct vr *v)
{
	char **names = NULL;
	size_t n = 0;
	uint64_t total = 0;
	char where[160] = "no records file";
	list_records(v->dir_fd, &names, &n);
	for (size_t i = 0; i < n; i++) {
		struct vfile f;
		uint8_t gen[32];
		/* The run id comes from the first record: nothing signed says otherwise. */
		if (read_chain(v->dir_fd, names[i], (uint8_t[32]){0}, &v->counts, &f) != CS_OK)
			break;
		if (f.first_run_id[0] == '\0' && f.lines)
			break;
		ev_chain_genesis(f.first_run_id, names[i], gen);
		memset(&v->counts, 0, sizeof(v->counts));
		read_chain(v->dir_fd, names[i], gen, &v->counts, &f);
		report_chain(v, names[i], &f);
		total += f.records;
		snprintf(where, sizeof(where), "%s line %llu", names[i],
			 (unsigned long long)f.records);
		if (f.broken)
			break;
	}
	say(v, false, "unsealed: %llu records verify (chain intact up to %s)",
	    (unsigned long long)total, where);
	free_list(names, n);
}

/* The key to verify with: --pubkey (which must be the one the manifest names)
 * or the folder's key.pub.pem. */
static struct ev_sign_key *load_key(struct vr *v, const char *dir)
{
	struct ev_sign_key *k = NULL;
	struct cs_diag d;
	cs_diag_clear(&d);
	char path[4096];
	const char *p = v->o->pubkey_path;
	if (!p) {
		snprintf(path, sizeof(path), "%s/key.pub.pem", dir);
		p = path;
	}
	if (ev_sign_load_public(p, &k, &d) != CS_OK) {
		char tmp[1600];
		cs_diag_format(&d, tmp, sizeof(tmp));
		say(v, false, "FAIL: public key: %s", tmp);
		return NULL;
	}
	return k;
}

static void check_fingerprint(struct vr *v, const struct json_read_val *m,
			      const struct ev_sign_key *k)
{
	char fp[65] = "";
	ev_sign_fingerprint(k, fp);
	const char *want = json_read_str(json_read_get(m, "key"), "fingerprint_sha256");
	if (!want || strcmp(want, fp) != 0)
		say(v, false, "FAIL: manifest.json: key fingerprint %s is not that of the public key (%s)",
		    want ? want : "(none)", fp);
	else
		say(v, true, "ok: public key fingerprint %s matches the manifest", fp);
	if (!v->o->pubkey_path)
		say(v, true,
		    "note: the key came from the folder itself (key.pub.pem): it proves integrity only if "
		    "fingerprint %s is the one the sender gave you (or pass --pubkey)",
		    fp);
}

static void check_counts(struct vr *v, const struct json_read_val *m, uint64_t total)
{
	const struct json_read_val *c = json_read_get(m, "counts");
	const struct json_read_val *by = json_read_get(c, "by_category");
	uint64_t listed = UINT64_MAX;
	json_read_u64(c, "records", &listed);
	bool ok = listed == total && by && by->type == JSON_READ_OBJ &&
		  by->n == v->counts.n + (v->counts.other ? 1 : 0);
	for (size_t i = 0; ok && i < v->counts.n; i++) {
		uint64_t n = UINT64_MAX;
		ok = json_read_u64(by, v->counts.cat[i].name, &n) && n == v->counts.cat[i].records;
	}
	uint64_t other = 0;
	if (ok && v->counts.other)
		ok = json_read_u64(by, "(other)", &other) && other == v->counts.other;
	if (ok)
		say(v, true, "ok: counts: %llu records, per category as listed",
		    (unsigned long long)total);
	else
		say(v, false, "FAIL: manifest.json: record count differs (%llu listed, %llu verified), "
		    "or the counts per category differ", (unsigned long long)listed,
		    (unsigned long long)total);
}

/* Every file the manifest lists, and no records file it does not. */
static void check_files(struct vr *v, const struct json_read_val *m, const struct ev_sign_key *k)
{
	const struct json_read_val *files = json_read_get(m, "files");
	uint64_t total = 0;
	uint8_t last_head[32] = {0};
	bool heads_ok = true;
	for (size_t i = 0; files && files->type == JSON_READ_ARR && i < files->n; i++) {
		const struct json_read_val *e = &files->items[i];
		const char *name = json_read_str(e, "name");
		if (!name || !name_is_records(name)) {
			say(v, false, "FAIL: manifest.json: file entry %zu has no valid name", i + 1);
			continue;
		}
		uint8_t gen[32];
		ev_chain_genesis(v->run_id, name, gen);
		if (!hex_eq(json_read_str(e, "genesis"), gen))
			say(v, false, "FAIL: manifest.json: %s: genesis is not that of run %s", name,
			    v->run_id);
		struct vfile f;
		if (read_chain(v->dir_fd, name, gen, &v->counts, &f) != CS_OK) {
			say(v, false, "FAIL: %s: listed in the manifest but cannot be read", name);
			heads_ok = false;
			continue;
		}
		report_chain(v, name, &f);
		check_entry(v, "manifest.json", e, name, &f);
		check_seal(v, name, k, &f);
		total += f.records;
		memcpy(last_head, f.head, 32);
		heads_ok &= !f.broken;
	}
	check_counts(v, m, total);
	if (heads_ok && hex_eq(json_read_str(m, "chain_head"), last_head))
		say(v, true, "ok: chain head matches the manifest");
	else
		say(v, false, "FAIL: manifest.json: chain head differs from the last record's");
	char **names = NULL;
	size_t n = 0;
	list_records(v->dir_fd, &names, &n);
	for (size_t i = 0; i < n; i++) {
		bool listed = false;
		for (size_t j = 0; files && j < files->n && !listed; j++) {
			const char *s = json_read_str(&files->items[j], "name");
			listed = s && strcmp(s, names[i]) == 0;
		}
		if (!listed)
			say(v, false, "FAIL: %s is not listed in the manifest", names[i]);
	}
	free_list(names, n);
}

static bool file_sha256(const char *path, uint8_t out[32])
{
	FILE *fp = fopen(path, "rb");
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	bool ok = fp && c && EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	char buf[1 << 16];
	size_t n;
	while (ok && (n = fread(buf, 1, sizeof(buf), fp)) > 0)
		EVP_DigestUpdate(c, buf, n);
	ok = ok && !ferror(fp);
	unsigned int len = 32;
	if (ok)
		EVP_DigestFinal_ex(c, out, &len);
	EVP_MD_CTX_free(c);
	if (fp)
		fclose(fp);
	return ok;
}

static void check_inputs(struct vr *v, const struct json_read_val *m)
{
	const struct json_read_val *in = json_read_get(m, "inputs");
	for (size_t i = 0; in && in->type == JSON_READ_ARR && i < in->n; i++) {
		const char *path = json_read_str(&in->items[i], "path");
		const char *sha = json_read_str(&in->items[i], "sha256");
		struct stat st;
		uint8_t got[32];
		if (!path || strcmp(path, "-") == 0 || !sha)
			continue; /* stdin, or never read to the end: nothing to compare */
		if (stat(path, &st) != 0)
			say(v, true, "note: input %s: missing, not checked", path);
		else if (!file_sha256(path, got))
			say(v, false, "FAIL: input %s: cannot be read", path);
		else if (!hex_eq(sha, got))
			say(v, false, "FAIL: input %s: changed (sha256 differs)", path);
		else
			say(v, true, "ok: input %s: unchanged", path);
	}
}

enum cs_err ev_verify_run(const char *dir, const struct ev_verify_opts *o, bool *all_ok,
			  struct cs_diag *d)
{
	struct vr v = {.o = o, .ok = true};
	*all_ok = false;
	v.dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (v.dir_fd < 0) {
		cs_diag_set(d, dir, CS_DIAG_NONE, CS_DIAG_NONE, "cannot open: %s", strerror(errno));
		return CS_ERR_IO;
	}
	if (faccessat(v.dir_fd, "manifest.json", F_OK, 0) != 0) {
		check_unsealed(&v);
		close(v.dir_fd);
		return CS_OK;
	}
	struct ev_sign_key *k = load_key(&v, dir);
	struct json_read_val *m = NULL;
	if (k && check_signed(&v, "manifest.json", k, &m)) {
		check_fingerprint(&v, m, k);
		const char *rid = json_read_str(m, "run_id");
		snprintf(v.run_id, sizeof(v.run_id), "%s", rid ? rid : "");
		const struct json_read_val *c = json_read_get(m, "complete");
		if (!c || c->type != JSON_READ_BOOL || !c->b)
			say(&v, false, "incomplete: manifest.json: the run stopped early (output failure or signal); the records it wrote are checked below, but they do not cover every input");
		check_files(&v, m, k);
		if (o->inputs)
			check_inputs(&v, m);
	}
	json_read_free(m);
	ev_sign_destroy(k);
	close(v.dir_fd);
	*all_ok = v.ok;
	return CS_OK;
}
