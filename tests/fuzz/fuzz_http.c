/* Fuzz target: the HTTP/1.x parser (app_http) over both directions of one
 * flow, with body decoding and digests. Input: records [u8 op][u16 n] and,
 * for a feed, n bytes; op bit 0 is the direction, (op >> 1) % 3 picks feed,
 * gap of n bytes, or close. Every request head is turned into a URL too.
 * The environment (digest algorithms, small caps) is built once per process
 * and only read afterwards. */
#include <string.h>

#include "cybersieve/app.h"
#include "fuzz.h"

struct counts {
	uint64_t heads;
	uint64_t bodies;
};

static void check_msg(const struct app_http_msg *m)
{
	FUZZ_CHECK(m->method_len == 0 || m->method != NULL);
	FUZZ_CHECK(m->uri_len == 0 || m->uri != NULL);
	FUZZ_CHECK(m->host_len == 0 || m->host != NULL);
	volatile char sum = 0;
	for (size_t i = 0; i < m->method_len; i++)
		sum ^= m->method[i];
	for (size_t i = 0; i < m->uri_len; i++)
		sum ^= m->uri[i];
	for (size_t i = 0; i < m->host_len; i++)
		sum ^= m->host[i];
	for (size_t i = 0; i < m->content_type_len; i++)
		sum ^= m->content_type[i];
	for (size_t i = 0; i < m->content_encoding_len; i++)
		sum ^= m->content_encoding[i];
	(void)sum;
}

static void on_request(void *user, const struct app_http_msg *m)
{
	struct counts *c = user;
	c->heads++;
	check_msg(m);
	char url[512];
	size_t len = 0;
	if (app_http_build_url(url, sizeof url, &len, m->uri, m->uri_len, m->host,
			       m->host_len) == CS_OK)
		FUZZ_CHECK(len < sizeof url && url[len] == '\0');
}

static void on_response(void *user, const struct app_http_msg *m)
{
	struct counts *c = user;
	c->heads++;
	check_msg(m);
}

static void on_body_data(void *user, enum app_dir dir, const uint8_t *p, size_t n)
{
	(void)user;
	FUZZ_CHECK(dir == APP_DIR_C2S || dir == APP_DIR_S2C);
	volatile uint8_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum ^= p[i];
	(void)sum;
}

static void on_body_done(void *user, const struct app_body_result *r)
{
	struct counts *c = user;
	c->bodies++;
	FUZZ_CHECK(r->dir == APP_DIR_C2S || r->dir == APP_DIR_S2C);
	FUZZ_CHECK(r->enc <= APP_ENC_UNSUPPORTED);
	FUZZ_CHECK(r->decoded_len <= 1024 * 1024);
}

static struct app_http_env *env(void)
{
	static struct app_http_env e;
	static struct app_http_stats st;
	static bool ready;
	if (!ready) {
		if (app_http_env_init(&e, NULL) != CS_OK)
			abort();
		e.header_cap = 2048;
		e.body_cap = 1024 * 1024;
		e.flags = APP_HTTP_HASH_ENCODED;
		e.on_request = on_request;
		e.on_response = on_response;
		e.on_body_data = on_body_data;
		e.on_body_done = on_body_done;
		e.stats = &st;
		ready = true;
	}
	return &e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct app_http_env *e = env();
	struct fuzz_cur c = { data, size };
	struct counts cnt = { 0, 0 };
	struct app_http h;
	app_http_init(&h);
	while (c.n > 0) {
		uint8_t op = fuzz_u8(&c);
		uint16_t n = fuzz_u16(&c);
		enum app_dir dir = (op & 1) ? APP_DIR_S2C : APP_DIR_C2S;
		switch ((op >> 1) % 3) {
		case 0: {
			size_t got;
			const uint8_t *p = fuzz_take(&c, n, &got);
			(void)app_http_feed(&h, e, &cnt, dir, p, got);
			break;
		}
		case 1:
			app_http_gap(&h, e, &cnt, dir, n);
			break;
		default:
			app_http_close(&h, e, &cnt, dir);
			break;
		}
	}
	app_http_close(&h, e, &cnt, APP_DIR_C2S);
	app_http_close(&h, e, &cnt, APP_DIR_S2C);
	app_http_fini(&h);
	return 0;
}
