/* The HTML report of an evidence folder (include/cybersieve/report.h).
 * The folder is verified with ev_verify_run, the manifest and summary are read
 * as JSON, and the records are read once: counted per category, indicator and
 * time, re-chained so the row where the chain breaks is marked, and the first
 * rows rendered into a memory stream that is copied into the page after the
 * charts. Every text from the folder goes through html_text(), which leaves no
 * markup character and no invalid UTF-8. Owner: one struct rep per call. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "cybersieve/chain.h"
#include "cybersieve/json_read.h"
#include "cybersieve/report.h"
#include "cybersieve/util.h"
#include "cybersieve/verify.h"

#define REPORT_MAX_JSON (256u << 20)       /* manifest or summary */
#define REPORT_MAX_LINE (64u << 20)        /* as verify: far above any record */
#define REPORT_MAX_CHECKS 2000u            /* verify lines kept */
#define REPORT_MAX_CATS 64u
#define REPORT_MAX_INDICATORS (1u << 20)   /* distinct indicators counted */
#define REPORT_MAX_TIMES (16u << 20)       /* records placed on the time chart */
#define REPORT_MAX_ROW_BYTES (64u << 20)   /* rendered rows */
#define REPORT_CELL_CAP 512u               /* bytes of one value shown in a cell */
#define REPORT_TEXT_CAP 4096u              /* bytes of one run attribute shown */
#define REPORT_TIME_BINS 120
#define REPORT_TOP 10

struct rep_cat {
	char name[64];
	char *legal;
	uint64_t n;
};

struct rep_ind {
	char *key;       /* pack name, 0x1f, id: the table key */
	char *id, *type, *value, *category;
	uint64_t n;
};

struct rep {
	const struct ev_report_opts *o;
	struct ev_report_result *res;
	char **checks;               /* verify's lines, "+" or "-" in front */
	size_t n_checks;
	uint64_t checks_dropped;
	struct json_read_val *manifest, *summary;
	char run_id[128];
	int tlp_rank;                /* highest TLP of packs and records, -1 none */
	struct rep_cat cats[REPORT_MAX_CATS];
	size_t n_cats;
	uint64_t cat_other;
	struct rep_ind *inds;        /* open addressing, ind_cap a power of two */
	size_t ind_cap, ind_n;
	uint64_t ind_other;
	int64_t *times;              /* seconds since the epoch, one per record */
	size_t n_times, times_cap;
	uint64_t times_dropped, t_packet, t_detected;
	FILE *rows;                  /* memory stream of rendered rows */
	char *rows_buf;
	size_t rows_len;
	uint64_t rows_omitted;
	bool broken;                 /* the chain of some records file broke */
	char break_file[64];
	uint64_t break_line, break_seq;
};

/* ---- escaping ---------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 when invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t len = p[0] < 0x80 ? 1 : (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3
		   : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
	if (len == 0 || len > n)
		return 0;
	uint32_t cp = len == 1 ? p[0] : p[0] & (0x7F >> len);
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3F);
	}
	static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

/* The code point of a valid sequence of len bytes when it is a bidirectional
 * control (which could make text read in another order than it is), else 0. */
static uint32_t bidi_control(const unsigned char *p, size_t len)
{
	if (len == 2 && p[0] == 0xD8 && p[1] == 0x9C)
		return 0x061C;
	if (len != 3 || p[0] != 0xE2)
		return 0;
	uint32_t cp = 0x2000u | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
	bool bidi = (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
		    cp == 0x200E || cp == 0x200F;
	return bidi ? cp : 0;
}

/* s[0..n) as HTML text, safe in element content and quoted attributes alike:
 * markup characters become references, control characters and bidirectional
 * controls visible escapes (\n, \r, \t, \xNN, \uNNNN), invalid UTF-8 U+FFFD.
 * Past cap bytes, an ellipsis and the count of bytes left out. */
static void html_text(FILE *f, const char *s, size_t n, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		if (i >= cap) {
			fprintf(f, "\xE2\x80\xA6 (%zu more bytes)", n - i);
			return;
		}
		unsigned char c = p[i];
		size_t len = utf8_seq(p + i, n - i);
		if (len == 0) {
			fputs("\xEF\xBF\xBD", f);
			i++;
			continue;
		}
		if (c == '&')
			fputs("&amp;", f);
		else if (c == '<')
			fputs("&lt;", f);
		else if (c == '>')
			fputs("&gt;", f);
		else if (c == '"')
			fputs("&quot;", f);
		else if (c == '\'')
			fputs("&#39;", f);
		else if (c == '\n' || c == '\r' || c == '\t')
			fputs(c == '\n' ? "\\n" : c == '\r' ? "\\r" : "\\t", f);
		else if (c < 0x20 || c == 0x7F)
			fprintf(f, "\\x%02X", c);
		else if (bidi_control(p + i, len))
			fprintf(f, "\\u%04X", (unsigned)bidi_control(p + i, len));
		else
			fwrite(p + i, 1, len, f);
		i += len;
	}
}

static void html_str(FILE *f, const char *s, size_t cap)
{
	if (s)
		html_text(f, s, strlen(s), cap);
}

/* ---- JSON helpers ------------------------------------------------------ */

static const struct json_read_val *jget(const struct json_read_val *o, const char *key)
{
	return o && o->type == JSON_READ_OBJ ? json_read_get(o, key) : NULL;
}

static const char *jstr(const struct json_read_val *o, const char *key)
{
	return o && o->type == JSON_READ_OBJ ? json_read_str(o, key) : NULL;
}

/* A string value of o written as HTML (its whole length: it may hold NUL);
 * `dash` when absent. */
static void put_jtext(FILE *f, const struct json_read_val *o, const char *key, size_t cap,
		      const char *dash)
{
	const struct json_read_val *v = jget(o, key);
	if (v && v->type == JSON_READ_STR)
		html_text(f, v->str, v->len, cap);
	else if (v && v->type == JSON_READ_NUM)
		fprintf(f, "%.0f", v->num);
	else if (dash)
		fputs(dash, f);
}

static bool ju64(const struct json_read_val *o, const char *key, uint64_t *out)
{
	return o && o->type == JSON_READ_OBJ && json_read_u64(o, key, out);
}

static const struct json_read_val *jarr(const struct json_read_val *o, const char *key)
{
	const struct json_read_val *a = jget(o, key);
	return a && a->type == JSON_READ_ARR ? a : NULL;
}

static struct json_read_val *read_json(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	struct json_read_val *v = NULL;
	char *buf = NULL;
	long size = fseek(fp, 0, SEEK_END) == 0 ? ftell(fp) : -1;
	if (size >= 0 && (uint64_t)size <= REPORT_MAX_JSON && fseek(fp, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)size + 1)) && fread(buf, 1, (size_t)size, fp) == (size_t)size)
		json_read_parse(buf, (size_t)size, &v, NULL);
	free(buf);
	fclose(fp);
	return v;
}

/* ---- TLP and time ------------------------------------------------------ */

static int tlp_rank(const char *t)
{
	static const char *const names[] = {"clear", "green", "amber", "amber+strict", "red"};
	for (int i = 0; t && i < 5; i++)
		if (strcasecmp(t, names[i]) == 0)
			return i;
	if (t && strcasecmp(t, "white") == 0)
		return 0;
	return -1;
}

/* TLP 2.0: the label's colour on a black background. */
static const char *tlp_color(int rank)
{
	static const char *const colors[] = {"#FFFFFF", "#33FF00", "#FFC000", "#FFC000",
					     "#FF2B2B"};
	return rank >= 0 && rank < 5 ? colors[rank] : "#FFFFFF";
}

static void put_tlp(FILE *f, const char *tlp)
{
	int rank = tlp_rank(tlp);
	if (rank < 0) {
		html_str(f, tlp ? tlp : "none", 64);
		return;
	}
	static const char *const upper[] = {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"};
	fprintf(f, "<span class=\"tlp\" style=\"color:%s\">TLP:%s</span>", tlp_color(rank),
		upper[rank]);
}

/* Seconds since the epoch of an RFC 3339 UTC time; false when it is not one. */
static bool parse_time(const char *s, int64_t *out)
{
	struct tm tm = {0};
	char t;
	if (!s || sscanf(s, "%4d-%2d-%2d%c%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &t,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 7 || (t != 'T' && t != ' '))
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (int64_t)timegm(&tm);
	return true;
}

/* A bar's time, as fine as its step needs. */
static void fmt_time(int64_t t, int64_t step, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;
	const char *fmt = step < 60 ? "%Y-%m-%d %H:%M:%S" : step < 86400 ? "%Y-%m-%d %H:%M"
			: "%Y-%m-%d";
	if (!gmtime_r(&tt, &tm) || !strftime(out, cap, fmt, &tm))
		snprintf(out, cap, "?");
}

/* ---- what the records add up to ---------------------------------------- */

static void rep_on_check(void *ctx, bool ok, const char *text)
{
	struct rep *r = ctx;
	if (!ok && r->res->first_failure[0] == '\0')
		snprintf(r->res->first_failure, sizeof(r->res->first_failure), "%s", text);
	char *line = NULL;
	if (r->n_checks >= REPORT_MAX_CHECKS || asprintf(&line, "%c%s", ok ? '+' : '-', text) < 0) {
		r->checks_dropped++;
		return;
	}
	r->checks[r->n_checks++] = line;
}

static void rep_add_category(struct rep *r, const char *cat, const char *legal)
{
	if (!cat)
		cat = "(none)";
	for (size_t i = 0; i < r->n_cats; i++) {
		if (strcmp(r->cats[i].name, cat) == 0) {
			r->cats[i].n++;
			if (!r->cats[i].legal && legal)
				r->cats[i].legal = strndup(legal, REPORT_TEXT_CAP);
			return;
		}
	}
	if (r->n_cats == REPORT_MAX_CATS || strlen(cat) >= sizeof(r->cats[0].name)) {
		r->cat_other++;
		return;
	}
	struct rep_cat *c = &r->cats[r->n_cats++];
	snprintf(c->name, sizeof(c->name), "%s", cat);
	c->legal = legal ? strndup(legal, REPORT_TEXT_CAP) : NULL;
	c->n = 1;
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static bool ind_grow(struct rep *r)
{
	size_t cap = r->ind_cap ? r->ind_cap * 2 : 1024;
	struct rep_ind *t = calloc(cap, sizeof(*t));
	if (!t)
		return false;
	for (size_t i = 0; i < r->ind_cap; i++) {
		if (!r->inds[i].key)
			continue;
		size_t j = fnv1a(r->inds[i].key) & (cap - 1);
		while (t[j].key)
			j = (j + 1) & (cap - 1);
		t[j] = r->inds[i];
	}
	free(r->inds);
	r->inds = t;
	r->ind_cap = cap;
	return true;
}

static void rep_add_indicator(struct rep *r, const struct json_read_val *ind)
{
	const char *id = jstr(ind, "id"), *pack = jstr(jget(ind, "pack"), "name");
	char *key = NULL;
	if (!id || asprintf(&key, "%s\x1f%s", pack ? pack : "", id) < 0) {
		r->ind_other++;
		return;
	}
	if (r->ind_n * 2 >= r->ind_cap && (r->ind_n >= REPORT_MAX_INDICATORS || !ind_grow(r))) {
		r->ind_other++;
		free(key);
		return;
	}
	size_t j = fnv1a(key) & (r->ind_cap - 1);
	while (r->inds[j].key && strcmp(r->inds[j].key, key) != 0)
		j = (j + 1) & (r->ind_cap - 1);
	struct rep_ind *e = &r->inds[j];
	if (e->key) {
		e->n++;
		free(key);
		return;
	}
	const char *type = jstr(ind, "type"), *value = jstr(ind, "value");
	const char *cat = jstr(ind, "category");
	e->key = key;
	e->id = strndup(id, REPORT_CELL_CAP);
	e->type = strdup(type ? type : "");
	e->value = strndup(value ? value : "", REPORT_CELL_CAP);
	e->category = strndup(cat ? cat : "", 64);
	e->n = 1;
	r->ind_n++;
}

/* When the record happened: the packet's time where there is one, else when
 * it was detected. */
static const char *rec_time(const struct json_read_val *rec, bool *packet)
{
	const char *t = jstr(jget(rec, "source"), "ts_first");
	*packet = t != NULL;
	return t ? t : jstr(rec, "time_detected");
}

static void rep_add_time(struct rep *r, const struct json_read_val *rec)
{
	bool packet;
	int64_t t;
	if (!parse_time(rec_time(rec, &packet), &t))
		return;
	if (r->n_times == r->times_cap) {
		size_t cap = r->times_cap ? r->times_cap * 2 : 4096;
		int64_t *nt = cap <= REPORT_MAX_TIMES ? realloc(r->times, cap * sizeof(*nt)) : NULL;
		if (!nt) {
			r->times_dropped++;
			return;
		}
		r->times = nt;
		r->times_cap = cap;
	}
	r->times[r->n_times++] = t;
	if (packet)
		r->t_packet++;
	else
		r->t_detected++;
}

/* ---- one row of the records table --------------------------------------- */

static void cell_location(FILE *f, const struct json_read_val *src)
{
	const char *kind = jstr(src, "kind");
	uint64_t a, b;
	if (kind && strcmp(kind, "live") == 0) {
		fputs("interface ", f);
		put_jtext(f, src, "interface", REPORT_CELL_CAP, "?");
	} else {
		put_jtext(f, src, "path", REPORT_CELL_CAP, "?");
	}
	if (ju64(src, "line", &a))
		fprintf(f, ":%llu", (unsigned long long)a);
	if (ju64(src, "packet_first", &a) && ju64(src, "packet_last", &b)) {
		if (a == b)
			fprintf(f, " packet %llu", (unsigned long long)a);
		else
			fprintf(f, " packets %llu\xE2\x80\x93%llu", (unsigned long long)a,
				(unsigned long long)b);
	}
	const struct json_read_val *gz = jget(src, "gzip");
	if (gz && gz->type == JSON_READ_BOOL && gz->b)
		fputs(" (gzip)", f);
}

static void put_endpoint(FILE *f, const struct json_read_val *flow, const char *ip,
			 const char *port)
{
	const char *a = jstr(flow, ip);
	bool v6 = a && strchr(a, ':');
	fputs(v6 ? "[" : "", f);
	put_jtext(f, flow, ip, 64, "?");
	fputs(v6 ? "]:" : ":", f);
	put_jtext(f, flow, port, 16, "?");
}

static void cell_flow(FILE *f, const struct json_read_val *flow)
{
	if (!flow || flow->type != JSON_READ_OBJ)
		return;
	put_endpoint(f, flow, "src_ip", "src_port");
	fputs(" \xE2\x86\x92 ", f);
	put_endpoint(f, flow, "dest_ip", "dest_port");
	fputc(' ', f);
	put_jtext(f, flow, "proto", 16, "");
	const char *dir = jstr(flow, "direction");
	if (dir) {
		fputs(" (", f);
		html_str(f, dir, 32);
		fputc(')', f);
	}
}

static void cell_match(FILE *f, const struct json_read_val *m)
{
	const struct json_read_val *w = jget(m, "content_withheld");
	if (w && w->type == JSON_READ_BOOL && w->b) {
		fputs("<span class=\"withheld\">content withheld</span>", f);
		return;
	}
	const struct json_read_val *ctx = jget(m, "context");
	fputs("<span class=\"ctx\">", f);
	put_jtext(f, ctx, "before", REPORT_CELL_CAP, "");
	fputs("</span><mark>", f);
	put_jtext(f, m, "text", REPORT_CELL_CAP, "");
	fputs("</mark><span class=\"ctx\">", f);
	put_jtext(f, ctx, "after", REPORT_CELL_CAP, "");
	fputs("</span>", f);
}

/* mark: 0 verified so far, 1 the chain breaks at this record, 2 after a break. */
static void rep_row(struct rep *r, const struct json_read_val *rec, const char *file,
		    uint64_t line, int mark)
{
	FILE *f = r->rows;
	const struct json_read_val *ind = jget(rec, "indicator"), *src = jget(rec, "source");
	static const char *const cls[] = {"", " class=\"broken\"", " class=\"unverified\""};
	bool packet;
	fprintf(f, "<tr%s><td class=\"seq\" title=\"%s line %llu\">", cls[mark], file,
		(unsigned long long)line);
	put_jtext(f, rec, "seq", 32, "?");
	if (mark == 1)
		fprintf(f, " <div class=\"bad\">chain breaks here (%s line %llu)</div>", file,
			(unsigned long long)line);
	fputs("</td><td>", f);
	html_str(f, rec_time(rec, &packet), 64);
	fputs("</td><td>", f);
	put_jtext(f, ind, "category", 64, "");
	fputs("</td><td>", f);
	put_jtext(f, ind, "id", REPORT_CELL_CAP, "");
	fputs("</td><td>", f);
	put_jtext(f, ind, "type", 32, "");
	fputs("</td><td class=\"val\">", f);
	put_jtext(f, ind, "value", REPORT_CELL_CAP, "");
	fputs("</td><td class=\"loc\">", f);
	cell_location(f, src);
	fputs("</td><td class=\"flow\">", f);
	cell_flow(f, jget(rec, "flow"));
	fputs("</td><td class=\"field\">", f);
	put_jtext(f, rec, "field", 64, "");
	fputs("</td><td class=\"match\">", f);
	cell_match(f, jget(rec, "match"));
	fputs("</td></tr>\n", f);
	r->res->rows++;
}

/* ---- reading the records files ----------------------------------------- */

static int records_filter(const struct dirent *de)
{
	const char *n = de->d_name;
	size_t l = strlen(n);
	if (strcmp(n, "records.ndjson") == 0)
		return 1;
	if (l != 21 || strncmp(n, "records-", 8) != 0 || strcmp(n + 14, ".ndjson") != 0)
		return 0;
	for (size_t i = 8; i < 14; i++)
		if (n[i] < '0' || n[i] > '9')
			return 0;
	return 1;
}

/* The chain state of one records file while it is read. */
struct rep_chain {
	const char *name;
	uint8_t head[32];
	bool have_genesis;
	bool broken;
};

static int chain_step(struct rep *r, struct rep_chain *c, const char *line, size_t n,
		      const struct json_read_val *rec, uint64_t lineno)
{
	uint8_t prev[32];
	if (c->broken)
		return 2;
	if (!c->have_genesis) {
		/* Without a manifest the run id comes from the first record, as in verify. */
		const char *rid = r->run_id[0] ? r->run_id : jstr(rec, "run_id");
		ev_chain_genesis(rid ? rid : "", c->name, c->head);
		c->have_genesis = true;
	}
	if (!ev_chain_prev(line, n, prev) || memcmp(prev, c->head, 32) != 0 || !rec) {
		c->broken = true;
		if (!r->broken) {
			uint64_t seq = 0;
			ju64(rec, "seq", &seq);
			r->broken = true;
			snprintf(r->break_file, sizeof(r->break_file), "%s", c->name);
			r->break_line = lineno;
			r->break_seq = seq;
		}
		return 1;
	}
	ev_chain_hash(line, n, c->head);
	return 0;
}

static void rep_line(struct rep *r, struct rep_chain *c, const char *line, size_t n,
		     uint64_t lineno)
{
	struct json_read_val *rec = NULL;
	size_t body = n && line[n - 1] == '\n' ? n - 1 : n;
	if (n > REPORT_MAX_LINE || json_read_parse(line, body, &rec, NULL) != CS_OK ||
	    rec->type != JSON_READ_OBJ) {
		json_read_free(rec);
		rec = NULL;
	}
	int mark = chain_step(r, c, line, n, rec, lineno);
	if (!rec) {
		r->res->unreadable++;
		return;
	}
	if (jget(rec, "event")) {
		/* A rule reload: part of the chain (checked above), not a match. */
		json_read_free(rec);
		return;
	}
	const struct json_read_val *ind = jget(rec, "indicator");
	r->res->records++;
	rep_add_category(r, jstr(ind, "category"), jstr(rec, "legal"));
	rep_add_indicator(r, ind);
	rep_add_time(r, rec);
	int rank = tlp_rank(jstr(rec, "tlp"));
	if (rank > r->tlp_rank)
		r->tlp_rank = rank;
	if (r->res->rows < r->o->max_rows && ftell(r->rows) < (long)REPORT_MAX_ROW_BYTES)
		rep_row(r, rec, c->name, lineno, mark);
	else
		r->rows_omitted++;
	json_read_free(rec);
}

static enum cs_err rep_read_file(struct rep *r, const char *dir, const char *name,
				 struct cs_diag *d)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "cannot open: %s", strerror(errno));
		return CS_ERR_IO;
	}
	struct rep_chain c = {.name = name};
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t lineno = 0;
	while ((n = getline(&line, &cap, fp)) > 0)
		rep_line(r, &c, line, (size_t)n, ++lineno);
	enum cs_err err = ferror(fp) ? CS_ERR_IO : CS_OK;
	if (err != CS_OK)
		cs_diag_set(d, path, lineno + 1, CS_DIAG_NONE, "read failed");
	free(line);
	fclose(fp);
	return err;
}

static enum cs_err rep_read_records(struct rep *r, const char *dir, struct cs_diag *d)
{
	struct dirent **list = NULL;
	int n = scandir(dir, &list, records_filter, alphasort);
	if (n < 0) {
		cs_diag_set(d, dir, CS_DIAG_NONE, CS_DIAG_NONE, "cannot list: %s", strerror(errno));
		return CS_ERR_IO;
	}
	enum cs_err err = CS_OK;
	for (int i = 0; i < n; i++) {
		if (err == CS_OK)
			err = rep_read_file(r, dir, list[i]->d_name, d);
		free(list[i]);
	}
	free(list);
	return err;
}

/* ---- the page ---------------------------------------------------------- */

/* Sorting and filtering of the records table. The page's policy allows this
 * script by its SHA-256 alone, so no other script can run even if some text
 * escaped its escaping. */
static const char REPORT_SCRIPT[] =
	"(function(){var t=document.getElementById('records');if(!t)return;"
	"var b=t.tBodies[0],q=document.getElementById('filter'),h=t.tHead.rows[0].cells;"
	"q.addEventListener('input',function(){var s=q.value.toLowerCase(),n=0;"
	"for(var i=0;i<b.rows.length;i++){var r=b.rows[i],m=r.textContent.toLowerCase()"
	".indexOf(s)>=0;r.hidden=!m;if(m)n++;}"
	"document.getElementById('shown').textContent=n;});"
	"Array.prototype.forEach.call(h,function(th,c){th.addEventListener('click',function(){"
	"var d=th.getAttribute('data-dir')==='a'?-1:1,num=th.className==='num';"
	"th.setAttribute('data-dir',d>0?'a':'d');"
	"var rs=Array.prototype.slice.call(b.rows);rs.sort(function(x,y){"
	"var p=x.cells[c].textContent,s=y.cells[c].textContent;"
	"return d*(num?parseFloat(p)-parseFloat(s):p.localeCompare(s));});"
	"rs.forEach(function(r){b.appendChild(r);});});});"
	"document.body.setAttribute('data-script','ran');})();";

static const char REPORT_STYLE[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:0 2em 2em;color:#111}"
	".tlpbar{background:#000;padding:.4em 1em;margin:0 -2em 1em;font:bold 18px monospace}"
	".tlp{background:#000;padding:0 .3em;font-family:monospace;font-weight:bold}"
	"h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;margin-top:1.6em}"
	".verdict{padding:.8em 1em;border-radius:4px;font-size:16px}"
	".verified{background:#e3f6e3;border:2px solid #2a8a2a}"
	".tampered{background:#fde4e4;border:2px solid #c00}"
	".unsealed{background:#fff3d6;border:2px solid #c80}"
	".verdict b{font-size:20px;text-transform:uppercase}"
	"table{border-collapse:collapse;margin:.5em 0}"
	"td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top;text-align:left}"
	"th{background:#eee}#records th{cursor:pointer}"
	"td.num{text-align:right;white-space:nowrap}td.seq{text-align:right}"
	"td.seq .bad{font-size:12px;min-width:9em}#records td{font-size:13px}"
	".mono,.val,.loc{font-family:monospace;word-break:break-all}"
	".match{font-family:monospace;word-break:break-all;min-width:24em;max-width:40em}"
	"#records .loc{min-width:14em}"
	".ctx{color:#666}mark{background:#ffe066}"
	".withheld{color:#606;font-style:italic}"
	".bad,.fail{color:#c00;font-weight:bold}tr.broken{background:#fde4e4}"
	"tr.unverified{background:#fff3d6}.ok{color:#2a8a2a}"
	".st-complete{color:#2a8a2a}.st-partial{color:#c80}.st-failed{color:#c00}"
	".note{color:#555;font-style:italic}svg text{font:12px sans-serif}"
	"ol.checks{font-family:monospace;font-size:12px}";

static void script_hash(char out[64])
{
	unsigned char md[32];
	unsigned int len = 0;
	EVP_Digest(REPORT_SCRIPT, sizeof(REPORT_SCRIPT) - 1, md, &len, EVP_sha256(), NULL);
	EVP_EncodeBlock((unsigned char *)out, md, 32);
}

static void render_head(FILE *f, const struct rep *r)
{
	char hash[64];
	script_hash(hash);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n", f);
	fprintf(f, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		"style-src 'unsafe-inline'; img-src data:; script-src 'sha256-%s'; "
		"base-uri 'none'; form-action 'none'\">\n", hash);
	fputs("<meta name=\"referrer\" content=\"no-referrer\">\n", f);
	fputs("<title>cybersieve evidence report: run ", f);
	html_str(f, r->run_id[0] ? r->run_id : "unknown", 128);
	fprintf(f, "</title>\n<style>%s</style></head>\n<body>\n", REPORT_STYLE);
	if (r->tlp_rank >= 0) {
		fputs("<div class=\"tlpbar\" id=\"tlp\">", f);
		static const char *const names[] = {"clear", "green", "amber", "amber+strict", "red"};
		put_tlp(f, names[r->tlp_rank]);
		fputs(" <span style=\"color:#fff;font-weight:normal;font-size:13px\">highest "
		      "marking of the packs and records in this evidence</span></div>\n", f);
	}
	fputs("<h1>cybersieve evidence report</h1>\n", f);
}

static void render_verdict(FILE *f, const struct rep *r)
{
	static const char *const cls[] = {"verified", "tampered", "unsealed"};
	static const char *const say[] = {
		("every check passed: the records, their hash chain, the manifest and its "
		 "signature agree"),
		"the evidence does not match its signed manifest",
		"no manifest: the run did not finish; only the records' chain can be checked"};
	enum ev_report_verdict v = r->res->verdict;
	fprintf(f, "<div id=\"verdict\" class=\"verdict %s\"><b id=\"verdict-word\">%s</b> "
		"\xE2\x80\x94 %s", cls[v], cls[v], say[v]);
	if (v != EV_REPORT_VERIFIED) {
		const char *ff = r->res->first_failure;
		fputs("<p id=\"first-failure\" class=\"fail\">first failure: ", f);
		html_str(f, strncmp(ff, "FAIL: ", 6) == 0 ? ff + 6 : ff, REPORT_TEXT_CAP);
		fputs("</p>", f);
	}
	if (r->broken)
		fprintf(f, "<p class=\"fail\">the hash chain breaks at %s line %llu (seq %llu); "
			"a change in that record or the one before it breaks this link; the row and the "
			"ones after it in that file are marked below</p>",
			r->break_file, (unsigned long long)r->break_line,
			(unsigned long long)r->break_seq);
	fputs("</div>\n<details><summary>all checks</summary><ol class=\"checks\">", f);
	for (size_t i = 0; i < r->n_checks; i++) {
		fprintf(f, "<li class=\"%s\">", r->checks[i][0] == '+' ? "ok" : "fail");
		html_str(f, r->checks[i] + 1, REPORT_TEXT_CAP);
		fputs("</li>", f);
	}
	if (r->checks_dropped)
		fprintf(f, "<li>%llu more lines not shown</li>", (unsigned long long)r->checks_dropped);
	fputs("</ol></details>\n", f);
}

static void kv_row(FILE *f, const char *label, const struct json_read_val *o, const char *key)
{
	fprintf(f, "<tr><th>%s</th><td class=\"mono\">", label);
	put_jtext(f, o, key, REPORT_TEXT_CAP, "\xE2\x80\x94");
	fputs("</td></tr>\n", f);
}

static void render_run(FILE *f, const struct rep *r)
{
	const struct json_read_val *m = r->manifest, *s = r->summary;
	const struct json_read_val *src = m ? m : s, *tool = jget(src, "tool");
	const struct json_read_val *key = jget(m, "key"), *c = jget(m, "complete");
	fputs("<h2>Run</h2>\n<table id=\"run\">\n", f);
	fputs("<tr><th>run id</th><td class=\"mono\">", f);
	html_str(f, r->run_id[0] ? r->run_id : "\xE2\x80\x94", 128);
	fputs("</td></tr>\n", f);
	kv_row(f, "operator", m, "operator");
	kv_row(f, "sensor id", m, "sensor_id");
	kv_row(f, "host", m, "host");
	kv_row(f, "started (UTC)", src, "started");
	kv_row(f, "finished (UTC)", src, "finished");
	fputs("<tr><th>tool</th><td>", f);
	put_jtext(f, tool, "name", 64, "?");
	fputc(' ', f);
	put_jtext(f, tool, "version", 64, "");
	fputs("</td></tr>\n", f);
	kv_row(f, "command line", src, "command_line");
	fputs("<tr><th>signing key</th><td class=\"mono\">", f);
	put_jtext(f, key, "algorithm", 32, "\xE2\x80\x94");
	fputs(", SHA-256 fingerprint ", f);
	put_jtext(f, key, "fingerprint_sha256", 64, "\xE2\x80\x94");
	fputs("</td></tr>\n<tr><th>complete</th><td>", f);
	fputs(!m ? "no manifest" : c && c->type == JSON_READ_BOOL && c->b ? "yes"
	      : "no: the run stopped early", f);
	fprintf(f, "</td></tr>\n<tr><th>records read</th><td>%llu",
		(unsigned long long)r->res->records);
	if (r->res->unreadable)
		fprintf(f, " <span class=\"bad\">(%llu lines are not records)</span>",
			(unsigned long long)r->res->unreadable);
	fputs("</td></tr>\n</table>\n", f);
	if (!m)
		fputs("<p class=\"note\">No manifest.json could be read: what is shown comes from "
		      "summary.json and the records, which nothing signed vouches for.</p>\n", f);
}

/* The summary's matches for an input path, or -1. */
static int64_t input_matches(const struct rep *r, const char *path)
{
	const struct json_read_val *in = jarr(r->summary, "inputs");
	for (size_t i = 0; path && in && i < in->n; i++) {
		const char *p = jstr(&in->items[i], "path");
		uint64_t n;
		if (p && strcmp(p, path) == 0 && ju64(&in->items[i], "matches", &n))
			return (int64_t)n;
	}
	return -1;
}

static void render_inputs(FILE *f, const struct rep *r)
{
	const struct json_read_val *in = jarr(r->manifest, "inputs");
	if (!in)
		in = jarr(r->summary, "inputs");
	fputs("<h2>Inputs</h2>\n<table id=\"inputs\"><thead><tr><th>path</th><th>status</th>"
	      "<th>reason</th><th>size</th><th>matches</th><th>SHA-256</th></tr></thead><tbody>\n", f);
	for (size_t i = 0; in && i < in->n; i++) {
		const struct json_read_val *e = &in->items[i];
		const char *st = jstr(e, "status");
		fputs("<tr><td class=\"mono\">", f);
		put_jtext(f, e, "path", REPORT_CELL_CAP, "?");
		bool known = st && (!strcmp(st, "complete") || !strcmp(st, "partial") ||
				    !strcmp(st, "failed"));
		fprintf(f, "</td><td class=\"st-%s\">", known ? st : "other");
		html_str(f, st ? st : "?", 32);
		fputs("</td><td>", f);
		put_jtext(f, e, "reason", REPORT_CELL_CAP, "");
		fputs("</td><td class=\"num\">", f);
		put_jtext(f, e, "size", 32, "");
		int64_t n = input_matches(r, jstr(e, "path"));
		fputs("</td><td class=\"num\">", f);
		if (n >= 0)
			fprintf(f, "%lld", (long long)n);
		fputs("</td><td class=\"mono\">", f);
		put_jtext(f, e, "sha256", 64, "");
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
}

static void render_packs(FILE *f, const struct rep *r)
{
	const struct json_read_val *p = jarr(r->manifest, "packs");
	if (!p)
		p = jarr(r->summary, "packs");
	fputs("<h2>Indicator packs</h2>\n<table id=\"packs\"><thead><tr><th>name</th>"
	      "<th>category</th><th>TLP</th><th>indicators</th><th>SHA-256</th><th>path</th>"
	      "</tr></thead><tbody>\n", f);
	for (size_t i = 0; p && i < p->n; i++) {
		const struct json_read_val *e = &p->items[i];
		fputs("<tr><td>", f);
		put_jtext(f, e, "name", REPORT_CELL_CAP, "?");
		fputs("</td><td>", f);
		put_jtext(f, e, "category", 64, "");
		fputs("</td><td>", f);
		put_tlp(f, jstr(e, "tlp"));
		fputs("</td><td class=\"num\">", f);
		put_jtext(f, e, "indicators", 32, "");
		fputs("</td><td class=\"mono\">", f);
		put_jtext(f, e, "sha256", 64, "");
		fputs("</td><td class=\"mono\">", f);
		put_jtext(f, e, "path", REPORT_CELL_CAP, "");
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
}

/* A horizontal bar chart: n bars of label[i] and value[i]. */
static void svg_hbars(FILE *f, const char *id, const char *const *label, const uint64_t *value,
		      size_t n)
{
	uint64_t max = 1;
	for (size_t i = 0; i < n; i++)
		max = value[i] > max ? value[i] : max;
	unsigned h = 24 * (unsigned)n + 10;
	fprintf(f, "<svg id=\"%s\" width=\"820\" height=\"%u\" viewBox=\"0 0 820 %u\" role=\"img\">",
		id, h, h);
	for (size_t i = 0; i < n; i++) {
		unsigned y = 5 + 24 * (unsigned)i;
		double w = 480.0 * (double)value[i] / (double)max;
		fprintf(f, "<text x=\"255\" y=\"%u\" text-anchor=\"end\">", y + 15);
		html_text(f, label[i], strlen(label[i]), 40);
		fprintf(f, "</text><rect x=\"260\" y=\"%u\" width=\"%.1f\" height=\"18\" "
			"fill=\"#3b6fb6\"><title>", y, w < 1 ? 1 : w);
		html_text(f, label[i], strlen(label[i]), REPORT_CELL_CAP);
		fprintf(f, ": %llu</title></rect><text x=\"%.1f\" y=\"%u\">%llu</text>",
			(unsigned long long)value[i], 266 + w, y + 15, (unsigned long long)value[i]);
	}
	fputs("</svg>\n", f);
}

static int cmp_cat(const void *a, const void *b)
{
	const struct rep_cat *x = a, *y = b;
	return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->name, y->name);
}

static void render_categories(FILE *f, struct rep *r)
{
	const char *label[REPORT_MAX_CATS];
	uint64_t value[REPORT_MAX_CATS];
	const struct json_read_val *by = jget(jget(r->manifest, "counts"), "by_category");
	qsort(r->cats, r->n_cats, sizeof(r->cats[0]), cmp_cat);
	fputs("<h2>Matches per category</h2>\n<table id=\"categories\"><thead><tr><th>category"
	      "</th><th>records</th><th>in the manifest</th><th>legal heading</th></tr></thead>"
	      "<tbody>\n", f);
	for (size_t i = 0; i < r->n_cats; i++) {
		const struct rep_cat *c = &r->cats[i];
		fputs("<tr><td class=\"cat\">", f);
		html_str(f, c->name, 64);
		fprintf(f, "</td><td class=\"num\">%llu</td><td class=\"num\">",
			(unsigned long long)c->n);
		put_jtext(f, by, c->name, 32, "\xE2\x80\x94");
		fputs("</td><td>", f);
		html_str(f, c->legal ? c->legal : "\xE2\x80\x94", REPORT_TEXT_CAP);
		fputs("</td></tr>\n", f);
		label[i] = c->name;
		value[i] = c->n;
	}
	fputs("</tbody></table>\n", f);
	if (r->cat_other)
		fprintf(f, "<p class=\"note\">%llu records of further categories are not listed.</p>\n",
			(unsigned long long)r->cat_other);
	if (r->n_cats)
		svg_hbars(f, "chart-categories", label, value, r->n_cats);
}

static const struct {
	int64_t s;
	const char *name;
} time_steps[] = {
	{1, "second"}, {10, "10 seconds"}, {60, "minute"}, {600, "10 minutes"},
	{3600, "hour"}, {6 * 3600, "6 hours"}, {86400, "day"}, {7 * 86400, "week"},
	{30 * 86400, "30 days"}, {365 * 86400, "365 days"},
};

/* The smallest step of the list that puts [lo, hi] into at most
 * REPORT_TIME_BINS bars (index into time_steps, or -1: a step of its own). */
static int time_step(int64_t lo, int64_t hi, int64_t *step)
{
	for (size_t i = 0; i < sizeof(time_steps) / sizeof(time_steps[0]); i++) {
		if ((hi / time_steps[i].s) - (lo / time_steps[i].s) < REPORT_TIME_BINS) {
			*step = time_steps[i].s;
			return (int)i;
		}
	}
	*step = (hi - lo) / REPORT_TIME_BINS + 1;
	return -1;
}

static void svg_timeline(FILE *f, const uint64_t *bin, size_t nb, int64_t t0, int64_t step)
{
	uint64_t max = 1;
	char a[40], b[40];
	for (size_t i = 0; i < nb; i++)
		max = bin[i] > max ? bin[i] : max;
	double bw = 760.0 / (double)nb;
	fputs("<svg id=\"chart-time\" width=\"820\" height=\"230\" viewBox=\"0 0 820 230\" "
	      "role=\"img\"><line x1=\"50\" y1=\"190\" x2=\"815\" y2=\"190\" stroke=\"#999\"/>", f);
	fprintf(f, "<text x=\"45\" y=\"20\" text-anchor=\"end\">%llu</text>"
		"<text x=\"45\" y=\"190\" text-anchor=\"end\">0</text>", (unsigned long long)max);
	/* Few bars stay narrow, so that one bar does not read as a wall. */
	double barw = bw > 2 ? bw - 1 : bw;
	barw = barw > 40 ? 40 : barw;
	for (size_t i = 0; i < nb; i++) {
		double h = 170.0 * (double)bin[i] / (double)max;
		fmt_time(t0 + (int64_t)i * step, step, a, sizeof(a));
		fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
			"fill=\"#3b6fb6\"><title>%s: %llu</title></rect>",
			52 + bw * (double)i + (bw - barw) / 2, 190 - h, barw, h, a,
			(unsigned long long)bin[i]);
	}
	fmt_time(t0, step, a, sizeof(a));
	fmt_time(t0 + (int64_t)nb * step, step, b, sizeof(b));
	fprintf(f, "<text x=\"52\" y=\"210\">%s</text><text x=\"812\" y=\"210\" "
		"text-anchor=\"end\">%s</text>", a, b);
	fputs("</svg>\n", f);
}

static void render_timeline(FILE *f, const struct rep *r)
{
	fputs("<h2>Matches over time</h2>\n", f);
	if (r->n_times == 0) {
		fputs("<p class=\"note\">No record carries a time.</p>\n", f);
		return;
	}
	int64_t lo = r->times[0], hi = r->times[0];
	for (size_t i = 1; i < r->n_times; i++) {
		lo = r->times[i] < lo ? r->times[i] : lo;
		hi = r->times[i] > hi ? r->times[i] : hi;
	}
	int64_t step;
	int k = time_step(lo, hi, &step);
	int64_t t0 = lo - ((lo % step) + step) % step;
	size_t nb = (size_t)((hi - t0) / step) + 1;
	uint64_t *bin = calloc(nb, sizeof(*bin));
	if (!bin) {
		fputs("<p class=\"note\">Not enough memory for the time chart.</p>\n", f);
		return;
	}
	for (size_t i = 0; i < r->n_times; i++)
		bin[(r->times[i] - t0) / step]++;
	if (k >= 0)
		fprintf(f, "<p id=\"time-step\">Records per %s (UTC)", time_steps[k].name);
	else
		fprintf(f, "<p id=\"time-step\">Records per %lld seconds (UTC)", (long long)step);
	fprintf(f, ", by packet time for %llu records and by time of detection for %llu.</p>\n",
		(unsigned long long)r->t_packet, (unsigned long long)r->t_detected);
	svg_timeline(f, bin, nb, t0, step);
	if (r->times_dropped)
		fprintf(f, "<p class=\"note\">%llu records are not on the chart (its cap).</p>\n",
			(unsigned long long)r->times_dropped);
	free(bin);
}

static int cmp_ind(const void *a, const void *b)
{
	const struct rep_ind *x = *(const struct rep_ind *const *)a;
	const struct rep_ind *y = *(const struct rep_ind *const *)b;
	return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->key, y->key);
}

static void render_top(FILE *f, const struct rep *r)
{
	struct rep_ind **all = r->ind_n ? malloc(r->ind_n * sizeof(*all)) : NULL;
	size_t n = 0;
	for (size_t i = 0; all && i < r->ind_cap; i++)
		if (r->inds[i].key)
			all[n++] = &r->inds[i];
	if (n)
		qsort(all, n, sizeof(*all), cmp_ind);
	n = n < REPORT_TOP ? n : REPORT_TOP;
	const char *label[REPORT_TOP];
	uint64_t value[REPORT_TOP];
	fputs("<h2>Top indicators</h2>\n<table id=\"top\"><thead><tr><th>#</th><th>id</th>"
	      "<th>type</th><th>value</th><th>category</th><th>records</th></tr></thead><tbody>\n", f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "<tr><td class=\"num\">%zu</td><td class=\"ind-id\">", i + 1);
		html_str(f, all[i]->id, REPORT_CELL_CAP);
		fputs("</td><td>", f);
		html_str(f, all[i]->type, 32);
		fputs("</td><td class=\"val\">", f);
		html_str(f, all[i]->value, REPORT_CELL_CAP);
		fputs("</td><td>", f);
		html_str(f, all[i]->category, 64);
		fprintf(f, "</td><td class=\"num\">%llu</td></tr>\n", (unsigned long long)all[i]->n);
		label[i] = all[i]->id;
		value[i] = all[i]->n;
	}
	fputs("</tbody></table>\n", f);
	if (n)
		svg_hbars(f, "chart-top", label, value, n);
	if (r->ind_other)
		fprintf(f, "<p class=\"note\">%llu records are not counted per indicator (its cap, "
			"or no id).</p>\n", (unsigned long long)r->ind_other);
	free(all);
}

static void render_records(FILE *f, const struct rep *r)
{
	fputs("<h2>Records</h2>\n", f);
	fprintf(f, "<p><label>filter <input id=\"filter\" type=\"search\"></label> "
		"<span id=\"shown\">%llu</span> of %llu rows shown; click a heading to sort. "
		"Records of category csam carry no content, only hashes and locations.</p>\n",
		(unsigned long long)r->res->rows, (unsigned long long)r->res->rows);
	if (r->rows_omitted)
		fprintf(f, "<p class=\"note\" id=\"rows-capped\">The table shows the first %llu of "
			"%llu records; %llu are not shown (records.ndjson holds them all).</p>\n",
			(unsigned long long)r->res->rows, (unsigned long long)r->res->records,
			(unsigned long long)r->rows_omitted);
	fputs("<table id=\"records\"><thead><tr><th class=\"num\">seq</th><th>time (UTC)</th>"
	      "<th>category</th><th>indicator</th><th>type</th><th>value</th><th>where</th>"
	      "<th>flow</th><th>field</th><th>match</th></tr></thead><tbody>\n", f);
	fwrite(r->rows_buf, 1, r->rows_len, f);
	fputs("</tbody></table>\n", f);
}

static void render_tail(FILE *f, const struct rep *r)
{
	char now[40];
	if (r->o->generated) {
		snprintf(now, sizeof(now), "%s", r->o->generated);
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		util_rfc3339(&ts, now, sizeof(now));
	}
	fprintf(f, "<p class=\"note\">Generated by cybersieve %s at ", CS_VERSION);
	html_str(f, now, 40);
	fprintf(f, ". This page loads nothing from the network. summary.json is not signed; "
		"the manifest and the records are.</p>\n<script>%s</script>\n</body></html>\n",
		REPORT_SCRIPT);
}

/* ---- entry ------------------------------------------------------------- */

static void rep_free(struct rep *r)
{
	for (size_t i = 0; i < r->n_checks; i++)
		free(r->checks[i]);
	free(r->checks);
	for (size_t i = 0; i < r->n_cats; i++)
		free(r->cats[i].legal);
	for (size_t i = 0; i < r->ind_cap; i++) {
		struct rep_ind *e = &r->inds[i];
		free(e->key);
		free(e->id);
		free(e->type);
		free(e->value);
		free(e->category);
	}
	free(r->inds);
	free(r->times);
	if (r->rows)
		fclose(r->rows);
	free(r->rows_buf);
	json_read_free(r->manifest);
	json_read_free(r->summary);
	free(r);
}

static void rep_packs_tlp(struct rep *r)
{
	const struct json_read_val *p = jarr(r->manifest, "packs");
	if (!p)
		p = jarr(r->summary, "packs");
	for (size_t i = 0; p && i < p->n; i++) {
		int rank = tlp_rank(jstr(&p->items[i], "tlp"));
		r->tlp_rank = rank > r->tlp_rank ? rank : r->tlp_rank;
	}
}

static enum cs_err rep_verify(struct rep *r, const char *dir, struct cs_diag *d)
{
	struct ev_verify_opts vo = {.pubkey_path = r->o->pubkey_path, .on_line = rep_on_check,
				    .ctx = r};
	bool ok = false;
	char path[4096];
	enum cs_err err = ev_verify_run(dir, &vo, &ok, d);
	if (err != CS_OK)
		return err;
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	FILE *m = fopen(path, "rb");
	r->res->verdict = ok ? EV_REPORT_VERIFIED : m ? EV_REPORT_TAMPERED : EV_REPORT_UNSEALED;
	if (m)
		fclose(m);
	r->manifest = read_json(dir, "manifest.json");
	r->summary = read_json(dir, "summary.json");
	const char *rid = jstr(r->manifest, "run_id");
	snprintf(r->run_id, sizeof(r->run_id), "%s", rid ? rid : "");
	return CS_OK;
}

static void rep_render(FILE *f, struct rep *r)
{
	if (!r->run_id[0]) {
		const char *rid = jstr(r->summary, "run_id");
		snprintf(r->run_id, sizeof(r->run_id), "%s", rid ? rid : "");
	}
	rep_packs_tlp(r);
	render_head(f, r);
	render_verdict(f, r);
	render_run(f, r);
	render_inputs(f, r);
	render_packs(f, r);
	render_categories(f, r);
	render_timeline(f, r);
	render_top(f, r);
	render_records(f, r);
	render_tail(f, r);
}

enum cs_err ev_report_html_write(const char *dir, FILE *out, const struct ev_report_opts *o,
				 struct ev_report_result *res, struct cs_diag *d)
{
	struct ev_report_opts opts = *o;
	if (opts.max_rows == 0)
		opts.max_rows = EV_REPORT_DEFAULT_ROWS;
	if (opts.max_rows > EV_REPORT_MAX_ROWS)
		opts.max_rows = EV_REPORT_MAX_ROWS;
	memset(res, 0, sizeof(*res));
	struct rep *r = calloc(1, sizeof(*r));
	enum cs_err err = CS_ERR_NOMEM;
	if (!r || !(r->checks = calloc(REPORT_MAX_CHECKS, sizeof(char *))))
		goto out;
	r->o = &opts;
	r->res = res;
	r->tlp_rank = -1;
	if (!(r->rows = open_memstream(&r->rows_buf, &r->rows_len)))
		goto out;
	if ((err = rep_verify(r, dir, d)) != CS_OK || (err = rep_read_records(r, dir, d)) != CS_OK)
		goto out;
	if (fflush(r->rows) != 0) {
		err = CS_ERR_NOMEM;
		goto out;
	}
	rep_render(out, r);
	if (fflush(out) != 0 || ferror(out)) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "writing the report failed: %s",
			    strerror(errno));
		err = CS_ERR_IO;
	}
out:
	if (r)
		rep_free(r);
	return err;
}
