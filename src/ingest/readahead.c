/* Read-ahead with the digest in the reading thread (src/ingest/readahead.h).
 * Counts only grow: the helper has read and hashed w bytes, the consumer
 * has taken c, and the ring holds w - c <= READAHEAD_RING of them. Outside
 * the lock the helper touches only [w, c + READAHEAD_RING) of the ring and
 * the consumer only [c, w). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cybersieve/util.h"
#include "ingest/readahead.h"

#define RA_PAGE ((size_t)4096)

struct readahead {
	int fd;
	EVP_MD_CTX *ctx;   /* the helper's until it is joined */
	uint8_t *block;    /* owns the ring, one page longer */
	uint8_t *ring;     /* in block: ring + k and file offset start + k share a page offset */
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv_data; /* the consumer waits for bytes or the end */
	pthread_cond_t cv_room; /* the helper waits for room */
	uint64_t w, c;     /* under mu */
	bool end;          /* under mu: the helper stopped (end of file or a failure) */
	int read_errno;    /* under mu: why a read failed, 0 if none did */
	bool hash_failed;  /* under mu */
	bool quit;         /* under mu: stop now */
	bool joined;
	bool finalized;
};

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;
	return m < c ? m : c;
}

static void *readahead_main(void *arg)
{
	struct readahead *ra = arg;

	(void)pthread_setname_np(pthread_self(), "cs-readahead");
	pthread_mutex_lock(&ra->mu);
	for (;;) {
		while (!ra->quit && ra->w - ra->c == READAHEAD_RING)
			pthread_cond_wait(&ra->cv_room, &ra->mu);
		if (ra->quit)
			break;
		size_t at = (size_t)(ra->w % READAHEAD_RING);
		size_t k = min3(READAHEAD_PIECE, READAHEAD_RING - (size_t)(ra->w - ra->c),
				READAHEAD_RING - at);
		pthread_mutex_unlock(&ra->mu);
		ssize_t r;
		do
			r = read(ra->fd, ra->ring + at, k);
		while (r < 0 && errno == EINTR);
		int e = r < 0 ? errno : 0;
		/* hashed while the piece is still in this core's cache */
		bool ok = r <= 0 || EVP_DigestUpdate(ra->ctx, ra->ring + at, (size_t)r) == 1;
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

enum cs_err readahead_start(int fd, struct readahead **out)
{
	struct readahead *ra = calloc(1, sizeof(*ra));

	*out = NULL;
	if (!ra)
		return CS_ERR_NOMEM;
	ra->fd = fd;
	ra->ctx = EVP_MD_CTX_new();
	/* The kernel's copy out of the page cache is fastest where the bytes
	 * land at the page offset they have in the file (util_alloc_io). */
	off_t start = lseek(fd, 0, SEEK_CUR);
	ra->block = util_alloc_io(READAHEAD_RING + RA_PAGE);
	if (ra->block)
		ra->ring = ra->block + (start > 0 ? (size_t)start % RA_PAGE : 0);
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
	size_t have = (size_t)(ra->w - ra->c), at = (size_t)(ra->c % READAHEAD_RING);
	size_t k = dst ? min3(len, have, READAHEAD_RING - at) : (len < have ? len : have);
	pthread_mutex_unlock(&ra->mu);
	if (dst)
		memcpy(dst, ra->ring + at, k);
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

enum cs_err readahead_final(struct readahead *ra, uint8_t out[32])
{
	unsigned int len = 0;

	pthread_mutex_lock(&ra->mu);
	bool at_end = ra->end && ra->w == ra->c && !ra->read_errno;
	bool failed = ra->hash_failed;
	pthread_mutex_unlock(&ra->mu);
	if (ra->finalized || !at_end)
		return CS_ERR_INVALID;
	ra->finalized = true;
	readahead_join(ra);
	if (failed || EVP_DigestFinal_ex(ra->ctx, out, &len) != 1 || len != 32)
		return CS_ERR_NOMEM;
	return CS_OK;
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
