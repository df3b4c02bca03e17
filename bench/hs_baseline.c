/*
 * hs_baseline: the bare Hyperscan floor for literal scanning of a log file.
 *
 * Compiles a literal list the way the product does (each literal one
 * hs_compile_multi expression, every non-alphanumeric byte written as \xHH,
 * flags 0, HS_MODE_BLOCK), then pread()s the log into one reused 16 MiB buffer
 * cut at the last newline (the partial line is carried to the next read) and
 * scans each piece.  Counts matches and distinct matching lines; a line number
 * is only worked out where something matched.  Single threaded.
 *
 * With --exprs, FILE holds Hyperscan expressions instead, one a line as
 * FLAGS<TAB>EXPRESSION, FLAGS being letters (i caseless, m multi-line, s dot
 * matches all) or "-" for none, lines starting with '#' skipped: the bare
 * engine's rate for a product's pattern set, shapes and all
 * (bench/shapes-mix.tsv).
 */
#include <errno.h>
#include <fcntl.h>
#include <hs.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BASE_BUF (16u << 20)
#define BASE_LIT_MAX 4096u       /* longest literal accepted */
#define BASE_LITS_MAX 10000000u  /* most literals accepted */

struct lits {
    char **expr;
    unsigned *ids, *flags;
    size_t n, cap;
};

/* Per-buffer match state handed to the callback. */
struct hit_state {
    const char *buf;
    size_t len;
    size_t line_start; /* the last counted line is buf[line_start, line_end] */
    size_t line_end;   /* SIZE_MAX until a line is counted */
    uint64_t matches, lines;
    uint64_t unordered; /* matches that came before the counted line: would need a set */
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double rate_mbps(uint64_t bytes, double s) { return s > 0 ? (double)bytes / s / 1e6 : 0.0; }

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Escapes a literal into a Hyperscan expression; caller frees. */
static char *lit_escape(const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char *e = malloc(n * 4 + 1), *p = e;
    if (!e)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_alnum(c)) {
            *p++ = (char)c;
        } else {
            *p++ = '\\';
            *p++ = 'x';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    *p = '\0';
    return e;
}

static int lits_push(struct lits *l, char *expr, unsigned flags)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        char **e = realloc(l->expr, cap * sizeof *e);
        if (!e)
            return -1;
        l->expr = e;
        unsigned *f = realloc(l->flags, cap * sizeof *f);
        if (!f)
            return -1;
        l->flags = f;
        l->cap = cap;
    }
    l->flags[l->n] = flags;
    l->expr[l->n++] = expr;
    return 0;
}

static void lits_free(struct lits *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->expr[i]);
    free(l->expr);
    free(l->ids);
    free(l->flags);
}

/* FLAGS<TAB>EXPRESSION: the flags, the expression copied; NULL if malformed. */
static char *expr_parse(const char *line, size_t n, unsigned *flags)
{
    const char *tab = memchr(line, '\t', n);
    if (!tab || tab == line)
        return NULL;
    *flags = 0;
    for (const char *f = line; f < tab; f++) {
        switch (*f) {
        case 'i': *flags |= HS_FLAG_CASELESS; break;
        case 'm': *flags |= HS_FLAG_MULTILINE; break;
        case 's': *flags |= HS_FLAG_DOTALL; break;
        case '-': break;
        default: return NULL;
        }
    }
    size_t k = n - (size_t)(tab + 1 - line);
    char *e = malloc(k + 1);
    if (e) {
        memcpy(e, tab + 1, k);
        e[k] = '\0';
    }
    return e;
}

/* One literal per line (or, with exprs, one FLAGS<TAB>EXPRESSION, '#'
 * lines skipped); empty lines are skipped, a trailing CR dropped. */
static int lits_load(const char *path, bool exprs, struct lits *l)
{
    char line[BASE_LIT_MAX + 2];
    FILE *f = fopen(path, "r");
    int rc = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n') {
            errno = EOVERFLOW;
            goto out;
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (n == 0 || (exprs && line[0] == '#'))
            continue;
        unsigned flags = 0;
        char *e = exprs ? expr_parse(line, n, &flags) : lit_escape(line, n);
        if (!e && exprs) {
            errno = EINVAL;
            goto out;
        }
        if (!e || l->n >= BASE_LITS_MAX || lits_push(l, e, flags) != 0) {
            free(e);
            errno = ENOMEM;
            goto out;
        }
    }
    l->ids = malloc((l->n + 1) * sizeof *l->ids);
    if (!l->ids)
        goto out;
    for (size_t i = 0; i < l->n; i++)
        l->ids[i] = (unsigned)i;
    rc = ferror(f) ? -1 : 0;
out:
    fclose(f);
    return rc;
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *ctx)
{
    struct hit_state *st = ctx;
    (void)id, (void)from, (void)flags;
    st->matches++;
    size_t at = to ? (size_t)to - 1 : 0; /* last byte of the match; literals hold no newline */
    if (st->line_end != SIZE_MAX && at <= st->line_end) {
        if (at < st->line_start)
            st->unordered++;
        return 0;
    }
    const char *nl = memchr(st->buf + at, '\n', st->len - at);
    const char *prev = at ? memrchr(st->buf, '\n', at) : NULL;
    st->line_start = prev ? (size_t)(prev - st->buf) + 1 : 0;
    st->line_end = nl ? (size_t)(nl - st->buf) : st->len;
    st->lines++;
    return 0;
}

static ssize_t pread_full(int fd, char *buf, size_t n, off_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, off + (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

struct scan_totals {
    uint64_t bytes, matches, lines, unordered, oversize;
    double scan_s;
};

static int scan_piece(hs_database_t *db, hs_scratch_t *scr, const char *buf, size_t len, struct scan_totals *t)
{
    struct hit_state st = {.buf = buf, .len = len, .line_end = SIZE_MAX};
    double t0 = now_s();
    hs_error_t e = hs_scan(db, buf, (unsigned)len, 0, scr, on_match, &st);
    t->scan_s += now_s() - t0;
    t->matches += st.matches;
    t->lines += st.lines;
    t->unordered += st.unordered;
    return e == HS_SUCCESS ? 0 : -1;
}

/* Reads the whole file through one buffer; every piece ends at a newline except the last. */
static int scan_file(int fd, hs_database_t *db, hs_scratch_t *scr, char *buf, struct scan_totals *t)
{
    size_t carry = 0;
    off_t off = 0;
    for (;;) {
        ssize_t r = pread_full(fd, buf + carry, BASE_BUF - carry, off);
        if (r < 0)
            return -1;
        off += r;
        t->bytes += (uint64_t)r;
        size_t have = carry + (size_t)r;
        if (r == 0 || have < BASE_BUF) { /* end of file: scan the rest as it is */
            return have ? scan_piece(db, scr, buf, have, t) : 0;
        }
        const char *nl = memrchr(buf, '\n', have);
        size_t cut = nl ? (size_t)(nl - buf) + 1 : have;
        if (!nl)
            t->oversize++; /* a line longer than the buffer is scanned in pieces */
        if (scan_piece(db, scr, buf, cut, t) != 0)
            return -1;
        carry = have - cut;
        memmove(buf, buf + cut, carry);
    }
}

int main(int argc, char **argv)
{
    struct lits l = {0};
    hs_database_t *db = NULL;
    hs_scratch_t *scr = NULL;
    hs_compile_error_t *cerr = NULL;
    struct scan_totals t = {0};
    char *buf = NULL;
    int fd = -1, rc = 1;
    bool exprs = argc == 4 && strcmp(argv[1], "--exprs") == 0;
    if (argc != 3 && !exprs) {
        fprintf(stderr, "usage: hs_baseline [--exprs] LITERALS LOGFILE\n");
        return 2;
    }
    argv += exprs;
    if (lits_load(argv[1], exprs, &l) != 0 || l.n == 0) {
        fprintf(stderr, "hs_baseline: %s: %s\n", argv[1],
                l.n || errno ? (errno == EINVAL ? "line not FLAGS<TAB>EXPRESSION" : strerror(errno))
                             : "no literals");
        goto out;
    }
    double c0 = now_s();
    if (hs_compile_multi((const char *const *)l.expr, l.flags, l.ids, (unsigned)l.n, HS_MODE_BLOCK, NULL, &db,
                         &cerr) != HS_SUCCESS) {
        fprintf(stderr, "hs_baseline: pattern %d: %s\n", cerr->expression, cerr->message);
        goto out;
    }
    double compile_s = now_s() - c0;
    size_t db_size = 0;
    hs_database_size(db, &db_size);
    /* On a page, as the product's read buffers (util_alloc_io): the kernel's
     * copy out of the page cache can be several times slower into a block
     * 16 bytes past a page boundary, where malloc() puts it. */
    void *block = NULL;
    if (hs_alloc_scratch(db, &scr) != HS_SUCCESS || posix_memalign(&block, 4096, BASE_BUF) != 0 ||
        !(buf = block)) {
        fprintf(stderr, "hs_baseline: out of memory\n");
        goto out;
    }
    if ((fd = open(argv[2], O_RDONLY)) < 0) {
        perror(argv[2]);
        goto out;
    }
    double s0 = now_s();
    if (scan_file(fd, db, scr, buf, &t) != 0) {
        fprintf(stderr, "hs_baseline: %s: read or scan failed\n", argv[2]);
        goto out;
    }
    double loop_s = now_s() - s0;
    printf("hs_baseline patterns=%zu compile_s=%.3f db_bytes=%zu bytes=%" PRIu64 " seconds=%.3f scan_seconds=%.3f"
           " mbps=%.1f scan_mbps=%.1f matches=%" PRIu64 " lines=%" PRIu64 "\n",
           l.n, compile_s, db_size, t.bytes, loop_s, t.scan_s, rate_mbps(t.bytes, loop_s),
           rate_mbps(t.bytes, t.scan_s), t.matches, t.lines);
    if (t.unordered || t.oversize)
        fprintf(stderr, "hs_baseline: warning: %" PRIu64 " out-of-order matches, %" PRIu64 " over-long lines;"
                        " the line count may be off\n", t.unordered, t.oversize);
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    hs_free_scratch(scr);
    hs_free_database(db);
    hs_free_compile_error(cerr);
    lits_free(&l);
    return rc;
}
