/* Whole small files read into memory: packs and feeds, and blocks for read()
 * (include/cybersieve/util.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cybersieve/util.h"

#define UTIL_PAGE ((size_t)4096)

bool util_write_all(int fd, const void *p, size_t n)
{
	const char *b = p;
	while (n) {
		ssize_t k = write(fd, b, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		b += k;
		n -= (size_t)k;
	}
	return true;
}

void *util_alloc_io(size_t n)
{
	/* From 2 MiB up (a compiled rules file read whole, say) on huge pages,
	 * which start on a page too: a fault per 2 MiB, not per 4 KiB. */
	if (n >= ((size_t)2 << 20))
		return util_alloc_huge(n);
	void *p = NULL;
	return posix_memalign(&p, UTIL_PAGE, n ? n : 1) == 0 ? p : NULL;
}

enum cs_err util_read_file(const char *path, size_t max, const char *what, char **out,
			   size_t *out_len, struct cs_diag *d)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap;
	enum cs_err err = CS_ERR_IO;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0)
		goto io;
	/* Sized from the file where it has a size; one byte more tells a file of
	 * exactly max bytes from a longer one, and holds the closing NUL. */
	cap = S_ISREG(st.st_mode) && st.st_size >= 0 ? (size_t)st.st_size + 1 : 65536;
	if (cap > max + 1)
		cap = max + 1;
	for (;;) {
		if (!buf || len == cap) {
			if (buf && cap > max) {
				cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE,
					    "%s larger than %zu bytes", what, max);
				err = CS_ERR_LIMIT;
				goto out;
			}
			size_t ncap = !buf ? cap : cap * 2 > max + 1 ? max + 1 : cap * 2;
			/* The first block is the file's size: read() fills it from
			 * offset 0, so it starts on a page (util_alloc_io). */
			char *nb = buf ? realloc(buf, ncap + 1) : util_alloc_io(ncap + 1);
			if (!nb) {
				err = CS_ERR_NOMEM;
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto io;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	buf = NULL;
	err = CS_OK;
	goto out;
io:
	cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "%s", strerror(errno));
	if (d)
		d->sys_errno = errno;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return err;
}
