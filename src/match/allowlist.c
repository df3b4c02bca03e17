/* Allow-lists in the MISP warninglist format (include/cybersieve/allowlist.h).
 * Each list keeps its entries lower-cased in a sorted array (string and
 * hostname lists, bsearch), parsed prefixes (cidr), or compiled expressions
 * (regex). Built at start-up, read-only afterwards. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cybersieve/allowlist.h"
#include "cybersieve/util.h"
#include "cybersieve/json_read.h"

#define AL_FILE_MAX ((size_t)256 << 20)
#define AL_LISTS_MAX 4096
#define AL_VALUE_MAX 2048 /* longer values are never allowed (and never copied) */

enum al_type { AL_STRING, AL_HOSTNAME, AL_CIDR, AL_SUBSTRING, AL_REGEX };

enum {
	AL_K_DOMAIN = 1u << 0,
	AL_K_URL = 1u << 1,
	AL_K_EMAIL = 1u << 2,
	AL_K_HASH = 1u << 3,
	AL_K_IP = 1u << 4,
	AL_K_OTHER = 1u << 5,
	AL_K_ALL = 0x3fu,
};

struct al_cidr {
	uint8_t addr[16];
	int fam; /* AF_INET or AF_INET6 */
	unsigned bits;
};

struct al_list {
	char *name;
	enum al_type type;
	unsigned kinds;
	char **entries; /* string, hostname, substring: lower-cased; sorted for bsearch */
	size_t n;
	struct al_cidr *cidrs;
	regex_t *re;
};

struct allowlist {
	struct al_list *lists;
	size_t n, cap;
};

enum cs_err allowlist_create(struct allowlist **out)
{
	if (!out)
		return CS_ERR_INVALID;
	*out = calloc(1, sizeof(**out));
	return *out ? CS_OK : CS_ERR_NOMEM;
}

static void list_fini(struct al_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->entries)
			free(l->entries[i]);
		if (l->re)
			regfree(&l->re[i]);
	}
	free(l->entries);
	free(l->cidrs);
	free(l->re);
	free(l->name);
}

void allowlist_destroy(struct allowlist *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		list_fini(&a->lists[i]);
	free(a->lists);
	free(a);
}

size_t allowlist_count(const struct allowlist *a)
{
	return a ? a->n : 0;
}

static unsigned attr_kind(const char *s)
{
	static const struct {
		const char *attr;
		unsigned k;
	} map[] = {
		{"domain", AL_K_DOMAIN}, {"hostname", AL_K_DOMAIN},
		{"domain|ip", AL_K_DOMAIN | AL_K_IP}, {"url", AL_K_URL}, {"uri", AL_K_URL},
		{"link", AL_K_URL}, {"email", AL_K_EMAIL}, {"email-src", AL_K_EMAIL},
		{"email-dst", AL_K_EMAIL}, {"ip-src", AL_K_IP}, {"ip-dst", AL_K_IP},
		{"ip-src|port", AL_K_IP}, {"ip-dst|port", AL_K_IP},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].attr, s) == 0)
			return map[i].k;
	if (strstr(s, "md5") || strstr(s, "sha1") || strstr(s, "sha256"))
		return AL_K_HASH;
	return AL_K_OTHER;
}

static unsigned query_kind(const char *kind)
{
	if (strcmp(kind, "domain") == 0)
		return AL_K_DOMAIN;
	if (strcmp(kind, "url") == 0)
		return AL_K_URL;
	if (strcmp(kind, "email") == 0)
		return AL_K_EMAIL;
	if (strcmp(kind, "md5") == 0 || strcmp(kind, "sha1") == 0 || strcmp(kind, "sha256") == 0)
		return AL_K_HASH;
	if (strcmp(kind, "ip") == 0 || strcmp(kind, "cidr") == 0)
		return AL_K_IP;
	return AL_K_OTHER;
}

static bool parse_type(const char *t, enum al_type *out)
{
	static const char *const names[] = {"string", "hostname", "cidr", "substring", "regex"};
	for (int i = 0; i < 5; i++)
		if (t && strcmp(t, names[i]) == 0) {
			*out = (enum al_type)i;
			return true;
		}
	return false;
}

/* "a.b.c.d[/n]" or "x:y::z[/n]" -> prefix; false when not an address. */
static bool cidr_parse(const char *s, size_t n, struct al_cidr *c)
{
	char buf[64];
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->fam = AF_INET;
		c->bits = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->fam = AF_INET6;
		c->bits = 128;
	} else {
		return false;
	}
	if (slash) {
		char *end;
		unsigned long b = strtoul(slash + 1, &end, 10);
		if (*end || end == slash + 1 || b > c->bits)
			return false;
		c->bits = (unsigned)b;
	}
	return true;
}

static bool cidr_contains(const struct al_cidr *net, const struct al_cidr *ip)
{
	if (net->fam != ip->fam)
		return false;
	unsigned full = net->bits / 8, rem = net->bits % 8;
	if (memcmp(net->addr, ip->addr, full) != 0)
		return false;
	if (!rem)
		return true;
	uint8_t mask = (uint8_t)(0xFF << (8 - rem));
	return (net->addr[full] & mask) == (ip->addr[full] & mask);
}

static char *lower_dup(const char *s, size_t n)
{
	char *o = malloc(n + 1);
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++)
		o[i] = (char)tolower((unsigned char)s[i]);
	o[n] = '\0';
	return o;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One entry of the JSON "list" into l (n is advanced on success). */

static enum cs_err add_entry(struct al_list *l, const char *s, size_t n, size_t *skipped)
{
	if (l->type == AL_CIDR) {
		if (!cidr_parse(s, n, &l->cidrs[l->n]))
			goto skip;
		l->n++;
		return CS_OK;
	}
	if (l->type == AL_REGEX) {
		char *pat = lower_dup(s, n);
		if (!pat)
			return CS_ERR_NOMEM;
		char *p = pat;
		int flags = REG_EXTENDED | REG_NOSUB;
		char *last = strrchr(p, '/');
		if (p[0] == '/' && last && last != p) {
			if (strchr(last + 1, 'i'))
				flags |= REG_ICASE;
			*last = '\0';
			p++;
		}
		if (!util_regex_tame(p)) {
			free(pat);
			goto skip;
		}
		int rc = regcomp(&l->re[l->n], p, flags);
		free(pat);
		if (rc != 0)
			goto skip;
		l->n++;
		return CS_OK;
	}
	/* Hostname lists cover subdomains of every entry, so a leading "." or
	 * "*." adds nothing there. In string lists ".name" means "name and its
	 * subdomains" and is kept as written for has_dotted(). */
	bool dotted = false;
	while (n > 0 && (*s == '.' || *s == '*')) {
		dotted = true;
		s++;
		n--;
	}
	while (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0)
		goto skip;
	if (dotted && l->type == AL_STRING) {
		s--;
		n++;
	}
	l->entries[l->n] = lower_dup(s, n);
	if (!l->entries[l->n])
		return CS_ERR_NOMEM;
	l->entries[l->n][0] = dotted && l->type == AL_STRING ? '.' : l->entries[l->n][0];
	l->n++;
	return CS_OK;
skip:
	if (skipped)
		++*skipped;
	return CS_OK;
}

static enum cs_err list_build(struct al_list *l, const struct json_read_val *root,
			      size_t *skipped, struct cs_diag *d, const char *label)
{
	const struct json_read_val *list = json_read_get(root, "list");
	const struct json_read_val *ma = json_read_get(root, "matching_attributes");
	const char *name = json_read_str(root, "name");
	if (!parse_type(json_read_str(root, "type"), &l->type) || !list ||
	    list->type != JSON_READ_ARR) {
		cs_diag_set(d, label, CS_DIAG_NONE, CS_DIAG_NONE,
			    "warninglist: needs \"type\" (string, hostname, cidr, substring, "
			    "regex) and a \"list\" array");
		return CS_ERR_PARSE;
	}
	l->name = strdup(name ? name : label);
	if (!l->name)
		return CS_ERR_NOMEM;
	for (size_t i = 0; ma && ma->type == JSON_READ_ARR && i < ma->n; i++)
		if (ma->items[i].type == JSON_READ_STR)
			l->kinds |= attr_kind(ma->items[i].str);
	if (!l->kinds)
		l->kinds = AL_K_ALL;
	size_t cap = list->n ? list->n : 1;
	if (l->type == AL_CIDR)
		l->cidrs = calloc(cap, sizeof(*l->cidrs));
	else if (l->type == AL_REGEX)
		l->re = calloc(cap, sizeof(*l->re));
	else
		l->entries = calloc(cap, sizeof(*l->entries));
	if (!l->cidrs && !l->re && !l->entries)
		return CS_ERR_NOMEM;
	for (size_t i = 0; i < list->n; i++) {
		const struct json_read_val *v = &list->items[i];
		if (v->type != JSON_READ_STR) {
			if (skipped)
				++*skipped;
			continue;
		}
		enum cs_err e = add_entry(l, v->str, v->len, skipped);
		if (e)
			return e;
	}
	if (l->entries)
		qsort(l->entries, l->n, sizeof(*l->entries), cmp_entry);
	return CS_OK;
}

enum cs_err allowlist_load_buf(struct allowlist *a, const char *label, const char *buf,
			       size_t len, size_t *skipped, struct cs_diag *d)
{
	struct json_read_val *root = NULL;
	if (!a || !label || (!buf && len))
		return CS_ERR_INVALID;
	if (a->n == AL_LISTS_MAX) {
		cs_diag_set(d, label, CS_DIAG_NONE, CS_DIAG_NONE, "more than %d allow-lists",
			    AL_LISTS_MAX);
		return CS_ERR_LIMIT;
	}
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		struct al_list *v = realloc(a->lists, cap * sizeof(*v));
		if (!v)
			return CS_ERR_NOMEM;
		a->lists = v;
		a->cap = cap;
	}
	enum cs_err e = json_read_parse(buf, len, &root, d);
	if (e) {
		if (d && !d->file[0])
			snprintf(d->file, sizeof(d->file), "%s", label);
		return e;
	}
	struct al_list *l = &a->lists[a->n];
	memset(l, 0, sizeof(*l));
	e = list_build(l, root, skipped, d, label);
	json_read_free(root);
	if (e) {
		list_fini(l);
		return e;
	}
	a->n++;
	return CS_OK;
}

enum cs_err allowlist_load_file(struct allowlist *a, const char *path, size_t *skipped,
				struct cs_diag *d)
{
	if (!a || !path)
		return CS_ERR_INVALID;
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "%s", strerror(errno));
		if (d)
			d->sys_errno = errno;
		return CS_ERR_IO;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	enum cs_err e = CS_OK;
	for (;;) {
		if (len == cap) {
			if (cap >= AL_FILE_MAX) {
				cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE,
					    "allow-list larger than %zu bytes", AL_FILE_MAX);
				e = CS_ERR_LIMIT;
				goto out;
			}
			cap = cap ? cap * 2 : 65536;
			char *nb = realloc(buf, cap);
			if (!nb) {
				e = CS_ERR_NOMEM;
				goto out;
			}
			buf = nb;
		}
		size_t r = fread(buf + len, 1, cap - len, fp);
		len += r;
		if (r == 0)
			break;
	}
	if (ferror(fp)) {
		cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "read error");
		e = CS_ERR_IO;
		goto out;
	}
	e = allowlist_load_buf(a, path, buf, len, skipped, d);
out:
	free(buf);
	fclose(fp);
	return e;
}

static bool has_entry(const struct al_list *l, const char *v)
{
	return bsearch(&v, l->entries, l->n, sizeof(*l->entries), cmp_entry) != NULL;
}

/* v and each parent domain ("a.b.c" -> "b.c" -> "c"). */
static bool has_host(const struct al_list *l, const char *v)
{
	for (const char *p = v; p; p = strchr(p, '.'), p = p ? p + 1 : NULL)
		if (*p && has_entry(l, p))
			return true;
	return false;
}

/* String lists: an entry ".name" covering host or one of its parents. */
static bool has_dotted(const struct al_list *l, const char *host)
{
	char buf[AL_VALUE_MAX + 1];
	for (const char *p = host; p; p = strchr(p, '.'), p = p ? p + 1 : NULL) {
		if (!*p)
			break;
		snprintf(buf, sizeof(buf), ".%s", p);
		if (has_entry(l, buf))
			return true;
	}
	return false;
}

static bool list_allows(const struct al_list *l, const char *v, const char *host, bool ip_ok,
			const struct al_cidr *ip)
{
	switch (l->type) {
	case AL_STRING:
		return has_entry(l, v) || (host && (has_entry(l, host) || has_dotted(l, host)));
	case AL_HOSTNAME:
		return has_host(l, host ? host : v);
	case AL_CIDR:
		for (size_t i = 0; ip_ok && i < l->n; i++)
			if (cidr_contains(&l->cidrs[i], ip))
				return true;
		return false;
	case AL_SUBSTRING:
		for (size_t i = 0; i < l->n; i++)
			if (strstr(v, l->entries[i]))
				return true;
		return false;
	case AL_REGEX:
		for (size_t i = 0; i < l->n; i++)
			if (regexec(&l->re[i], v, 0, NULL, 0) == 0)
				return true;
		return false;
	}
	return false;
}

/* The host of a URL, lower-cased, without port or user info. */
static void url_host(const char *v, char *out, size_t cap)
{
	const char *s = strstr(v, "://");
	s = s ? s + 3 : v;
	size_t n = strcspn(s, "/?#");
	const char *at = memchr(s, '@', n);
	if (at) {
		n -= (size_t)(at + 1 - s);
		s = at + 1;
	}
	const char *colon = memchr(s, ':', n);
	if (colon && s[0] != '[')
		n = (size_t)(colon - s);
	if (n >= cap)
		n = cap - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

bool allowlist_allows(const struct allowlist *a, const char *kind, const char *value,
		      size_t len, const char **list_name)
{
	if (!a || !a->n || !kind || !value || len == 0 || len >= AL_VALUE_MAX ||
	    memchr(value, '\0', len))
		return false;
	unsigned k = query_kind(kind);
	char v[AL_VALUE_MAX], hostbuf[AL_VALUE_MAX];
	for (size_t i = 0; i < len; i++)
		v[i] = (char)tolower((unsigned char)value[i]);
	v[len] = '\0';
	while (len > 1 && v[len - 1] == '.' && k == AL_K_DOMAIN)
		v[--len] = '\0';
	const char *host = NULL;
	if (k == AL_K_URL) {
		url_host(v, hostbuf, sizeof(hostbuf));
		host = hostbuf;
	} else if (k == AL_K_DOMAIN) {
		host = v;
	}
	struct al_cidr ip;
	bool ip_ok = k == AL_K_IP && cidr_parse(v, len, &ip);
	for (size_t i = 0; i < a->n; i++) {
		const struct al_list *l = &a->lists[i];
		if (!(l->kinds & k) || !list_allows(l, v, host, ip_ok, &ip))
			continue;
		if (list_name)
			*list_name = l->name;
		return true;
	}
	return false;
}

size_t allowlist_filter_pack(const struct allowlist *a, struct pack *p)
{
	if (!a || !p)
		return 0;
	size_t kept = 0, dropped = 0;
	for (size_t i = 0; i < p->n_ind; i++) {
		struct indicator *ind = &p->ind[i];
		if (allowlist_allows(a, ind_type_name(ind->type), ind->value, ind->value_len,
				     NULL)) {
			pack_ind_release(p, ind);
			dropped++;
			continue;
		}
		p->ind[kept++] = *ind;
	}
	p->n_ind = kept;
	return dropped;
}
