/* wasm_jit.c -- Wasm under V8, through node's WASI: `wasm-jit` compiles
 * with the optimizing tier (TurboFan) before running (--no-liftoff);
 * `wasm-baseline` with Liftoff alone (--liftoff --no-wasm-tier-up
 * --no-wasm-dynamic-tiering). Node's
 * own start-up (about 80-110 ms here) is part of every cold start; see
 * docs/runtimes.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_wasi_host.h"
#include "runtime.h"

static int node_available(const lm_runtime *rt, char *err) {
    char path[4096];
    if (lm_which("node", path, sizeof(path)) != LM_OK)
        return lm_errf(err, "node not found on PATH: run scripts/setup (Debian package nodejs)");
    return LM_OK;
}

static void node_version(const lm_runtime *rt, char *out, size_t n) {
    snprintf(out, n, "unknown");
    FILE *p = popen("node --version 2>/dev/null", "r");
    if (!p) return;
    char v[64];
    if (fgets(v, sizeof(v), p)) {
        v[strcspn(v, "\n")] = 0;
        snprintf(out, n, "node %s (V8 %s)", v, (const char *)rt->data);
    }
    pclose(p);
}

/* Writes the embedded host script into the artifact folder when it is
 * missing or differs, so a built lumos never depends on the source tree. */
static int host_script(const char *artifacts, char *path, size_t n, char *err) {
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/wasm", artifacts);
    if ((size_t)snprintf(path, n, "%s/node_wasi_host.mjs", dir) >= n)
        return lm_errf(err, "path too long");
    size_t len;
    char *cur = lm_file_read(path, &len, NULL);
    int same = cur && len == strlen(lm_node_wasi_host) && memcmp(cur, lm_node_wasi_host, len) == 0;
    free(cur);
    if (same) return LM_OK;
    if (lm_mkdirs(dir, err) != LM_OK) return LM_ERR;
    return lm_file_write(path, lm_node_wasi_host, strlen(lm_node_wasi_host), err);
}

static int node_command(const lm_runtime *rt, const lm_exec_opts *o, lm_strv *argv, lm_strv *env,
                        char *err) {
    char script[4200];
    if (node_available(rt, err) != LM_OK) return LM_ERR;
    if (host_script(o->artifacts, script, sizeof(script), err) != LM_OK) return LM_ERR;
    int baseline = strcmp(rt->name, "wasm-baseline") == 0;
    lm_strv_add(argv, "node");
    lm_strv_add(argv, "--no-warnings");
    if (baseline) {
        /* --no-wasm-tier-up alone is not enough in node 20: dynamic tiering
         * still moves hot functions to TurboFan after their first calls
         * (measured: mandelbrot 65 ms, then 34 ms like TurboFan). */
        lm_strv_add(argv, "--liftoff");
        lm_strv_add(argv, "--no-wasm-tier-up");
        lm_strv_add(argv, "--no-wasm-dynamic-tiering");
    } else {
        lm_strv_add(argv, "--no-liftoff");
    }
    lm_strv_add(argv, script);
    for (int i = 0; i < o->ndirs; i++) {
        lm_strv_add(argv, "--dir");
        lm_strv_addf(argv, "%s::%s", o->dirs[i].host, o->dirs[i].guest);
    }
    for (int i = 0; o->env && o->env[i]; i++) {
        lm_strv_add(argv, "--env");
        lm_strv_add(argv, o->env[i]);
    }
    if (lm_strv_add(argv, o->module) != LM_OK) return lm_errf(err, "out of memory");
    for (int i = 0; o->args && o->args[i]; i++)
        lm_strv_add(argv, o->args[i]);
    return LM_OK;
}

const lm_runtime lm_runtime_wasm_jit = {
    .name = "wasm-jit",
    .description = "the .wasm under node's WASI, V8's optimizing tier (TurboFan)",
    .target = "wasm",
    .available = node_available,
    .version = node_version,
    .command = node_command,
    .data = "TurboFan",
};

const lm_runtime lm_runtime_wasm_baseline = {
    .name = "wasm-baseline",
    .description = "the .wasm under node's WASI, V8's baseline tier only (Liftoff)",
    .target = "wasm",
    .available = node_available,
    .version = node_version,
    .command = node_command,
    .data = "Liftoff",
};
