/* Capture reading: pcap and pcapng files (from a path or any FILE*, so a
 * gzip-decompressing stream works too) and live interfaces, through libpcap.
 *
 * struct capture is owned by the caller and used by one thread at a time;
 * capture_breakloop() alone may be called from another thread or a signal
 * handler. Packet bytes handed out by capture_next() are borrowed: valid until
 * the next capture_next() or capture_destroy() on the same capture.
 *
 * Timestamps are nanoseconds since the Unix epoch whatever the file's own
 * precision (libpcap scales microsecond files).
 *
 * pcapng: libpcap 1.10 (the version this is built against) reads files with
 * several Interface Description Blocks only when they share one link type;
 * an interface with another link type stops the read at that point with
 * CS_ERR_UNSUPPORTED (the packets before it have been delivered). The link type
 * is therefore one per capture: struct capture_packet repeats it for callers
 * that want to be ready for per-packet link types. */
#ifndef CYBERSIEVE_CAPTURE_H
#define CYBERSIEVE_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cybersieve/error.h"

struct capture;

enum capture_format {
	CAPTURE_FMT_UNKNOWN = 0,
	CAPTURE_FMT_PCAP,       /* a1b2c3d4 / d4c3b2a1: microsecond pcap, either byte order */
	CAPTURE_FMT_PCAP_NS,    /* a1b23c4d / 4d3cb2a1: nanosecond pcap, either byte order */
	CAPTURE_FMT_PCAPNG,     /* 0a0d0d0a: pcapng section header block */
	CAPTURE_FMT_LIVE,       /* an interface, not a file */
};

/* Tell the format from a file's first bytes (n >= 4 needed, else UNKNOWN). */
enum capture_format capture_detect(const uint8_t *magic, size_t n);

struct capture_packet {
	const uint8_t *data;    /* borrowed: valid until the next capture_next/destroy */
	uint32_t caplen;        /* bytes in data */
	uint32_t len;           /* bytes on the wire */
	uint64_t ts_ns;         /* nanoseconds since the epoch */
	int linktype;           /* LINKTYPE_ number (decode.h DECODE_LINK_*) */
	uint64_t number;        /* 1-based position in the capture */
};

enum capture_status {
	CAPTURE_PACKET = 0,     /* *pkt is filled */
	CAPTURE_TIMEOUT,        /* live: no packet within the read timeout; call again */
	CAPTURE_END,            /* end of file, or the capture was stopped */
};

struct capture_info {
	enum capture_format format; /* PCAP (either precision: libpcap does not
				     * say which), PCAPNG or LIVE */
	int linktype;
	int snaplen;
	bool swapped;           /* file written in the other byte order (pcap only) */
	int version_major, version_minor; /* file format version (files only) */
};

struct capture_live_opts {
	const char *iface;      /* required */
	int snaplen;            /* 0: 262144 */
	int bufsize;            /* kernel buffer bytes; 0: libpcap's default */
	bool promisc;
	const char *bpf;        /* NULL or "" for none */
	int timeout_ms;         /* read timeout; 0: 100 */
};

struct capture_stats {
	uint64_t packets;       /* handed out by capture_next */
	uint64_t bytes;         /* sum of caplen */
	bool have_kernel;       /* the fields below are valid (live captures) */
	uint64_t kernel_recv;   /* pcap_stats ps_recv */
	uint64_t kernel_drop;   /* ps_drop: no room in the buffer */
	uint64_t kernel_ifdrop; /* ps_ifdrop: dropped by the interface */
};

/* Read a capture from f. The capture owns f from this call on and closes it
 * in capture_destroy, or before returning an error. label names the input in
 * diagnostics (a path, "-", "x.pcap.gz"). Errors: CS_ERR_FORMAT (not a capture
 * or a corrupt header: libpcap's message in d), CS_ERR_NOMEM, CS_ERR_INVALID. */
enum cs_err capture_open_file(FILE *f, const char *label, struct capture **out,
			      struct cs_diag *d);

/* fopen(path) and capture_open_file. CS_ERR_IO (errno in d) if it cannot be opened. */
enum cs_err capture_open_path(const char *path, struct capture **out, struct cs_diag *d);

/* Open and activate a live interface, then install the BPF filter. Errors:
 * CS_ERR_INVALID (no such interface, bad options), CS_ERR_IO (permission,
 * interface down, other libpcap failures), CS_ERR_PARSE (filter does not
 * compile), each with the interface and libpcap's message in d. */
enum cs_err capture_open_live(const struct capture_live_opts *opts, struct capture **out,
			      struct cs_diag *d);

/* Next packet. Errors: CS_ERR_FORMAT (a corrupt or cut-short record: d names
 * the input and the packet number; the capture then reports CAPTURE_END),
 * CS_ERR_UNSUPPORTED (pcapng interface with a second link type), CS_ERR_IO
 * (live: the interface went away). */
enum cs_err capture_next(struct capture *c, struct capture_packet *pkt,
			 enum capture_status *status, struct cs_diag *d);

void capture_get_info(const struct capture *c, struct capture_info *info);

/* Counters; kernel counters only for live captures (have_kernel). */
enum cs_err capture_stats(struct capture *c, struct capture_stats *st, struct cs_diag *d);

/* Make the current or next capture_next return CAPTURE_END. Safe from a
 * signal handler or another thread. */
void capture_breakloop(struct capture *c);

/* NULL is a no-op. */
void capture_destroy(struct capture *c);

#endif
