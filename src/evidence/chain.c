/* The hash chain over the records files (include/cybersieve/chain.h).
 * Only pure helpers: the writer keeps the running head, the verifier its own. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "cybersieve/chain.h"

/* SHA-256 fetched once for the process: with EVP_sha256() every digest looks
 * the algorithm up again, a quarter of the time a 1 KB record's link takes. */
static EVP_MD *chain_md;
static pthread_once_t chain_md_once = PTHREAD_ONCE_INIT;

static void chain_md_fetch(void)
{
	chain_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void ev_chain_hash(const void *p, size_t n, uint8_t out[32])
{
	unsigned int len = 32;
	(void)pthread_once(&chain_md_once, chain_md_fetch);
	if (!EVP_Digest(p, n, out, &len, chain_md ? chain_md : EVP_sha256(), NULL))
		memset(out, 0, 32); /* only on allocation failure; the link then fails to verify */
}

void ev_chain_genesis(const char *run_id, const char *file_name, uint8_t out[32])
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), EV_CHAIN_TAG ":%s:%s", run_id ? run_id : "",
			 file_name ? file_name : "");
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	ev_chain_hash(buf, (size_t)n, out);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool ev_chain_unhex(const char *hex, size_t hex_len, uint8_t *out, size_t n)
{
	if (hex_len != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

bool ev_chain_patch(char *line, size_t n, const uint8_t prev[32])
{
	static const char digits[] = "0123456789abcdef";
	const size_t pl = sizeof(EV_PREV_PLACEHOLDER) - 1;
	if (n < EV_CHAIN_LEAD_LEN + pl + 1 || memcmp(line, EV_CHAIN_LEAD, EV_CHAIN_LEAD_LEN) != 0 ||
	    memcmp(line + EV_CHAIN_LEAD_LEN, EV_PREV_PLACEHOLDER, pl) != 0)
		return false;
	char *h = line + EV_CHAIN_LEAD_LEN;
	for (size_t i = 0; i < 32; i++) {
		h[2 * i] = digits[prev[i] >> 4];
		h[2 * i + 1] = digits[prev[i] & 15];
	}
	return true;
}

bool ev_chain_prev(const char *line, size_t n, uint8_t out[32])
{
	if (n < EV_CHAIN_LEAD_LEN + 65 || memcmp(line, EV_CHAIN_LEAD, EV_CHAIN_LEAD_LEN) != 0 ||
	    line[EV_CHAIN_LEAD_LEN + 64] != '"')
		return false;
	return ev_chain_unhex(line + EV_CHAIN_LEAD_LEN, 64, out, 32);
}

bool ev_chain_category(const char *line, size_t n, char *out, size_t cap)
{
	static const char key[] = "\"category\":\"";
	const char *k = memmem(line, n, key, sizeof(key) - 1);
	if (!k || cap == 0)
		return false;
	const char *s = k + sizeof(key) - 1, *end = line + n;
	size_t len = 0;
	/* Category names are plain words; an escape or an over-long name is not one. */
	while (s + len < end && s[len] != '"' && s[len] != '\\' && len + 1 < cap)
		len++;
	if (s + len >= end || s[len] != '"')
		return false;
	memcpy(out, s, len);
	out[len] = '\0';
	return true;
}

void ev_chain_counts_add(struct ev_chain_counts *c, const char *cat)
{
	if (!cat) {
		c->other++;
		return;
	}
	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->cat[i].name, cat) == 0) {
			c->cat[i].records++;
			return;
		}
	}
	if (c->n == EV_CHAIN_MAX_CATEGORIES || strlen(cat) >= sizeof(c->cat[0].name)) {
		c->other++;
		return;
	}
	snprintf(c->cat[c->n].name, sizeof(c->cat[0].name), "%s", cat);
	c->cat[c->n].records = 1;
	c->n++;
}
