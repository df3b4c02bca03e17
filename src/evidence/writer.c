/* The records files (include/cybersieve/evidence.h). A write lands whole or is
 * rolled back, so a full disk never leaves half a record behind. Each line is
 * linked into the hash chain here, the only place that does it, and the writer
 * keeps per file the head, the record count and the running SHA-256 that the
 * manifest and the seals report. With rotation, a file is closed once it passes
 * the size or age limit and the next one is opened at the next write. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cybersieve/evidence.h"
#include "cybersieve/util.h"

/* Files one run may rotate through (a year of hourly files is under 9000). */
#define WRITER_MAX_FILES 1000000u

struct ev_writer {
	struct ev_writer_opts o;
	char run_id[128];     /* every file's genesis names it */
	int dir_fd;           /* owned duplicate, -1 for stdout or a plain path */
	int fd;               /* current file, -1 between rotated files */
	bool is_stdout;
	char *path;           /* the plain path of ev_writer_open, else NULL */
	bool failed, finished;
	EVP_MD_CTX *sha;      /* over the current file's bytes */
	double opened;        /* monotonic time the current file was opened */
	struct ev_chain_file *files;
	size_t n_files, cap_files;
	struct ev_chain_counts counts;
	struct jbuf scratch;  /* a copy of a caller's const bytes, linked */
	_Atomic uint64_t seq;
};

static struct ev_chain_file *cur(struct ev_writer *w)
{
	return w->fd >= 0 || w->is_stdout ? &w->files[w->n_files - 1] : NULL;
}

static void diag_errno(struct cs_diag *d, const char *what, const char *name, int e)
{
	cs_diag_set(d, name, CS_DIAG_NONE, CS_DIAG_NONE, "%s: %s", what, strerror(e));
	if (d)
		d->sys_errno = e;
}

/* Start the next file's entry and open it. */
static enum cs_err open_next(struct ev_writer *w, struct cs_diag *d)
{
	if (w->n_files == w->cap_files) {
		size_t cap = w->cap_files ? w->cap_files * 2 : 4;
		if (cap > WRITER_MAX_FILES) {
			cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
				    "more than %u records files in one run", WRITER_MAX_FILES);
			return CS_ERR_LIMIT;
		}
		struct ev_chain_file *v = realloc(w->files, cap * sizeof(*v));
		if (!v)
			return CS_ERR_NOMEM;
		w->files = v;
		w->cap_files = cap;
	}
	struct ev_chain_file *f = &w->files[w->n_files];
	memset(f, 0, sizeof(*f));
	bool rotating = w->o.rotate_bytes || w->o.rotate_seconds > 0;
	if (w->path) {
		const char *slash = strrchr(w->path, '/');
		snprintf(f->name, sizeof(f->name), "%s", slash ? slash + 1 : w->path);
	} else if (rotating && !w->is_stdout) {
		snprintf(f->name, sizeof(f->name), "records-%06zu.ndjson", w->n_files + 1);
	} else {
		snprintf(f->name, sizeof(f->name), "records.ndjson");
	}
	ev_chain_genesis(w->run_id, f->name, f->genesis);
	memcpy(f->head, f->genesis, 32);
	if (!w->is_stdout) {
		int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
		int fd = w->path ? open(w->path, flags, 0600) : openat(w->dir_fd, f->name, flags, 0600);
		if (fd < 0) {
			int e = errno;
			diag_errno(d, "cannot create", w->path ? w->path : f->name, e);
			return e == EEXIST ? CS_ERR_EXISTS : CS_ERR_IO;
		}
		w->fd = fd;
		/* Make the new file's name durable before records are reported written. */
		if (!w->path && fsync(w->dir_fd) != 0 && errno != EINVAL) {
			int e = errno;
			diag_errno(d, "cannot sync the evidence folder for", f->name, e);
			return CS_ERR_IO;
		}
	}
	if (!EVP_DigestInit_ex(w->sha, EVP_sha256(), NULL))
		return CS_ERR_NOMEM;
	w->n_files++;
	w->opened = util_now_mono();
	return CS_OK;
}

/* Sync and close the current file, complete its entry, seal it when rotating. */
static enum cs_err close_current(struct ev_writer *w, struct cs_diag *d)
{
	struct ev_chain_file *f = cur(w);
	if (!f)
		return CS_OK;
	enum cs_err err = CS_OK;
	unsigned int len = 32;
	EVP_DigestFinal_ex(w->sha, f->sha256, &len);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	util_rfc3339(&now, f->closed, sizeof(f->closed));
	if (!w->is_stdout) {
		if (!w->failed && fsync(w->fd) != 0 && errno != EINVAL) {
			diag_errno(d, "fsync failed", f->name, errno);
			err = CS_ERR_IO;
		}
		if (close(w->fd) != 0 && err == CS_OK) {
			diag_errno(d, "close failed", f->name, errno);
			err = CS_ERR_IO;
		}
		w->fd = -1;
	}
	w->is_stdout = false; /* stdout has one file only: nothing is current after it */
	if (err == CS_OK && w->o.on_seal && (w->o.rotate_bytes || w->o.rotate_seconds > 0))
		err = w->o.on_seal(w->o.seal_ctx, f, d);
	return err;
}

static enum cs_err writer_new(const struct ev_writer_opts *o, const char *path,
			      struct ev_writer **out, struct cs_diag *d)
{
	struct ev_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return CS_ERR_NOMEM;
	w->o = *o;
	w->o.run_id = NULL; /* the caller's string is not kept */
	snprintf(w->run_id, sizeof(w->run_id), "%s", o->run_id ? o->run_id : "");
	w->fd = -1;
	w->dir_fd = -1;
	w->is_stdout = !path && o->dir_fd < 0;
	jbuf_init(&w->scratch);
	enum cs_err err = CS_ERR_NOMEM;
	w->sha = EVP_MD_CTX_new();
	if (!w->sha || (path && !(w->path = strdup(path))))
		goto fail;
	if (!path && o->dir_fd >= 0 && (w->dir_fd = fcntl(o->dir_fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		diag_errno(d, "cannot use the evidence folder", NULL, errno);
		err = CS_ERR_IO;
		goto fail;
	}
	err = open_next(w, d);
	if (err != CS_OK)
		goto fail;
	*out = w;
	return CS_OK;
fail:
	if (w->dir_fd >= 0)
		close(w->dir_fd);
	EVP_MD_CTX_free(w->sha);
	jbuf_fini(&w->scratch);
	free(w->files);
	free(w->path);
	free(w);
	return err;
}

enum cs_err ev_writer_create(const struct ev_writer_opts *o, struct ev_writer **out,
			     struct cs_diag *d)
{
	return writer_new(o, NULL, out, d);
}

enum cs_err ev_writer_open(const char *path, struct ev_writer **out, struct cs_diag *d)
{
	struct ev_writer_opts o = {.dir_fd = -1, .run_id = ""};
	return writer_new(&o, path, out, d);
}

/* Link every line of buf to the one before it, starting from head; head
 * becomes the last line's hash. Returns the number of lines. */
static uint64_t link_lines(char *buf, size_t len, uint8_t head[32])
{
	uint64_t n = 0;
	char *s = buf, *end = s + len;
	while (s < end) {
		char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = nl ? (size_t)(nl - s) + 1 : (size_t)(end - s);
		ev_chain_patch(s, len, head);
		ev_chain_hash(s, len, head);
		s += len;
		n++;
	}
	return n;
}

static void count_categories(struct ev_writer *w, const char *buf, size_t len)
{
	char cat[64];
	const char *s = buf, *end = s + len;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = nl ? (size_t)(nl - s) + 1 : (size_t)(end - s);
		ev_chain_counts_add(&w->counts, ev_chain_category(s, len, cat, sizeof(cat)) ? cat : NULL);
		s += len;
	}
}

/* Where the write that failed after `done` bytes began, so the file can be
 * cut back there: ours at f->bytes; standard output only when it is a
 * regular file (`--out - > file`), found from its offset now. -1 for a pipe,
 * which cannot be cut back. Asked only on failure, never per write. */
static off_t write_start(const struct ev_writer *w, const struct ev_chain_file *f, size_t done)
{
	struct stat st;
	if (!w->is_stdout)
		return (off_t)f->bytes;
	if (fstat(STDOUT_FILENO, &st) != 0 || !S_ISREG(st.st_mode))
		return -1;
	off_t now = lseek(STDOUT_FILENO, 0, SEEK_CUR);
	return now >= (off_t)done ? now - (off_t)done : -1;
}

/* Write buf whole. On failure the records file is cut back to its last
 * whole record where it can be (write_start); otherwise the message says
 * its last record may be cut. */
static enum cs_err write_all(struct ev_writer *w, struct ev_chain_file *f, const char *buf,
			     size_t len, struct cs_diag *d)
{
	int fd = w->is_stdout ? STDOUT_FILENO : w->fd;
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		int e = n < 0 ? errno : ENOSPC;
		w->failed = true;
		bool whole = done == 0;
		off_t start = whole ? -1 : write_start(w, f, done);
		if (start >= 0 && ftruncate(fd, start) == 0)
			whole = lseek(fd, start, SEEK_SET) == start;
		const char *name = w->is_stdout ? "standard output" : w->path ? w->path : f->name;
		cs_diag_set(d, name, CS_DIAG_NONE, f->bytes, "write failed: %s%s", strerror(e),
			    whole ? "" : " (the last record written may be cut)");
		if (d)
			d->sys_errno = e;
		return CS_ERR_IO;
	}
	return CS_OK;
}

/* Checks before a write, and the file it goes to (opened or rotated here).
 * CS_OK with nothing more to do when len is 0. */
static enum cs_err write_begin(struct ev_writer *w, const char *buf, size_t len,
			       struct cs_diag *d)
{
	if (w->failed || w->finished)
		return CS_ERR_IO;
	if (len == 0)
		return CS_OK;
	if (buf[len - 1] != '\n') {
		/* Each record is chained and counted as a line: a cut one would break both. */
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE,
			    "evidence writer: %zu bytes handed over do not end with a whole record", len);
		return CS_ERR_INVALID;
	}
	enum cs_err err = CS_OK;
	struct ev_chain_file *f = cur(w);
	if (f && f->records && w->o.rotate_seconds > 0 &&
	    util_now_mono() - w->opened >= w->o.rotate_seconds)
		err = close_current(w, d);
	if (err == CS_OK && !cur(w))
		err = open_next(w, d);
	if (err != CS_OK)
		w->failed = true;
	return err;
}

/* Link buf in place, write it, and account for it in the current file. */
static enum cs_err write_linked(struct ev_writer *w, char *buf, size_t len, struct cs_diag *d)
{
	struct ev_chain_file *f = cur(w);
	uint8_t head[32];
	memcpy(head, f->head, 32);
	uint64_t lines = link_lines(buf, len, head);
	enum cs_err err = write_all(w, f, buf, len, d);
	if (err != CS_OK)
		return err;
	memcpy(f->head, head, 32);
	f->records += lines;
	f->bytes += len;
	EVP_DigestUpdate(w->sha, buf, len);
	count_categories(w, buf, len);
	if (w->o.rotate_bytes && f->bytes >= w->o.rotate_bytes && !w->is_stdout &&
	    (err = close_current(w, d)) != CS_OK)
		w->failed = true;
	return err;
}

enum cs_err ev_writer_write(struct ev_writer *w, const char *buf, size_t len, struct cs_diag *d)
{
	enum cs_err err = write_begin(w, buf, len, d);
	if (err != CS_OK || len == 0)
		return err;
	jbuf_reset(&w->scratch);
	jbuf_raw(&w->scratch, buf, len);
	if (w->scratch.failed)
		return CS_ERR_NOMEM;
	return write_linked(w, w->scratch.p, len, d);
}

enum cs_err ev_writer_write_inplace(struct ev_writer *w, char *buf, size_t len,
				    struct cs_diag *d)
{
	enum cs_err err = write_begin(w, buf, len, d);
	return err != CS_OK || len == 0 ? err : write_linked(w, buf, len, d);
}

uint64_t ev_writer_next_seq(struct ev_writer *w)
{
	return atomic_fetch_add(&w->seq, 1) + 1;
}

uint64_t ev_writer_bytes(const struct ev_writer *w)
{
	return w->n_files ? w->files[w->n_files - 1].bytes : 0;
}

enum cs_err ev_writer_finish(struct ev_writer *w, struct cs_diag *d)
{
	if (!w || w->finished)
		return CS_OK;
	w->finished = true;
	return close_current(w, d);
}

size_t ev_writer_files(const struct ev_writer *w, const struct ev_chain_file **files)
{
	*files = w->files;
	return w->n_files;
}

const struct ev_chain_counts *ev_writer_counts(const struct ev_writer *w)
{
	return &w->counts;
}

bool ev_writer_failed(const struct ev_writer *w)
{
	return w->failed;
}

enum cs_err ev_writer_close(struct ev_writer *w, struct cs_diag *d)
{
	if (!w)
		return CS_OK;
	enum cs_err err = ev_writer_finish(w, d);
	if (w->dir_fd >= 0)
		close(w->dir_fd);
	EVP_MD_CTX_free(w->sha);
	jbuf_fini(&w->scratch);
	free(w->files);
	free(w->path);
	free(w);
	return err;
}
