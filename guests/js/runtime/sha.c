/* sha.c — SHA-1, SHA-256, SHA-384 and SHA-512 (FIPS 180-4) and HMAC
 * (RFC 2104), for crypto.subtle.digest, sign and verify: what Workers
 * code hashes with (ETags, webhook signatures, HS256 tokens). */
#include "runtime.h"

#include <string.h>

/* ---- SHA-1 and SHA-256: 64-byte blocks, 32-bit words ---- */

static uint32_t rol32(uint32_t x, int n) { return x << n | x >> (32 - n); }
static uint32_t ror32(uint32_t x, int n) { return x >> n | x << (32 - n); }

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }

static void put32(uint8_t *p, uint32_t v) {
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v) {
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static void sha1_block(uint32_t *h, const uint8_t *b) {
	uint32_t w[80];
	for (int i = 0; i < 16; i++) {
		w[i] = be32(b + 4 * i);
	}
	for (int i = 16; i < 80; i++) {
		w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	}
	uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
	for (int i = 0; i < 80; i++) {
		uint32_t f, k;
		if (i < 20) {
			f = (bb & c) | (~bb & d), k = 0x5A827999;
		} else if (i < 40) {
			f = bb ^ c ^ d, k = 0x6ED9EBA1;
		} else if (i < 60) {
			f = (bb & c) | (bb & d) | (c & d), k = 0x8F1BBCDC;
		} else {
			f = bb ^ c ^ d, k = 0xCA62C1D6;
		}
		uint32_t t = rol32(a, 5) + f + e + k + w[i];
		e = d, d = c, c = rol32(bb, 30), bb = a, a = t;
	}
	h[0] += a, h[1] += bb, h[2] += c, h[3] += d, h[4] += e;
}

static const uint32_t k256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
	0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
	0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static void sha256_block(uint32_t *h, const uint8_t *b) {
	uint32_t w[64];
	for (int i = 0; i < 16; i++) {
		w[i] = be32(b + 4 * i);
	}
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = hh + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) + ((e & f) ^ (~e & g)) + k256[i] + w[i];
		uint32_t t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) + ((a & bb) ^ (a & c) ^ (bb & c));
		hh = g, g = f, f = e, e = d + t1, d = c, c = bb, bb = a, a = t1 + t2;
	}
	h[0] += a, h[1] += bb, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

/* ---- SHA-384 and SHA-512: 128-byte blocks, 64-bit words ---- */

static uint64_t ror64(uint64_t x, int n) { return x >> n | x << (64 - n); }

static const uint64_t k512[80] = {
	0x428a2f98d728ae22ULL, 0x7137449123ef65cdULL, 0xb5c0fbcfec4d3b2fULL, 0xe9b5dba58189dbbcULL, 0x3956c25bf348b538ULL,
	0x59f111f1b605d019ULL, 0x923f82a4af194f9bULL, 0xab1c5ed5da6d8118ULL, 0xd807aa98a3030242ULL, 0x12835b0145706fbeULL,
	0x243185be4ee4b28cULL, 0x550c7dc3d5ffb4e2ULL, 0x72be5d74f27b896fULL, 0x80deb1fe3b1696b1ULL, 0x9bdc06a725c71235ULL,
	0xc19bf174cf692694ULL, 0xe49b69c19ef14ad2ULL, 0xefbe4786384f25e3ULL, 0x0fc19dc68b8cd5b5ULL, 0x240ca1cc77ac9c65ULL,
	0x2de92c6f592b0275ULL, 0x4a7484aa6ea6e483ULL, 0x5cb0a9dcbd41fbd4ULL, 0x76f988da831153b5ULL, 0x983e5152ee66dfabULL,
	0xa831c66d2db43210ULL, 0xb00327c898fb213fULL, 0xbf597fc7beef0ee4ULL, 0xc6e00bf33da88fc2ULL, 0xd5a79147930aa725ULL,
	0x06ca6351e003826fULL, 0x142929670a0e6e70ULL, 0x27b70a8546d22ffcULL, 0x2e1b21385c26c926ULL, 0x4d2c6dfc5ac42aedULL,
	0x53380d139d95b3dfULL, 0x650a73548baf63deULL, 0x766a0abb3c77b2a8ULL, 0x81c2c92e47edaee6ULL, 0x92722c851482353bULL,
	0xa2bfe8a14cf10364ULL, 0xa81a664bbc423001ULL, 0xc24b8b70d0f89791ULL, 0xc76c51a30654be30ULL, 0xd192e819d6ef5218ULL,
	0xd69906245565a910ULL, 0xf40e35855771202aULL, 0x106aa07032bbd1b8ULL, 0x19a4c116b8d2d0c8ULL, 0x1e376c085141ab53ULL,
	0x2748774cdf8eeb99ULL, 0x34b0bcb5e19b48a8ULL, 0x391c0cb3c5c95a63ULL, 0x4ed8aa4ae3418acbULL, 0x5b9cca4f7763e373ULL,
	0x682e6ff3d6b2b8a3ULL, 0x748f82ee5defb2fcULL, 0x78a5636f43172f60ULL, 0x84c87814a1f0ab72ULL, 0x8cc702081a6439ecULL,
	0x90befffa23631e28ULL, 0xa4506cebde82bde9ULL, 0xbef9a3f7b2c67915ULL, 0xc67178f2e372532bULL, 0xca273eceea26619cULL,
	0xd186b8c721c0c207ULL, 0xeada7dd6cde0eb1eULL, 0xf57d4f7fee6ed178ULL, 0x06f067aa72176fbaULL, 0x0a637dc5a2c898a6ULL,
	0x113f9804bef90daeULL, 0x1b710b35131c471bULL, 0x28db77f523047d84ULL, 0x32caab7b40c72493ULL, 0x3c9ebe0a15c9bebcULL,
	0x431d67c49c100d4cULL, 0x4cc5d4becb3e42b6ULL, 0x597f299cfc657e2aULL, 0x5fcb6fab3ad6faecULL, 0x6c44198c4a475817ULL};

static void sha512_block(uint64_t *h, const uint8_t *b) {
	uint64_t w[80];
	for (int i = 0; i < 16; i++) {
		w[i] = be64(b + 8 * i);
	}
	for (int i = 16; i < 80; i++) {
		uint64_t s0 = ror64(w[i - 15], 1) ^ ror64(w[i - 15], 8) ^ (w[i - 15] >> 7);
		uint64_t s1 = ror64(w[i - 2], 19) ^ ror64(w[i - 2], 61) ^ (w[i - 2] >> 6);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	uint64_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
	for (int i = 0; i < 80; i++) {
		uint64_t t1 = hh + (ror64(e, 14) ^ ror64(e, 18) ^ ror64(e, 41)) + ((e & f) ^ (~e & g)) + k512[i] + w[i];
		uint64_t t2 = (ror64(a, 28) ^ ror64(a, 34) ^ ror64(a, 39)) + ((a & bb) ^ (a & c) ^ (bb & c));
		hh = g, g = f, f = e, e = d + t1, d = c, c = bb, bb = a, a = t1 + t2;
	}
	h[0] += a, h[1] += bb, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

/* ---- One function for the four ---- */

/* sha_alg is a digest by its Web Crypto name: block and output sizes. */
typedef struct {
	const char *name;
	uint32_t block, size;
} sha_alg;

static const sha_alg algs[] = {{"SHA-1", 64, 20}, {"SHA-256", 64, 32}, {"SHA-384", 128, 48}, {"SHA-512", 128, 64}};

static const sha_alg *find(dohost_str name) {
	for (size_t i = 0; i < sizeof algs / sizeof *algs; i++) {
		if (dohost_str_eq(name, dohost_cstr(algs[i].name))) {
			return &algs[i];
		}
	}
	return NULL;
}

int sha_size(dohost_str name) {
	const sha_alg *a = find(name);
	return a ? (int)a->size : 0;
}

/* sha writes the digest of the n parts (a message in pieces) to out. */
static void sha(const sha_alg *a, int n, const dohost_str *parts, uint8_t *out) {
	uint32_t h32[8];
	uint64_t h64[8];
	switch (a->size) {
	case 20: {
		static const uint32_t iv[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
		memcpy(h32, iv, sizeof iv);
		break;
	}
	case 32: {
		static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
		memcpy(h32, iv, sizeof iv);
		break;
	}
	case 48: {
		static const uint64_t iv[8] = {0xcbbb9d5dc1059ed8ULL, 0x629a292a367cd507ULL, 0x9159015a3070dd17ULL, 0x152fecd8f70e5939ULL,
			0x67332667ffc00b31ULL, 0x8eb44a8768581511ULL, 0xdb0c2e0d64f98fa7ULL, 0x47b5481dbefa4fa4ULL};
		memcpy(h64, iv, sizeof iv);
		break;
	}
	default: {
		static const uint64_t iv[8] = {0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
			0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};
		memcpy(h64, iv, sizeof iv);
	}
	}
	uint8_t block[128];
	uint32_t fill = 0;
	uint64_t total = 0;
#define BLOCK()                                                                                                        \
	do {                                                                                                               \
		if (a->block == 128) {                                                                                         \
			sha512_block(h64, block);                                                                                  \
		} else if (a->size == 20) {                                                                                    \
			sha1_block(h32, block);                                                                                    \
		} else {                                                                                                       \
			sha256_block(h32, block);                                                                                  \
		}                                                                                                              \
	} while (0)
	for (int i = 0; i < n; i++) {
		const uint8_t *p = (const uint8_t *)parts[i].ptr;
		for (uint32_t k = 0; k < parts[i].len; k++) {
			block[fill++] = p[k];
			if (fill == a->block) {
				BLOCK();
				fill = 0;
			}
		}
		total += parts[i].len;
	}
	/* padding: 0x80, zeros, the bit length (64 bits; 128 for SHA-512's, whose high half is 0) */
	uint32_t lenbytes = a->block == 128 ? 16 : 8;
	block[fill++] = 0x80;
	if (fill > a->block - lenbytes) {
		memset(block + fill, 0, a->block - fill);
		BLOCK();
		fill = 0;
	}
	memset(block + fill, 0, a->block - fill);
	put64(block + a->block - 8, total * 8);
	BLOCK();
#undef BLOCK
	for (uint32_t i = 0; i < a->size; i++) {
		out[i] = a->block == 128 ? (uint8_t)(h64[i / 8] >> (56 - 8 * (i % 8))) : (uint8_t)(h32[i / 4] >> (24 - 8 * (i % 4)));
	}
}

bool sha_digest(dohost_str alg, dohost_str data, uint8_t *out) {
	const sha_alg *a = find(alg);
	if (!a) {
		return false;
	}
	sha(a, 1, &data, out);
	return true;
}

bool hmac(dohost_str alg, dohost_str key, dohost_str data, uint8_t *out) {
	const sha_alg *a = find(alg);
	if (!a) {
		return false;
	}
	uint8_t k[128] = {0}, pad[128], inner[64];
	if (key.len > a->block) {
		sha(a, 1, &key, k);
	} else {
		memcpy(k, key.ptr, key.len);
	}
	for (uint32_t i = 0; i < a->block; i++) {
		pad[i] = k[i] ^ 0x36;
	}
	dohost_str in[2] = {{(const char *)pad, a->block}, data};
	sha(a, 2, in, inner);
	for (uint32_t i = 0; i < a->block; i++) {
		pad[i] = k[i] ^ 0x5c;
	}
	dohost_str outer[2] = {{(const char *)pad, a->block}, {(const char *)inner, a->size}};
	sha(a, 2, outer, out);
	return true;
}
