/* Fuzz target: ingest sources (source_open/read/finish) over a memfd holding
 * the input: gzip detection, multi-member and corrupt-member resync, plain
 * pass-through. Checks: a non-gzip input comes back byte for byte; the
 * digest from source_finish is the SHA-256 of the raw bytes whatever the
 * decoder did; decompressed output is bounded by a cap this harness sets
 * (inputs that inflate past it are cut short, not failed). The memfd is made
 * per input and closed before returning. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "cybersieve/ingest.h"
#include "fuzz.h"

#define FUZZ_OUT_CAP (8u << 20)
#define FUZZ_MAX_ERRORS 64

static bool write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-ingest", 0);
	if (fd < 0)
		return 0;
	if (!write_all(fd, data, size)) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	struct source *s = NULL;
	struct cs_diag d;
	cs_diag_clear(&d);
	if (source_open(path, &s, &d) != CS_OK) {
		close(fd);
		return 0;
	}
	/* Read sizes vary with the input so that members end at every offset. */
	size_t cap = 1 + (size ? data[size / 2] : 0) * 37u;
	uint8_t *buf = malloc(cap);
	if (!buf)
		goto done;
	uint64_t total = 0;
	int errors = 0;
	bool same = true;
	for (;;) {
		size_t got = 0;
		enum cs_err e = source_read(s, buf, cap, &got, &d);
		if (e == CS_ERR_FORMAT) {
			if (++errors > FUZZ_MAX_ERRORS)
				break;
			continue;
		}
		FUZZ_CHECK(e == CS_OK);
		FUZZ_CHECK(got <= cap);
		if (got == 0)
			break;
		if (total + got > size || memcmp(buf, data + total, got) != 0)
			same = false;
		total += got;
		if (total > FUZZ_OUT_CAP)
			break;
	}
	struct source_info info;
	source_get_info(s, &info);
	FUZZ_CHECK(info.out_bytes == total);
	if (!info.is_gzip)
		FUZZ_CHECK(same && total == size);
	uint8_t want[32], got_sha[32];
	SHA256(data, size, want);
	if (source_finish(s, got_sha, &d) == CS_OK)
		FUZZ_CHECK(memcmp(want, got_sha, 32) == 0);
	free(buf);
done:
	source_destroy(s);
	close(fd);
	return 0;
}
