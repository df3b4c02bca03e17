/* Internals shared by the pack loader (pack.c) and the indicator
 * normaliser (indicator.c); not for other modules. */
#ifndef CS_MATCH_INDICATOR_INT_H
#define CS_MATCH_INDICATOR_INT_H

#include <stddef.h>

#define IND_LITERAL_MAX 4096 /* bytes of a literal after escapes */
#define IND_QUOTE_MAX 96     /* bytes of input echoed into one diagnostic */

/* Copy s into dst for a diagnostic: printable ASCII and UTF-8 bytes as they
 * are, other bytes as \xHH, cut with "..." past IND_QUOTE_MAX. Always
 * NUL-terminates (cap > 0). */
void ind_quote(char *dst, size_t cap, const char *s, size_t len);

#endif
