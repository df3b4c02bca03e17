/* Export: UUIDv5 against RFC 9562's example, STIX pattern escaping and the
 * mapping of each indicator type, TLP levels, EVE signature ids and one EVE
 * line rendered from a packet record and from a log record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cybersieve/export.h"
#include "cybersieve/uuid.h"

static void test_uuid5_rfc_vector(void **state)
{
	(void)state;
	char out[UUID5_TEXT_LEN];
	uuid5_text(UUID5_NS_DNS, "www.example.com", strlen("www.example.com"), out);
	assert_string_equal(out, "2ed6657d-e927-568b-95e1-2665a8aea6a2");
	uint8_t u[16], back[16];
	assert_true(uuid5_parse(out, u));
	uuid5_format(u, out);
	assert_string_equal(out, "2ed6657d-e927-568b-95e1-2665a8aea6a2");
	assert_true(uuid5_parse("00ABEDB4-AA42-466C-9C01-FED23315A9B7", back));
	assert_memory_equal(back, UUID5_NS_STIX, 16);
	assert_false(uuid5_parse("00abedb4-aa42-466c-9c01-fed23315a9b", back));
	assert_false(uuid5_parse("00abedb4+aa42-466c-9c01-fed23315a9b7", back));
	assert_false(uuid5_parse("00abedb4-aa42-466c-9c01-fed23315a9b7x", back));
	/* Version and variant bits are set whatever the digest. */
	uuid5_text(UUID5_NS_CYBERSIEVE, "", 0, out);
	assert_int_equal(out[14], '5');
	assert_true(strchr("89ab", out[19]) != NULL);
}

/* The pattern for type/value, its pattern_type, or the error. */
static enum cs_err pattern(const char *type, const char *value, char *out, size_t cap,
			   const char **ptype)
{
	struct jbuf j;
	jbuf_init(&j);
	enum cs_err e = export_stix_pattern(&j, type, value, ptype);
	snprintf(out, cap, "%s", j.p ? j.p : "");
	jbuf_fini(&j);
	return e;
}

static void test_stix_patterns(void **state)
{
	(void)state;
	char p[512];
	const char *t = NULL;
	assert_int_equal(pattern("domain", "evil.example", p, sizeof(p), &t), CS_OK);
	assert_string_equal(p, "[domain-name:value = 'evil.example']");
	assert_string_equal(t, "stix");
	assert_int_equal(pattern("url", "http://x.test/a'b\\c", p, sizeof(p), &t), CS_OK);
	assert_string_equal(p, "[url:value = 'http://x.test/a\\'b\\\\c']");
	assert_int_equal(pattern("email", "o'neil@x.test", p, sizeof(p), &t), CS_OK);
	assert_string_equal(p, "[email-addr:value = 'o\\'neil@x.test']");
	assert_int_equal(pattern("md5", "185e579612763abb56cd8183b8cf9b9d", p, sizeof(p), &t),
			 CS_OK);
	assert_string_equal(p, "[file:hashes.'MD5' = '185e579612763abb56cd8183b8cf9b9d']");
	assert_int_equal(pattern("sha1", "0123456789abcdef0123456789abcdef01234567", p, sizeof(p),
				 &t), CS_OK);
	assert_string_equal(p, "[file:hashes.'SHA-1' = '0123456789abcdef0123456789abcdef01234567']");
	char h[65];
	memset(h, 'a', 64);
	h[64] = '\0';
	assert_int_equal(pattern("sha256", h, p, sizeof(p), &t), CS_OK);
	assert_true(strncmp(p, "[file:hashes.'SHA-256' = 'aaaa", 30) == 0);
	assert_int_equal(pattern("sha256", "abc", p, sizeof(p), &t), CS_ERR_PARSE);
	assert_int_equal(pattern("md5", "185e579612763abb56cd8183b8cf9b9z", p, sizeof(p), &t),
			 CS_ERR_PARSE);
	assert_int_equal(pattern("literal", "wire fee (50$) a.b", p, sizeof(p), &t), CS_OK);
	assert_string_equal(t, "pcre");
	assert_string_equal(p, "wire fee \\(50\\$\\) a\\.b");
	assert_int_equal(pattern("regex", "\\bfee\\b", p, sizeof(p), &t), CS_OK);
	assert_string_equal(t, "pcre");
	assert_string_equal(p, "\\bfee\\b");
	assert_int_equal(pattern("pdq", "x", p, sizeof(p), &t), CS_ERR_UNSUPPORTED);
	assert_int_equal(pattern(NULL, "x", p, sizeof(p), &t), CS_ERR_INVALID);
}

static void test_tlp_rank(void **state)
{
	(void)state;
	assert_int_equal(export_stix_tlp_rank("clear"), 0);
	assert_int_equal(export_stix_tlp_rank("white"), 0);
	assert_int_equal(export_stix_tlp_rank("TLP:GREEN"), 1);
	assert_int_equal(export_stix_tlp_rank("amber"), 2);
	assert_int_equal(export_stix_tlp_rank("amber+strict"), 3);
	assert_int_equal(export_stix_tlp_rank("red"), 4);
	assert_int_equal(export_stix_tlp_rank("purple"), -1);
	assert_int_equal(export_stix_tlp_rank(NULL), -1);
}

static void test_eve_signature_id(void **state)
{
	(void)state;
	uint32_t a = export_eve_signature_id("scam-domains", "scam-dom-1");
	assert_int_equal(a, export_eve_signature_id("scam-domains", "scam-dom-1"));
	assert_true(a <= 0x7FFFFFFFu);
	assert_int_not_equal(a, export_eve_signature_id("scam-domains", "scam-dom-2"));
	/* The separator keeps "a"+"bc" apart from "ab"+"c". */
	assert_int_not_equal(export_eve_signature_id("a", "bc"), export_eve_signature_id("ab", "c"));
}

static const char PKT_REC[] =
	"{\"prev\":\"00\",\"record_id\":\"r:3\",\"run_id\":\"r\",\"seq\":3,"
	"\"time_detected\":\"2026-01-02T03:04:05.678Z\",\"indicator\":{\"id\":\"d1\","
	"\"type\":\"domain\",\"value\":\"bad.test\",\"category\":\"scam\",\"confidence\":90,"
	"\"pack\":{\"name\":\"p\",\"sha256\":\"ab\",\"source\":\"s\"}},\"legal\":\"art. 13\","
	"\"tlp\":\"amber\",\"source\":{\"kind\":\"capture\",\"path\":\"/x.pcap\",\"sha256\":\"cd\","
	"\"packet_first\":7,\"packet_last\":7,\"ts_first\":\"2013-03-07T21:42:06.939527123Z\","
	"\"ts_last\":\"2013-03-07T21:42:06.939527123Z\"},\"match\":{\"length\":8,\"text\":\"bad.test\","
	"\"context\":{\"before\":\"www.\",\"after\":\"\"}},\"flow\":{\"src_ip\":\"10.0.0.1\","
	"\"src_port\":5353,\"dest_ip\":\"10.0.0.2\",\"dest_port\":53,\"proto\":\"UDP\","
	"\"community_id\":\"1:abc=\",\"direction\":\"to_server\"},\"field\":\"dns.query\"}";

static struct json_read_val *render(const char *rec, struct jbuf *j)
{
	struct json_read_val *in = NULL, *out = NULL;
	struct cs_diag d;
	cs_diag_clear(&d);
	assert_int_equal(json_read_parse(rec, strlen(rec), &in, &d), CS_OK);
	assert_int_equal(export_eve_render(j, in, &d), CS_OK);
	json_read_free(in);
	assert_true(j->len > 0 && j->p[j->len - 1] == '\n');
	assert_int_equal(json_read_parse(j->p, j->len - 1, &out, &d), CS_OK);
	return out;
}

static void test_eve_packet_record(void **state)
{
	(void)state;
	struct jbuf j;
	jbuf_init(&j);
	struct json_read_val *v = render(PKT_REC, &j);
	uint64_t n = 0;
	assert_string_equal(json_read_str(v, "timestamp"), "2013-03-07T21:42:06.939527+0000");
	assert_string_equal(json_read_str(v, "event_type"), "alert");
	assert_string_equal(json_read_str(v, "src_ip"), "10.0.0.1");
	assert_true(json_read_u64(v, "src_port", &n) && n == 5353);
	assert_string_equal(json_read_str(v, "dest_ip"), "10.0.0.2");
	assert_true(json_read_u64(v, "dest_port", &n) && n == 53);
	assert_string_equal(json_read_str(v, "proto"), "UDP");
	assert_string_equal(json_read_str(v, "community_id"), "1:abc=");
	assert_true(json_read_u64(v, "flow_id", &n) && n > 0);
	assert_string_equal(json_read_str(v, "app_proto"), "dns");
	assert_string_equal(json_read_str(json_read_get(v, "dns"), "rrname"), "www.bad.test");
	const struct json_read_val *a = json_read_get(v, "alert");
	assert_true(json_read_u64(a, "signature_id", &n) && n == export_eve_signature_id("p", "d1"));
	assert_string_equal(json_read_str(a, "signature"), "p: d1 domain bad.test");
	assert_string_equal(json_read_str(a, "category"), "scam (art. 13)");
	assert_true(json_read_u64(a, "severity", &n) && n == 1);
	const struct json_read_val *c = json_read_get(v, "cybersieve");
	assert_string_equal(json_read_str(c, "record_id"), "r:3");
	assert_string_equal(json_read_str(c, "prev"), "00");
	assert_string_equal(json_read_str(json_read_get(c, "source"), "path"), "/x.pcap");
	json_read_free(v);
	jbuf_fini(&j);
}

static void test_eve_log_record(void **state)
{
	(void)state;
	static const char rec[] =
		"{\"prev\":\"00\",\"record_id\":\"r:1\",\"run_id\":\"r\",\"seq\":1,"
		"\"time_detected\":\"2026-01-02T03:04:05.678Z\",\"indicator\":{\"id\":\"h\","
		"\"type\":\"md5\",\"value\":\"x\",\"category\":\"csam\",\"confidence\":40,"
		"\"pack\":{\"name\":\"q\",\"sha256\":\"ab\",\"source\":\"s\"}},\"legal\":null,"
		"\"tlp\":\"red\",\"source\":{\"kind\":\"log\",\"path\":\"/a.log\",\"sha256\":\"ef\","
		"\"gzip\":false,\"line\":12,\"offset\":345},\"match\":{\"length\":32,\"count\":2,"
		"\"content_withheld\":true}}";
	struct jbuf j;
	jbuf_init(&j);
	struct json_read_val *v = render(rec, &j);
	uint64_t n = 0;
	assert_string_equal(json_read_str(v, "timestamp"), "2026-01-02T03:04:05.678000+0000");
	assert_null(json_read_get(v, "src_ip"));
	assert_null(json_read_get(v, "app_proto"));
	const struct json_read_val *a = json_read_get(v, "alert");
	assert_string_equal(json_read_str(a, "category"), "csam");
	assert_true(json_read_u64(a, "severity", &n) && n == 3);
	const struct json_read_val *c = json_read_get(v, "cybersieve");
	assert_true(json_read_u64(json_read_get(c, "source"), "line", &n) && n == 12);
	assert_true(json_read_u64(json_read_get(c, "match"), "count", &n) && n == 2);
	assert_null(strstr(j.p, "\"text\""));
	json_read_free(v);
	jbuf_fini(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uuid5_rfc_vector),
		cmocka_unit_test(test_stix_patterns),
		cmocka_unit_test(test_tlp_rank),
		cmocka_unit_test(test_eve_signature_id),
		cmocka_unit_test(test_eve_packet_record),
		cmocka_unit_test(test_eve_log_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
