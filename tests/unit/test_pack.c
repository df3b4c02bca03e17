/* Unit tests for pack parsing, loading, digests and ad-hoc packs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "cybersieve/pack.h"

#define HDRS "@name t\n@category scam\n@source s\n@licence CC0-1.0\n@tlp clear\n"

static const char good_pack[] =
	"# A pack that uses every header and every type.\n"
	"\n"
	"@name scam-phrases.v2\n"
	"@category scam\n"
	"@source Example feed, snapshot\n"
	"@license CC-BY-4.0\n"
	"@tlp white\r\n"
	"@confidence 70\n"
	"@date 2024-09-27\n"
	"@description   Phrases and hosts seen in advance-fee scams   \n"
	"   # indented comment\n"
	"lit-1 literal send the fee\n"
	"lit-2 literal/i@90 \\x20Urgent\\tWire\\\\\\x20\n"
	"re:1 regex/is wallet.+[13][a-km-zA-HJ-NP-Z1-9]{25,34}\n"
	"dom_1\tdomain\t *.Evil.EXAMPLE. \r\n"
	"url.1 url HTTPS://Pay.Example.COM/Claim?ID=AbC\n"
	"mail-1 email@0 Agent.Smith@Example.ORG\n"
	"h1 md5 D41D8CD98F00B204E9800998ECF8427E\n"
	"h2 sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709\n"
	"h3 sha256@100 E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\n";

static struct pack *parse_ok(const char *text)
{
	struct cs_diag d;
	struct pack *p = NULL;
	cs_diag_clear(&d);
	enum cs_err err = pack_parse("mem.pack", text, strlen(text), &p, &d);
	if (err)
		fail_msg("refused: line %llu: %s", (unsigned long long)d.line, d.msg);
	assert_non_null(p);
	return p;
}

/* Expect the pack refused with CS_ERR_PARSE at `line` (0: no line) and `why`. */
static void parse_bad_n(const char *text, size_t len, uint64_t line, const char *why)
{
	struct cs_diag d;
	struct pack *p = (struct pack *)&d; /* must be reset to NULL */
	cs_diag_clear(&d);
	enum cs_err err = pack_parse("bad.pack", text, len, &p, &d);
	if (err != CS_ERR_PARSE)
		fail_msg("expected a parse error for '%s', got %d", text, err);
	assert_null(p);
	assert_string_equal(d.file, "bad.pack");
	if (d.line != (line ? line : CS_DIAG_NONE))
		fail_msg("'%s': line %llu, expected %llu (%s)", why, (unsigned long long)d.line,
			 (unsigned long long)line, d.msg);
	if (!strstr(d.msg, why))
		fail_msg("message '%s' lacks '%s'", d.msg, why);
}

static void parse_bad(const char *text, uint64_t line, const char *why)
{
	parse_bad_n(text, strlen(text), line, why);
}

static void sha256(const void *buf, size_t len, uint8_t out[32])
{
	assert_true(EVP_Digest(buf, len, out, NULL, EVP_sha256(), NULL));
}

static void test_good_pack(void **state)
{
	(void)state;
	struct pack *p = parse_ok(good_pack);
	assert_string_equal(p->path, "mem.pack");
	assert_string_equal(p->name, "scam-phrases.v2");
	assert_string_equal(p->category, "scam");
	assert_string_equal(p->source, "Example feed, snapshot");
	assert_string_equal(p->licence, "CC-BY-4.0");
	assert_string_equal(p->tlp, "clear");
	assert_string_equal(p->date, "2024-09-27");
	assert_int_equal(p->confidence, 70);
	assert_string_equal(p->legal, pack_legal_default("scam"));
	assert_int_equal(p->n_ind, 9);

	static const struct {
		const char *id;
		enum ind_type type;
		unsigned flags;
		const char *value;
		int conf;
		uint32_t line;
	} want[] = {
		{"lit-1", IND_LITERAL, 0, "send the fee", 70, 12},
		{"lit-2", IND_LITERAL, IND_F_CASELESS, " Urgent\tWire\\ ", 90, 13},
		{"re:1", IND_REGEX, IND_F_CASELESS | IND_F_DOTALL,
		 "wallet.+[13][a-km-zA-HJ-NP-Z1-9]{25,34}", 70, 14},
		{"dom_1", IND_DOMAIN, 0, "evil.example", 70, 15},
		{"url.1", IND_URL, 0, "https://pay.example.com/Claim?ID=AbC", 70, 16},
		{"mail-1", IND_EMAIL, 0, "agent.smith@example.org", 0, 17},
		{"h1", IND_MD5, 0, "d41d8cd98f00b204e9800998ecf8427e", 70, 18},
		{"h2", IND_SHA1, 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709", 70, 19},
		{"h3", IND_SHA256, 0,
		 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 100, 20},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct indicator *ind = &p->ind[i];
		assert_string_equal(ind->id, want[i].id);
		assert_int_equal(ind->type, want[i].type);
		assert_int_equal(ind->flags, want[i].flags);
		assert_string_equal(ind->value, want[i].value);
		assert_int_equal(ind->value_len, strlen(want[i].value));
		assert_int_equal(ind->confidence, want[i].conf);
		assert_int_equal(ind->line, want[i].line);
	}
	uint8_t md[32];
	sha256(good_pack, strlen(good_pack), md);
	assert_memory_equal(p->digest, md, 32);
	pack_destroy(p);
}

static void test_defaults_and_digest(void **state)
{
	(void)state;
	/* Digest checked against a value computed outside the program (sha256sum). */
	static const uint8_t want[32] = {
		0x62, 0xd0, 0xc1, 0x77, 0x31, 0x4c, 0x79, 0x56, 0x79, 0x12, 0x9d,
		0xe0, 0x3a, 0x00, 0xcb, 0x0f, 0x9e, 0xe9, 0x9e, 0x4a, 0xbb, 0x62,
		0xa1, 0x7a, 0x15, 0xb5, 0x4a, 0xff, 0x97, 0x46, 0x55, 0x5e,
	};
	struct pack *p = parse_ok(HDRS "x1 domain example.com\n");
	assert_memory_equal(p->digest, want, 32);
	assert_int_equal(p->confidence, 50);
	assert_int_equal(p->ind[0].confidence, 50);
	assert_null(p->date);
	pack_destroy(p);

	/* Explicit @legal wins; an own category has no default; no indicators is fine;
	 * the last line needs no newline. */
	p = parse_ok("@name own\n@category my_cat-1\n@source s\n@licence x\n@tlp amber+strict\n"
		     "@legal Local law, s. 3");
	assert_string_equal(p->legal, "Local law, s. 3");
	assert_string_equal(p->tlp, "amber+strict");
	assert_int_equal(p->n_ind, 0);
	pack_destroy(p);
	p = parse_ok("@name own\n@category mine\n@source s\n@licence x\n@tlp red\n");
	assert_null(p->legal);
	pack_destroy(p);
	p = parse_ok("@name g\n@category grooming\n@source s\n@licence x\n@tlp green\n");
	assert_string_equal(p->legal, pack_legal_default("grooming"));
	pack_destroy(p);
}

static void test_bad_lines(void **state)
{
	(void)state;
	/* HDRS is lines 1-5, so the first indicator line is 6. */
	parse_bad(HDRS "a1 ipv4 192.0.2.1\n", 6, "unknown indicator type 'ipv4'");
	parse_bad(HDRS "a1 ip 192.0.2.0/33\n", 6, "prefix length must be 0-32");
	parse_bad(HDRS "a1 literal/x abc\n", 6, "unknown modifier 'x'");
	parse_bad(HDRS "a1 literal/ abc\n", 6, "empty modifier list");
	parse_bad(HDRS "a1 literal/ii abc\n", 6, "repeated modifier 'i'");
	parse_bad(HDRS "a1 literal/s abc\n", 6, "modifier 's' is not allowed on literal");
	parse_bad(HDRS "a1 domain/i example.com\n", 6, "modifier 'i' is not allowed on domain");
	parse_bad(HDRS "a$1 literal abc\n", 6, "invalid id 'a$1'");
	parse_bad(HDRS "a1\n", 6, "missing type");
	parse_bad(HDRS "a1 literal\n", 6, "empty value");
	parse_bad(HDRS "a1 literal    \t \n", 6, "empty value");
	parse_bad(HDRS "# c\nscam-001 literal a\nb literal b\nscam-001 literal c\n", 9,
		  "duplicate id 'scam-001' (first used on line 7)");
	parse_bad(HDRS "a1 domain ex ample.com\n", 6,
		  "invalid domain 'ex ample.com': space in label");
	parse_bad(HDRS "a1 domain localhost\n", 6, "no dot");
	parse_bad(HDRS "a1 domain a..example\n", 6, "empty label");
	parse_bad(HDRS "a1 domain -a.example\n", 6, "starts or ends with '-'");
	parse_bad(HDRS "a1 domain a\xe2\x80\xae" "b.com\n", 6, "internationalised name");
	parse_bad(HDRS "a1 md5 abc123\n", 6, "expected 32 hex digits, got 6");
	parse_bad(HDRS "a1 sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85z\n",
		  6, "non-hex character 'z'");
	parse_bad(HDRS "a1 regex foo(bar\n", 6, "invalid regex 'foo(bar'");
	parse_bad(HDRS "a1 regex x?\n", 6, "empty string");
	parse_bad(HDRS "a1 literal a\\qb\n", 6, "unknown escape");
	parse_bad(HDRS "a1 email nobody\n", 6, "exactly one '@'");
	parse_bad(HDRS "a1 url http://ex ample.com/\n", 6, "invalid url");
	parse_bad(HDRS "a1 literal@101 abc\n", 6, "invalid confidence '101'");
	parse_bad(HDRS "a1 literal@ abc\n", 6, "invalid confidence ''");
	parse_bad(HDRS "a1 literal@5x abc\n", 6, "invalid confidence '5x'");
	char id[200];
	memset(id, 'a', 129);
	snprintf(id + 129, sizeof(id) - 129, " literal x\n");
	char text[512];
	snprintf(text, sizeof(text), "%s%s", HDRS, id);
	parse_bad(text, 6, "invalid id");
}

static void test_bad_headers(void **state)
{
	(void)state;
	parse_bad(HDRS "a1 literal x\n@confidence 10\n", 7,
		  "header @confidence after the first indicator (line 6)");
	parse_bad(HDRS "@colour blue\n", 6, "unknown header @colour");
	parse_bad("@name a\n@name b\n", 2, "repeated header @name (first on line 1)");
	parse_bad("@licence a\n@license b\n", 2, "repeated header @license");
	parse_bad("@name t\n@category scam\n@source s\n@licence x\n\na1 literal x\n", 6,
		  "missing required header @tlp");
	parse_bad("@name t\n@category scam\n@licence x\n@tlp red\n", 0,
		  "missing required header @source");
	parse_bad("", 0, "missing required header @name");
	parse_bad("@name t\n@tlp purple\n", 2, "invalid @tlp 'purple'");
	parse_bad("@name t\n@tlp CLEAR\n", 2, "invalid @tlp");
	parse_bad("@confidence 101\n", 1, "invalid @confidence '101'");
	parse_bad("@confidence -1\n", 1, "invalid @confidence");
	parse_bad("@confidence\n", 1, "empty value for header @confidence");
	parse_bad("@name bad name\n", 1, "invalid @name");
	parse_bad("@category Scam\n", 1, "invalid @category");
	parse_bad("@date 2023-02-29\n", 1, "invalid @date");
	parse_bad("@date 2024-13-01\n", 1, "invalid @date");
	struct pack *p = parse_ok(HDRS "@date 2024-02-29\n");
	assert_string_equal(p->date, "2024-02-29");
	pack_destroy(p);
}

static void test_binary_and_long(void **state)
{
	(void)state;
	static const char nul[] = HDRS "a1 literal x\na2 literal y\0z\n";
	parse_bad_n(nul, sizeof(nul) - 1, 7, "binary data");

	size_t n = 70000;
	char *big = malloc(n + 256);
	assert_non_null(big);
	int h = snprintf(big, n + 256, "%sa1 literal ", HDRS);
	memset(big + h, 'a', n);
	big[h + n] = '\0';
	parse_bad(big, 6, "line longer than 65536 bytes");
	free(big);
}

static char *write_tmp(const char *text, size_t len)
{
	char *path = strdup("/tmp/test_pack_XXXXXX");
	assert_non_null(path);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static void test_load_file(void **state)
{
	(void)state;
	struct cs_diag d;
	struct pack *p = NULL;
	char *path = write_tmp(good_pack, strlen(good_pack));
	assert_int_equal(pack_load_file(path, &p, &d), CS_OK);
	assert_string_equal(p->path, path);
	assert_int_equal(p->n_ind, 9);
	uint8_t md[32];
	sha256(good_pack, strlen(good_pack), md);
	assert_memory_equal(p->digest, md, 32);
	pack_destroy(p);
	unlink(path);
	free(path);

	static const char bad[] = HDRS "\n\na1 sha1 xyz\n";
	path = write_tmp(bad, strlen(bad));
	cs_diag_clear(&d);
	assert_int_equal(pack_load_file(path, &p, &d), CS_ERR_PARSE);
	assert_null(p);
	assert_string_equal(d.file, path);
	assert_int_equal(d.line, 8);
	char line[2048], want[1200];
	cs_diag_format(&d, line, sizeof(line));
	snprintf(want, sizeof(want), "%s:8: invalid sha1 'xyz'", path);
	assert_memory_equal(line, want, strlen(want));
	unlink(path);
	free(path);

	cs_diag_clear(&d);
	assert_int_equal(pack_load_file("/nonexistent/dir/x.pack", &p, &d), CS_ERR_IO);
	assert_null(p);
	assert_int_equal(d.sys_errno, ENOENT);
	assert_string_equal(d.msg, strerror(ENOENT));
	assert_string_equal(d.file, "/nonexistent/dir/x.pack");
}

/* The canonical text pack_seal() digests, built independently here. */
static void adhoc_expect(const char *canon, const uint8_t digest[32])
{
	uint8_t md[32];
	sha256(canon, strlen(canon), md);
	assert_memory_equal(digest, md, 32);
}

static void test_adhoc(void **state)
{
	(void)state;
	struct cs_diag d;
	struct pack *a = NULL, *b = NULL;
	assert_int_equal(pack_create_adhoc("cli", &a), CS_OK);
	assert_string_equal(a->name, "cli");
	assert_string_equal(a->path, "cli");
	assert_string_equal(a->category, "adhoc");
	assert_string_equal(a->source, "command line");
	assert_string_equal(a->licence, "n/a");
	assert_string_equal(a->tlp, "clear");
	assert_int_equal(a->confidence, 50);
	assert_null(a->legal);
	assert_int_equal(pack_add(a, "e1", IND_DOMAIN, 0, "Evil.Example", 12, 0, &d), CS_OK);
	assert_int_equal(pack_add(a, "e2", IND_REGEX, IND_F_CASELESS | IND_F_DOTALL, "a.b", 3, 0, &d),
			 CS_OK);
	assert_int_equal(pack_add(a, "e3", IND_LITERAL, IND_F_CASELESS, "x\\x00y", 6, 0, &d), CS_OK);
	assert_string_equal(a->ind[0].value, "evil.example");
	assert_int_equal(a->ind[0].confidence, 50);

	/* Refused values leave the pack as it was and name the label. */
	cs_diag_clear(&d);
	assert_int_equal(pack_add(a, "e4", IND_MD5, 0, "zz", 2, 3, &d), CS_ERR_PARSE);
	assert_string_equal(d.file, "cli");
	assert_int_equal(d.line, 3);
	assert_non_null(strstr(d.msg, "invalid md5 'zz'"));
	assert_int_equal(pack_add(a, "bad id", IND_MD5, 0, "zz", 2, 0, &d), CS_ERR_PARSE);
	assert_non_null(strstr(d.msg, "invalid id"));
	assert_int_equal(a->n_ind, 3);

	pack_seal(a);
	static const char canon[] = "domain\t\tevil.example\nregex\tis\ta.b\nliteral\ti\tx\0y\n";
	uint8_t md[32];
	sha256(canon, sizeof(canon) - 1, md);
	assert_memory_equal(a->digest, md, 32);

	/* Same indicators, other ids and label: same digest. Other order: not. */
	assert_int_equal(pack_create_adhoc("-e", &b), CS_OK);
	assert_int_equal(pack_add(b, "x1", IND_DOMAIN, 0, "evil.example.", 13, 1, &d), CS_OK);
	assert_int_equal(pack_add(b, "x2", IND_REGEX, IND_F_DOTALL | IND_F_CASELESS, "a.b", 3, 2, &d),
			 CS_OK);
	assert_int_equal(pack_add(b, "x3", IND_LITERAL, IND_F_CASELESS, "x\\x00y", 6, 3, &d), CS_OK);
	pack_seal(b);
	assert_memory_equal(a->digest, b->digest, 32);
	pack_seal(b);
	assert_memory_equal(a->digest, b->digest, 32);
	pack_destroy(b);

	assert_int_equal(pack_create_adhoc("-e", &b), CS_OK);
	pack_seal(b);
	adhoc_expect("", b->digest);
	assert_int_equal(pack_add(b, "x2", IND_REGEX, IND_F_CASELESS | IND_F_DOTALL, "a.b", 3, 0, &d),
			 CS_OK);
	assert_int_equal(pack_add(b, "x1", IND_DOMAIN, 0, "evil.example", 12, 0, &d), CS_OK);
	pack_seal(b);
	adhoc_expect("regex\tis\ta.b\ndomain\t\tevil.example\n", b->digest);
	assert_memory_not_equal(a->digest, b->digest, 32);
	pack_destroy(b);
	pack_destroy(a);
	pack_destroy(NULL);
}

/* 200k indicator lines of mixed types, then the same with a late duplicate. */
static char *gen_big(size_t lines, size_t *len, bool dup_at_end)
{
	size_t cap = lines * 100 + 4096, n = 0;
	char *buf = malloc(cap);
	assert_non_null(buf);
	n += (size_t)snprintf(buf, cap, "%s@confidence 60\n", HDRS);
	for (size_t i = 0; i < lines; i++) {
		switch (i % 4) {
		case 0:
			n += (size_t)snprintf(buf + n, cap - n, "id-%zu domain Host%zu.Example.COM\n",
					      i, i);
			break;
		case 1:
			n += (size_t)snprintf(buf + n, cap - n, "id-%zu literal/i phrase number %zu\n",
					      i, i);
			break;
		case 2:
			n += (size_t)snprintf(buf + n, cap - n, "id-%zu sha256 %064zX\n", i, i);
			break;
		default:
			n += (size_t)snprintf(buf + n, cap - n, "id-%zu url http://h%zu.example/p/%zu\n",
					      i, i, i);
		}
	}
	if (dup_at_end)
		n += (size_t)snprintf(buf + n, cap - n, "id-3 md5 %032x\n", 7);
	*len = n;
	return buf;
}

static void test_big_pack(void **state)
{
	(void)state;
	size_t len, lines = 200000;
	struct cs_diag d;
	struct pack *p = NULL;
	char *buf = gen_big(lines, &len, false);
	assert_int_equal(pack_parse("big", buf, len, &p, &d), CS_OK);
	assert_int_equal(p->n_ind, lines);
	assert_string_equal(p->ind[0].value, "host0.example.com");
	assert_string_equal(p->ind[199998].value,
			    "0000000000000000000000000000000000000000000000000000000000030d3e");
	assert_string_equal(p->ind[199999].id, "id-199999");
	assert_int_equal(p->ind[199999].line, 6 + 199999 + 1);
	assert_int_equal(p->ind[12345].confidence, 60);
	pack_destroy(p);
	free(buf);

	buf = gen_big(lines, &len, true);
	assert_int_equal(pack_parse("big", buf, len, &p, &d), CS_ERR_PARSE);
	assert_null(p);
	assert_int_equal(d.line, 6 + lines + 1);
	assert_string_equal(d.msg, "duplicate id 'id-3' (first used on line 10)");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_pack),     cmocka_unit_test(test_defaults_and_digest),
		cmocka_unit_test(test_bad_lines),     cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_binary_and_long), cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_adhoc),         cmocka_unit_test(test_big_pack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
