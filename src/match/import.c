/* Importers, common part: recognise a feed's format from its content, read
 * the file, build the pack shell (name, category, handling, digest of the
 * file's bytes) and dispatch to the importer of the format. Also the helpers
 * all importers share (import_int.h). No state outside a call. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cybersieve/util.h"
#include "match/import_int.h"

#define IMPORT_FILE_MAX ((size_t)1 << 30)
#define IMPORT_SNIFF 4096 /* bytes looked at to recognise a format */

static const char *const format_names[IMPORT_FORMAT_COUNT] = {
	[IMPORT_AUTO] = "auto",       [IMPORT_NATIVE] = "pack",   [IMPORT_PLAIN] = "plain list",
	[IMPORT_ZEEK] = "Zeek intel", [IMPORT_STIX] = "STIX 2.1", [IMPORT_MISP_JSON] = "MISP JSON",
	[IMPORT_MISP_CSV] = "MISP CSV", [IMPORT_CSV] = "CSV list",
	[IMPORT_SURICATA] = "Suricata dataset", [IMPORT_HASHLIST] = "hash list",
};

const char *import_format_name(enum import_format f)
{
	return (unsigned)f < IMPORT_FORMAT_COUNT ? format_names[f] : "unknown";
}

static bool starts(const char *s, size_t n, const char *pfx)
{
	size_t l = strlen(pfx);
	return n >= l && memcmp(s, pfx, l) == 0;
}

/* Does the JSON text s[0..n) open with '{' followed (after blanks) by the
 * member name key? Enough to tell a bundle or an event apart without parsing. */
static bool json_has_key_near(const char *s, size_t n, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i + kl <= n; i++)
		if (memcmp(s + i, key, kl) == 0)
			return true;
	return false;
}

static bool hashlist_line(const char *s, size_t n)
{
	size_t h = 0;
	while (h < n && import_is_hex(s + h, 1))
		h++;
	if (h != 32 && h != 40 && h != 64 && h != 128)
		return false;
	if (h == n)
		return true;
	/* md5sum: "<hex>  name" (text mode) or "<hex> *name" (binary mode) */
	return n > h + 2 && s[h] == ' ' && (s[h + 1] == ' ' || s[h + 1] == '*');
}

enum import_format import_detect(const char *buf, size_t len)
{
	size_t n = len < IMPORT_SNIFF ? len : IMPORT_SNIFF;
	size_t i = 0;
	if (n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < n && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	const char *s = buf + i;
	n -= i;
	if (n && (*s == '{' || *s == '[')) {
		if (json_has_key_near(s, n, "\"Event\""))
			return IMPORT_MISP_JSON;
		if (json_has_key_near(s, n, "\"bundle\""))
			return IMPORT_STIX;
	}
	if (starts(s, n, "#fields\tindicator\t") || starts(s, n, "#separator"))
		return IMPORT_ZEEK;
	if (starts(s, n, "uuid,event_id,category,type,value") ||
	    starts(s, n, "\"uuid\",\"event_id\",\"category\",\"type\",\"value\""))
		return IMPORT_MISP_CSV;
	/* First non-comment line decides between a hash list, a CSV list and
	 * a plain list; native packs are told apart by their '@' headers. A
	 * plain list's "# type:" header naming anything but a hash type
	 * settles it first: a list of literals may well open with a hex string. */
	size_t pos = 0;
	const char *l;
	size_t ll;
	while (import_next_line(s, n, &pos, &l, &ll)) {
		if (ll > 0 && l[0] == '#') {
			/* a hash type there leaves md5sum's "<hex>  name" lines, which
			 * only the hash-list reader takes, to the first value */
			const char *k, *v;
			size_t kn, vn;
			enum ind_type t;
			if (import_comment_kv(l, ll, &k, &kn, &v, &vn) && kn == 4 &&
			    memcmp(k, "type", 4) == 0 &&
			    (!ind_type_parse(v, vn, &t) ||
			     (t != IND_MD5 && t != IND_SHA1 && t != IND_SHA256)))
				return IMPORT_PLAIN;
			continue;
		}
		if (ll == 0)
			continue;
		if (l[0] == '@')
			return IMPORT_NATIVE;
		if (hashlist_line(l, ll))
			return IMPORT_HASHLIST;
		if (memchr(l, ',', ll) && (starts(l, ll, "\"host\"") || starts(l, ll, "host,") ||
					   starts(l, ll, "\"url\"") || starts(l, ll, "url,")))
			return IMPORT_CSV;
		break;
	}
	return IMPORT_PLAIN;
}

static const struct {
	const char *name;
	enum import_format f;
	enum import_dataset ds;
} spec_prefixes[] = {
	{"zeek", IMPORT_ZEEK, IMPORT_DS_NONE},
	{"stix", IMPORT_STIX, IMPORT_DS_NONE},
	{"misp", IMPORT_MISP_JSON, IMPORT_DS_NONE},
	{"misp-json", IMPORT_MISP_JSON, IMPORT_DS_NONE},
	{"misp-csv", IMPORT_MISP_CSV, IMPORT_DS_NONE},
	{"csv", IMPORT_CSV, IMPORT_DS_NONE},
	{"hashes", IMPORT_HASHLIST, IMPORT_DS_NONE},
	{"plain", IMPORT_PLAIN, IMPORT_DS_NONE},
	{"suricata-md5", IMPORT_SURICATA, IMPORT_DS_MD5},
	{"suricata-sha256", IMPORT_SURICATA, IMPORT_DS_SHA256},
	{"suricata-string", IMPORT_SURICATA, IMPORT_DS_STRING},
	{"suricata-ipv4", IMPORT_SURICATA, IMPORT_DS_IPV4},
	{"suricata-ip", IMPORT_SURICATA, IMPORT_DS_IP},
};

bool import_spec_parse(const char *spec, struct import_opts *o, const char **path)
{
	const char *colon = spec ? strchr(spec, ':') : NULL;
	if (!colon || colon == spec || !colon[1])
		return false;
	size_t pl = (size_t)(colon - spec);
	for (size_t i = 0; i < sizeof(spec_prefixes) / sizeof(spec_prefixes[0]); i++) {
		if (strlen(spec_prefixes[i].name) == pl &&
		    memcmp(spec_prefixes[i].name, spec, pl) == 0) {
			o->format = spec_prefixes[i].f;
			o->dataset = spec_prefixes[i].ds;
			*path = colon + 1;
			return true;
		}
	}
	enum ind_type t;
	if (!ind_type_parse(spec, pl, &t))
		return false;
	o->format = IMPORT_PLAIN;
	o->has_type = true;
	o->type = t;
	*path = colon + 1;
	return true;
}

bool import_type_by_name(const char *name, enum ind_type *t)
{
	return ind_type_parse(name, strlen(name), t);
}

enum cs_err import_set_str(char **field, const char *s, size_t len)
{
	char *v = malloc(len + 1);
	if (!v)
		return CS_ERR_NOMEM;
	memcpy(v, s, len);
	v[len] = '\0';
	free(*field);
	*field = v;
	return CS_OK;
}

bool import_next_line(const char *buf, size_t len, size_t *pos, const char **s, size_t *n)
{
	if (*pos >= len)
		return false;
	const char *b = buf + *pos;
	const char *nl = memchr(b, '\n', len - *pos);
	size_t l = nl ? (size_t)(nl - b) : len - *pos;
	*pos += l + (nl ? 1 : 0);
	while (l > 0 && b[l - 1] == '\r')
		l--;
	*s = b;
	*n = l;
	return true;
}

int import_csv_split(const char *s, size_t n, char *scratch, size_t cap, const char **f,
		     size_t *fl, int max)
{
	size_t i = 0, o = 0;
	int k = 0;
	while (k < max) {
		size_t start = o;
		if (i < n && s[i] == '"') {
			for (i++; i < n; i++) {
				if (s[i] == '"' && i + 1 < n && s[i + 1] == '"')
					i++;
				else if (s[i] == '"')
					break;
				if (o >= cap)
					return -1;
				scratch[o++] = s[i];
			}
			i++; /* closing quote */
			while (i < n && s[i] != ',')
				i++;
		} else {
			for (; i < n && s[i] != ','; i++) {
				if (o >= cap)
					return -1;
				scratch[o++] = s[i];
			}
		}
		f[k] = scratch + start;
		fl[k] = o - start;
		k++;
		if (i >= n)
			break;
		i++; /* the comma */
	}
	return k;
}

bool import_is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return n > 0;
}

bool import_hash_type(const char *s, size_t n, enum ind_type *t)
{
	if (!import_is_hex(s, n))
		return false;
	if (n == 32)
		*t = IND_MD5;
	else if (n == 40)
		*t = IND_SHA1;
	else if (n == 64)
		*t = IND_SHA256;
	else
		return false;
	return true;
}

/* An IPv4 or IPv6 address, optionally with a /prefix: the shape only; the
 * ip type's own check decides. */
static bool looks_ip(const char *s, size_t n)
{
	const char *slash = memchr(s, '/', n);
	size_t an = slash ? (size_t)(slash - s) : n;
	size_t dots = 0, colons = 0;
	bool digits_only = true;
	for (size_t i = 0; i < an; i++) {
		if (s[i] == '.')
			dots++;
		else if (s[i] == ':')
			colons++;
		else if (!import_is_hex(s + i, 1))
			return false;
		else if (s[i] < '0' || s[i] > '9')
			digits_only = false;
	}
	return (dots == 3 && colons == 0 && digits_only) || colons >= 2;
}

bool import_guess_type(const char *s, size_t n, enum ind_type *t, const char **name)
{
	*name = NULL;
	if (import_hash_type(s, n, t))
		return true;
	for (size_t i = 0; i + 3 <= n; i++)
		if (memcmp(s + i, "://", 3) == 0) {
			*t = IND_URL;
			return true;
		}
	if (memchr(s, '@', n)) {
		*t = IND_EMAIL;
		return true;
	}
	if (looks_ip(s, n)) {
		*name = "ip";
		return import_type_by_name("ip", t);
	}
	*t = IND_DOMAIN;
	return true;
}

static struct import_note *note_slot(struct import_report *r, const char *reason)
{
	for (size_t i = 0; i < r->n_notes; i++)
		if (strcmp(r->notes[i].reason, reason) == 0)
			return &r->notes[i];
	if (r->n_notes == IMPORT_NOTES_MAX)
		return NULL;
	struct import_note *nt = &r->notes[r->n_notes++];
	memset(nt, 0, sizeof(*nt));
	snprintf(nt->reason, sizeof(nt->reason), "%s", reason);
	return nt;
}

void import_note(struct import_ctx *c, enum import_kind kind, const char *reason,
		 const char *id)
{
	struct import_report *r = c->rep;
	if (kind == IMPORT_K_UNSUPPORTED)
		r->n_unsupported++;
	else if (kind == IMPORT_K_INVALID)
		r->n_invalid++;
	else
		r->n_ignored++;
	struct import_note *nt = note_slot(r, reason);
	if (!nt) {
		r->n_other++;
		return;
	}
	nt->count++;
	if (id && nt->n_ids < IMPORT_NOTE_IDS)
		snprintf(nt->ids[nt->n_ids++], sizeof(nt->ids[0]), "%s", id);
}

enum cs_err import_add(struct import_ctx *c, const char *id, enum ind_type t, unsigned flags,
		       const char *value, size_t len, uint32_t line, const char *what)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	enum cs_err e = pack_add(c->p, id, t, flags, value, len, line, &d);
	if (e == CS_OK) {
		c->rep->n_imported++;
		return CS_OK;
	}
	if (e != CS_ERR_PARSE) {
		if (c->d)
			*c->d = d;
		return e;
	}
	char reason[112];
	snprintf(reason, sizeof(reason), "%s invalid (%s value refused)", what, ind_type_name(t));
	import_note(c, IMPORT_K_INVALID, reason, id);
	return CS_OK;
}

void import_note_format(const struct import_report *rep, size_t i, const char *label, char *out,
			size_t cap)
{
	if (!cap)
		return;
	out[0] = '\0';
	if (!rep || i >= rep->n_notes)
		return;
	const struct import_note *nt = &rep->notes[i];
	int k = snprintf(out, cap, "%s: %zu %s", label, nt->count, nt->reason);
	for (size_t j = 0; j < nt->n_ids && k >= 0 && (size_t)k < cap; j++)
		k += snprintf(out + k, cap - (size_t)k, "%s%s", j ? ", " : ": ", nt->ids[j]);
	if (k >= 0 && (size_t)k < cap && nt->count > nt->n_ids)
		snprintf(out + k, cap - (size_t)k, ", ...");
}

/* A pack name from the file name: its base name without the extension, with
 * characters outside [A-Za-z0-9._-] replaced, at most 64 bytes. */
static enum cs_err set_name(struct pack *p, const char *label)
{
	const char *b = strrchr(label, '/');
	b = b ? b + 1 : label;
	size_t n = strlen(b);
	const char *dot = strrchr(b, '.');
	if (dot && dot != b)
		n = (size_t)(dot - b);
	if (n == 0) {
		b = "imported";
		n = strlen(b);
	}
	if (n > 64)
		n = 64;
	char name[65];
	for (size_t i = 0; i < n; i++) {
		char c = b[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
		name[i] = ok ? c : '_';
	}
	return import_set_str(&p->name, name, n);
}

static enum cs_err make_pack(const char *label, const struct import_opts *o,
			     enum import_format f, struct pack **out)
{
	struct pack *p = NULL;
	enum cs_err e = pack_create_adhoc(label, &p);
	char src[160];
	snprintf(src, sizeof(src), "imported from a %s file", import_format_name(f));
	const char *cat = o->category ? o->category : "imported";
	const char *tlp = o->tlp ? o->tlp : "clear";
	if (!e)
		e = set_name(p, label);
	if (!e)
		e = import_set_str(&p->category, cat, strlen(cat));
	if (!e)
		e = import_set_str(&p->tlp, tlp, strlen(tlp));
	if (!e)
		e = import_set_str(&p->source, src, strlen(src));
	if (!e)
		e = import_set_str(&p->licence, "NOASSERTION", strlen("NOASSERTION"));
	if (e) {
		pack_destroy(p);
		return e;
	}
	*out = p;
	return CS_OK;
}

static void digest_bytes(const char *buf, size_t len, uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
		  EVP_DigestUpdate(ctx, buf, len) && EVP_DigestFinal_ex(ctx, out, NULL);
	if (!ok)
		memset(out, 0, 32);
	EVP_MD_CTX_free(ctx);
}

static enum cs_err dispatch(struct import_ctx *c, enum import_format f, const char *buf,
			    size_t len)
{
	switch (f) {
	case IMPORT_ZEEK: return import_zeek(c, buf, len);
	case IMPORT_STIX: return import_stix(c, buf, len);
	case IMPORT_MISP_JSON: return import_misp_json(c, buf, len);
	case IMPORT_MISP_CSV: return import_misp_csv(c, buf, len);
	case IMPORT_CSV: return import_csv(c, buf, len);
	case IMPORT_SURICATA: return import_suricata(c, buf, len);
	case IMPORT_HASHLIST: return import_hashlist(c, buf, len);
	case IMPORT_PLAIN: return import_plain(c, buf, len);
	default: break;
	}
	cs_diag_set(c->d, c->p->path, CS_DIAG_NONE, CS_DIAG_NONE,
		    "a native pack, not a feed to import");
	return CS_ERR_INVALID;
}

enum cs_err import_parse(const char *label, const char *buf, size_t len,
			 const struct import_opts *o, struct pack **out, struct import_report *rep,
			 struct cs_diag *d)
{
	static const struct import_opts none;
	struct import_report local;
	if (!label || (!buf && len) || !out)
		return CS_ERR_INVALID;
	*out = NULL;
	if (!o)
		o = &none;
	if (!rep)
		rep = &local;
	memset(rep, 0, sizeof(*rep));
	enum import_format f = o->format == IMPORT_AUTO ? import_detect(buf, len) : o->format;
	rep->format = f;
	struct import_ctx c = {.o = o, .rep = rep, .d = d, .category_set = o->category != NULL,
			       .tlp_set = o->tlp != NULL};
	enum cs_err e = make_pack(label, o, f, &c.p);
	if (e)
		return e;
	e = dispatch(&c, f, buf, len);
	if (e) {
		pack_destroy(c.p);
		return e;
	}
	digest_bytes(buf, len, c.p->digest);
	c.p->format = import_format_name(f);
	c.p->refused = rep->n_invalid + rep->n_unsupported;
	*out = c.p;
	return CS_OK;
}

enum cs_err import_file(const char *path, const struct import_opts *o, struct pack **out,
			struct import_report *rep, struct cs_diag *d)
{
	char *buf = NULL;
	size_t len = 0;
	if (!path || !out)
		return CS_ERR_INVALID;
	*out = NULL;
	enum cs_err e = util_read_file(path, IMPORT_FILE_MAX, "feed", &buf, &len, d);
	if (e)
		return e;
	e = import_parse(path, buf, len, o, out, rep, d);
	free(buf);
	return e;
}
