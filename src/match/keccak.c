/* Keccak-f[1600] and the Keccak-256 sponge (rate 136 bytes, padding 0x01 ...
 * 0x80). Used for EIP-55 address case checksums and Monero address checksums;
 * inputs are short, so clarity wins over unrolling. Thread-safe: no state. */
#include "match/keccak.h"

#include <string.h>

#define KECCAK_RATE 136

static const uint64_t keccak_rc[24] = {
	0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL,
	0x8000000080008000ULL, 0x000000000000808bULL, 0x0000000080000001ULL,
	0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL,
	0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
	0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
	0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL,
	0x000000000000800aULL, 0x800000008000000aULL, 0x8000000080008081ULL,
	0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* Rotation offsets and the pi lane order, walked as one cycle from lane 1. */
static const unsigned keccak_rho[24] = {
	1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14,
	27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44,
};
static const unsigned keccak_pi[24] = {
	10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4,
	15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1,
};

static uint64_t keccak_rotl(uint64_t x, unsigned n)
{
	return (x << n) | (x >> (64 - n));
}

static void keccak_f1600(uint64_t st[25])
{
	for (unsigned round = 0; round < 24; round++) {
		uint64_t bc[5];
		for (unsigned i = 0; i < 5; i++)
			bc[i] = st[i] ^ st[i + 5] ^ st[i + 10] ^ st[i + 15] ^ st[i + 20];
		for (unsigned i = 0; i < 5; i++) {
			uint64_t t = bc[(i + 4) % 5] ^ keccak_rotl(bc[(i + 1) % 5], 1);
			for (unsigned j = 0; j < 25; j += 5)
				st[j + i] ^= t;
		}
		uint64_t t = st[1];
		for (unsigned i = 0; i < 24; i++) {
			unsigned j = keccak_pi[i];
			uint64_t tmp = st[j];
			st[j] = keccak_rotl(t, keccak_rho[i]);
			t = tmp;
		}
		for (unsigned j = 0; j < 25; j += 5) {
			for (unsigned i = 0; i < 5; i++)
				bc[i] = st[j + i];
			for (unsigned i = 0; i < 5; i++)
				st[j + i] ^= (~bc[(i + 1) % 5]) & bc[(i + 2) % 5];
		}
		st[0] ^= keccak_rc[round];
	}
}

/* Lanes are little-endian whatever the host order. */
static void keccak_absorb_block(uint64_t st[25], const uint8_t *blk)
{
	for (unsigned i = 0; i < KECCAK_RATE / 8; i++) {
		uint64_t lane = 0;
		for (unsigned b = 0; b < 8; b++)
			lane |= (uint64_t)blk[i * 8 + b] << (8 * b);
		st[i] ^= lane;
	}
	keccak_f1600(st);
}

void keccak_sponge_256(const void *in, size_t n, uint8_t pad, uint8_t out[KECCAK_256_LEN])
{
	uint64_t st[25] = { 0 };
	const uint8_t *p = in;
	while (n >= KECCAK_RATE) {
		keccak_absorb_block(st, p);
		p += KECCAK_RATE;
		n -= KECCAK_RATE;
	}
	uint8_t last[KECCAK_RATE] = { 0 };
	if (n)
		memcpy(last, p, n);
	last[n] ^= pad;
	last[KECCAK_RATE - 1] ^= 0x80;
	keccak_absorb_block(st, last);
	for (unsigned i = 0; i < KECCAK_256_LEN; i++)
		out[i] = (uint8_t)(st[i / 8] >> (8 * (i % 8)));
}

void keccak_256(const void *in, size_t n, uint8_t out[KECCAK_256_LEN])
{
	keccak_sponge_256(in, n, 0x01, out);
}
