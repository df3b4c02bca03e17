/* Fuzz target: evidence verification (ev_verify_run) over a folder whose
 * manifest and records file come from the input.
 * Input: [u8 mode][u16 manifest length][manifest][records]. The harness signs
 * the manifest with a key pair it makes once per process (so the manifest's
 * JSON is reached, not only the signature check) unless mode bit 0x1 asks
 * for a bad signature; mode bit 0x2 leaves the manifest out (the unsealed
 * path); mode bit 0x4 names the records file as a rotated one.
 * Process state: the key and one scratch folder, emptied after each input
 * and removed at exit. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cybersieve/json.h"
#include "cybersieve/sign.h"
#include "cybersieve/verify.h"
#include "fuzz.h"

static char dir[64];
static struct ev_sign_key *key;

static void cleanup(void)
{
	static const char *const names[] = { "manifest.json", "manifest.json.sig",
					      "records.ndjson", "records-000001.ndjson",
					      "key.pub.pem" };
	char path[128];
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void put(const char *name, const void *p, size_t n)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(n == 0 || write(fd, p, n) == (ssize_t)n);
	close(fd);
}

static void drop(const char *name)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
}

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/cs-fuzz-verify-XXXXXX");
	FUZZ_CHECK(mkdtemp(dir) != NULL);
	atexit(cleanup);
	FUZZ_CHECK(ev_sign_generate(&key, NULL) == CS_OK);
	struct jbuf pem;
	jbuf_init(&pem);
	FUZZ_CHECK(ev_sign_public_pem(key, &pem) == CS_OK);
	put("key.pub.pem", pem.p, pem.len);
	jbuf_fini(&pem);
}

static void on_line(void *ctx, bool ok, const char *text)
{
	(void)ok;
	size_t *lines = ctx;
	FUZZ_CHECK(text != NULL);
	(void)strlen(text);
	(*lines)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!key)
		setup();
	struct fuzz_cur c = { data, size };
	uint8_t mode = fuzz_u8(&c);
	size_t mlen;
	const uint8_t *man = fuzz_take(&c, fuzz_u16(&c), &mlen);
	const char *rec_name = (mode & 4) ? "records-000001.ndjson" : "records.ndjson";
	put(rec_name, c.p, c.n);
	if (!(mode & 2)) {
		put("manifest.json", man, mlen);
		uint8_t sig[EV_SIGN_LEN];
		FUZZ_CHECK(ev_sign_sign(key, man, mlen, sig, NULL) == CS_OK);
		if (mode & 1)
			sig[mlen % EV_SIGN_LEN] ^= 1;
		put("manifest.json.sig", sig, sizeof sig);
	}
	size_t lines = 0;
	struct ev_verify_opts o = { .pubkey_path = NULL, .inputs = false, .on_line = on_line,
				    .ctx = &lines };
	bool all_ok = false;
	struct cs_diag d;
	cs_diag_clear(&d);
	FUZZ_CHECK(ev_verify_run(dir, &o, &all_ok, &d) == CS_OK);
	FUZZ_CHECK(lines > 0);
	if (mode & 3)
		FUZZ_CHECK(!all_ok);
	drop(rec_name);
	drop("manifest.json");
	drop("manifest.json.sig");
	return 0;
}
