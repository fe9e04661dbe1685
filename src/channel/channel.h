/* channel.h -- the host's side of one instance's channel, blocking: wait
 * for READY, send INVOKE, serve the function's GET/PUT from a store, take
 * its RESULT (sync.c; lumos run and lumos invoke). The platform's
 * event-driven side is conn.h; both drive one channel core (internal.h,
 * private to this folder), so frames, states, storage answers and error
 * words are the same on both. */
#ifndef LM_HOST_CHANNEL_H
#define LM_HOST_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "proto/frame.h"
#include "runtime/runtime.h"
#include "storage/storage.h"

/* The outcome of one call. */
typedef struct {
    int status;                      /* HTTP status the function answered */
    uint64_t probes[LM_PROBE_COUNT]; /* the function's probe record */
    char *body;                      /* the response, malloc'd, NUL-terminated */
    size_t body_len;
    uint64_t sent_ns;    /* INVOKE written (monotonic) */
    uint64_t result_ns;  /* RESULT read */
    uint64_t storage_ns; /* host time spent serving GET/PUT in the store */
    unsigned storage_calls;
    uint64_t storage_read_bytes;  /* object bytes served to GETs (VALUE frames) */
    uint64_t storage_write_bytes; /* value bytes stored by PUTs */
} lm_call_result;

/* Called for each LOG line of the instance. */
typedef void (*lm_log_fn)(void *arg, const char *line, size_t len);

/* Reads frames until READY. On LM_OK *ready_ns is when it arrived. On
 * LM_ERR (timeout, the instance exited, a broken frame) err says which. */
int lm_wait_ready(lm_instance *inst, int timeout_ms, uint64_t *ready_ns, char *err);

/* Sends body as INVOKE and serves storage from store (NULL: every GET/PUT
 * answers a storage error naming the fix) until RESULT, within timeout_ms.
 * LM_OK fills res (free with lm_call_result_free). On LM_ERR the instance
 * is in an unknown state and must be stopped. */
int lm_call(lm_instance *inst, const char *body, size_t len, lm_store *store, int timeout_ms,
            lm_log_fn log, void *log_arg, lm_call_result *res, char *err);

void lm_call_result_free(lm_call_result *res); /* NULL is a harmless no-op */

#endif
