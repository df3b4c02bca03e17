/* Reading an evidence folder for export (include/cybersieve/export.h): the
 * run's metadata from manifest.json or summary.json, and each match record in
 * order (event records, such as rule reloads, are passed over). Lines are
 * read into one buffer capped at EXPORT_MAX_LINE; the parsed tree lives only
 * for the callback. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cybersieve/export.h"

#define EXPORT_READ_MAX_META (256u << 20) /* a manifest listing very many inputs */

static char *export_read_dup(const struct json_read_val *obj, const char *key)
{
	const char *s = json_read_str(obj, key);
	return s ? strdup(s) : NULL;
}

/* The whole file at dir/name into a new NUL-terminated buffer. */
static enum cs_err export_read_file(const char *dir, const char *name, char **out, size_t *len,
				    struct cs_diag *d)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "cannot open: %s", strerror(errno));
		d->sys_errno = errno;
		return CS_ERR_IO;
	}
	enum cs_err e = CS_OK;
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	if (!buf) {
		e = CS_ERR_NOMEM;
		goto out;
	}
	for (;;) {
		if (n + 1 >= cap) {
			if (cap >= EXPORT_READ_MAX_META) {
				cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "larger than %u bytes",
					    EXPORT_READ_MAX_META);
				e = CS_ERR_LIMIT;
				goto out;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				e = CS_ERR_NOMEM;
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - 1 - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "read failed");
		e = CS_ERR_IO;
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	fclose(f);
	return e;
}

enum cs_err export_read_run(const char *dir, struct export_run *run, struct cs_diag *d)
{
	memset(run, 0, sizeof(*run));
	char *text = NULL;
	size_t len = 0;
	struct json_read_val *v = NULL;
	run->has_manifest = true;
	enum cs_err e = export_read_file(dir, "manifest.json", &text, &len, d);
	if (e == CS_ERR_IO) {
		run->has_manifest = false;
		e = export_read_file(dir, "summary.json", &text, &len, d);
		if (e == CS_ERR_IO)
			cs_diag_set(d, dir, CS_DIAG_NONE, CS_DIAG_NONE,
				    "neither manifest.json nor summary.json: not an evidence folder");
	}
	if (e != CS_OK)
		return e;
	e = json_read_parse(text, len, &v, d);
	if (e != CS_OK || v->type != JSON_READ_OBJ) {
		char tmp[600];
		snprintf(tmp, sizeof(tmp), "%s", e != CS_OK ? d->msg : "not a JSON object");
		cs_diag_set(d, dir, CS_DIAG_NONE, CS_DIAG_NONE, "%s: %s",
			    run->has_manifest ? "manifest.json" : "summary.json", tmp);
		e = CS_ERR_PARSE;
		goto out;
	}
	run->run_id = export_read_dup(v, "run_id");
	run->started = export_read_dup(v, "started");
	run->finished = export_read_dup(v, "finished");
	run->operator_name = export_read_dup(v, "operator");
	run->sensor_id = export_read_dup(v, "sensor_id");
	run->host = export_read_dup(v, "host");
	const struct json_read_val *tool = json_read_get(v, "tool");
	run->tool_name = export_read_dup(tool, "name");
	run->tool_version = export_read_dup(tool, "version");
	if (!run->run_id) {
		cs_diag_set(d, dir, CS_DIAG_NONE, CS_DIAG_NONE, "the run has no run_id");
		e = CS_ERR_PARSE;
	}
out:
	json_read_free(v);
	free(text);
	if (e != CS_OK)
		export_read_run_fini(run);
	return e;
}

void export_read_run_fini(struct export_run *run)
{
	free(run->run_id);
	free(run->started);
	free(run->finished);
	free(run->operator_name);
	free(run->sensor_id);
	free(run->host);
	free(run->tool_name);
	free(run->tool_version);
	memset(run, 0, sizeof(*run));
}

/* One line (without its newline) into *buf, grown up to EXPORT_MAX_LINE.
 * *got is false at the end of the file; *len is the line's length. */
static enum cs_err export_read_line(FILE *f, char **buf, size_t *cap, size_t *len, bool *got)
{
	size_t n = 0;
	*got = false;
	for (;;) {
		if (n + 2 > *cap) {
			if (*cap >= EXPORT_MAX_LINE)
				return CS_ERR_LIMIT;
			size_t nc = *cap ? *cap * 2 : 65536;
			char *nb = realloc(*buf, nc);
			if (!nb)
				return CS_ERR_NOMEM;
			*buf = nb;
			*cap = nc;
		}
		if (!fgets(*buf + n, (int)(*cap - n), f))
			break;
		*got = true;
		n += strlen(*buf + n);
		if (n > 0 && (*buf)[n - 1] == '\n') {
			n--;
			break;
		}
	}
	if (ferror(f))
		return CS_ERR_IO;
	(*buf)[n] = '\0';
	*len = n;
	return CS_OK;
}

static enum cs_err export_read_one(const char *dir, const char *name,
				   enum cs_err (*fn)(void *, const struct json_read_val *,
						     struct cs_diag *),
				   void *ctx, struct cs_diag *d)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "cannot open: %s", strerror(errno));
		return CS_ERR_IO;
	}
	char *buf = NULL;
	size_t cap = 0, len = 0;
	uint64_t line = 0;
	bool got = true;
	enum cs_err e = CS_OK;
	while (e == CS_OK) {
		e = export_read_line(f, &buf, &cap, &len, &got);
		if (e != CS_OK) {
			cs_diag_set(d, path, line + 1, CS_DIAG_NONE, "%s",
				    e == CS_ERR_LIMIT ? "record line too long" : "read failed");
			break;
		}
		if (!got)
			break;
		line++;
		if (len == 0)
			continue;
		struct json_read_val *v = NULL;
		e = json_read_parse(buf, len, &v, d);
		if (e == CS_OK && v->type != JSON_READ_OBJ)
			e = CS_ERR_PARSE;
		/* An event (a rule reload) is evidence of the run, not of a match. */
		if (e == CS_OK && !json_read_get(v, "event"))
			e = fn(ctx, v, d);
		else if (e != CS_OK)
			cs_diag_set(d, path, line, CS_DIAG_NONE, "not a JSON record");
		json_read_free(v);
	}
	free(buf);
	fclose(f);
	return e;
}

static int export_read_is_rotated(const struct dirent *de)
{
	const char *s = de->d_name;
	if (strncmp(s, "records-", 8) != 0)
		return 0;
	size_t k = 8;
	while (s[k] >= '0' && s[k] <= '9')
		k++;
	return k > 8 && strcmp(s + k, ".ndjson") == 0;
}

enum cs_err export_read_records(const char *dir,
				enum cs_err (*fn)(void *ctx, const struct json_read_val *rec,
						  struct cs_diag *d),
				void *ctx, struct cs_diag *d)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, export_read_is_rotated, alphasort);
	if (n < 0) {
		cs_diag_set(d, dir, CS_DIAG_NONE, CS_DIAG_NONE, "cannot list: %s", strerror(errno));
		return CS_ERR_IO;
	}
	enum cs_err e = CS_OK;
	if ((unsigned)n > EXPORT_MAX_FILES) {
		cs_diag_set(d, dir, CS_DIAG_NONE, CS_DIAG_NONE, "more than %u records files",
			    EXPORT_MAX_FILES);
		e = CS_ERR_LIMIT;
	} else if (n == 0) {
		e = export_read_one(dir, "records.ndjson", fn, ctx, d);
	}
	for (int i = 0; i < n && e == CS_OK; i++)
		e = export_read_one(dir, names[i]->d_name, fn, ctx, d);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return e;
}
