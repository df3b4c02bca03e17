/* `cybersieve verify DIR [--pubkey FILE] [--inputs]`. */
#ifndef CS_CLI_VERIFY_H
#define CS_CLI_VERIFY_H

int cli_verify(int argc, char **argv);

#endif
