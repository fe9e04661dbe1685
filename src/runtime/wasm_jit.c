/* wasm_jit.c -- the wasm-jit adapter: the .wasm under node's WASI, compiled
 * by V8's optimizing tier (TurboFan) before it runs (--no-liftoff). Node's
 * own start-up (about 110 ms here) is part of every cold start; see
 * docs/runtimes.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_wasi_host.h"
#include "runtime.h"

static int jit_available(char *err) {
    char path[4096];
    if (lm_which("node", path, sizeof(path)) != LM_OK)
        return lm_errf(err, "node not found on PATH: run scripts/setup (Debian package nodejs)");
    return LM_OK;
}

static void jit_version(char *out, size_t n) {
    snprintf(out, n, "unknown");
    FILE *p = popen("node --version 2>/dev/null", "r");
    if (!p) return;
    char v[64];
    if (fgets(v, sizeof(v), p)) {
        v[strcspn(v, "\n")] = 0;
        snprintf(out, n, "node %s (V8 TurboFan)", v);
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

static int jit_start(const lm_runtime *rt, const char *fn, const lm_start_opts *opts,
                     lm_instance *inst, char *err) {
    char module[4096], script[4200];
    if (lm_artifact_path(opts->artifacts, "wasm", fn, module, sizeof(module), err) != LM_OK)
        return LM_ERR;
    if (jit_available(err) != LM_OK) return LM_ERR;
    if (host_script(opts->artifacts, script, sizeof(script), err) != LM_OK) return LM_ERR;
    char rt_env[64], dir_env[4200];
    snprintf(rt_env, sizeof(rt_env), "LUMOS_RUNTIME=%s", rt->name);
    snprintf(dir_env, sizeof(dir_env), "LUMOS_DATA_DIR_HOST=%s",
             opts->data_dir ? opts->data_dir : "");
    char *env[] = {rt_env, dir_env, NULL};
    char *argv[] = {"node", "--no-warnings", "--no-liftoff", script, module, NULL};
    inst->runtime = rt;
    snprintf(inst->function, sizeof(inst->function), "%s", fn);
    inst->spawn_ns = lm_now_ns();
    return lm_spawn(argv, env, NULL, 1, opts->stderr_fd, &inst->child, err);
}

const lm_runtime lm_runtime_wasm_jit = {
    "wasm-jit",  "the .wasm under node's WASI, V8's optimizing tier (TurboFan)",
    "wasm",      jit_available,
    jit_version, jit_start,
};
