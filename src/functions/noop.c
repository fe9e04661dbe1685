/* noop.c -- a function that does nothing but what it is asked to move: the
 * yardstick for the channel and the platform (not one of the eight
 * benchmark functions). With input_key it reads that object and answers its
 * size; with echo it answers the string back. */
#include "lumos.h"

static int handler(lm_ctx *ctx, const lm_json *req, lm_jw *data) {
    lm_storage where;
    const char *key, *echo;
    if (lm_arg_storage(ctx, req, &where) != LM_OK) return LM_ERR;
    if (lm_arg_str(ctx, req, "input_key", 0, NULL, &key, NULL) != LM_OK) return LM_ERR;
    if (lm_arg_str(ctx, req, "echo", 0, NULL, &echo, NULL) != LM_OK) return LM_ERR;
    size_t n = 0;
    if (key) {
        const uint8_t *buf;
        if (lm_storage_get(ctx, where, key, &buf, &n) != LM_OK) return LM_ERR;
    }
    lm_phase(ctx, LM_PHASE_SER);
    lm_jw_key(data, "bytes");
    lm_jw_u64(data, n);
    if (echo) {
        lm_jw_key(data, "echo");
        lm_jw_str(data, echo);
    }
    return LM_OK;
}

LM_FUNCTION(lm_fn_noop, "noop", handler)
