/* sdk_internal.h -- the SDK's own contract between its files, and the hook
 * tests use to run a handler in-process. Functions include lumos.h only. */
#ifndef LM_SDK_INTERNAL_H
#define LM_SDK_INTERNAL_H

#include "lumos.h"
#include "proto/clock.h"
#include "proto/frame.h"

/* Where storage calls and log lines go. get returns 0 and a malloc'd *data (the SDK frees
 * it) with one spare NUL byte after *len; 1 when the object does not exist;
 * -1 on a fault with a message in err. put returns 0 or -1. */
typedef struct {
    int (*get)(void *arg, lm_storage where, const char *key, uint8_t **data, size_t *len, char *err,
               size_t errlen);
    int (*put)(void *arg, lm_storage where, const char *key, const void *data, size_t len,
               char *err, size_t errlen);
    /* Receives each lm_log() line; NULL drops them. */
    void (*log)(void *arg, const char *line, size_t len);
    void *arg;
} lm__storage_ops;

/* Runs one invocation of fn on body: parses it, calls the handler, and
 * writes the whole response envelope into out (reset first). Returns the
 * HTTP status; probes receives the probe record. runtime names the runtime
 * in the envelope. Never fails: every fault becomes an error envelope. */
int lm__sdk_invoke(const lm_function *fn, const char *runtime, const lm__storage_ops *ops,
                   const char *body, size_t len, lm_jw *out, uint64_t probes[LM_PROBE_COUNT]);

/* Checks a storage key: 0 if usable, -1 with a reason in err. */
int lm__key_check(const char *key, char *err, size_t errlen);

#endif
