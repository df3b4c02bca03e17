/* Fuzz target: allow-lists in the MISP warninglist format
 * (allowlist_load_buf), then queries of every kind and a pack filtered
 * through the lists. The pack is parsed from a fixed text for each input. */
#include <string.h>

#include "cybersieve/allowlist.h"
#include "cybersieve/pack.h"
#include "fuzz.h"

static const char pack_text[] =
	"@name fuzz\n@category scam\n@source fuzz\n@licence CC0-1.0\n@tlp clear\n"
	"d1 domain example.com\nd2 domain www.example.org\nu1 url http://a.example.net/x?y=1\n"
	"e1 email someone@example.com\nh1 md5 d41d8cd98f00b204e9800998ecf8427e\n"
	"l1 literal 10.1.2.3\n";

static const struct {
	const char *kind, *value;
} queries[] = {
	{ "domain", "www.example.com" }, { "domain", "example.com." },
	{ "url", "http://www.example.com/a/b?c" }, { "url", "https://[2001:db8::1]:8443/" },
	{ "ip", "10.1.2.3" }, { "ip", "2001:db8::1" }, { "ip", "300.1.1.1" },
	{ "email", "a@b.example" }, { "md5", "d41d8cd98f00b204e9800998ecf8427e" },
	{ "sha256", "" }, { "literal", "anything" }, { "", "x" },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct allowlist *a = NULL;
	if (allowlist_create(&a) != CS_OK)
		return 0;
	struct cs_diag d;
	cs_diag_clear(&d);
	size_t skipped = 0;
	if (allowlist_load_buf(a, "fuzz.json", (const char *)data, size, &skipped, &d) == CS_OK) {
		for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
			const char *name = NULL;
			if (allowlist_allows(a, queries[i].kind, queries[i].value,
					     strlen(queries[i].value), &name))
				FUZZ_CHECK(name != NULL);
		}
		/* The input itself as a value of each kind. */
		const char *kinds[] = { "domain", "url", "ip", "email", "md5", "literal" };
		for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
			(void)allowlist_allows(a, kinds[i], (const char *)data,
					       size < 512 ? size : 512, NULL);
		struct pack *p = NULL;
		if (pack_parse("fuzz.pack", pack_text, sizeof pack_text - 1, &p, &d) == CS_OK) {
			size_t before = p->n_ind;
			size_t removed = allowlist_filter_pack(a, p);
			FUZZ_CHECK(removed <= before && p->n_ind == before - removed);
			pack_destroy(p);
		}
	}
	allowlist_destroy(a);
	return 0;
}
