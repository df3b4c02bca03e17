/* Capture reading through libpcap: files (pcap in both byte orders and both
 * precisions, pcapng) from any FILE*, and live interfaces. The pcap handle
 * owns the FILE* and the packet buffer; packets are borrowed until the next
 * read. One thread per capture; capture_breakloop from anywhere. */
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>

#include <pcap/pcap.h>

#include "cybersieve/capture.h"

#define CAPTURE_LIVE_SNAPLEN 262144
#define CAPTURE_LIVE_TIMEOUT_MS 100

struct capture {
	pcap_t *pcap;
	enum capture_format format;
	bool nano;              /* timestamps come in nanoseconds */
	bool done;              /* end reached or an error reported */
	atomic_int stop;        /* set by capture_breakloop */
	int linktype;
	int poll_fd;            /* live: wait here, so an idle link still times out */
	int poll_ms;
	uint64_t packets, bytes;
	char label[512];
};

enum capture_format capture_detect(const uint8_t *magic, size_t n)
{
	if (!magic || n < 4)
		return CAPTURE_FMT_UNKNOWN;
	uint32_t be = (uint32_t)magic[0] << 24 | (uint32_t)magic[1] << 16 |
		      (uint32_t)magic[2] << 8 | magic[3];
	switch (be) {
	case 0xa1b2c3d4:
	case 0xd4c3b2a1:
		return CAPTURE_FMT_PCAP;
	case 0xa1b23c4d:
	case 0x4d3cb2a1:
		return CAPTURE_FMT_PCAP_NS;
	case 0x0a0d0d0a:
		return CAPTURE_FMT_PCAPNG;
	default:
		return CAPTURE_FMT_UNKNOWN;
	}
}

static struct capture *capture_alloc(const char *label)
{
	struct capture *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	atomic_init(&c->stop, 0);
	c->poll_fd = -1;
	snprintf(c->label, sizeof(c->label), "%s", label ? label : "");
	return c;
}

/* The format of an opened file, from what libpcap reports and the magic it read. */
static enum capture_format capture_file_format(pcap_t *p)
{
	/* libpcap reports pcapng files as version 1.0 of "pcap"; the section
	 * header block gives no other sign through the API, so tell it apart by
	 * the major version of pcap files, which is 2. */
	if (pcap_major_version(p) == 1)
		return CAPTURE_FMT_PCAPNG;
	return CAPTURE_FMT_PCAP;
}

enum cs_err capture_open_file(FILE *f, const char *label, struct capture **out,
			      struct cs_diag *d)
{
	*out = NULL;
	if (!f) {
		cs_diag_set(d, label, CS_DIAG_NONE, CS_DIAG_NONE, "no stream to read");
		return CS_ERR_INVALID;
	}
	enum cs_err err = CS_OK;
	struct capture *c = capture_alloc(label);
	if (!c) {
		cs_diag_set(d, label, CS_DIAG_NONE, CS_DIAG_NONE, "out of memory");
		err = CS_ERR_NOMEM;
		goto out;
	}
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	c->pcap = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!c->pcap) {
		cs_diag_set(d, label, CS_DIAG_NONE, CS_DIAG_NONE, "not a readable capture: %s",
			    ebuf);
		err = CS_ERR_FORMAT;
		goto out;
	}
	f = NULL; /* pcap_close closes it now */
	c->nano = pcap_get_tstamp_precision(c->pcap) == PCAP_TSTAMP_PRECISION_NANO;
	c->linktype = pcap_datalink(c->pcap);
	c->format = capture_file_format(c->pcap);
	*out = c;
	c = NULL;
out:
	if (f)
		fclose(f);
	capture_destroy(c);
	return err;
}

enum cs_err capture_open_path(const char *path, struct capture **out, struct cs_diag *d)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		cs_diag_set(d, path, CS_DIAG_NONE, CS_DIAG_NONE, "cannot open: %s", strerror(e));
		if (d)
			d->sys_errno = e;
		return CS_ERR_IO;
	}
	return capture_open_file(f, path, out, d);
}

/* libpcap's activation result as our error, with its message in d. */
static enum cs_err capture_activate_err(struct capture *c, int rc, struct cs_diag *d)
{
	const char *what = pcap_statustostr(rc);
	const char *msg = pcap_geterr(c->pcap);
	cs_diag_set(d, c->label, CS_DIAG_NONE, CS_DIAG_NONE, "cannot capture: %s%s%s", what,
		    msg && msg[0] ? ": " : "", msg ? msg : "");
	switch (rc) {
	case PCAP_ERROR_NO_SUCH_DEVICE:
	case PCAP_ERROR_RFMON_NOTSUP:
	case PCAP_ERROR_ACTIVATED:
		return CS_ERR_INVALID;
	case PCAP_ERROR_PERM_DENIED:
	case PCAP_ERROR_PROMISC_PERM_DENIED:
		if (d)
			d->sys_errno = EPERM;
		return CS_ERR_IO;
	default:
		return CS_ERR_IO;
	}
}

static enum cs_err capture_set_filter(struct capture *c, const char *expr, struct cs_diag *d)
{
	struct bpf_program prog;
	if (pcap_compile(c->pcap, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		cs_diag_set(d, c->label, CS_DIAG_NONE, CS_DIAG_NONE, "bad filter \"%s\": %s",
			    expr, pcap_geterr(c->pcap));
		return CS_ERR_PARSE;
	}
	int rc = pcap_setfilter(c->pcap, &prog);
	pcap_freecode(&prog);
	if (rc < 0) {
		cs_diag_set(d, c->label, CS_DIAG_NONE, CS_DIAG_NONE, "cannot set filter: %s",
			    pcap_geterr(c->pcap));
		return CS_ERR_IO;
	}
	return CS_OK;
}

/* Options applied before activation; each failure here means a bad option. */
static enum cs_err capture_set_options(struct capture *c, const struct capture_live_opts *o,
				       struct cs_diag *d)
{
	int snaplen = o->snaplen > 0 ? o->snaplen : CAPTURE_LIVE_SNAPLEN;
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : CAPTURE_LIVE_TIMEOUT_MS;
	if (pcap_set_snaplen(c->pcap, snaplen) != 0 || pcap_set_promisc(c->pcap, o->promisc) != 0 ||
	    pcap_set_timeout(c->pcap, timeout) != 0 ||
	    (o->bufsize > 0 && pcap_set_buffer_size(c->pcap, o->bufsize) != 0)) {
		cs_diag_set(d, c->label, CS_DIAG_NONE, CS_DIAG_NONE, "cannot set capture options");
		return CS_ERR_INVALID;
	}
	/* Nanosecond stamps where the platform has them; microseconds otherwise. */
	(void)pcap_set_tstamp_precision(c->pcap, PCAP_TSTAMP_PRECISION_NANO);
	return CS_OK;
}

enum cs_err capture_open_live(const struct capture_live_opts *opts, struct capture **out,
			      struct cs_diag *d)
{
	*out = NULL;
	if (!opts || !opts->iface || !opts->iface[0]) {
		cs_diag_set(d, NULL, CS_DIAG_NONE, CS_DIAG_NONE, "no interface given");
		return CS_ERR_INVALID;
	}
	enum cs_err err = CS_OK;
	struct capture *c = capture_alloc(opts->iface);
	if (!c) {
		cs_diag_set(d, opts->iface, CS_DIAG_NONE, CS_DIAG_NONE, "out of memory");
		return CS_ERR_NOMEM;
	}
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	c->pcap = pcap_create(opts->iface, ebuf);
	if (!c->pcap) {
		cs_diag_set(d, opts->iface, CS_DIAG_NONE, CS_DIAG_NONE, "cannot capture: %s", ebuf);
		err = CS_ERR_IO;
		goto out;
	}
	err = capture_set_options(c, opts, d);
	if (err != CS_OK)
		goto out;
	int rc = pcap_activate(c->pcap);
	if (rc < 0) { /* > 0 is a warning (e.g. promiscuous mode unsupported) */
		err = capture_activate_err(c, rc, d);
		goto out;
	}
	if (opts->bpf && opts->bpf[0]) {
		err = capture_set_filter(c, opts->bpf, d);
		if (err != CS_OK)
			goto out;
	}
	c->nano = pcap_get_tstamp_precision(c->pcap) == PCAP_TSTAMP_PRECISION_NANO;
	c->linktype = pcap_datalink(c->pcap);
	c->format = CAPTURE_FMT_LIVE;
	/* A blocking read can wait for ever on an idle link (the kernel's block
	 * timeout only retires blocks that hold packets): read without blocking and
	 * wait in poll() with the timeout instead. */
	c->poll_ms = opts->timeout_ms > 0 ? opts->timeout_ms : CAPTURE_LIVE_TIMEOUT_MS;
	if (pcap_setnonblock(c->pcap, 1, ebuf) == 0)
		c->poll_fd = pcap_get_selectable_fd(c->pcap);
	*out = c;
	c = NULL;
out:
	capture_destroy(c);
	return err;
}

/* A read error: say where, then report the end from now on. */
static enum cs_err capture_read_err(struct capture *c, struct cs_diag *d)
{
	const char *msg = pcap_geterr(c->pcap);
	enum cs_err err = CS_ERR_FORMAT;
	if (c->format == CAPTURE_FMT_LIVE)
		err = CS_ERR_IO;
	else if (strstr(msg, "different from the type of the first interface"))
		err = CS_ERR_UNSUPPORTED;
	uint64_t off = CS_DIAG_NONE;
	FILE *f = c->format == CAPTURE_FMT_LIVE ? NULL : pcap_file(c->pcap);
	if (f) {
		off_t pos = ftello(f);
		if (pos >= 0)
			off = (uint64_t)pos;
	}
	cs_diag_set(d, c->label, CS_DIAG_NONE, off, "packet %llu: %s",
		    (unsigned long long)c->packets + 1, msg);
	c->done = true;
	return err;
}

enum cs_err capture_next(struct capture *c, struct capture_packet *pkt,
			 enum capture_status *status, struct cs_diag *d)
{
	*status = CAPTURE_END;
	if (c->done || atomic_load(&c->stop))
		return CS_OK;
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc = pcap_next_ex(c->pcap, &h, &data);
	if (rc == 0 && c->poll_fd >= 0) {
		struct pollfd pfd = {.fd = c->poll_fd, .events = POLLIN};
		if (poll(&pfd, 1, c->poll_ms) > 0)
			rc = pcap_next_ex(c->pcap, &h, &data);
	}
	switch (rc) {
	case 1:
		break;
	case 0:
		*status = CAPTURE_TIMEOUT;
		return CS_OK;
	case PCAP_ERROR_BREAK: /* end of file, or capture_breakloop */
		c->done = true;
		return CS_OK;
	default:
		return capture_read_err(c, d);
	}
	c->packets++;
	c->bytes += h->caplen;
	pkt->data = data;
	pkt->caplen = h->caplen;
	pkt->len = h->len;
	uint64_t frac = (uint64_t)h->ts.tv_usec * (c->nano ? 1u : 1000u);
	pkt->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000u + frac;
	pkt->linktype = c->linktype;
	pkt->number = c->packets;
	*status = CAPTURE_PACKET;
	return CS_OK;
}

void capture_get_info(const struct capture *c, struct capture_info *info)
{
	memset(info, 0, sizeof(*info));
	info->format = c->format;
	info->linktype = c->linktype;
	info->snaplen = pcap_snapshot(c->pcap);
	if (c->format != CAPTURE_FMT_LIVE) {
		info->swapped = pcap_is_swapped(c->pcap) == 1;
		info->version_major = pcap_major_version(c->pcap);
		info->version_minor = pcap_minor_version(c->pcap);
	}
}

enum cs_err capture_stats(struct capture *c, struct capture_stats *st, struct cs_diag *d)
{
	memset(st, 0, sizeof(*st));
	st->packets = c->packets;
	st->bytes = c->bytes;
	if (c->format != CAPTURE_FMT_LIVE)
		return CS_OK;
	struct pcap_stat ps;
	if (pcap_stats(c->pcap, &ps) < 0) {
		cs_diag_set(d, c->label, CS_DIAG_NONE, CS_DIAG_NONE, "cannot read counters: %s",
			    pcap_geterr(c->pcap));
		return CS_ERR_IO;
	}
	st->have_kernel = true;
	st->kernel_recv = ps.ps_recv;
	st->kernel_drop = ps.ps_drop;
	st->kernel_ifdrop = ps.ps_ifdrop;
	return CS_OK;
}

void capture_breakloop(struct capture *c)
{
	atomic_store(&c->stop, 1);
	/* Wakes a live read blocked in the kernel; files see the flag above. */
	if (c->format == CAPTURE_FMT_LIVE)
		pcap_breakloop(c->pcap);
}

void capture_destroy(struct capture *c)
{
	if (!c)
		return;
	if (c->pcap)
		pcap_close(c->pcap);
	free(c);
}
