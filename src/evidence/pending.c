/* Records of one input waiting for the input's SHA-256 (include/cybersieve/evidence.h).
 * Kept in memory up to a cap, then appended to an unlinked spill file, so a file
 * with millions of matches costs disk, not memory. Each record ends with '\n'. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cybersieve/evidence.h"
#include "cybersieve/util.h"

#define PENDING_KEY "\"sha256\":\""
#define PENDING_IO_BLOCK (1u << 20)

struct ev_pending {
	char *dir;
	struct jbuf mem;
	size_t mem_cap;
	int spill_fd;       /* -1 until the cap is passed */
	uint64_t spill_len;
	size_t count;
};

enum cs_err ev_pending_create(const char *spill_dir, size_t mem_cap, struct ev_pending **out)
{
	struct ev_pending *p = calloc(1, sizeof(*p));
	if (!p)
		return CS_ERR_NOMEM;
	p->dir = strdup(spill_dir ? spill_dir : "/tmp");
	if (!p->dir) {
		free(p);
		return CS_ERR_NOMEM;
	}
	jbuf_init(&p->mem);
	p->mem_cap = mem_cap;
	p->spill_fd = -1;
	*out = p;
	return CS_OK;
}

static enum cs_err spill(struct ev_pending *p, struct cs_diag *d)
{
	if (p->spill_fd < 0) {
		p->spill_fd = open(p->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (p->spill_fd < 0) {
			cs_diag_set(d, p->dir, CS_DIAG_NONE, CS_DIAG_NONE,
				    "cannot create spill file for pending records: %s", strerror(errno));
			return CS_ERR_IO;
		}
	}
	if (!util_write_all(p->spill_fd, p->mem.p, p->mem.len)) {
		cs_diag_set(d, p->dir, CS_DIAG_NONE, CS_DIAG_NONE,
			    "cannot write spill file for pending records: %s", strerror(errno));
		return CS_ERR_IO;
	}
	p->spill_len += p->mem.len;
	jbuf_reset(&p->mem);
	return CS_OK;
}

enum cs_err ev_pending_add(struct ev_pending *p, const char *rec, size_t len, struct cs_diag *d)
{
	jbuf_raw(&p->mem, rec, len);
	jbuf_raw(&p->mem, "\n", 1);
	if (p->mem.failed)
		return CS_ERR_NOMEM;
	p->count++;
	if (p->mem.len >= p->mem_cap)
		return spill(p, d);
	return CS_OK;
}

size_t ev_pending_count(const struct ev_pending *p)
{
	return p->count;
}

void ev_sha256_patch(char *buf, size_t len, const char *hex)
{
	const size_t kl = sizeof(PENDING_KEY) - 1, pl = sizeof(EV_SHA256_PLACEHOLDER) - 1;
	char *s = buf, *end = buf + len;
	while (s < end) {
		char *k = memmem(s, (size_t)(end - s), PENDING_KEY EV_SHA256_PLACEHOLDER, kl + pl);
		if (!k)
			break;
		if (hex) {
			memcpy(k + kl, hex, pl);
		} else {
			/* No digest (the input could not be read to its end): null, padded
			 * with spaces so the record keeps its length. */
			memcpy(k + kl - 1, "null", 4);
			memset(k + kl + 3, ' ', pl - 2);
		}
		s = k + kl + pl;
	}
}

/* Write records from the spill file, patched, block by block, cut at newlines.
 * A record longer than the block (a window or combination record listing many
 * parts can pass 1 MiB) grows the block until it holds the whole record: it was
 * in memory whole once already, so the block never outgrows the largest record. */
static enum cs_err flush_spill(struct ev_pending *p, const char *hex, struct ev_writer *w,
			       struct cs_diag *d)
{
	size_t cap = PENDING_IO_BLOCK;
	char *blk = malloc(cap);
	if (!blk)
		return CS_ERR_NOMEM;
	enum cs_err err = CS_OK;
	uint64_t pos = 0;
	size_t have = 0;
	while (err == CS_OK && (pos < p->spill_len || have)) {
		size_t want = cap - have;
		if (want > p->spill_len - pos)
			want = (size_t)(p->spill_len - pos);
		ssize_t n = want ? pread(p->spill_fd, blk + have, want, (off_t)pos) : 0;
		if (n < 0 || (want && n == 0)) {
			cs_diag_set(d, p->dir, CS_DIAG_NONE, pos, "cannot read spill file");
			err = CS_ERR_IO;
			break;
		}
		pos += (uint64_t)n;
		have += (size_t)n;
		char *nl = memrchr(blk, '\n', have);
		if (!nl && pos < p->spill_len) {
			/* Part of one record: read the rest of it before writing. */
			if (have == cap) {
				char *g = cap <= SIZE_MAX / 2 ? realloc(blk, cap * 2) : NULL;
				if (!g) {
					err = CS_ERR_NOMEM;
					break;
				}
				blk = g;
				cap *= 2;
			}
			continue;
		}
		if (!nl) {
			/* Every record ends with a newline; a spill file that does not is damaged. */
			cs_diag_set(d, p->dir, CS_DIAG_NONE, pos - have,
				    "spill file ends inside a record");
			err = CS_ERR_IO;
			break;
		}
		size_t cut = (size_t)(nl - blk) + 1;
		ev_sha256_patch(blk, cut, hex);
		err = ev_writer_write_inplace(w, blk, cut, d);
		memmove(blk, blk + cut, have - cut);
		have -= cut;
	}
	free(blk);
	return err;
}

enum cs_err ev_pending_flush(struct ev_pending *p, const char *sha256_hex, struct ev_writer *w,
			     struct cs_diag *d)
{
	enum cs_err err = CS_OK;
	if (p->spill_fd >= 0 && p->spill_len) {
		err = flush_spill(p, sha256_hex, w, d);
		/* Reuse the spill file from its start for the next input. */
		if ((ftruncate(p->spill_fd, 0) != 0 || lseek(p->spill_fd, 0, SEEK_SET) != 0) &&
		    err == CS_OK)
			err = CS_ERR_IO;
		p->spill_len = 0;
	}
	if (err == CS_OK && p->mem.len) {
		ev_sha256_patch(p->mem.p, p->mem.len, sha256_hex);
		err = ev_writer_write_inplace(w, p->mem.p, p->mem.len, d);
	}
	jbuf_reset(&p->mem);
	p->count = 0;
	return err;
}

void ev_pending_destroy(struct ev_pending *p)
{
	if (!p)
		return;
	if (p->spill_fd >= 0)
		close(p->spill_fd);
	jbuf_fini(&p->mem);
	free(p->dir);
	free(p);
}
