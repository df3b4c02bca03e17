/* cybersieve: arguments -> configuration -> stages wired -> run -> exit status.
 * The only place that prints or exits. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_keygen.h"
#include "cli_verify.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cybersieve scan [options] PATH...     match logs and captures against indicators\n"
		"       cybersieve tap -i IFACE [options]        capture live and match as packets arrive\n"
		"       cybersieve verify DIR [--pubkey FILE] [--inputs]   check an evidence folder\n"
		"       cybersieve keygen DIR                    write a signing key pair into DIR\n"
		"       cybersieve export --format stix|eve [--identity NAME] [-o FILE] [--no-verify] DIR\n"
		"                                                a verified folder as a STIX 2.1 bundle\n"
		"                                                or Suricata-style EVE JSON lines\n"
		"       cybersieve report DIR -o FILE.html [--pubkey FILE] [--max-rows N]\n"
		"                                                one self-contained HTML page for the receiver\n"
		"       cybersieve rules compile PACK... -o FILE\n"
		"                                                save packs compiled, for --rules FILE\n"
		"       cybersieve version\n"
		"\n"
		"scan options:\n"
		"  --rules PATH       indicator pack file, a directory of *.pack files, or a compiled\n"
		"                     rules file from 'rules compile' (repeatable)\n"
		"  -e TYPE:VALUE      one ad-hoc indicator, e.g. -e domain:evil.com -e literal/i:'wire fee'\n"
		"  -f TYPE:FILE       ad-hoc indicators, one value per line (as grep -f)\n"
		"  --allow FILE       MISP warning-list JSON: its values are dropped from every pack\n"
		"                     before matching (repeatable); the count goes to the summary\n"
		"  --out DIR|-        evidence folder (must be new or empty), or - for records on stdout\n"
		"  --threads N        worker threads (default: online CPUs; one for a capture\n"
		"                     file under 4 MiB)\n"
		"  --shard K/N        scan only the K-th of N deterministic shares of the files (1 <= K <= N)\n"
		"  --strict           any pack or -e/-f error is fatal\n"
		"  --context N        bytes of context each side of a match (default 64, 0 allowed)\n"
		"  --pseudonymise KEYFILE  IP and e-mail addresses in context become keyed tokens\n"
		"                     (HMAC-SHA256 with the file's bytes, at least 32; same value, same token)\n"
		"  --chunk-size N     bytes per scan chunk (default 4M; 32M with PDQ indicators)\n"
		"  --max-line N       longest line scanned whole (default 128M); longer lines are split\n"
		"  --summary FILE     also write the summary JSON to FILE\n"
		"  --flow-memory N    memory cap of the flow tables for captures (default 512M)\n"
		"  -q, --quiet        no progress line and no summary text on stderr\n"
		"  --key FILE         sign the manifest with this Ed25519 key (from keygen);\n"
		"                     without it a one-off key signs and only key.pub.pem is kept\n"
		"  --operator TEXT    who ran it, for the manifest\n"
		"  --sensor-id TEXT   which sensor or workstation, for the manifest\n"
		"PATH is a file, a directory (recursive), a gzip file (found by content), or - for stdin.\n"
		"exit status: 0 matches, 1 no match, 2 fatal error, 3 matches but some input or pack\n"
		"failed, 4 no match and some input or pack failed.\n"
		"\n"
		"tap options (also --rules, -e, -f, --allow, --strict, --threads, --context, -q as for scan):\n"
		"  -i IFACE           interface to capture on (required; promiscuous unless --no-promisc)\n"
		"  --bpf EXPR         capture filter\n"
		"  --snaplen N        bytes kept per packet (default 262144)\n"
		"  --buffer-size N    kernel capture buffer (default 64M)\n"
		"  --duration S       stop after S seconds (default: at SIGINT or SIGTERM)\n"
		"  --user NAME        after opening the device and evidence files, run as NAME\n"
		"  --out DIR|-        evidence folder (must be new or hold no evidence), or - for stdout\n"
		"  --stats-interval S print received/dropped counters every S seconds (default 10, 0 off)\n"
		"  --flow-memory N    flow table memory cap (default 512M)\n"
		"  --key FILE, --operator TEXT, --sensor-id TEXT, --pseudonymise KEYFILE   as for scan\n"
		"  --rotate-size N    close the records file once it holds N bytes (sealed on its own)\n"
		"  --rotate-time S    close the records file S seconds after it was opened\n"
		"  SIGHUP             read --rules/-e/-f/--allow again and switch to them while capture\n"
		"                     goes on; a reload that fails keeps the rules in force; each\n"
		"                     attempt is a record in the evidence\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_FATAL;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	/* "cybersieve scan --help" (-h too), or --help as a known command's
	 * last argument, is the help; elsewhere it may be an option's value. */
	static const char *const commands[] = {"scan", "tap", "verify", "report",
					       "export", "rules", "keygen"};
	for (size_t i = 0; argc > 2 && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i]) == 0 &&
		    (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0 ||
		     (strcmp(argv[argc - 1], "--help") == 0 && strcmp(argv[argc - 2], "--") != 0))) {
			usage(stdout);
			return 0;
		}
	if (strcmp(argv[1], "scan") == 0)
		return cli_scan(argc - 1, argv + 1);
	if (strcmp(argv[1], "tap") == 0)
		return cli_tap(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return cli_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "report") == 0)
		return cli_report(argc - 1, argv + 1);
	if (strcmp(argv[1], "export") == 0)
		return cli_export(argc - 1, argv + 1);
	if (strcmp(argv[1], "rules") == 0)
		return cli_rules_cmd(argc - 1, argv + 1);
	if (strcmp(argv[1], "keygen") == 0)
		return cli_keygen(argc - 1, argv + 1);
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("cybersieve %s\n", CS_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "cybersieve: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return CLI_EXIT_FATAL;
}
