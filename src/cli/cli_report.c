/* Front end: `cybersieve report DIR -o FILE [--pubkey FILE] [--max-rows N]`.
 * Writes one self-contained HTML page about the evidence folder. The output is
 * created new (never overwritten) and removed again if writing it fails.
 * Exit 0 when the report is written and the evidence verifies, 1 when it is
 * written but the evidence is tampered or unsealed, 2 on a fatal error. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cybersieve/report.h"

static void report_usage(void)
{
	fprintf(stderr, "usage: cybersieve report DIR -o FILE.html [--pubkey FILE] "
		"[--max-rows N]\n");
}

/* Open path for writing only if it does not exist yet ("-": stdout). */
static FILE *report_open(const char *path)
{
	if (strcmp(path, "-") == 0)
		return stdout;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			fprintf(stderr, "cybersieve report: %s exists; refusing to overwrite it\n",
				path);
		else
			fprintf(stderr, "cybersieve report: cannot create %s: %s\n", path,
				strerror(errno));
		return NULL;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		fprintf(stderr, "cybersieve report: %s: %s\n", path, strerror(errno));
		close(fd);
		unlink(path);
	}
	return f;
}

static int report_run(const char *dir, const char *out_path, const struct ev_report_opts *o)
{
	FILE *f = report_open(out_path);
	if (!f)
		return CLI_EXIT_FATAL;
	struct ev_report_result res;
	struct cs_diag d;
	cs_diag_clear(&d);
	enum cs_err err = ev_report_html_write(dir, f, o, &res, &d);
	bool to_stdout = f == stdout;
	if (!to_stdout && fclose(f) != 0 && err == CS_OK) {
		snprintf(d.msg, sizeof(d.msg), "closing %s: %s", out_path, strerror(errno));
		err = CS_ERR_IO;
	}
	if (err != CS_OK) {
		char tmp[1600];
		cs_diag_format(&d, tmp, sizeof(tmp));
		fprintf(stderr, "cybersieve report: %s\n", tmp);
		if (!to_stdout)
			unlink(out_path);
		return CLI_EXIT_FATAL;
	}
	static const char *const word[] = {"verified", "TAMPERED", "UNSEALED"};
	fprintf(stderr, "cybersieve report: %s: %llu records, %llu rows in the table; evidence %s%s%s\n",
		to_stdout ? "stdout" : out_path, (unsigned long long)res.records,
		(unsigned long long)res.rows, word[res.verdict], res.first_failure[0] ? ": " : "",
		res.first_failure);
	return res.verdict == EV_REPORT_VERIFIED ? 0 : 1;
}

int cli_report(int argc, char **argv)
{
	enum { OPT_PUBKEY = 256, OPT_MAX_ROWS };
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"pubkey", required_argument, NULL, OPT_PUBKEY},
		{"max-rows", required_argument, NULL, OPT_MAX_ROWS},
		{NULL, 0, NULL, 0},
	};
	struct ev_report_opts o = {0};
	const char *out = NULL;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		char *end = NULL;
		if (opt == 'o') {
			out = optarg;
		} else if (opt == OPT_PUBKEY) {
			o.pubkey_path = optarg;
		} else if (opt == OPT_MAX_ROWS) {
			errno = 0;
			unsigned long long n = strtoull(optarg, &end, 10);
			if (errno || !end || *end || optarg[0] == '-' || n == 0 ||
			    n > EV_REPORT_MAX_ROWS) {
				fprintf(stderr, "cybersieve report: --max-rows must be 1..%u\n",
					EV_REPORT_MAX_ROWS);
				return CLI_EXIT_FATAL;
			}
			o.max_rows = n;
		} else {
			report_usage();
			return CLI_EXIT_FATAL;
		}
	}
	if (optind + 1 != argc || !out) {
		report_usage();
		return CLI_EXIT_FATAL;
	}
	return report_run(argv[optind], out, &o);
}
