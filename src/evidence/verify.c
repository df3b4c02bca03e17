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
