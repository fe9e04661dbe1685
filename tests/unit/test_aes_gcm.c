/* test_aes_gcm.c -- AES-256 and AES-256-GCM against published test vectors
 * and, byte for byte, against OpenSSL's EVP_aes_256_gcm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "aes_gcm.h"

/* ---- helpers ------------------------------------------------------------ */

/* Decodes hex text (white space ignored) into a malloc'd buffer; *n gets its
 * length. Never NULL (a one-byte buffer for empty text). */
static uint8_t *unhex(const char *s, size_t *n) {
    uint8_t *out = malloc(strlen(s) / 2 + 1);
    size_t len = 0;
    int half = -1;
    for (; *s; s++) {
        int v;
        if (*s >= '0' && *s <= '9')
            v = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            v = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'F')
            v = *s - 'A' + 10;
        else
            continue;
        if (half < 0) {
            half = v;
        } else {
            out[len++] = (uint8_t)(half << 4 | v);
            half = -1;
        }
    }
    assert_int_equal(half, -1);
    *n = len;
    return out;
}

/* splitmix64: a seeded generator, so a failure reproduces. */
static uint64_t rng_state;

static uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rng_fill(uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rng_next();
}

/* OpenSSL's AES-256-GCM as the oracle. Both return 1 on success. */
static int ossl_encrypt(const uint8_t *key, const uint8_t *iv, size_t ivlen, const uint8_t *aad,
                        size_t aadlen, const uint8_t *pt, size_t n, uint8_t *ct, uint8_t *tag) {
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len, ok = c && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
                  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, (int)ivlen, NULL) == 1 &&
                  EVP_EncryptInit_ex(c, NULL, NULL, key, iv) == 1;
    if (ok && aadlen) ok = EVP_EncryptUpdate(c, NULL, &len, aad, (int)aadlen) == 1;
    if (ok && n) ok = EVP_EncryptUpdate(c, ct, &len, pt, (int)n) == 1 && (size_t)len == n;
    if (ok) ok = EVP_EncryptFinal_ex(c, ct + n, &len) == 1 && len == 0;
    if (ok) ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok;
}

static int ossl_decrypt(const uint8_t *key, const uint8_t *iv, size_t ivlen, const uint8_t *aad,
                        size_t aadlen, const uint8_t *ct, size_t n, const uint8_t *tag,
                        uint8_t *pt) {
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    uint8_t t[16];
    memcpy(t, tag, 16);
    int len, ok = c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
                  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, (int)ivlen, NULL) == 1 &&
                  EVP_DecryptInit_ex(c, NULL, NULL, key, iv) == 1;
    if (ok && aadlen) ok = EVP_DecryptUpdate(c, NULL, &len, aad, (int)aadlen) == 1;
    if (ok && n) ok = EVP_DecryptUpdate(c, pt, &len, ct, (int)n) == 1 && (size_t)len == n;
    if (ok) ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, t) == 1;
    if (ok) ok = EVP_DecryptFinal_ex(c, pt + n, &len) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok;
}

/* ---- the block cipher ---------------------------------------------------- */

static void check_block(const char *key_hex, const char *pt_hex, const char *ct_hex) {
    size_t kn, pn, cn;
    uint8_t *key = unhex(key_hex, &kn), *pt = unhex(pt_hex, &pn), *ct = unhex(ct_hex, &cn);
    assert_int_equal(kn, 32);
    uint8_t out[16];
    lm_aes256 a;
    lm_aes256_init(&a, key);
    lm_aes256_encrypt_block(&a, pt, out);
    assert_memory_equal(out, ct, 16);
    /* In place gives the same. */
    memcpy(out, pt, 16);
    lm_aes256_encrypt_block(&a, out, out);
    assert_memory_equal(out, ct, 16);
    lm_aes256_wipe(&a);
    for (size_t i = 0; i < 60; i++)
        assert_int_equal(a.rk[i], 0);
    free(key);
    free(pt);
    free(ct);
}

static void test_aes256_block(void **state) {
    (void)state;
    /* FIPS 197, appendix C.3. */
    check_block("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                "00112233445566778899aabbccddeeff", "8ea2b7ca516745bfeafc49904b496089");
    /* SP 800-38A, F.1.5 (ECB-AES256), block 1. */
    check_block("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
                "6bc1bee22e409f96e93d7e117393172a", "f3eed1bdb5d2a03c064b5a7e3db181f8");
    lm_aes256_wipe(NULL); /* a harmless no-op */
}

/* ---- known answers ----------------------------------------------------- */

typedef struct {
    const char *name, *key, *iv, *aad, *pt, *ct, *tag;
} vector;

/* McGrew and Viega, "The Galois/Counter Mode of Operation (GCM)", test cases
 * 13 to 18 (the 256-bit keys). Cases 17 and 18 have 8- and 60-byte IVs. */
#define SPEC_KEY "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
#define SPEC_PT                                                                                    \
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"                             \
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define SPEC_AAD "feedfacedeadbeeffeedfacedeadbeefabaddad2"
static const vector spec_vectors[] = {
    {"test case 13", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"test case 14", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "00000000000000000000000000000000",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"test case 15", SPEC_KEY, "cafebabefacedbaddecaf888", "", SPEC_PT "1aafd255",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"test case 16", SPEC_KEY, "cafebabefacedbaddecaf888", SPEC_AAD, SPEC_PT,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
    {"test case 17", SPEC_KEY, "cafebabefacedbad", SPEC_AAD, SPEC_PT,
     "c3762df1ca787d32ae47c13bf19844cbaf1ae14d0b976afac52ff7d79bba9de0"
     "feb582d33934a4f0954cc2363bc73f7862ac430e64abe499f47c9b1f",
     "3a337dbf46a792c45e454913fe2ea8f2"},
    {"test case 18", SPEC_KEY,
     "9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728"
     "c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b",
     SPEC_AAD, SPEC_PT,
     "5a8def2f0c9e53f1f75d7853659e2a20eeb2b22aafde6419a058ab4f6f746bf4"
     "0fc0c3b780f244452da3ebf1c5d82cdea2418997200ef82e44ae7e3f",
     "a44a8266ee1c8eb0c8b5d4cf5ae9f19a"},
};

/* NIST CAVP gcmtestvectors, gcmEncryptExtIV256.rsp, 96-bit IVs, 128-bit tags. */
static const vector cavp_vectors[] = {
    {"PTlen=0 AADlen=0 Count=0", "b52c505a37d78eda5dd34f20c22540ea1b58963cf8e5bf8ffa85f9f2492505b4",
     "516c33929df5a3284ff463d7", "", "", "", "bdc1ac884d332457a1d2664f168c76f0"},
    {"PTlen=128 AADlen=0 Count=0",
     "31bdadd96698c204aa9ce1448ea94ae1fb4a9a0b3c9d773b51bb1822666b8f22", "0d18e06c7c725ac9e362e1ce",
     "", "2db5168e932556f8089a0622981d017d", "fa4362189661d163fcd6a56d8bf0405a",
     "d636ac1bbedd5cc3ee727dc2ab4a9489"},
    {"PTlen=128 AADlen=128 Count=0",
     "92e11dcdaa866f5ce790fd24501f92509aacf4cb8b1339d50c9c1240935dd08b", "ac93a1a6145299bde902f21a",
     "1e0889016f67601c8ebea4943bc23ad6", "2d71bcfa914e4ac045b2aa60955fad24",
     "8995ae2e6df3dbf96fac7b7137bae67f", "eca5aa77d51d4a0a14d9c51e1da474ab"},
    {"PTlen=104 AADlen=160 Count=1",
     "97431e565e8370a4879de962746a2fd67eca868b1c8e51eece2c1f94f74af407", "17fb63066e2726d282ecc610",
     "78e7374da7c77be5938de8dd76cf0308618306a9", "e21629cc973fbe40176e621d9d",
     "80dbd469de480389ba6c2fca52", "4e284abb8b4f9f13c7497ae56df05fa5"},
    {"PTlen=408 AADlen=720 Count=2",
     "c277df045d0a1a3956958f271055c229d2634427b1d73e99d54920da69f72e01", "79e24f84bc77a21a6cb14ee2",
     "ca09282238d492029afbd30ea9b4aa9d448d77b4b41a791c35ebe3f8e5034ac71210117a843fae647cea020712c27"
     "e"
     "5c8f85acf933d5e28430c7770862d8dbb197cbbcfe49dd63f6aa05fbd13e32c459342698dfee5935c7c321",
     "5ca68d858cc30b1cb0514c4e9de98e1a1a835df401f69e9ec6f1bcb1158f09114dff551683b3827457f77e17a7097"
     "b"
     "1ea69eac",
     "5c5223c8eda59a8dc28b08e6c21482a46e5d84d32c7050bf144fc57f4e8094de133198da7b4b8398b167204aff837"
     "d"
     "a15d9ab2",
     "378885950a4491bee3cd681d3c957b9a"},
};

/* Encrypts and decrypts one vector with our code (through the 12-byte API
 * where the IV has 12 bytes) and checks it against OpenSSL as well, which
 * guards the typed-in data itself. */
static void check_vector(const vector *v) {
    size_t kn, ivn, an, pn, cn, tn;
    uint8_t *key = unhex(v->key, &kn), *iv = unhex(v->iv, &ivn), *aad = unhex(v->aad, &an);
    uint8_t *pt = unhex(v->pt, &pn), *ct = unhex(v->ct, &cn), *tag = unhex(v->tag, &tn);
    assert_int_equal(kn, 32);
    assert_int_equal(pn, cn);
    assert_int_equal(tn, 16);
    uint8_t *out = malloc(pn + 16), *back = malloc(pn + 16), otag[16];

    if (ivn == 12)
        assert_int_equal(lm_aes256gcm_encrypt(key, iv, aad, an, pt, pn, out, otag), 0);
    else
        assert_int_equal(lm_aes256gcm_encrypt_iv(key, iv, ivn, aad, an, pt, pn, out, otag), 0);
    if (memcmp(out, ct, cn) != 0 || memcmp(otag, tag, 16) != 0) fail_msg("%s: mismatch", v->name);

    memset(back, 0xa5, pn + 16);
    if (ivn == 12)
        assert_int_equal(lm_aes256gcm_decrypt(key, iv, aad, an, ct, cn, tag, back), 0);
    else
        assert_int_equal(lm_aes256gcm_decrypt_iv(key, iv, ivn, aad, an, ct, cn, tag, back), 0);
    assert_memory_equal(back, pt, pn);
    assert_int_equal(back[pn], 0xa5); /* nothing past the end */

    assert_int_equal(ossl_encrypt(key, iv, ivn, aad, an, pt, pn, out, otag), 1);
    assert_memory_equal(out, ct, cn);
    assert_memory_equal(otag, tag, 16);

    free(key);
    free(iv);
    free(aad);
    free(pt);
    free(ct);
    free(tag);
    free(out);
    free(back);
}

static void test_gcm_spec_vectors(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(spec_vectors) / sizeof(spec_vectors[0]); i++)
        check_vector(&spec_vectors[i]);
}

static void test_cavp_vectors(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(cavp_vectors) / sizeof(cavp_vectors[0]); i++)
        check_vector(&cavp_vectors[i]);
}

/* ---- agreement with OpenSSL ---------------------------------------------- */

/* A few hundred random keys, nonces, lengths 0..5000 (every length up to 70
 * first, to cover all partial-block shapes) and sometimes AAD. Ours must
 * equal OpenSSL byte for byte, each must decrypt the other's output, and the
 * in-place forms must give the same bytes. */
static void test_openssl_agreement(void **state) {
    (void)state;
    rng_state = 0x4c756d6f73414553ull; /* "LumosAES" */
    enum { ROUNDS = 400, MAXLEN = 5000 };
    uint8_t *pt = malloc(MAXLEN), *ours = malloc(MAXLEN + 16), *theirs = malloc(MAXLEN + 16);
    uint8_t *back = malloc(MAXLEN + 16), *inplace = malloc(MAXLEN);
    for (int r = 0; r < ROUNDS; r++) {
        uint8_t key[32], nonce[12], aad[64], tag1[16], tag2[16];
        size_t n = r <= 70 ? (size_t)r : (size_t)(rng_next() % (MAXLEN + 1));
        size_t an = r % 3 == 0 ? (size_t)(rng_next() % sizeof(aad)) : 0;
        rng_fill(key, sizeof(key));
        rng_fill(nonce, sizeof(nonce));
        rng_fill(aad, an);
        rng_fill(pt, n);

        assert_int_equal(lm_aes256gcm_encrypt(key, nonce, aad, an, pt, n, ours, tag1), 0);
        assert_int_equal(ossl_encrypt(key, nonce, 12, aad, an, pt, n, theirs, tag2), 1);
        if (memcmp(ours, theirs, n) != 0 || memcmp(tag1, tag2, 16) != 0)
            fail_msg("round %d (length %zu, aad %zu): ciphertext differs from OpenSSL", r, n, an);

        /* Ours encrypts, OpenSSL decrypts and verifies. */
        assert_int_equal(ossl_decrypt(key, nonce, 12, aad, an, ours, n, tag1, back), 1);
        if (n) assert_memory_equal(back, pt, n);
        /* OpenSSL encrypts, ours decrypts. */
        memset(back, 0, n + 1);
        assert_int_equal(lm_aes256gcm_decrypt(key, nonce, aad, an, theirs, n, tag2, back), 0);
        if (n) assert_memory_equal(back, pt, n);

        /* In place both ways. */
        memcpy(inplace, pt, n);
        assert_int_equal(lm_aes256gcm_encrypt(key, nonce, aad, an, inplace, n, inplace, tag1), 0);
        if (n) assert_memory_equal(inplace, theirs, n);
        assert_int_equal(lm_aes256gcm_decrypt(key, nonce, aad, an, inplace, n, tag1, inplace), 0);
        if (n) assert_memory_equal(inplace, pt, n);
    }
    free(pt);
    free(ours);
    free(theirs);
    free(back);
    free(inplace);
}

/* Random IV lengths other than 12 also agree with OpenSSL. */
static void test_openssl_agreement_iv_lengths(void **state) {
    (void)state;
    rng_state = 17;
    for (int r = 0; r < 100; r++) {
        uint8_t key[32], iv[80], pt[300], ct1[300], ct2[300], t1[16], t2[16];
        size_t ivn = 1 + (size_t)(rng_next() % sizeof(iv)), n = (size_t)(rng_next() % sizeof(pt));
        rng_fill(key, sizeof(key));
        rng_fill(iv, ivn);
        rng_fill(pt, n);
        assert_int_equal(lm_aes256gcm_encrypt_iv(key, iv, ivn, NULL, 0, pt, n, ct1, t1), 0);
        assert_int_equal(ossl_encrypt(key, iv, ivn, NULL, 0, pt, n, ct2, t2), 1);
        if (memcmp(ct1, ct2, n) != 0 || memcmp(t1, t2, 16) != 0)
            fail_msg("IV of %zu bytes, text of %zu: differs from OpenSSL", ivn, n);
    }
}

/* ---- tampering ----------------------------------------------------------- */

/* Flipping any single bit of the ciphertext, the tag, the nonce or the AAD,
 * or using another key, fails authentication and leaves the output buffer
 * exactly as it was. */
static void test_tamper_rejected(void **state) {
    (void)state;
    rng_state = 99;
    enum { N = 37, AN = 13 };
    uint8_t key[32], nonce[12], aad[AN], pt[N], ct[N], tag[16], out[N + 8];
    rng_fill(key, sizeof(key));
    rng_fill(nonce, sizeof(nonce));
    rng_fill(aad, sizeof(aad));
    rng_fill(pt, sizeof(pt));
    assert_int_equal(lm_aes256gcm_encrypt(key, nonce, aad, AN, pt, N, ct, tag), 0);

    uint8_t sentinel[sizeof(out)];
    memset(sentinel, 0x5a, sizeof(sentinel));
    int rejected = 0;
    for (size_t bit = 0; bit < 8 * (N + 16 + 12 + AN); bit++) {
        uint8_t c[N], t[16], nn[12], a[AN];
        memcpy(c, ct, N);
        memcpy(t, tag, 16);
        memcpy(nn, nonce, 12);
        memcpy(a, aad, AN);
        size_t byte = bit / 8;
        uint8_t mask = (uint8_t)(1u << (bit % 8));
        if (byte < N)
            c[byte] ^= mask;
        else if (byte < N + 16)
            t[byte - N] ^= mask;
        else if (byte < N + 28)
            nn[byte - N - 16] ^= mask;
        else
            a[byte - N - 28] ^= mask;
        memset(out, 0x5a, sizeof(out));
        assert_int_equal(lm_aes256gcm_decrypt(key, nn, a, AN, c, N, t, out), -1);
        assert_memory_equal(out, sentinel, sizeof(out));
        /* OpenSSL agrees that it is forged. */
        uint8_t tmp[N + 16];
        assert_int_equal(ossl_decrypt(key, nn, 12, a, AN, c, N, t, tmp), 0);
        rejected++;
    }
    assert_int_equal(rejected, 8 * (N + 16 + 12 + AN));

    /* Another key, one bit off. */
    key[31] ^= 1;
    memset(out, 0x5a, sizeof(out));
    assert_int_equal(lm_aes256gcm_decrypt(key, nonce, aad, AN, ct, N, tag, out), -1);
    assert_memory_equal(out, sentinel, sizeof(out));
    key[31] ^= 1;
    /* A shorter or longer AAD than was authenticated. */
    assert_int_equal(lm_aes256gcm_decrypt(key, nonce, aad, AN - 1, ct, N, tag, out), -1);
    /* A truncated ciphertext. */
    assert_int_equal(lm_aes256gcm_decrypt(key, nonce, aad, AN, ct, N - 1, tag, out), -1);
    assert_memory_equal(out, sentinel, sizeof(out));
    /* And the untouched message still decrypts. */
    assert_int_equal(lm_aes256gcm_decrypt(key, nonce, aad, AN, ct, N, tag, out), 0);
    assert_memory_equal(out, pt, N);
}

/* Every bit of a longer ciphertext (several blocks and a partial one) too,
 * with no AAD, as the functions use it. */
static void test_tamper_long_message(void **state) {
    (void)state;
    rng_state = 7;
    enum { N = 100 };
    uint8_t key[32], nonce[12], pt[N], ct[N], tag[16], out[N];
    rng_fill(key, sizeof(key));
    rng_fill(nonce, sizeof(nonce));
    rng_fill(pt, sizeof(pt));
    assert_int_equal(lm_aes256gcm_encrypt(key, nonce, NULL, 0, pt, N, ct, tag), 0);
    for (size_t bit = 0; bit < 8 * (N + 16); bit++) {
        uint8_t c[N], t[16];
        memcpy(c, ct, N);
        memcpy(t, tag, 16);
        if (bit / 8 < N)
            c[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        else
            t[bit / 8 - N] ^= (uint8_t)(1u << (bit % 8));
        memset(out, 0, sizeof(out));
        assert_int_equal(lm_aes256gcm_decrypt(key, nonce, NULL, 0, c, N, t, out), -1);
        for (size_t i = 0; i < N; i++)
            assert_int_equal(out[i], 0);
    }
}

/* ---- limits -------------------------------------------------------------- */

static void test_limits(void **state) {
    (void)state;
    uint8_t key[32] = {0}, nonce[12] = {0}, tag[16], one = 0;
    /* An empty IV is not allowed. */
    assert_int_equal(lm_aes256gcm_encrypt_iv(key, nonce, 0, NULL, 0, &one, 1, &one, tag), -1);
    assert_int_equal(lm_aes256gcm_decrypt_iv(key, nonce, 0, NULL, 0, &one, 1, tag, &one), -1);
    /* A text longer than GCM allows is refused before anything is read or
     * written (the NULL buffers would crash otherwise). */
    if (sizeof(size_t) > 4) {
        size_t too_long = (size_t)LM_GCM_MAX_TEXT + 1;
        assert_int_equal(lm_aes256gcm_encrypt(key, nonce, NULL, 0, NULL, too_long, NULL, tag), -1);
        assert_int_equal(lm_aes256gcm_decrypt(key, nonce, NULL, 0, NULL, too_long, tag, NULL), -1);
    }
    /* Empty text with NULL buffers is fine (test case 13's shape). */
    assert_int_equal(lm_aes256gcm_encrypt(key, nonce, NULL, 0, NULL, 0, NULL, tag), 0);
    assert_int_equal(lm_aes256gcm_decrypt(key, nonce, NULL, 0, NULL, 0, tag, NULL), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aes256_block),
        cmocka_unit_test(test_gcm_spec_vectors),
        cmocka_unit_test(test_cavp_vectors),
        cmocka_unit_test(test_openssl_agreement),
        cmocka_unit_test(test_openssl_agreement_iv_lengths),
        cmocka_unit_test(test_tamper_rejected),
        cmocka_unit_test(test_tamper_long_message),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
