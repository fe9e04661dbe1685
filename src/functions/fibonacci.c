/* fibonacci.c -- the fibonacci function: the n-th Fibonacci number modulo 2^64. */
#include <stdint.h>

#include "lumos.h"

/* The largest n accepted. The loop below runs n times on purpose (the
 * workload is the iteration), so this bounds one invocation to about a
 * second of work. */
#define FIB_MAX_N 1000000000u

/* F(n) mod 2^64, iteratively: F(0) = 0, F(1) = 1. Unsigned overflow wraps,
 * which is exactly reduction modulo 2^64, and uint64_t makes native and
 * wasm32 builds agree. */
static uint64_t fib_mod64(uint64_t n) {
    uint64_t a = 0, b = 1;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t t = a + b;
        a = b;
        b = t;
    }
    return a;
}

static int handler(lm_ctx *ctx, const lm_json *req, lm_jw *data) {
    /* lm_arg_u64 accepts integer literals only, so a real such as 5.5 or
     * 1e3, a string, a negative number and a missing n all fail with 400. */
    uint64_t n;
    if (lm_arg_u64(ctx, req, "n", 1, 0, 0, FIB_MAX_N, &n) != LM_OK) return LM_ERR;

    lm_phase(ctx, LM_PHASE_COMPUTE);
    uint64_t f = fib_mod64(n);

    lm_phase(ctx, LM_PHASE_SER);
    char digits[21];
    size_t len = lm_u64_dec(f, digits);
    lm_jw_key(data, "n");
    lm_jw_u64(data, n);
    /* A string, because JSON readers commonly hold numbers as doubles and
     * would round values above 2^53. */
    lm_jw_key(data, "value");
    lm_jw_strn(data, digits, len);
    return LM_OK;
}

LM_FUNCTION(lm_fn_fibonacci, "fibonacci", handler)
