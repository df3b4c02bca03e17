/* Exporting an evidence folder (docs/EXPORT.md) for other tools: a STIX 2.1
 * bundle, or Suricata-style EVE JSON lines. Both read the folder that scan or
 * tap wrote (manifest.json or summary.json for the run, then records.ndjson or
 * records-NNNNNN.ndjson in order) and write to the caller's stream; nothing
 * here prints to the terminal. Output depends only on the folder's contents,
 * so exporting the same folder twice gives the same bytes. Single-threaded;
 * every call owns what it allocates and frees it before returning. */
#ifndef CYBERSIEVE_EXPORT_H
#define CYBERSIEVE_EXPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cybersieve/error.h"
#include "cybersieve/json.h"
#include "cybersieve/json_read.h"

#define EXPORT_MAX_LINE (16u << 20)   /* longest record line read */
#define EXPORT_MAX_FILES 100000u      /* records-NNNNNN.ndjson files in one folder */
#define EXPORT_MAX_OBJECTS 4000000u   /* distinct STIX objects kept while grouping */

/* The run as the manifest (or, without one, the summary) describes it. Every
 * string is owned by the struct; absent ones are NULL. */
struct export_run {
	char *run_id;
	char *started;
	char *finished;
	char *operator_name;
	char *sensor_id;
	char *host;
	char *tool_name;
	char *tool_version;
	bool has_manifest;
};

/* Read manifest.json, else summary.json. CS_ERR_IO when neither exists. */
enum cs_err export_read_run(const char *dir, struct export_run *run, struct cs_diag *d);
void export_read_run_fini(struct export_run *run);
/* Walk records.ndjson, or records-NNNNNN.ndjson in name order, calling fn once
 * per match record with the parsed line (borrowed for the call); records with
 * an "event" key (rule reloads) are skipped. A line that is not
 * a JSON object fails with its file and line in d; a non-CS_OK return from fn
 * stops the walk and is passed back. */
enum cs_err export_read_records(const char *dir,
				enum cs_err (*fn)(void *ctx, const struct json_read_val *rec,
						  struct cs_diag *d),
				void *ctx, struct cs_diag *d);

struct export_stix_opts {
	const char *identity;   /* organisation name; NULL: operator, else sensor id */
};

/* The whole STIX 2.1 bundle as one JSON document and a newline. */
enum cs_err export_stix_write(const char *dir, const struct export_stix_opts *o, FILE *out,
			      struct cs_diag *d);
/* The STIX pattern for an indicator of the given cybersieve type, appended to
 * j; *pattern_type is "stix" or "pcre" (literal and regex indicators, which no
 * cyber-observable describes). Quotes and backslashes are escaped as STIX
 * patterning requires; hashes are checked for length and hex digits.
 * CS_ERR_UNSUPPORTED for a type with no mapping, CS_ERR_PARSE for a bad hash. */
enum cs_err export_stix_pattern(struct jbuf *j, const char *type, const char *value,
				const char **pattern_type);
/* 0 clear, 1 green, 2 amber, 3 amber+strict, 4 red; -1 when not a TLP 2.0
 * level ("white" is read as clear, TLP 1's name for it). */
int export_stix_tlp_rank(const char *tlp);

/* One EVE JSON line per record. */
enum cs_err export_eve_write(const char *dir, FILE *out, struct cs_diag *d);
/* The alert.signature_id of an indicator: the first four bytes of
 * SHA-256("<pack name>\n<indicator id>"), big-endian, top bit cleared so that
 * it fits a signed 32-bit field. */
uint32_t export_eve_signature_id(const char *pack, const char *indicator_id);
/* One record as one EVE line (with its newline) appended to j. */
enum cs_err export_eve_render(struct jbuf *j, const struct json_read_val *rec,
			      struct cs_diag *d);

#endif
