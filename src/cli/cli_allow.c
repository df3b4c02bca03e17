/* Front end: --allow FILE (cli_allow.h). The allow-lists live only while
 * the packs are filtered; afterwards just the count is kept. */
#include <stdio.h>

#include "cli_allow.h"
#include "cybersieve/allowlist.h"

bool cli_allow_add(struct cli_allow *a, const char *cmd, const char *path)
{
	if (a->n == CLI_ALLOW_MAX) {
		fprintf(stderr, "cybersieve %s: at most %d --allow options\n", cmd, CLI_ALLOW_MAX);
		return false;
	}
	a->path[a->n++] = path;
	return true;
}

static void print_count(const struct cli_allow *a)
{
	fprintf(stderr, "cybersieve: %zu indicator%s suppressed by allow-lists (", a->suppressed,
		a->suppressed == 1 ? "" : "s");
	for (size_t i = 0; i < a->n; i++)
		fprintf(stderr, "%s%s", i ? ", " : "", a->path[i]);
	fprintf(stderr, ")\n");
}

bool cli_allow_apply(struct cli_allow *a, const char *cmd, struct pack **packs, size_t n)
{
	if (a->n == 0)
		return true;
	struct allowlist *al = NULL;
	struct cs_diag d;
	cs_diag_clear(&d);
	bool ok = false;
	if (allowlist_create(&al) != CS_OK) {
		fprintf(stderr, "cybersieve %s: out of memory\n", cmd);
		goto out;
	}
	for (size_t i = 0; i < a->n; i++) {
		size_t skipped = 0;
		if (allowlist_load_file(al, a->path[i], &skipped, &d) != CS_OK) {
			char tmp[1600];
			cs_diag_format(&d, tmp, sizeof(tmp));
			fprintf(stderr, "cybersieve %s: --allow: %s\n", cmd, tmp);
			goto out;
		}
		if (skipped)
			fprintf(stderr, "cybersieve: warning: %s: %zu allow-list entries unusable, skipped\n",
				a->path[i], skipped);
	}
	a->suppressed = 0;
	for (size_t p = 0; p < n; p++)
		a->suppressed += allowlist_filter_pack(al, packs[p]);
	print_count(a);
	ok = true;
out:
	allowlist_destroy(al);
	return ok;
}
