/* Indicator packs at scale, and a log full of PDQ hashes.
 *
 *   gen_scale mix N [SEED]      a pack of N random indicators of mixed types
 *                               (shares in mix_tab below) on stdout
 *   gen_scale pdq N [SEED]      a pack of N random PDQ hashes on stdout
 *   gen_scale pdqlog N BYTES [SEED] [EVERY]
 *                               a log of about BYTES with one PDQ hash a line;
 *                               one line in EVERY (default 1000) carries a hash
 *                               within 10 bits of one of the N of "pdq N SEED"
 *
 * Same arguments, same bytes: the generator is a seeded xorshift. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void rand_from(uint64_t *s, const char *alpha, size_t n, char *out)
{
	size_t an = strlen(alpha);
	for (size_t i = 0; i < n; i++)
		out[i] = alpha[rng_next(s) % an];
	out[n] = '\0';
}

static void rand_hex(uint64_t *s, size_t n, char *out)
{
	rand_from(s, "0123456789abcdef", n, out);
}

static const char *const tlds[] = {"com", "net", "org", "xyz", "top", "ru", "info", "io",
				   "cc", "click", "shop", "biz", "online", "site", "live", "co",
				   "me", "pw", "su", "tk"};

static void rand_domain(uint64_t *s, char *out)
{
	char a[16], b[8];
	rand_from(s, "abcdefghijklmnopqrstuvwxyz0123456789", 6 + rng_next(s) % 9, a);
	rand_from(s, "abcdefghijklmnopqrstuvwxyz0123456789", 4, b);
	sprintf(out, "%s-%s.%s", a, b, tlds[rng_next(s) % (sizeof(tlds) / sizeof(tlds[0]))]);
}

/* Type shares of a mixed pack, per 1000: what public feeds hold most of
 * (digests, domains, addresses), URLs next, few wallets and phrases. */
static const struct {
	const char *type;
	unsigned per_mille;
} mix_tab[] = {
	{"md5", 250}, {"sha1", 100}, {"sha256", 150}, {"domain", 250}, {"ip", 150},
	{"url", 70},  {"wallet", 20}, {"literal", 10},
};

static void header(const char *name)
{
	printf("@name %s\n@category scam\n@source cybersieve bench/gen_scale (random)\n"
	       "@licence CC0-1.0\n@tlp clear\n",
	       name);
}

static void one_mixed(uint64_t *s, const char *type, uint64_t i)
{
	char v[256], a[64], b[64];
	if (!strcmp(type, "md5")) {
		rand_hex(s, 32, v);
	} else if (!strcmp(type, "sha1")) {
		rand_hex(s, 40, v);
	} else if (!strcmp(type, "sha256")) {
		rand_hex(s, 64, v);
	} else if (!strcmp(type, "domain")) {
		rand_domain(s, v);
	} else if (!strcmp(type, "ip")) {
		uint64_t r = rng_next(s);
		if (r % 20 == 0)
			sprintf(v, "2001:db8:%x:%x::%x", (unsigned)(r >> 8) & 0xffff,
				(unsigned)(r >> 24) & 0xffff, (unsigned)(r >> 40) & 0xffff);
		else if (r % 5 == 0)
			sprintf(v, "%u.%u.%u.0/24", 11 + (unsigned)(r >> 8) % 200,
				(unsigned)(r >> 16) & 255, (unsigned)(r >> 24) & 255);
		else
			sprintf(v, "%u.%u.%u.%u", 11 + (unsigned)(r >> 8) % 200,
				(unsigned)(r >> 16) & 255, (unsigned)(r >> 24) & 255,
				1 + (unsigned)(r >> 32) % 254);
	} else if (!strcmp(type, "url")) {
		rand_domain(s, a);
		rand_from(s, "abcdefghijklmnopqrstuvwxyz0123456789", 6 + rng_next(s) % 10, b);
		sprintf(v, "http://%s/%s/%s.php", a, b, (rng_next(s) & 1) ? "login" : "gate");
	} else if (!strcmp(type, "wallet")) {
		rand_hex(s, 40, a);
		sprintf(v, "eth:0x%s", a);
	} else {
		rand_from(s, "abcdefghijklmnopqrstuvwxyz", 8, a);
		rand_from(s, "ABCDEFGHJKLMNPQRSTUVWXYZ23456789", 10, b);
		sprintf(v, "claim %s reward code %s", a, b);
	}
	printf("x%llu %s %s\n", (unsigned long long)i, type, v);
}

static int gen_mix(uint64_t n, uint64_t seed)
{
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
	char name[64];
	snprintf(name, sizeof(name), "mix-%llu", (unsigned long long)n);
	header(name);
	uint64_t i = 0;
	for (size_t t = 0; t < sizeof(mix_tab) / sizeof(mix_tab[0]); t++) {
		uint64_t k = n * mix_tab[t].per_mille / 1000;
		if (t + 1 == sizeof(mix_tab) / sizeof(mix_tab[0]))
			k = n - i;
		for (uint64_t j = 0; j < k; j++, i++)
			one_mixed(&s, mix_tab[t].type, i);
	}
	return 0;
}

static uint64_t pdq_seed(uint64_t seed)
{
	return seed * 0xbf58476d1ce4e5b9ull + 7;
}

static int gen_pdq(uint64_t n, uint64_t seed)
{
	uint64_t s = pdq_seed(seed);
	char name[64], v[65];
	snprintf(name, sizeof(name), "pdq-%llu", (unsigned long long)n);
	header(name);
	for (uint64_t i = 0; i < n; i++) {
		rand_hex(&s, 64, v);
		printf("q%llu pdq %s\n", (unsigned long long)i, v);
	}
	return 0;
}

/* Flip d distinct bits of a 64-hex hash. */
static void flip(uint64_t *s, char *h, unsigned d)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t used[256] = {0};
	for (unsigned k = 0; k < d;) {
		unsigned b = (unsigned)(rng_next(s) % 256);
		if (used[b])
			continue;
		used[b] = 1;
		int v = h[b / 4] <= '9' ? h[b / 4] - '0' : h[b / 4] - 'a' + 10;
		h[b / 4] = hex[v ^ (1 << (b % 4))];
		k++;
	}
}

static int gen_pdqlog(uint64_t n, uint64_t bytes, uint64_t seed, uint64_t every)
{
	/* The listed hashes, regenerated: the planted ones are drawn from them. */
	char (*listed)[65] = malloc((n ? n : 1) * sizeof(*listed));
	if (!listed)
		return 1;
	uint64_t s = pdq_seed(seed);
	for (uint64_t i = 0; i < n; i++)
		rand_hex(&s, 64, listed[i]);
	uint64_t r = seed ^ 0x5555aaaa5555aaaaull, out = 0, line = 0, planted = 0;
	while (out < bytes) {
		char h[65];
		if (n && rng_next(&r) % every == 0) {
			memcpy(h, listed[rng_next(&r) % n], 65);
			flip(&r, h, (unsigned)(rng_next(&r) % 11));
			planted++;
		} else {
			rand_hex(&r, 64, h);
		}
		int k = printf("2026-11-30T06:%02u:%02u.%03uZ media-scan host=cdn%u upload=%llu pdq=%s "
			       "quality=%u\n",
			       (unsigned)(line / 60000 % 60), (unsigned)(line / 1000 % 60),
			       (unsigned)(line % 1000), (unsigned)(rng_next(&r) % 64),
			       (unsigned long long)line, h, 50 + (unsigned)(rng_next(&r) % 51));
		out += (uint64_t)(k > 0 ? k : 0);
		line++;
	}
	fprintf(stderr, "gen_scale: %llu lines, %llu planted within 10 bits\n",
		(unsigned long long)line, (unsigned long long)planted);
	free(listed);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "mix"))
		return gen_mix(strtoull(argv[2], NULL, 0), argc > 3 ? strtoull(argv[3], NULL, 0) : 1);
	if (argc >= 3 && !strcmp(argv[1], "pdq"))
		return gen_pdq(strtoull(argv[2], NULL, 0), argc > 3 ? strtoull(argv[3], NULL, 0) : 1);
	if (argc >= 4 && !strcmp(argv[1], "pdqlog")) {
		uint64_t every = argc > 5 ? strtoull(argv[5], NULL, 0) : 1000;
		return gen_pdqlog(strtoull(argv[2], NULL, 0), strtoull(argv[3], NULL, 0),
				  argc > 4 ? strtoull(argv[4], NULL, 0) : 1, every ? every : 1);
	}
	fprintf(stderr, "usage: gen_scale mix N [SEED] | pdq N [SEED] | pdqlog N BYTES [SEED] [EVERY]\n");
	return 2;
}
