/* aes_gcm.h -- AES-256 and AES-256-GCM (NIST SP 800-38D) in portable C.
 *
 * Used by the encrypt-message and decrypt-message functions (guest code, so
 * libc only and identical bytes natively and in wasm32) and by the host's data
 * generator, which encrypts the benchmark inputs with the same code.
 *
 * The block cipher is table-based (one 1 KiB round table plus the S-box) and
 * GHASH uses 4-bit tables (Shoup's method). Neither is constant-time against
 * cache-timing attackers on a shared machine: that is the price of plain,
 * portable C without CPU intrinsics, and is acceptable for a benchmark
 * workload. The tag comparison is constant-time, and decryption writes no
 * plaintext unless the tag checks.
 *
 * Every function here is reentrant: all state lives on the caller's stack,
 * the tables are constant, and key material is wiped before returning. */
#ifndef LM_AES_GCM_H
#define LM_AES_GCM_H

#include <stddef.h>
#include <stdint.h>

#define LM_AES256_KEY_LEN 32
#define LM_AES_BLOCK_LEN 16
#define LM_GCM_NONCE_LEN 12
#define LM_GCM_TAG_LEN 16
/* The longest plaintext GCM allows under one key and nonce: 2^39 - 256 bits. */
#define LM_GCM_MAX_TEXT ((uint64_t)0xFFFFFFFE0)

/* An expanded AES-256 key: 15 round keys of four big-endian words. */
typedef struct {
    uint32_t rk[60];
} lm_aes256;

/* Expands key into a. */
void lm_aes256_init(lm_aes256 *a, const uint8_t key[LM_AES256_KEY_LEN]);

/* Encrypts one block; in and out may be the same buffer. */
void lm_aes256_encrypt_block(const lm_aes256 *a, const uint8_t in[LM_AES_BLOCK_LEN],
                             uint8_t out[LM_AES_BLOCK_LEN]);

/* Overwrites a's round keys with zeros in a way the compiler keeps. NULL is a
 * harmless no-op. */
void lm_aes256_wipe(lm_aes256 *a);

/* AES-256-GCM encryption with a 12-byte nonce and a 16-byte tag: writes n
 * bytes of ciphertext to ct and the tag to tag. aad (aadlen bytes, may be
 * NULL when aadlen is 0) is authenticated but not encrypted. ct may be the
 * same buffer as pt (not a partly overlapping one). pt and ct may be NULL
 * when n is 0. Returns 0, or -1 (writing nothing) when n exceeds
 * LM_GCM_MAX_TEXT. */
int lm_aes256gcm_encrypt(const uint8_t key[LM_AES256_KEY_LEN],
                         const uint8_t nonce[LM_GCM_NONCE_LEN], const uint8_t *aad, size_t aadlen,
                         const uint8_t *pt, size_t n, uint8_t *ct, uint8_t tag[LM_GCM_TAG_LEN]);

/* AES-256-GCM decryption: checks tag over aad and the n bytes of ct in
 * constant time first and only then writes the n bytes of plaintext to pt
 * (which may be the same buffer as ct). Returns 0, or -1 when the tag does not
 * match (or n exceeds LM_GCM_MAX_TEXT); then pt is left untouched. */
int lm_aes256gcm_decrypt(const uint8_t key[LM_AES256_KEY_LEN],
                         const uint8_t nonce[LM_GCM_NONCE_LEN], const uint8_t *aad, size_t aadlen,
                         const uint8_t *ct, size_t n, const uint8_t tag[LM_GCM_TAG_LEN],
                         uint8_t *pt);

/* The same with an initialization vector of any length ivlen >= 1 (the
 * 12-byte case is the one above; other lengths go through GHASH as SP 800-38D
 * says, and exist so the published test cases with 8- and 60-byte IVs can be
 * checked). Returns -1 also when ivlen is 0. */
int lm_aes256gcm_encrypt_iv(const uint8_t key[LM_AES256_KEY_LEN], const uint8_t *iv, size_t ivlen,
                            const uint8_t *aad, size_t aadlen, const uint8_t *pt, size_t n,
                            uint8_t *ct, uint8_t tag[LM_GCM_TAG_LEN]);
int lm_aes256gcm_decrypt_iv(const uint8_t key[LM_AES256_KEY_LEN], const uint8_t *iv, size_t ivlen,
                            const uint8_t *aad, size_t aadlen, const uint8_t *ct, size_t n,
                            const uint8_t tag[LM_GCM_TAG_LEN], uint8_t *pt);

#endif
