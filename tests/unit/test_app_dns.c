/* DNS names: compression, loops, truncation, bad labels, the TCP framer,
 * and real messages from tests/data/app. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cybersieve/app.h"

struct seen {
	int n;
	char name[16][APP_NAME_BUF];
	int section[16];
	int rdata[16];
	uint16_t type[16];
	int stop_after;
};

static bool collect(void *user, const struct app_dns_name *nm)
{
	struct seen *s = user;

	assert_int_equal(strlen(nm->name), nm->len);
	if (s->n < 16) {
		memcpy(s->name[s->n], nm->name, nm->len + 1);
		s->section[s->n] = nm->section;
		s->rdata[s->n] = nm->in_rdata;
		s->type[s->n] = nm->type;
	}
	s->n++;
	return !(s->stop_after && s->n >= s->stop_after);
}

/* Message builder: header then raw bytes. */
struct msg {
	uint8_t b[1024];
	size_t n;
};

static void hdr(struct msg *m, uint16_t qd, uint16_t an)
{
	uint8_t h[12] = { 0x12, 0x34, 0x81, 0x80, qd >> 8, qd & 0xff, an >> 8, an & 0xff, 0, 0, 0, 0 };

	memcpy(m->b, h, 12);
	m->n = 12;
}

static void raw(struct msg *m, const void *p, size_t n)
{
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void u16(struct msg *m, uint16_t v)
{
	uint8_t b[2] = { v >> 8, v & 0xff };

	raw(m, b, 2);
}

static void test_compression(void **state)
{
	(void)state;
	struct msg m;
	struct seen s = { 0 };
	struct app_dns_info info;
	struct app_dns_stats st = { 0 };

	hdr(&m, 1, 2);
	/* question at 12: WWW.Example.COM */
	raw(&m, "\3WWW\7Example\3COM\0", 17);
	u16(&m, 1);
	u16(&m, 1);
	/* answer 1: owner = pointer to 12, CNAME -> "cdn" + pointer to "example.com" (16) */
	raw(&m, "\xc0\x0c", 2);
	u16(&m, 5); u16(&m, 1); u16(&m, 0); u16(&m, 60);
	u16(&m, 6);
	size_t cdn = m.n;
	raw(&m, "\3cdn\xc0\x10", 6);
	/* answer 2: owner = pointer to the CNAME target, A record */
	u16(&m, 0xc000 | (uint16_t)cdn);
	u16(&m, 1); u16(&m, 1); u16(&m, 0); u16(&m, 60);
	u16(&m, 4);
	raw(&m, "\1\2\3\4", 4);

	assert_int_equal(app_dns_parse(m.b, m.n, APP_DNS_WANT_ANSWERS, collect, &s, &info, &st), CS_OK);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.name[0], "www.example.com");
	assert_int_equal(s.section[0], APP_DNS_QUESTION);
	assert_int_equal(s.type[0], 1);
	assert_string_equal(s.name[1], "www.example.com");
	assert_int_equal(s.section[1], APP_DNS_ANSWER);
	assert_int_equal(s.type[1], 5);
	assert_string_equal(s.name[2], "cdn.example.com");
	assert_true(s.rdata[2]);
	assert_string_equal(s.name[3], "cdn.example.com");
	assert_false(s.rdata[3]);
	assert_int_equal(info.fault, APP_DNS_FAULT_NONE);
	assert_int_equal(info.qdcount, 1);
	assert_int_equal(info.ancount, 2);
	assert_int_equal(st.names, 4);

	/* without the flag only the question */
	memset(&s, 0, sizeof(s));
	assert_int_equal(app_dns_parse(m.b, m.n, 0, collect, &s, NULL, NULL), CS_OK);
	assert_int_equal(s.n, 1);

	/* the callback may stop the walk */
	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	assert_int_equal(app_dns_parse(m.b, m.n, APP_DNS_WANT_ANSWERS, collect, &s, NULL, NULL), CS_OK);
	assert_int_equal(s.n, 2);
}

static void test_loops_and_pointers(void **state)
{
	(void)state;
	struct msg m;
	struct seen s = { 0 };
	struct app_dns_info info;
	struct app_dns_stats st = { 0 };

	/* a pointer to itself */
	hdr(&m, 1, 0);
	raw(&m, "\xc0\x0c", 2);
	u16(&m, 1); u16(&m, 1);
	assert_int_equal(app_dns_parse(m.b, m.n, 0, collect, &s, &info, &st), CS_ERR_FORMAT);
	assert_int_equal(info.fault, APP_DNS_FAULT_POINTER);
	assert_int_equal(s.n, 0);

	/* two names pointing at each other: the second points forward */
	hdr(&m, 2, 0);
	raw(&m, "\1a\xc0\x16", 4);  /* 12: "a" -> 22 (forward) */
	u16(&m, 1); u16(&m, 1);
	raw(&m, "\1b\xc0\x0c", 4);  /* 20..: "b" -> 12 */
	u16(&m, 1); u16(&m, 1);
	assert_int_equal(app_dns_parse(m.b, m.n, 0, collect, &s, &info, &st), CS_ERR_FORMAT);
	assert_int_equal(info.fault, APP_DNS_FAULT_POINTER);

	/* backwards but into the run that holds it: 12:"a" 14:"b" 16:->14 */
	hdr(&m, 2, 0);
	raw(&m, "\1x\0", 3);       /* 12: a proper first name */
	u16(&m, 1); u16(&m, 1);
	size_t at = m.n;           /* 19 */
	raw(&m, "\1a\1b", 4);
	u16(&m, 0xc000 | (uint16_t)(at + 2)); /* points at "b", inside its own run */
	u16(&m, 1); u16(&m, 1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(app_dns_parse(m.b, m.n, 0, collect, &s, &info, &st), CS_ERR_FORMAT);
	assert_int_equal(info.fault, APP_DNS_FAULT_POINTER);
	assert_int_equal(s.n, 1); /* the name before the fault was reported */
	assert_string_equal(s.name[0], "x");
	assert_true(st.faults[APP_DNS_FAULT_POINTER] >= 3);

	/* a long chain of backward pointers hits the cap */
	hdr(&m, 1, 0);
	raw(&m, "\0", 1);          /* 12: root */
	for (int i = 0; i < APP_DNS_MAX_POINTERS + 4; i++)
		u16(&m, 0xc000 | (uint16_t)(m.n - (i ? 2 : 1)));
	char out[APP_NAME_BUF];
	size_t len, next;
	assert_int_equal(app_dns_name_read(m.b, m.n, m.n - 2, &next, out, &len), APP_DNS_FAULT_LOOP);
	assert_int_equal(app_dns_name_read(m.b, m.n, 13, &next, out, &len), APP_DNS_FAULT_NONE);
	assert_string_equal(out, ".");
}

static void test_truncated_and_bad(void **state)
{
	(void)state;
	struct msg m;
	struct seen s = { 0 };
	struct app_dns_info info;

	hdr(&m, 1, 0);
	raw(&m, "\7example\3com\0", 13);
	u16(&m, 1); u16(&m, 1);
	/* every strict prefix is refused without a crash or a bogus name */
	for (size_t cut = 0; cut < m.n; cut++) {
		memset(&s, 0, sizeof(s));
		uint8_t *copy = malloc(cut ? cut : 1);
		memcpy(copy, m.b, cut);
		assert_int_equal(app_dns_parse(copy, cut, 0, collect, &s, &info, NULL), CS_ERR_FORMAT);
		assert_int_equal(info.fault, APP_DNS_FAULT_SHORT);
		assert_int_equal(s.n, 0);
		free(copy);
	}
	assert_int_equal(app_dns_parse(m.b, m.n, 0, collect, &s, &info, NULL), CS_OK);
	assert_int_equal(s.n, 1);

	/* reserved label type 0x40 */
	hdr(&m, 1, 0);
	raw(&m, "\x41" "a\0", 3);
	u16(&m, 1); u16(&m, 1);
	assert_int_equal(app_dns_parse(m.b, m.n, 0, collect, &s, &info, NULL), CS_ERR_FORMAT);
	assert_int_equal(info.fault, APP_DNS_FAULT_LABEL_TYPE);

	/* a label with a dot or a space: name skipped, next question still read */
	hdr(&m, 2, 0);
	raw(&m, "\3a.b\3com\0", 9);
	u16(&m, 1); u16(&m, 1);
	raw(&m, "\4good\3com\0", 10);
	u16(&m, 1); u16(&m, 1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(app_dns_parse(m.b, m.n, 0, collect, &s, &info, NULL), CS_ERR_FORMAT);
	assert_int_equal(info.fault, APP_DNS_FAULT_CHARS);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.name[0], "good.com");

	/* a name over 253 characters of text */
	hdr(&m, 1, 0);
	for (int i = 0; i < 5; i++) {
		uint8_t l = 63;
		raw(&m, &l, 1);
		memset(m.b + m.n, 'a', 63);
		m.n += 63;
	}
	raw(&m, "\0", 1);
	u16(&m, 1); u16(&m, 1);
	assert_int_equal(app_dns_parse(m.b, m.n, 0, collect, &s, &info, NULL), CS_ERR_FORMAT);
	assert_int_equal(info.fault, APP_DNS_FAULT_TOO_LONG);

	/* a name of exactly 253 characters is fine: 63+1+63+1+63+1+61 */
	hdr(&m, 1, 0);
	const uint8_t lens[4] = { 63, 63, 63, 61 };
	for (int i = 0; i < 4; i++) {
		raw(&m, &lens[i], 1);
		memset(m.b + m.n, 'b', lens[i]);
		m.n += lens[i];
	}
	raw(&m, "\0", 1);
	u16(&m, 1); u16(&m, 1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(app_dns_parse(m.b, m.n, 0, collect, &s, &info, NULL), CS_OK);
	assert_int_equal(strlen(s.name[0]), 253);

	assert_int_equal(app_dns_parse(NULL, 5, 0, collect, &s, &info, NULL), CS_ERR_INVALID);
}

static uint8_t *load(const char *rel, size_t *n)
{
	char path[4096];
	const char *root = getenv("CS_SOURCE_DIR");

	snprintf(path, sizeof(path), "%s/tests/data/app/%s", root ? root : ".", rel);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	uint8_t *b = malloc(1 << 16);
	*n = fread(b, 1, 1 << 16, f);
	fclose(f);
	return b;
}

static void test_real_messages(void **state)
{
	(void)state;
	size_t n;
	uint8_t *b = load("dns-udp-github-response.bin", &n);
	struct seen s = { 0 };
	struct app_dns_info info;

	assert_int_equal(app_dns_parse(b, n, APP_DNS_WANT_ANSWERS, collect, &s, &info, NULL), CS_OK);
	assert_int_equal(info.id, 0xe039);
	assert_true(info.flags & 0x8000);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.name[0], "www.github.com");
	assert_string_equal(s.name[1], "www.github.com");
	assert_int_equal(s.type[1], 5);
	assert_string_equal(s.name[2], "github.com");
	assert_true(s.rdata[2]);
	assert_string_equal(s.name[3], "github.com");
	free(b);

	b = load("dns-udp-ptr-query.bin", &n);
	memset(&s, 0, sizeof(s));
	assert_int_equal(app_dns_parse(b, n, APP_DNS_WANT_ANSWERS, collect, &s, &info, NULL), CS_OK);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.name[0], "10.100.10.10.in-addr.arpa");
	assert_int_equal(s.type[0], 255);
	free(b);
}

struct framed {
	int n;
	size_t len[8];
	uint8_t first[8];
};

static void on_msg(void *user, const uint8_t *msg, size_t len)
{
	struct framed *f = user;

	if (f->n < 8) {
		f->len[f->n] = len;
		f->first[f->n] = len ? msg[len - 1] : 0;
	}
	f->n++;
}

static void test_tcp_framer(void **state)
{
	(void)state;
	uint8_t stream[3 + 2 + 300 + 2 + 40];
	size_t n = 0;

	/* three messages of 1, 300 and 40 bytes, last byte = its length tag */
	stream[n++] = 0; stream[n++] = 1; stream[n++] = 0xa1;
	stream[n++] = 300 >> 8; stream[n++] = 300 & 0xff;
	memset(stream + n, 7, 300); n += 300; stream[n - 1] = 0xb2;
	stream[n++] = 0; stream[n++] = 40;
	memset(stream + n, 9, 40); n += 40; stream[n - 1] = 0xc3;

	for (size_t piece = 1; piece <= n; piece++) {
		struct app_dns_tcp t;
		struct framed f = { 0 };

		app_dns_tcp_init(&t);
		for (size_t off = 0; off < n; off += piece) {
			size_t k = n - off < piece ? n - off : piece;
			assert_true(app_dns_tcp_feed(&t, stream + off, k, on_msg, &f, NULL));
		}
		assert_int_equal(f.n, 3);
		assert_int_equal(f.len[0], 1);
		assert_int_equal(f.len[1], 300);
		assert_int_equal(f.len[2], 40);
		assert_int_equal(f.first[0], 0xa1);
		assert_int_equal(f.first[1], 0xb2);
		assert_int_equal(f.first[2], 0xc3);
		app_dns_tcp_fini(&t);
	}

	/* a gap inside a message keeps framing; a gap in a prefix loses it */
	struct app_dns_tcp t;
	struct framed f = { 0 };
	struct app_dns_stats st = { 0 };

	app_dns_tcp_init(&t);
	assert_true(app_dns_tcp_feed(&t, stream, 3 + 2 + 100, on_msg, &f, &st));
	app_dns_tcp_gap(&t, 100, &st);
	assert_true(app_dns_tcp_feed(&t, stream + 205, n - 205, on_msg, &f, &st));
	assert_int_equal(f.n, 2);
	assert_int_equal(f.len[1], 40);
	app_dns_tcp_gap(&t, 1, &st);
	assert_false(app_dns_tcp_feed(&t, stream, n, on_msg, &f, &st));
	assert_int_equal(st.tcp_gaps, 1);
	app_dns_tcp_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compression),
		cmocka_unit_test(test_loops_and_pointers),
		cmocka_unit_test(test_truncated_and_bad),
		cmocka_unit_test(test_real_messages),
		cmocka_unit_test(test_tcp_framer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
