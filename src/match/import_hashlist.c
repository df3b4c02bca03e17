/* Hash lists: bare hashes one a line, md5sum/sha1sum/sha256sum output
 * ("<hex>  name" or "<hex> *name") and the BSD tag form "SHA256 (name) = <hex>".
 * The type follows from the hash length (32 md5, 40 sha1, 64 sha256); other
 * lengths (sha512, ...) are counted as unsupported. Ids are "L<line>". */
#include <stdio.h>
#include <string.h>

#include "match/import_int.h"

/* The hex part of one line: leading hex run, or the text after " = " of the
 * BSD form. */
static void hash_part(const char *s, size_t n, const char **h, size_t *hn)
{
	if (n > 4 && s[n - 1] != ' ' && memchr(s, '(', n)) {
		for (size_t i = 0; i + 3 <= n; i++) {
			if (memcmp(s + i, " = ", 3) == 0) {
				*h = s + i + 3;
				*hn = n - i - 3;
				return;
			}
		}
	}
	size_t k = 0;
	while (k < n && import_is_hex(s + k, 1))
		k++;
	*h = s;
	*hn = k;
	if (k < n && s[k] != ' ' && s[k] != '\t')
		*hn = 0; /* hex followed by something else: not a hash */
}

enum cs_err import_hashlist(struct import_ctx *c, const char *buf, size_t len)
{
	size_t pos = 0, n;
	const char *s;
	uint32_t line = 0;
	while (import_next_line(buf, len, &pos, &s, &n)) {
		line++;
		while (n > 0 && (s[0] == ' ' || s[0] == '\t')) {
			s++;
			n--;
		}
		if (n == 0 || s[0] == '#')
			continue;
		char id[32];
		snprintf(id, sizeof(id), "L%u", line);
		const char *h;
		size_t hn;
		hash_part(s, n, &h, &hn);
		enum ind_type t;
		if (!import_hash_type(h, hn, &t)) {
			if (import_is_hex(h, hn))
				import_note(c, IMPORT_K_UNSUPPORTED,
					    "hash list lines unsupported (hash length)", id);
			else
				import_note(c, IMPORT_K_INVALID, "hash list lines invalid (no hash)",
					    id);
			continue;
		}
		enum cs_err e = import_add(c, id, t, 0, h, hn, line, "hash list lines");
		if (e)
			return e;
	}
	return CS_OK;
}
