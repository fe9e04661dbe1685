/* test_crypto_functions.c -- the encrypt-message and decrypt-message functions
 * through their handlers, with OpenSSL (cipher and base64) and jansson (JSON)
 * as independent oracles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "invoke.h"
#include "lumos.h"

extern const lm_function lm_fn_encrypt_message;
extern const lm_function lm_fn_decrypt_message;

#define KEY "0123456789abcdef0123456789ABCDEF" /* 32 bytes of text */

/* ---- helpers ------------------------------------------------------------ */

/* splitmix64, seeded, so a failure reproduces. */
static uint64_t rng_state;

static uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A reply parsed by jansson, so the function's JSON is checked by a second
 * reader too. */
typedef struct {
    int status;
    json_t *body; /* the whole envelope */
    json_t *data; /* its "data" member, or NULL for an error */
    char *raw;    /* the reply text, owned */
} reply;

/* Invokes fn on the request req (a jansson object, consumed). */
static reply call(const lm_function *fn, json_t *req, lm_test_store *store) {
    char *text = json_dumps(req, JSON_COMPACT);
    assert_non_null(text);
    json_decref(req);
    lm_test_reply r;
    reply out;
    out.status = lm_test_invoke(fn, text, store, &r);
    free(text);
    json_error_t err;
    out.body = json_loadb(r.body, r.body_len, JSON_ALLOW_NUL, &err);
    if (!out.body) fail_msg("reply is not JSON (%s): %.200s", err.text, r.body);
    out.data = json_object_get(out.body, "data");
    out.raw = r.body;
    r.body = NULL;
    lm_test_reply_free(&r);
    return out;
}

static void reply_free(reply *r) {
    json_decref(r->body);
    free(r->raw);
}

static reply call_ok(const lm_function *fn, json_t *req, lm_test_store *store) {
    reply r = call(fn, req, store);
    if (r.status != 200) fail_msg("expected 200, got %d: %.300s", r.status, r.raw);
    assert_string_equal(json_string_value(json_object_get(r.body, "status")), "ok");
    assert_string_equal(json_string_value(json_object_get(r.body, "function")), fn->name);
    assert_true(json_is_object(r.data));
    return r;
}

/* Expects an error reply with status and code whose message contains what
 * (when not NULL), and no "data" at all. */
static void call_fail(const lm_function *fn, json_t *req, lm_test_store *store, int status,
                      const char *code, const char *what) {
    reply r = call(fn, req, store);
    if (r.status != status) fail_msg("expected %d, got %d: %.300s", status, r.status, r.raw);
    assert_string_equal(json_string_value(json_object_get(r.body, "status")), "error");
    assert_string_equal(json_string_value(json_object_get(r.body, "error")), code);
    assert_null(r.data);
    const char *msg = json_string_value(json_object_get(r.body, "message"));
    assert_non_null(msg);
    if (what && !strstr(msg, what)) fail_msg("message '%s' does not name '%s'", msg, what);
    reply_free(&r);
}

static const char *data_str(const reply *r, const char *member) {
    const char *s = json_string_value(json_object_get(r->data, member));
    if (!s) fail_msg("no string member '%s' in %.300s", member, r->raw);
    return s;
}

static json_int_t data_int(const reply *r, const char *member) {
    json_t *v = json_object_get(r->data, member);
    if (!json_is_integer(v)) fail_msg("no integer member '%s' in %.300s", member, r->raw);
    return json_integer_value(v);
}

/* OpenSSL's base64(nonce || AES-256-GCM(key, nonce, msg) || tag), malloc'd. */
static char *openssl_encrypted(const char *key, const uint8_t nonce[12], const uint8_t *msg,
                               size_t n) {
    uint8_t *raw = malloc(n + 28 + 16);
    memcpy(raw, nonce, 12);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len;
    assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, (const uint8_t *)key, nonce),
                     1);
    if (n) assert_int_equal(EVP_EncryptUpdate(c, raw + 12, &len, msg, (int)n), 1);
    assert_int_equal(EVP_EncryptFinal_ex(c, raw + 12 + n, &len), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, raw + 12 + n), 1);
    EVP_CIPHER_CTX_free(c);
    char *b64 = malloc((n + 28 + 2) / 3 * 4 + 1);
    EVP_EncodeBlock((uint8_t *)b64, raw, (int)(n + 28));
    free(raw);
    return b64;
}

/* Decodes base64 with OpenSSL into a malloc'd buffer; *n its true length. */
static uint8_t *openssl_unbase64(const char *s, size_t *n) {
    size_t len = strlen(s);
    uint8_t *out = malloc(len / 4 * 3 + 1);
    int k = EVP_DecodeBlock(out, (const uint8_t *)s, (int)len);
    assert_true(k >= 0);
    size_t pad = len >= 2 && s[len - 1] == '=' ? (s[len - 2] == '=' ? 2 : 1) : 0;
    *n = (size_t)k - pad;
    return out;
}

static char *openssl_base64(const uint8_t *p, size_t n) {
    char *b64 = malloc((n + 2) / 3 * 4 + 1);
    EVP_EncodeBlock((uint8_t *)b64, p, (int)n);
    return b64;
}

static json_t *encrypt_req(const char *msg, size_t n, const char *nonce_hex) {
    json_t *req = json_pack("{s:s, s:s%}", "key", KEY, "message", msg, n);
    assert_non_null(req);
    if (nonce_hex) json_object_set_new(req, "nonce", json_string(nonce_hex));
    return req;
}

static json_t *decrypt_req(const char *encrypted) {
    json_t *req = json_pack("{s:s, s:s}", "key", KEY, "encrypted", encrypted);
    assert_non_null(req);
    return req;
}

/* A message of n bytes of valid UTF-8 text with quotes, backslashes, control
 * characters (NUL too) and multi-byte characters, so JSON escaping is
 * exercised both ways. */
static char *random_text(size_t n) {
    static const char *pieces[] = {
        "a",  "Z",    " ", "\"",       "\\",           "\n",
        "\t", "\x01", "/", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
        "7"};
    char *s = malloc(n + 1);
    size_t len = 0;
    while (len < n) {
        const char *p = pieces[rng_next() % (sizeof(pieces) / sizeof(pieces[0]))];
        size_t k = strlen(p);
        if (rng_next() % 50 == 0) {
            p = "\0"; /* a NUL byte now and then */
            k = 1;
        }
        if (len + k > n) p = "x", k = 1;
        memcpy(s + len, p, k);
        len += k;
    }
    s[n] = '\0';
    return s;
}

/* ---- encrypt agrees with OpenSSL ------------------------------------------ */

static void test_encrypt_matches_openssl(void **state) {
    (void)state;
    const uint8_t nonce[12] = {0xca, 0xfe, 0xba, 0xbe, 0xfa, 0xce,
                               0xdb, 0xad, 0xde, 0xca, 0xf8, 0x88};
    const size_t lengths[] = {0, 1, 15, 16, 17, 31, 32, 33, 100, 1000, 4097};
    rng_state = 1;
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        size_t n = lengths[i];
        char *msg = random_text(n);
        /* Upper-case hex is accepted as well as lower-case. */
        reply r = call_ok(
            &lm_fn_encrypt_message,
            encrypt_req(msg, n, i % 2 ? "CAFEBABEFACEDBADDECAF888" : "cafebabefacedbaddecaf888"),
            NULL);
        char *want = openssl_encrypted(KEY, nonce, (const uint8_t *)msg, n);
        assert_string_equal(data_str(&r, "encrypted"), want);
        assert_int_equal(data_int(&r, "bytes_in"), n);
        assert_int_equal(data_int(&r, "bytes_out"), strlen(want));
        assert_string_equal(data_str(&r, "nonce"), "cafebabefacedbaddecaf888");
        /* The tag member is the last 16 bytes of the encoding, in hex. */
        size_t raw_len;
        uint8_t *raw = openssl_unbase64(want, &raw_len);
        assert_int_equal(raw_len, n + 28);
        char tag_hex[33];
        for (int k = 0; k < 16; k++)
            snprintf(tag_hex + 2 * k, 3, "%02x", raw[n + 12 + k]);
        assert_string_equal(data_str(&r, "tag"), tag_hex);
        assert_null(json_object_get(r.data, "output_key"));
        free(raw);
        free(want);
        free(msg);
        reply_free(&r);
    }
}

/* Without a nonce each call draws a fresh one, so two encryptions of the
 * same message differ, and each decrypts. */
static void test_random_nonce(void **state) {
    (void)state;
    reply a = call_ok(&lm_fn_encrypt_message, encrypt_req("same", 4, NULL), NULL);
    reply b = call_ok(&lm_fn_encrypt_message, encrypt_req("same", 4, NULL), NULL);
    assert_int_equal(strlen(data_str(&a, "nonce")), 24);
    assert_string_not_equal(data_str(&a, "nonce"), data_str(&b, "nonce"));
    assert_string_not_equal(data_str(&a, "encrypted"), data_str(&b, "encrypted"));
    /* The encoding starts with the nonce it names. */
    size_t n;
    uint8_t *raw = openssl_unbase64(data_str(&a, "encrypted"), &n);
    char hex[25];
    for (int k = 0; k < 12; k++)
        snprintf(hex + 2 * k, 3, "%02x", raw[k]);
    assert_string_equal(hex, data_str(&a, "nonce"));
    free(raw);
    reply d = call_ok(&lm_fn_decrypt_message, decrypt_req(data_str(&b, "encrypted")), NULL);
    assert_string_equal(data_str(&d, "message"), "same");
    reply_free(&a);
    reply_free(&b);
    reply_free(&d);
}

/* ---- round trips ---------------------------------------------------------- */

static void test_roundtrip_inline(void **state) {
    (void)state;
    rng_state = 2;
    for (int i = 0; i < 40; i++) {
        size_t n = i < 20 ? (size_t)i : (size_t)(rng_next() % 3000);
        char *msg = random_text(n);
        reply e = call_ok(&lm_fn_encrypt_message, encrypt_req(msg, n, NULL), NULL);
        reply d = call_ok(&lm_fn_decrypt_message, decrypt_req(data_str(&e, "encrypted")), NULL);
        json_t *m = json_object_get(d.data, "message");
        assert_true(json_is_string(m));
        assert_int_equal(json_string_length(m), n);
        if (n) assert_memory_equal(json_string_value(m), msg, n);
        assert_int_equal(data_int(&d, "bytes_out"), n);
        assert_int_equal(data_int(&d, "bytes_in"), strlen(data_str(&e, "encrypted")));
        assert_null(json_object_get(d.data, "output_key"));
        free(msg);
        reply_free(&e);
        reply_free(&d);
    }
}

/* A 2 MiB message (payload group 3) goes through both functions inline. */
static void test_roundtrip_large(void **state) {
    (void)state;
    rng_state = 3;
    size_t n = 2u << 20;
    char *msg = random_text(n);
    reply e =
        call_ok(&lm_fn_encrypt_message, encrypt_req(msg, n, "000102030405060708090a0b"), NULL);
    uint8_t nonce[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    char *want = openssl_encrypted(KEY, nonce, (const uint8_t *)msg, n);
    assert_string_equal(data_str(&e, "encrypted"), want);
    reply d = call_ok(&lm_fn_decrypt_message, decrypt_req(want), NULL);
    json_t *m = json_object_get(d.data, "message");
    assert_int_equal(json_string_length(m), n);
    assert_memory_equal(json_string_value(m), msg, n);
    free(want);
    free(msg);
    reply_free(&e);
    reply_free(&d);
}

static void test_roundtrip_store(void **state) {
    (void)state;
    lm_test_store *store = lm_test_store_new();
    rng_state = 4;
    size_t n = 70000;
    uint8_t *plain = malloc(n);
    for (size_t i = 0; i < n; i++)
        plain[i] = (uint8_t)rng_next(); /* binary, not UTF-8 */
    lm_test_store_put(store, "in/plain.bin", plain, n);

    /* Encrypt from the store into the store. */
    reply e =
        call_ok(&lm_fn_encrypt_message,
                json_pack("{s:s, s:s, s:s, s:s}", "key", KEY, "input_key", "in/plain.bin",
                          "output_key", "out/secret.b64", "nonce", "00112233445566778899aabb"),
                store);
    const uint8_t nonce[12] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
                               0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb};
    char *want = openssl_encrypted(KEY, nonce, plain, n);
    size_t len;
    const uint8_t *stored = lm_test_store_get(store, "out/secret.b64", &len);
    assert_non_null(stored);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(stored, want, len);
    assert_string_equal(data_str(&e, "output_key"), "out/secret.b64");
    assert_int_equal(data_int(&e, "bytes_in"), n);
    assert_int_equal(data_int(&e, "bytes_out"), len);
    assert_null(json_object_get(e.data, "encrypted")); /* not in the reply */
    reply_free(&e);

    /* Decrypt from the store into the store. */
    reply d = call_ok(&lm_fn_decrypt_message,
                      json_pack("{s:s, s:s, s:s, s:s}", "key", KEY, "storage", "redis", "input_key",
                                "out/secret.b64", "output_key", "back/plain.bin"),
                      store);
    const uint8_t *back = lm_test_store_get(store, "back/plain.bin", &len);
    assert_non_null(back);
    assert_int_equal(len, n);
    assert_memory_equal(back, plain, n);
    assert_int_equal(data_int(&d, "bytes_out"), n);
    assert_int_equal(data_int(&d, "bytes_in"), strlen(want));
    assert_string_equal(data_str(&d, "output_key"), "back/plain.bin");
    assert_null(json_object_get(d.data, "message"));
    assert_null(json_object_get(d.data, "message_base64"));
    reply_free(&d);

    /* From the store without an output_key: only the lengths come back. */
    d = call_ok(
        &lm_fn_decrypt_message,
        json_pack("{s:s, s:s, s:s}", "key", KEY, "storage", "file", "input_key", "out/secret.b64"),
        store);
    assert_int_equal(data_int(&d, "bytes_out"), n);
    assert_null(json_object_get(d.data, "message"));
    assert_null(json_object_get(d.data, "message_base64"));
    reply_free(&d);
    e = call_ok(&lm_fn_encrypt_message,
                json_pack("{s:s, s:s}", "key", KEY, "input_key", "in/plain.bin"), store);
    assert_int_equal(data_int(&e, "bytes_out"), strlen(want));
    assert_null(json_object_get(e.data, "encrypted"));
    reply_free(&e);

    /* A message given inline, the result stored (storage defaults to redis
     * when an output_key is named). */
    e = call_ok(&lm_fn_encrypt_message,
                json_pack("{s:s, s:s, s:s, s:s}", "key", KEY, "message", "hello", "output_key",
                          "hello.b64", "nonce", "00112233445566778899aabb"),
                store);
    char *want_hello = openssl_encrypted(KEY, nonce, (const uint8_t *)"hello", 5);
    stored = lm_test_store_get(store, "hello.b64", &len);
    assert_int_equal(len, strlen(want_hello));
    assert_memory_equal(stored, want_hello, len);
    reply_free(&e);

    /* Binary plaintext decrypted inline comes back as message_base64, since
     * it cannot stand in a JSON string. */
    d = call_ok(&lm_fn_decrypt_message, decrypt_req(want), NULL);
    assert_null(json_object_get(d.data, "message"));
    char *want_b64 = openssl_base64(plain, n);
    assert_string_equal(data_str(&d, "message_base64"), want_b64);
    reply_free(&d);

    free(want_b64);
    free(want_hello);
    free(want);
    free(plain);
    lm_test_store_free(store);
}

/* The probes show the work where the brief puts it: AES in compute, and
 * storage in I/O with its byte counts. */
static void test_probes(void **state) {
    (void)state;
    lm_test_store *store = lm_test_store_new();
    size_t n = 1u << 20;
    char *msg = malloc(n);
    memset(msg, 'q', n);
    lm_test_store_put(store, "m", msg, n);
    lm_test_reply r;
    assert_int_equal(
        lm_test_invoke(&lm_fn_encrypt_message,
                       "{\"key\":\"" KEY "\",\"input_key\":\"m\",\"output_key\":\"c\"}", store, &r),
        200);
    size_t clen;
    assert_non_null(lm_test_store_get(store, "c", &clen));
    assert_true(r.probes[LM_PROBE_COMPUTE_NS] > 0);
    assert_true(r.probes[LM_PROBE_SER_NS] > 0);
    assert_int_equal(r.probes[LM_PROBE_IO_READ_BYTES], n);
    assert_int_equal(r.probes[LM_PROBE_IO_WRITE_BYTES], clen);
    assert_int_equal(r.probes[LM_PROBE_IO_CALLS], 2);
    lm_test_reply_free(&r);
    assert_int_equal(lm_test_invoke(&lm_fn_decrypt_message,
                                    "{\"key\":\"" KEY "\",\"input_key\":\"c\"}", store, &r),
                     200);
    assert_true(r.probes[LM_PROBE_DESER_NS] > 0);
    assert_true(r.probes[LM_PROBE_COMPUTE_NS] > 0);
    assert_int_equal(r.probes[LM_PROBE_IO_READ_BYTES], clen);
    assert_int_equal(r.probes[LM_PROBE_IO_WRITE_BYTES], 0);
    assert_int_equal(r.probes[LM_PROBE_IO_CALLS], 1);
    lm_test_reply_free(&r);
    free(msg);
    lm_test_store_free(store);
}

/* ---- authentication failures ----------------------------------------------- */

/* Flips one bit of the decoded byte at index i of encrypted and returns the
 * new base64 text (malloc'd). */
static char *flip(const char *encrypted, size_t i) {
    size_t n;
    uint8_t *raw = openssl_unbase64(encrypted, &n);
    assert_true(i < n);
    raw[i] ^= 0x04;
    char *out = openssl_base64(raw, n);
    free(raw);
    return out;
}

static void expect_auth_failed(json_t *req, lm_test_store *store, const char *secret) {
    reply r = call(&lm_fn_decrypt_message, req, store);
    if (r.status != 422) fail_msg("expected 422, got %d: %.300s", r.status, r.raw);
    assert_string_equal(json_string_value(json_object_get(r.body, "error")), "auth_failed");
    assert_null(r.data);
    /* No plaintext anywhere in the reply. */
    assert_null(strstr(r.raw, secret));
    assert_null(strstr(r.raw, "\"message\":\"T"));
    reply_free(&r);
}

static void test_tampered_rejected(void **state) {
    (void)state;
    const char *secret = "The eagle lands at midnight.";
    size_t n = strlen(secret);
    reply e = call_ok(&lm_fn_encrypt_message, encrypt_req(secret, n, NULL), NULL);
    const char *enc = data_str(&e, "encrypted");
    /* A byte of the nonce, of the ciphertext (first and last) and of the tag
     * (first and last). */
    size_t where[] = {0, 11, 12, 12 + n - 1, 12 + n, 12 + n + 15};
    for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
        char *bad = flip(enc, where[i]);
        expect_auth_failed(decrypt_req(bad), NULL, secret);
        free(bad);
    }
    /* Every byte position, through the store. */
    lm_test_store *store = lm_test_store_new();
    for (size_t i = 0; i < n + 28; i++) {
        char *bad = flip(enc, i);
        lm_test_store_put(store, "bad", bad, strlen(bad));
        expect_auth_failed(
            json_pack("{s:s, s:s, s:s}", "key", KEY, "input_key", "bad", "output_key", "leak"),
            store, secret);
        free(bad);
    }
    size_t len;
    assert_null(lm_test_store_get(store, "leak", &len)); /* nothing was stored */
    lm_test_store_free(store);

    /* A wrong key (one character off). */
    expect_auth_failed(
        json_pack("{s:s, s:s}", "key", "0123456789abcdef0123456789ABCDEX", "encrypted", enc), NULL,
        secret);
    /* The right key decrypts the untouched text. */
    reply d = call_ok(&lm_fn_decrypt_message, decrypt_req(enc), NULL);
    assert_string_equal(data_str(&d, "message"), secret);
    reply_free(&d);
    reply_free(&e);
}

/* ---- bad requests -------------------------------------------------------- */

static void test_bad_key(void **state) {
    (void)state;
    const char *k31 = "0123456789abcdef0123456789ABCDE";
    const char *k33 = "0123456789abcdef0123456789ABCDEF0";
    const lm_function *fns[] = {&lm_fn_encrypt_message, &lm_fn_decrypt_message};
    const char *field[] = {"message", "encrypted"};
    const char *value[] = {"hi", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
    for (int f = 0; f < 2; f++) {
        call_fail(fns[f], json_pack("{s:s, s:s}", "key", k31, field[f], value[f]), NULL, 400,
                  "bad_request", "got 31");
        call_fail(fns[f], json_pack("{s:s, s:s}", "key", k33, field[f], value[f]), NULL, 400,
                  "bad_request", "got 33");
        call_fail(fns[f], json_pack("{s:s, s:s}", "key", "", field[f], value[f]), NULL, 400,
                  "bad_request", "got 0");
        /* Not a string. */
        call_fail(fns[f], json_pack("{s:i, s:s}", "key", 12345, field[f], value[f]), NULL, 400,
                  "bad_request", "key");
        call_fail(fns[f], json_pack("{s:[s], s:s}", "key", KEY, field[f], value[f]), NULL, 400,
                  "bad_request", "key");
        call_fail(fns[f], json_pack("{s:n, s:s}", "key", field[f], value[f]), NULL, 400,
                  "bad_request", "key");
        /* Missing. */
        call_fail(fns[f], json_pack("{s:s}", field[f], value[f]), NULL, 400, "bad_request", "key");
    }
    /* 32 bytes counted as bytes: 16 two-byte characters are a valid key. */
    reply r = call_ok(&lm_fn_encrypt_message,
                      json_pack("{s:s, s:s}", "key",
                                "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
                                "message", "x"),
                      NULL);
    reply_free(&r);
}

static void test_bad_input_fields(void **state) {
    (void)state;
    lm_test_store *store = lm_test_store_new();
    /* Neither message nor input_key. */
    call_fail(&lm_fn_encrypt_message, json_pack("{s:s}", "key", KEY), NULL, 400, "bad_request",
              "message");
    call_fail(&lm_fn_decrypt_message, json_pack("{s:s}", "key", KEY), NULL, 400, "bad_request",
              "encrypted");
    call_fail(&lm_fn_encrypt_message, json_pack("{s:s, s:s}", "key", KEY, "output_key", "o"), store,
              400, "bad_request", "input_key");
    /* Both. */
    call_fail(&lm_fn_encrypt_message,
              json_pack("{s:s, s:s, s:s}", "key", KEY, "message", "m", "input_key", "k"), store,
              400, "bad_request", "not both");
    /* Wrong types. */
    call_fail(&lm_fn_encrypt_message, json_pack("{s:s, s:i}", "key", KEY, "message", 5), NULL, 400,
              "bad_request", "message");
    call_fail(&lm_fn_decrypt_message, json_pack("{s:s, s:b}", "key", KEY, "encrypted", 1), NULL,
              400, "bad_request", "encrypted");
    call_fail(&lm_fn_encrypt_message, json_pack("{s:s, s:i}", "key", KEY, "input_key", 5), store,
              400, "bad_request", "input_key");
    call_fail(&lm_fn_encrypt_message,
              json_pack("{s:s, s:s, s:i}", "key", KEY, "message", "m", "output_key", 5), store, 400,
              "bad_request", "output_key");
    call_fail(&lm_fn_encrypt_message,
              json_pack("{s:s, s:s, s:s}", "key", KEY, "message", "m", "storage", "disk"), NULL,
              400, "bad_request", "storage");
    /* Keys with storage inline. */
    call_fail(&lm_fn_encrypt_message,
              json_pack("{s:s, s:s, s:s}", "key", KEY, "input_key", "k", "storage", "inline"),
              store, 400, "bad_request", "input_key");
    call_fail(&lm_fn_decrypt_message,
              json_pack("{s:s, s:s, s:s, s:s}", "key", KEY, "encrypted", "AAAA", "output_key", "o",
                        "storage", "inline"),
              store, 400, "bad_request", "output_key");
    /* A bad storage key. */
    call_fail(&lm_fn_encrypt_message,
              json_pack("{s:s, s:s}", "key", KEY, "input_key", "../etc/passwd"), store, 400,
              "bad_request", NULL);
    /* A missing object. */
    call_fail(&lm_fn_encrypt_message, json_pack("{s:s, s:s}", "key", KEY, "input_key", "nope"),
              store, 404, "not_found", "nope");
    call_fail(&lm_fn_decrypt_message,
              json_pack("{s:s, s:s, s:s}", "key", KEY, "input_key", "nope", "storage", "file"),
              store, 404, "not_found", "nope");
    lm_test_store_free(store);
}

static void test_bad_nonce(void **state) {
    (void)state;
    const char *bad[] = {"cafebabefacedbaddecaf88",   /* 23 digits */
                         "cafebabefacedbaddecaf8888", /* 25 */
                         "",
                         "cafebabefacedbaddecaf8zz", /* not hex */
                         "0x afebabefacedbaddecaf88",
                         "cafebabe-acedbaddecaf888"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        call_fail(&lm_fn_encrypt_message, encrypt_req("m", 1, bad[i]), NULL, 400, "bad_request",
                  "nonce");
    call_fail(&lm_fn_encrypt_message,
              json_pack("{s:s, s:s, s:i}", "key", KEY, "message", "m", "nonce", 7), NULL, 400,
              "bad_request", "nonce");
}

static void test_bad_base64(void **state) {
    (void)state;
    /* 28 bytes is the shortest valid length (an empty message). */
    uint8_t raw[28] = {0};
    char *b27 = openssl_base64(raw, 27), *b28 = openssl_base64(raw, 28);
    const char *bad[] = {
        "",                                             /* nothing */
        "AAAA",                                         /* 3 bytes: too short */
        b27,                                            /* 27 bytes: too short */
        "!!!!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* bad character */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",    /* length not a multiple of 4 */
        "AAAA=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* padding in the middle */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA AAAAA", /* white space */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        call_fail(&lm_fn_decrypt_message, decrypt_req(bad[i]), NULL, 400, "bad_request",
                  "encrypted");
    /* Through the store the message names the object. */
    lm_test_store *store = lm_test_store_new();
    lm_test_store_put(store, "junk", "%%%%", 4);
    call_fail(&lm_fn_decrypt_message, json_pack("{s:s, s:s}", "key", KEY, "input_key", "junk"),
              store, 400, "bad_request", "junk");
    lm_test_store_free(store);
    /* 28 zero bytes are well formed but forged: authentication fails. */
    call_fail(&lm_fn_decrypt_message, decrypt_req(b28), NULL, 422, "auth_failed", NULL);
    free(b27);
    free(b28);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encrypt_matches_openssl),
        cmocka_unit_test(test_random_nonce),
        cmocka_unit_test(test_roundtrip_inline),
        cmocka_unit_test(test_roundtrip_large),
        cmocka_unit_test(test_roundtrip_store),
        cmocka_unit_test(test_probes),
        cmocka_unit_test(test_tampered_rejected),
        cmocka_unit_test(test_bad_key),
        cmocka_unit_test(test_bad_input_fields),
        cmocka_unit_test(test_bad_nonce),
        cmocka_unit_test(test_bad_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
