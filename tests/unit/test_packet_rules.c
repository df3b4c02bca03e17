/* Combination rules over flows (scope flow and flow-dir) in the packet
 * pipeline, on captures built in memory: a rule over both directions of a
 * flow, the same parts under flow-dir (one direction each), NOT keeping a
 * flow out, parts in two flows that never join, part-only indicators that
 * write no record, the rule record's parts and flow; the per-flow part cap
 * (parts dropped are counted; a flow that lost parts does not fire a rule
 * with a NOT); the parts' memory given back to the flow budget; the same
 * records whatever the number of worker threads; a rule switch in a live
 * run (parts of the old rules dropped, the flow judged on what came after,
 * without its NOT rules). Also the scope words and the partial-scope rule of
 * combo_scope_end. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "correlate/combo.h"
#include "cybersieve/packet.h"
#include "pkt_build.h"

#define HEAD "@name fl\n@category scam\n@source test\n@licence CC0-1.0\n@tlp clear\n"

static struct pack *parse(const char *body)
{
	size_t n = strlen(HEAD) + strlen(body) + 1;
	char *buf = malloc(n);
	assert_non_null(buf);
	snprintf(buf, n, HEAD "%s", body);
	struct pack *p = NULL;
	struct cs_diag d;
	cs_diag_clear(&d);
	if (pack_parse("fl.pack", buf, strlen(buf), &p, &d) != CS_OK)
		fail_msg("pack: %s", d.msg);
	free(buf);
	return p;
}

/* ------------------------------------------------------------ scopes --- */

static bool count_fire(void *user, const struct combo_fire *f)
{
	(void)f;
	(*(int *)user)++;
	return true;
}

static void test_scope_words(void **state)
{
	(void)state;
	struct pack *p = parse("a literal/q aaa\nb literal/q bbb\n"
			       "r1 combo scope=flow a & b\nr2 combo scope=flow-dir a & !b\n"
			       "r3 combo a\nr4 combo scope=message a | b\nr5 combo scope=flow-dir a\n");
	struct matcher *m;
	struct combo_set *cs;
	struct cs_diag d;
	assert_int_equal(matcher_build(&p, 1, NULL, NULL, &m, &d), CS_OK);
	assert_int_equal(combo_set_create(m, NULL, NULL, &cs, &d), CS_OK);
	assert_int_equal(combo_count(cs, COMBO_SCOPE_FLOW), 1);
	assert_int_equal(combo_count(cs, COMBO_SCOPE_FLOW_DIR), 2);
	assert_int_equal(combo_count(cs, COMBO_SCOPE_LINE), 1);
	assert_int_equal(combo_count(cs, COMBO_SCOPE_MESSAGE), 1);
	uint32_t ia = 0;
	while (strcmp(matcher_get(m, ia)->ind->id, "a") != 0)
		ia++;
	assert_true(combo_wants(cs, COMBO_SCOPE_FLOW_DIR, ia));
	assert_string_equal(combo_scope_name(COMBO_SCOPE_FLOW), "flow");
	assert_string_equal(combo_scope_name(COMBO_SCOPE_FLOW_DIR), "flow-dir");

	/* A scope partly read: the rule with a NOT is held back and counted,
	 * the one without fires. Read whole, both fire. */
	struct combo_scope sc;
	assert_int_equal(combo_scope_init(&sc, cs, COMBO_SCOPE_FLOW_DIR, 16), CS_OK);
	struct combo_part a = {.ind = ia, .length = 3, .text = (const uint8_t *)"aaa", .text_len = 3};
	int fired = 0;
	assert_int_equal(combo_scope_add(&sc, &a), CS_OK);
	sc.partial = true;
	assert_true(combo_scope_end(&sc, count_fire, &fired));
	assert_int_equal(fired, 1);
	assert_int_equal(sc.held_partial, 1);
	assert_false(sc.partial);
	fired = 0;
	assert_int_equal(combo_scope_add(&sc, &a), CS_OK);
	assert_true(combo_scope_end(&sc, count_fire, &fired));
	assert_int_equal(fired, 2);
	assert_int_equal(sc.held_partial, 1);
	combo_scope_fini(&sc);
	combo_set_destroy(cs);
	matcher_destroy(m);
	pack_destroy(p);

	p = parse("a literal/q aaa\nr combo scope=flows a\n");
	assert_int_equal(matcher_build(&p, 1, NULL, NULL, &m, &d), CS_OK);
	assert_int_equal(combo_set_create(m, NULL, NULL, &cs, &d), CS_ERR_PARSE);
	assert_non_null(strstr(d.msg, "unknown scope (line, message, flow or flow-dir)"));
	matcher_destroy(m);
	pack_destroy(p);
}

/* ---------------------------------------------------------- captures --- */

#define SRV 0x0a000002u

struct cap_buf {
	uint8_t *b;
	size_t n, cap;
	uint32_t t;
};

static void cap_put(struct cap_buf *c, const void *d, size_t n)
{
	if (c->n + n > c->cap) {
		c->cap = (c->n + n) * 2;
		c->b = realloc(c->b, c->cap);
		assert_non_null(c->b);
	}
	memcpy(c->b + c->n, d, n);
	c->n += n;
}

static void cap_u32(struct cap_buf *c, uint32_t v)
{
	cap_put(c, &v, 4);
}

static void cap_frame(struct cap_buf *c, const struct pb *p)
{
	c->t++;
	cap_u32(c, 1700000000u + c->t);
	cap_u32(c, 0);
	cap_u32(c, (uint32_t)p->n);
	cap_u32(c, (uint32_t)p->n);
	cap_put(c, p->b, p->n);
}

static struct cap_buf cap_start(void)
{
	struct cap_buf c = {0};
	uint32_t hdr[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 65535, 1};
	cap_put(&c, hdr, sizeof(hdr));
	return c;
}

/* A TCP segment between client cli:cport and SRV:80. */
static void tcp_frame(struct cap_buf *c, uint32_t cli, uint16_t cport, bool c2s, uint32_t seq,
		      uint8_t flags, const char *data)
{
	struct pb p = {.n = 0};
	pb_eth(&p, 0x0800);
	size_t ip = pb_ipv4(&p, 6, c2s ? cli : SRV, c2s ? SRV : cli, 1, 0);
	pb_tcp(&p, c2s ? cport : 80, c2s ? 80 : cport, seq, flags);
	pb_bytes(&p, data, strlen(data));
	pb_ipv4_fix(&p, ip);
	cap_frame(c, &p);
}

/* One HTTP exchange: handshake, request, response (4 packets). */
static void http_flow(struct cap_buf *c, uint32_t cli, uint16_t cport, const char *req,
		      const char *resp)
{
	tcp_frame(c, cli, cport, true, 100, 0x02, "");
	tcp_frame(c, cli, cport, false, 500, 0x12, "");
	tcp_frame(c, cli, cport, true, 101, 0x18, req);
	tcp_frame(c, cli, cport, false, 501, 0x18, resp);
}

/* Packets 1-4: flow A (10.0.0.1) asks www.evil.example with TOKENA, the
 * answer holds MARKB; 5-8: flow B (10.0.0.3) sends TOKENA to another host,
 * the answer holds nothing listed; 9-12: flow C (10.0.0.5) asks
 * www.evil.example, and MARKB comes in flow D (10.0.0.7, 13-16). */
static struct cap_buf build_flows(void)
{
	struct cap_buf c = cap_start();
	const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
	http_flow(&c, 0x0a000001u, 40000,
		  "GET /a HTTP/1.1\r\nHost: www.evil.example\r\nX: TOKENA\r\n\r\n",
		  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nMARKB");
	http_flow(&c, 0x0a000003u, 40001, "GET /b HTTP/1.1\r\nHost: fine.example\r\nX: TOKENA\r\n\r\n",
		  ok);
	http_flow(&c, 0x0a000005u, 40002, "GET /c HTTP/1.1\r\nHost: www.evil.example\r\n\r\n", ok);
	http_flow(&c, 0x0a000007u, 40003, "GET /d HTTP/1.1\r\nHost: fine.example\r\n\r\n",
		  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nMARKB");
	return c;
}

static const char *const FLOW_PACK =
	"d domain/q evil.example\n"
	"ta literal/q TOKENA\n"
	"mb literal MARKB\n"
	"r-flow combo scope=flow d & ta & mb\n"
	"r-dir combo scope=flow-dir d & mb\n"
	"r-dir2 combo scope=flow-dir ta & !d\n"
	"r-not combo scope=flow ta & !mb\n"
	"r-cross combo scope=flow (d & mb) & !ta\n"
	"r-line combo d & ta\n";

struct run {
	char *out;
	struct packet_stats st;
	uint64_t per_ind[64];
};

static void run_once(struct cap_buf *c, const char *pack_body, bool with_rules, unsigned threads,
		     struct run *r)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	struct pack *p = parse(pack_body);
	struct matcher *m;
	struct combo_set *cs;
	assert_int_equal(matcher_build(&p, 1, NULL, NULL, &m, &d), CS_OK);
	assert_int_equal(combo_set_create(m, NULL, NULL, &cs, &d), CS_OK);
	assert_true(matcher_count(m) <= 64);
	char dir[] = "/tmp/cs-test-prules-XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r.ndjson", dir);
	struct ev_writer *w;
	assert_int_equal(ev_writer_open(path, &w, &d), CS_OK);
	struct capture *cap;
	FILE *f = fmemopen(c->b, c->n, "r");
	assert_int_equal(capture_open_file(f, "mem.pcap", &cap, &d), CS_OK);
	struct packet_opts o;
	packet_opts_default(&o);
	o.threads = threads;
	o.run_id = "run";
	o.source_label = "mem.pcap";
	o.flow.mem_cap = 64u << 20;
	o.flow.max_flows = 1024;
	o.combos = with_rules ? cs : NULL;
	memset(r, 0, sizeof(*r));
	r->st.ind_matches = r->per_ind;
	assert_int_equal(packet_run(m, cap, w, &o, NULL, NULL, &r->st, &d), CS_OK);
	capture_destroy(cap);
	assert_int_equal(ev_writer_close(w, &d), CS_OK);
	FILE *rf = fopen(path, "r");
	assert_non_null(rf);
	r->out = calloc(1, 1 << 18);
	size_t n = fread(r->out, 1, (1 << 18) - 1, rf);
	fclose(rf);
	r->out[n] = '\0';
	unlink(path);
	rmdir(dir);
	combo_set_destroy(cs);
	matcher_destroy(m);
	pack_destroy(p);
}

/* The records as one line each: "id scope|field parts..." with the parts as
 * id:field:direction:first-last. */
static void summary(const char *all, char *out, size_t cap)
{
	out[0] = '\0';
	for (const char *s = all; *s;) {
		const char *e = strchr(s, '\n');
		assert_non_null(e);
		char rec[8192];
		size_t len = (size_t)(e - s);
		assert_true(len < sizeof(rec));
		memcpy(rec, s, len);
		rec[len] = '\0';
		char id[64] = "", what[64] = "", line[1024];
		s = e + 1;
		const char *ip = strstr(rec, "\"indicator\":{\"id\":\"");
		if (!ip)
			continue; /* not a match: an event */
		sscanf(ip + 19, "%63[^\"]", id);
		const char *sc = strstr(rec, "\"scope\":\"");
		const char *fl = strstr(rec, "\"field\":\"");
		sscanf(sc ? sc + 9 : fl + 9, "%63[^\"]", what);
		snprintf(line, sizeof(line), "%s %s", id, what);
		const char *dir = sc ? strstr(rec, "\"community_id\"") : NULL;
		if (dir && (dir = strstr(dir, "\"direction\":\"")) && dir < strstr(rec, "\"contributors\""))
			snprintf(line + strlen(line), sizeof(line) - strlen(line), " [%.9s]",
				 dir + 13);
		for (const char *q = sc ? strstr(rec, "\"contributors\"") : NULL;
		     q && (q = strstr(q, "{\"indicator\":\"fl/")) != NULL; q++) {
			char pid[32], field[32], pdir[16];
			unsigned long long p0, p1;
			sscanf(q + 17, "%31[^\"]", pid);
			sscanf(strstr(q, "\"packet_first\":") + 15, "%llu", &p0);
			sscanf(strstr(q, "\"packet_last\":") + 14, "%llu", &p1);
			sscanf(strstr(q, "\"field\":\"") + 9, "%31[^\"]", field);
			sscanf(strstr(q, "\"direction\":\"") + 13, "%15[^\"]", pdir);
			snprintf(line + strlen(line), sizeof(line) - strlen(line), " %s:%s:%s:%llu-%llu",
				 pid, field, pdir, p0, p1);
		}
		snprintf(out + strlen(out), cap - strlen(out), "%s\n", line);
	}
}

static void test_flow_rules(void **state)
{
	(void)state;
	struct cap_buf c = build_flows();
	struct run r;
	run_once(&c, FLOW_PACK, true, 1, &r);
	char got[8192];
	summary(r.out, got, sizeof(got));
	/* Quiet parts write nothing; r-dir never fires (d and mb are in opposite
	 * directions), nor r-cross (d in flow C, mb in flow D), nor the line rule.
	 * Parts are in the order found (a packet's parsed head before its
	 * payload); flow rules come before flow-dir rules of the same flow. */
	assert_string_equal(got,
			    "mb payload\n"
			    "r-flow flow d:http.host:to_server:3-3 ta:payload:to_server:3-3 "
			    "mb:payload:to_client:4-4\n"
			    "r-not flow ta:payload:to_server:7-7\n"
			    "r-dir2 flow-dir [to_server] ta:payload:to_server:7-7\n"
			    "mb payload\n");
	assert_int_equal(r.st.matches, 5);
	assert_int_equal(r.st.rule_records, 3);
	assert_int_equal(r.st.parts_dropped, 0);
	assert_int_equal(r.st.rules_held_partial, 0);
	/* Records per indicator: the rules count theirs, quiet parts none. */
	assert_int_equal(r.per_ind[0], 0);
	assert_int_equal(r.per_ind[2], 2);
	assert_int_equal(r.per_ind[3], 1);
	/* The rule record: the flow with its initiator first, a null digest in
	 * each part (no digest function was given: the capture's SHA-256 is not
	 * known; null is padded with spaces to the placeholder's length), the
	 * matched text, stream offsets. */
	const char *rec = strstr(r.out, "\"id\":\"r-flow\"");
	assert_non_null(rec);
	assert_non_null(strstr(rec, "\"scope\":\"flow\",\"flow\":{\"src_ip\":\"10.0.0.1\","
				    "\"src_port\":40000,\"dest_ip\":\"10.0.0.2\",\"dest_port\":80,"
				    "\"proto\":\"TCP\",\"community_id\":\"1:"));
	char part[512];
	snprintf(part, sizeof(part),
		 "{\"indicator\":\"fl/mb\",\"type\":\"literal\",\"kind\":"
		 "\"capture\",\"path\":\"mem.pcap\",\"sha256\":null%62s,\"packet_first\":4,"
		 "\"packet_last\":4,\"ts_first\":\"2023-11-14T22:13:24.000000000Z\",\"ts_last\":"
		 "\"2023-11-14T22:13:24.000000000Z\",\"field\":\"payload\","
		 "\"direction\":\"to_client\",\"offset\":38,\"length\":5,"
		 "\"text\":\"MARKB\"}",
		 "");
	assert_non_null(strstr(rec, part));
	assert_non_null(strstr(rec, "\"text\":\"evil.example\"}"));
	/* Without the rules: the single record of mb only, nothing else. */
	struct run bare;
	run_once(&c, FLOW_PACK, false, 1, &bare);
	summary(bare.out, got, sizeof(got));
	assert_string_equal(got, "mb payload\nmb payload\n");
	/* The parts' memory went back to the flow budget. */
	assert_int_equal(r.st.flow.mem_in_use, bare.st.flow.mem_in_use);
	assert_true(r.st.flow.mem_peak > bare.st.flow.mem_peak);
	free(bare.out);
	/* Same records, same order, whatever the thread count. */
	for (unsigned t = 2; t <= 4; t++) {
		struct run more;
		run_once(&c, FLOW_PACK, true, t, &more);
		char a[8192], b[8192];
		summary(r.out, a, sizeof(a));
		summary(more.out, b, sizeof(b));
		assert_string_equal(a, b);
		free(more.out);
	}
	free(r.out);
	free(c.b);
}

/* One UDP datagram (packet 1) carrying tokens L00 ... L39. */
static struct cap_buf build_many(void)
{
	struct cap_buf c = cap_start();
	char data[512] = "";
	for (int i = 0; i < 40; i++)
		snprintf(data + strlen(data), sizeof(data) - strlen(data), "L%02d ", i);
	struct pb p = {.n = 0};
	pb_eth(&p, 0x0800);
	size_t ip = pb_ipv4(&p, 17, 0x0a000001u, SRV, 1, 0);
	size_t u = pb_udp(&p, 40000, 9999);
	pb_bytes(&p, data, strlen(data));
	pb_udp_fix(&p, u);
	pb_ipv4_fix(&p, ip);
	cap_frame(&c, &p);
	return c;
}

static void test_part_cap(void **state)
{
	(void)state;
	char body[4096] = "";
	for (int i = 0; i < 40; i++)
		snprintf(body + strlen(body), sizeof(body) - strlen(body), "l%02d literal/q L%02d\n",
			 i, i);
	strcat(body, "zz literal/q NEVERSEEN\n"
		     "c1 combo scope=flow l00 & l31\n"    /* both kept: fires */
		     "c2 combo scope=flow l00 & l39\n"    /* l39 beyond the cap: does not */
		     "c3 combo scope=flow l00 & !zz\n"    /* holds, but the flow lost parts */
		     "c4 combo scope=flow-dir type:literal & zz\n");
	struct cap_buf c = build_many();
	struct run r;
	run_once(&c, body, true, 1, &r);
	char got[4096];
	summary(r.out, got, sizeof(got));
	assert_string_equal(got, "c1 flow l00:payload:to_server:1-1 l31:payload:to_server:1-1\n");
	assert_int_equal(r.st.parts_dropped, 8);
	assert_int_equal(r.st.rules_held_partial, 1);
	assert_int_equal(r.st.rule_records, 1);
	free(r.out);
	free(c.b);
}

/* ------------------------------------------------------- rule switch --- */

struct live {
	int fd;           /* the capture's writing end */
	uint32_t t;       /* seconds of the last packet */
};

static void live_tcp(struct live *l, uint16_t cport, bool c2s, uint32_t seq, uint8_t flags,
		     const char *data)
{
	struct pb p = {.n = 0};
	pb_eth(&p, 0x0800);
	size_t ip = pb_ipv4(&p, 6, c2s ? 0x0a000001u : SRV, c2s ? SRV : 0x0a000001u, 1, 0);
	pb_tcp(&p, c2s ? cport : 80, c2s ? 80 : cport, seq, flags);
	pb_bytes(&p, data, strlen(data));
	pb_ipv4_fix(&p, ip);
	uint32_t h[4] = {1700000000u + ++l->t, 0, (uint32_t)p.n, (uint32_t)p.n};
	assert_int_equal(write(l->fd, h, sizeof(h)), (ssize_t)sizeof(h));
	assert_int_equal(write(l->fd, p.b, p.n), (ssize_t)p.n);
}

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	int n = 0, ch;
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

/* Wait (at most 20 s, so that a broken build fails instead of hanging) for
 * n records. */
static void wait_lines(const char *path, int n)
{
	for (int i = 0; i < 2000 && count_lines(path) < n; i++)
		usleep(10000);
	assert_int_equal(count_lines(path), n);
}

/* A live run reading a pipe on a thread of its own, with a rule swap. */
struct live_run {
	struct pack *pa, *pb;
	struct matcher *ma, *mb;
	struct combo_set *ca, *cb;
	char dir[32], path[64];
	struct ev_writer *w;
	struct capture *cap;
	struct packet_swap *sw;
	struct packet_opts o;
	struct packet_stats st;
	enum cs_err err;
	pthread_t th;
	struct live l;
};

static void *live_main(void *a)
{
	struct live_run *r = a;
	struct cs_diag d;
	cs_diag_clear(&d);
	r->err = packet_run(r->ma, r->cap, r->w, &r->o, NULL, NULL, &r->st, &d);
	return NULL;
}

static void render_switch(void *ctx, struct jbuf *j, const char *run_id, uint64_t seq,
			  const struct timespec *at)
{
	(void)ctx;
	(void)at;
	ev_record_render_head(j, run_id, seq);
	json_kv_str(j, "event", "switch");
	json_obj_close(j);
}

static void build_rules(const char *body, struct pack **p, struct matcher **m,
			struct combo_set **cs)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	*p = parse(body);
	assert_int_equal(matcher_build_ex(p, 1, NULL, NULL, MATCHER_BUILD_STREAM, m, &d), CS_OK);
	assert_int_equal(combo_set_create(*m, NULL, NULL, cs, &d), CS_OK);
}

/* Start a live run of rules a (two workers) that b can replace. */
static void live_start(struct live_run *r, const char *a, const char *b)
{
	memset(r, 0, sizeof(*r));
	build_rules(a, &r->pa, &r->ma, &r->ca);
	build_rules(b, &r->pb, &r->mb, &r->cb);
	struct cs_diag d;
	cs_diag_clear(&d);
	snprintf(r->dir, sizeof(r->dir), "/tmp/cs-test-prules-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	snprintf(r->path, sizeof(r->path), "%s/r.ndjson", r->dir);
	assert_int_equal(ev_writer_open(r->path, &r->w, &d), CS_OK);
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	uint32_t hdr[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 65535, 1};
	assert_int_equal(write(fds[1], hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	assert_int_equal(capture_open_file(fdopen(fds[0], "r"), "pipe", &r->cap, &d), CS_OK);
	assert_int_equal(packet_swap_create(&r->sw), CS_OK);
	packet_opts_default(&r->o);
	r->o.threads = 2;
	r->o.run_id = "run";
	r->o.source_label = "pipe";
	r->o.live = true;
	r->o.flow.mem_cap = 64u << 20;
	r->o.flow.max_flows = 1024;
	r->o.swap = r->sw;
	r->o.combos = r->ca;
	r->l = (struct live){.fd = fds[1]};
	assert_int_equal(pthread_create(&r->th, NULL, live_main, r), 0);
}

/* End the input, wait for the run; returns the records (caller frees). */
static char *live_stop(struct live_run *r)
{
	struct cs_diag d;
	cs_diag_clear(&d);
	close(r->l.fd);
	assert_int_equal(pthread_join(r->th, NULL), 0);
	assert_int_equal(r->err, CS_OK);
	assert_int_equal(ev_writer_close(r->w, &d), CS_OK);
	capture_destroy(r->cap);
	FILE *f = fopen(r->path, "r");
	assert_non_null(f);
	char *all = calloc(1, 1 << 16);
	size_t n = fread(all, 1, (1 << 16) - 1, f);
	fclose(f);
	all[n] = '\0';
	unlink(r->path);
	rmdir(r->dir);
	packet_swap_destroy(r->sw);
	combo_set_destroy(r->ca);
	combo_set_destroy(r->cb);
	matcher_destroy(r->ma);
	matcher_destroy(r->mb);
	pack_destroy(r->pa);
	pack_destroy(r->pb);
	return all;
}

static void test_switch(void **state)
{
	(void)state;
	static const char *const A = "x literal/q XXTOK\ny literal/q YYTOK\nz literal/q ZZTOK\n"
				     "mk literal MARK\n"
				     "r1 combo scope=flow x & y\nr2 combo scope=flow x & !z\n";
	static const char *const B = "x literal/q XXTOK\ny literal/q YYTOK\nz literal/q ZZTOK\n"
				     "mk literal MARK\n"
				     "r1 combo scope=flow x & y\nr2 combo scope=flow x & !z\n"
				     "r3 combo scope=flow-dir y\n";
	struct live_run r;
	live_start(&r, A, B);
	struct live *l = &r.l;
	/* Flow 1 (port 40000) under the old rules: x, seen once MARK is recorded. */
	const char *d1 = "XXTOK MARK ";
	live_tcp(l, 40000, true, 100, 0x02, "");
	live_tcp(l, 40000, false, 500, 0x12, "");
	live_tcp(l, 40000, true, 101, 0x18, d1);
	wait_lines(r.path, 1);
	const struct matcher *old;
	struct timespec at;
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(packet_swap_apply_rules(r.sw, r.mb, r.cb, render_switch, NULL, &old, &at,
						 &d), CS_OK);
	assert_ptr_equal(old, r.ma);
	wait_lines(r.path, 2);
	/* Flow 1 goes on with y and x again (packet 4); flow 2 (port 40001) has x alone. */
	live_tcp(l, 40000, true, 101 + (uint32_t)strlen(d1), 0x18, "YYTOK XXTOK");
	live_tcp(l, 40001, true, 100, 0x02, "");
	live_tcp(l, 40001, false, 500, 0x12, "");
	live_tcp(l, 40001, true, 101, 0x18, "XXTOK");
	char *all = live_stop(&r);
	/* Flow 1: r1 over the parts after the switch, r3 (new rules only); its
	 * r2 holds over what was seen but x's first match went with the old rules:
	 * held back. Flow 2: r2. */
	assert_int_equal(r.st.rule_records, 3);
	assert_int_equal(r.st.rules_held_partial, 1);
	char got[4096];
	summary(all, got, sizeof(got));
	/* The two flows end together (end of input): in either order. The switch
	 * record (no indicator) is left out of the summary. */
	const char *f1 = "r1 flow y:payload:to_server:4-4 x:payload:to_server:4-4\n"
			 "r3 flow-dir [to_server] y:payload:to_server:4-4\n";
	const char *f2 = "r2 flow x:payload:to_server:7-7\n";
	char want1[1024], want2[1024];
	snprintf(want1, sizeof(want1), "mk payload\n%s%s", f1, f2);
	snprintf(want2, sizeof(want2), "mk payload\n%s%s", f2, f1);
	assert_non_null(strstr(all, "\"event\":\"switch\""));
	if (strcmp(got, want1) != 0 && strcmp(got, want2) != 0)
		fail_msg("records:\n%s", got);
	assert_non_null(strstr(all, "\"kind\":\"live\",\"interface\":\"pipe\",\"sha256\":null"));
	free(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scope_words),
		cmocka_unit_test(test_flow_rules),
		cmocka_unit_test(test_part_cap),
		cmocka_unit_test(test_switch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
