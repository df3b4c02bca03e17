/* Fuzz target: pcap and pcapng reading (capture_open_file over fmemopen),
 * each packet then decoded as the scanner would. The packet count is bounded
 * so that one input cannot run for long. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cybersieve/capture.h"
#include "cybersieve/decode.h"
#include "fuzz.h"

#define FUZZ_MAX_PACKETS 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	(void)capture_detect(data, size);
	/* fmemopen wants a writable buffer even for reading on some libcs. */
	uint8_t *copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	FILE *f = fmemopen(copy, size, "rb");
	if (!f) {
		free(copy);
		return 0;
	}
	struct capture *c = NULL;
	struct cs_diag d;
	cs_diag_clear(&d);
	if (capture_open_file(f, "fuzz.pcap", &c, &d) != CS_OK) {
		FUZZ_CHECK(c == NULL);
		free(copy);
		return 0;
	}
	struct capture_info info;
	capture_get_info(c, &info);
	struct decode_stats ds;
	memset(&ds, 0, sizeof ds);
	uint64_t bytes = 0, n = 0;
	for (int i = 0; i < FUZZ_MAX_PACKETS; i++) {
		struct capture_packet pkt;
		enum capture_status st;
		if (capture_next(c, &pkt, &st, &d) != CS_OK || st != CAPTURE_PACKET)
			break;
		n++;
		FUZZ_CHECK(pkt.number == n);
		bytes += pkt.caplen;
		struct pkt p;
		(void)decode_packet(pkt.linktype, pkt.data, pkt.caplen, &p, &ds);
	}
	struct capture_stats cs;
	if (capture_stats(c, &cs, &d) == CS_OK) {
		FUZZ_CHECK(cs.packets == n);
		FUZZ_CHECK(cs.bytes == bytes);
	}
	FUZZ_CHECK(ds.packets == n);
	capture_destroy(c);
	free(copy);
	return 0;
}
