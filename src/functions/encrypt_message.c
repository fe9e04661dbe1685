/* encrypt_message.c -- the encrypt-message function: AES-256-GCM encryption of
 * a message, answered as base64(nonce || ciphertext || tag). */
#include <stdint.h>
#include <string.h>

#include "aes_gcm.h"
#include "lumos.h"

/* Bytes the encoding adds around the ciphertext: nonce before, tag after. */
#define OVERHEAD (LM_GCM_NONCE_LEN + LM_GCM_TAG_LEN)

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Writes n bytes as lower-case hex and a NUL into out (2n + 1 bytes). */
static void to_hex(const uint8_t *p, size_t n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Reads the optional "nonce" (24 hex digits) into nonce; *given says whether
 * it was there. */
static int arg_nonce(lm_ctx *ctx, const lm_json *req, uint8_t nonce[LM_GCM_NONCE_LEN], int *given) {
    const char *s;
    size_t len;
    if (lm_arg_str(ctx, req, "nonce", 0, NULL, &s, &len) != LM_OK) return LM_ERR;
    *given = s != NULL;
    if (!s) return LM_OK;
    if (len != 2 * LM_GCM_NONCE_LEN)
        return lm_fail(ctx, 400, "bad_request",
                       "field 'nonce' must be 24 hex digits (12 bytes), got %zu characters", len);
    for (size_t i = 0; i < LM_GCM_NONCE_LEN; i++) {
        int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return lm_fail(ctx, 400, "bad_request",
                           "field 'nonce' must be 24 hex digits; character %zu is not one",
                           2 * i + (hi < 0 ? 0 : 1) + 1);
        nonce[i] = (uint8_t)(hi << 4 | lo);
    }
    return LM_OK;
}

static int handler(lm_ctx *ctx, const lm_json *req, lm_jw *data) {
    /* Every field is checked before any storage call or computation, so a
     * bad request costs nothing and fails the same way on every storage. */
    const char *key, *message, *input_key, *output_key;
    size_t key_len, n;
    if (lm_arg_str(ctx, req, "key", 1, NULL, &key, &key_len) != LM_OK) return LM_ERR;
    if (key_len != LM_AES256_KEY_LEN)
        return lm_fail(ctx, 400, "bad_request",
                       "field 'key' must be exactly 32 bytes (the AES-256 key), got %zu", key_len);
    uint8_t nonce[LM_GCM_NONCE_LEN];
    int nonce_given;
    if (arg_nonce(ctx, req, nonce, &nonce_given) != LM_OK) return LM_ERR;
    lm_storage where;
    if (lm_arg_storage(ctx, req, &where) != LM_OK) return LM_ERR;
    if (lm_arg_str(ctx, req, "message", 0, NULL, &message, &n) != LM_OK ||
        lm_arg_str(ctx, req, "input_key", 0, NULL, &input_key, NULL) != LM_OK ||
        lm_arg_str(ctx, req, "output_key", 0, NULL, &output_key, NULL) != LM_OK)
        return LM_ERR;
    if (message && input_key)
        return lm_fail(ctx, 400, "bad_request", "give either 'message' or 'input_key', not both");
    if (!message && !input_key)
        return lm_fail(ctx, 400, "bad_request",
                       "missing field: 'message' (the text itself) or 'input_key' (a stored "
                       "object) is required");
    if (where == LM_STORAGE_INLINE && (input_key || output_key))
        return lm_fail(ctx, 400, "bad_request",
                       "storage \"inline\" takes 'message' and answers in the reply; use "
                       "storage \"redis\" or \"file\" with '%s'",
                       input_key ? "input_key" : "output_key");

    const uint8_t *pt = (const uint8_t *)message;
    if (input_key && lm_storage_get(ctx, where, input_key, &pt, &n) != LM_OK) return LM_ERR;

    lm_phase(ctx, LM_PHASE_COMPUTE);
    if ((uint64_t)n > LM_GCM_MAX_TEXT || n > SIZE_MAX / 2 - OVERHEAD)
        return lm_fail(ctx, 400, "bad_request",
                       "the message is %zu bytes, more than AES-GCM can encrypt at once", n);
    if (!nonce_given && lm_random(nonce, sizeof(nonce)) != LM_OK)
        return lm_fail(ctx, 500, "internal", "the platform's random source failed");
    size_t total = n + OVERHEAD;
    uint8_t *out = lm_scratch(ctx, total);
    if (!out) return lm_fail(ctx, 500, "internal", "out of memory for %zu bytes", total);
    memcpy(out, nonce, LM_GCM_NONCE_LEN);
    uint8_t *tag = out + LM_GCM_NONCE_LEN + n;
    if (lm_aes256gcm_encrypt((const uint8_t *)key, nonce, NULL, 0, pt, n, out + LM_GCM_NONCE_LEN,
                             tag) != 0)
        return lm_fail(ctx, 500, "internal", "AES-GCM refused the message");

    lm_phase(ctx, LM_PHASE_SER);
    size_t enc_len = lm_base64_encoded_len(total);
    char nonce_hex[2 * LM_GCM_NONCE_LEN + 1], tag_hex[2 * LM_GCM_TAG_LEN + 1];
    to_hex(nonce, LM_GCM_NONCE_LEN, nonce_hex);
    to_hex(tag, LM_GCM_TAG_LEN, tag_hex);
    char *text = NULL;
    if (where != LM_STORAGE_INLINE) {
        /* Without an output_key the text is still made (the work is the same
         * on every storage) but only its size is answered. */
        text = lm_scratch(ctx, enc_len ? enc_len : 1);
        if (!text) return lm_fail(ctx, 500, "internal", "out of memory for %zu bytes", enc_len);
        lm_base64_encode(out, total, text);
        if (output_key && lm_storage_put(ctx, where, output_key, text, enc_len) != LM_OK)
            return LM_ERR;
    }
    lm_jw_key(data, "bytes_in");
    lm_jw_u64(data, n);
    lm_jw_key(data, "bytes_out");
    lm_jw_u64(data, enc_len);
    lm_jw_key(data, "nonce");
    lm_jw_str(data, nonce_hex);
    lm_jw_key(data, "tag");
    lm_jw_str(data, tag_hex);
    if (output_key) {
        lm_jw_key(data, "output_key");
        lm_jw_str(data, output_key);
    }
    if (where == LM_STORAGE_INLINE) {
        /* Encoded straight into the reply: no second copy of megabytes. */
        lm_jw_key(data, "encrypted");
        text = lm_jw_str_reserve(data, enc_len);
        if (!text) return lm_fail(ctx, 500, "internal", "out of memory writing the reply");
        lm_jw_str_commit(data, lm_base64_encode(out, total, text));
    }
    return LM_OK;
}

LM_FUNCTION(lm_fn_encrypt_message, "encrypt-message", handler)
