/* One input read sequentially: plain file, gzip (any number of members,
 * recognised by its magic bytes) or stdin, with the SHA-256 of every raw byte
 * read from the descriptor (past the first few MiB, hashed by a helper thread
 * beside the reading: digest.h; a regular file larger than that is read and
 * hashed by a helper thread ahead of the reading, the reading then taking
 * the hashed bytes from the page cache: readahead.h). Raw bytes go
 * through one fixed buffer and decompressed bytes only into the caller's
 * buffer, so memory stays flat whatever the input. A damaged gzip member is
 * reported once and the next member header is sought from just after the
 * damaged member's start (a cut member runs on into the next one before the
 * decoder fails): in a regular file bytes already passed are read again with
 * pread(), not hashed twice; on a pipe only what the raw buffer still holds
 * can be searched. The caller owns the struct; one thread at a time. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cybersieve/ingest.h"
#include "cybersieve/util.h"
#include "ingest/digest.h"
#include "ingest/inflate.h"
#include "ingest/readahead.h"

/* Raw read size: big enough that syscalls are negligible. */
#define SOURCE_RAW_BLOCK ((size_t)1 << 20)
/* The raw read size of a regular file that holds less than a block: its
 * buffer then comes from the heap, not a mapping made and dropped for each
 * of a directory's thousands of small files. */
#define SOURCE_RAW_SMALL ((size_t)64 << 10)
/* Bytes kept before the read position when the raw buffer is refilled, so a
 * resync can look back past what a decoder swallowed into its bit buffer. */
#define SOURCE_BACKUP 16
/* Room for the backup bytes plus a partial magic on top of a full block.
 * Reads fill what is free (never less than half a block), so a pipe's small
 * reads pile up and a resync can search back through them. */
#define SOURCE_RAW_CAP(block) ((block) + 64)
/* Plain input is read straight into the caller's buffer, but for requests
 * smaller than this that start with the raw buffer empty: those fill it. */
#define SOURCE_DIRECT_MIN ((size_t)64 << 10)

static const uint8_t source_gz_magic[3] = { 0x1f, 0x8b, 0x08 };

enum source_state {
	SOURCE_PLAIN,     /* hand out raw bytes */
	SOURCE_GZ_HEADER, /* between members: header, zero padding or end */
	SOURCE_GZ_MEMBER, /* inside a member */
	SOURCE_GZ_SEEK,   /* after damage: look for the next member header */
	SOURCE_DONE,
};

struct source {
	char *path;
	int fd;
	bool owns_fd;
	bool pollable;        /* a pipe, FIFO, socket or terminal: reads can wait */
	bool seekable;        /* a regular file: pread() can go back */
	uint64_t file_base;   /* file offset where reading began (stdin may be past 0) */
	const volatile int *stop; /* when set and non-zero, waiting reads give up */
	bool eof;
	enum source_state state;
	uint8_t *raw;         /* SOURCE_RAW_CAP(raw_block) bytes */
	size_t raw_block;     /* SOURCE_RAW_BLOCK, or SOURCE_RAW_SMALL for a small file */
	size_t rpos, rlen;    /* unread raw bytes are raw[rpos..rlen) */
	uint64_t raw_end;     /* file offset just past raw[rlen - 1]; below
			       * info.raw_read while bytes are read again */
	struct inflate_stream *z;
	uint64_t member_raw;  /* raw offset where the current member began */
	/* Exactly one of the two hashes the raw bytes: ra for a large regular
	 * file (reads go through it), sha for anything else. */
	struct digest_stream *sha;
	struct readahead *ra;
	bool finished;
	uint8_t digest[32];
	/* An error met after some output was produced, told on the next call. */
	enum cs_err pend_err;
	int pend_errno;
	uint64_t pend_offset;
	char pend_msg[256];
	struct source_info info;
};

/* Raw offset in the file of s->raw[0]. */
static uint64_t source_raw_base(const struct source *s)
{
	return s->raw_end - s->rlen;
}

static void source_pend(struct source *s, enum cs_err err, int e, uint64_t offset,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void source_pend(struct source *s, enum cs_err err, int e, uint64_t offset,
			const char *fmt, ...)
{
	va_list ap;

	s->pend_err = err;
	s->pend_errno = e;
	s->pend_offset = offset;
	va_start(ap, fmt);
	vsnprintf(s->pend_msg, sizeof(s->pend_msg), fmt, ap);
	va_end(ap);
}

static enum cs_err source_take_pending(struct source *s, struct cs_diag *d)
{
	enum cs_err err = s->pend_err;

	cs_diag_set(d, s->path, CS_DIAG_NONE, s->pend_offset, "%s", s->pend_msg);
	if (d)
		d->sys_errno = s->pend_errno;
	s->pend_err = CS_OK;
	return err;
}

static void source_pend_io(struct source *s, int e)
{
	char ebuf[128];

	source_pend(s, CS_ERR_IO, e, s->info.raw_read, "read failed: %s",
		    strerror_r(e, ebuf, sizeof(ebuf)));
	s->state = SOURCE_DONE;
}

/* For an input that can wait (a pipe fed by `tail -f`, a FIFO with no writer
 * yet): wait for data a fifth of a second at a time, so that a stop is seen
 * within that time whichever thread the signal went to. CS_ERR_STOPPED
 * (pending) when asked. */
static enum cs_err source_wait(struct source *s)
{
	if (!s->pollable)
		return CS_OK;
	for (;;) {
		if (s->stop && *s->stop) {
			source_pend(s, CS_ERR_STOPPED, 0, s->info.raw_read,
				    "interrupted before the end");
			return CS_ERR_STOPPED;
		}
		struct pollfd p = {.fd = s->fd, .events = POLLIN};
		int k = poll(&p, 1, 200);
		if (k > 0 || (k < 0 && errno != EINTR))
			return CS_OK; /* data, end of input or an error: read() tells which */
	}
}

/* Bytes from the read-ahead (dst NULL: passed over). 0 bytes sets eof. */
static enum cs_err source_take_ahead(struct source *s, uint8_t *dst, size_t len, size_t *n)
{
	int e;
	enum cs_err err = readahead_take(s->ra, dst, len, n, &e);

	if (err == CS_ERR_IO && e == 0) {
		source_pend(s, err, 0, s->info.raw_read,
			    "file became shorter while it was read (truncated by another program?)");
		s->state = SOURCE_DONE;
		return err;
	}
	if (err == CS_ERR_IO) {
		source_pend_io(s, e);
		return err;
	}
	if (err != CS_OK) {
		source_pend(s, err, 0, s->info.raw_read, "SHA-256 update failed");
		s->state = SOURCE_DONE;
		return err;
	}
	if (*n == 0 && len > 0)
		s->eof = true;
	s->info.raw_read += (uint64_t)*n;
	return CS_OK;
}

/* One read() into dst, retried on EINTR, hashed. 0 bytes sets eof. */
static enum cs_err source_read_fd(struct source *s, uint8_t *dst, size_t len, size_t *n)
{
	ssize_t r;

	*n = 0;
	if (s->ra)
		return source_take_ahead(s, dst, len, n);
	for (;;) {
		enum cs_err w = source_wait(s);
		if (w != CS_OK)
			return w;
		r = read(s->fd, dst, len);
		if (r >= 0 || errno != EINTR)
			break;
	}
	if (r < 0) {
		source_pend_io(s, errno);
		return CS_ERR_IO;
	}
	if (r == 0) {
		s->eof = true;
		return CS_OK;
	}
	if (digest_update(s->sha, dst, (size_t)r) != CS_OK) {
		source_pend(s, CS_ERR_NOMEM, 0, s->info.raw_read, "SHA-256 update failed");
		s->state = SOURCE_DONE;
		return CS_ERR_NOMEM;
	}
	s->info.raw_read += (uint64_t)r;
	*n = (size_t)r;
	return CS_OK;
}

/* Bytes of a regular file read (and hashed) before, read again from
 * s->raw_end, never past what read() has passed. */
static enum cs_err source_reread(struct source *s, uint8_t *dst, size_t len, size_t *n)
{
	uint64_t left = s->info.raw_read - s->raw_end;
	ssize_t r;

	if (len > left)
		len = (size_t)left;
	do
		r = pread(s->fd, dst, len, (off_t)(s->file_base + s->raw_end));
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		source_pend_io(s, r < 0 ? errno : EIO);
		return CS_ERR_IO;
	}
	*n = (size_t)r;
	return CS_OK;
}

/* Make at least `need` unread raw bytes available unless the input ends first. */
static enum cs_err source_fill(struct source *s, size_t need)
{
	while (s->rlen - s->rpos < need && (s->raw_end < s->info.raw_read || !s->eof)) {
		if (SOURCE_RAW_CAP(s->raw_block) - s->rlen < s->raw_block / 2) {
			size_t keep = s->rpos - (s->rpos < SOURCE_BACKUP ? s->rpos : SOURCE_BACKUP);
			memmove(s->raw, s->raw + keep, s->rlen - keep);
			s->rlen -= keep;
			s->rpos -= keep;
		}
		size_t n, room = SOURCE_RAW_CAP(s->raw_block) - s->rlen;
		if (room > s->raw_block)
			room = s->raw_block;
		enum cs_err err = s->raw_end < s->info.raw_read
				  ? source_reread(s, s->raw + s->rlen, room, &n)
				  : source_read_fd(s, s->raw + s->rlen, room, &n);
		if (err)
			return err;
		s->rlen += n;
		s->raw_end += n;
	}
	return CS_OK;
}

static enum cs_err source_open_fd(const char *path, int *fd, bool *owns, uint64_t *size,
				  bool *pollable, bool *seekable, uint64_t *base, struct cs_diag *d)
{
	char ebuf[128];
	struct stat st;
	int e;

	*owns = strcmp(path, "-") != 0;
	/* Non-blocking, so that opening a FIFO does not wait for its writer
	 * (reads wait in poll(), where a stop is seen); blocking again after. */
	*fd = *owns ? open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) : STDIN_FILENO;
	if (*fd < 0) {
		e = errno;
		goto fail;
	}
	if (*owns && fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		e = errno;
		goto fail;
	}
	if (fstat(*fd, &st) < 0) {
		e = errno;
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		e = EISDIR;
		goto fail;
	}
	*size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	*pollable = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISCHR(st.st_mode);
	/* Offsets count from where reading begins: stdin redirected from a file
	 * may already be past its start. */
	off_t at = S_ISREG(st.st_mode) ? lseek(*fd, 0, SEEK_CUR) : -1;
	*seekable = at >= 0;
	*base = at >= 0 ? (uint64_t)at : 0;
	if (S_ISREG(st.st_mode))
		(void)posix_fadvise(*fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return CS_OK;
fail:
	if (*owns && *fd >= 0)
		close(*fd);
	*fd = -1;
	cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "cannot open: %s",
		    strerror_r(e, ebuf, sizeof(ebuf)));
	if (d)
		d->sys_errno = e;
	return CS_ERR_IO;
}

/* Read the first bytes and decide between plain and gzip by content. */
static enum cs_err source_sniff(struct source *s, struct cs_diag *d)
{
	if (source_fill(s, sizeof(source_gz_magic)) != CS_OK)
		return source_take_pending(s, d);
	s->info.is_gzip = s->rlen >= sizeof(source_gz_magic) &&
			  memcmp(s->raw, source_gz_magic, sizeof(source_gz_magic)) == 0;
	s->state = s->info.is_gzip ? SOURCE_GZ_HEADER : SOURCE_PLAIN;
	if (s->info.is_gzip && inflate_create(&s->z) != CS_OK) {
		cs_diag_set(d, s->path, CS_DIAG_NONE, CS_DIAG_NONE, "no memory for inflate state");
		return CS_ERR_NOMEM;
	}
	return CS_OK;
}

enum cs_err source_open(const char *path, struct source **out, struct cs_diag *d)
{
	return source_open_ex(path, NULL, out, d);
}

enum cs_err source_open_ex(const char *path, const volatile int *stop, struct source **out,
			   struct cs_diag *d)
{
	enum cs_err err = CS_ERR_NOMEM;
	struct source *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		goto fail;
	s->fd = -1;
	s->stop = stop;
	s->path = strdup(path);
	if (!s->path) {
		cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "no memory for input");
		goto fail;
	}
	err = source_open_fd(path, &s->fd, &s->owns_fd, &s->info.raw_size, &s->pollable,
			     &s->seekable, &s->file_base, d);
	if (err)
		goto fail;
	/* A file that grows while it is read is still read whole, in more reads. */
	s->raw_block = s->seekable && !s->pollable && s->info.raw_size < SOURCE_RAW_SMALL
			       ? SOURCE_RAW_SMALL : SOURCE_RAW_BLOCK;
	s->raw = util_alloc_io(SOURCE_RAW_CAP(s->raw_block)); /* read() fills it from its start */
	if (!s->raw) {
		cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "no memory for input");
		err = CS_ERR_NOMEM;
		goto fail;
	}
	s->info.is_stdin = !s->owns_fd;
	/* Without a helper (it could not start) the file is read here. */
	if (s->seekable && !s->pollable && s->info.raw_size > SOURCE_READAHEAD_MIN)
		(void)readahead_start(s->fd, READAHEAD_LEAD, &s->ra);
	if (!s->ra && digest_create(&s->sha) != CS_OK) {
		cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "no memory for input");
		err = CS_ERR_NOMEM;
		goto fail;
	}
	err = source_sniff(s, d);
	if (err)
		goto fail;
	*out = s;
	return CS_OK;
fail:
	source_destroy(s);
	return err;
}

/* Plain input: what is buffered first, then large reads straight into buf. */
static void source_plain_read(struct source *s, uint8_t *buf, size_t cap, size_t *got)
{
	while (*got < cap && s->state != SOURCE_DONE) {
		size_t avail = s->rlen - s->rpos;
		if (avail) {
			size_t n = avail < cap - *got ? avail : cap - *got;
			memcpy(buf + *got, s->raw + s->rpos, n);
			s->rpos += n;
			*got += n;
		} else if (s->eof) {
			s->state = SOURCE_DONE;
		} else if (s->pollable && *got > 0) {
			/* A pipe: hand over what came rather than wait for more (a
			 * capture on stdin is decoded as its packets arrive). */
			break;
		} else if (*got > 0 || cap >= SOURCE_DIRECT_MIN) {
			/* Also the last few bytes of a call that emptied the raw
			 * buffer: filling that again for them would leave its rest
			 * to copy on every later call. */
			size_t n;
			if (source_read_fd(s, buf + *got, cap - *got, &n) != CS_OK)
				return;
			*got += n;
			s->rpos = s->rlen = 0;
			s->raw_end = s->info.raw_read;
		} else {
			s->rpos = s->rlen = 0;
			if (source_fill(s, 1) != CS_OK)
				return;
		}
	}
}

/* Damage in the current member: report it, then look for the next header
 * from just after the member's start. A member cut short runs on into the
 * one after it, so the decoder fails past that member's header: searching
 * only from where it failed would lose every later member. */
static void source_gz_damaged(struct source *s, const char *what, const char *reason)
{
	uint64_t base = source_raw_base(s);
	uint64_t from = s->member_raw + 1;

	/* The offset is where the member starts (its data up to the damage
	 * was scanned); the text adds where in the file the damage was met. */
	source_pend(s, CS_ERR_FORMAT, 0, s->member_raw,
		    "%s gzip member starting at this offset, damage met at byte %llu of the "
		    "file, at decompressed offset %llu: %s",
		    what, (unsigned long long)(base + s->rpos),
		    (unsigned long long)s->info.out_bytes, reason);
	s->state = SOURCE_GZ_SEEK;
	if (from >= base) {
		s->rpos = (size_t)(from - base);
	} else if (s->seekable) {
		s->rpos = s->rlen = 0;
		s->raw_end = from;
	} else {
		s->rpos = 0; /* a pipe: what the buffer still holds */
	}
}

/* Between members: a header starts the next one; zero padding is skipped;
 * anything else is garbage, reported once before seeking a later header. */
static void source_gz_header(struct source *s)
{
	if (source_fill(s, sizeof(source_gz_magic)) != CS_OK)
		return;
	size_t avail = s->rlen - s->rpos;
	const uint8_t *p = s->raw + s->rpos;
	if (avail == 0) {
		s->state = SOURCE_DONE;
	} else if (avail >= sizeof(source_gz_magic) &&
		   memcmp(p, source_gz_magic, sizeof(source_gz_magic)) == 0) {
		inflate_restart(s->z);
		s->member_raw = source_raw_base(s) + s->rpos;
		s->info.gz_members++;
		s->state = SOURCE_GZ_MEMBER;
	} else if (*p == 0) {
		while (s->rpos < s->rlen && s->raw[s->rpos] == 0)
			s->rpos++;
	} else {
		uint64_t at = source_raw_base(s) + s->rpos;
		source_pend(s, CS_ERR_FORMAT, 0, at,
			    "data after gzip member at decompressed offset %llu is not gzip",
			    (unsigned long long)s->info.out_bytes);
		s->rpos++;
		s->state = SOURCE_GZ_SEEK;
	}
}

/* A gzip member header as writers make them: deflate, no reserved flag,
 * XFL 0, 2 or 4, a known OS byte. Only a resync asks this much, so that
 * three bytes inside compressed data are seldom taken for a header. */
static bool source_gz_plausible(const uint8_t *h)
{
	return (h[3] & 0xe0) == 0 && (h[8] == 0 || h[8] == 2 || h[8] == 4) &&
	       (h[9] <= 13 || h[9] == 255);
}

#define SOURCE_GZ_HEADER_LEN 10

/* After damage: the next member header, else the end of input. */
static void source_gz_seek(struct source *s)
{
	if (source_fill(s, SOURCE_GZ_HEADER_LEN) != CS_OK)
		return;
	size_t avail = s->rlen - s->rpos;
	if (avail < sizeof(source_gz_magic)) {
		s->rpos = s->rlen;
		s->state = SOURCE_DONE;
		return;
	}
	const uint8_t *hit = memmem(s->raw + s->rpos, avail, source_gz_magic,
				    sizeof(source_gz_magic));
	if (!hit) {
		/* The last two bytes may be the start of a header cut by the buffer. */
		s->rpos = s->rlen - (sizeof(source_gz_magic) - 1);
		return;
	}
	size_t at = (size_t)(hit - s->raw);
	if (s->rlen - at < SOURCE_GZ_HEADER_LEN) {
		if (at > s->rpos) {
			s->rpos = at; /* fill the rest of the header first */
			return;
		}
		/* A header cut by the end of input: let the member report it. */
	} else if (!source_gz_plausible(hit)) {
		s->rpos = at + 1;
		return;
	}
	s->rpos = at;
	s->info.gz_resyncs++;
	s->state = SOURCE_GZ_HEADER;
}

/* Decode from the raw buffer into buf until the member ends, buf is full,
 * input runs out (refilled here) or the data is corrupt. */
static void source_gz_member(struct source *s, uint8_t *buf, size_t cap, size_t *got)
{
	const char *reason = "";

	if (source_fill(s, 1) != CS_OK)
		return;
	struct inflate_io io = {
		.in = s->raw + s->rpos,
		.in_len = s->rlen - s->rpos,
		.out = buf + *got,
		.out_cap = cap - *got,
	};
	enum inflate_status st = inflate_run(s->z, &io, &reason);
	s->rpos += io.in_used;
	*got += io.out_made;
	s->info.out_bytes += io.out_made;
	if (st == INFLATE_BAD)
		source_gz_damaged(s, "corrupt", reason);
	else if (st == INFLATE_MEMBER_END)
		s->state = SOURCE_GZ_HEADER;
	else if (io.in_len == 0 && io.out_made == 0)
		/* End of input with the member still open: nothing left to flush. */
		source_gz_damaged(s, "truncated", "unexpected end of file");
	else if (io.in_used == 0 && io.out_made == 0)
		source_gz_damaged(s, "corrupt", "decoder made no progress");
}

static void source_gz_read(struct source *s, uint8_t *buf, size_t cap, size_t *got)
{
	while (*got < cap && s->pend_err == CS_OK) {
		switch (s->state) {
		case SOURCE_GZ_HEADER:
			source_gz_header(s);
			break;
		case SOURCE_GZ_MEMBER:
			source_gz_member(s, buf, cap, got);
			break;
		case SOURCE_GZ_SEEK:
			source_gz_seek(s);
			break;
		default:
			return;
		}
	}
}

enum cs_err source_read(struct source *s, uint8_t *buf, size_t cap, size_t *got,
			struct cs_diag *d)
{
	*got = 0;
	if (s->pend_err != CS_OK)
		return source_take_pending(s, d);
	if (s->finished || cap == 0)
		return CS_OK;
	if (s->state == SOURCE_PLAIN) {
		source_plain_read(s, buf, cap, got);
		s->info.out_bytes += *got;
	} else {
		source_gz_read(s, buf, cap, got);
	}
	if (*got == 0 && s->pend_err != CS_OK)
		return source_take_pending(s, d);
	return CS_OK;
}

enum cs_err source_finish(struct source *s, uint8_t sha256[32], struct cs_diag *d)
{
	if (!s->finished) {
		s->state = SOURCE_DONE;
		while (!s->eof) {
			size_t n;
			enum cs_err e = s->ra ? source_take_ahead(s, NULL, SIZE_MAX, &n)
					      : source_read_fd(s, s->raw, s->raw_block, &n);
			if (e != CS_OK)
				return source_take_pending(s, d);
		}
		s->rpos = s->rlen = 0;
		if ((s->ra ? readahead_final(s->ra, s->digest) : digest_final(s->sha, s->digest)) !=
		    CS_OK) {
			cs_diag_set(d, s->path, CS_DIAG_NONE, CS_DIAG_NONE, "SHA-256 final failed");
			return CS_ERR_NOMEM;
		}
		s->info.changed = s->ra && readahead_changed(s->ra);
		s->finished = true;
		s->pend_err = CS_OK;
	}
	memcpy(sha256, s->digest, 32);
	return CS_OK;
}

bool source_digest_known(struct source *s, uint8_t sha256[32])
{
	return s->ra && readahead_hashed_all(s->ra, sha256);
}

void source_get_info(const struct source *s, struct source_info *info)
{
	*info = s->info;
}

void source_destroy(struct source *s)
{
	if (!s)
		return;
	readahead_destroy(s->ra); /* its helper reads the descriptor: before the close */
	if (s->owns_fd && s->fd >= 0)
		close(s->fd);
	inflate_destroy(s->z);
	digest_destroy(s->sha);
	free(s->raw);
	free(s->path);
	free(s);
}

const char *source_inflate_engine(void)
{
	return inflate_engine_name();
}
