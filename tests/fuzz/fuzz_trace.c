/* fuzz_trace.c -- libFuzzer target for the trace readers (src/trace/):
 * every input is read as a Lumos trace, as an Azure Functions 2019
 * invocations file (split at the first blank line: the part after it is
 * its durations file) and as a 2021 per-invocation file. Each read must
 * give either a result with its properties, or a non-empty error message;
 * never a crash, undefined behaviour or a leak (ASan, UBSan, LSan).
 *   - a trace read back from what the writer wrote is the same bytes again;
 *   - a replay has as many rows as the invocations it selected, sorted,
 *     each one a known function with a known payload group.
 *
 * Built alone by tests/fuzz/run_trace (not with the whole host): the
 * runtime registry and the payload groups are stood in for below, so the
 * target needs the trace room, the catalog and a few of util's files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "runtime/runtime.h"
#include "trace/azure.h"
#include "trace/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- stand-ins for the host ------------------------------------------- */

static const lm_runtime runtimes[] = {
    {.name = "native"},   {.name = "wasm-jit"},  {.name = "wasm-interp"},
    {.name = "wasm-aot"}, {.name = "container"}, {.name = "container+wasm-aot"},
    {.name = "wasmtime"},
};
#define NRUNTIMES (sizeof(runtimes) / sizeof(runtimes[0]))

const lm_runtime *lm_runtime_find(const char *name, char *err) {
    for (size_t i = 0; i < NRUNTIMES; i++)
        if (strcmp(runtimes[i].name, name) == 0) return &runtimes[i];
    lm_errf(err, "unknown runtime '%s'", name);
    return NULL;
}

static const lm_group groups[] = {{"xs", 1024, 1000, 96},
                                  {"s", 51200, 1000, 640},
                                  {"1", 524288, 10000, 2048},
                                  {"2", 1048576, 100000, 2896},
                                  {"3", 2097152, 1000000, 4096}};

const lm_group *lm_groups(size_t *n) {
    *n = sizeof(groups) / sizeof(groups[0]);
    return groups;
}

const lm_group *lm_group_find(const char *name) {
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        if (strcmp(groups[i].name, name) == 0) return &groups[i];
    return NULL;
}

/* ---- the properties ---------------------------------------------------- */

static void die(const char *what, const char *detail) {
    fprintf(stderr, "fuzz_trace: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static void check_error(int rc, const char *err) {
    if (rc != LM_ERR) die("neither LM_OK nor LM_ERR", NULL);
    if (!memchr(err, 0, LM_ERRLEN)) die("error message not terminated", NULL);
    if (!err[0]) die("refused without an error message", NULL);
}

static FILE *open_bytes(const void *p, size_t n) {
    return n ? fmemopen((void *)p, n, "r") : fopen("/dev/null", "r");
}

static char *bytes_of(const lm_trace *t, size_t *n) {
    char *buf = NULL;
    FILE *m = open_memstream(&buf, n);
    if (!m || lm_trace_write(m, t) != LM_OK) die("cannot write a trace", NULL);
    fclose(m);
    return buf;
}

static void check_trace(const lm_trace *t) {
    for (size_t i = 0; i < t->nrows; i++) {
        const lm_trace_row *r = &t->rows[i];
        if (r->offset_us < 0 || (i && r->offset_us < t->rows[i - 1].offset_us))
            die("rows out of order", NULL);
        if (!r->function || !r->runtime || !r->payload) die("a row without a field", NULL);
    }
    size_t n;
    char *a = bytes_of(t, &n), err[LM_ERRLEN] = "";
    FILE *f = open_bytes(a, n);
    lm_trace *back = NULL;
    if (lm_trace_read_stream(f, "written.csv", t->dir, &back, err) != LM_OK) {
        fprintf(stderr, "written:\n%.2000s\n", a);
        die("a written trace does not read back", err);
    }
    fclose(f);
    size_t m;
    char *b = bytes_of(back, &m);
    if (m != n || memcmp(a, b, n) != 0) die("the round trip changed the bytes", NULL);
    free(a);
    free(b);
    lm_trace_free(back);
}

static void check_replay(const lm_azure_result *r) {
    uint64_t rows = 0;
    for (size_t i = 0; i < r->nfns; i++) {
        if (r->fns[i].invocations == 0) die("a selected function without invocations", NULL);
        if (r->fns[i].rows != r->fns[i].invocations) die("rows differ from invocations", NULL);
        rows += r->fns[i].rows;
    }
    if (rows != r->trace->nrows) die("the trace has another number of rows", NULL);
    check_trace(r->trace);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[LM_ERRLEN];
    lm_trace *t = NULL;

    /* As a Lumos trace. */
    FILE *f = open_bytes(data, size);
    err[0] = 0;
    int rc = lm_trace_read_stream(f, "fuzz.csv", NULL, &t, err);
    fclose(f);
    if (rc == LM_OK) {
        if (t->nrows == 0) die("a trace without rows accepted", NULL);
        check_trace(t);
        lm_trace_free(t);
    } else {
        check_error(rc, err);
        if (t) die("a refused trace left a result", NULL);
    }

    /* As Azure 2019: invocations, then (after a blank line) durations. */
    const uint8_t *split = NULL;
    for (size_t i = 0; i + 1 < size && !split; i++)
        if (data[i] == '\n' && data[i + 1] == '\n') split = data + i;
    size_t ninv = split ? (size_t)(split - data) + 1 : size;
    lm_azure_opts o;
    lm_azure_defaults(&o);
    o.skip_unmapped = size & 1;
    lm_azure_result r;
    for (int pass = 0; pass < 2; pass++) {
        FILE *inv = open_bytes(data, ninv);
        FILE *dur = split ? open_bytes(split + 2, size - ninv - 1) : NULL;
        err[0] = 0;
        rc = lm_azure2019(inv, "inv.csv", dur, "dur.csv", &o, &r, err);
        fclose(inv);
        if (dur) fclose(dur);
        if (rc == LM_OK) {
            check_replay(&r);
            lm_azure_result_free(&r);
        } else {
            check_error(rc, err);
            if (r.trace || r.fns) die("a refused replay left a result", NULL);
        }
        /* The second pass: a window, the top 2, a speed-up, another spread. */
        o.minute_from = 2, o.minute_to = 3, o.top = 2, o.speedup = 1000;
        o.iat = LM_IAT_UNIFORM;
    }

    /* As Azure 2021. */
    lm_azure_defaults(&o);
    f = open_bytes(data, size);
    err[0] = 0;
    rc = lm_azure2021(f, "t21.csv", &o, &r, err);
    fclose(f);
    if (rc == LM_OK) {
        check_replay(&r);
        lm_azure_result_free(&r);
    } else {
        check_error(rc, err);
    }
    return 0;
}
