/* Private to match/: is a label a top-level domain in use? Used to tell a
 * host name in text from a dotted identifier (Microsoft.XMLHTTP,
 * google.hs.init), which ends in a word that names no TLD. */
#ifndef CS_MATCH_TLD_H
#define CS_MATCH_TLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True if p[0..n) (any case) names a delegated or special-use TLD; labels in
 * xn-- form or with non-ASCII bytes (internationalised TLDs) count as TLDs. */
bool tld_known(const uint8_t *p, size_t n);
/* Names in the table, and the i-th (NULL past the end), for tests. */
size_t tld_count(void);
const char *tld_name(size_t i);

#endif
