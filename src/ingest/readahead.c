/* Read-ahead with the digest in a helper thread (src/ingest/readahead.h).
 * Counts only grow: the helper has read and hashed w bytes, the consumer has
 * taken c <= w of them, and w - c <= lead. The consumer reads [c, w) itself
 * with pread(); the helper's buffer is its own. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cybersieve/util.h"
#include "ingest/readahead.h"

#define RA_PAGE ((size_t)4096)

struct readahead {
	int fd;
	uint64_t base;     /* file offset of the first byte */
	uint64_t lead;
	struct timespec mtime0, ctime0; /* the file's, when reading began */
	EVP_MD_CTX *ctx;   /* the helper's until it is joined */
	uint8_t *block;    /* owns the helper's buffer, one page longer */
	uint8_t *buf;      /* in block: buf and the file's offsets share a page offset */
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv_data; /* the consumer waits for bytes or the end */
	pthread_cond_t cv_room; /* the helper waits for the consumer */
	uint64_t w, c;     /* under mu */
	bool end;          /* under mu: the helper stopped (end of file or a failure) */
	int read_errno;    /* under mu: why a read failed, 0 if none did */
	bool hash_failed;  /* under mu */
	bool quit;         /* under mu: stop now */
	bool joined;
	bool finalized;
	bool have_digest;  /* digest is the helper's final one */
	uint8_t digest[32];
};

static void *readahead_main(void *arg)
{
	struct readahead *ra = arg;

	(void)pthread_setname_np(pthread_self(), "cs-readahead");
	pthread_mutex_lock(&ra->mu);
	for (;;) {
		while (!ra->quit && ra->w - ra->c + READAHEAD_PIECE > ra->lead)
			pthread_cond_wait(&ra->cv_room, &ra->mu);
		if (ra->quit)
			break;
		pthread_mutex_unlock(&ra->mu);
		ssize_t r;
		do
			r = read(ra->fd, ra->buf, READAHEAD_PIECE);
		while (r < 0 && errno == EINTR);
		int e = r < 0 ? errno : 0;
		/* hashed while the piece is still in this core's cache */
		bool ok = r <= 0 || EVP_DigestUpdate(ra->ctx, ra->buf, (size_t)r) == 1;
		pthread_mutex_lock(&ra->mu);
		if (r <= 0 || !ok) {
			ra->read_errno = e;
			ra->hash_failed = !ok;
			ra->end = true;
			pthread_cond_signal(&ra->cv_data);
			break;
		}
		ra->w += (uint64_t)r;
		pthread_cond_signal(&ra->cv_data);
	}
	pthread_mutex_unlock(&ra->mu);
	return NULL;
}

enum cs_err readahead_start(int fd, uint64_t lead, struct readahead **out)
{
	struct readahead *ra = calloc(1, sizeof(*ra));

	*out = NULL;
	if (!ra)
		return CS_ERR_NOMEM;
	ra->fd = fd;
	ra->lead = lead < READAHEAD_PIECE ? READAHEAD_PIECE : lead;
	ra->ctx = EVP_MD_CTX_new();
	/* The kernel's copy out of the page cache is fastest where the bytes
	 * land at the page offset they have in the file (util_alloc_io). */
	off_t start = lseek(fd, 0, SEEK_CUR);
	struct stat st;
	if (fstat(fd, &st) == 0) {
		ra->mtime0 = st.st_mtim;
		ra->ctime0 = st.st_ctim;
	}
	ra->base = start > 0 ? (uint64_t)start : 0;
	ra->block = util_alloc_io(READAHEAD_PIECE + RA_PAGE);
	if (ra->block)
		ra->buf = ra->block + (size_t)(ra->base % RA_PAGE);
	if (!ra->ctx || !ra->block || EVP_DigestInit_ex(ra->ctx, EVP_sha256(), NULL) != 1)
		goto fail;
	if (pthread_mutex_init(&ra->mu, NULL) != 0)
		goto fail;
	if (pthread_cond_init(&ra->cv_data, NULL) != 0)
		goto fail_mu;
	if (pthread_cond_init(&ra->cv_room, NULL) != 0)
		goto fail_data;
	int e = util_thread_start_quiet(&ra->th, readahead_main, ra);
	if (e == 0) {
		*out = ra;
		return CS_OK;
	}
	pthread_cond_destroy(&ra->cv_room);
fail_data:
	pthread_cond_destroy(&ra->cv_data);
fail_mu:
	pthread_mutex_destroy(&ra->mu);
fail:
	EVP_MD_CTX_free(ra->ctx);
	free(ra->block);
	free(ra);
	return CS_ERR_NOMEM;
}

enum cs_err readahead_take(struct readahead *ra, uint8_t *dst, size_t len, size_t *n, int *err)
{
	*n = 0;
	*err = 0;
	if (len == 0)
		return CS_OK;
	pthread_mutex_lock(&ra->mu);
	while (ra->w == ra->c && !ra->end)
		pthread_cond_wait(&ra->cv_data, &ra->mu);
	if (ra->w == ra->c) {
		enum cs_err e = ra->hash_failed ? CS_ERR_NOMEM : ra->read_errno ? CS_ERR_IO : CS_OK;
		*err = ra->read_errno;
		pthread_mutex_unlock(&ra->mu);
		return e;
	}
	uint64_t have = ra->w - ra->c, at = ra->c;
	pthread_mutex_unlock(&ra->mu);
	size_t k = len < have ? len : (size_t)have;
	if (dst) {
		ssize_t r;
		do
			r = pread(ra->fd, dst, k, (off_t)(ra->base + at));
		while (r < 0 && errno == EINTR);
		if (r <= 0) {
			*err = r < 0 ? errno : 0; /* 0: the file is shorter than what was hashed */
			return CS_ERR_IO;
		}
		k = (size_t)r;
	}
	pthread_mutex_lock(&ra->mu);
	ra->c += k;
	pthread_cond_signal(&ra->cv_room);
	pthread_mutex_unlock(&ra->mu);
	*n = k;
	return CS_OK;
}

/* Stop the helper and wait for it; after the join its writes are seen. */
static void readahead_join(struct readahead *ra)
{
	if (ra->joined)
		return;
	pthread_mutex_lock(&ra->mu);
	ra->quit = true;
	pthread_cond_signal(&ra->cv_room);
	pthread_mutex_unlock(&ra->mu);
	pthread_join(ra->th, NULL);
	ra->joined = true;
}

/* The helper has ended (at the end of the file or on a failure): join it
 * and finish its digest, once. */
static bool readahead_digest(struct readahead *ra, bool failed)
{
	unsigned int len = 0;

	if (!ra->have_digest) {
		readahead_join(ra);
		if (failed || EVP_DigestFinal_ex(ra->ctx, ra->digest, &len) != 1 || len != 32)
			return false;
		ra->have_digest = true;
	}
	return true;
}

bool readahead_hashed_all(struct readahead *ra, uint8_t out[32])
{
	pthread_mutex_lock(&ra->mu);
	bool done = ra->end && !ra->read_errno && !ra->hash_failed;
	pthread_mutex_unlock(&ra->mu);
	if (!done || !readahead_digest(ra, false))
		return false;
	memcpy(out, ra->digest, 32);
	return true;
}

enum cs_err readahead_final(struct readahead *ra, uint8_t out[32])
{
	pthread_mutex_lock(&ra->mu);
	bool at_end = ra->end && ra->w == ra->c && !ra->read_errno;
	bool failed = ra->hash_failed;
	pthread_mutex_unlock(&ra->mu);
	if (ra->finalized || !at_end)
		return CS_ERR_INVALID;
	ra->finalized = true;
	if (!readahead_digest(ra, failed))
		return CS_ERR_NOMEM;
	memcpy(out, ra->digest, 32);
	return CS_OK;
}

static bool ts_differ(struct timespec a, struct timespec b)
{
	return a.tv_sec != b.tv_sec || a.tv_nsec != b.tv_nsec;
}

bool readahead_changed(const struct readahead *ra)
{
	struct stat st;
	if (fstat(ra->fd, &st) != 0)
		return true; /* cannot tell: say so */
	return ts_differ(st.st_mtim, ra->mtime0) || ts_differ(st.st_ctim, ra->ctime0);
}

void readahead_destroy(struct readahead *ra)
{
	if (!ra)
		return;
	readahead_join(ra);
	pthread_cond_destroy(&ra->cv_room);
	pthread_cond_destroy(&ra->cv_data);
	pthread_mutex_destroy(&ra->mu);
	EVP_MD_CTX_free(ra->ctx);
	free(ra->block);
	free(ra);
}
