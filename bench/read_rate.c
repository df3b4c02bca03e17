/*
 * read_rate: pread into a reused 16 MiB buffer against mmap, on one file.
 *
 * Modes: pread (copy only), pread@16 (the same into a buffer 16 bytes past a
 * page boundary, where malloc() puts a large block: on some x86 CPUs the
 * kernel's copy out of the page cache runs several times slower there),
 * pread + count newlines with memchr, mmap + read one byte per 4 KiB page,
 * mmap + count newlines.  The pread buffer starts on a page.  Each mode runs --repeat
 * times (default 3) and the best run is reported, so a warm page cache is
 * what is measured unless the caller drops it.  Single threaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RR_BUF (16u << 20)
#define RR_PAGE 4096u

struct rr_ctx {
    int fd;
    size_t size;
    char *block; /* RR_BUF + RR_PAGE bytes from a page boundary */
    char *buf;   /* where pread() writes: block, or block + 16 */
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t count_nl(const char *p, size_t n)
{
    uint64_t c = 0;
    const char *end = p + n;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        c++;
        p++;
    }
    return c;
}

/* Returns a checksum (newlines or byte sum) so the work cannot be elided; -1 on error. */
static int64_t via_pread(struct rr_ctx *c, int newlines)
{
    int64_t sum = 0;
    off_t off = 0;
    for (;;) {
        ssize_t r = pread(c->fd, c->buf, RR_BUF, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return sum;
        sum += newlines ? (int64_t)count_nl(c->buf, (size_t)r) : (unsigned char)c->buf[r - 1];
        off += r;
    }
}

static int64_t via_mmap(struct rr_ctx *c, int newlines)
{
    if (c->size == 0)
        return 0;
    const unsigned char *m = mmap(NULL, c->size, PROT_READ, MAP_PRIVATE, c->fd, 0);
    if (m == MAP_FAILED)
        return -1;
    madvise((void *)m, c->size, MADV_SEQUENTIAL);
    int64_t sum = 0;
    if (newlines) {
        sum = (int64_t)count_nl((const char *)m, c->size);
    } else {
        for (size_t i = 0; i < c->size; i += RR_PAGE)
            sum += m[i];
    }
    munmap((void *)m, c->size);
    return sum;
}

static int run(struct rr_ctx *c, const char *name, int64_t (*fn)(struct rr_ctx *, int), int newlines, int repeat)
{
    double best = 1e30;
    int64_t sum = 0;
    for (int i = 0; i < repeat; i++) {
        double t0 = now_s();
        sum = fn(c, newlines);
        double s = now_s() - t0;
        if (sum < 0)
            return -1;
        if (s < best)
            best = s;
    }
    printf("read_rate mode=%s bytes=%zu seconds=%.3f gbps=%.2f check=%" PRId64 "\n", name, c->size, best,
           (double)c->size / best / 1e9, sum);
    return 0;
}

int main(int argc, char **argv)
{
    struct rr_ctx c = {.fd = -1};
    struct stat sb;
    const char *path = NULL;
    int repeat = 3, rc = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else
            path = argv[i];
    }
    if (!path || repeat < 1 || repeat > 100) {
        fprintf(stderr, "usage: read_rate [--repeat N] FILE\n");
        return 2;
    }
    void *block = NULL;
    if ((c.fd = open(path, O_RDONLY)) < 0 || fstat(c.fd, &sb) != 0 ||
        posix_memalign(&block, RR_PAGE, RR_BUF + RR_PAGE) != 0) {
        perror(path);
        goto out;
    }
    c.block = block;
    c.size = (size_t)sb.st_size;
    c.buf = c.block + 16;
    if (run(&c, "pread@16", via_pread, 0, repeat))
        goto out;
    c.buf = c.block;
    if (run(&c, "pread", via_pread, 0, repeat) || run(&c, "pread+newlines", via_pread, 1, repeat) ||
        run(&c, "mmap+touch4k", via_mmap, 0, repeat) || run(&c, "mmap+newlines", via_mmap, 1, repeat)) {
        perror(path);
        goto out;
    }
    rc = 0;
out:
    if (c.fd >= 0)
        close(c.fd);
    free(c.block);
    return rc;
}
