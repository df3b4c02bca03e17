/* The records file (include/cybersieve/evidence.h). A write lands whole or is
 * rolled back, so a full disk never leaves half a record behind. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cybersieve/evidence.h"

struct ev_writer {
	int fd;
	bool is_stdout;
	char *path;
	uint64_t good;    /* bytes known to be written whole */
	bool failed;
	_Atomic uint64_t seq;
};

enum cs_err ev_writer_open(const char *path, struct ev_writer **out, struct cs_diag *d)
{
	struct ev_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return CS_ERR_NOMEM;
	if (!path) {
		w->fd = STDOUT_FILENO;
		w->is_stdout = true;
		w->path = strdup("(stdout)");
	} else {
		w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		w->path = strdup(path);
		if (w->fd < 0) {
			int e = errno;
			cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "cannot create: %s", strerror(e));
			if (d)
				d->sys_errno = e;
			free(w->path);
			free(w);
			return e == EEXIST ? CS_ERR_EXISTS : CS_ERR_IO;
		}
	}
	if (!w->path) {
		if (!w->is_stdout)
			close(w->fd);
		free(w);
		return CS_ERR_NOMEM;
	}
	*out = w;
	return CS_OK;
}

enum cs_err ev_writer_write(struct ev_writer *w, const char *buf, size_t len, struct cs_diag *d)
{
	if (w->failed)
		return CS_ERR_IO;
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(w->fd, buf + done, len - done);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		int e = n < 0 ? errno : ENOSPC;
		w->failed = true;
		/* Drop the partial tail so the file ends on a whole record. */
		if (!w->is_stdout && ftruncate(w->fd, (off_t)w->good) != 0) {
			/* Nothing more can be done; the error below says the write failed. */
		}
		cs_diag_set(d, w->path, CS_DIAG_NONE, w->good, "write failed: %s", strerror(e));
		if (d)
			d->sys_errno = e;
		return CS_ERR_IO;
	}
	w->good += len;
	return CS_OK;
}

uint64_t ev_writer_next_seq(struct ev_writer *w)
{
	return atomic_fetch_add(&w->seq, 1) + 1;
}

uint64_t ev_writer_bytes(const struct ev_writer *w)
{
	return w->good;
}

enum cs_err ev_writer_close(struct ev_writer *w, struct cs_diag *d)
{
	if (!w)
		return CS_OK;
	enum cs_err err = CS_OK;
	if (!w->is_stdout) {
		if (!w->failed && fsync(w->fd) != 0 && errno != EINVAL) {
			cs_diag_set(d, w->path, CS_DIAG_NONE, CS_DIAG_NONE, "fsync failed: %s",
				    strerror(errno));
			err = CS_ERR_IO;
		}
		if (close(w->fd) != 0 && err == CS_OK) {
			cs_diag_set(d, w->path, CS_DIAG_NONE, CS_DIAG_NONE, "close failed: %s",
				    strerror(errno));
			err = CS_ERR_IO;
		}
	}
	free(w->path);
	free(w);
	return err;
}
