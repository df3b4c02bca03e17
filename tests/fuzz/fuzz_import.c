/* Fuzz target: the feed importers (import_parse). Built once per format:
 * FUZZ_IMPORT_FORMAT names the enum import_format the options ask for
 * (IMPORT_AUTO lets import_detect choose). Where a format takes a value type
 * or a dataset type from the caller, the input's length picks it, so seed
 * files stay the feeds exactly as published. */
#include <string.h>

#include "cybersieve/import.h"
#include "fuzz.h"

#ifndef FUZZ_IMPORT_FORMAT
#define FUZZ_IMPORT_FORMAT IMPORT_AUTO
#endif

static void check_report(const struct import_report *rep)
{
	FUZZ_CHECK(rep->n_notes <= IMPORT_NOTES_MAX);
	for (size_t i = 0; i < rep->n_notes; i++) {
		const struct import_note *nt = &rep->notes[i];
		FUZZ_CHECK(nt->n_ids <= IMPORT_NOTE_IDS);
		FUZZ_CHECK(memchr(nt->reason, '\0', sizeof nt->reason) != NULL);
		for (size_t k = 0; k < nt->n_ids; k++)
			FUZZ_CHECK(strlen(nt->ids[k]) <= IMPORT_ID_MAX);
		char line[1024];
		import_note_format(rep, i, "fuzz", line, sizeof line);
		FUZZ_CHECK(memchr(line, '\0', sizeof line) != NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_opts o;
	memset(&o, 0, sizeof o);
	o.format = FUZZ_IMPORT_FORMAT;
	unsigned sel = (unsigned)(size % 17);
	if (sel < IND_TYPE_COUNT) {
		o.has_type = true;
		o.type = (enum ind_type)sel;
	}
	o.dataset = (enum import_dataset)(IMPORT_DS_MD5 + size % 5);
	if (size % 3 == 0) {
		o.category = "scam";
		o.tlp = "amber";
	}
	(void)import_detect((const char *)data, size);

	struct pack *p = NULL;
	struct import_report rep;
	memset(&rep, 0, sizeof rep);
	struct cs_diag d;
	cs_diag_clear(&d);
	enum cs_err e = import_parse("fuzz-feed.txt", (const char *)data, size, &o, &p, &rep, &d);
	if (e != CS_OK) {
		FUZZ_CHECK(p == NULL);
		return 0;
	}
	check_report(&rep);
	FUZZ_CHECK(p != NULL && p->n_ind == rep.n_imported);
	for (size_t i = 0; i < p->n_ind; i++) {
		FUZZ_CHECK(p->ind[i].type < IND_TYPE_COUNT);
		FUZZ_CHECK(p->ind[i].value[p->ind[i].value_len] == '\0');
	}
	pack_destroy(p);
	return 0;
}
