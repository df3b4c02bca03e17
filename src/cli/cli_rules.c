/* Front end: packs from files and directories, ad-hoc indicators from -e/-f,
 * compiled rules files (loaded, or rebuilt from their packs when they do not
 * fit), and the `rules compile` command that writes them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_common.h"
#include "cli_rules.h"
#include "cybersieve/import.h"
#include "cybersieve/savedb.h"
#include "cybersieve/util.h"

void cli_rules_error(struct cli_rules *r, const char *text)
{
	fprintf(stderr, "cybersieve: %s\n", text);
	if (r->n_err == r->cap_err) {
		size_t cap = r->cap_err ? r->cap_err * 2 : 8;
		struct summary_pack_error *v = realloc(r->errors, cap * sizeof(*v));
		if (!v)
			return;
		r->errors = v;
		r->cap_err = cap;
	}
	r->errors[r->n_err].where = strdup(text);
	if (r->errors[r->n_err].where)
		r->n_err++;
}

static void diag_error(struct cli_rules *r, const struct cs_diag *d, const char *suffix)
{
	char tmp[1600], line[1700];
	cs_diag_format(d, tmp, sizeof(tmp));
	snprintf(line, sizeof(line), "%s%s", tmp, suffix);
	cli_rules_error(r, line);
}

static bool push_pack(struct cli_rules *r, struct pack *p)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		struct pack **v = realloc(r->packs, cap * sizeof(*v));
		if (!v)
			return false;
		r->packs = v;
		r->cap = cap;
	}
	r->packs[r->n++] = p;
	return true;
}

/* A feed to import rather than a native pack: named by a "FORMAT:" prefix
 * (the path as given does not exist), or recognised from its first bytes. */
static bool is_import(const char *path, struct import_opts *o, const char **file)
{
	struct stat st;
	*file = path;
	memset(o, 0, sizeof(*o));
	if (stat(path, &st) != 0)
		return import_spec_parse(path, o, file);
	char head[4097];
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return false;
	size_t n = fread(head, 1, sizeof(head) - 1, fp);
	fclose(fp);
	head[n] = '\0';
	enum import_format f = import_detect(head, n);
	/* A plain list must say its type; anything else without '@' headers is
	 * left to the pack parser (and, refused there, to not_a_pack). */
	if (f == IMPORT_PLAIN)
		return strstr(head, "# type:") != NULL;
	return f != IMPORT_NATIVE;
}

/* Import a feed; what could not be imported is reported, not fatal. */
static enum cs_err load_import(const char *file, const struct import_opts *o,
			       struct pack **p, struct cs_diag *d)
{
	struct import_report rep;
	enum cs_err e = import_file(file, o, p, &rep, d);
	for (size_t i = 0; e == CS_OK && i < rep.n_notes; i++) {
		char line[1024];
		import_note_format(&rep, i, file, line, sizeof(line));
		fprintf(stderr, "cybersieve: warning: %s\n", line);
	}
	return e;
}

static bool is_compiled(const char *path)
{
	uint8_t head[SAVEDB_MAGIC_LEN];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, head, sizeof(head));
	close(fd);
	return n == (ssize_t)sizeof(head) && savedb_detect(head, sizeof(head));
}

static bool load_file(struct cli_rules *r, const char *path, bool strict);

/* A compiled file that does not fit: its packs, read again from where they
 * were compiled; all of them must be there. */
static bool rebuild_compiled(struct cli_rules *r, const char *path, struct savedb_load *ld,
			     bool strict)
{
	for (size_t p = 0; p < ld->n_paths; p++) {
		struct stat st;
		if (!ld->paths[p] || stat(ld->paths[p], &st) != 0) {
			char msg[3000];
			snprintf(msg, sizeof(msg), "%s: %s, and its pack %s is not available to rebuild "
				 "from: compile it again (cybersieve rules compile)", path, ld->why,
				 ld->paths[p] ? ld->paths[p] : "(unnamed)");
			cli_rules_error(r, msg);
			return false;
		}
	}
	fprintf(stderr, "cybersieve: %s: %s; rebuilding from its %zu pack%s\n", path, ld->why,
		ld->n_paths, ld->n_paths == 1 ? "" : "s");
	size_t first = r->n, errs = r->n_err;
	for (size_t p = 0; p < ld->n_paths; p++)
		if (!load_file(r, ld->paths[p], strict))
			return false;
	if (r->n_err == errs && !r->rebuild_path && (r->rebuild_path = strdup(path))) {
		r->rebuild_first = first;
		r->rebuild_n = r->n - first;
	}
	return true;
}

static bool load_compiled(struct cli_rules *r, const char *path, bool strict)
{
	struct savedb_load ld;
	struct cs_diag d;
	cs_diag_clear(&d);
	if (savedb_read(path, NULL, &ld, &d) != CS_OK) {
		diag_error(r, &d, "");
		return !strict;
	}
	bool ok = true;
	if (ld.stale) {
		ok = rebuild_compiled(r, path, &ld, strict) || !strict;
	} else {
		size_t first = r->n;
		size_t *counts = malloc((ld.n_packs ? ld.n_packs : 1) * sizeof(*counts));
		for (size_t p = 0; ok && p < ld.n_packs; p++) {
			counts ? counts[p] = ld.packs[p]->n_ind : 0;
			ok = push_pack(r, ld.packs[p]);
			if (ok)
				ld.packs[p] = NULL;
		}
		if (ok && counts && !r->loaded) {
			r->loaded = ld.m;
			ld.m = NULL;
			r->loaded_first = first;
			r->loaded_n = ld.n_packs;
			r->loaded_ind = counts;
			counts = NULL;
		}
		free(counts);
	}
	savedb_load_fini(&ld);
	return ok;
}

/* A file the pack parser refused that holds no '@' header line at all (after
 * any blanks, anywhere) was no pack: what it is not, and how to load a list
 * of values, said instead of the parser's complaint about its first line.
 * False when it may be a pack, or cannot be read (the parser's error
 * stands). */
static bool not_a_pack(const char *path, char *why, size_t cap)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return false;
	char *line = NULL;
	size_t lcap = 0;
	ssize_t n;
	int first = 0; /* first byte that is not blank, BOM skipped */
	bool header = false;
	while (!header && (n = getline(&line, &lcap, fp)) > 0) {
		size_t i = 0;
		if (!first && n >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0)
			i = 3;
		while (i < (size_t)n && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' ||
					 line[i] == '\n'))
			i++;
		if (i < (size_t)n && !first)
			first = (unsigned char)line[i];
		header = i < (size_t)n && line[i] == '@';
	}
	bool failed = ferror(fp) != 0;
	free(line);
	fclose(fp);
	if (header || failed)
		return false;
	if (first == '{' || first == '[')
		snprintf(why, cap, "JSON that is neither a STIX 2.1 bundle nor a MISP event: not "
			 "read; for a JSON list of values, give them one a line with their type "
			 "(--rules TYPE:FILE or -f TYPE:FILE)");
	else
		snprintf(why, cap, "no '@' pack header and no feed format recognised (Zeek intel, "
			 "MISP CSV, CSV with a host or url column, md5sum or sha256sum output; a "
			 "Suricata dataset needs its prefix, as suricata-sha256:FILE): for a list "
			 "of values give its type, as --rules TYPE:FILE, -f TYPE:FILE or a "
			 "'# type: TYPE' first line");
	return true;
}

static bool load_file(struct cli_rules *r, const char *path, bool strict)
{
	if (is_compiled(path))
		return load_compiled(r, path, strict);
	struct pack *p = NULL;
	struct cs_diag d;
	struct import_opts io;
	const char *file;
	cs_diag_clear(&d);
	bool imp = is_import(path, &io, &file);
	enum cs_err e = imp ? load_import(file, &io, &p, &d) : pack_load_file(path, &p, &d);
	char why[400];
	if (e != CS_OK && e != CS_ERR_NOMEM && !imp && not_a_pack(path, why, sizeof(why))) {
		char msg[4600];
		snprintf(msg, sizeof(msg), "%s: %s%s", path, why, strict ? "" : " (refused)");
		cli_rules_error(r, msg);
		return !strict;
	}
	if (e != CS_OK) {
		diag_error(r, &d, strict ? "" : " (pack refused)");
		return !strict && e != CS_ERR_NOMEM;
	}
	/* Records and rules cite a pack by its name: two may not share one. */
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->packs[i]->name, p->name) != 0)
			continue;
		char msg[3000];
		snprintf(msg, sizeof(msg), "%s: pack name '%s' is already used by %s%s", path,
			 p->name, r->packs[i]->path, strict ? "" : " (pack refused)");
		cli_rules_error(r, msg);
		pack_destroy(p);
		return !strict;
	}
	if (!push_pack(r, p)) {
		pack_destroy(p);
		return false;
	}
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.pack in a directory, in name order so runs are reproducible. */
static bool load_dir(struct cli_rules *r, const char *dir, bool strict)
{
	DIR *dh = opendir(dir);
	if (!dh) {
		char msg[1200];
		snprintf(msg, sizeof(msg), "%s: %s", dir, strerror(errno));
		cli_rules_error(r, msg);
		return !strict;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	bool ok = true;
	struct dirent *de;
	while (ok && (de = readdir(dh))) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".pack") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **v = realloc(names, cap * sizeof(*v));
			if (!v) {
				ok = false;
				break;
			}
			names = v;
		}
		if (asprintf(&names[n], "%s/%s", dir, de->d_name) < 0)
			ok = false;
		else
			n++;
	}
	closedir(dh);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (ok)
			ok = load_file(r, names[i], strict);
		free(names[i]);
	}
	free(names);
	return ok;
}

bool cli_rules_add_path(struct cli_rules *r, const char *path, bool strict)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return load_dir(r, path, strict);
	return load_file(r, path, strict);
}

/* "TYPE[/mods]:REST" -> type, flags, rest. */
static bool split_spec(const char *spec, enum ind_type *t, unsigned *flags, const char **rest,
		       char *why, size_t cap)
{
	const char *colon = strchr(spec, ':');
	if (!colon) {
		snprintf(why, cap, "'%s': expected TYPE:VALUE", spec);
		return false;
	}
	const char *slash = memchr(spec, '/', (size_t)(colon - spec));
	size_t tl = (size_t)((slash ? slash : colon) - spec);
	if (!ind_type_parse(spec, tl, t)) {
		snprintf(why, cap, "'%s': unknown indicator type '%.*s'", spec, (int)tl, spec);
		return false;
	}
	*flags = 0;
	for (const char *m = slash ? slash + 1 : colon; m < colon; m++) {
		if (*m == 'i' && (*t == IND_LITERAL || *t == IND_REGEX)) {
			*flags |= IND_F_CASELESS;
		} else if (*m == 's' && *t == IND_REGEX) {
			*flags |= IND_F_DOTALL;
		} else {
			snprintf(why, cap, "'%s': modifier '%c' does not apply to %s", spec, *m,
				 ind_type_name(*t));
			return false;
		}
	}
	*rest = colon + 1;
	return true;
}

static bool ensure_adhoc(struct cli_rules *r)
{
	return r->adhoc || pack_create_adhoc("command line", &r->adhoc) == CS_OK;
}

static bool add_value(struct cli_rules *r, const char *label, const char *id, enum ind_type t,
		      unsigned flags, const char *v, size_t len, uint32_t line, bool strict)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	/* A typed value (a domain, a hash, an IBAN) loses spaces and tabs at
	 * either end, as a pack line's value does; a literal or regex is taken
	 * as typed, as grep takes a pattern. */
	if (t != IND_LITERAL && t != IND_REGEX) {
		util_trim_blanks(&v, &len);
		if (len == 0 && line)
			return true; /* a blank line of a -f file; an empty -e is refused below */
	}
	/* Command-line literals are taken as typed (grep -F): protect their backslashes
	 * from the pack format's escapes. */
	char *raw = NULL;
	if (t == IND_LITERAL && memchr(v, '\\', len)) {
		raw = malloc(len * 2 + 1);
		if (!raw)
			return false;
		size_t k = 0;
		for (size_t i = 0; i < len; i++) {
			if (v[i] == '\\')
				raw[k++] = '\\';
			raw[k++] = v[i];
		}
		v = raw;
		len = k;
	}
	enum cs_err e = pack_add(r->adhoc, id, t, flags, v, len, line, &d);
	free(raw);
	if (e == CS_OK)
		return true;
	/* Named by where the value came from: "-e", or the -f file. */
	snprintf(d.file, sizeof(d.file), "%s", label);
	if (line)
		d.line = line;
	diag_error(r, &d, strict ? "" : " (value skipped)");
	return !strict && e != CS_ERR_NOMEM;
}

bool cli_rules_add_e(struct cli_rules *r, const char *spec, bool strict)
{
	enum ind_type t;
	unsigned flags;
	const char *v;
	char why[600], id[32];
	if (!split_spec(spec, &t, &flags, &v, why, sizeof(why))) {
		char msg[700];
		snprintf(msg, sizeof(msg), "-e %s", why);
		cli_rules_error(r, msg);
		return !strict;
	}
	if (!ensure_adhoc(r))
		return false;
	snprintf(id, sizeof(id), "e%zu", ++r->n_e);
	return add_value(r, "-e", id, t, flags, v, strlen(v), 0, strict);
}

bool cli_rules_add_f(struct cli_rules *r, const char *spec, bool strict)
{
	enum ind_type t;
	unsigned flags;
	const char *path;
	char why[600];
	if (!split_spec(spec, &t, &flags, &path, why, sizeof(why))) {
		char msg[700];
		snprintf(msg, sizeof(msg), "-f %s", why);
		cli_rules_error(r, msg);
		return !strict;
	}
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!fp) {
		char msg[1200];
		snprintf(msg, sizeof(msg), "%s: %s", path, strerror(errno));
		cli_rules_error(r, msg);
		return !strict;
	}
	if (!ensure_adhoc(r)) {
		if (fp != stdin)
			fclose(fp);
		return false;
	}
	size_t fi = ++r->n_f;
	char *line = NULL;
	size_t lcap = 0;
	ssize_t n;
	uint32_t lineno = 0;
	bool ok = true;
	while (ok && (n = getline(&line, &lcap, fp)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (n == 0)
			continue;
		char id[48];
		snprintf(id, sizeof(id), "f%zu:%u", fi, lineno);
		ok = add_value(r, path, id, t, flags, line, (size_t)n, lineno, strict);
	}
	free(line);
	if (fp != stdin)
		fclose(fp);
	return ok;
}

bool cli_rules_finish(struct cli_rules *r)
{
	if (!r->adhoc)
		return true;
	pack_seal(r->adhoc);
	struct pack *p = r->adhoc;
	r->adhoc = NULL;
	if (!push_pack(r, p)) {
		pack_destroy(p);
		return false;
	}
	return true;
}

/* The loaded matcher fits when it covers every pack, none changed since. */
static bool loaded_fits(const struct cli_rules *r)
{
	if (!r->loaded || r->loaded_first != 0 || r->loaded_n != r->n)
		return false;
	for (size_t p = 0; p < r->n; p++)
		if (r->packs[p]->n_ind != r->loaded_ind[p])
			return false;
	return true;
}

enum cs_err cli_rules_matcher(struct cli_rules *r, matcher_refused_fn refused, void *ctx,
			      unsigned flags, struct matcher **out, struct cs_diag *d)
{
	if (loaded_fits(r)) {
		*out = r->loaded;
		r->loaded = NULL;
		return CS_OK;
	}
	if (r->loaded) {
		fprintf(stderr, "cybersieve: compiled rules used with other indicators or an --allow "
				"list: compiling them all\n");
		matcher_destroy(r->loaded);
		r->loaded = NULL;
	}
	size_t errs = r->n_err;
	enum cs_err e = matcher_build_ex(r->packs, r->n, refused, ctx, flags, out, d);
	if (e != CS_OK || !r->rebuild_path || r->n_err != errs || r->rebuild_first != 0 ||
	    r->rebuild_n != r->n)
		return e;
	struct cs_diag wd;
	cs_diag_clear(&wd);
	if (savedb_write(r->rebuild_path, r->packs, r->n, *out, &wd) == CS_OK) {
		fprintf(stderr, "cybersieve: %s: written again for this machine\n", r->rebuild_path);
	} else {
		char tmp[1600];
		cs_diag_format(&wd, tmp, sizeof(tmp));
		fprintf(stderr, "cybersieve: warning: %s (the rules in use are not affected)\n", tmp);
	}
	free(r->rebuild_path);
	r->rebuild_path = NULL;
	return CS_OK;
}

static void rules_usage(FILE *out)
{
	fprintf(out, "usage: cybersieve rules compile PACK... -o FILE\n"
		     "  PACK: a pack, a feed or a directory of *.pack files (as scan --rules)\n"
		     "  -o FILE: the compiled rules file, for scan/tap --rules FILE\n");
}

/* rules compile: every pack must load and compile; the file is written whole. */
static int rules_compile(int argc, char **argv)
{
	const char *outp = NULL;
	struct cli_rules r = {0};
	int code = CLI_EXIT_FATAL;
	struct matcher *m = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--out") == 0) {
			if (++i == argc) {
				rules_usage(stderr);
				goto out;
			}
			outp = argv[i];
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			rules_usage(stdout);
			code = 0;
			goto out;
		} else if (!cli_rules_add_path(&r, argv[i], true)) {
			goto out;
		}
	}
	if (!outp || r.n == 0) {
		fprintf(stderr, "cybersieve rules compile: %s\n",
			!outp ? "no output file (-o FILE)" : "no pack given");
		rules_usage(stderr);
		goto out;
	}
	if (r.rebuild_path) {
		free(r.rebuild_path); /* compiled again below, into outp */
		r.rebuild_path = NULL;
	}
	if (r.loaded) {
		matcher_destroy(r.loaded);
		r.loaded = NULL;
	}
	struct cs_diag d;
	cs_diag_clear(&d);
	if (cli_rules_matcher(&r, NULL, NULL, MATCHER_BUILD_STREAM, &m, &d) != CS_OK) {
		char tmp[1600];
		cs_diag_format(&d, tmp, sizeof(tmp));
		fprintf(stderr, "cybersieve: %s\n", tmp);
		goto out;
	}
	cs_diag_clear(&d);
	if (savedb_write(outp, r.packs, r.n, m, &d) != CS_OK) {
		char tmp[1600];
		cs_diag_format(&d, tmp, sizeof(tmp));
		fprintf(stderr, "cybersieve: %s\n", tmp);
		goto out;
	}
	struct matcher_stats st;
	matcher_get_stats(m, &st);
	struct stat sb;
	fprintf(stderr, "cybersieve: %s: %zu indicators of %zu pack%s, %zu patterns, compiled in "
			"%.2f s, %.1f MB\n", outp, matcher_count(m), r.n, r.n == 1 ? "" : "s",
		st.patterns, st.compile_seconds,
		stat(outp, &sb) == 0 ? (double)sb.st_size / 1e6 : 0.0);
	code = 0;
out:
	matcher_destroy(m);
	cli_rules_fini(&r);
	return code;
}

int cli_rules_cmd(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "compile") == 0)
		return rules_compile(argc - 1, argv + 1);
	rules_usage(argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
			    ? stdout
			    : stderr);
	return argc >= 2 && argv[1][0] == '-' && argv[1][1] == 'h' ? 0 : CLI_EXIT_FATAL;
}

void cli_rules_fini(struct cli_rules *r)
{
	matcher_destroy(r->loaded);
	free(r->loaded_ind);
	free(r->rebuild_path);
	for (size_t i = 0; i < r->n; i++)
		pack_destroy(r->packs[i]);
	free(r->packs);
	for (size_t i = 0; i < r->n_err; i++)
		free(r->errors[i].where);
	free(r->errors);
	pack_destroy(r->adhoc);
	memset(r, 0, sizeof(*r));
}
