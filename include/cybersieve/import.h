/* Importers: indicator packs built from what feeds publish (plain lists, Zeek
 * intel, STIX 2.1 bundles, MISP JSON and CSV, Suricata datasets, md5sum-style
 * hash lists, CSV lists with a host/url/hash column). The format is recognised
 * from the content unless the caller names it.
 *
 * An imported pack is an ordinary struct pack (pack.h) owned by the caller:
 * name from the file name, category "imported" unless the caller or the file
 * says otherwise, digest = SHA-256 of the file's bytes. Every indicator keeps
 * an id taken from the source (STIX indicator id, MISP attribute uuid, line
 * number "L<n>" for line formats). Entries the tool cannot match (a type it
 * has no matcher for, a STIX pattern that is not an equality) and values that
 * fail their type's check are not dropped silently: they are counted in a
 * struct import_report, grouped by reason, with the first few ids.
 * No state outside the call: safe from any thread. */
#ifndef CYBERSIEVE_IMPORT_H
#define CYBERSIEVE_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "cybersieve/error.h"
#include "cybersieve/pack.h"

enum import_format {
	IMPORT_AUTO = 0,  /* recognise from the content */
	IMPORT_NATIVE,    /* the pack format of rules/README.md (not handled here) */
	IMPORT_PLAIN,     /* one value a line; "# type: TYPE" header or a type from the caller */
	IMPORT_ZEEK,      /* Zeek intel: "#fields indicator indicator_type ..." */
	IMPORT_STIX,      /* STIX 2.1 bundle */
	IMPORT_MISP_JSON, /* MISP event: {"Event": ...} or {"response": [{"Event": ...}]} */
	IMPORT_MISP_CSV,  /* MISP CSV export: uuid,event_id,category,type,value,... */
	IMPORT_CSV,       /* CSV with a header naming a url, host[+path], domain or hash column */
	IMPORT_SURICATA,  /* Suricata dataset: one value a line, type from the caller */
	IMPORT_HASHLIST,  /* md5sum/sha1sum/sha256sum output, or bare hashes one a line */
	IMPORT_FORMAT_COUNT
};

/* Suricata dataset types (the "type" of a dataset rule keyword). */
enum import_dataset {
	IMPORT_DS_NONE = 0,
	IMPORT_DS_MD5,
	IMPORT_DS_SHA256,
	IMPORT_DS_STRING, /* base64 of the bytes, imported as literals */
	IMPORT_DS_IPV4,
	IMPORT_DS_IP,
};

struct import_opts {
	enum import_format format;  /* IMPORT_AUTO to recognise */
	bool has_type;              /* plain lists: the values' type */
	enum ind_type type;
	enum import_dataset dataset; /* IMPORT_SURICATA: required */
	const char *category;       /* NULL: from the file, else "imported" */
	const char *tlp;            /* NULL: from the file, else "clear" */
};

#define IMPORT_NOTES_MAX 8    /* distinct reasons kept; more are summed in n_other */
#define IMPORT_NOTE_IDS 3     /* ids kept per reason */
#define IMPORT_ID_MAX 128

/* One reason entries were not imported, e.g. "STIX indicators unsupported
 * (pattern not an equality)", how many, and the first few ids. */
struct import_note {
	char reason[112];
	size_t count;
	char ids[IMPORT_NOTE_IDS][IMPORT_ID_MAX + 1];
	size_t n_ids;
};

struct import_report {
	enum import_format format;
	size_t n_imported;
	size_t n_unsupported; /* entries of a type or shape the tool cannot match */
	size_t n_invalid;     /* values that failed their type's check */
	size_t n_ignored;     /* entries that are not indicators (MISP text, comment, ...) */
	struct import_note notes[IMPORT_NOTES_MAX];
	size_t n_notes;
	size_t n_other;       /* entries under reasons past IMPORT_NOTES_MAX */
};

const char *import_format_name(enum import_format f);

/* Recognise the format of buf (the whole file or at least its first KB).
 * Never fails: content that is nothing else is IMPORT_PLAIN. */
enum import_format import_detect(const char *buf, size_t len);

/* "FORMAT[-SUBTYPE]:PATH" or "TYPE:PATH" -> opts and the path part; false when
 * spec has no such prefix (then opts are untouched). Prefixes: zeek, stix,
 * misp, misp-json, misp-csv, csv, hashes, plain, suricata-md5,
 * suricata-sha256, suricata-string, suricata-ipv4, suricata-ip, and every
 * indicator type name (a plain list of that type). */
bool import_spec_parse(const char *spec, struct import_opts *o, const char **path);

/* Build a pack from a buffer; label names it (and gives its name). rep may be
 * NULL. Fails with CS_ERR_PARSE when the text is not of the format at all
 * (no "#fields", not JSON, ...), with a reason in d; entries that cannot be
 * imported are counted in rep, not fatal. */
enum cs_err import_parse(const char *label, const char *buf, size_t len,
			 const struct import_opts *o, struct pack **out, struct import_report *rep,
			 struct cs_diag *d);

/* Read a file (capped at 1 GiB) and import it. */
enum cs_err import_file(const char *path, const struct import_opts *o, struct pack **out,
			struct import_report *rep, struct cs_diag *d);

/* Render note i as "LABEL: N REASON: id, id, ..." into out. */
void import_note_format(const struct import_report *rep, size_t i, const char *label, char *out,
			size_t cap);

#endif
