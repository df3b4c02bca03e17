/* Front end: `cybersieve verify DIR [--pubkey FILE] [--inputs]`. One line per
 * check on stdout; exit 0 only when every check passed, 1 when one failed or
 * the run is unsealed, 2 when the folder cannot be read or the usage is wrong. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_verify.h"
#include "cybersieve/verify.h"

static void on_line(void *ctx, bool ok, const char *text)
{
	(void)ctx;
	(void)ok;
	printf("%s\n", text);
}

int cli_verify(int argc, char **argv)
{
	enum { OPT_PUBKEY = 256, OPT_INPUTS };
	static const struct option opts[] = {
		{"pubkey", required_argument, NULL, OPT_PUBKEY},
		{"inputs", no_argument, NULL, OPT_INPUTS},
		{NULL, 0, NULL, 0},
	};
	struct ev_verify_opts o = {.on_line = on_line};
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == OPT_PUBKEY)
			o.pubkey_path = optarg;
		else if (opt == OPT_INPUTS)
			o.inputs = true;
		else
			goto usage;
	}
	if (optind + 1 != argc)
		goto usage;
	bool ok = false;
	struct cs_diag d;
	cs_diag_clear(&d);
	if (ev_verify_run(argv[optind], &o, &ok, &d) != CS_OK) {
		char tmp[1600];
		cs_diag_format(&d, tmp, sizeof(tmp));
		fprintf(stderr, "cybersieve verify: %s\n", tmp);
		return CLI_EXIT_FATAL;
	}
	printf("%s\n", ok ? "verified: every check passed" : "NOT VERIFIED");
	fflush(stdout);
	return ok ? 0 : 1;
usage:
	fprintf(stderr, "usage: cybersieve verify DIR [--pubkey FILE] [--inputs]\n");
	return CLI_EXIT_FATAL;
}
