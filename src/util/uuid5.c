/* Version-5 UUIDs (include/cybersieve/uuid.h). SHA-1 comes from libcrypto's
 * one-shot digest; the namespaces are constants, never written. */
#include <string.h>

#include <openssl/evp.h>

#include "cybersieve/util.h"
#include "cybersieve/uuid.h"

const uint8_t UUID5_NS_CYBERSIEVE[16] = {0x7f, 0xaa, 0x6f, 0xed, 0xc1, 0x1f, 0x41, 0xa6,
					 0x8c, 0xfd, 0xfb, 0x72, 0xc5, 0xa8, 0x7c, 0xeb};
const uint8_t UUID5_NS_STIX[16] = {0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c,
				   0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7};
const uint8_t UUID5_NS_DNS[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
				  0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};

void uuid5_make(const uint8_t ns[16], const void *name, size_t n, uint8_t out[16])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	/* SHA-1 cannot fail on memory input once the context exists; an
	 * allocation failure leaves a zero digest, still a well-formed UUID. */
	memset(md, 0, sizeof(md));
	if (c && EVP_DigestInit_ex(c, EVP_sha1(), NULL) == 1 &&
	    EVP_DigestUpdate(c, ns, 16) == 1 && EVP_DigestUpdate(c, name, n) == 1)
		EVP_DigestFinal_ex(c, md, &mdlen);
	EVP_MD_CTX_free(c);
	memcpy(out, md, 16);
	out[6] = (uint8_t)((out[6] & 0x0F) | 0x50); /* version 5 */
	out[8] = (uint8_t)((out[8] & 0x3F) | 0x80); /* variant 10 (RFC 9562) */
}

void uuid5_format(const uint8_t u[16], char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[u[i] >> 4];
		out[o++] = hex[u[i] & 0x0F];
	}
	out[o] = '\0';
}

bool uuid5_parse(const char *s, uint8_t out[16])
{
	size_t k = 0;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
			continue;
		}
		int hi = util_hex_digit((unsigned char)s[i]);
		int lo = hi < 0 ? -1 : util_hex_digit((unsigned char)s[i + 1]);
		if (lo < 0)
			return false;
		out[k++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	return s[36] == '\0';
}

void uuid5_text(const uint8_t ns[16], const char *name, size_t n, char *out)
{
	uint8_t u[16];
	uuid5_make(ns, name, n, u);
	uuid5_format(u, out);
}
