/* aes_gcm.c -- AES-256 (FIPS 197) and GCM (NIST SP 800-38D) in portable C. */
#include "aes_gcm.h"

#include <string.h>

/* The AES S-box (FIPS 197, figure 7) and the round table te0: for each input
 * byte x with s = S(x), the big-endian word {2s, s, s, 3s}, which is SubBytes
 * and one column of MixColumns at once. The other three rows of the usual
 * four tables are te0 rotated by 8, 16 and 24 bits, so only one 1 KiB table
 * is kept. Both were generated from the field arithmetic of FIPS 197. */
static const uint8_t sbox[256] = {
    0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76,
    0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0,
    0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,
    0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75,
    0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84,
    0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,
    0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8,
    0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5, 0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2,
    0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,
    0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88, 0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb,
    0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79,
    0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,
    0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a,
    0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e,
    0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,
    0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16,
};
static const uint32_t te0[256] = {
    0xc66363a5, 0xf87c7c84, 0xee777799, 0xf67b7b8d, 0xfff2f20d, 0xd66b6bbd, 0xde6f6fb1, 0x91c5c554,
    0x60303050, 0x02010103, 0xce6767a9, 0x562b2b7d, 0xe7fefe19, 0xb5d7d762, 0x4dababe6, 0xec76769a,
    0x8fcaca45, 0x1f82829d, 0x89c9c940, 0xfa7d7d87, 0xeffafa15, 0xb25959eb, 0x8e4747c9, 0xfbf0f00b,
    0x41adadec, 0xb3d4d467, 0x5fa2a2fd, 0x45afafea, 0x239c9cbf, 0x53a4a4f7, 0xe4727296, 0x9bc0c05b,
    0x75b7b7c2, 0xe1fdfd1c, 0x3d9393ae, 0x4c26266a, 0x6c36365a, 0x7e3f3f41, 0xf5f7f702, 0x83cccc4f,
    0x6834345c, 0x51a5a5f4, 0xd1e5e534, 0xf9f1f108, 0xe2717193, 0xabd8d873, 0x62313153, 0x2a15153f,
    0x0804040c, 0x95c7c752, 0x46232365, 0x9dc3c35e, 0x30181828, 0x379696a1, 0x0a05050f, 0x2f9a9ab5,
    0x0e070709, 0x24121236, 0x1b80809b, 0xdfe2e23d, 0xcdebeb26, 0x4e272769, 0x7fb2b2cd, 0xea75759f,
    0x1209091b, 0x1d83839e, 0x582c2c74, 0x341a1a2e, 0x361b1b2d, 0xdc6e6eb2, 0xb45a5aee, 0x5ba0a0fb,
    0xa45252f6, 0x763b3b4d, 0xb7d6d661, 0x7db3b3ce, 0x5229297b, 0xdde3e33e, 0x5e2f2f71, 0x13848497,
    0xa65353f5, 0xb9d1d168, 0x00000000, 0xc1eded2c, 0x40202060, 0xe3fcfc1f, 0x79b1b1c8, 0xb65b5bed,
    0xd46a6abe, 0x8dcbcb46, 0x67bebed9, 0x7239394b, 0x944a4ade, 0x984c4cd4, 0xb05858e8, 0x85cfcf4a,
    0xbbd0d06b, 0xc5efef2a, 0x4faaaae5, 0xedfbfb16, 0x864343c5, 0x9a4d4dd7, 0x66333355, 0x11858594,
    0x8a4545cf, 0xe9f9f910, 0x04020206, 0xfe7f7f81, 0xa05050f0, 0x783c3c44, 0x259f9fba, 0x4ba8a8e3,
    0xa25151f3, 0x5da3a3fe, 0x804040c0, 0x058f8f8a, 0x3f9292ad, 0x219d9dbc, 0x70383848, 0xf1f5f504,
    0x63bcbcdf, 0x77b6b6c1, 0xafdada75, 0x42212163, 0x20101030, 0xe5ffff1a, 0xfdf3f30e, 0xbfd2d26d,
    0x81cdcd4c, 0x180c0c14, 0x26131335, 0xc3ecec2f, 0xbe5f5fe1, 0x359797a2, 0x884444cc, 0x2e171739,
    0x93c4c457, 0x55a7a7f2, 0xfc7e7e82, 0x7a3d3d47, 0xc86464ac, 0xba5d5de7, 0x3219192b, 0xe6737395,
    0xc06060a0, 0x19818198, 0x9e4f4fd1, 0xa3dcdc7f, 0x44222266, 0x542a2a7e, 0x3b9090ab, 0x0b888883,
    0x8c4646ca, 0xc7eeee29, 0x6bb8b8d3, 0x2814143c, 0xa7dede79, 0xbc5e5ee2, 0x160b0b1d, 0xaddbdb76,
    0xdbe0e03b, 0x64323256, 0x743a3a4e, 0x140a0a1e, 0x924949db, 0x0c06060a, 0x4824246c, 0xb85c5ce4,
    0x9fc2c25d, 0xbdd3d36e, 0x43acacef, 0xc46262a6, 0x399191a8, 0x319595a4, 0xd3e4e437, 0xf279798b,
    0xd5e7e732, 0x8bc8c843, 0x6e373759, 0xda6d6db7, 0x018d8d8c, 0xb1d5d564, 0x9c4e4ed2, 0x49a9a9e0,
    0xd86c6cb4, 0xac5656fa, 0xf3f4f407, 0xcfeaea25, 0xca6565af, 0xf47a7a8e, 0x47aeaee9, 0x10080818,
    0x6fbabad5, 0xf0787888, 0x4a25256f, 0x5c2e2e72, 0x381c1c24, 0x57a6a6f1, 0x73b4b4c7, 0x97c6c651,
    0xcbe8e823, 0xa1dddd7c, 0xe874749c, 0x3e1f1f21, 0x964b4bdd, 0x61bdbddc, 0x0d8b8b86, 0x0f8a8a85,
    0xe0707090, 0x7c3e3e42, 0x71b5b5c4, 0xcc6666aa, 0x904848d8, 0x06030305, 0xf7f6f601, 0x1c0e0e12,
    0xc26161a3, 0x6a35355f, 0xae5757f9, 0x69b9b9d0, 0x17868691, 0x99c1c158, 0x3a1d1d27, 0x279e9eb9,
    0xd9e1e138, 0xebf8f813, 0x2b9898b3, 0x22111133, 0xd26969bb, 0xa9d9d970, 0x078e8e89, 0x339494a7,
    0x2d9b9bb6, 0x3c1e1e22, 0x15878792, 0xc9e9e920, 0x87cece49, 0xaa5555ff, 0x50282878, 0xa5dfdf7a,
    0x038c8c8f, 0x59a1a1f8, 0x09898980, 0x1a0d0d17, 0x65bfbfda, 0xd7e6e631, 0x844242c6, 0xd06868b8,
    0x824141c3, 0x299999b0, 0x5a2d2d77, 0x1e0f0f11, 0x7bb0b0cb, 0xa85454fc, 0x6dbbbbd6, 0x2c16163a,
};

/* The round constants of the key schedule (x^(i-1) in GF(2^8)). */
static const uint8_t rcon[7] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40};

static uint32_t ror32(uint32_t v, unsigned s) { return (v >> s) | (v << (32u - s)); }

static uint32_t load_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint64_t load_be64(const uint8_t *p) {
    return (uint64_t)load_be32(p) << 32 | load_be32(p + 4);
}

static void store_be64(uint8_t *p, uint64_t v) {
    store_be32(p, (uint32_t)(v >> 32));
    store_be32(p + 4, (uint32_t)v);
}

static uint32_t sub_word(uint32_t w) {
    return (uint32_t)sbox[w >> 24] << 24 | (uint32_t)sbox[(w >> 16) & 0xff] << 16 |
           (uint32_t)sbox[(w >> 8) & 0xff] << 8 | (uint32_t)sbox[w & 0xff];
}

/* Zeroes n bytes through a volatile pointer, so the stores are not removed
 * as dead even though the memory is about to go out of scope. */
static void wipe(void *p, size_t n) {
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

void lm_aes256_init(lm_aes256 *a, const uint8_t key[LM_AES256_KEY_LEN]) {
    uint32_t *w = a->rk;
    for (int i = 0; i < 8; i++)
        w[i] = load_be32(key + 4 * i);
    for (int i = 8; i < 60; i++) {
        uint32_t t = w[i - 1];
        if (i % 8 == 0)
            t = sub_word(ror32(t, 24)) ^ (uint32_t)rcon[i / 8 - 1] << 24;
        else if (i % 8 == 4)
            t = sub_word(t);
        w[i] = w[i - 8] ^ t;
    }
}

void lm_aes256_wipe(lm_aes256 *a) {
    if (a) wipe(a->rk, sizeof(a->rk));
}

/* One full round on the state columns s0..s3 (ShiftRows is in the choice of
 * which column each byte is taken from) with round key k. */
#define AES_ROUND(d0, d1, d2, d3, s0, s1, s2, s3, k)                                               \
    do {                                                                                           \
        d0 = te0[s0 >> 24] ^ ror32(te0[(s1 >> 16) & 0xff], 8) ^ ror32(te0[(s2 >> 8) & 0xff], 16) ^ \
             ror32(te0[s3 & 0xff], 24) ^ (k)[0];                                                   \
        d1 = te0[s1 >> 24] ^ ror32(te0[(s2 >> 16) & 0xff], 8) ^ ror32(te0[(s3 >> 8) & 0xff], 16) ^ \
             ror32(te0[s0 & 0xff], 24) ^ (k)[1];                                                   \
        d2 = te0[s2 >> 24] ^ ror32(te0[(s3 >> 16) & 0xff], 8) ^ ror32(te0[(s0 >> 8) & 0xff], 16) ^ \
             ror32(te0[s1 & 0xff], 24) ^ (k)[2];                                                   \
        d3 = te0[s3 >> 24] ^ ror32(te0[(s0 >> 16) & 0xff], 8) ^ ror32(te0[(s1 >> 8) & 0xff], 16) ^ \
             ror32(te0[s2 & 0xff], 24) ^ (k)[3];                                                   \
    } while (0)

/* The last round has no MixColumns: S-box bytes only. */
static uint32_t final_column(uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t k) {
    return ((uint32_t)sbox[a >> 24] << 24 | (uint32_t)sbox[(b >> 16) & 0xff] << 16 |
            (uint32_t)sbox[(c >> 8) & 0xff] << 8 | (uint32_t)sbox[d & 0xff]) ^
           k;
}

/* Encrypts the block given as four big-endian words into out[4]. */
static void aes_encrypt_words(const lm_aes256 *a, const uint32_t in[4], uint32_t out[4]) {
    const uint32_t *rk = a->rk;
    uint32_t s0 = in[0] ^ rk[0], s1 = in[1] ^ rk[1], s2 = in[2] ^ rk[2], s3 = in[3] ^ rk[3];
    uint32_t t0, t1, t2, t3;
    /* Thirteen full rounds, two per pass with the roles of s and t swapped,
     * and the last full round (13) after the loop. */
    for (int r = 1; r < 13; r += 2) {
        AES_ROUND(t0, t1, t2, t3, s0, s1, s2, s3, rk + 4 * r);
        AES_ROUND(s0, s1, s2, s3, t0, t1, t2, t3, rk + 4 * (r + 1));
    }
    AES_ROUND(t0, t1, t2, t3, s0, s1, s2, s3, rk + 52);
    out[0] = final_column(t0, t1, t2, t3, rk[56]);
    out[1] = final_column(t1, t2, t3, t0, rk[57]);
    out[2] = final_column(t2, t3, t0, t1, rk[58]);
    out[3] = final_column(t3, t0, t1, t2, rk[59]);
}

void lm_aes256_encrypt_block(const lm_aes256 *a, const uint8_t in[LM_AES_BLOCK_LEN],
                             uint8_t out[LM_AES_BLOCK_LEN]) {
    uint32_t w[4], o[4];
    for (int i = 0; i < 4; i++)
        w[i] = load_be32(in + 4 * i);
    aes_encrypt_words(a, w, o);
    for (int i = 0; i < 4; i++)
        store_be32(out + 4 * i, o[i]);
}

/* ---- GHASH ------------------------------------------------------------- */

/* An element of GF(2^128) in GCM's bit order: bit 0 of the block (the most
 * significant bit of byte 0) is the coefficient of x^0, so hi's top bit is
 * x^0 and lo's bottom bit is x^127. Multiplying by x is a right shift, and
 * the bit shifted out past x^127 comes back as x^128 = 1 + x + x^2 + x^7,
 * the byte 0xE1 at the top of hi. */
typedef struct {
    uint64_t hi, lo;
} gf128;

/* rem4[r]: what the four bits r shifted out by a multiplication by x^4 add
 * back at the top of hi (shifted left by 48). Bit j of r is the coefficient
 * of x^(131-j) after the shift, and x^(128+m) = x^m * (1 + x + x^2 + x^7),
 * which is 0xE1 << (5 + j) in the top 16 bits. */
static const uint16_t rem4[16] = {0x0000, 0x1c20, 0x3840, 0x2460, 0x7080, 0x6ca0, 0x48c0, 0x54e0,
                                  0xe100, 0xfd20, 0xd940, 0xc560, 0x9180, 0x8da0, 0xa9c0, 0xb5e0};

typedef struct {
    lm_aes256 aes;
    gf128 htab[16]; /* htab[v] = v * H for every 4-bit polynomial v */
    gf128 y;        /* the running GHASH value */
    uint32_t j0[4]; /* the pre-counter block J0 */
} gcm_state;

/* Builds htab for H. The nibble v = b3 b2 b1 b0 (b3 its top bit) stands for
 * b3 + b2 x + b1 x^2 + b0 x^3, so htab[8] = H, htab[4] = H x, htab[2] = H x^2,
 * htab[1] = H x^3, and the rest are sums of those. */
static void ghash_init(gcm_state *g, gf128 h) {
    memset(g->htab, 0, sizeof(g->htab));
    g->htab[8] = h;
    for (int i = 4; i > 0; i >>= 1) {
        gf128 v = g->htab[i * 2];
        uint64_t carry = v.lo & 1;
        v.lo = v.lo >> 1 | v.hi << 63;
        v.hi = v.hi >> 1 ^ (carry ? (uint64_t)0xe1 << 56 : 0);
        g->htab[i] = v;
    }
    for (int i = 2; i <= 8; i *= 2)
        for (int j = 1; j < i; j++) {
            g->htab[i + j].hi = g->htab[i].hi ^ g->htab[j].hi;
            g->htab[i + j].lo = g->htab[i].lo ^ g->htab[j].lo;
        }
    g->y.hi = g->y.lo = 0;
}

/* y = (y ^ block) * H. Horner's rule over the 32 nibbles from the highest
 * powers of x (the low nibble of byte 15) down: multiply by x^4, add the
 * nibble's product with H from the table. */
static void ghash_block(gcm_state *g, const uint8_t block[16]) {
    uint64_t xh = g->y.hi ^ load_be64(block), xl = g->y.lo ^ load_be64(block + 8);
    uint64_t zh = 0, zl = 0;
    for (int i = 15; i >= 0; i--) {
        uint8_t byte = (uint8_t)(i >= 8 ? xl >> (8 * (15 - i)) : xh >> (8 * (7 - i)));
        unsigned nib[2] = {byte & 0xfu, byte >> 4};
        for (int k = 0; k < 2; k++) {
            unsigned r = (unsigned)(zl & 0xf);
            zl = zl >> 4 | zh << 60;
            zh = zh >> 4 ^ (uint64_t)rem4[r] << 48;
            zh ^= g->htab[nib[k]].hi;
            zl ^= g->htab[nib[k]].lo;
        }
    }
    g->y.hi = zh;
    g->y.lo = zl;
}

/* Feeds n bytes, the last partial block padded with zeros. */
static void ghash_update(gcm_state *g, const uint8_t *p, size_t n) {
    for (; n >= 16; p += 16, n -= 16)
        ghash_block(g, p);
    if (n) {
        uint8_t last[16] = {0};
        memcpy(last, p, n);
        ghash_block(g, last);
    }
}

/* Feeds the final block: the bit lengths of the AAD and the text. */
static void ghash_lengths(gcm_state *g, uint64_t aadlen, uint64_t n) {
    uint8_t b[16];
    store_be64(b, aadlen * 8);
    store_be64(b + 8, n * 8);
    ghash_block(g, b);
}

/* ---- GCM --------------------------------------------------------------- */

/* Expands the key, derives H = E(K, 0), and forms J0 from the IV: IV || 1 for
 * a 96-bit IV, GHASH(IV padded || 0^64 || [len(IV)]64) otherwise. Leaves the
 * GHASH value at zero, ready for the AAD. */
static void gcm_setup(gcm_state *g, const uint8_t key[32], const uint8_t *iv, size_t ivlen) {
    static const uint32_t zero[4] = {0, 0, 0, 0};
    uint32_t h[4];
    lm_aes256_init(&g->aes, key);
    aes_encrypt_words(&g->aes, zero, h);
    ghash_init(g, (gf128){(uint64_t)h[0] << 32 | h[1], (uint64_t)h[2] << 32 | h[3]});
    wipe(h, sizeof(h));
    if (ivlen == LM_GCM_NONCE_LEN) {
        g->j0[0] = load_be32(iv);
        g->j0[1] = load_be32(iv + 4);
        g->j0[2] = load_be32(iv + 8);
        g->j0[3] = 1;
    } else {
        ghash_update(g, iv, ivlen);
        ghash_lengths(g, 0, ivlen);
        g->j0[0] = (uint32_t)(g->y.hi >> 32);
        g->j0[1] = (uint32_t)g->y.hi;
        g->j0[2] = (uint32_t)(g->y.lo >> 32);
        g->j0[3] = (uint32_t)g->y.lo;
        g->y.hi = g->y.lo = 0;
    }
}

/* XORs n bytes of in with the keystream starting at counter inc32(J0) into
 * out (CTR mode: the same for both directions). in == out is allowed. When
 * hash_out is set, each finished output block is fed to GHASH as it is made,
 * so encryption reads the data once. */
static void gcm_ctr(gcm_state *g, const uint8_t *in, size_t n, uint8_t *out, int hash_out) {
    uint32_t ctr[4] = {g->j0[0], g->j0[1], g->j0[2], g->j0[3]}, ks[4];
    uint8_t kb[16];
    while (n > 0) {
        size_t len = n < 16 ? n : 16;
        ctr[3]++; /* inc32: the low 32 bits wrap on their own */
        aes_encrypt_words(&g->aes, ctr, ks);
        for (int i = 0; i < 4; i++)
            store_be32(kb + 4 * i, ks[i]);
        for (size_t i = 0; i < len; i++)
            out[i] = in[i] ^ kb[i];
        if (hash_out) ghash_update(g, out, len);
        in += len;
        out += len;
        n -= len;
    }
    wipe(ks, sizeof(ks));
    wipe(kb, sizeof(kb));
}

/* The tag: E(K, J0) xor the GHASH value after the length block. */
static void gcm_tag(gcm_state *g, uint64_t aadlen, uint64_t n, uint8_t tag[16]) {
    uint32_t ek[4];
    ghash_lengths(g, aadlen, n);
    aes_encrypt_words(&g->aes, g->j0, ek);
    store_be64(tag, g->y.hi ^ ((uint64_t)ek[0] << 32 | ek[1]));
    store_be64(tag + 8, g->y.lo ^ ((uint64_t)ek[2] << 32 | ek[3]));
    wipe(ek, sizeof(ek));
}

int lm_aes256gcm_encrypt_iv(const uint8_t key[LM_AES256_KEY_LEN], const uint8_t *iv, size_t ivlen,
                            const uint8_t *aad, size_t aadlen, const uint8_t *pt, size_t n,
                            uint8_t *ct, uint8_t tag[LM_GCM_TAG_LEN]) {
    if (ivlen == 0 || (uint64_t)n > LM_GCM_MAX_TEXT) return -1;
    gcm_state g;
    gcm_setup(&g, key, iv, ivlen);
    ghash_update(&g, aad, aadlen);
    gcm_ctr(&g, pt, n, ct, 1);
    gcm_tag(&g, aadlen, n, tag);
    wipe(&g, sizeof(g));
    return 0;
}

int lm_aes256gcm_decrypt_iv(const uint8_t key[LM_AES256_KEY_LEN], const uint8_t *iv, size_t ivlen,
                            const uint8_t *aad, size_t aadlen, const uint8_t *ct, size_t n,
                            const uint8_t tag[LM_GCM_TAG_LEN], uint8_t *pt) {
    if (ivlen == 0 || (uint64_t)n > LM_GCM_MAX_TEXT) return -1;
    gcm_state g;
    uint8_t want[16];
    gcm_setup(&g, key, iv, ivlen);
    ghash_update(&g, aad, aadlen);
    ghash_update(&g, ct, n);
    gcm_tag(&g, aadlen, n, want);
    /* Constant-time comparison: every byte is looked at whatever differs. */
    unsigned diff = 0;
    for (int i = 0; i < 16; i++)
        diff |= (unsigned)(want[i] ^ tag[i]);
    wipe(want, sizeof(want));
    if (diff != 0) {
        wipe(&g, sizeof(g));
        return -1;
    }
    gcm_ctr(&g, ct, n, pt, 0);
    wipe(&g, sizeof(g));
    return 0;
}

int lm_aes256gcm_encrypt(const uint8_t key[LM_AES256_KEY_LEN],
                         const uint8_t nonce[LM_GCM_NONCE_LEN], const uint8_t *aad, size_t aadlen,
                         const uint8_t *pt, size_t n, uint8_t *ct, uint8_t tag[LM_GCM_TAG_LEN]) {
    return lm_aes256gcm_encrypt_iv(key, nonce, LM_GCM_NONCE_LEN, aad, aadlen, pt, n, ct, tag);
}

int lm_aes256gcm_decrypt(const uint8_t key[LM_AES256_KEY_LEN],
                         const uint8_t nonce[LM_GCM_NONCE_LEN], const uint8_t *aad, size_t aadlen,
                         const uint8_t *ct, size_t n, const uint8_t tag[LM_GCM_TAG_LEN],
                         uint8_t *pt) {
    return lm_aes256gcm_decrypt_iv(key, nonce, LM_GCM_NONCE_LEN, aad, aadlen, ct, n, tag, pt);
}
