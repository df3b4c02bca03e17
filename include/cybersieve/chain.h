/* The hash chain over the records files (docs/EVIDENCE.md).
 *
 * Every record line starts with {"prev":"<64 hex>", where prev is the SHA-256
 * of the exact bytes of the line before it, newline included; the first line of
 * a file links to the file's genesis value, SHA-256 of
 * "cybersieve-chain-v1:<run_id>:<file name>". Renderers write a placeholder
 * (EV_PREV_PLACEHOLDER) and the writer patches it, so the chain is made in one
 * place whatever produced the records. Pure functions: no state, thread-safe. */
#ifndef CYBERSIEVE_CHAIN_H
#define CYBERSIEVE_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EV_CHAIN_TAG "cybersieve-chain-v1"
/* How every record line begins, up to the 64 hex digits of prev. */
#define EV_CHAIN_LEAD "{\"prev\":\""
#define EV_CHAIN_LEAD_LEN (sizeof(EV_CHAIN_LEAD) - 1)
/* Stands in for prev until the writer links the record. */
#define EV_PREV_PLACEHOLDER "????????????????????????????????????????????????????????????????"
/* Categories counted per run; records of further categories count as "other". */
#define EV_CHAIN_MAX_CATEGORIES 32

/* One records file as the chain and the manifest describe it. */
struct ev_chain_file {
	char name[64];
	uint64_t records;
	uint64_t bytes;
	uint8_t sha256[32];   /* of the whole file, valid once closed */
	uint8_t genesis[32];
	uint8_t head[32];     /* H(last line), or genesis while empty */
	char closed[40];      /* RFC 3339 UTC, "" while open */
};

struct ev_chain_counts {
	size_t n;
	struct {
		char name[64];
		uint64_t records;
	} cat[EV_CHAIN_MAX_CATEGORIES];
	uint64_t other;       /* records whose category did not fit, or had none */
};

/* SHA-256 of "cybersieve-chain-v1:<run_id>:<file_name>". */
void ev_chain_genesis(const char *run_id, const char *file_name, uint8_t out[32]);
/* SHA-256 of n bytes (a whole line, newline included). */
void ev_chain_hash(const void *p, size_t n, uint8_t out[32]);
/* When line (n bytes) begins with the prev placeholder, write prev's hex in its
 * place and return true; any other line is left alone. */
bool ev_chain_patch(char *line, size_t n, const uint8_t prev[32]);
/* Read prev from a line; false when the line does not begin with
 * {"prev":"<64 lower-case hex>". */
bool ev_chain_prev(const char *line, size_t n, uint8_t out[32]);
/* The record's indicator category (the first "category" key: a key cannot
 * occur inside a JSON string, whose quotes are escaped); false when none. */
bool ev_chain_category(const char *line, size_t n, char *out, size_t cap);
/* Count one record of category cat (NULL: unknown). */
void ev_chain_counts_add(struct ev_chain_counts *c, const char *cat);

/* Lower-case hex to bytes; false unless exactly 2n hex digits. */
bool ev_chain_unhex(const char *hex, size_t hex_len, uint8_t *out, size_t n);

#endif
