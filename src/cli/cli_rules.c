/* Front end: packs from files and directories, ad-hoc indicators from -e/-f. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_rules.h"
#include "cybersieve/import.h"

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
	 * left to the pack parser, whose errors name the line. */
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

static bool load_file(struct cli_rules *r, const char *path, bool strict)
{
	struct pack *p = NULL;
	struct cs_diag d;
	struct import_opts io;
	const char *file;
	cs_diag_clear(&d);
	enum cs_err e = is_import(path, &io, &file) ? load_import(file, &io, &p, &d)
						     : pack_load_file(path, &p, &d);
	if (e != CS_OK) {
		diag_error(r, &d, strict ? "" : " (pack refused)");
		return !strict && e != CS_ERR_NOMEM;
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
	if (!d.file[0])
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

void cli_rules_fini(struct cli_rules *r)
{
	for (size_t i = 0; i < r->n; i++)
		pack_destroy(r->packs[i]);
	free(r->packs);
	for (size_t i = 0; i < r->n_err; i++)
		free(r->errors[i].where);
	free(r->errors);
	pack_destroy(r->adhoc);
	memset(r, 0, sizeof(*r));
}
