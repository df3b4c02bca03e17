/* Name-based UUIDs, version 5 (RFC 9562 section 5.5: SHA-1 over a namespace
 * UUID and a name), for identifiers that must come out the same every time the
 * same thing is named: STIX object ids in an export. Pure functions, no state;
 * thread-safe. */
#ifndef CYBERSIEVE_UUID_H
#define CYBERSIEVE_UUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UUID5_TEXT_LEN 37 /* 36 characters and the NUL */

/* cybersieve's own namespace, fixed once: 7faa6fed-c11f-41a6-8cfd-fb72c5a87ceb. */
extern const uint8_t UUID5_NS_CYBERSIEVE[16];
/* The namespace STIX 2.1 gives for deterministic cyber-observable ids:
 * 00abedb4-aa42-466c-9c01-fed23315a9b7. */
extern const uint8_t UUID5_NS_STIX[16];
/* RFC 9562's DNS namespace 6ba7b810-9dad-11d1-80b4-00c04fd430c8. */
extern const uint8_t UUID5_NS_DNS[16];

/* The version-5 UUID of name[0..n) in namespace ns. */
void uuid5_make(const uint8_t ns[16], const void *name, size_t n, uint8_t out[16]);
/* Canonical lower-case text "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"; out >= 37 bytes. */
void uuid5_format(const uint8_t u[16], char *out);
/* Parse the canonical text form (either case); false when malformed. */
bool uuid5_parse(const char *s, uint8_t out[16]);
/* Shorthand: the text of uuid5_make(ns, name, strlen(name)). */
void uuid5_text(const uint8_t ns[16], const char *name, size_t n, char *out);

#endif
