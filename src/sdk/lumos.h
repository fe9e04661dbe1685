/* lumos.h -- the function SDK: what a function written for Lumos sees.
 *
 * A function is one C file that defines a handler and names it with
 * LM_FUNCTION(). The same file builds unchanged as a native executable and as
 * a wasm32-wasi module; it links nothing but libc. The SDK runs the instance:
 * it announces READY on the channel (stdout), reads INVOKE frames (stdin),
 * parses the JSON body, calls the handler, and answers a RESULT frame with
 * the response envelope and the probe record.
 *
 * The response envelope is written by the SDK:
 *   {"status":"ok","function":NAME,"runtime":RUNTIME,"data":{...}}
 * where the handler writes the members of "data"; or, when the handler
 * fails through lm_fail(),
 *   {"status":"error","error":CODE,"message":TEXT}
 * with the HTTP status the handler gave. RUNTIME is the LUMOS_RUNTIME
 * environment variable the host sets ("unknown" when unset).
 *
 * Timing: the SDK keeps one current phase (deser, io, compute, ser). Time
 * always runs into the current phase, so the four add up to the invocation's
 * total. Parsing the body is deser; storage calls are io (and switch back to
 * the phase they interrupted); the SDK's envelope is ser. The handler says
 * where its own work belongs with lm_phase(). */
#ifndef LM_LUMOS_H
#define LM_LUMOS_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "text.h"

#define LM_OK 0
#define LM_ERR -1

typedef struct lm_ctx lm_ctx;

/* A handler reads the request (a JSON object; the SDK has checked that) and
 * writes the members of the reply's "data" object into data (already opened:
 * write lm_jw_key() / value pairs, do not close it). Returns LM_OK, or the
 * LM_ERR that lm_fail() returns. */
typedef int (*lm_handler_fn)(lm_ctx *ctx, const lm_json *req, lm_jw *data);

typedef struct {
    const char *name; /* "fibonacci": the name in every reply */
    lm_handler_fn handler;
} lm_function;

/* Runs the instance loop for fn on stdin/stdout until stdin closes. Returns
 * the process exit status (0 on a clean end of input). */
int lm_serve(const lm_function *fn);

/* Defines the function descriptor `ident` and, when built as an executable
 * (LM_STANDALONE defined, as `lumos build` does), the main() that serves it.
 * Tests build without LM_STANDALONE and call handlers in-process. */
#ifdef LM_STANDALONE
#define LM_FUNCTION(ident, name, handler)                                                          \
    const lm_function ident = {name, handler};                                                     \
    int main(void) { return lm_serve(&ident); }
#else
#define LM_FUNCTION(ident, name, handler) const lm_function ident = {name, handler};
#endif

/* ---- errors ------------------------------------------------------------ */

/* Fails the invocation: the reply becomes an error envelope with this HTTP
 * status (400 bad input, 404 missing object, 422 failed authentication,
 * 500 function fault), error code (a short snake_case word such as
 * "bad_request", "not_found", "auth_failed", "internal") and message.
 * Anything written to data is dropped. Returns LM_ERR, so a handler can
 * `return lm_fail(...)`. A later call does not overwrite the first. */
int lm_fail(lm_ctx *ctx, int status, const char *code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* ---- request fields ---------------------------------------------------- */
/* Each reads one member of the request object. When the member is absent
 * and required is 0, *out gets def and LM_OK is returned. A missing required
 * member, a wrong type or a value out of range fails the request with 400
 * "bad_request" and a message naming the field, and returns LM_ERR. */

/* An integer literal in [min, max]. */
int lm_arg_u64(lm_ctx *ctx, const lm_json *req, const char *field, int required, uint64_t def,
               uint64_t min, uint64_t max, uint64_t *out);
/* Any number in [min, max]. */
int lm_arg_double(lm_ctx *ctx, const lm_json *req, const char *field, int required, double def,
                  double min, double max, double *out);
/* A string; *out points into the request document (valid for the whole
 * invocation), *len (if not NULL) its length. def may be NULL. */
int lm_arg_str(lm_ctx *ctx, const lm_json *req, const char *field, int required, const char *def,
               const char **out, size_t *len);

/* ---- storage ----------------------------------------------------------- */

typedef enum {
    LM_STORAGE_INLINE, /* input in the request, output in the reply */
    LM_STORAGE_REDIS,  /* through the channel to the host's Redis */
    LM_STORAGE_FILE    /* files under the instance's data directory */
} lm_storage;

/* Reads the request's "storage" member ("redis", "file" or "inline").
 * Absent: redis when the request has an input_key or output_key, inline
 * otherwise. Anything else fails with 400. */
int lm_arg_storage(lm_ctx *ctx, const lm_json *req, lm_storage *out);

/* Reads object key. On success *data (owned by the SDK, valid until the
 * invocation ends, NUL-terminated for convenience) and *len are set. A
 * missing object fails the request with 404 "not_found"; a key that is empty,
 * absolute, contains ".." or characters outside [A-Za-z0-9._/-] fails with
 * 400; a storage fault fails with 500 "storage_error". Counted as io. */
int lm_storage_get(lm_ctx *ctx, lm_storage where, const char *key, const uint8_t **data,
                   size_t *len);

/* Writes len bytes under key. Failures as lm_storage_get(). Counted as io. */
int lm_storage_put(lm_ctx *ctx, lm_storage where, const char *key, const void *data, size_t len);

/* ---- probes ------------------------------------------------------------ */

typedef enum { LM_PHASE_DESER, LM_PHASE_IO, LM_PHASE_COMPUTE, LM_PHASE_SER } lm_phase_t;

/* Charges the time since the last switch to the current phase and makes p
 * current. */
void lm_phase(lm_ctx *ctx, lm_phase_t p);

/* ---- utilities --------------------------------------------------------- */

/* Memory freed by the SDK when the invocation ends. NULL when out of
 * memory (the handler should then fail with 500). */
void *lm_scratch(lm_ctx *ctx, size_t n);

/* Fills buf with n bytes from the platform's random source (getentropy:
 * WASI random_get inside Wasm). Returns LM_OK or LM_ERR. */
int lm_random(void *buf, size_t n);

/* Sends one log line to the host (a LOG frame); stdout is the channel and
 * must never be written to directly. */
void lm_log(lm_ctx *ctx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- base64 (RFC 4648, with padding) ------------------------------------ */

/* Encoded length of n bytes. */
size_t lm_base64_encoded_len(size_t n);
/* Writes the encoding of in[0..n) to out (lm_base64_encoded_len(n) bytes, no
 * NUL). Returns the number of bytes written. */
size_t lm_base64_encode(const uint8_t *in, size_t n, char *out);
/* Decodes n characters into out (room for n / 4 * 3 bytes). Returns the
 * decoded length, or -1 for a bad character, bad padding or a length that is
 * not a multiple of 4. */
long lm_base64_decode(const char *in, size_t n, uint8_t *out);

#endif
