/* invoke.c -- one invocation: parse the body, run the handler, write the
 * envelope, keep the phase clock. The serve loop and the in-process tests
 * both go through lm__sdk_invoke(). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define LM_MSG_LEN 512

/* Memory to free when the invocation ends: a scratch block (the node and
 * the caller's bytes are one allocation) or a buffer handed over (own). */
struct scratch {
    struct scratch *next;
    void *own;
};

struct lm_ctx {
    const lm__storage_ops *ops;
    int failed;
    int status;
    char code[32];
    char message[LM_MSG_LEN];
    lm_phase_t phase;
    uint64_t phase_start;
    uint64_t probes[LM_PROBE_COUNT];
    struct scratch *scratch;
};

void lm_phase(lm_ctx *ctx, lm_phase_t p) {
    uint64_t now = lm_now_ns();
    ctx->probes[LM_PROBE_DESER_NS + ctx->phase] += now - ctx->phase_start;
    ctx->phase = p;
    ctx->phase_start = now;
}

int lm_fail(lm_ctx *ctx, int status, const char *code, const char *fmt, ...) {
    if (ctx->failed) return LM_ERR;
    ctx->failed = 1;
    ctx->status = status;
    snprintf(ctx->code, sizeof(ctx->code), "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->message, sizeof(ctx->message), fmt, ap);
    va_end(ap);
    return LM_ERR;
}

void *lm_scratch(lm_ctx *ctx, size_t n) {
    if (n > SIZE_MAX - sizeof(struct scratch) - 16) return NULL;
    /* The header is padded to 16 bytes so the caller's block stays aligned. */
    struct scratch *s = malloc(16 + n);
    if (!s) return NULL;
    s->next = ctx->scratch;
    s->own = NULL;
    ctx->scratch = s;
    return (char *)s + 16;
}

/* Takes ownership of p (freed at the end). Returns LM_OK, or LM_ERR (and
 * frees p) when out of memory. */
static int scratch_adopt(lm_ctx *ctx, void *p) {
    struct scratch *s = malloc(sizeof(*s));
    if (!s) {
        free(p);
        return lm_fail(ctx, 500, "internal", "out of memory");
    }
    s->next = ctx->scratch;
    s->own = p;
    ctx->scratch = s;
    return LM_OK;
}

static void scratch_free(lm_ctx *ctx) {
    while (ctx->scratch) {
        struct scratch *next = ctx->scratch->next;
        free(ctx->scratch->own);
        free(ctx->scratch);
        ctx->scratch = next;
    }
}

void lm_log(lm_ctx *ctx, const char *fmt, ...) {
    if (!ctx->ops || !ctx->ops->log) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n >= sizeof(line)) n = sizeof(line) - 1;
    ctx->ops->log(ctx->ops->arg, line, (size_t)n);
}

/* ---- request fields ---------------------------------------------------- */

static int missing(lm_ctx *ctx, const char *field, int required) {
    if (required) return lm_fail(ctx, 400, "bad_request", "missing required field '%s'", field);
    return LM_OK;
}

int lm_arg_u64(lm_ctx *ctx, const lm_json *req, const char *field, int required, uint64_t def,
               uint64_t min, uint64_t max, uint64_t *out) {
    const lm_json *v = lm_json_get(req, field);
    if (!v) {
        *out = def;
        return missing(ctx, field, required);
    }
    int64_t i;
    if (lm_json_typeof(v) != LM_JSON_INTEGER || lm_json_int(v, &i) != 0)
        return lm_fail(ctx, 400, "bad_request", "field '%s' must be an integer from %llu to %llu",
                       field, (unsigned long long)min, (unsigned long long)max);
    if (i < 0 || (uint64_t)i < min || (uint64_t)i > max)
        return lm_fail(ctx, 400, "bad_request", "field '%s' is %lld; it must be from %llu to %llu",
                       field, (long long)i, (unsigned long long)min, (unsigned long long)max);
    *out = (uint64_t)i;
    return LM_OK;
}

int lm_arg_double(lm_ctx *ctx, const lm_json *req, const char *field, int required, double def,
                  double min, double max, double *out) {
    const lm_json *v = lm_json_get(req, field);
    if (!v) {
        *out = def;
        return missing(ctx, field, required);
    }
    double d;
    if (lm_json_double(v, &d) != 0)
        return lm_fail(ctx, 400, "bad_request", "field '%s' must be a number from %g to %g", field,
                       min, max);
    if (!(d >= min && d <= max))
        return lm_fail(ctx, 400, "bad_request", "field '%s' is %g; it must be from %g to %g", field,
                       d, min, max);
    *out = d;
    return LM_OK;
}

int lm_arg_str(lm_ctx *ctx, const lm_json *req, const char *field, int required, const char *def,
               const char **out, size_t *len) {
    const lm_json *v = lm_json_get(req, field);
    if (!v) {
        *out = def;
        if (len) *len = def ? strlen(def) : 0;
        return missing(ctx, field, required);
    }
    size_t n;
    const char *s = lm_json_string(v, &n);
    if (!s) return lm_fail(ctx, 400, "bad_request", "field '%s' must be a string", field);
    *out = s;
    if (len) *len = n;
    return LM_OK;
}

int lm_arg_storage(lm_ctx *ctx, const lm_json *req, lm_storage *out) {
    const char *s;
    if (lm_arg_str(ctx, req, "storage", 0, NULL, &s, NULL) != LM_OK) return LM_ERR;
    if (!s) {
        int keyed = lm_json_get(req, "input_key") || lm_json_get(req, "output_key");
        *out = keyed ? LM_STORAGE_REDIS : LM_STORAGE_INLINE;
    } else if (strcmp(s, "redis") == 0) {
        *out = LM_STORAGE_REDIS;
    } else if (strcmp(s, "file") == 0) {
        *out = LM_STORAGE_FILE;
    } else if (strcmp(s, "inline") == 0) {
        *out = LM_STORAGE_INLINE;
    } else {
        return lm_fail(ctx, 400, "bad_request",
                       "field 'storage' must be \"redis\", \"file\" or \"inline\"");
    }
    return LM_OK;
}

/* ---- storage ----------------------------------------------------------- */

int lm__key_check(const char *key, char *err, size_t errlen) {
    size_t n = strlen(key);
    if (n == 0 || n > 512) {
        snprintf(err, errlen, "a storage key must be 1 to 512 characters");
        return -1;
    }
    if (key[0] == '/') {
        snprintf(err, errlen, "storage key '%s' must be relative, not start with '/'", key);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char c = key[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-' || c == '/';
        if (!ok) {
            snprintf(err, errlen,
                     "storage key has character 0x%02x; allowed are A-Z a-z 0-9 . _ - /",
                     (unsigned char)c);
            return -1;
        }
    }
    /* No component may be "..", so a file key never leaves the data directory. */
    for (const char *p = key; *p;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if ((len == 2 && p[0] == '.' && p[1] == '.') || len == 0) {
            snprintf(err, errlen, "storage key '%s' has an empty or '..' component", key);
            return -1;
        }
        p += len + (slash ? 1 : 0);
        if (slash && !*p) {
            snprintf(err, errlen, "storage key '%s' ends with '/'", key);
            return -1;
        }
    }
    return 0;
}

static int storage_precheck(lm_ctx *ctx, lm_storage where, const char *key) {
    char err[256];
    if (where == LM_STORAGE_INLINE)
        return lm_fail(ctx, 500, "internal", "storage call with inline storage");
    if (!key || lm__key_check(key, err, sizeof(err)) != 0)
        return lm_fail(ctx, 400, "bad_request", "%s", key ? err : "missing storage key");
    return LM_OK;
}

static const char *storage_name(lm_storage where) {
    return where == LM_STORAGE_FILE ? "file" : "redis";
}

int lm_storage_get(lm_ctx *ctx, lm_storage where, const char *key, const uint8_t **data,
                   size_t *len) {
    if (storage_precheck(ctx, where, key) != LM_OK) return LM_ERR;
    lm_phase_t back = ctx->phase;
    lm_phase(ctx, LM_PHASE_IO);
    uint8_t *buf = NULL;
    char err[256] = "";
    int rc = ctx->ops->get(ctx->ops->arg, where, key, &buf, len, err, sizeof(err));
    ctx->probes[LM_PROBE_IO_CALLS]++;
    if (rc == 0) ctx->probes[LM_PROBE_IO_READ_BYTES] += *len;
    lm_phase(ctx, back);
    if (rc == 1)
        return lm_fail(ctx, 404, "not_found", "no object '%s' in %s storage", key,
                       storage_name(where));
    if (rc != 0)
        return lm_fail(ctx, 500, "storage_error", "%s storage: %s", storage_name(where), err);
    if (scratch_adopt(ctx, buf) != LM_OK) return LM_ERR;
    *data = buf;
    return LM_OK;
}

int lm_storage_put(lm_ctx *ctx, lm_storage where, const char *key, const void *data, size_t len) {
    if (storage_precheck(ctx, where, key) != LM_OK) return LM_ERR;
    lm_phase_t back = ctx->phase;
    lm_phase(ctx, LM_PHASE_IO);
    char err[256] = "";
    int rc = ctx->ops->put(ctx->ops->arg, where, key, data, len, err, sizeof(err));
    ctx->probes[LM_PROBE_IO_CALLS]++;
    if (rc == 0) ctx->probes[LM_PROBE_IO_WRITE_BYTES] += len;
    lm_phase(ctx, back);
    if (rc != 0)
        return lm_fail(ctx, 500, "storage_error", "%s storage: %s", storage_name(where), err);
    return LM_OK;
}

/* ---- the invocation ---------------------------------------------------- */

static void write_error(lm_jw *out, const lm_ctx *ctx) {
    lm_jw_reset(out);
    lm_jw_obj_begin(out);
    lm_jw_key(out, "status");
    lm_jw_str(out, "error");
    lm_jw_key(out, "error");
    lm_jw_str(out, ctx->code);
    lm_jw_key(out, "message");
    lm_jw_str(out, ctx->message);
    lm_jw_obj_end(out);
}

int lm__sdk_invoke(const lm_function *fn, const char *runtime, const lm__storage_ops *ops,
                   const char *body, size_t len, lm_jw *out, uint64_t probes[LM_PROBE_COUNT]) {
    lm_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.ops = ops;
    ctx.phase = LM_PHASE_DESER;
    uint64_t start = lm_now_ns();
    ctx.phase_start = start;

    char err[LM_JSON_ERR_LEN];
    lm_json_doc *doc = lm_json_parse(body, len, err, sizeof(err));
    lm_jw_reset(out);
    if (!doc) {
        lm_fail(&ctx, 400, "bad_request", "request body is not valid JSON: %s", err);
    } else if (lm_json_typeof(lm_json_root(doc)) != LM_JSON_OBJECT) {
        lm_fail(&ctx, 400, "bad_request", "request body must be a JSON object");
    } else {
        lm_jw_obj_begin(out);
        lm_jw_key(out, "status");
        lm_jw_str(out, "ok");
        lm_jw_key(out, "function");
        lm_jw_str(out, fn->name);
        lm_jw_key(out, "runtime");
        lm_jw_str(out, runtime);
        lm_jw_key(out, "data");
        lm_jw_obj_begin(out);
        int rc = fn->handler(&ctx, lm_json_root(doc), out);
        if (rc != LM_OK && !ctx.failed)
            lm_fail(&ctx, 500, "internal", "handler failed without a reason");
        lm_phase(&ctx, LM_PHASE_SER);
        if (!ctx.failed) {
            lm_jw_obj_end(out);
            lm_jw_obj_end(out);
            if (out->err) lm_fail(&ctx, 500, "internal", "out of memory writing the reply");
        }
    }
    if (ctx.failed) {
        lm_phase(&ctx, LM_PHASE_SER);
        write_error(out, &ctx);
    }
    lm_json_free(doc);
    scratch_free(&ctx);
    lm_phase(&ctx, LM_PHASE_SER); /* charge the last stretch */
    ctx.probes[LM_PROBE_TOTAL_NS] = ctx.phase_start - start;
    memcpy(probes, ctx.probes, sizeof(ctx.probes));
    return ctx.failed ? ctx.status : 200;
}
