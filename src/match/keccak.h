/* Keccak-256 as Ethereum and Monero use it: the original Keccak padding
 * (domain byte 0x01), not the FIPS 202 SHA3-256 one (0x06), which libcrypto
 * offers but which gives different digests. Pure function, no state kept. */
#ifndef CS_MATCH_KECCAK_H
#define CS_MATCH_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#define KECCAK_256_LEN 32

/* Digest n bytes at in into out (32 bytes). */
void keccak_256(const void *in, size_t n, uint8_t out[KECCAK_256_LEN]);

/* The same sponge with another first padding byte: 0x01 is Keccak-256,
 * 0x06 is SHA3-256 (which lets tests compare long inputs with libcrypto). */
void keccak_sponge_256(const void *in, size_t n, uint8_t pad, uint8_t out[KECCAK_256_LEN]);

#endif
