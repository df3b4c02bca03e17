/* Front end: `cybersieve keygen DIR`, and the signing set-up shared by scan and
 * tap (load --key or make a one-off key, publish key.pub.pem, seal rotated
 * files). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_keygen.h"
#include "cybersieve/manifest.h"

static void report(const char *what, const struct cs_diag *d)
{
	char tmp[1600];
	cs_diag_format(d, tmp, sizeof(tmp));
	fprintf(stderr, "cybersieve: %s: %s\n", what, tmp);
}

int cli_keygen(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: cybersieve keygen DIR   (writes DIR/cybersieve.key and DIR/cybersieve.pub.pem)\n");
		return CLI_EXIT_FATAL;
	}
	const char *dir = argv[1];
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "cybersieve: cannot create %s: %s\n", dir, strerror(errno));
		return CLI_EXIT_FATAL;
	}
	int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0) {
		fprintf(stderr, "cybersieve: cannot open %s: %s\n", dir, strerror(errno));
		return CLI_EXIT_FATAL;
	}
	int code = CLI_EXIT_FATAL;
	struct ev_sign_key *k = NULL;
	struct jbuf priv, pub;
	jbuf_init(&priv);
	jbuf_init(&pub);
	struct cs_diag d;
	cs_diag_clear(&d);
	char fp[65];
	if (faccessat(dir_fd, "cybersieve.key", F_OK, 0) == 0 ||
	    faccessat(dir_fd, "cybersieve.pub.pem", F_OK, 0) == 0) {
		fprintf(stderr, "cybersieve: %s already holds a key; refusing to overwrite it\n", dir);
		goto out;
	}
	if (ev_sign_generate(&k, &d) != CS_OK || ev_sign_private_pem(k, &priv) != CS_OK ||
	    ev_sign_public_pem(k, &pub) != CS_OK || ev_sign_fingerprint(k, fp) != CS_OK) {
		report("keygen", &d);
		goto out;
	}
	if (ev_manifest_put_file(dir_fd, "cybersieve.key", priv.p, priv.len, 0600, &d) != CS_OK ||
	    fchmodat(dir_fd, "cybersieve.key", 0600, 0) != 0 ||
	    ev_manifest_put_file(dir_fd, "cybersieve.pub.pem", pub.p, pub.len, 0644, &d) != CS_OK) {
		report(dir, &d);
		goto out;
	}
	printf("wrote %s/cybersieve.key (private, keep it safe) and %s/cybersieve.pub.pem\n", dir, dir);
	printf("fingerprint (sha256 of the DER public key): %s\n", fp);
	code = 0;
out:
	if (priv.p)
		memset(priv.p, 0, priv.cap); /* the private key's text does not outlive its use */
	jbuf_fini(&priv);
	jbuf_fini(&pub);
	ev_sign_destroy(k);
	close(dir_fd);
	return code;
}

int cli_seal_init(struct cli_seal *s, const char *key_path, int dir_fd, const char *run_id,
		  bool quiet)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	s->dir_fd = dir_fd;
	s->run_id = run_id;
	if (key_path) {
		if (ev_sign_load_private(key_path, &s->key, &d) != CS_OK) {
			report("--key", &d);
			return -1;
		}
	} else if (ev_sign_generate(&s->key, &d) != CS_OK) {
		report("signing key", &d);
		return -1;
	} else {
		s->ephemeral = true;
	}
	struct jbuf pub;
	jbuf_init(&pub);
	int rc = -1;
	if (ev_sign_fingerprint(s->key, s->fingerprint) != CS_OK ||
	    ev_sign_public_pem(s->key, &pub) != CS_OK) {
		fprintf(stderr, "cybersieve: cannot export the public key\n");
	} else if (ev_manifest_put_file(dir_fd, "key.pub.pem", pub.p, pub.len, 0644, &d) != CS_OK) {
		report("evidence folder", &d);
	} else {
		rc = 0;
		if (s->ephemeral && !quiet)
			fprintf(stderr,
				"cybersieve: no --key given: this run signs with a one-off key whose private half is\n"
				"  discarded; only its public key (key.pub.pem, fingerprint %s) binds the evidence.\n"
				"  For evidence you will share, make a lasting key with `cybersieve keygen DIR` and pass --key.\n",
				s->fingerprint);
	}
	jbuf_fini(&pub);
	return rc;
}

enum cs_err cli_seal_file(void *ctx, const struct ev_chain_file *f, struct cs_diag *d)
{
	struct cli_seal *s = ctx;
	struct jbuf j;
	jbuf_init(&j);
	ev_manifest_render_seal(&j, s->run_id, s->fingerprint, f);
	char name[96];
	ev_manifest_seal_name(f->name, name, sizeof(name));
	enum cs_err err = ev_manifest_put_signed(s->dir_fd, name, &j, s->key, d);
	jbuf_fini(&j);
	return err;
}

void cli_seal_fini(struct cli_seal *s)
{
	ev_sign_destroy(s->key);
	s->key = NULL;
}

void cli_seal_host(char *out, size_t cap)
{
	if (gethostname(out, cap) != 0)
		out[0] = '\0';
	out[cap - 1] = '\0';
}
