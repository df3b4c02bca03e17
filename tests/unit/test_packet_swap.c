/* Rule swap in a running packet pipeline (packet_swap_apply): a capture fed
 * through a pipe while packet_run() reads it on another thread, so the switch
 * falls between known packets. Checks that a flow open at the switch goes on
 * with the new rules only (its stream restarted at the right offset), that a
 * digest only the new rules need is computed for later bodies, that the
 * switch and a record-only call land in the chain in order, and that a call
 * after the run has ended changes nothing. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cybersieve/packet.h"
#include "pkt_build.h"

#define CLI 0x0a000001u
#define SRV 0x0a000002u

static uint32_t g_t;

/* One pcap record (microsecond stamps) written whole to fd. */
static void put_frame(int fd, const struct pb *p)
{
	uint32_t h[4] = {1700000000u + ++g_t, 0, (uint32_t)p->n, (uint32_t)p->n};
	assert_int_equal(write(fd, h, sizeof(h)), (ssize_t)sizeof(h));
	assert_int_equal(write(fd, p->b, p->n), (ssize_t)p->n);
}

static void tcp(int fd, uint16_t cport, bool c2s, uint32_t seq, uint8_t flags, const char *data)
{
	struct pb p = {.n = 0};
	pb_eth(&p, 0x0800);
	size_t ip = pb_ipv4(&p, 6, c2s ? CLI : SRV, c2s ? SRV : CLI, 1, 0);
	pb_tcp(&p, c2s ? cport : 80, c2s ? 80 : cport, seq, flags);
	pb_bytes(&p, data, strlen(data));
	pb_ipv4_fix(&p, ip);
	put_frame(fd, &p);
}

static void handshake(int fd, uint16_t cport)
{
	tcp(fd, cport, true, 100, 0x02, "");
	tcp(fd, cport, false, 500, 0x12, "");
	tcp(fd, cport, true, 101, 0x10, "");
}

static struct matcher *build(struct pack **p, const char *const *ids, const enum ind_type *t,
			     const char *const *vals, int n)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(pack_create_adhoc("-e", p), CS_OK);
	for (int i = 0; i < n; i++)
		assert_int_equal(pack_add(*p, ids[i], t[i], 0, vals[i], strlen(vals[i]), 1, &d),
				 CS_OK);
	pack_seal(*p);
	struct matcher *m;
	assert_int_equal(matcher_build_ex(p, 1, NULL, NULL, MATCHER_BUILD_STREAM, &m, &d), CS_OK);
	return m;
}

struct run_arg {
	const struct matcher *m;
	struct capture *cap;
	struct ev_writer *w;
	struct packet_opts *o;
	struct packet_stats st;
	enum cs_err err;
};

static void *run_main(void *a)
{
	struct run_arg *r = a;
	struct cs_diag d;
	cs_diag_clear(&d);
	r->err = packet_run(r->m, r->cap, r->w, r->o, NULL, NULL, &r->st, &d);
	return NULL;
}

struct apply_arg {
	struct packet_swap *sw;
	struct matcher *m;
	const char *tag;
	const struct matcher *old;
	struct timespec at;
	enum cs_err err;
};

static void render_tag(void *ctx, struct jbuf *j, const char *run_id, uint64_t seq,
		       const struct timespec *at)
{
	(void)at;
	ev_record_render_head(j, run_id, seq);
	json_key(j, "event");
	json_obj_open(j);
	json_kv_str(j, "tag", ctx);
	json_obj_close(j);
	json_obj_close(j);
}

static void *apply_main(void *a)
{
	struct apply_arg *x = a;
	struct cs_diag d;
	cs_diag_clear(&d);
	x->err = packet_swap_apply(x->sw, x->m, render_tag, (void *)x->tag, &x->old, &x->at, &d);
	return NULL;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *s = calloc(1, 1 << 16);
	size_t n = fread(s, 1, (1 << 16) - 1, f);
	s[n] = '\0';
	fclose(f);
	return s;
}

static int count_lines(const char *path)
{
	char *s = slurp(path);
	int n = 0;
	for (char *p = s; (p = strchr(p, '\n')); p++)
		n++;
	free(s);
	return n;
}

/* Wait (at most 20 s, so a broken build fails instead of hanging) until the
 * live records file holds n lines. */
static void wait_lines(const char *path, int n)
{
	for (int i = 0; i < 2000 && count_lines(path) < n; i++)
		usleep(10000);
	assert_int_equal(count_lines(path), n);
}

/* The n-th line (0-based) of all. */
static const char *nth(const char *all, int n, char *buf, size_t cap)
{
	const char *s = all;
	for (int i = 0; i < n; i++) {
		s = strchr(s, '\n');
		assert_non_null(s);
		s++;
	}
	const char *e = strchr(s, '\n');
	assert_non_null(e);
	assert_true((size_t)(e - s) < cap);
	memcpy(buf, s, (size_t)(e - s));
	buf[e - s] = '\0';
	return buf;
}

static void test_swap_mid_capture(void **state)
{
	(void)state;
	static const char *const ids_a[] = {"old", "common"}, *const vals_a[] = {"OLDONLY", "COMMON"};
	static const enum ind_type t_a[] = {IND_LITERAL, IND_LITERAL};
	/* md5("hello"): only the new rules need body digests. */
	static const char *const ids_b[] = {"new", "common", "body"},
			  *const vals_b[] = {"NEWONLY", "COMMON", "5d41402abc4b2a76b9719d911017c592"};
	static const enum ind_type t_b[] = {IND_LITERAL, IND_LITERAL, IND_MD5};
	struct pack *pa, *pb;
	struct matcher *ma = build(&pa, ids_a, t_a, vals_a, 2);
	struct matcher *mb = build(&pb, ids_b, t_b, vals_b, 3);
	struct cs_diag d;
	cs_diag_clear(&d);
	char dir[] = "/tmp/cs-test-swap-XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r.ndjson", dir);
	struct ev_writer *w;
	assert_int_equal(ev_writer_open(path, &w, &d), CS_OK);

	int fds[2];
	assert_int_equal(pipe(fds), 0);
	uint32_t hdr[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 65535, 1};
	assert_int_equal(write(fds[1], hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	struct capture *cap;
	assert_int_equal(capture_open_file(fdopen(fds[0], "r"), "pipe", &cap, &d), CS_OK);

	struct packet_swap *sw;
	assert_int_equal(packet_swap_create(&sw), CS_OK);
	struct packet_opts o;
	packet_opts_default(&o);
	o.threads = 2; /* idle workers take the switch without waiting for a packet */
	o.run_id = "run";
	o.source_label = "pipe";
	o.live = true;
	o.flow.mem_cap = 64u << 20;
	o.flow.max_flows = 1024;
	o.swap = sw;
	struct run_arg ra = {.m = ma, .cap = cap, .w = w, .o = &o};
	pthread_t rt;
	assert_int_equal(pthread_create(&rt, NULL, run_main, &ra), 0);

	/* Flow 1 under the old rules. */
	const char *d1 = "xx OLDONLY COMMON yy ";
	handshake(fds[1], 40000);
	tcp(fds[1], 40000, true, 101, 0x18, d1);
	wait_lines(path, 2);

	/* The switch, then a record alone. */
	struct apply_arg aa = {.sw = sw, .m = mb, .tag = "switch"};
	pthread_t at;
	assert_int_equal(pthread_create(&at, NULL, apply_main, &aa), 0);
	assert_int_equal(pthread_join(at, NULL), 0);
	assert_int_equal(aa.err, CS_OK);
	assert_ptr_equal(aa.old, ma);
	assert_true(aa.at.tv_sec > 0);
	struct apply_arg an = {.sw = sw, .m = NULL, .tag = "note"};
	apply_main(&an);
	assert_int_equal(an.err, CS_OK);
	assert_null(an.old);
	wait_lines(path, 4);

	/* Flow 1 goes on: a new engine stream at its offset, new rules only. */
	tcp(fds[1], 40000, true, 101 + (uint32_t)strlen(d1), 0x18, "zz NEWONLY OLDONLY COMMON");
	/* Flow 2: a body whose digest only the new rules want. */
	const char *req = "GET /h HTTP/1.1\r\nHost: h.example\r\n\r\n";
	handshake(fds[1], 40001);
	tcp(fds[1], 40001, true, 101, 0x18, req);
	tcp(fds[1], 40001, false, 501, 0x18, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
	close(fds[1]);
	assert_int_equal(pthread_join(rt, NULL), 0);
	assert_int_equal(ra.err, CS_OK);
	assert_int_equal(ra.st.matches, 5);

	/* After the run: nothing changes, the matcher stays the caller's. */
	struct apply_arg late = {.sw = sw, .m = ma, .tag = "late"};
	apply_main(&late);
	assert_int_equal(late.err, CS_ERR_INVALID);
	assert_null(late.old);

	assert_int_equal(ev_writer_close(w, &d), CS_OK);
	capture_destroy(cap);
	char *all = slurp(path);
	char b[8192];
	assert_non_null(strstr(nth(all, 0, b, sizeof(b)), "\"id\":\"old\""));
	assert_non_null(strstr(nth(all, 1, b, sizeof(b)), "\"id\":\"common\""));
	assert_non_null(strstr(nth(all, 2, b, sizeof(b)), "\"seq\":3,\"event\":{\"tag\":\"switch\"}"));
	assert_non_null(strstr(nth(all, 3, b, sizeof(b)), "\"seq\":4,\"event\":{\"tag\":\"note\"}"));
	/* The rest in any order between the flows, all from the new rules. */
	char want_off[32];
	snprintf(want_off, sizeof(want_off), "\"offset\":%zu", strlen(d1) + 3);
	bool saw_new = false, saw_common = false, saw_body = false;
	for (int i = 4; i < 7; i++) {
		nth(all, i, b, sizeof(b));
		assert_null(strstr(b, "\"id\":\"old\""));
		if (strstr(b, "\"id\":\"new\"")) {
			saw_new = true;
			assert_non_null(strstr(b, want_off));
		}
		saw_common |= strstr(b, "\"id\":\"common\"") != NULL;
		saw_body |= strstr(b, "\"id\":\"body\"") && strstr(b, "\"field\":\"http.body\"");
	}
	assert_true(saw_new && saw_common && saw_body);
	assert_null(strstr(all, "late"));

	/* One chain through match and event records alike. */
	uint8_t head[32], prev[32];
	ev_chain_genesis("", "r.ndjson", head);
	int lines = 0;
	for (const char *s = all; *s; lines++) {
		const char *e = strchr(s, '\n');
		assert_non_null(e);
		assert_true(ev_chain_prev(s, (size_t)(e - s + 1), prev));
		assert_memory_equal(prev, head, 32);
		ev_chain_hash(s, (size_t)(e - s + 1), head);
		s = e + 1;
	}
	assert_int_equal(lines, 7);
	free(all);
	unlink(path);
	rmdir(dir);
	packet_swap_destroy(sw);
	matcher_destroy(ma);
	matcher_destroy(mb);
	pack_destroy(pa);
	pack_destroy(pb);
}

/* A run that never starts: a waiting call gives up once the swap is closed. */
static void test_swap_closed(void **state)
{
	(void)state;
	struct packet_swap *sw;
	assert_int_equal(packet_swap_create(&sw), CS_OK);
	struct apply_arg x = {.sw = sw, .m = NULL, .tag = "never"};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, apply_main, &x), 0);
	packet_swap_close(sw);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(x.err, CS_ERR_INVALID);
	packet_swap_destroy(sw);
	packet_swap_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swap_mid_capture),
		cmocka_unit_test(test_swap_closed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
