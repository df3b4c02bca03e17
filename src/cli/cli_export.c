/* Front end: `cybersieve export --format stix|eve [--identity NAME] [-o FILE]
 * [--no-verify] DIR`. The folder is verified first (as `cybersieve verify`
 * would) and refused when it fails, unless --no-verify; the export goes to
 * stdout or FILE. Exit 0 on success, 2 on any failure or a usage error. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cybersieve/export.h"
#include "cybersieve/verify.h"

struct cli_export_check {
	unsigned failed;
};

/* Only the failing checks are worth showing when the export is refused. */
static void cli_export_on_line(void *ctx, bool ok, const char *text)
{
	struct cli_export_check *c = ctx;
	if (ok)
		return;
	if (c->failed++ < 10)
		fprintf(stderr, "cybersieve export: %s\n", text);
}

static int cli_export_fail(const char *what, const struct cs_diag *d)
{
	char tmp[1600];
	cs_diag_format(d, tmp, sizeof(tmp));
	fprintf(stderr, "cybersieve export: %s%s\n", what, tmp);
	return CLI_EXIT_FATAL;
}

int cli_export(int argc, char **argv)
{
	enum { OPT_FORMAT = 256, OPT_IDENTITY, OPT_NO_VERIFY };
	static const struct option opts[] = {
		{"format", required_argument, NULL, OPT_FORMAT},
		{"identity", required_argument, NULL, OPT_IDENTITY},
		{"no-verify", no_argument, NULL, OPT_NO_VERIFY},
		{"output", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	const char *format = NULL, *outpath = NULL;
	bool verify = true;
	struct export_stix_opts so = {0};
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (opt == OPT_FORMAT)
			format = optarg;
		else if (opt == OPT_IDENTITY)
			so.identity = optarg;
		else if (opt == OPT_NO_VERIFY)
			verify = false;
		else if (opt == 'o')
			outpath = optarg;
		else
			goto usage;
	}
	if (optind + 1 != argc || !format ||
	    (strcmp(format, "stix") != 0 && strcmp(format, "eve") != 0))
		goto usage;
	const char *dir = argv[optind];
	struct cs_diag d;
	cs_diag_clear(&d);
	if (verify) {
		struct cli_export_check chk = {0};
		struct ev_verify_opts vo = {.on_line = cli_export_on_line, .ctx = &chk};
		bool ok = false;
		if (ev_verify_run(dir, &vo, &ok, &d) != CS_OK)
			return cli_export_fail("", &d);
		if (!ok) {
			fprintf(stderr, "cybersieve export: %s does not verify; nothing exported "
					"(--no-verify exports it anyway)\n", dir);
			return CLI_EXIT_FATAL;
		}
	}
	FILE *out = outpath ? fopen(outpath, "w") : stdout;
	if (!out) {
		perror(outpath);
		return CLI_EXIT_FATAL;
	}
	enum cs_err e = strcmp(format, "stix") == 0 ? export_stix_write(dir, &so, out, &d)
						    : export_eve_write(dir, out, &d);
	if (outpath && fclose(out) != 0 && e == CS_OK) {
		cs_diag_set(&d, outpath, CS_DIAG_NONE, CS_DIAG_NONE, "write failed");
		e = CS_ERR_IO;
	}
	if (e != CS_OK)
		return cli_export_fail("", &d);
	if (!verify)
		fprintf(stderr, "cybersieve export: warning: %s was exported without verifying it\n",
			dir);
	return 0;
usage:
	fprintf(stderr, "usage: cybersieve export --format stix|eve [--identity NAME] [-o FILE] "
			"[--no-verify] DIR\n");
	return CLI_EXIT_FATAL;
}
