/*
 * inflate_rate: how fast the decompressor alone turns a .gz into bytes.
 *
 * Loads the whole compressed file into memory before timing, then inflates it
 * into one reused 1 MiB buffer and discards the output.  Engines: zlib, and
 * ISA-L (isal_inflate) when built with it.  Handles multi-member gzip files.
 * Reports MB/s of decompressed output.  Single threaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#ifdef CS_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#define INFL_OUT (1u << 20)
#define INFL_IN_MAX (64ULL << 30) /* refuse inputs larger than this */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int load_file(const char *path, unsigned char **data, size_t *len)
{
    struct stat sb;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    if (fstat(fd, &sb) != 0 || (unsigned long long)sb.st_size > INFL_IN_MAX ||
        !(*data = malloc((size_t)sb.st_size + 1))) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    while (got < (size_t)sb.st_size) {
        ssize_t r = read(fd, *data + got, (size_t)sb.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    *len = got;
    return got == (size_t)sb.st_size ? 0 : -1;
}

/* Returns decompressed byte count, or -1 on a corrupt stream. */
static long long inflate_zlib(const unsigned char *in, size_t len, unsigned char *out)
{
    z_stream z = {0};
    long long total = 0;
    if (inflateInit2(&z, 15 + 32) != Z_OK)
        return -1;
    z.next_in = (unsigned char *)in;
    size_t left = len;
    for (;;) {
        if (z.avail_in == 0 && left) {
            z.avail_in = left > (1u << 30) ? (1u << 30) : (unsigned)left;
            left -= z.avail_in;
        }
        z.next_out = out;
        z.avail_out = INFL_OUT;
        int ret = inflate(&z, Z_NO_FLUSH);
        total += INFL_OUT - z.avail_out;
        if (ret == Z_STREAM_END) {
            if (!z.avail_in && !left)
                break;
            inflateReset(&z); /* next gzip member */
        } else if ((ret != Z_OK && ret != Z_BUF_ERROR) || (!z.avail_in && !left && z.avail_out)) {
            total = -1; /* corrupt, or input ended inside a member */
            break;
        }
    }
    inflateEnd(&z);
    return total;
}

#ifdef CS_HAVE_ISAL
static long long inflate_isal(const unsigned char *in, size_t len, unsigned char *out)
{
    struct inflate_state *st = malloc(sizeof *st);
    long long total = 0;
    if (!st)
        return -1;
    isal_inflate_init(st);
    st->crc_flag = ISAL_GZIP;
    st->next_in = (uint8_t *)in;
    size_t left = len;
    for (;;) {
        if (st->avail_in == 0 && left) {
            st->avail_in = left > (1u << 30) ? (1u << 30) : (uint32_t)left;
            left -= st->avail_in;
        }
        st->next_out = out;
        st->avail_out = INFL_OUT;
        int ret = isal_inflate(st);
        total += INFL_OUT - st->avail_out;
        if (ret != ISAL_DECOMP_OK) {
            total = -1;
            break;
        }
        if (st->block_state == ISAL_BLOCK_FINISH) {
            if (!st->avail_in && !left)
                break;
            uint8_t *next = st->next_in; /* next gzip member */
            uint32_t avail = st->avail_in;
            isal_inflate_reset(st);
            st->crc_flag = ISAL_GZIP;
            st->next_in = next;
            st->avail_in = avail;
        } else if (st->avail_out == INFL_OUT && !st->avail_in && !left) {
            total = -1; /* truncated */
            break;
        }
    }
    free(st);
    return total;
}
#endif

static int run(const char *name, long long (*fn)(const unsigned char *, size_t, unsigned char *),
               const unsigned char *in, size_t len, unsigned char *out)
{
    double t0 = now_s();
    long long n = fn(in, len, out);
    double s = now_s() - t0;
    if (n < 0) {
        fprintf(stderr, "inflate_rate: %s: corrupt or truncated input\n", name);
        return -1;
    }
    printf("inflate_rate engine=%s compressed=%zu bytes=%lld seconds=%.3f mbps=%.1f\n", name, len, n, s,
           (double)n / s / 1e6);
    return 0;
}

int main(int argc, char **argv)
{
    const char *engine = "all", *path = NULL;
    unsigned char *in = NULL, *out = NULL;
    size_t len = 0;
    int rc = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--engine") == 0 && i + 1 < argc)
            engine = argv[++i];
        else if (!path && argv[i][0] != '-')
            path = argv[i];
        else
            path = NULL, i = argc;
    }
    if (!path) {
        fprintf(stderr, "usage: inflate_rate [--engine zlib|isal|all] FILE.gz\n");
        return 2;
    }
    if (load_file(path, &in, &len) != 0 || !(out = malloc(INFL_OUT))) {
        perror(path);
        goto out;
    }
    int all = strcmp(engine, "all") == 0, did = 0;
    if (all || strcmp(engine, "zlib") == 0) {
        if (run("zlib", inflate_zlib, in, len, out) != 0)
            goto out;
        did = 1;
    }
#ifdef CS_HAVE_ISAL
    if (all || strcmp(engine, "isal") == 0) {
        if (run("isal", inflate_isal, in, len, out) != 0)
            goto out;
        did = 1;
    }
#endif
    if (!did) {
        fprintf(stderr, "inflate_rate: engine %s not built in\n", engine);
        goto out;
    }
    rc = 0;
out:
    free(in);
    free(out);
    return rc;
}
