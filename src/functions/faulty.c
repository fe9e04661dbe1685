/* faulty.c -- a function that misbehaves on request, so that tests can see
 * every runtime report a trap, an exit, a hang, a crash and running out of
 * memory with its cause, or answers slowly ("sleep", for queueing and
 * autoscaling tests). A utility, not one of the eight benchmark functions. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lumos.h"

/* Recursion without end (the limit is only there so the compiler cannot
 * prove it endless and drop it): not inlined and not a tail call, so every
 * level takes a real frame until the stack runs out. */
__attribute__((noinline)) static uint64_t recurse(volatile uint64_t depth, uint64_t limit) {
    if (depth == limit) return depth;
    return recurse(depth + 1, limit) + depth;
}

/* Where allocations escape to, so no compiler may drop them. */
void *volatile lm_faulty_sink;

static int handler(lm_ctx *ctx, const lm_json *req, lm_jw *data) {
    const char *mode;
    uint64_t status, mb, ms;
    if (lm_arg_str(ctx, req, "mode", 1, NULL, &mode, NULL) != LM_OK) return LM_ERR;
    if (lm_arg_u64(ctx, req, "status", 0, 3, 0, 255, &status) != LM_OK) return LM_ERR;
    if (lm_arg_u64(ctx, req, "mb", 0, 1024, 1, 4000, &mb) != LM_OK) return LM_ERR;
    if (lm_arg_u64(ctx, req, "ms", 0, 100, 0, 600000, &ms) != LM_OK) return LM_ERR;
    lm_phase(ctx, LM_PHASE_COMPUTE);
    if (strcmp(mode, "ok") == 0) {
        /* Answers normally. */
    } else if (strcmp(mode, "trap") == 0) {
        __builtin_trap(); /* SIGILL natively, `unreachable` in Wasm */
    } else if (strcmp(mode, "exit") == 0) {
        exit((int)status);
    } else if (strcmp(mode, "hang") == 0) {
        for (volatile int spin = 1; spin;) {
        }
    } else if (strcmp(mode, "sleep") == 0) {
        /* Busy for ms without using the CPU: a slow request, for queueing
         * and autoscaling experiments (WASI: poll_oneoff on a clock). */
        struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0) {
        }
    } else if (strcmp(mode, "segv") == 0) {
        /* Unmapped natively; past the end of linear memory in Wasm. */
        *(volatile uint32_t *)(uintptr_t)0xFFFFFFF0u = 1;
    } else if (strcmp(mode, "recurse") == 0) {
        lm_jw_key(data, "depth");
        lm_jw_u64(data, recurse(0, UINT64_MAX));
    } else if (strcmp(mode, "oom") == 0) {
        /* Touch every page, so the memory is really used. */
        for (uint64_t i = 0; i < mb; i++) {
            char *p = malloc(1 << 20);
            if (!p)
                return lm_fail(ctx, 500, "out_of_memory", "malloc failed after %llu MiB",
                               (unsigned long long)i);
            memset(p, (int)i, 1 << 20);
            lm_faulty_sink = p;
        }
    } else {
        return lm_fail(ctx, 400, "bad_request",
                       "field 'mode' must be ok, sleep, trap, exit, hang, segv, recurse or oom");
    }
    lm_jw_key(data, "mode");
    lm_jw_str(data, mode);
    return LM_OK;
}

LM_FUNCTION(lm_fn_faulty, "faulty", handler)
