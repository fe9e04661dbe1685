/* decrypt_message.c -- the decrypt-message function: checks and decrypts
 * base64(nonce || ciphertext || tag) made by encrypt-message (AES-256-GCM). */
#include <stdint.h>
#include <stdio.h>

#include "aes_gcm.h"
#include "lumos.h"

/* Bytes the encoding adds around the ciphertext: nonce before, tag after. */
#define OVERHEAD (LM_GCM_NONCE_LEN + LM_GCM_TAG_LEN)

static int handler(lm_ctx *ctx, const lm_json *req, lm_jw *data) {
    /* Every field is checked before any storage call or computation. */
    const char *key, *encrypted, *input_key, *output_key;
    size_t key_len, in_len;
    if (lm_arg_str(ctx, req, "key", 1, NULL, &key, &key_len) != LM_OK) return LM_ERR;
    if (key_len != LM_AES256_KEY_LEN)
        return lm_fail(ctx, 400, "bad_request",
                       "field 'key' must be exactly 32 bytes (the AES-256 key), got %zu", key_len);
    lm_storage where;
    if (lm_arg_storage(ctx, req, &where) != LM_OK) return LM_ERR;
    if (lm_arg_str(ctx, req, "encrypted", 0, NULL, &encrypted, &in_len) != LM_OK ||
        lm_arg_str(ctx, req, "input_key", 0, NULL, &input_key, NULL) != LM_OK ||
        lm_arg_str(ctx, req, "output_key", 0, NULL, &output_key, NULL) != LM_OK)
        return LM_ERR;
    if (encrypted && input_key)
        return lm_fail(ctx, 400, "bad_request", "give either 'encrypted' or 'input_key', not both");
    if (!encrypted && !input_key)
        return lm_fail(ctx, 400, "bad_request",
                       "missing field: 'encrypted' (the base64 text itself) or 'input_key' (a "
                       "stored object) is required");
    if (where == LM_STORAGE_INLINE && (input_key || output_key))
        return lm_fail(ctx, 400, "bad_request",
                       "storage \"inline\" takes 'encrypted' and answers in the reply; use "
                       "storage \"redis\" or \"file\" with '%s'",
                       input_key ? "input_key" : "output_key");

    const char *text = encrypted;
    if (input_key) {
        const uint8_t *stored;
        if (lm_storage_get(ctx, where, input_key, &stored, &in_len) != LM_OK) return LM_ERR;
        text = (const char *)stored;
    }
    char what[600];
    if (input_key)
        snprintf(what, sizeof(what), "object '%s'", input_key);
    else
        snprintf(what, sizeof(what), "field 'encrypted'");

    /* Still in the deserialize phase: decoding the input is reading it. */
    size_t room = in_len / 4 * 3;
    uint8_t *buf = lm_scratch(ctx, room ? room : 1);
    if (!buf) return lm_fail(ctx, 500, "internal", "out of memory for %zu bytes", room);
    long dec = lm_base64_decode(text, in_len, buf);
    if (dec < 0)
        return lm_fail(ctx, 400, "bad_request",
                       "%s is not base64 (RFC 4648, standard alphabet, with padding)", what);
    if ((size_t)dec < OVERHEAD)
        return lm_fail(ctx, 400, "bad_request",
                       "%s decodes to %ld bytes; at least 28 (12-byte nonce and 16-byte tag) "
                       "are needed",
                       what, dec);

    lm_phase(ctx, LM_PHASE_COMPUTE);
    size_t n = (size_t)dec - OVERHEAD;
    uint8_t *ct = buf + LM_GCM_NONCE_LEN;
    /* Decrypted in place: the plaintext overwrites the ciphertext, and only
     * after the tag has checked. */
    if (lm_aes256gcm_decrypt((const uint8_t *)key, buf, NULL, 0, ct, n, ct + n, ct) != 0)
        return lm_fail(ctx, 422, "auth_failed",
                       "authentication failed: the key is wrong or the message was changed");

    if (output_key && lm_storage_put(ctx, where, output_key, ct, n) != LM_OK) return LM_ERR;

    lm_phase(ctx, LM_PHASE_SER);
    lm_jw_key(data, "bytes_in");
    lm_jw_u64(data, in_len);
    lm_jw_key(data, "bytes_out");
    lm_jw_u64(data, n);
    if (output_key) {
        lm_jw_key(data, "output_key");
        lm_jw_str(data, output_key);
    }
    if (where == LM_STORAGE_INLINE) {
        if (lm_utf8_valid(ct, n)) {
            lm_jw_key(data, "message");
            lm_jw_strn(data, (const char *)ct, n);
        } else {
            /* Bytes that are no UTF-8 text cannot stand in a JSON string. */
            lm_jw_key(data, "message_base64");
            char *out = lm_jw_str_reserve(data, lm_base64_encoded_len(n));
            if (!out) return lm_fail(ctx, 500, "internal", "out of memory writing the reply");
            lm_jw_str_commit(data, lm_base64_encode(ct, n, out));
        }
    }
    return LM_OK;
}

LM_FUNCTION(lm_fn_decrypt_message, "decrypt-message", handler)
