/* Fuzz target: DNS messages (app_dns_parse, app_dns_name_read) and the TCP
 * DNS framer. The input is parsed whole as one message, then fed to the
 * framer as stream bytes in pieces whose sizes come from the input itself. */
#include <string.h>

#include "cybersieve/app.h"
#include "fuzz.h"

static bool on_name(void *user, const struct app_dns_name *n)
{
	size_t *count = user;
	FUZZ_CHECK(n->name != NULL && n->len <= APP_NAME_MAX);
	FUZZ_CHECK(strlen(n->name) == n->len);
	for (size_t i = 0; i < n->len; i++)
		FUZZ_CHECK(!(n->name[i] >= 'A' && n->name[i] <= 'Z'));
	(*count)++;
	return *count < 1000;
}

static void parse_msg(const uint8_t *msg, size_t len, struct app_dns_stats *st)
{
	size_t count = 0;
	struct app_dns_info info;
	enum cs_err e = app_dns_parse(msg, len, APP_DNS_WANT_ANSWERS, on_name, &count, &info, st);
	FUZZ_CHECK(e == CS_OK || e == CS_ERR_FORMAT);
	FUZZ_CHECK(info.names == count);
	FUZZ_CHECK(info.fault < APP_DNS_FAULT_COUNT);
}

static void on_msg(void *user, const uint8_t *msg, size_t len)
{
	parse_msg(msg, len, user);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct app_dns_stats st;
	memset(&st, 0, sizeof st);
	parse_msg(data, size, &st);

	char name[APP_NAME_BUF];
	size_t next, nlen;
	if (app_dns_name_read(data, size, 12, &next, name, &nlen) == APP_DNS_FAULT_NONE) {
		FUZZ_CHECK(nlen <= APP_NAME_MAX && strlen(name) == nlen);
		FUZZ_CHECK(next <= size);
	}

	struct app_dns_tcp t;
	app_dns_tcp_init(&t);
	size_t off = 0;
	unsigned step = 0;
	while (off < size) {
		size_t piece = 1 + (data[step % size] % 97u) * (step % 3 == 0 ? 7u : 1u);
		if (piece > size - off)
			piece = size - off;
		if (!app_dns_tcp_feed(&t, data + off, piece, on_msg, &st, &st))
			break;
		off += piece;
		if (step++ == 40 && (data[0] & 1))
			app_dns_tcp_gap(&t, 3, &st);
	}
	app_dns_tcp_fini(&t);
	return 0;
}
