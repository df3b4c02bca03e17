/* Expanding command-line paths into the list of inputs (walk_paths in
 * include/cybersieve/ingest.h). Directories are walked depth first with their
 * entries sorted bytewise, symlinks are followed, and each directory is
 * entered once: one met again through a link is listed as WALK_LOOP. The
 * list and its strings belong to the caller (walk_list_fini); the walk keeps
 * no state between calls and is safe to run in several threads at once. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cybersieve/ingest.h"

/* Deeper trees are reported, not walked: bounds the recursion. */
#define WALK_MAX_DEPTH 256

struct walk_dir_id {
	dev_t dev;
	ino_t ino;
	char *path; /* owned by the seen table */
};

struct walk_ctx {
	const struct walk_opts *opts;
	struct walk_list *out;
	/* Every directory entered, open addressing on (dev, ino). */
	struct walk_dir_id *seen;
	size_t seen_n, seen_cap;
	/* Directories on the current path, to tell a loop from a second visit. */
	const struct walk_dir_id *stack[WALK_MAX_DEPTH];
	size_t depth;
};

unsigned walk_shard_of(const char *path, unsigned shard_n)
{
	uint64_t h = 14695981039346656037ULL;

	if (shard_n <= 1)
		return 0;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	return (unsigned)(h % shard_n);
}

static bool walk_in_shard(const struct walk_ctx *c, const char *path)
{
	if (c->opts->shard_n <= 1)
		return true;
	return walk_shard_of(path, c->opts->shard_n) == c->opts->shard_k;
}

/* Takes ownership of reason (NULL allowed for WALK_FILE). */
static enum cs_err walk_push(struct walk_ctx *c, const char *path, enum walk_status status,
			     char *reason, uint64_t size)
{
	struct walk_list *l = c->out;

	if (status != WALK_FILE && !reason)
		return CS_ERR_NOMEM;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct walk_entry *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			goto nomem;
		l->v = v;
		l->cap = cap;
	}
	char *p = strdup(path);
	if (!p)
		goto nomem;
	l->v[l->n++] = (struct walk_entry){ p, status, reason, size };
	return CS_OK;
nomem:
	free(reason);
	return CS_ERR_NOMEM;
}

static char *walk_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *walk_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* An error entry; `always` keeps it in every shard (command-line arguments). */
static enum cs_err walk_error(struct walk_ctx *c, const char *path, bool always,
			      enum walk_status status, char *reason)
{
	if (!always && !walk_in_shard(c, path)) {
		free(reason);
		return CS_OK;
	}
	return walk_push(c, path, status, reason, 0);
}

static enum cs_err walk_errno(struct walk_ctx *c, const char *path, bool always,
			      const char *what, int e)
{
	char ebuf[128];

	return walk_error(c, path, always, WALK_ERROR,
			  walk_fmt("%s: %s", what, strerror_r(e, ebuf, sizeof(ebuf))));
}

static size_t walk_seen_slot(const struct walk_ctx *c, dev_t dev, ino_t ino)
{
	uint64_t h = ((uint64_t)dev * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)ino * 0xc2b2ae3d27d4eb4fULL);
	size_t i = (size_t)(h ^ (h >> 29)) & (c->seen_cap - 1);

	while (c->seen[i].path && (c->seen[i].dev != dev || c->seen[i].ino != ino))
		i = (i + 1) & (c->seen_cap - 1);
	return i;
}

static const struct walk_dir_id *walk_seen_find(const struct walk_ctx *c, const struct stat *st)
{
	if (!c->seen_cap)
		return NULL;
	size_t i = walk_seen_slot(c, st->st_dev, st->st_ino);
	return c->seen[i].path ? &c->seen[i] : NULL;
}

static enum cs_err walk_seen_grow(struct walk_ctx *c)
{
	size_t old_cap = c->seen_cap;
	struct walk_dir_id *old = c->seen;
	size_t cap = old_cap ? old_cap * 2 : 256;

	c->seen = calloc(cap, sizeof(*c->seen));
	if (!c->seen) {
		c->seen = old;
		return CS_ERR_NOMEM;
	}
	c->seen_cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].path)
			c->seen[walk_seen_slot(c, old[i].dev, old[i].ino)] = old[i];
	/* The stack points into the old table: find its entries again, before
	 * the old table is freed. */
	for (size_t d = 0; d < c->depth; d++) {
		const struct walk_dir_id *e = c->stack[d];
		c->stack[d] = &c->seen[walk_seen_slot(c, e->dev, e->ino)];
	}
	free(old);
	return CS_OK;
}

/* Record a directory as entered and push it on the current path. */
static enum cs_err walk_enter(struct walk_ctx *c, const char *path, const struct stat *st)
{
	if ((c->seen_n + 1) * 2 > c->seen_cap && walk_seen_grow(c) != CS_OK)
		return CS_ERR_NOMEM;
	size_t i = walk_seen_slot(c, st->st_dev, st->st_ino);
	c->seen[i].path = strdup(path);
	if (!c->seen[i].path)
		return CS_ERR_NOMEM;
	c->seen[i].dev = st->st_dev;
	c->seen[i].ino = st->st_ino;
	c->seen_n++;
	c->stack[c->depth++] = &c->seen[i];
	return CS_OK;
}

static bool walk_on_stack(const struct walk_ctx *c, const struct walk_dir_id *id)
{
	for (size_t d = 0; d < c->depth; d++)
		if (c->stack[d] == id)
			return true;
	return false;
}

static int walk_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* All names in a directory but "." and "..", sorted bytewise. *e is the
 * errno that stopped the listing (0 if none): what was read is kept. */
static enum cs_err walk_read_names(DIR *dir, char ***out, size_t *out_n, int *e)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	*e = 0;
	for (;;) {
		errno = 0;
		de = readdir(dir);
		if (!de) {
			*e = errno;
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			char **v = realloc(names, ncap * sizeof(*v));
			if (!v)
				goto nomem;
			names = v;
			cap = ncap;
		}
		names[n] = strdup(de->d_name);
		if (!names[n])
			goto nomem;
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), walk_name_cmp);
	*out = names;
	*out_n = n;
	return CS_OK;
nomem:
	walk_names_free(names, n);
	return CS_ERR_NOMEM;
}

static enum cs_err walk_node(struct walk_ctx *c, const char *path, bool cmdline);

static char *walk_join(const char *dir, const char *name)
{
	size_t len = strlen(dir);
	bool slash = len && dir[len - 1] == '/';

	return walk_fmt("%s%s%s", dir, slash ? "" : "/", name);
}

/* List a directory's entries (already entered) in sorted order. */
static enum cs_err walk_dir_entries(struct walk_ctx *c, const char *path, bool cmdline)
{
	DIR *dir = opendir(path);
	char **names = NULL;
	size_t n = 0;
	int e;

	if (!dir)
		return walk_errno(c, path, cmdline, "cannot open directory", errno);
	enum cs_err err = walk_read_names(dir, &names, &n, &e);
	closedir(dir);
	if (!err && e)
		err = walk_errno(c, path, cmdline, "cannot read directory", e);
	for (size_t i = 0; i < n && !err; i++) {
		char *child = walk_join(path, names[i]);
		err = child ? walk_node(c, child, false) : CS_ERR_NOMEM;
		free(child);
	}
	walk_names_free(names, n);
	return err;
}

/* A directory reached at path: enter it unless it is already on the
 * current path (a loop) or was walked before through another name. */
static enum cs_err walk_dir(struct walk_ctx *c, const char *path, const struct stat *st,
			    bool cmdline)
{
	const struct walk_dir_id *id = walk_seen_find(c, st);
	struct stat lst;

	if (id) {
		bool link = lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode);
		char *why;
		if (walk_on_stack(c, id))
			why = walk_fmt("%s %s points back to %s", link ? "symlink" : "directory",
				       path, id->path);
		else
			why = walk_fmt("%s %s leads to %s, already walked",
				       link ? "symlink" : "directory", path, id->path);
		return walk_error(c, path, cmdline, WALK_LOOP, why);
	}
	if (c->depth == WALK_MAX_DEPTH)
		return walk_error(c, path, cmdline, WALK_ERROR,
				  walk_fmt("directories nested deeper than %d", WALK_MAX_DEPTH));
	enum cs_err err = walk_enter(c, path, st);
	if (err)
		return err;
	err = walk_dir_entries(c, path, cmdline);
	c->depth--;
	return err;
}

/* A regular file: listed if in this shard and readable. An unreadable
 * command-line argument is reported by every shard, so it is checked first. */
static enum cs_err walk_file(struct walk_ctx *c, const char *path, const struct stat *st,
			     bool cmdline)
{
	bool mine = walk_in_shard(c, path);

	if (!mine && !cmdline)
		return CS_OK;
	if (faccessat(AT_FDCWD, path, R_OK, AT_EACCESS) != 0)
		return walk_errno(c, path, cmdline, "cannot read", errno);
	return mine ? walk_push(c, path, WALK_FILE, NULL, (uint64_t)st->st_size) : CS_OK;
}

static enum cs_err walk_node(struct walk_ctx *c, const char *path, bool cmdline)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		int e = errno;
		struct stat lst;
		if (e == ENOENT && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
			return walk_error(c, path, cmdline, WALK_ERROR,
					  walk_fmt("broken symlink"));
		return walk_errno(c, path, cmdline, "cannot open", e);
	}
	if (S_ISDIR(st.st_mode))
		return walk_dir(c, path, &st, cmdline);
	if (S_ISREG(st.st_mode))
		return walk_file(c, path, &st, cmdline);
	/* A pipe named on the command line is how `scan <(zcat x.gz)` arrives;
	 * the same thing met inside a tree is not something to read. */
	if (cmdline)
		return walk_in_shard(c, path) ? walk_push(c, path, WALK_FILE, NULL, 0) : CS_OK;
	return walk_error(c, path, false, WALK_ERROR, walk_fmt("not a regular file"));
}

enum cs_err walk_paths(const char *const *paths, size_t n, const struct walk_opts *opts,
		       struct walk_list *out)
{
	static const struct walk_opts all = { 0, 0 };
	struct walk_ctx c = { .opts = opts ? opts : &all, .out = out };
	enum cs_err err = CS_OK;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n && !err; i++) {
		if (!strcmp(paths[i], "-"))
			err = walk_push(&c, "-", WALK_FILE, NULL, 0);
		else
			err = walk_node(&c, paths[i], true);
	}
	for (size_t i = 0; i < c.seen_cap; i++)
		free(c.seen[i].path);
	free(c.seen);
	return err;
}

void walk_list_fini(struct walk_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].reason);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}
