/* SHA-256 of an input's raw bytes, beside the reading (src/ingest/digest.h).
 * The feeder copies bytes into a ring at the write count w; the helper hashes
 * them in order from the read count r; both counts only grow and the ring
 * holds w - r <= DIGEST_RING bytes. Each side touches only its own part of
 * the ring outside the lock: the feeder [w, r + DIGEST_RING), the helper
 * [r, w). */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cybersieve/util.h"
#include "ingest/digest.h"

/* The helper hashes at most this much per turn, so the feeder finds room
 * soon after a full ring. */
#define DIGEST_PIECE ((size_t)1 << 20)

struct digest_stream {
	EVP_MD_CTX *ctx;
	uint64_t given;    /* bytes given to digest_update */
	bool no_helper;    /* the helper could not be started: hash here */
	bool running;      /* the helper thread exists and is not joined */
	bool helped;       /* a helper was started for this input */
	bool finalized;    /* digest_final was called */
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv_data; /* the helper waits for bytes or the end */
	pthread_cond_t cv_room; /* the feeder waits for room */
	uint8_t *ring;
	uint64_t w, r;     /* under mu */
	bool closing;      /* under mu: no more bytes will come */
	bool abandon;      /* under mu: stop without hashing the rest */
	bool failed;       /* under mu: the hash library failed in the helper */
};

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;
	return m < c ? m : c;
}

static void *digest_main(void *arg)
{
	struct digest_stream *h = arg;

	(void)pthread_setname_np(pthread_self(), "cs-digest");
	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (h->w == h->r && !h->closing && !h->abandon)
			pthread_cond_wait(&h->cv_data, &h->mu);
		if (h->abandon || (h->w == h->r && h->closing))
			break;
		size_t at = (size_t)(h->r % DIGEST_RING);
		size_t n = min3((size_t)(h->w - h->r), DIGEST_RING - at, DIGEST_PIECE);
		pthread_mutex_unlock(&h->mu);
		int ok = EVP_DigestUpdate(h->ctx, h->ring + at, n);
		pthread_mutex_lock(&h->mu);
		if (ok != 1)
			h->failed = true;
		h->r += n;
		pthread_cond_signal(&h->cv_room);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

enum cs_err digest_create(struct digest_stream **out)
{
	struct digest_stream *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (!h)
		return CS_ERR_NOMEM;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(h->ctx);
		free(h);
		return CS_ERR_NOMEM;
	}
	*out = h;
	return CS_OK;
}

/* Start the helper with every signal blocked, so that signals go to the
 * threads that act on them. False leaves the hashing to the feeder. */
static bool digest_start(struct digest_stream *h)
{
	h->ring = malloc(DIGEST_RING);
	if (!h->ring)
		return false;
	if (pthread_mutex_init(&h->mu, NULL) != 0)
		goto fail_ring;
	if (pthread_cond_init(&h->cv_data, NULL) != 0)
		goto fail_mu;
	if (pthread_cond_init(&h->cv_room, NULL) != 0)
		goto fail_data;
	int e = util_thread_start_quiet(&h->th, digest_main, h);
	if (e == 0) {
		h->running = true;
		h->helped = true;
		return true;
	}
	pthread_cond_destroy(&h->cv_room);
fail_data:
	pthread_cond_destroy(&h->cv_data);
fail_mu:
	pthread_mutex_destroy(&h->mu);
fail_ring:
	free(h->ring);
	h->ring = NULL;
	return false;
}

/* Join the helper; with abandon, it leaves the rest unhashed. False when
 * the hash library failed in it. */
static bool digest_stop(struct digest_stream *h, bool abandon)
{
	if (!h->running)
		return !h->failed;
	pthread_mutex_lock(&h->mu);
	h->closing = true;
	h->abandon = abandon;
	pthread_cond_signal(&h->cv_data);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->th, NULL); /* after it, the helper's writes are seen */
	h->running = false;
	pthread_cond_destroy(&h->cv_room);
	pthread_cond_destroy(&h->cv_data);
	pthread_mutex_destroy(&h->mu);
	free(h->ring);
	h->ring = NULL;
	return !h->failed;
}

void digest_destroy(struct digest_stream *h)
{
	if (!h)
		return;
	(void)digest_stop(h, true);
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

enum cs_err digest_update(struct digest_stream *h, const void *p, size_t n)
{
	const uint8_t *b = p;

	if (!h->running && (h->no_helper || h->given + n <= DIGEST_INLINE_MAX)) {
		h->given += n;
		return EVP_DigestUpdate(h->ctx, b, n) == 1 ? CS_OK : CS_ERR_NOMEM;
	}
	if (!h->running && !digest_start(h)) {
		h->no_helper = true;
		return digest_update(h, p, n);
	}
	h->given += n;
	pthread_mutex_lock(&h->mu);
	while (n > 0 && !h->failed) {
		while (h->w - h->r == DIGEST_RING)
			pthread_cond_wait(&h->cv_room, &h->mu);
		size_t at = (size_t)(h->w % DIGEST_RING);
		size_t k = min3(n, DIGEST_RING - (size_t)(h->w - h->r), DIGEST_RING - at);
		pthread_mutex_unlock(&h->mu);
		memcpy(h->ring + at, b, k);
		pthread_mutex_lock(&h->mu);
		h->w += k;
		b += k;
		n -= k;
		pthread_cond_signal(&h->cv_data);
	}
	bool failed = h->failed;
	pthread_mutex_unlock(&h->mu);
	return failed ? CS_ERR_NOMEM : CS_OK;
}

enum cs_err digest_final(struct digest_stream *h, uint8_t out[32])
{
	unsigned int len = 0;

	if (h->finalized)
		return CS_ERR_INVALID; /* the context is spent, whatever the first call said */
	h->finalized = true;
	if (!digest_stop(h, false) || EVP_DigestFinal_ex(h->ctx, out, &len) != 1 || len != 32)
		return CS_ERR_NOMEM;
	return CS_OK;
}

bool digest_threaded(const struct digest_stream *h)
{
	return h->helped;
}
