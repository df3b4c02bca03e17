/* `cybersieve keygen DIR` and the signing-key options of scan and tap. */
#ifndef CS_CLI_KEYGEN_H
#define CS_CLI_KEYGEN_H

#include <stdbool.h>

#include "cybersieve/chain.h"
#include "cybersieve/error.h"
#include "cybersieve/pack.h"
#include "cybersieve/sign.h"

int cli_keygen(int argc, char **argv);

/* What a run needs to sign its evidence; owned by the run's front end. */
struct cli_seal {
	struct ev_sign_key *key;
	bool ephemeral;         /* made for this run; its private half is never stored */
	char fingerprint[65];
	int dir_fd;             /* the evidence folder */
	const char *run_id;
};

/* Load --key FILE, or make a one-off key (and say so on stderr unless quiet);
 * then write key.pub.pem into the folder. 0 ok, -1 reported. */
int cli_seal_init(struct cli_seal *s, const char *key_path, int dir_fd, const char *run_id,
		  bool quiet);
/* ev_writer's on_seal: write NAME.seal.json and its signature. */
enum cs_err cli_seal_file(void *ctx, const struct ev_chain_file *f, struct cs_diag *d);
void cli_seal_fini(struct cli_seal *s);
/* This machine's host name, "" when unknown. */
void cli_seal_host(char *out, size_t cap);

#endif
