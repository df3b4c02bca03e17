/* The command-line front end: each subcommand parses its arguments, wires the
 * stages, prints what the user must see and returns the exit status. */
#ifndef CS_CLI_H
#define CS_CLI_H

enum cli_exit {
	CLI_EXIT_MATCH = 0,
	CLI_EXIT_NOMATCH = 1,
	CLI_EXIT_FATAL = 2,
	CLI_EXIT_MATCH_TROUBLE = 3,
	CLI_EXIT_NOMATCH_TROUBLE = 4,
};

int cli_scan(int argc, char **argv);
int cli_tap(int argc, char **argv);
int cli_export(int argc, char **argv);
int cli_report(int argc, char **argv);
/* cybersieve rules compile PACK... -o FILE (cli_rules.c). */
int cli_rules_cmd(int argc, char **argv);

#endif
