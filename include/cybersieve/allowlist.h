/* Allow-lists: known false positives that must never be reported, in the
 * MISP warninglist JSON format ({"name", "type", "list", "matching_attributes"}).
 * List types: string (exact, caseless), hostname (the host or any parent
 * domain listed: "example.com" allows "www.example.com"), cidr (IPv4/IPv6
 * prefixes), substring, regex (POSIX extended; "/.../i" delimiters accepted).
 *
 * A struct allowlist owns all its lists; it is built at start-up and then
 * read-only (queries are safe from any thread). */
#ifndef CYBERSIEVE_ALLOWLIST_H
#define CYBERSIEVE_ALLOWLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "cybersieve/error.h"
#include "cybersieve/pack.h"

struct allowlist;

enum cs_err allowlist_create(struct allowlist **out);
void allowlist_destroy(struct allowlist *a);

/* Add one warninglist file (or text). Entries that cannot be used (a bad
 * CIDR, a regex that does not compile) are skipped and counted in *skipped
 * (may be NULL). */
enum cs_err allowlist_load_file(struct allowlist *a, const char *path, size_t *skipped,
				struct cs_diag *d);
enum cs_err allowlist_load_buf(struct allowlist *a, const char *label, const char *buf,
			       size_t len, size_t *skipped, struct cs_diag *d);

size_t allowlist_count(const struct allowlist *a); /* lists loaded */

/* Is value, of indicator kind `kind` (an indicator type name: "domain",
 * "url", "email", "md5", "sha1", "sha256", "ip", ...), allowed by a list whose
 * matching_attributes cover that kind? For a url the host is also checked
 * against hostname and string lists. On true, *list_name (may be NULL) names
 * the list. */
bool allowlist_allows(const struct allowlist *a, const char *kind, const char *value,
		      size_t len, const char **list_name);

/* Remove from p the indicators an allow-list allows; returns how many. */
size_t allowlist_filter_pack(const struct allowlist *a, struct pack *p);

#endif
